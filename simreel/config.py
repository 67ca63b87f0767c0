"""Dataset configs: YAML files plus `key=value` overrides, validated whole before any work.

A config names what to make (families and their weights, clip formats, modalities,
captions), how to pack it (samples per shard, codec) and where (out). Every problem is
reported at once, each naming the field, the value and what is allowed.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simreel.shards.schema import KEY_DIGITS
from simreel.shards.video import CODECS, PRESETS, VideoCodec

MODALITIES = ("rgb", "depth", "ids", "flow")
CAPTION_KINDS = ("short", "dense", "events", "qa")
CONTENT_FREE_FIELDS = ("name", "out", "license")  # change nothing in a sample, so not in the hash


class ConfigError(ValueError):
    """One or more config fields are wrong; the message has a line per field."""


@dataclass(frozen=True)
class Choice:
    """A per-sample value: fixed, picked uniformly from a list, or drawn uniformly from [low, high]."""

    values: tuple = ()
    low: float | None = None
    high: float | None = None

    def draw(self, rng: np.random.Generator):
        if self.values:
            return self.values[int(rng.integers(len(self.values)))] if len(self.values) > 1 else self.values[0]
        return round(float(rng.uniform(self.low, self.high)), 6)

    def bounds(self) -> tuple[float, float]:
        return (min(self.values), max(self.values)) if self.values else (self.low, self.high)

    def to_yaml(self):
        if self.values:
            return self.values[0] if len(self.values) == 1 else list(self.values)
        return {"min": self.low, "max": self.high}


@dataclass(frozen=True)
class DatasetConfig:
    num_samples: int
    samples_per_shard: int
    families: tuple[tuple[str, float], ...]  # (family, weight), weights > 0
    resolutions: tuple[tuple[int, int], ...]  # (width, height), even
    fps: tuple[int, ...]
    duration_s: Choice
    modalities: tuple[str, ...]
    caption_kinds: tuple[str, ...]
    languages: tuple[str, ...]
    video_codec: str = "h264"
    video_crf: int = 18
    video_preset: str = "medium"
    render_quality: str = "default"
    seed: int = 0
    name: str = "simreel-dataset"
    out: str | None = None
    license: str = "cc-by-4.0"

    @property
    def codec(self) -> VideoCodec:
        return VideoCodec(self.video_codec, self.video_crf, self.video_preset)

    @property
    def num_shards(self) -> int:
        return math.ceil(self.num_samples / self.samples_per_shard)

    def to_dict(self) -> dict:
        """The YAML shape (load_config(to_dict()) gives this config back)."""
        return {
            "name": self.name,
            "seed": self.seed,
            "num_samples": self.num_samples,
            "samples_per_shard": self.samples_per_shard,
            "families": dict(self.families),
            "clip": {
                "resolution": [f"{w}x{h}" for w, h in self.resolutions],
                "fps": list(self.fps),
                "duration_s": self.duration_s.to_yaml(),
            },
            "modalities": list(self.modalities),
            "captions": {"kinds": list(self.caption_kinds), "languages": list(self.languages)},
            "video": {"codec": self.video_codec, "crf": self.video_crf, "preset": self.video_preset},
            "render": {"quality": self.render_quality},
            "out": self.out,
            "license": self.license,
        }

    @property
    def hash(self) -> str:
        """16 hex of sha256 over everything that shapes the samples (not name, out, license)."""
        content = {k: v for k, v in self.to_dict().items() if k not in CONTENT_FREE_FIELDS}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- loading


def load_config(path: str | Path | None = None, overrides: list[str] = (), *, out: str | None = None) -> DatasetConfig:
    """Read a YAML config (or start from an empty one), apply `key=value` overrides
    (dotted keys reach nested fields: `video.crf=23`), then validate everything."""
    raw: dict = {}
    if path is not None:
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"config file {path} is not valid YAML: {e}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {path} must hold a mapping of fields, not a {type(raw).__name__}")
    for item in overrides:
        apply_override(raw, item)
    if out is not None:
        raw["out"] = out
    return from_dict(raw)


def apply_override(raw: dict, item: str) -> None:
    key, eq, value = item.partition("=")
    if not eq or not key or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key):
        raise ConfigError(f"override {item!r} must look like key=value (nested: video.crf=23)")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    *parents, leaf = key.split(".")
    node = raw
    for p in parents:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[leaf] = parsed


class _Checker:
    """Collects one line per bad field: `field: value is not allowed; allowed: ...`."""

    def __init__(self):
        self.problems: list[str] = []

    def bad(self, field: str, value: Any, allowed: str):
        self.problems.append(f"{field}: {value!r} is not allowed; {allowed}")

    def int(self, field, value, low, high=None, default=None):
        if value is None and default is not None:
            return default
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high)
        if not ok:
            self.bad(field, value, f"expected an integer >= {low}" + (f" and <= {high}" if high is not None else ""))
            return default if default is not None else low
        return value

    def one_of(self, field, value, allowed, default=None):
        if value is None and default is not None:
            return default
        if value not in allowed:
            self.bad(field, value, f"expected one of {list(allowed)}")
            return default if default is not None else next(iter(allowed))
        return value

    def some_of(self, field, value, allowed, required=()):
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or any(v not in allowed for v in values):
            self.bad(field, value, f"expected a non-empty list drawn from {list(allowed)}")
            return tuple(required) or (next(iter(allowed)),)
        if len(set(values)) != len(values):
            self.bad(field, value, "expected each entry once")
        for r in required:
            if r not in values:
                self.bad(field, value, f"must include {r!r}")
        return tuple(dict.fromkeys([*required, *values]))

    def mapping(self, field, value, allowed_keys) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.bad(field, value, "expected a mapping")
            return {}
        for k in value:
            if k not in allowed_keys:
                self.bad(f"{field}.{k}" if field else k, value[k], f"unknown field; known fields are {sorted(allowed_keys)}")
        return value


def _allowed_families() -> list[str]:
    from simreel import scenes

    return list(scenes.family_names())


def _allowed_languages() -> tuple[str, ...]:
    from simreel.captioning.types import LANGUAGES

    return LANGUAGES


def _allowed_qualities() -> list[str]:
    from simreel.render.quality import QUALITIES

    return sorted(QUALITIES)


_TOP = ("name", "seed", "num_samples", "samples_per_shard", "families", "clip", "modalities", "captions", "video",
        "render", "out", "license")


def from_dict(raw: dict) -> DatasetConfig:
    """Validate a YAML-shaped dict into a DatasetConfig, or raise ConfigError listing every problem."""
    from simreel.scenes.types import VALID_FPS

    c = _Checker()
    raw = c.mapping("", raw, _TOP)
    clip = c.mapping("clip", raw.get("clip"), ("resolution", "fps", "duration_s"))
    captions = c.mapping("captions", raw.get("captions"), ("kinds", "languages"))
    video = c.mapping("video", raw.get("video"), ("codec", "crf", "preset"))
    render = c.mapping("render", raw.get("render"), ("quality",))

    num_samples = c.int("num_samples", raw.get("num_samples"), 1, 10**KEY_DIGITS)  # keys stay fixed-width
    per_shard = c.int("samples_per_shard", raw.get("samples_per_shard"), 1, default=1000)
    families = _families(c, raw.get("families"), _allowed_families())
    resolutions = _resolutions(c, clip.get("resolution", "64x64"))
    fps = _fps(c, clip.get("fps", 24), VALID_FPS)
    duration = _duration(c, clip.get("duration_s", 2.0))
    shortest = min(fps) * duration.bounds()[0]
    if shortest < 2 - 1e-9:
        c.bad("clip.duration_s", clip.get("duration_s", 2.0), f"clips need >= 2 frames; at {min(fps)} fps that is "
              f">= {2 / min(fps):g} s")
    name = raw.get("name", "simreel-dataset")
    if not isinstance(name, str) or not name:
        c.bad("name", name, "expected a non-empty string")
    out = raw.get("out")
    if out is not None and (not isinstance(out, str) or not out):
        c.bad("out", out, "expected a path or URL (file://, s3://, gs://)")
    license_ = raw.get("license", "cc-by-4.0")
    if not isinstance(license_, str) or not license_:
        c.bad("license", license_, "expected a license identifier such as cc-by-4.0")
    config = DatasetConfig(
        num_samples=num_samples,
        samples_per_shard=per_shard,
        families=families,
        resolutions=resolutions,
        fps=fps,
        duration_s=duration,
        modalities=c.some_of("modalities", raw.get("modalities", ["rgb"]), MODALITIES, required=("rgb",)),
        caption_kinds=c.some_of("captions.kinds", captions.get("kinds", list(CAPTION_KINDS)), CAPTION_KINDS,
                                required=("short",)),
        languages=c.some_of("captions.languages", captions.get("languages", ["en"]), _allowed_languages()),
        video_codec=c.one_of("video.codec", video.get("codec"), CODECS, default="h264"),
        video_crf=c.int("video.crf", video.get("crf"), 0, 51, default=18),
        video_preset=c.one_of("video.preset", video.get("preset"), PRESETS, default="medium"),
        render_quality=c.one_of("render.quality", render.get("quality"), _allowed_qualities(), default="default"),
        seed=c.int("seed", raw.get("seed"), 0, 2**63 - 1, default=0),
        name=name if isinstance(name, str) else "simreel-dataset",
        out=out,
        license=license_ if isinstance(license_, str) else "cc-by-4.0",
    )
    if c.problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(c.problems))
    return config


def _families(c: _Checker, value, allowed: list[str]) -> tuple[tuple[str, float], ...]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        value = {f: 1.0 for f in value} if all(isinstance(f, str) for f in value) else value
    if not isinstance(value, dict) or not value:
        c.bad("families", value, f"expected a list of families or a mapping family: weight, families being {allowed}")
        return ((allowed[0] if allowed else "?", 1.0),)
    out = []
    for name, weight in value.items():
        if name not in allowed:
            c.bad(f"families.{name}", weight, f"unknown family {name!r}; known families are {allowed}")
        elif not isinstance(weight, (int, float)) or isinstance(weight, bool) or not weight > 0 or weight == math.inf:
            c.bad(f"families.{name}", weight, "expected a positive weight")
        else:
            out.append((name, float(weight)))
    return tuple(sorted(out)) or ((allowed[0] if allowed else "?", 1.0),)


def _resolutions(c: _Checker, value) -> tuple[tuple[int, int], ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(item)) if isinstance(item, (str, int)) else None
        w, h = (int(m[1]), int(m[2])) if m else (0, 0)
        if not m or not (16 <= w <= 4096 and 16 <= h <= 4096) or w % 2 or h % 2:
            c.bad("clip.resolution", item, "expected 'WIDTHxHEIGHT' with even sizes in 16..4096 (video codecs "
                  "reject odd sizes), or a list of them")
        else:
            out.append((w, h))
    if not items:
        c.bad("clip.resolution", value, "expected at least one resolution")
    return tuple(dict.fromkeys(out)) or ((64, 64),)


def _fps(c: _Checker, value, valid: tuple[int, ...]) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    bad = [f for f in items if not isinstance(f, int) or isinstance(f, bool) or f not in valid]
    if bad or not items:
        c.bad("clip.fps", value, f"expected frame rates (or a list) dividing the 240 Hz physics rate: {list(valid)}")
        return (24,)
    return tuple(dict.fromkeys(items))


def _duration(c: _Checker, value) -> Choice:
    def ok(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x <= 120

    allowed = "expected seconds in (0, 120]: a number, a list to pick from, or {min: A, max: B}"
    if isinstance(value, dict):
        low, high = value.get("min"), value.get("max")
        if set(value) != {"min", "max"} or not ok(low) or not ok(high) or low > high:
            c.bad("clip.duration_s", value, allowed)
            return Choice((2.0,))
        return Choice(low=float(low), high=float(high))
    items = value if isinstance(value, list) else [value]
    if not items or not all(ok(x) for x in items):
        c.bad("clip.duration_s", value, allowed)
        return Choice((2.0,))
    return Choice(tuple(float(x) for x in dict.fromkeys(items)))
