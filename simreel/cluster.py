"""The one way simreel reaches Ray, for generate, train and the loop alike.

Without an address (no `--address`, no RAY_ADDRESS) it starts a private Ray inside this
process and stops it afterwards: `address="local"`, because a plain `ray.init()` attaches to
whatever cluster another process on this machine started last; no dashboard, which would
otherwise start its own processes (~1 GB). With an address it joins that cluster.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading


@contextlib.contextmanager
def connect(address: str | None = None):
    """Ray for the `with` block: joined at `address` (or RAY_ADDRESS), else started locally.
    A Ray already initialised by the caller is used as it is and left running."""
    import ray

    if ray.is_initialized():
        yield
        return
    address = address or os.environ.get("RAY_ADDRESS")
    on_sigterm = signal.getsignal(signal.SIGTERM)
    if address:
        ray.init(address=address)
    else:
        ray.init(address="local", include_dashboard=False)
    if on_sigterm is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_sigterm)  # ray.init's own handler exits at once; the caller's ends cleanly
    try:
        yield
    finally:
        ray.shutdown()
