"""Shard files: NAME.tar written whole or not at all, then NAME.stats.json marking it done.

The tar is streamed to a uniquely named temporary file while its sha256 is computed,
then renamed into place; only after that is the stats JSON written. So on any storage a
shard with a stats JSON whose size and sha256 match its tar is finished, and anything
else (no stats, a mismatch, a stray NAME.tar.<hex>.tmp) is work to redo.
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from typing import Mapping

from simreel.shards import storage
from simreel.shards.features import merge, sample_features
from simreel.shards.sample import Sample, encode_sample, json_bytes
from simreel.shards.video import VideoCodec

def tar_name(shard: str) -> str:
    return f"{shard}.tar"


def stats_name(shard: str) -> str:
    return f"{shard}.stats.json"


class _Hashing(io.RawIOBase):
    """Write-through file wrapper that counts bytes and hashes them on the way."""

    def __init__(self, f):
        self.f, self.sha, self.bytes = f, hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, b):
        self.sha.update(b)
        self.bytes += len(b)
        self.f.write(b)
        return len(b)


class ShardWriter:
    """Streams samples into `out`/NAME.tar; `commit()` publishes it, leaving the context without commit discards it.

        with ShardWriter(out, "shard-000003", codec) as w:
            for sample in samples:
                w.write(sample)
            stats = w.commit({"seconds": ...})
    """

    def __init__(self, out: str, shard: str, codec: VideoCodec = VideoCodec()):
        self.out, self.shard, self.codec = out, shard, codec
        self.fs, root = storage.filesystem(out)
        self.path = storage.filesystem(storage.join(out, tar_name(shard)))[1]
        self.tmp = storage.temporary(self.path)
        self.fs.makedirs(root, exist_ok=True)
        # Whatever stats JSON a previous run left is stale from here on: the shard is being redone.
        stats_path = storage.filesystem(storage.join(out, stats_name(shard)))[1]
        if self.fs.exists(stats_path):
            self.fs.rm(stats_path)
        self._file = self.fs.open(self.tmp, "wb")
        self._hash = _Hashing(self._file)
        self._tar = tarfile.open(fileobj=self._hash, mode="w|", format=tarfile.USTAR_FORMAT)
        self.keys: list[str] = []
        self.encode_s = 0.0
        self.write_s = 0.0
        self.features: dict = {}  # the column types of every sample so far (shards.features)

    def write(self, sample: Sample) -> None:
        if sample.key in self.keys:
            raise ValueError(f"shard {self.shard}: sample key {sample.key} written twice")
        t0 = time.perf_counter()
        members = encode_sample(sample, self.codec)
        columns = {ext: json.loads(data) if ext == "json" else sample.text if ext == "txt" else data
                   for ext, data in members.items() if not ext.endswith(".npz")}
        columns.update({f"{stem}.npz": sample.arrays[stem] for stem in sample.arrays})
        self.features = merge(self.features, sample_features(columns), f"sample {sample.key}: ")
        t1 = time.perf_counter()
        self.write_members(sample.key, members)
        self.encode_s += t1 - t0
        self.write_s += time.perf_counter() - t1

    def write_members(self, key: str, members: Mapping[str, bytes]) -> None:
        for ext, data in members.items():
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size, info.mtime, info.mode = len(data), 0, 0o444
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            self._tar.addfile(info, io.BytesIO(data))
        self.keys.append(key)

    def commit(self, extra: Mapping | None = None) -> dict:
        """Close and rename the tar, then write its stats JSON (count, bytes, sha256 + `extra`); returns the stats."""
        self._tar.close()
        self._file.close()
        self.fs.mv(self.tmp, self.path)
        extra = dict(extra or {})
        seconds = {**extra.pop("seconds", {}), "encode": self.encode_s, "write": self.write_s}
        stats = {
            "shard": self.shard,
            "tar": tar_name(self.shard),
            "count": len(self.keys),
            "first_key": self.keys[0] if self.keys else None,
            "last_key": self.keys[-1] if self.keys else None,
            "bytes": self._hash.bytes,
            "sha256": self._hash.sha.hexdigest(),
            "features": self.features,
            **extra,
            "seconds": seconds,
        }
        storage.write_atomic(storage.join(self.out, stats_name(self.shard)), json_bytes(stats))
        self._tar = None
        return stats

    def abort(self) -> None:
        if self._tar is None:
            return
        self._tar.close()  # finishes the stream so nothing writes to it later; the file is dropped anyway
        self._file.close()
        if self.fs.exists(self.tmp):
            self.fs.rm(self.tmp)
        self._tar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.abort()


def sha256_of(url: str, chunk: int = 1 << 20) -> tuple[int, str]:
    """(bytes, sha256 hex) of a file, streamed."""
    fs, path = storage.filesystem(url)
    sha, n = hashlib.sha256(), 0
    with fs.open(path, "rb") as f:
        while block := f.read(chunk):
            sha.update(block)
            n += len(block)
    return n, sha.hexdigest()


def finished_stats(out: str, shard: str, *, verify: bool = True) -> dict | None:
    """The stats of a finished shard, or None when it must be (re)made.

    Finished means: the stats JSON parses, and the tar's size (and, with verify, sha256)
    match it. Anything less is treated as missing, never trusted.
    """
    fs, _ = storage.filesystem(out)
    stats_url, tar_url = storage.join(out, stats_name(shard)), storage.join(out, tar_name(shard))
    try:
        stats = storage.read_json(stats_url)
        size = fs.size(storage.filesystem(tar_url)[1])
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(stats, dict) or stats.get("bytes") != size:
        return None
    if verify and sha256_of(tar_url) != (stats["bytes"], stats.get("sha256")):
        return None
    return stats
