"""One writer per dataset directory: DIR/.simreel.lock, held while a run writes there.

Locally the lock is an flock on that file: the kernel drops it when its process ends, however
it ends, so a killed run never blocks the next. On an object store there is no flock: the lock
is an object created only if absent (S3's conditional put, `If-None-Match: *`), removed when the
run ends. A run killed without clean-up leaves it; the refusal then says which run held it and
that deleting the object frees the directory.
"""
from __future__ import annotations

import contextlib
import os
import socket
import time

from simreel.shards import storage

LOCK = ".simreel.lock"


class Busy(RuntimeError):
    """Another run holds the directory."""


def _owner() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}"


@contextlib.contextmanager
def locked(out: str):
    """Hold `out`'s lock for the block, or raise Busy naming the run that holds it."""
    url = storage.join(out, LOCK)
    fs, path = storage.filesystem(url)
    fs.makedirs(storage.filesystem(out)[1], exist_ok=True)
    if storage.is_local(url):
        with _flock(path, out):
            yield
        return
    try:
        fs.pipe_file(path, _owner().encode(), mode="create")
    except (FileExistsError, OSError) as e:
        if not fs.exists(path):
            raise
        holder = fs.cat_file(path).decode("utf-8", "replace")
        raise Busy(f"{out} is being written by another run ({holder}); wait for it, or, if that run is gone, "
                   f"delete {url}") from e
    try:
        yield
    finally:
        fs.rm(path)


@contextlib.contextmanager
def _flock(path: str, out: str):
    import fcntl

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 400).decode("utf-8", "replace") or "starting"
            os.close(fd)
            raise Busy(f"{out} is being written by another run ({holder}); wait for it to end, or use another --out") \
                from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # the run that held it removed the file after we opened it: take the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, _owner().encode())
        yield
    finally:
        os.unlink(path)
        os.close(fd)
