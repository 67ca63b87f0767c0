"""The factory run on a real local Ray cluster: determinism across worker counts, resume,
a worker killed for real mid-shard, validate, reading back, the CLI commands."""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from simreel import shards
from simreel.cli import main as cli
from simreel.config import ConfigError, load_dataset
from simreel.job import generate

pytestmark = pytest.mark.slow  # a local Ray and 12 rendered clips for the module

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
# 12 clips of 8 frames at 32x32 in 3 shards: enough for two workers to share, small enough to be quick.
OVERRIDES = ["num_samples=12", "samples_per_shard=4"]
KEYS = [f"{i:08d}" for i in range(12)]


@pytest.fixture(scope="module")
def config():
    return load_dataset(CONFIGS / "tiny.yaml", OVERRIDES)


def tars(out) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(Path(out).glob("*.tar"))}


@pytest.fixture(scope="module")
def one_worker(local_ray, config, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("w1")
    result = generate(config, str(out), workers=1, progress_stream=io.StringIO())
    assert (result.made, result.skipped, result.workers) == (3, 0, 1)
    return out


def test_two_workers_write_byte_identical_shards(one_worker, config, tmp_path):
    log = io.StringIO()
    result = generate(config, str(tmp_path), workers=2, progress_stream=log, progress_tty=False, progress_every=0)
    assert result.workers == 2
    assert tars(tmp_path) == tars(one_worker) and len(tars(tmp_path)) == 3
    lines = log.getvalue().splitlines()
    assert lines[-1].startswith("[simreel generate] 12/12 clips (100%)") and "clips/s" in lines[-1] and "ETA" in lines[-1]
    # both workers made shards (each stats JSON says who)
    pids = {json.loads(p.read_text())["worker"]["pid"] for p in tmp_path.glob("*.stats.json")}
    assert len(pids) == 2


def test_dataset_is_complete_and_valid(one_worker, config):
    assert shards.validate(str(one_worker)).ok
    manifest = shards.read_manifest(str(one_worker))
    assert manifest["totals"]["samples"] == 12 and manifest["config_hash"] == config.hash
    names = sorted(os.listdir(one_worker))
    assert names == sorted(["README.md", "config.yaml", "index.wids.json", "manifest.json", "preview.gif",
                            "preview.png"] + [f"shard-00000{i}.{ext}" for i in range(3) for ext in ("tar", "stats.json")])
    stats = json.loads((one_worker / "shard-000000.stats.json").read_text())
    assert {"scene", "render", "caption", "encode", "write"} <= stats["seconds"].keys()
    assert stats["count"] == 4 and isinstance(stats["rejections"], dict)
    card = (one_worker / "README.md").read_text()
    assert card.startswith("---\npretty_name: simreel-tiny") and "events per clip" in card and "preview.png" in card


def test_sample_content(one_worker, config):
    sample = next(iter(shards.ClipDataset(str(one_worker), arrays=("traj", "ids"))))
    meta = sample["meta"]
    assert sample["video"].shape == (8, 32, 32, 3)
    assert sample["ids"].shape == (8, 32, 32)
    assert sample["traj_positions"].shape[:2] == (8, len(meta["scene"]["objects"]))
    assert set(meta["captions"]["short"]) == {"en", "zh"} and sample["txt"] == meta["captions"]["short"]["en"]
    assert meta["config_hash"] == config.hash and meta["generator"]["name"] == "simreel"
    assert len(meta["camera"]["poses"]) == 8 and meta["scene"]["family"] == meta["family"]


def test_rerun_skips_finished_and_remakes_missing_or_broken(one_worker, config, tmp_path):
    out = tmp_path / "ds"
    shutil.copytree(one_worker, out)
    reference = tars(one_worker)
    (out / "shard-000000.tar").unlink()  # missing
    broken = bytearray((out / "shard-000001.tar").read_bytes())
    broken[len(broken) // 2] ^= 0xFF  # altered, same size
    (out / "shard-000001.tar").write_bytes(bytes(broken))
    untouched = (out / "shard-000002.tar").stat().st_mtime_ns
    (out / "manifest.json").unlink()
    # the same dataset reached through an fsspec URL: every storage goes through the same code
    result = generate(config, f"file://{out}", workers=2, progress_stream=io.StringIO())
    assert (result.made, result.skipped) == (2, 1)
    assert (out / "shard-000002.tar").stat().st_mtime_ns == untouched
    assert tars(out) == reference
    assert shards.validate(f"file://{out}").ok and shards.list_shards(f"file://{out}")[0].startswith("file://")


def test_other_config_in_same_directory_is_refused(one_worker):
    other = load_dataset(CONFIGS / "tiny.yaml", [*OVERRIDES, "video.crf=30"])
    with pytest.raises(ConfigError, match="different config"):
        generate(other, str(one_worker))


def _writer_of(path: Path) -> int | None:
    """The pid of the process that has `path` open: the worker writing that shard (Linux /proc;
    no Ray API needed)."""
    target = os.path.realpath(path)
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == target for fd in fd_dir.iterdir()):
                return int(fd_dir.parent.name)
        except OSError:  # the process ended, or is not ours to look into
            continue
    return None


def _alive(pid: int) -> bool:
    """Running, not gone nor a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_worker_killed_mid_shard_costs_a_retry_not_data(one_worker, config, tmp_path):
    killed = {}

    def kill_when_mid_shard():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            partial = [p for p in tmp_path.glob("*.tar.*.tmp") if p.stat().st_size > 0]  # a shard being written
            pid = _writer_of(partial[0]) if partial else None
            if pid is not None:
                shard = partial[0].name.split(".")[0]
                killed.update(pid=pid, shard=shard, finished=(tmp_path / f"{shard}.tar").exists())
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    killer = threading.Thread(target=kill_when_mid_shard)
    killer.start()
    result = generate(config, str(tmp_path), workers=1, progress_stream=io.StringIO())
    killer.join()
    assert killed and not killed["finished"], "the worker was not caught mid-shard"
    # it really died, and the shard it was writing was made again by another process (the restarted worker)
    assert not _alive(killed["pid"])
    assert json.loads((tmp_path / f"{killed['shard']}.stats.json").read_text())["worker"]["pid"] != killed["pid"]
    assert result.made == 3
    assert tars(tmp_path) == tars(one_worker)  # nothing lost, nothing doubled, same bytes
    assert not list(tmp_path.glob("*.tmp"))  # the dead attempt's temporary was swept
    assert shards.validate(str(tmp_path)).ok


def test_torch_and_ray_readers_see_every_key_once(one_worker):
    import torch

    loader = torch.utils.data.DataLoader(shards.ClipDataset(str(one_worker)), batch_size=4, num_workers=2,
                                         collate_fn=shards.collate_clips)
    keys = [k for batch in loader for k in batch["__key__"]]
    assert sorted(keys) == KEYS
    rows = shards.ray_dataset(str(one_worker), arrays=("ids",)).take_all()
    assert sorted(r["__key__"] for r in rows) == KEYS
    assert rows[0]["video"].shape == (8, 32, 32, 3) and rows[0]["ids"].shape == (8, 32, 32)
    assert rows[0]["meta"]["key"] == rows[0]["__key__"]


def test_cli_commands(one_worker, tmp_path, capsys):
    # generate on a finished dataset verifies and skips every shard
    assert cli(["generate", str(CONFIGS / "tiny.yaml"), "--out", str(one_worker), *OVERRIDES]) == 0
    assert "0 shards made, 3 already finished" in capsys.readouterr().out
    assert cli(["generate", str(CONFIGS / "tiny.yaml"), "--out", str(tmp_path), "video.crf=77"]) == 2
    assert "video.crf: 77" in capsys.readouterr().err

    assert cli(["validate", str(one_worker)]) == 0
    assert "3 shards, 12 samples: ok" in capsys.readouterr().out
    damaged = tmp_path / "damaged"
    shutil.copytree(one_worker, damaged)
    data = (damaged / "shard-000002.tar").read_bytes()
    (damaged / "shard-000002.tar").write_bytes(data[: len(data) - 3000])
    assert cli(["validate", str(damaged)]) == 1
    out = capsys.readouterr().out
    assert "BAD shard-000002:" in out and "truncated" in out and "DAMAGED (1 bad)" in out

    assert cli(["export", str(one_worker), "--to", "mp4-folder", str(tmp_path / "exp")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "exp/metadata.jsonl").read_text().splitlines()]
    assert [r["file_name"] for r in rows] == [f"{k}.mp4" for k in KEYS]
    assert all((tmp_path / "exp" / r["file_name"]).stat().st_size > 0 for r in rows)

    assert cli(["preview", str(one_worker), "--out", str(tmp_path / "pv"), "-n", "4"]) == 0
    assert (tmp_path / "pv/preview.png").stat().st_size > 0 and (tmp_path / "pv/preview.gif").stat().st_size > 0
    capsys.readouterr()
    assert cli(["validate", str(tmp_path / "nothing-here")]) == 1
    assert "manifest.json" in capsys.readouterr().out
