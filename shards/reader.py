"""Reading shards back: tar members grouped into samples, through webdataset's own
tar iterator and key grouping, opened with fsspec so every storage a writer takes works.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import fsspec


def open_shards(src: Iterable[dict]) -> Iterator[dict]:
    """webdataset stage: {"url"} -> {"url", "stream"}, opening any fsspec URL or path."""
    for item in src:
        with fsspec.open(item["url"], "rb") as stream:
            yield {**item, "stream": stream}


def tar_samples(src: Iterable[dict]) -> Iterator[dict]:
    """webdataset stage: {"url"} -> {"__key__", "__url__", ext: bytes, ...} per sample.

    Errors propagate (webdataset's default would be to warn and go on): a damaged shard
    must stop a reader, not silently shorten an epoch.
    """
    from webdataset.tariterators import group_by_keys, tar_file_expander  # here: webdataset imports torch

    return group_by_keys(tar_file_expander(open_shards(src)))


def iter_samples(url: str) -> Iterator[dict]:
    """The raw samples ({"__key__", ext: bytes}) of one shard, in order."""
    return tar_samples([{"url": url}])

