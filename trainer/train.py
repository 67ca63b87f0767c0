"""Training: one function, `train(cfg)`, the same in one process and on each Ray Train worker.

Read top to bottom like nanoGPT's train.py: set-up (distributed or not, resume or fresh),
data, model, EMA, optimiser, then the loop (step, log, evaluate, checkpoint). Under Ray
Train's TorchTrainer (`train_with_ray`) torch.distributed is already initialised; each
rank reads its share of the shards, DDP averages the gradients, rank 0 writes the files.
Messages go to the `logging` logger of this module; progress goes to the caller's `on_log`.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import json
import logging
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from simreel import shards
from simreel.trainer import checkpoint, flow
from simreel.trainer.autoencoder import downsample_weight, fit
from simreel.trainer.config import TrainConfig
from simreel.trainer.data import (ClipShape, TrainClips, batches, caption_corpus, check_length, first_keys,
                                  first_meta, heldout)
from simreel.trainer.text import Tokenizer

TIME_BINS = 5  # the training loss is also logged per diffusion-time bin [0, .2), [.2, .4), ...
METRICS, PLOT, WORKERS = "metrics.jsonl", "loss.png", "workers.json"
MAX_KEYS_LISTED = 10_000  # workers.json lists the clips each worker read per epoch, up to this many

log = logging.getLogger(__name__)


class TrainError(ValueError):
    """A run that cannot start as configured (no paths, another run's checkpoint, too few shards); says what to change."""


def train(cfg: TrainConfig, *, on_log: Callable[[int, dict], None] | None = None) -> dict:
    """Train (or resume) the run in cfg.out on the dataset in cfg.data; returns a summary.
    `on_log(step, record)` is called on rank 0 with each metrics record (the caller's progress display)."""
    # ---- set-up: who am I, where do I write, do I resume?
    distributed = dist.is_available() and dist.is_initialized()
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    device = torch.device(f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() else "cpu")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    if not cfg.out or not cfg.data:
        raise TrainError("both data=DIR (a dataset) and out=DIR (the run directory) are needed")
    ckpt_path = out / checkpoint.CHECKPOINT
    state = checkpoint.load(ckpt_path) if ckpt_path.exists() else None
    if state is not None:
        conflicts = checkpoint.resume_conflicts(state["config"], cfg)
        if conflicts:
            raise TrainError(f"{ckpt_path} belongs to a different run ({'; '.join(conflicts)}); "
                             "use the same config to resume, or a new out=DIR")
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)

    # ---- data: held-out clips first in dataset order, the rest streamed by rank
    urls = shards.list_shards(cfg.data)
    if len(urls) < world:
        raise TrainError(f"{cfg.data} has {len(urls)} shard(s) for ranks={world}: each rank needs one")
    shape = ClipShape(cfg.frames, cfg.height, cfg.width)
    meta = first_meta(urls)
    check_length(meta["key"], meta["num_frames"], cfg.frames)  # fail here, not in the loader process
    fps = meta["fps"]
    val_keys, val_videos, val_captions = heldout(urls, cfg.val_clips, shape, cfg.languages[0])
    subset = first_keys(urls, cfg.val_clips, cfg.clips) if cfg.clips else None

    # ---- model, EMA, optimiser (a fresh run seeds everything; a resumed one loads it all)
    torch.manual_seed(cfg.seed)
    if state is not None:
        tokenizer = Tokenizer(state["tokenizer"]) if state["tokenizer"] else None
    elif cfg.text_encoder == "learned":
        tokenizer = Tokenizer.build(caption_corpus(urls, cfg.vocab_clips, cfg.caption_kinds, cfg.languages),
                                    min_count=cfg.vocab_min_count)
    else:
        tokenizer = None
    model = checkpoint.build_model(cfg, tokenizer).to(device)
    if model.autoencoder is not None and state is None:  # first the frame autoencoder, then it stays frozen
        fit_autoencoder(cfg, model.autoencoder, urls, shape, val_keys, subset, rank)
    ema = copy.deepcopy(model).requires_grad_(False).eval()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                                  weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, functools.partial(lr_factor, cfg))
    gen = torch.Generator().manual_seed(int(np.random.SeedSequence([cfg.seed, rank]).generate_state(1)[0]))
    np.random.seed(cfg.seed)
    step, position = 0, (0, 0)
    if state is not None:
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        checkpoint.set_global_rng_states(state["rng"])
        if len(state["workers"]) == world:
            gen.set_state(state["workers"][rank]["generator"])
            position = tuple(state["workers"][rank]["position"])
        elif rank == 0:
            log.info(f"resuming a run of {len(state['workers'])} ranks on {world}: data order and noise restart")
    net = DDP(model) if distributed else model
    stream = batches(TrainClips(urls, shape, kinds=cfg.caption_kinds, languages=cfg.languages, seed=cfg.seed,
                                exclude=val_keys, only=subset, start=position, object_weight=cfg.object_weight),
                     cfg.batch_size, cfg.loader_workers)
    metrics = Metrics(out / METRICS, keep_until=step) if rank == 0 else None

    def save():
        workers = _gather({"generator": gen.get_state(), "position": position}, distributed)
        if rank == 0:
            checkpoint.save(ckpt_path, {
                "config": cfg.to_dict(), "tokenizer": tokenizer.vocab if tokenizer else None,
                "model": model.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(), "step": step, "fps": fps, "rng": checkpoint.global_rng_states(),
                "workers": workers})
            metrics.plot(out / PLOT)

    val_latents = model.to_latent(val_videos.to(device)).cpu() if len(val_videos) else val_videos

    def evaluate():
        if rank == 0 and len(val_latents):
            losses = flow.heldout_loss(ema, val_latents, val_captions)  # fixed noise: runs compare
            # the same clips, each with the next one's caption: no lower than the true captions' loss
            # unless the model reads its captions (the demo's of 2026-12 did not: within 2% at every t)
            swapped = flow.heldout_loss(ema, val_latents, val_captions[1:] + val_captions[:1])
            metrics.write({"step": step, "heldout": sum(losses.values()) / len(losses),
                           "heldout_by_t": {f"{t:g}": round(v, 6) for t, v in losses.items()},
                           "heldout_swapped_captions": sum(swapped.values()) / len(swapped),
                           "heldout_mean_clip": round(flow.mean_clip_loss(val_latents), 6)})

    # ---- the loop
    if rank == 0:
        log.info(f"{'resuming at step ' + str(step) if step else 'training'}: {_count(model):,} parameters, "
                 f"{len(urls)} shard(s), {world} rank(s), clips {cfg.frames}x{cfg.height}x{cfg.width}, "
                 f"{cfg.tokens_per_clip} tokens each, on {device}")
    tally, read, listed = LossWindow(), {}, 0
    try:
        while step < cfg.steps:
            videos, captions, keys, positions, weights = next(stream)
            position = positions[-1]
            for key, (epoch, _) in zip(keys, positions):
                if listed < MAX_KEYS_LISTED:
                    read.setdefault(epoch, []).append(key)
                    listed += 1
            model.train()
            latents = model.to_latent(videos.to(device, non_blocking=True))
            if model.autoencoder is not None and weights is not None:
                weights = downsample_weight(weights)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                loss, t, per_clip = flow.training_loss(
                    net, latents, captions, gen, caption_dropout=cfg.caption_dropout,
                    cond_prob=cfg.cond_prob, t_mean=cfg.t_mean, t_std=cfg.t_std, t_uniform=cfg.t_uniform, t_one=cfg.t_one,
                    loss_t_min=cfg.loss_t_min, pixel_weight=weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip or math.inf)
            optimizer.step()
            schedule.step()
            step += 1
            update_ema(ema, model, step, cfg.ema_decay)
            tally.add(loss.item(), t, per_clip.cpu(), grad_norm.item(), len(videos))
            if step % cfg.log_every == 0 or step == cfg.steps:
                record = {"step": step, "lr": schedule.get_last_lr()[0], **tally.flush(distributed, world)}
                if rank == 0:
                    metrics.write(record)
                    if on_log is not None:
                        on_log(step, record)
            paused = time.perf_counter()
            if step % cfg.eval_every == 0 or step == cfg.steps:
                evaluate()
            if step % cfg.ckpt_every == 0 or step == cfg.steps or step in cfg.keep_steps:
                save()
                if step in cfg.keep_steps and rank == 0:
                    checkpoint.keep(ckpt_path, step)
            tally.start += time.perf_counter() - paused  # clips/s counts training only
    except KeyboardInterrupt:
        if not distributed and step:
            save()  # the state after the last whole step: resuming continues exactly
            log.info(f"interrupted: saved step {step} to {ckpt_path}")
        raise
    # ---- what each worker did: the clips it read and a checksum of its weights (equal under DDP)
    checksum = sum(p.double().sum().item() for p in model.parameters())
    workers = _gather({"rank": rank, "read": {e: sorted(keys) for e, keys in read.items()},
                       "weights_checksum": checksum}, distributed)
    summary = {"step": step, "checkpoint": str(ckpt_path), "world": world,
               "loss": metrics.last_loss if metrics else None, "heldout": metrics.last_heldout if metrics else None}
    if rank == 0:
        (out / WORKERS).write_text(json.dumps({"summary": summary, "workers": workers}, indent=1))
    return summary


