"""Export to formats other tools read without webdataset.

"mp4-folder": OUT/KEY.mp4 (the shard's bytes, not re-encoded) plus OUT/metadata.jsonl with a
`file_name` column, which Hugging Face `datasets` loads as a videofolder:
`load_dataset("videofolder", data_dir=OUT)`.
"""
from __future__ import annotations

import json
from typing import Callable

from simreel.shards import storage
from simreel.shards.manifest import list_shards
from simreel.shards.reader import iter_samples
from simreel.shards.sample import json_bytes
from simreel.shards.schema import check_key, unpack

FORMATS = ("mp4-folder",)


def metadata_row(key: str, meta: dict, text: str) -> dict:
    """One flat metadata.jsonl row: the same columns for every clip, so a table loader can type them."""
    return {
        "file_name": f"{key}.mp4",
        "key": key,
        "text": text,
        "captions": meta["captions"]["short"],
        "family": meta["family"],
        "seed": meta["seed"],
        "fps": meta["fps"],
        "num_frames": meta["num_frames"],
        "width": meta["width"],
        "height": meta["height"],
        "num_objects": len(meta["scene"].get("objects", ())),
        "num_events": len(meta["events"]),
        "event_kinds": sorted({e["kind"] for e in meta["events"]}),
        "modalities": meta["modalities"],  # the ground truth the shards hold beside the clip
        "floor": (meta["scene"].get("world") or {}).get("floor", "checker"),
        "environment": (meta["scene"].get("world") or {}).get("environment", "classic"),  # classic: flat sky
    }


def export(dataset_dir: str, out: str, to: str = "mp4-folder", *, on_clip: Callable[[str], None] | None = None,
           verify: bool = True) -> int:
    """Write the dataset in format `to` under `out`; returns the number of clips.

    Each shard is checked against its recorded sha256 first (`verify`), and a key is used as a
    file name only once it is a plain key (the reader refuses `../x` or `/x`); every file goes to
    a temporary name and is renamed."""
    if to not in FORMATS:
        raise ValueError(f"export format {to!r} is not one of {FORMATS}")
    rows = []
    for url in list_shards(dataset_dir):
        for raw in iter_samples(url, verify):
            key = raw["__key__"]
            check_key(key)
            storage.write_atomic(storage.join(out, f"{key}.mp4"), raw["mp4"])
            rows.append(metadata_row(key, unpack(json.loads(raw["json"])), raw["txt"].decode("utf-8")))
            if on_clip:
                on_clip(key)
    storage.write_atomic(storage.join(out, "metadata.jsonl"), b"".join(json_bytes(r) + b"\n" for r in rows))
    return len(rows)
