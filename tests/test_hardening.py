"""Hostile data and ordinary mistakes: crafted checkpoints and tars, damaged shards, a user's files
in --out, two runs on one directory, a huge plan, and the one-line errors the command line gives.

The datasets here are synthetic (tests/test_shards.py's writer): no physics, no Ray, except
where a real `simreel generate` is the point (marked slow).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import resource
import signal
import subprocess
import sys
import tarfile
import time
import tracemalloc
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch

from simreel import shards
from simreel.shards.lock import locked
from simreel.shards.reader import ShardDamaged
from test_shards import write_dataset

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "configs" / "tiny.yaml")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hard") / "ds"
    write_dataset(str(out), n_shards=2, per_shard=2)
    return out


def copy_dataset(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def one_line_error(proc: subprocess.CompletedProcess, code: int | None = None) -> str:
    """The command failed with exactly one line on stderr and no traceback; returns that line."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0 and (code is None or proc.returncode == code), (proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return lines[0]


# ---------------------------------------------------------------- checkpoints are data


class Payload:
    """What a crafted checkpoint smuggles in: unpickling it would create a file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path, simreel):
    from simreel.trainer import checkpoint

    marker = tmp_path / "pwned"
    ckpt = tmp_path / "checkpoint.pt"
    torch.save({"config": {}, "model": Payload(marker)}, ckpt)
    with pytest.raises(ValueError, match="pickled objects"):
        checkpoint.load(ckpt)
    proc = simreel("sample", str(ckpt), "a red cube falls", "--out", str(tmp_path / "x.gif"), check=False)
    assert "is not a readable simreel checkpoint" in one_line_error(proc, 2)
    assert not marker.exists()
    plain = tmp_path / "plain.pkl"  # not even a torch file: a bare pickle
    plain.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ValueError, match="not a readable simreel checkpoint"):
        checkpoint.load(plain)
    assert not marker.exists()


def test_random_states_survive_a_weights_only_round_trip(tmp_path):
    from simreel.trainer import checkpoint

    np.random.seed(3)
    checkpoint.save(tmp_path / "c.pt", {"rng": checkpoint.global_rng_states()})
    expected = (np.random.random(), torch.rand(1).item())
    checkpoint.set_global_rng_states(checkpoint.load(tmp_path / "c.pt")["rng"])
    assert (np.random.random(), torch.rand(1).item()) == expected
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary left


# ---------------------------------------------------------------- tar names and checksums


def crafted_dataset(out: Path, member: str) -> Path:
    """A dataset whose one shard has a member named `member`, with a stats JSON and manifest that match
    it, so only the name is wrong."""
    out.mkdir(parents=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in ((member, b"not really a video"), ("00000000.json", b"{}"), ("00000000.txt", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buf.getvalue()
    (out / "shard-000000.tar").write_bytes(data)
    stats = {"shard": "shard-000000", "tar": "shard-000000.tar", "count": 1, "first_key": "00000000",
             "last_key": "00000000", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (out / "shard-000000.stats.json").write_text(json.dumps(stats))
    manifest = shards.build_manifest(name="crafted", generator={"name": "simreel", "version": "test"},
                                     config={"num_samples": 1}, config_hash="0", stats=[stats])
    shards.write_manifest(str(out), manifest)
    return out


@pytest.mark.parametrize("member", ["../escaped.mp4", "/tmp/simreel-absolute.mp4", "sub/00000000.mp4",
                                    "00000000.mp4/../../escaped"])
def test_member_names_that_are_not_keys_stop_every_reader(tmp_path, member, simreel):
    data = crafted_dataset(tmp_path / "ds", member)
    target = tmp_path / "export" / "inner"
    with pytest.raises(ShardDamaged, match="not a plain sample key"):
        shards.export(str(data), str(target))
    with pytest.raises(ShardDamaged, match="shard-000000.tar"):
        list(shards.ClipDataset(str(data), decode=False))
    with pytest.raises(ShardDamaged):
        list(shards.iter_samples(str(data / "shard-000000.tar"), verify=False))
    assert not shards.validate(str(data)).ok
    proc = simreel("export", str(data), "--to", "mp4-folder", str(target), check=False)
    assert "not a plain sample key" in one_line_error(proc, 2)
    assert not (tmp_path / "export" / "escaped.mp4").exists() and not Path("/tmp/simreel-absolute.mp4").exists()
    assert not list(tmp_path.glob("**/*escaped*"))


def test_readers_name_a_damaged_shard(dataset, tmp_path):
    bad = copy_dataset(dataset, tmp_path / "bad")
    tar = bad / "shard-000001.tar"
    data = bytearray(tar.read_bytes())
    first = next(shards.iter_samples(str(tar)))
    at = bytes(data).index(first["mp4"]) + len(first["mp4"]) // 2  # inside the mp4 member: the tar still parses
    data[at] ^= 0xFF
    tar.write_bytes(bytes(data))
    with pytest.raises(ShardDamaged, match="shard-000001.tar is damaged"):
        list(shards.ClipDataset(str(bad), decode=False))
    with pytest.raises(ShardDamaged, match="shard-000001.tar is damaged"):
        shards.export(str(bad), str(tmp_path / "exp"))
    assert len(list(shards.ClipDataset(str(bad), decode=False, verify=False))) == 4  # one flag away: unchecked
    with pytest.raises(shards.DatasetError, match="no shard-000001.stats.json"):
        (bad / "shard-000001.stats.json").unlink()
        list(shards.iter_samples(str(tar)))


def test_export_writes_whole_files_and_only_under_its_folder(dataset, tmp_path):
    out = tmp_path / "exp"
    assert shards.export(str(dataset), str(out)) == 4
    assert sorted(p.name for p in out.iterdir()) == ["00000000.mp4", "00000001.mp4", "00000002.mp4", "00000003.mp4",
                                                      "metadata.jsonl"]


# ---------------------------------------------------------------- the output directory


def test_temporaries_are_told_apart_from_a_users_files():
    from simreel.shards.manifest import dataset_file, own_temporary

    assert own_temporary("shard-000003.tar.0123456789ab.tmp") and own_temporary("manifest.json.abcdefabcdef.tmp")
    assert not own_temporary("notes.tmp") and not own_temporary("notes.txt.0123456789ab.tmp")
    assert dataset_file("shard-000000.stats.json") and not dataset_file("shard-x.tar") and not dataset_file("a.tar")


def test_a_second_writer_on_one_directory_is_refused(tmp_path):
    from simreel.shards.lock import Busy

    with locked(str(tmp_path)):
        with pytest.raises(Busy, match=f"pid {os.getpid()}"):
            with locked(str(tmp_path)):
                pass
    with locked(str(tmp_path)):  # released when the first one ended
        pass
    assert not list(tmp_path.iterdir())


def test_the_largest_dataset_plans_in_constant_memory():
    from simreel.config import load_dataset
    from simreel.job import plan

    config = load_dataset(TINY, ["num_samples=100000000", "samples_per_shard=1"])
    tracemalloc.start()
    shard_plans = plan(config)
    first = list(islice(shard_plans, 3))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [s.name for s in first] == ["shard-000000", "shard-000001", "shard-000002"]
    assert config.num_shards == 100_000_000 and peak < 1_000_000


# ---------------------------------------------------------------- ordinary mistakes: one line each


def _full_disk():
    """A child whose files cannot grow past 1 KiB (a clip here is ~2 KiB): writes fail as on a full disk (EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 10, 1 << 10))