def fit_autoencoder(cfg: TrainConfig, autoencoder, urls, shape, val_keys, subset, rank: int) -> None:
    """Train the frame autoencoder on this rank's training clips (DDP then hands every rank rank 0's)."""
    clips = TrainClips(urls, shape, kinds=cfg.caption_kinds, languages=cfg.languages, seed=cfg.seed + 1,
                       exclude=val_keys, only=subset, object_weight=cfg.object_weight)
    gen = torch.Generator().manual_seed(cfg.seed)
    device = next(autoencoder.parameters()).device

    def log_progress(step, loss):
        if rank == 0:
            log.info(f"frame autoencoder: step {step}/{cfg.autoencoder_steps}, reconstruction loss {loss:.4f}")

    autoencoder.requires_grad_(True)
    fit(autoencoder, ((v.to(device), c, k, p, w if w is None else w.to(device))
                      for v, c, k, p, w in batches(clips, cfg.batch_size, cfg.loader_workers)),
        cfg.autoencoder_steps, lr=2e-3, gen=gen, log=log_progress)


def lr_factor(cfg, step: int) -> float:
    """Linear warm-up, then a cosine from 1 down to `lr_final`: a short run that ends at a small
    lr settles into the minimum it has found instead of rattling around it."""
    if step < cfg.warmup:
        return (step + 1) / (cfg.warmup + 1)
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr_final + (1.0 - cfg.lr_final) * 0.5 * (1.0 + math.cos(math.pi * progress))


