"""The trainer on real factory clips: it learns, samples what it learned, resumes exactly,
takes its commands, and runs under Ray Train on two workers.

One dataset for the module: 8 clips (2 shards of 4; 8 frames, 32x32) made by the real
generator (`simreel generate configs/tiny.yaml`); configs/train-tiny.yaml trains on them
resized to 16x16.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from simreel import shards
from simreel.trainer import checkpoint
from simreel.config import load_train
from simreel.trainer.data import ClipShape, to_tensor
from simreel.trainer.sample import load, sample_videos
from simreel.trainer.train import train

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "train-tiny.yaml"

pytestmark = pytest.mark.slow  # the module's dataset comes from a real `simreel generate`, and it trains


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, simreel) -> str:
    out = tmp_path_factory.mktemp("factory") / "clips"
    simreel("generate", str(ROOT / "configs" / "tiny.yaml"), "--out", str(out), timeout=300)
    return str(out)


@pytest.fixture(scope="module")
def clips(dataset) -> list[tuple[str, np.ndarray, str]]:
    """(key, video uint8 [8, 16, 16, 3] as the model sees it, short English caption), in dataset order."""
    out = []
    for url in shards.list_shards(dataset):
        for raw in shards.iter_samples(url):
            s = shards.decode_sample(raw)
            assert s["video"].shape == (8, 32, 32, 3)
            out.append((raw["__key__"], as_trained(s["video"]), s["meta"]["captions"]["short"]["en"]))
    assert len(out) == 8
    return out


def as_trained(video: np.ndarray) -> np.ndarray:
    x = to_tensor(video, ClipShape(8, 16, 16))
    return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 3, 0).numpy()


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("learn")
    cfg = load_train(TINY, [f"data={dataset}", f"out={out}", "log_every=1", "caption_kinds=[short]"])
    summary = train(cfg)
    return cfg, out, summary


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / max(mse, 1e-10))


def test_loss_falls_threefold_on_factory_clips(trained):
    cfg, out, summary = trained
    losses = [r["loss"] for r in records(out) if "loss" in r]
    assert len(losses) == cfg.steps == summary["step"]
    start, end = np.mean(losses[:5]), np.mean(losses[-20:])
    assert end * 3 <= start, f"loss went from {start:.3f} to {end:.3f}"
    assert all("loss_by_t" in r and r["loss_by_t"] for r in records(out))
    assert (out / "loss.png").stat().st_size > 1000 and (out / "checkpoint.pt").exists()


def test_a_training_caption_samples_its_own_clip(trained, clips):
    """Sampling with a clip's caption gives a video nearer (PSNR) to that clip than to any other."""
    _, out, _ = trained
    model, cfg, info = load(out)
    assert info["step"] == 600 and info["fps"] == 8
    captions = [c for _, _, c in clips]
    unique = [i for i, c in enumerate(captions) if captions.count(c) == 1]
    assert len(unique) >= 6
    samples = sample_videos(model, [captions[i] for i in unique], ClipShape(8, 16, 16), steps=20, guidance=2.0, seed=0)
    wins = 0
    for i, video in zip(unique, samples):
        scores = [psnr(video, v) for _, v, _ in clips]
        wins += int(np.argmax(scores) == i)
    assert wins >= len(unique) - 1, f"only {wins} of {len(unique)} samples closest to their own clip"