MISTAKES = {
    # name: (argv built from the case's paths, expected fragment, exit code)
    "config is a directory": (lambda p: ["generate", str(ROOT / "configs"), "--out", str(p["new"])], "is a directory", 2),
    "config is not UTF-8": (lambda p: ["generate", str(p["latin1"]), "--out", str(p["new"])], "not UTF-8", 2),
    "out is a file": (lambda p: ["generate", TINY, "--out", str(p["file"])], "is a file, not a directory", 2),
    "out under a file": (lambda p: ["generate", TINY, "--out", str(p["file"] / "sub")], "part of the path is a file", 2),
    "out holds a user's files": (lambda p: ["generate", TINY, "--out", str(p["user"])], "--allow-other-files", 2),
    "out is being written": (lambda p: ["generate", TINY, "--out", str(p["busy"])], "being written by another run", 2),
    "manifest points at a non-tar": (lambda p: ["export", str(p["nontar"]), "--to", "mp4-folder", str(p["new"])],
                                     "is damaged", 2),
    "export under a file": (lambda p: ["export", str(p["data"]), "--to", "mp4-folder", str(p["file"] / "x")],
                            "Not a directory", 1),
    "validate a dataset older than the schema": (lambda p: ["validate", str(p["outdated"])],
                                                 "predates the current sample schema", 2),
    "preview of a non-tar": (lambda p: ["preview", str(p["nontar"])], "is damaged", 2),
    "train on a non-tar": (lambda p: ["train", str(ROOT / "configs" / "train-tiny.yaml"), f"data={p['nontar']}",
                                      f"out={p['new']}"], "is damaged", 2),
    "sample from a directory without a checkpoint": (lambda p: ["sample", str(p["new"]), "a cube", "--out", "x.gif"],
                                                      "no checkpoint", 2),
}