def update_ema(ema, model, step: int, decay: float) -> None:
    """EMA with warm-up: decay min(decay, (1 + step) / (10 + step)), so early weights fade fast."""
    d = min(decay, (1 + step) / (10 + step))
    with torch.no_grad():
        torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1.0 - d)


class LossWindow:
    """Training figures since the last log line: loss, loss per time bin, grad norm, clips/s."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.losses, self.norms, self.clips, self.start = [], [], 0, time.perf_counter()
        self.bin_sum, self.bin_count = torch.zeros(TIME_BINS, dtype=torch.float64), torch.zeros(TIME_BINS, dtype=torch.float64)

    def add(self, loss, t, per_clip, grad_norm, clips):
        self.losses.append(loss)
        self.norms.append(grad_norm)
        self.clips += clips
        bins = (t * TIME_BINS).long().clamp(0, TIME_BINS - 1)
        self.bin_sum.index_add_(0, bins, per_clip.double())
        self.bin_count.index_add_(0, bins, torch.ones_like(per_clip, dtype=torch.float64))

    def flush(self, distributed: bool, world: int) -> dict:
        """Averages over the window (and over ranks: every rank must call this at the same steps)."""
        figures = torch.tensor([sum(self.losses) / len(self.losses), sum(self.norms) / len(self.norms),
                                *self.bin_sum.tolist(), *self.bin_count.tolist()], dtype=torch.float64)
        if distributed:
            dist.all_reduce(figures)
            figures[:2] /= world
        elapsed = time.perf_counter() - self.start
        sums, counts = figures[2: 2 + TIME_BINS], figures[2 + TIME_BINS:]
        record = {"loss": figures[0].item(), "grad_norm": round(figures[1].item(), 4),
                  "clips_per_s": round(self.clips * world / elapsed, 3),
                  "loss_by_t": {f"{i / TIME_BINS:.1f}-{(i + 1) / TIME_BINS:.1f}": round((s / c).item(), 6)
                                for i, (s, c) in enumerate(zip(sums, counts)) if c > 0}}
        self.reset()
        return record


class Metrics:
    """metrics.jsonl (one JSON object per line) and the loss-curve PNG. On resume the lines
    after the checkpoint's step are dropped, so the file is one consistent history."""

    def __init__(self, path: Path, keep_until: int):
        self.path = path
        self.records = []
        if path.exists():
            self.records = [r for r in map(json.loads, path.read_text().splitlines()) if r["step"] <= keep_until]
        path.write_text("".join(json.dumps(r) + "\n" for r in self.records))

    def write(self, record: dict):
        self.records.append(record)
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")

    @property
    def last_loss(self):
        return next((r["loss"] for r in reversed(self.records) if "loss" in r), None)

    @property
    def last_heldout(self):
        return next((r["heldout"] for r in reversed(self.records) if "heldout" in r), None)

    def plot(self, path: Path):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
        train = [(r["step"], r["loss"]) for r in self.records if "loss" in r]
        held = [(r["step"], r["heldout"]) for r in self.records if "heldout" in r]
        if train:
            ax.plot(*zip(*train), label="training loss", lw=1)
        if held:
            ax.plot(*zip(*held), "o-", label="held-out loss (fixed t)", lw=1.5)
        ax.set(xlabel="step", ylabel="flow-matching loss", yscale="log", title=path.parent.name)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path.with_name(path.name + ".tmp.png"))
        plt.close(fig)
        Path(path.with_name(path.name + ".tmp.png")).replace(path)


