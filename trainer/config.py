"""Training configuration: one flat frozen dataclass, read from YAML plus `key=value` overrides.

Flat so that every field can be overridden on the command line the same way
(`simreel train configs/train-small.yaml data=DIR out=DIR steps=2000 model=tiny`).
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from simreel.trainer.model import SIZES


class ConfigError(ValueError):
    """A training config that cannot run; the message says which key and why."""


@dataclass(frozen=True)
class TrainConfig:
    # data: the dataset directory (with manifest.json) and the run directory
    data: str = ""
    out: str = ""
    frames: int = 16  # clip the model sees: a random temporal crop ...
    height: int = 32  # ... resized to height x width
    width: int = 32
    caption_kinds: tuple[str, ...] = ("short", "dense")  # drawn uniformly per clip and step
    languages: tuple[str, ...] = ("en",)
    val_clips: int = 8  # first clips of the dataset, held out for the fixed-time loss
    # model: a named size, with optional overrides
    model: str = "tiny"
    dim: int | None = None
    depth: int | None = None
    heads: int | None = None
    patch: tuple[int, int, int] = (2, 4, 4)
    attention: str = "full"  # or "factorised"
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
    t_uniform: float = 0.0
    loss_t_min: float = 0.05
    sigma_data: float = 0.0  # > 0: EDM preconditioning (trainer/model.py)
    input_gate: bool = False
    object_weight: float = 1.0  # loss weight of object pixels (needs the dataset's ids), floor and sky 1
    # optimisation
    batch_size: int = 8  # per worker
    steps: int = 1000
    lr: float = 3e-4
    warmup: int = 100
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    # bookkeeping and resources
    log_every: int = 10
    ckpt_every: int = 250
    eval_every: int = 250
    workers: int = 1  # > 1: Ray Train's TorchTrainer runs this many DDP workers
    gpu: bool = False  # Ray Train workers get a GPU each
    threads: int = 0  # torch threads per worker; 0 leaves torch's default
    loader_workers: int = 1  # 1: clips decode in a separate process; 0: in the training process

    def __post_init__(self):
        def need(ok, msg):
            if not ok:
                raise ConfigError(msg)

        need(self.model in SIZES, f"model: unknown size {self.model!r}; choose one of {sorted(SIZES)}")
        need(self.attention in ("full", "factorised"), f"attention: 'full' or 'factorised', got {self.attention!r}")
        need(len(self.patch) == 3 and all(p >= 1 for p in self.patch), f"patch: three positive ints (t, h, w), got {self.patch}")
        for name, size, p in (("frames", self.frames, self.patch[0]), ("height", self.height, self.patch[1]),
                              ("width", self.width, self.patch[2])):
            need(size >= p and size % p == 0, f"{name}: {size} must be a positive multiple of its patch size {p}")
        for name in ("steps", "batch_size", "text_dim", "text_depth", "text_heads", "text_len", "log_every",
                     "ckpt_every", "eval_every", "workers", "vocab_clips"):
            need(getattr(self, name) >= 1, f"{name}: must be at least 1, got {getattr(self, name)}")
            need(getattr(self, name) >= 0, f"{name}: must not be negative, got {getattr(self, name)}")
        need(self.loader_workers in (0, 1), "loader_workers: 0 (decode in the trainer) or 1 (one decoding process)")
        for name in ("caption_dropout", "cond_prob", "ema_decay"):
            need(0.0 <= getattr(self, name) < 1.0, f"{name}: must be in [0, 1), got {getattr(self, name)}")
        need(self.lr > 0 and self.t_std > 0, "lr and t_std must be positive")
        need(set(self.caption_kinds) <= {"short", "dense"} and self.caption_kinds,
             f"caption_kinds: some of short, dense; got {list(self.caption_kinds)}")
        need(bool(self.languages), "languages: at least one, e.g. [en]")
        need(self.text_dim % self.text_heads == 0, f"text_dim {self.text_dim} must divide into {self.text_heads} heads")
        width = self.dim or SIZES[self.model]["width"]
        heads = self.heads or SIZES[self.model]["heads"]
        need(width % heads == 0 and (width // heads) % 2 == 0,
             f"dim {width} must split into {heads} heads of even size")

    @property
    def tokens_per_clip(self) -> int:
        return math.prod(n // p for n, p in zip((self.frames, self.height, self.width), self.patch))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Checked construction: unknown keys and wrong types are ConfigErrors naming the key."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(f"unknown key(s) {unknown}; known keys: {', '.join(fields)}")
        hints = typing.get_type_hints(cls)
        return cls(**{k: _coerce(k, v, hints[k]) for k, v in values.items()})

    def replace(self, **changes) -> "TrainConfig":
        return TrainConfig.from_dict({**self.to_dict(), **changes})


def _coerce(key, value, hint):
    """YAML value -> the field's type (lists become tuples); a mismatch names the key."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        inner = args[0]
        return tuple(_coerce(key, v, inner) for v in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" (no dot) as text
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected text, got {value!r}")
        return str(value)
    return value


def parse_overrides(items: list[str]) -> dict:
    """["steps=100", "patch=[1,4,4]"] -> {"steps": 100, "patch": [1, 4, 4]} (values read as YAML)."""
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as e:
            raise ConfigError(f"{key}: cannot read value {raw!r}: {e}") from None
    return out


def load_config(path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
    """A YAML file of TrainConfig keys (or None for the defaults), then `key=value` overrides."""
    values = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} not found")
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: expected a mapping of keys to values")
    values.update(parse_overrides(list(overrides)))
    try:
        return TrainConfig.from_dict(values)
    except ConfigError as e:
        raise ConfigError(f"{path or 'config'}: {e}") from None
