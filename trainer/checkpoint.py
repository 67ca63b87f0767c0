"""Checkpoints: everything a run needs to continue exactly, written so a crash never leaves half a file.

A checkpoint is one torch file holding plain values: config, tokenizer vocabulary, model
and EMA weights, optimiser and schedule state, step, and every random state (global torch,
numpy and python, each worker's training generator and data position).
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from simreel.trainer.config import TrainConfig
from simreel.trainer.model import TextToVideo, build_dit
from simreel.trainer.text import FrozenEncoder, TextEncoder, Tokenizer

CHECKPOINT = "checkpoint.pt"
# Keys a resumed run may change: where things are, how often it reports, how long it runs.
RESUMABLE_CHANGES = {"data", "out", "steps", "log_every", "ckpt_every", "eval_every", "threads", "loader_workers",
                     "ranks", "gpu"}


def build_model(cfg: TrainConfig, tokenizer: Tokenizer | None) -> TextToVideo:
    """The model a config describes: the learned text encoder (needs the tokenizer) or a frozen one."""
    if cfg.text_encoder == "learned":
        text = TextEncoder(tokenizer, cfg.text_dim, cfg.text_depth, cfg.text_heads, cfg.text_len)
    else:
        text = FrozenEncoder(cfg.text_encoder, cfg.text_len)
    dit = build_dit(cfg.model, width=cfg.dim, depth=cfg.depth, heads=cfg.heads, patch=tuple(cfg.patch),
                    attention=cfg.attention, context_dim=text.width)
    return TextToVideo(text, dit)


def save(path: Path, state: dict) -> None:
    """torch.save to a temporary name in the same directory, then an atomic rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # a truncated or foreign file
        raise ValueError(f"{path} is not a readable simreel checkpoint: {e}") from None


def global_rng_states() -> dict:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def set_global_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
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
