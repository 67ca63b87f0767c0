"""Shared fixtures. Tiers, by marker (registered in pyproject.toml):

    pytest -m "not slow"      the quick tier, under 3 minutes on 2 cores
    pytest                    everything (what CI runs through ./dev test)

`slow`: trains, runs the loop, starts Ray or takes more than ~10 s; `cluster`: several Ray
nodes (ray.cluster_utils.Cluster); `browser`: needs chromium (installed by ./dev).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The suite renders headless and never joins a real cluster: a RAY_ADDRESS from the
# shell would send in-process jobs to it.
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.pop("RAY_ADDRESS", None)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: EGL, no Ray token warning, no RAY_ADDRESS."""
    env = {**os.environ, "PYOPENGL_PLATFORM": "egl", "RAY_AUTH_MODE": "disabled", **extra}
    env.pop("RAY_ADDRESS", None)
    return env


def run_simreel(*args: str, check: bool = True, env: dict[str, str] | None = None,
                timeout: float = 600) -> subprocess.CompletedProcess:
    """`simreel ARGS` in a child process, from the repository root, as a user runs it.
    check: assert it exited 0 (with the end of its stderr as the message)."""
    proc = subprocess.run([sys.executable, "-m", "simreel.cli", *args], cwd=ROOT, env=child_env(**(env or {})),
                          capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="session")
def simreel():
    """The command line in a child process: simreel("generate", ..., check=False, env={...})."""
    return run_simreel


@pytest.fixture(scope="module")
def local_ray():
    """A private local Ray for the module (address="local": never some other cluster; no dashboard)."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
