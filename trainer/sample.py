"""Sampling from a checkpoint: prompts (optionally the first frames of a clip) -> uint8 videos -> files."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from simreel import shards
from simreel.trainer import checkpoint, flow
from simreel.trainer.data import ClipShape, to_tensor
from simreel.trainer.text import words


class PromptError(ValueError):
    """A prompt the model cannot take (empty)."""


def check_prompts(prompts: list[str], tokenizer, length: int | None = None) -> list[str]:
    """Errors for empty prompts; returns warnings to show the user: unknown words (all of them: the model
    then reads no text at all), and a prompt longer than the `length` tokens the model reads."""
    if not prompts:
        raise PromptError("give at least one prompt")
    warnings = []
    for i, p in enumerate(prompts, 1):
        if not p.strip():
            raise PromptError(f"prompt {i} is empty; describe the clip, e.g. \"a red cube falls onto the floor\"")
        if tokenizer is None:
            continue
        unknown, seen = tokenizer.unknown(p), [w for w in words(p) if w[0].isalnum()]
        if unknown and len(unknown) == len(seen):
            warnings.append(f"prompt {i}: no word of it was seen in training, so the model reads no text; use the "
                            "training captions' words, e.g. \"a red cube falls onto the floor\"")
        elif unknown:
            warnings.append(f"prompt {i}: words never seen in training, read as unknown: {', '.join(unknown)}")
        tokens = 1 + len(words(p))  # the start token, then one per word or mark
        if length is not None and tokens > length:
            warnings.append(f"prompt {i} is {tokens} tokens long and the model reads {length}: the end is cut off "
                            f"(from {' '.join(words(p)[length - 1:length + 2])!r})")
    return warnings


def sample_videos(model, prompts: list[str], shape: ClipShape, *, steps: int = 30, guidance: float = 3.0,
                  seed: int = 0, first: torch.Tensor | None = None, batch_size: int = 8) -> list[np.ndarray]:
    """Prompts -> uint8 videos [T, H, W, 3], in batches seeded seed + (index of the batch's first prompt).
    `first` [len(prompts), 3, k, H, W] in [-1, 1]: the first frames each prompt's video continues."""
    if first is not None and len(first) != len(prompts):
        raise ValueError(f"{len(first)} sets of first frames for {len(prompts)} prompts: give one set per prompt")
    videos = []
    for i in range(0, len(prompts), batch_size):
        x = flow.sample(model, prompts[i: i + batch_size], shape.frames, shape.height, shape.width, steps=steps,
                        guidance=guidance, seed=seed + i, first=None if first is None else first[i: i + batch_size])
        videos += list(((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 4, 1).cpu().numpy())
    return videos


def read_first_frames(path: str | Path, count: int, shape: ClipShape) -> torch.Tensor:
    """The first `count` frames of a video file, at the model's size -> [3, count, H, W] in [-1, 1]."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--first-frames: no such clip {path}")
    video = shards.decode_video(path.read_bytes())
    if len(video) < count:
        raise ValueError(f"--first-frames: {path} has {len(video)} frames, {count} are needed")
    return to_tensor(video, ClipShape(count, shape.height, shape.width))


def write(videos: list[np.ndarray], prompts: list[str], out: str | Path, fps: int, scale: int = 1) -> list[Path]:
    """FILE.gif / FILE.mp4: one captioned grid of all prompts (or the plain video for one prompt
    as mp4); any other name is a directory receiving one mp4 per prompt. Returns the files written."""
    out = Path(out)
    if scale > 1:
        videos = [v.repeat(scale, axis=1).repeat(scale, axis=2) for v in videos]
    if out.suffix.lower() in (".gif", ".mp4"):
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".mp4" and len(videos) == 1:
            _write(out, shards.encode_video(videos[0], fps))
            return [out]
        from simreel.shards.preview import animation, gif_bytes

        cell = max(128, max(v.shape[1] for v in videos))
        frames = animation([(str(i), v, p) for i, (v, p) in enumerate(zip(videos, prompts))], cell=cell)
        if out.suffix.lower() == ".gif":
            _write(out, gif_bytes(frames, fps))
        else:
            _write(out, shards.encode_video(np.stack([np.asarray(f) for f in frames]), fps))
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for i, (video, prompt) in enumerate(zip(videos, prompts)):
        slug = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:48] or "prompt"
        files.append(out / f"{i:02d}-{slug}.mp4")
        _write(files[-1], shards.encode_video(video, fps))
    return files


def _write(path: Path, data: bytes) -> None:
    """A temporary name, then a rename: a full disk never leaves half a video where the last one was."""
    from simreel.shards import storage

    storage.write_atomic(str(path), data)


def load(path: str | Path, ema: bool = True):
    """(model, config, {"step", "fps"}) from a checkpoint file or run directory, on the GPU if there is one."""
    model, cfg, info = checkpoint.load_for_sampling(path, ema=ema)
    return (model.cuda() if torch.cuda.is_available() else model), cfg, info
