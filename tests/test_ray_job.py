"""The README's `ray job submit` command, for real: a local Ray head of its own (own temp dir,
own ports, a dashboard for the job server), `simreel generate` submitted as the README says,
the dataset read back, and exactly that head stopped (its processes, by pid: never `ray stop`,
which would stop every Ray on the machine).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import child_env

pytestmark = pytest.mark.slow  # a Ray head with its dashboard, and a job

ROOT = Path(__file__).resolve().parents[1]
RAY_CLI = [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.exit(main())"]


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def processes_under(temp_dir: str) -> list[int]:
    """Pids of the processes whose command line names this head's temp dir: its GCS, raylet,
    dashboard, agents, monitors and workers."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if temp_dir.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


@pytest.fixture
def head():
    temp_dir = tempfile.mkdtemp(prefix="rj", dir="/tmp")  # short: Ray's socket paths live under it
    gcs, dashboard, agent = free_ports(3)
    env = child_env(RAY_USAGE_STATS_ENABLED="0")
    start = subprocess.run(
        [*RAY_CLI, "start", "--head", f"--temp-dir={temp_dir}", f"--port={gcs}", "--include-dashboard=true",
         "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}",
         f"--dashboard-agent-listen-port={agent}", "--num-cpus=2", "--disable-usage-stats"],
        env=env, capture_output=True, text=True, timeout=180)
    try:
        assert start.returncode == 0, start.stderr[-3000:]
        yield f"http://127.0.0.1:{dashboard}", env
    finally:
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 20)):
            for pid in processes_under(temp_dir):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while processes_under(temp_dir) and time.monotonic() < deadline:
                time.sleep(0.5)
        assert not processes_under(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_ray_job_submit_generates_a_dataset_on_that_cluster(head, tmp_path):
    from simreel import shards

    address, env = head
    out = tmp_path / "ds"
    # The README's command, with its `python -m simreel.cli` form (this interpreter, whose venv has simreel).
    job = subprocess.run(
        [*RAY_CLI, "job", "submit", "--address", address, "--working-dir", str(ROOT), "--",
         sys.executable, "-m", "simreel.cli", "generate", "configs/tiny.yaml", "--out", str(out),
         "num_samples=4", "samples_per_shard=2", "captions.kinds=[short]"],
        env=env, capture_output=True, text=True, timeout=600)
    assert job.returncode == 0 and "succeeded" in job.stdout, (job.stdout + job.stderr)[-4000:]
    assert "4 clips in 2 shards" in job.stdout
    assert shards.validate(str(out)).ok
    keys = [s["__key__"] for s in shards.ClipDataset(str(out), decode=False)]
    assert keys == [f"{i:08d}" for i in range(4)]
