"""Where a dataset lives: a local path or any fsspec URL (file://, s3://, gs://, memory://).

All shard I/O goes through these few calls, so the writer, reader and validator behave
the same on a laptop disk and in a bucket.
"""
from __future__ import annotations

import json
import posixpath
import re
import uuid

import fsspec

TEMPORARY = re.compile(r"^(?P<target>.+)\.[0-9a-f]{12}\.tmp$")
"""What simreel's temporaries look like: TARGET.<12 hex>.tmp, so a run can tell its own from a user's *.tmp."""


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


def temporary(path: str) -> str:
    """A unique temporary name beside `path` (TARGET.<12 hex>.tmp): concurrent writers never share one."""
    return f"{path}.{uuid.uuid4().hex[:12]}.tmp"


def write_atomic(url: str, data: bytes) -> None:
    """Write to a temporary sibling, then rename: readers never see half a file, and a failed
    write (a full disk) leaves the previous file as it was and no temporary behind.

    Renames are atomic on local disks; object stores copy then delete, which is why a
    shard's stats JSON, written last, is what marks it finished.
    """
    fs, path = filesystem(url)
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    tmp = temporary(path)
    try:
        with fs.open(tmp, "wb") as f:
            f.write(data)
        fs.mv(tmp, path)
    except BaseException:
        if fs.exists(tmp):
            fs.rm(tmp)
        raise


def is_local(url: str) -> bool:
    """True for paths on this machine's filesystem (plain paths and file:// URLs)."""
    return "local" in filesystem(url)[0].protocol


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    return fs.exists(path)
