"""Checkpoints: everything a run needs to continue exactly, written so a crash never leaves half a file.

A checkpoint is one torch file holding plain values only: config (a dict), tokenizer vocabulary
(a list of words), model and EMA weights, optimiser and schedule state, step, and every random
state (global torch, numpy and python, each worker's training generator and data position), all
tensors, numbers, strings, lists and dicts. So it loads with `weights_only=True`: a checkpoint
is data, and a crafted one cannot run code (torch refuses any other pickled object).
"""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch

from simreel.trainer.autoencoder import FrameAutoencoder
from simreel.trainer.config import TrainConfig
from simreel.trainer.model import TextToVideo, build_dit
from simreel.trainer.text import FrozenEncoder, TextEncoder, Tokenizer

CHECKPOINT = "checkpoint.pt"
# Keys a resumed run may change: where things are, how often it reports, how long it runs.
RESUMABLE_CHANGES = {"data", "out", "steps", "log_every", "ckpt_every", "eval_every", "threads", "loader_workers",
                     "ranks", "gpu", "keep_steps"}


def build_model(cfg: TrainConfig, tokenizer: Tokenizer | None) -> TextToVideo:
    """The model a config describes: the learned text encoder (needs the tokenizer) or a frozen one."""
    if cfg.text_encoder == "learned":
        text = TextEncoder(tokenizer, cfg.text_dim, cfg.text_depth, cfg.text_heads, cfg.text_len)
    else:
        text = FrozenEncoder(cfg.text_encoder, cfg.text_len)
    dit = build_dit(cfg.model, width=cfg.dim, depth=cfg.depth, heads=cfg.heads, patch=tuple(cfg.patch),
                    attention=cfg.attention, context_dim=text.width, conv_head=cfg.conv_head,
                    channels=cfg.latent_channels or 3)
    autoencoder = None
    if cfg.latent_channels:
        autoencoder = FrameAutoencoder(cfg.latent_channels, cfg.autoencoder_width).requires_grad_(False)
    return TextToVideo(text, dit, autoencoder)


def save(path: Path, state: dict) -> None:
    """torch.save to a temporary name in the same directory, then an atomic rename (a failed write, a full
    disk say, leaves the previous checkpoint as it was and no temporary behind)."""
    _atomically(Path(path), lambda tmp: torch.save(state, tmp))


def kept(out: str | Path, step: int) -> Path:
    """Where a run keeps its checkpoint of `step` (TrainConfig.keep_steps)."""
    return Path(out) / f"checkpoint-{step}.pt"


def keep(path: Path, step: int) -> None:
    """Copy the checkpoint just saved at `path` to `kept(path.parent, step)`, atomically like `save`."""
    _atomically(kept(path.parent, step), lambda tmp: shutil.copyfile(path, tmp))


def _atomically(path: Path, write) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file, or one holding more than plain data
        why = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        if "Unsupported global" in str(e) or "Weights only load failed" in why:
            why = ("it holds pickled objects besides tensors and plain values, which are never loaded; "
                   "simreel before 2026-11-28 stored numpy's random state that way")
        raise ValueError(f"{path} is not a readable simreel checkpoint ({why[:200]}); "
                         "give a checkpoint.pt written by `simreel train`") from None


def global_rng_states() -> dict:
    """Every global random state as plain values (numpy's key array as a list of ints)."""
    state = np.random.get_state(legacy=False)
    numpy = {"bit_generator": state["bit_generator"], "key": state["state"]["key"].tolist(),
             "pos": int(state["state"]["pos"]), "has_gauss": int(state["has_gauss"]), "gauss": float(state["gauss"])}
    return {"torch": torch.get_rng_state(), "numpy": numpy, "python": random.getstate()}


def set_global_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    n = states["numpy"]
    np.random.set_state({"bit_generator": n["bit_generator"], "has_gauss": n["has_gauss"], "gauss": n["gauss"],
                         "state": {"key": np.array(n["key"], dtype=np.uint32), "pos": n["pos"]}})
    random.setstate(states["python"])


def resume_conflicts(saved: dict, cfg: TrainConfig) -> list[str]:
    """Config differences that would make a resumed run a different run."""
    now = cfg.to_dict()
    return [f"{k}: checkpoint has {saved.get(k)!r}, config has {now[k]!r}"
            for k in sorted(now) if k not in RESUMABLE_CHANGES and _plain(saved.get(k)) != _plain(now[k])]


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def load_for_sampling(path: str | Path, ema: bool = True) -> tuple[TextToVideo, TrainConfig, dict]:
    """(model in eval mode with EMA weights unless ema=False, its config, {"step", "fps"})."""
    state = load(path)
    cfg = TrainConfig.from_dict(state["config"])
    model = build_model(cfg, Tokenizer(state["tokenizer"]) if state.get("tokenizer") else None)
    model.load_state_dict(state["ema" if ema else "model"])
    return model.eval().requires_grad_(False), cfg, {"step": state["step"], "fps": state["fps"]}
