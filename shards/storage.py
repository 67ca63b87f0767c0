"""Where a dataset lives: a local path or any fsspec URL (file://, s3://, gs://, memory://).

All shard I/O goes through these few calls, so the writer, reader and validator behave
the same on a laptop disk and in a bucket.
"""
from __future__ import annotations

import json
import posixpath

import fsspec


def filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """(filesystem, path inside it) for a local path or an fsspec URL."""
    return fsspec.core.url_to_fs(url)


def join(url: str, name: str) -> str:
    """`url`/`name`, keeping the scheme (so the result can be handed to any reader)."""
    return url.rstrip("/") + "/" + name


def read_bytes(url: str) -> bytes:
    with fsspec.open(url, "rb") as f:
        return f.read()


def read_json(url: str):
    return json.loads(read_bytes(url))


def write_atomic(url: str, data: bytes) -> None:
    """Write to a temporary sibling, then rename: readers never see half a file.

    Renames are atomic on local disks; object stores copy then delete, which is why a
    shard's stats JSON, written last, is what marks it finished.
    """
    fs, path = filesystem(url)
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp"
    with fs.open(tmp, "wb") as f:
        f.write(data)
    fs.mv(tmp, path)


def is_local(url: str) -> bool:
    """True for paths on this machine's filesystem (plain paths and file:// URLs)."""
    return "local" in filesystem(url)[0].protocol


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    return fs.exists(path)
