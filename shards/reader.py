"""Reading shards back: tar members grouped into samples, through webdataset's own
tar iterator and key grouping, opened with fsspec so every storage a writer takes works.

Shards are hostile input. Before a sample is handed on, the shard's bytes are checked
against the sha256 its writer recorded in NAME.stats.json beside it (verify=True, the
default), and every member name must be a plain sample key and extension: a name read
from a tar never becomes a path unchecked (`../x.mp4` or `/etc/x.mp4` stop the reader).
"""
from __future__ import annotations

import hashlib
import io
import re
from typing import Iterable, Iterator

import fsspec

from simreel.shards import storage
from simreel.shards.manifest import DatasetError

MEMBER_PATTERN = re.compile(r"^[0-9A-Za-z_-]+(\.[0-9A-Za-z_-]+)+$")
"""KEY.EXT[.EXT]: a key (letters, digits, '_', '-'; no dots) and dotted extensions, no slash."""

IN_MEMORY = 64 << 20
"""Shards up to this size are read once into memory and hashed there; larger ones are hashed in a
first streamed pass, then read again (memory stays flat, at the price of a second read)."""


class ShardDamaged(DatasetError):
    """A shard whose bytes differ from the checksum its writer recorded, or whose members are not plain names."""


def stats_url(tar_url: str) -> str:
    return tar_url[: -len(".tar")] + ".stats.json" if tar_url.endswith(".tar") else tar_url + ".stats.json"


def recorded_checksum(tar_url: str) -> tuple[int, str]:
    """(bytes, sha256) the writer recorded for a shard, from its NAME.stats.json."""
    url = stats_url(tar_url)
    try:
        stats = storage.read_json(url)
        return int(stats["bytes"]), str(stats["sha256"])
    except FileNotFoundError:
        raise DatasetError(f"{tar_url}: no {url.rsplit('/', 1)[-1]} beside it to verify the shard against; "
                           "pass verify=False to read it unchecked") from None
    except (ValueError, KeyError, TypeError) as e:
        raise DatasetError(f"{url} is not a readable stats JSON ({e}); run `simreel validate` on the dataset") from None


def _sha256(stream, chunk: int = 1 << 20) -> tuple[int, str]:
    sha, n = hashlib.sha256(), 0
    while block := stream.read(chunk):
        sha.update(block)
        n += len(block)
    return n, sha.hexdigest()


def _check(url: str, found: tuple[int, str], expected: tuple[int, str]) -> None:
    if found != expected:
        raise ShardDamaged(f"{url} is damaged: {found[0]} bytes with sha256 {found[1][:16]}…, its stats record "
                           f"{expected[0]} bytes with sha256 {expected[1][:16]}…; run `simreel validate` on the "
                           "dataset, then rerun `simreel generate` to remake it")


def open_shards(src: Iterable[dict], verify: bool = True) -> Iterator[dict]:
    """webdataset stage: {"url"} -> {"url", "stream"}, opening any fsspec URL or path; with `verify`,
    only a shard whose bytes match its recorded sha256 is handed on."""
    for item in src:
        url = item["url"]
        if verify:
            expected = recorded_checksum(url)
            if expected[0] <= IN_MEMORY:
                data = storage.read_bytes(url)
                _check(url, (len(data), hashlib.sha256(data).hexdigest()), expected)
                yield {**item, "stream": io.BytesIO(data)}
                continue
            with fsspec.open(url, "rb") as stream:
                _check(url, _sha256(stream), expected)
        with fsspec.open(url, "rb") as stream:
            yield {**item, "stream": stream}


def plain_members(files: Iterable[dict]) -> Iterator[dict]:
    """webdataset stage: refuse members whose names are not KEY.EXT (a path, '..', a dotted key)."""
    for f in files:
        if f and not MEMBER_PATTERN.match(f["fname"]):
            raise ShardDamaged(f"{f['__url__']}: member name {f['fname']!r} is not a plain sample key and extension "
                               "(letters, digits, '_' or '-', then .ext); refusing the shard")
        yield f


def tar_samples(src: Iterable[dict], verify: bool = True) -> Iterator[dict]:
    """webdataset stage: {"url"} -> {"__key__", "__url__", ext: bytes, ...} per sample.

    Errors propagate (webdataset's default would be to warn and go on): a damaged shard
    must stop a reader, not silently shorten an epoch.
    """
    from webdataset.tariterators import group_by_keys, tar_file_expander  # here: webdataset imports torch

    return group_by_keys(plain_members(tar_file_expander(open_shards(src, verify))))


def iter_samples(url: str, verify: bool = True) -> Iterator[dict]:
    """The raw samples ({"__key__", ext: bytes}) of one shard, in order."""
    return tar_samples([{"url": url}], verify)
