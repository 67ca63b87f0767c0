"""Training configuration: one flat frozen dataclass, the value `train` runs from.

`simreel train configs/train-small.yaml data=DIR out=DIR steps=2000 model=tiny`: the file and
the overrides are read and checked by simreel's one config loader (simreel/config.py); this
stage only holds the value, and rebuilds it from a checkpoint's plain dict.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

LATENT_FACTOR = 4  # pixels per latent cell, each side (trainer/autoencoder.py)


@dataclass(frozen=True)
class TrainConfig:
    """Flat, so every field is overridden the same way on the command line. A plain value:
    `simreel.config.load_train` reads and checks it (every problem at once)."""

    # data: the dataset directory (with manifest.json) and the run directory
    data: str = ""
    out: str = ""
    frames: int = 16  # clip the model sees: a random temporal crop ...
    height: int = 32  # ... resized to height x width
    width: int = 32
    caption_kinds: tuple[str, ...] = ("short", "dense")  # drawn uniformly per clip and step
    languages: tuple[str, ...] = ("en",)
    val_clips: int = 8  # first clips of the dataset, held out for the fixed-time loss
    clips: int = 0  # train on the first this many clips after those (0: all): a study's data axis
    # model: a named size, with optional overrides
    model: str = "tiny"
    dim: int | None = None
    depth: int | None = None
    heads: int | None = None
    patch: tuple[int, int, int] = (2, 4, 4)
    attention: str = "full"  # or "factorised"
    conv_head: bool = False  # a zero-initialised 3x3 convolution after the patch decoder (trainer/model.py)
    latent_channels: int = 0  # > 0: learn in the latent space of a frame autoencoder (trainer/autoencoder.py)
    autoencoder_steps: int = 300  # ... trained first, on the training clips' frames, then frozen
    autoencoder_width: int = 16
    text_encoder: str = "learned"  # or the path of a local sentence-transformers model directory
    text_dim: int = 128
    text_depth: int = 2
    text_heads: int = 2
    text_len: int = 48  # caption tokens kept
    vocab_min_count: int = 1
    vocab_clips: int = 4096  # clips whose captions build the vocabulary
    # objective
    caption_dropout: float = 0.1
    cond_prob: float = 0.25  # chance a clip gets a clean prefix of frames to continue
    t_mean: float = 1.0  # logit-normal time sampling, shifted towards noise: see trainer/flow.py
    t_std: float = 1.0
    t_uniform: float = 0.0  # share of clips whose time is drawn uniformly (reaches t near 1)
    t_one: float = 0.0  # share of clips at t = 1 exactly: pure noise, where only the caption says what the clip holds
    loss_t_min: float = 0.05  # the velocity loss weighs clean-clip errors by 1/t^2, capped at t = this
    object_weight: float = 1.0  # loss weight of object pixels (needs the dataset's ids), floor and sky 1
    # optimisation
    batch_size: int = 8  # per worker
    steps: int = 1000
    lr: float = 3e-4
    warmup: int = 100
    lr_final: float = 1.0  # the lr's share left at the last step, reached by a cosine after warm-up (1: constant)
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    # bookkeeping and resources
    log_every: int = 10
    ckpt_every: int = 250
    keep_steps: tuple[int, ...] = ()  # steps whose checkpoint is also kept (checkpoint-STEP.pt): a study's steps axis
    eval_every: int = 250
    ranks: int = 1  # > 1: Ray Train's TorchTrainer runs this many DDP workers (ranks)
    gpu: bool = False  # Ray Train workers get a GPU each
    threads: int = 0  # torch threads per worker; 0 leaves torch's default
    loader_workers: int = 1  # 1: clips decode in a separate process; 0: in the training process

    @property
    def tokens_per_clip(self) -> int:
        f = LATENT_FACTOR if self.latent_channels else 1
        return math.prod(n // p for n, p in zip((self.frames, self.height // f, self.width // f), self.patch))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Back from `to_dict` (a checkpoint's or a Ray worker's copy, checked when first read): lists become tuples."""
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"a training config with fields this simreel does not know ({', '.join(unknown)}): "
                             "it was written by another version; train again with this one")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
