"""Training speed on this machine, side by side in one run.

1. Dense fp32 matmul peak measured with torch (square 1024 and 2048): the ceiling.
2. The `small` config's full training step (forward, backward, clipping, AdamW, EMA) on
   tensors: clips/s, tokens/s and model-FLOPs utilisation against that peak. FLOPs are
   counted as 6 x weights x tokens plus the attention products (`TextToVideo.flops_per_clip`).
   Beside it, the baseline the issue names: a plain nn.TransformerEncoder (6 layers, width
   192, 512 tokens, batch 8).
   The three are timed in turn, round after round, best of each: on a shared machine the
   load then falls on all of them alike, and the ratio (MFU) stays meaningful.
3. The data loader (`trainer.data`: shard read, mp4 decode, crop, resize, caption) on real
   factory shards, against what the trainer consumes. Floors: MFU >= 30%, loader >= 3x need.

    .venv/bin/python benchmarks/train.py [--data DATASET_DIR] [--steps 8] [--threads 2]

Without --data a small dataset is generated first with `simreel generate` (configs/tiny.yaml).
Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

from simreel.trainer import flow
from simreel.trainer.checkpoint import build_model
from simreel.config import load_train
from simreel.trainer.data import ClipShape, TrainClips, batches, caption_corpus
from simreel.trainer.text import Tokenizer
from simreel.trainer.train import update_ema


def matmul_steps() -> dict:
    """One square fp32 matmul per size, and its FLOPs."""
    steps = {}
    for n in (1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        steps[f"matmul {n}"] = ((lambda a=a, b=b: a @ b), 2.0 * n**3)
    return steps


def trainer_step(cfg):
    """(one real training step of `cfg` on random clips, FLOPs per clip, parameters)."""
    captions = [f"a {c} cube falls onto the floor and rolls {d}" for c in ("red", "blue") for d in ("left", "right")]
    model = build_model(cfg, Tokenizer.build(captions))
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(cfg.batch_size, 3, cfg.frames, cfg.height, cfg.width) * 2 - 1
    batch_captions = [captions[i % len(captions)] for i in range(cfg.batch_size)]
    count = [0]

    def step():
        loss, _, _ = flow.training_loss(model, x, batch_captions, gen, cond_prob=cfg.cond_prob)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        count[0] += 1
        update_ema(ema, model, count[0], cfg.ema_decay)

    return step, model.flops_per_clip(cfg.frames, cfg.height, cfg.width), sum(p.numel() for p in model.parameters())


def baseline_step():
    """The issue's reference: nn.TransformerEncoder, 6 layers, width 192, 512 tokens, batch 8 -> (step, FLOPs)."""
    layer = torch.nn.TransformerEncoderLayer(192, 3, 768, dropout=0.0, batch_first=True, norm_first=True)
    net = torch.nn.TransformerEncoder(layer, 6, enable_nested_tensor=False)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    x = torch.randn(8, 512, 192)

    def step():
        loss = net(x).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    weights = sum(p.numel() for p in net.parameters() if p.dim() == 2)
    return step, 8 * 3 * (2 * weights * 512 + 6 * 4 * 512 * 512 * 192)


def interleaved(steps: dict, rounds: int) -> dict:
    """Best seconds per call of each step, the steps taken in turn round after round, so that
    other load on a shared machine falls on all of them alike (two warm-up rounds untimed)."""
    best = {name: float("inf") for name in steps}
    for r in range(rounds + 2):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if r >= 2:
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def loader_rate(data: str, cfg, clips: int) -> float:
    """Clips/s the training stream delivers from real shards (decode, crop, resize, caption)."""
    from simreel import shards

    urls = shards.list_shards(data)
    caption_corpus(urls, 4, cfg.caption_kinds, cfg.languages)  # warm the file cache
    stream = batches(TrainClips(urls, ClipShape(cfg.frames, cfg.height, cfg.width), kinds=cfg.caption_kinds,
                                languages=cfg.languages, seed=0), cfg.batch_size, cfg.loader_workers)
    next(stream)  # worker start-up is paid once per run, not per clip
    start, n = time.perf_counter(), 0
    while n < clips:
        n += len(next(stream)[0])
    return n / (time.perf_counter() - start)


def generate_dataset(out: Path, clips: int, cfg) -> str:
    """configs/tiny.yaml scenes at the training clip's size and length (8 fps)."""
    env = {**os.environ, "PYOPENGL_PLATFORM": "egl", "RAY_AUTH_MODE": "disabled"}
    cmd = [sys.executable, "-c", "import sys; from simreel.cli import main; sys.exit(main())", "generate",
           str(ROOT / "configs" / "tiny.yaml"), "--out", str(out), f"num_samples={clips}", "clip.fps=8",
           f"clip.duration_s={cfg.frames / 8}", f"clip.resolution={cfg.width}x{cfg.height}"]
    print("generating a dataset:", " ".join(cmd[3:]), file=sys.stderr)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    return str(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a simreel dataset directory (default: generate one)")
    parser.add_argument("--config", default=str(ROOT / "configs" / "train-small.yaml"))
    parser.add_argument("--steps", type=int, default=8, help="timed rounds (each: one step of every kind)")
    parser.add_argument("--loader-clips", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = load_train(args.config)

    train_step, flops_per_clip, params = trainer_step(cfg)
    base_step, base_flops = baseline_step()
    matmuls = matmul_steps()
    best = interleaved({"small": train_step, "baseline": base_step, **{k: f for k, (f, _) in matmuls.items()}},
                       args.steps)
    peak = max(flops / best[name] for name, (_, flops) in matmuls.items())
    print(f"matmul peak (fp32, {args.threads} threads): {peak / 1e9:.1f} GFLOP/s")

    clips_per_s = cfg.batch_size / best["small"]
    tokens_per_s = clips_per_s * cfg.tokens_per_clip
    mfu = flops_per_clip * clips_per_s / peak
    print(f"small: {params / 1e6:.2f}M parameters, clips {cfg.frames}x{cfg.height}x{cfg.width}, patch {cfg.patch}, "
          f"{cfg.tokens_per_clip} tokens, batch {cfg.batch_size}, {flops_per_clip / 1e9:.2f} GFLOP a clip")
    print(f"small training: {clips_per_s:.2f} clips/s, {tokens_per_s:.0f} tokens/s, "
          f"{flops_per_clip * clips_per_s / 1e9:.1f} GFLOP/s = MFU {mfu:.1%} (floor 30%)")
    base_mfu = base_flops / best["baseline"] / peak
    print(f"baseline nn.TransformerEncoder 6x192, 512 tokens, batch 8: {8 / best['baseline']:.2f} clips/s, "
          f"MFU {base_mfu:.1%}; small's MFU is {mfu / base_mfu:.2f}x the baseline's")

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or generate_dataset(Path(tmp) / "dataset", 16, cfg)
        loader = loader_rate(data, cfg, args.loader_clips)
    print(f"loader: {loader:.1f} clips/s from real shards vs the trainer's {clips_per_s:.2f} clips/s: "
          f"{loader / clips_per_s:.1f}x the need (floor 3x)")
    print(json.dumps({
        "matmul_peak_flops": peak, "train_clips_per_s": clips_per_s, "train_tokens_per_s": tokens_per_s,
        "flops_per_clip": flops_per_clip, "mfu": mfu, "baseline_mfu": base_mfu, "mfu_vs_baseline": mfu / base_mfu,
        "loader_clips_per_s": loader, "loader_vs_need": loader / clips_per_s, "params": params,
        "mfu_floor_met": mfu >= 0.30, "loader_floor_met": loader >= 3 * clips_per_s}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
