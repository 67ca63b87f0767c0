"""Check a whole dataset against its manifest: every checksum, every video, every sample.

Problems are collected per shard, not raised, so one run names every bad shard and why.
"""
from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from typing import Callable

import numpy as np

from simreel.shards import storage
from simreel.shards.manifest import MANIFEST, DatasetError, own_temporary, read_manifest
from simreel.shards.sample import load_npz
from simreel.shards.schema import NAN_ARRAYS, OPTIONAL_MEMBERS, REQUIRED_MEMBERS, KEY_PATTERN, meta_problems, outdated
from simreel.shards.reader import iter_samples
from simreel.shards.video import decode_video
from simreel.shards.writer import sha256_of, stats_name


@dataclass(frozen=True)
class Problem:
    where: str  # a shard name, or the manifest
    what: str


@dataclass(frozen=True)
class Report:
    shards: int
    samples: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def bad_shards(self) -> list[str]:
        return sorted({p.where for p in self.problems})


def validate(dataset_dir: str, *, on_shard: Callable[[str, list[str]], None] | None = None) -> Report:
    """Validate `dataset_dir` (path or URL); `on_shard(name, problems)` is told after each shard."""
    try:
        manifest = read_manifest(dataset_dir)
    except DatasetError as e:
        return Report(0, 0, (Problem(MANIFEST, str(e)),))
    _refuse_outdated(dataset_dir, manifest)
    problems: list[Problem] = []
    seen: set[str] = set()
    samples = 0
    for entry in manifest["shards"]:
        found, n = _check_shard(dataset_dir, entry, seen)
        samples += n
        problems += [Problem(entry["shard"], p) for p in found]
        if on_shard:
            on_shard(entry["shard"], found)
    if not problems:  # with a bad shard, count mismatches are its echo, not news
        counts = {"totals.samples": manifest.get("totals", {}).get("samples"),
                  "config.num_samples": manifest.get("config", {}).get("num_samples", samples)}
        problems += [Problem(MANIFEST, f"{field} is {n} but the shards hold {samples}")
                     for field, n in counts.items() if n != samples]
    problems += _stray_files(dataset_dir, manifest)
    return Report(len(manifest["shards"]), samples, tuple(problems))


def _refuse_outdated(dataset_dir: str, manifest: dict) -> None:
    """A dataset from before the current sample schema fails every sample alike: say so once."""
    for entry in manifest["shards"][:1]:
        tar_url = storage.join(dataset_dir, entry["tar"])
        try:
            why = outdated(json.loads(next(iter_samples(tar_url, verify=False))["json"]))
        except (StopIteration, KeyError, tarfile.TarError, ValueError, OSError, EOFError):
            return  # an unreadable first sample is reported with its shard
        if why:
            raise DatasetError(f"{dataset_dir} predates the current sample schema ({why}); regenerate it with "
                               "`simreel generate` into a new --out")


def _check_shard(dataset_dir: str, entry: dict, seen: set[str]) -> tuple[list[str], int]:
    tar_url = storage.join(dataset_dir, entry["tar"])
    if not storage.exists(tar_url):
        return [f"{entry['tar']} is missing"], 0
    problems = []
    size, sha = sha256_of(tar_url)
    if size != entry["bytes"]:
        problems.append(f"size is {size} bytes, manifest says {entry['bytes']} (truncated or replaced)")
    elif sha != entry["sha256"]:
        problems.append(f"sha256 is {sha[:16]}…, manifest says {entry['sha256'][:16]}… (altered)")
    try:
        stats = storage.read_json(storage.join(dataset_dir, stats_name(entry["shard"])))
        if stats.get("sha256") != entry["sha256"]:
            problems.append("its stats JSON disagrees with the manifest's sha256")
    except (FileNotFoundError, ValueError):
        problems.append(f"{stats_name(entry['shard'])} is missing or unreadable")
    n = 0
    try:
        for raw in iter_samples(tar_url, verify=False):  # the checksum is reported above, and reading goes on
            n += 1
            problems += [f"sample {raw['__key__']}: {p}" for p in _sample_problems(raw, seen)]
    except (tarfile.TarError, ValueError, OSError, EOFError) as e:
        problems.append(f"tar unreadable after {n} samples: {e}")
        return problems, n
    if n != entry["count"]:
        problems.append(f"holds {n} samples, manifest says {entry['count']}")
    return problems, n


def _sample_problems(raw: dict, seen: set[str]) -> list[str]:
    key = raw["__key__"]
    members = {k for k in raw if not k.startswith("__")}
    problems = []
    if not KEY_PATTERN.match(key):
        problems.append("key has characters other than letters, digits, '_' or '-'")
    if key in seen:
        problems.append("key appears more than once in the dataset")
    seen.add(key)
    missing = [m for m in REQUIRED_MEMBERS if m not in members]
    unknown = sorted(members - set(REQUIRED_MEMBERS) - set(OPTIONAL_MEMBERS))
    if missing:
        problems.append(f"missing members {missing}")
    if unknown:
        problems.append(f"unknown members {unknown}")
    if missing:
        return problems
    try:
        meta = json.loads(raw["json"])
    except ValueError as e:
        return problems + [f"json does not parse: {e}"]
    schema = meta_problems(meta)
    if schema:
        return problems + schema
    if meta["key"] != key:
        problems.append(f"json key {meta['key']!r} differs from the member key")
    shape = (meta["num_frames"], meta["height"], meta["width"], 3)
    try:
        video = decode_video(raw["mp4"])
        if video.shape != shape:
            problems.append(f"mp4 decodes to {video.shape}, json says {shape}")
    except ValueError as e:
        problems.append(f"mp4: {e}")
    try:
        text = raw["txt"].decode("utf-8")
        if text not in meta["captions"]["short"].values():
            problems.append("txt is not one of the json's short captions")
    except UnicodeDecodeError:
        problems.append("txt is not UTF-8")
    for ext in ["traj.npz", *(m for m in OPTIONAL_MEMBERS if m in members)]:
        problems += _array_problems(ext, raw[ext], meta["num_frames"])
    declared = {f"{m}.npz" for m in meta["modalities"] if m != "rgb"}
    present = {m for m in OPTIONAL_MEMBERS if m in members}
    if declared != present:
        problems.append(f"json modalities ask for {sorted(declared)} but members are {sorted(present)}")
    return problems


def _array_problems(ext: str, data: bytes, num_frames: int) -> list[str]:
    try:
        arrays = load_npz(data)
    except (ValueError, OSError, EOFError) as e:
        return [f"{ext} does not load: {e}"]
    if not arrays:
        return [f"{ext} holds no arrays"]
    bad = [name for name, a in arrays.items()
           if a.ndim == 0 or a.shape[0] != num_frames or (a.dtype.kind == "f" and name not in NAN_ARRAYS and np.isnan(a).any())]
    return [f"{ext} arrays {bad} hold NaN or not one entry per frame ({num_frames})"] if bad else []


def _stray_files(dataset_dir: str, manifest: dict) -> list[Problem]:
    """Tars the manifest does not list and simreel's unfinished temporaries (other files are the user's)."""
    fs, root = storage.filesystem(dataset_dir)
    listed = {s["tar"] for s in manifest["shards"]}
    problems = []
    for path in sorted(fs.ls(root, detail=False)):
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if name.endswith(".tar") and name not in listed:
            problems.append(Problem(name, "a tar the manifest does not list"))
        elif own_temporary(name):
            problems.append(Problem(name, "an unfinished temporary file (an interrupted run; rerun generate)"))
    return problems