def _gather(obj, distributed: bool) -> list:
    if not distributed:
        return [obj]
    items = [None] * dist.get_world_size()
    dist.all_gather_object(items, obj)
    return items


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---- Ray Train: the same function on N workers

def train_with_ray(cfg: TrainConfig, *, on_log: Callable[[int, dict], None] | None = None) -> dict:
    """Run `train` under ray.train.torch.TorchTrainer on cfg.ranks DDP workers (CPU, or one GPU
    each when cfg.gpu), on the Ray the caller connected to (a stage never starts Ray itself).
    Paths must be visible to every worker (local disk on one machine, a shared filesystem on a
    cluster); rank 0 writes the checkpoint and metrics into cfg.out and calls `on_log` (so it
    must pickle)."""
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    if not ray.is_initialized():
        raise RuntimeError("train_with_ray needs Ray: connect first (simreel.cluster.connect)")
    cfg = dataclasses.replace(cfg, data=str(Path(cfg.data).resolve()) if "://" not in cfg.data else cfg.data,
                              out=str(Path(cfg.out).resolve()))
    trainer = TorchTrainer(
        functools.partial(_ray_worker, on_log=on_log), train_loop_config=cfg.to_dict(),
        scaling_config=ScalingConfig(num_workers=cfg.ranks, use_gpu=cfg.gpu),
        run_config=RunConfig(name="simreel-train", storage_path=str(Path(cfg.out) / "ray")))
    trainer.fit()
    return json.loads((Path(cfg.out) / WORKERS).read_text())["summary"]


def _ray_worker(config: dict, on_log=None) -> None:
    import ray.train

    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")  # this process's own logging
    summary = train(TrainConfig.from_dict(config), on_log=on_log)
    ray.train.report({"step": summary["step"]})
