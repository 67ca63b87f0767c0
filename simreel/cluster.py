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

from simreel.errors import UserError


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
    try:
        if address:
            ray.init(address=address)
        else:
            ray.init(address="local", include_dashboard=False)
    except Exception as e:  # Ray says why in many exception types; the user needs one line
        why = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)[:200]
        where = (f"could not join Ray at {address} ({why}); check the address, or unset RAY_ADDRESS to start a "
                 "private Ray here") if address else (
                f"could not start a local Ray ({why}); a heavily loaded machine or a full /tmp can do this: "
                "retry, or start one with `ray start --head` and pass --address")
        raise UserError(where) from None
    if on_sigterm is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_sigterm)  # ray.init's own handler exits at once; the caller's ends cleanly
    try:
        yield
    finally:
        ray.shutdown()