@pytest.fixture(scope="module")
def mistakes(dataset, tmp_path_factory):
    base = tmp_path_factory.mktemp("mistakes")
    paths = {"new": base / "new", "file": base / "afile", "latin1": base / "latin1.yaml", "user": base / "user",
             "busy": base / "busy", "data": dataset, "nontar": copy_dataset(dataset, base / "nontar")}
    paths["file"].write_text("not a directory")
    paths["latin1"].write_bytes("name: caf\xe9\n".encode("latin-1"))
    paths["user"].mkdir()
    (paths["user"] / "notes.txt").write_text("mine")
    paths["busy"].mkdir()
    (paths["nontar"] / "shard-000000.tar").write_text("this is not a tar file at all")
    paths["outdated"] = copy_dataset(dataset, base / "outdated")
    with_nested_json(paths["outdated"] / "shard-000000.tar")
    return paths


def with_nested_json(tar_path: Path) -> None:
    """Rewrite a shard's KEY.json as simreel wrote it before its JSON-text fields (`rejections` a list)."""
    with tarfile.open(tar_path) as src:
        members = [(m, src.extractfile(m).read()) for m in src.getmembers()]
    with tarfile.open(tar_path, "w", format=tarfile.USTAR_FORMAT) as dst:
        for m, data in members:
            if m.name.endswith(".json"):
                data = json.dumps({**json.loads(data), "rejections": []}).encode()
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data))


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_ordinary_mistakes_end_in_one_line(case, mistakes, capsys):
    """In this process (the command line's own `main`), for speed; test_generate_keeps_a_users_files... and
    the tests above run the same errors in a child process, as a user meets them."""
    from simreel.cli import main

    argv, fragment, code = MISTAKES[case]
    on_sigterm = signal.getsignal(signal.SIGTERM)
    try:
        with locked(str(mistakes["busy"])):  # another run holds this one throughout
            returncode = main(list(argv(mistakes)))
    finally:
        signal.signal(signal.SIGTERM, on_sigterm)
    err = capsys.readouterr().err
    assert fragment in one_line_error(subprocess.CompletedProcess([], returncode, "", err), code)
    assert (mistakes["user"] / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("command", ["export", "preview"])
def test_a_full_disk_ends_in_one_line_and_leaves_no_half_file(dataset, tmp_path, command):
    out = tmp_path / "out"
    argv = {"export": ["export", str(dataset), "--to", "mp4-folder", str(out)],
            "preview": ["preview", str(dataset), "--out", str(out)]}[command]
    proc = subprocess.run([sys.executable, "-m", "simreel.cli", *argv],
                          capture_output=True, text=True, preexec_fn=_full_disk, timeout=120)
    if proc.returncode == 0:
        pytest.skip("this filesystem took the files anyway")
    assert "File too large" in one_line_error(proc, 1)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_a_closed_pipe_is_not_an_error(dataset):
    proc = subprocess.run(f"{sys.executable} -m simreel.cli validate {dataset} | head -1", shell=True,
                          capture_output=True, text=True, timeout=120, executable="/bin/bash")
    assert proc.stdout.strip() == "shard-000000: ok" and proc.stderr == ""


def test_prompt_warnings(tmp_path):
    from simreel.trainer.sample import check_prompts
    from simreel.trainer.text import Tokenizer

    tok = Tokenizer.build(["a red cube falls onto the floor ."])
    assert check_prompts(["a red cube falls"], tok, 32) == []
    (warning,) = check_prompts(["zebra quasar"], tok, 32)
    assert "no word of it was seen in training" in warning
    (warning,) = check_prompts(["a red cube " * 20], tok, 32)
    assert "61 tokens long and the model reads 32" in warning


# ---------------------------------------------------------------- a real run


@pytest.mark.slow  # a real generate (local Ray)
def test_generate_keeps_a_users_files_and_ends_on_sigterm_like_ctrl_c(tmp_path, simreel):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "notes.tmp").write_text("mine")
    (out / "README.md").write_text("# my notes")
    args = ["generate", TINY, "--out", str(out), "num_samples=2", "samples_per_shard=1", "captions.kinds=[short]"]
    assert "--allow-other-files" in one_line_error(simreel(*args, check=False), 2)
    simreel(*args, "--allow-other-files")
    assert (out / "notes.tmp").read_text() == "mine" and (out / "README.md").read_text() == "# my notes"
    assert (out / "README.simreel.md").exists() and shards.validate(str(out)).ok
    assert not (out / ".simreel.lock").exists()

    proc = subprocess.Popen([sys.executable, "-m", "simreel.cli", *args[:3], str(tmp_path / "big"), "num_samples=200"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "big").glob("shard-*.tar.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.2)  # until a shard is being written
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("[simreel generate]")]
    assert proc.returncode == 130 and lines[-1] == "simreel generate: interrupted", err[-2000:]
    assert "Traceback" not in err and "Fatal Python error" not in err, err[-2000:]
    assert not (tmp_path / "big" / ".simreel.lock").exists()