def test_the_guess_from_pure_noise_beats_the_mean_clip(trained, clips):
    """At t = 1, where sampling starts, the clean-clip guess for a caption must beat the mean
    of the other clips: the demo's models did not, and their samples stayed flat mosaics."""
    from simreel.trainer import flow

    model, _, _ = load(trained[1])
    real = torch.from_numpy(np.stack([v for _, v, _ in clips])).permute(0, 4, 1, 2, 3).float() / 127.5 - 1
    noise = torch.randn(real.shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        guess = model.dit(noise, torch.ones(len(clips)), *model.encode([c for _, _, c in clips]))
    assert ((guess - real) ** 2).mean().item() < 0.6 * flow.mean_clip_loss(real)


@pytest.mark.parametrize("space", [[], ["latent_channels=4", "autoencoder_steps=3", "patch=[2,2,2]"]],
                         ids=["pixels", "latents"])
def test_object_weighted_training_reads_the_ids(dataset, tmp_path, space):
    cfg = load_train(TINY, [f"data={dataset}", f"out={tmp_path}", "steps=2", "log_every=1", "object_weight=4",
                            "threads=1", "loader_workers=0", *space])
    assert np.isfinite(train(cfg)["loss"])
    model, cfg, _ = load(tmp_path / "checkpoint.pt")
    assert (model.autoencoder is not None) == bool(space)
    video = sample_videos(model, ["a red ball"], ClipShape(cfg.frames, cfg.height, cfg.width), steps=2)[0]
    assert video.shape == (cfg.frames, cfg.height, cfg.width, 3)


def test_sample_command_writes_videos_and_takes_unknown_words(trained, clips, tmp_path, simreel):
    _, out, _ = trained
    known = clips[0][2]
    done = simreel("sample", str(out), known, "a glittering zebra cube falls", "--out", str(tmp_path / "grid.gif"),
                   "--steps", "4", check=False)
    assert done.returncode == 0, done.stderr
    assert "zebra" in done.stderr and "glittering" in done.stderr  # warned, not failed
    from PIL import Image

    with Image.open(tmp_path / "grid.gif") as gif:
        assert gif.n_frames == 8
    done = simreel("sample", str(out / "checkpoint.pt"), known, "zebra", "--out", str(tmp_path / "each"),
                   "--steps", "3", check=False)
    assert done.returncode == 0, done.stderr
    files = sorted((tmp_path / "each").glob("*.mp4"))
    assert len(files) == 2 and shards.decode_video(files[0].read_bytes()).shape == (8, 16, 16, 3)
    done = simreel("sample", str(out), "  ", "--out", str(tmp_path / "x.mp4"), check=False)
    assert done.returncode == 2 and "prompt 1 is empty" in done.stderr


def test_sample_continues_given_first_frames(trained, dataset, clips, tmp_path, simreel):
    """The command continues a user's mp4, and continuations stay in their scenes: most of the 8
    are nearer their own clip's later frames than any other's (not all: one clip can be a hub
    that many continuations resemble, and which one is depends on the machine's floats)."""
    _, out, _ = trained
    raw = list(shards.iter_samples(shards.list_shards(dataset)[0]))[3]
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(raw["mp4"])  # a factory clip as a user has it: 32x32, resized to the model's 16x16
    done = simreel("sample", str(out), clips[3][2], "--first-frames", str(clip), "--given", "4", "--out",
                   str(tmp_path / "cont.mp4"), "--steps", "10", check=False)
    assert done.returncode == 0, done.stderr
    result = shards.decode_video((tmp_path / "cont.mp4").read_bytes())
    assert result.shape == (8, 16, 16, 3)
    assert psnr(result[:4], clips[3][1][:4]) > 25  # the given frames come back (through the codec)
    model, _, _ = load(out)
    first = torch.stack([torch.from_numpy(v[:4]).permute(3, 0, 1, 2).float() / 127.5 - 1 for _, v, _ in clips])
    continued = sample_videos(model, [c for _, _, c in clips], ClipShape(8, 16, 16), steps=10, first=first, seed=0)
    nearest = [int(np.argmax([psnr(video[4:], v[4:]) for _, v, _ in clips])) for video in continued]
    assert sum(k == i for i, k in enumerate(nearest)) >= 6, f"continuations nearest to clips {nearest}"


def test_resumed_run_matches_uninterrupted_run_step_for_step(dataset, tmp_path):
    common = [f"data={dataset}", "log_every=1", "ckpt_every=2",
              "eval_every=2", "val_clips=2", "caption_dropout=0.3", "cond_prob=0.5", "threads=1"]
    straight = load_train(TINY, common + [f"out={tmp_path / 'a'}", "steps=6"])
    train(straight)
    first = load_train(TINY, common + [f"out={tmp_path / 'b'}", "steps=3"])
    train(first)
    train(dataclasses.replace(first, steps=6))  # a new process would do the same: all state is in the file
    a, b = records(tmp_path / "a"), records(tmp_path / "b")
    assert [r["loss"] for r in a if "loss" in r] == [r["loss"] for r in b if "loss" in r]
    heldout_a = {r["step"]: r["heldout"] for r in a if "heldout" in r}
    heldout_b = {r["step"]: r["heldout"] for r in b if "heldout" in r}  # b also evaluated at its stop, step 3
    assert list(heldout_a) == [2, 4, 6] and heldout_a == {k: heldout_b[k] for k in heldout_a}
    assert all(np.isfinite(r["heldout_swapped_captions"]) for r in a if "heldout" in r)
    sa, sb = checkpoint.load(tmp_path / "a"), checkpoint.load(tmp_path / "b")
    for part in ("model", "ema"):
        assert all(torch.equal(sa[part][k], sb[part][k]) for k in sa[part])
    assert sa["workers"][0]["position"] == sb["workers"][0]["position"]
    with pytest.raises(ValueError, match="different run"):
        train(dataclasses.replace(first, steps=8, lr=0.1))


def test_train_command_reports_bad_input(dataset, tmp_path, simreel):
    done = simreel("train", str(TINY), f"data={dataset}", f"out={tmp_path}", "stepz=3", check=False)
    assert done.returncode == 2 and "stepz: 3 is not allowed; unknown field" in done.stderr
    done = simreel("train", str(TINY), f"data={tmp_path / 'nothing'}", f"out={tmp_path}", check=False)
    assert done.returncode == 2 and "manifest.json does not exist" in done.stderr
    done = simreel("train", str(TINY), f"data={dataset}", f"out={tmp_path}", "frames=32", check=False)
    assert done.returncode == 2 and "has 8 frames but the model trains on 32" in done.stderr


def test_ray_train_two_workers(dataset, tmp_path, local_ray):
    from simreel.trainer.train import train_with_ray

    cfg = load_train(TINY, [f"data={dataset}", f"out={tmp_path / 'run'}", "ranks=2", "steps=4", "log_every=2",
                             "threads=1"])
    summary = train_with_ray(cfg)
    assert summary["world"] == 2 and summary["step"] == 4
    report = json.loads((tmp_path / "run" / "workers.json").read_text())["workers"]
    shard_keys = sorted(sorted(raw["__key__"] for raw in shards.iter_samples(u)) for u in shards.list_shards(dataset))
    for epoch in ("0", "1"):  # batch 8 from 4-clip shards: each rank reads one whole shard an epoch, not the same
        assert sorted(report[rank]["read"][epoch] for rank in (0, 1)) == shard_keys
    assert report[0]["weights_checksum"] == report[1]["weights_checksum"]  # DDP kept the replicas equal
    model, _, info = load(tmp_path / "run")
    assert info["step"] == 4
    assert sample_videos(model, ["a red ball"], ClipShape(8, 16, 16), steps=2)[0].shape == (8, 16, 16, 3)
