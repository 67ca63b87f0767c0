"""A dataset's index files: manifest.json (the truth) and index.wids.json (for wids readers).

Shard URLs inside both are relative to the dataset directory, so a dataset can be copied
or synced to a bucket as it is.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Mapping

from simreel.shards import storage
from simreel.shards.features import merge as merge_features
from simreel.shards.lock import LOCK
from simreel.shards.sample import json_bytes

FORMAT = "simreel-dataset-v1"
MANIFEST = "manifest.json"
WIDS_INDEX = "index.wids.json"
CARD = "README.md"
DATASET_FILES = frozenset({MANIFEST, WIDS_INDEX, CARD, "README.simreel.md", "config.yaml", "preview.png", "preview.gif",
                           LOCK})
SHARD_FILE = re.compile(r"^shard-\d{6,}\.(tar|stats\.json)$")


def dataset_file(name: str) -> bool:
    """Whether a file name in a dataset directory is one simreel writes there (shards, stats, indexes, card...)."""
    return name in DATASET_FILES or bool(SHARD_FILE.match(name))


def own_temporary(name: str) -> bool:
    """Whether a file name is a temporary simreel made for one of its dataset files (a user's notes.tmp is not)."""
    match = storage.TEMPORARY.match(name)
    return bool(match) and dataset_file(match["target"])


class DatasetError(ValueError):
    """A dataset directory that cannot be read as one (missing or malformed index)."""


def build_manifest(*, name: str, generator: Mapping, config: Mapping, config_hash: str, stats: Iterable[Mapping]) -> dict:
    """The manifest value from the finished shards' stats (in shard order)."""
    stats = sorted(stats, key=lambda s: s["shard"])
    seconds: Counter = Counter()
    rejections: Counter = Counter()
    columns: dict = {}
    assets: dict = {}
    for s in stats:
        assets.update(s.get("assets", {}))
        seconds.update(s.get("seconds", {}))
        rejections.update(s.get("rejections", {}))
        columns = merge_features(columns, s.get("features") or {}, f"{s['shard']}: ")
    manifest = {
        "format": FORMAT,
        "name": name,
        "generator": dict(generator),
        "config": dict(config),
        "config_hash": config_hash,
        "shards": [
            {k: s[k] for k in ("shard", "tar", "count", "bytes", "sha256", "first_key", "last_key")} for s in stats
        ],
        "features": columns,
        "totals": {
            "shards": len(stats),
            "samples": sum(s["count"] for s in stats),
            "bytes": sum(s["bytes"] for s in stats),
            "seconds": dict(sorted(seconds.items())),
            "rejections": dict(sorted(rejections.items())),
        },
    }
    if assets:  # every mesh asset the clips show, with its hash (absent for datasets of primitives)
        manifest["assets"] = sorted(assets.values(), key=lambda a: (a["name"], a["sha256"]))
    return manifest


def wids_index(manifest: Mapping) -> dict:
    """The wids shard index ("wids-shard-index-v1"): relative URLs, sample counts, sizes."""
    return {
        "__kind__": "wids-shard-index-v1",
        "wids_version": 1,
        "name": manifest["name"],
        "shardlist": [{"url": s["tar"], "nsamples": s["count"], "filesize": s["bytes"]} for s in manifest["shards"]],
    }


def write_manifest(dataset_dir: str, manifest: Mapping) -> None:
    """Write manifest.json and index.wids.json (atomically each)."""
    storage.write_atomic(storage.join(dataset_dir, MANIFEST), json_bytes(manifest))
    storage.write_atomic(storage.join(dataset_dir, WIDS_INDEX), json_bytes(wids_index(manifest)))


def read_manifest(dataset_dir: str) -> dict:
    url = storage.join(dataset_dir, MANIFEST)
    try:
        manifest = storage.read_json(url)
    except FileNotFoundError:
        raise DatasetError(f"{url} does not exist: is {dataset_dir} a finished simreel dataset? "
                           "(`simreel generate` writes it when every shard is done)") from None
    except ValueError as e:
        raise DatasetError(f"{url} is not valid JSON ({e}); rerun `simreel generate` to rewrite it") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DatasetError(f"{url} is not a {FORMAT} manifest")
    return manifest


def list_shards(dataset_dir: str) -> list[str]:
    """URLs of every shard of a dataset, in order, from its manifest.json."""
    return [storage.join(dataset_dir, s["tar"]) for s in read_manifest(dataset_dir)["shards"]]
