"""Every config simreel reads (dataset, training, loop) goes through this one loader: a
YAML file, then `key=value` overrides (values read as YAML; dotted keys reach nested
fields: `video.crf=23`, `train.steps=50`), then validation that reports every problem at
once, one line per field, as one ConfigError.

Stages receive plain values (DatasetConfig here, `trainer.config.TrainConfig`); only this
module parses and checks, so `simreel generate`, `train`, `loop` and `evaluate` read configs
alike.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simreel.render import MODALITIES
from simreel.shards.schema import KEY_DIGITS
from simreel.shards.video import CODECS, PRESETS, VideoCodec

if typing.TYPE_CHECKING:
    from simreel.scenes.holdout import Holdout

CAPTION_KINDS = ("short", "dense", "events", "qa")
CONTENT_FREE_FIELDS = ("name", "out", "license")  # change nothing in a sample, so not in the hash


class ConfigError(ValueError):
    """A config that cannot be used: one line per problem, naming the field, its value and what is allowed."""


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
class AssetsConfig:
    """`assets:` in a dataset config: mesh folders (paths or fsspec URLs), whether the built-in
    library and primitives stay in the pool, and which assets training never sees (the dataset's
    `split` says which side of them it is)."""

    paths: tuple[str, ...] = ()
    builtin: bool = True
    holdout: float | tuple[str, ...] = 0.0  # a fraction of the asset names, or the names

    def to_dict(self) -> dict:
        holdout = list(self.holdout) if isinstance(self.holdout, tuple) else self.holdout
        return {"paths": list(self.paths), "builtin": self.builtin, "holdout": holdout}


@dataclass(frozen=True)
class DatasetConfig:
    """What `simreel generate` makes; checked by `dataset_from_dict`."""

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
    motion_blur: int = 1  # sub-frames averaged per frame (1 = none)
    floors: tuple[str, ...] = ()  # world: floor kinds to draw from (scenes.worlds); () = the classic look, no world
    environments: tuple[str, ...] = ()
    textures: bool = False
    seed: int = 0
    name: str = "simreel-dataset"
    out: str | None = None
    license: str = "cc-by-4.0"
    assets: AssetsConfig | None = None  # None: primitives only (today's datasets, unchanged)
    holdout: Holdout | None = None  # regions of the scene space kept out of training (scenes.holdout)
    split: str = "train"  # held-out regions and assets: "train" holds none, "heldout" only them, "all" any

    @property
    def codec(self) -> VideoCodec:
        return VideoCodec(self.video_codec, self.video_crf, self.video_preset)

    @property
    def split_families(self) -> tuple[tuple[str, float], ...]:
        """The (family, weight) pairs this split draws from: a holdout keeps out the families its split
        cannot hold (scenes.holdout.Holdout.families); the others keep their weights."""
        if self.holdout is None:
            return self.families
        keep = self.holdout.families(self.split, [f for f, _ in self.families])
        return tuple((f, w) for f, w in self.families if f in keep)

    @property
    def num_shards(self) -> int:
        return math.ceil(self.num_samples / self.samples_per_shard)

    def to_dict(self) -> dict:
        """The YAML shape (dataset_from_dict(to_dict()) gives this config back)."""
        out = {
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
            "render": {"quality": self.render_quality, **({"motion_blur": self.motion_blur} if self.motion_blur > 1 else {})},
            **({"world": {"floors": list(self.floors), "environments": list(self.environments), "textures": self.textures}}
               if self.world else {}),  # only when set: the classic look keeps its config hash
            "out": self.out,
            "license": self.license,
            # only with a holdout, so configs without one keep their hash (and their finished shards)
            **({"holdout": self.holdout.to_dict()} if self.holdout else {}),
            **({"split": self.split} if self.holdout or self.assets or self.split != "train" else {}),
        }
        if self.assets is not None:  # only when asked for: other configs keep their hash
            out["assets"] = self.assets.to_dict()
        return out

    @property
    def world(self) -> bool:
        """Scenes are dressed in worlds (scenes.worlds.dress)."""
        return bool(self.floors)

    @property
    def hash(self) -> str:
        """16 hex of sha256 over everything that shapes the samples (not name, out, license)."""
        content = {k: v for k, v in self.to_dict().items() if k not in CONTENT_FREE_FIELDS}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- reading: one grammar for every config


def read(path: str | Path | None, overrides: list[str] = ()) -> dict:
    """The YAML mapping in `path` (or {} for None) with `key=value` overrides applied; every bad
    override is reported at once."""
    raw = read_yaml(path) if path is not None else {}
    bad = [item for item in overrides if not apply_override(raw, item)]
    if bad:
        raise ConfigError("\n".join(f"override {item!r} must look like key=value (nested: video.crf=23)"
                                    for item in bad))
    return raw


def read_yaml(path: str | Path) -> dict:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory; give a YAML file such as configs/tiny.yaml") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {e.start}); save it as UTF-8 YAML") from None
    except OSError as e:
        raise ConfigError(f"config file {path} cannot be read: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {path} is not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping of fields, not a {type(raw).__name__}")
    return raw


def apply_override(raw: dict, item: str) -> bool:
    """Set `a.b=value` in `raw` (value read as YAML, else kept as text); False if `item` is not key=value."""
    key, eq, value = item.partition("=")
    if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key):
        return False
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
    return True


class Checker:
    """Collects one line per bad field: `field: value is not allowed; what is`. A nested
    checker (`within("train")`) prefixes its fields and shares the list."""

    def __init__(self, prefix: str = "", problems: list[str] | None = None):
        self.prefix = prefix
        self.problems: list[str] = [] if problems is None else problems

    def within(self, section: str) -> "Checker":
        return Checker(f"{self.prefix}{section}.", self.problems)

    def bad(self, field: str, value: Any, allowed: str):
        where = f"{self.prefix}{field}".rstrip(".") or "config"  # field "": the whole mapping
        self.problems.append(f"{where}: {value!r} is not allowed; {allowed}")

    def need(self, ok: bool, field: str, value: Any, allowed: str) -> bool:
        if not ok:
            self.bad(field, value, allowed)
        return ok

    def typed(self, field: str, value: Any, hint, default):
        """`value` as the type `hint` names (YAML lists become tuples); the default if it is not one."""
        try:
            return _coerce(value, hint)
        except _Mismatch as e:
            self.bad(field, value, f"expected {e}")
            return default

    def done(self, what: str):
        if self.problems:
            raise ConfigError(f"invalid {what}:\n  " + "\n  ".join(self.problems))

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



_BAD = object()  # Checker.typed's answer for a value of the wrong type


class _Mismatch(Exception):
    """Raised by _coerce with what was expected."""


def _coerce(value, hint):
    """A YAML value -> the dataclass field type `hint` (int, float, str, bool, tuple[...], X | None)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise _Mismatch("a list")
        return tuple(_coerce(v, args[0]) for v in items)
    if hint is bool and not isinstance(value, bool):
        raise _Mismatch("true or false")
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise _Mismatch("an integer")
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" (no dot) as text
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Mismatch("a number")
        return float(value)
    if hint is str and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
        raise _Mismatch("text")
    return str(value) if hint is str else value


# ---------------------------------------------------------------- dataset configs


def load_dataset(path: str | Path | None = None, overrides: list[str] = (), *, out: str | None = None) -> DatasetConfig:
    """A dataset config file (or the defaults), overrides, then `--out` if given."""
    raw = read(path, overrides)
    if out is not None:
        raw["out"] = out
    return dataset_from_dict(raw, f"dataset config {path}" if path else "dataset config")


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
        "render", "world", "out", "license", "assets", "holdout", "split")


def dataset_from_dict(raw: dict, what: str = "dataset config") -> DatasetConfig:
    """Validate a YAML-shaped dict into a DatasetConfig, or raise ConfigError listing every problem."""
    c = Checker()
    config = _dataset(c, raw)
    c.done(what)
    return config


def _dataset(c: Checker, raw: dict) -> DatasetConfig:
    from simreel.scenes.types import VALID_FPS
    from simreel.scenes.worlds import ENVIRONMENTS, FLOORS

    raw = c.mapping("", raw, _TOP)
    clip = c.mapping("clip", raw.get("clip"), ("resolution", "fps", "duration_s"))
    captions = c.mapping("captions", raw.get("captions"), ("kinds", "languages"))
    video = c.mapping("video", raw.get("video"), ("codec", "crf", "preset"))
    render = c.mapping("render", raw.get("render"), ("quality", "motion_blur"))
    world = c.mapping("world", raw.get("world"), ("floors", "environments", "textures"))
    dressed = "world" in raw

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
    assets = _assets(c, raw["assets"]) if raw.get("assets") is not None else None
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
        motion_blur=c.int("render.motion_blur", render.get("motion_blur"), 1, 16, default=1),
        # a `world` section, even empty, dresses every scene: by default in any floor, sky and pattern
        floors=c.some_of("world.floors", world.get("floors", list(FLOORS)), FLOORS) if dressed else (),
        environments=c.some_of("world.environments", world.get("environments", list(ENVIRONMENTS)),
                               tuple(ENVIRONMENTS)) if dressed else (),
        textures=c.one_of("world.textures", world.get("textures"), (True, False), default=True) if dressed else False,
        seed=c.int("seed", raw.get("seed"), 0, 2**63 - 1, default=0),
        name=name if isinstance(name, str) else "simreel-dataset",
        out=out,
        license=license_ if isinstance(license_, str) else "cc-by-4.0",
        assets=assets,
        **_holdout(c, raw, families, bool(assets and assets.holdout)),
    )
    return config


def _assets(c: Checker, raw) -> AssetsConfig:
    if isinstance(raw, dict) and "split" in raw:  # its old place
        c.bad("assets.split", raw["split"], f"moved: write `split: {raw['split']}` at the top of the dataset "
              "config instead, where it governs held-out assets and held-out scene regions alike")
        raw = {k: v for k, v in raw.items() if k != "split"}
    raw = c.mapping("assets", raw, ("paths", "builtin", "holdout"))
    paths = raw.get("paths", [])
    paths = [paths] if isinstance(paths, str) else paths
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        c.bad("assets.paths", paths, "expected a list of folders or fsspec URLs (file://, s3://, gs://)")
        paths = []
    builtin = raw.get("builtin", True)
    if not isinstance(builtin, bool):
        c.bad("assets.builtin", builtin, "expected true or false")
        builtin = True
    if not builtin and not paths:
        c.bad("assets.builtin", builtin, "without the built-in library, give assets.paths to draw objects from")
    holdout = raw.get("holdout", 0.0)
    if isinstance(holdout, list) and all(isinstance(n, str) and n for n in holdout):
        holdout = tuple(holdout)
    elif not (isinstance(holdout, (int, float)) and not isinstance(holdout, bool) and 0 <= holdout < 1):
        c.bad("assets.holdout", holdout, "expected a fraction in [0, 1) or a list of asset names")
        holdout = 0.0
    else:
        holdout = float(holdout)
    return AssetsConfig(tuple(paths), builtin, holdout)


def _holdout(c: Checker, raw: dict, families, assets_held_out: bool) -> dict:
    """`holdout: {ranges: {FAMILY.QUANTITY: {min, max}}, combinations: [{key: value}]}` and `split` -> the
    DatasetConfig fields; every unknown name or value is reported with the valid ones. `split` is also the
    side of `assets.holdout` (`assets_held_out`: it holds some out)."""
    from simreel.scenes.holdout import ATTRIBUTES, QUANTITIES, SPLITS, Holdout, Range

    split = c.one_of("split", raw.get("split"), SPLITS, default="train")
    given = c.mapping("holdout", raw.get("holdout"), ("ranges", "combinations"))
    if not given:
        c.need(split != "heldout" or assets_held_out, "split", split,
               "a heldout split needs a `holdout` section or `assets.holdout` saying what is held out")
        return {"split": split}
    names = [f for f, _ in families]
    quantities = [f"{f}.{q}" for f in names for q in QUANTITIES]
    number = lambda x: isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)  # noqa: E731
    ranges = []
    for name, bounds in c.mapping("holdout.ranges", given.get("ranges"), quantities).items():
        ok = (isinstance(bounds, dict) and bool(bounds) and set(bounds) <= {"min", "max"}
              and all(number(v) for v in bounds.values()) and bounds.get("min", -math.inf) <= bounds.get("max", math.inf))
        if c.need(ok, f"holdout.ranges.{name}", bounds, "expected {min: A, max: B} (either may be left out), A <= B"):
            if name in quantities:
                ranges.append(Range(*name.split(".", 1), bounds.get("min"), bounds.get("max")))
    combinations = []
    listed = given.get("combinations", [])
    if not c.need(isinstance(listed, list), "holdout.combinations", listed, "expected a list of {key: value} mappings"):
        listed = []
    allowed = {"family": tuple(names), **ATTRIBUTES}
    for i, combo in enumerate(listed):
        field = f"holdout.combinations[{i}]"
        if not c.need(isinstance(combo, dict) and bool(combo), field, combo,
                      f"expected a mapping of some of {list(allowed)} to values, e.g. {{colour: red, shape: sphere}}"):
            continue
        bad = [k for k, v in combo.items() if k not in allowed or v not in allowed[k]]
        for k in bad:
            c.bad(f"{field}.{k}", combo[k], f"expected one of {list(allowed[k])}" if k in allowed
                  else f"unknown key; known keys are {list(allowed)}")
        if not bad:
            combinations.append(tuple(sorted((k, str(v)) for k, v in combo.items())))
    holdout = Holdout(tuple(ranges), tuple(combinations))
    if not c.problems and not holdout.families(split, names):
        c.bad("holdout", given, f"leaves no family of {names} for the {split} split")
    return {"holdout": holdout, "split": split}


def _families(c: Checker, value, allowed: list[str]) -> tuple[tuple[str, float], ...]:
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


def _resolutions(c: Checker, value) -> tuple[tuple[int, int], ...]:
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


def _fps(c: Checker, value, valid: tuple[int, ...]) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    bad = [f for f in items if not isinstance(f, int) or isinstance(f, bool) or f not in valid]
    if bad or not items:
        c.bad("clip.fps", value, f"expected frame rates (or a list) dividing the 240 Hz physics rate: {list(valid)}")
        return (24,)
    return tuple(dict.fromkeys(items))


def _duration(c: Checker, value) -> Choice:
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


# ---------------------------------------------------------------- training configs

_AT_LEAST_ONE = ("steps", "batch_size", "text_dim", "text_depth", "text_heads", "text_len", "log_every", "ckpt_every",
                 "eval_every", "ranks", "vocab_clips", "vocab_min_count", "autoencoder_steps", "autoencoder_width")
_NOT_NEGATIVE = ("warmup", "val_clips", "clips", "threads", "seed", "weight_decay", "grad_clip", "latent_channels")  # warmup 0: full lr at once
_FRACTIONS = ("caption_dropout", "cond_prob", "ema_decay", "t_uniform", "t_one")  # in [0, 1)


def load_train(path: str | Path | None = None, overrides: list[str] = ()):
    """A training config file (or the defaults), then overrides -> trainer.config.TrainConfig."""
    return train_from_dict(read(path, overrides), f"training config {path}" if path else "training config")


def train_from_dict(raw: dict, what: str = "training config"):
    c = Checker()
    config = _train(c, raw)
    c.done(what)
    return config


def _train(c: Checker, raw: dict):
    """A flat mapping of TrainConfig fields -> TrainConfig; every bad field gets one line in `c`."""
    from simreel.trainer.config import LATENT_FACTOR, TrainConfig
    from simreel.trainer.model import SIZES

    hints = typing.get_type_hints(TrainConfig)
    known = [f.name for f in fields(TrainConfig)]
    raw = c.mapping("", raw, known)
    values = {k: v for k in known if k in raw and (v := c.typed(k, raw[k], hints[k], _BAD)) is not _BAD}
    mistyped = {k for k in known if k in raw and k not in values}
    cfg = TrainConfig(**values)

    def need(ok: bool, field: str, allowed: str):  # a field already reported for its type is not reported again
        if field not in mistyped:
            c.need(ok, field, getattr(cfg, field), allowed)

    need(cfg.model in SIZES, "model", f"expected one of {sorted(SIZES)}")
    need(cfg.attention in ("full", "factorised"), "attention", "expected 'full' or 'factorised'")
    patch_ok = len(cfg.patch) == 3 and all(p >= 1 for p in cfg.patch)
    need(patch_ok, "patch", "expected three positive integers (t, h, w)")
    latent = LATENT_FACTOR if cfg.latent_channels else 1  # a latent cell covers 4x4 pixels
    for name, p in zip(("frames", "height", "width"), cfg.patch if patch_ok else (1, 1, 1)):
        size, p = getattr(cfg, name), p * (latent if name != "frames" else 1)
        need(size >= p and size % p == 0, name, f"expected a positive multiple of its patch size {p}"
             + (f" (pixels: {p // latent} latent cells of {latent})" if latent > 1 and name != "frames" else ""))
    for name in _AT_LEAST_ONE:
        need(getattr(cfg, name) >= 1, name, "expected an integer >= 1")
    for name in _NOT_NEGATIVE:
        need(getattr(cfg, name) >= 0, name, "expected a number >= 0")
    for name in _FRACTIONS:
        need(0.0 <= getattr(cfg, name) < 1.0, name, "expected a number in [0, 1)")
    for name in ("dim", "depth", "heads"):
        need(getattr(cfg, name) is None or getattr(cfg, name) >= 1, name, "expected an integer >= 1 (or null: the size's)")
    need(all(0 < s < cfg.steps for s in cfg.keep_steps), "keep_steps", f"expected steps between 0 and steps={cfg.steps}")
    need(cfg.lr > 0, "lr", "expected a positive learning rate")
    need(0 < cfg.lr_final <= 1, "lr_final", "expected the lr's share left at the end, in (0, 1] (1: constant)")
    need(cfg.t_std > 0, "t_std", "expected a positive spread")
    need(0 < cfg.loss_t_min <= 1, "loss_t_min", "expected a time in (0, 1]")
    need(cfg.object_weight > 0, "object_weight", "expected a positive weight (1: objects count like the floor)")
    need(cfg.loader_workers in (0, 1), "loader_workers", "expected 0 (decode in the trainer) or 1 (one decoding process)")
    need(bool(cfg.caption_kinds) and set(cfg.caption_kinds) <= {"short", "dense"}, "caption_kinds",
         "expected a non-empty list drawn from ['short', 'dense']")
    need(bool(cfg.languages), "languages", "expected at least one language, e.g. [en]")
    if cfg.text_heads >= 1:
        need(cfg.text_dim % cfg.text_heads == 0, "text_dim", f"expected a multiple of text_heads={cfg.text_heads}")
    if cfg.model in SIZES and all((getattr(cfg, n) or 1) >= 1 for n in ("dim", "heads")):
        width, heads = cfg.dim or SIZES[cfg.model]["width"], cfg.heads or SIZES[cfg.model]["heads"]
        need(width % heads == 0 and (width // heads) % 2 == 0, "dim" if cfg.dim else "heads",
             f"width {width} must split into {heads} heads of even size")
    return cfg


# ---------------------------------------------------------------- loop configs

# Training fields a study may vary: data, length, model size, and the objective's levers.
_STUDY_FIELDS = ("clips", "steps", "dim", "depth", "heads", "text_dim", "batch_size", "lr", "object_weight",
                 "t_uniform", "t_one", "loss_t_min", "caption_dropout", "cond_prob", "ema_decay")
SPLITS = ("train", "probe", "eval")  # model training clips; the probe's training clips; held-out clips
HELDOUT = "heldout"  # with a dataset.holdout, a fourth split: only held-out scenes (the generalisation study)
LOOP_SECTIONS = {  # the judge's and the report's sections, with every key they take and its default
    "probe": {"epochs": 30, "width": 32, "batch_size": 16},
    "sample": {"steps": 30, "guidance": 4.0, "prompts": 16,  # prompts: held-out captions generated for
               "continuation_guidance": 1.0},  # text guidance of continuations: more pulls objects off their paths
    "evaluate": {"context_frames": 4, "continuations": 8, "implausible": 4},  # clips continued (and re-rendered
    # as two takes); clips made implausible on purpose, per kind
    "report": {"gallery": 12, "pairs": 8},  # dataset clips shown; generated/real pairs shown
}


@dataclass(frozen=True)
class LoopConfig:
    """The whole loop in one YAML file. `dataset` and `train` are a dataset config and a
    training config as `simreel generate` and `simreel train` take them (`train` may name a
    training config file, `config: train-base.yaml`, relative to the loop config, and change
    some of its fields); the loop sets their sizes, seeds and paths."""

    name: str
    seed: int
    dataset: dict
    splits: dict  # split -> number of clips
    train: dict  # with any `config:` file already read in
    probe: dict  # LOOP_SECTIONS lists the keys of these four
    sample: dict
    evaluate: dict
    report: dict
    workers: int | None = None  # Ray workers generating shards (None: one per CPU)
    study: dict = dataclasses.field(default_factory=dict)  # training field -> values: one judged model each

    def study_points(self) -> list[tuple[str, Any]]:
        """(training field, value) of every model the study trains (or, for `steps`, keeps on the main run's way)."""
        return [(name, value) for name, values in self.study.items() for value in values]

    def main_value(self, name: str):
        """The main model's value of a study field: its place on that axis."""
        if name == "clips" and not self.train.get("clips"):
            return self.splits["train"] - self.train_config("unused", "unused").val_clips
        return getattr(self.train_config("unused", "unused"), name)

    @property
    def split_names(self) -> tuple[str, ...]:
        """The datasets generate makes: SPLITS, and HELDOUT when the dataset holds a region out."""
        return SPLITS + ((HELDOUT,) if HELDOUT in self.splits else ())

    def dataset_raw(self, split: str, out: str) -> dict:
        raw = {**{k: v for k, v in self.dataset.items() if k != "split"}, "name": f"{self.name} ({split})",
               "num_samples": self.splits[split], "seed": self.seed * 1000 + (*SPLITS, HELDOUT).index(split),
               "out": out}
        if "holdout" in self.dataset:  # only then: the stamps of loops without one stay as they were
            raw["split"] = HELDOUT if split == HELDOUT else "train"  # eval too: the in-distribution side
        weighted = split == "train" and self.train.get("object_weight", 1.0) != 1.0
        if split == "probe" or weighted:  # ids calibrate the tracker's colours / weight the model's loss
            raw["modalities"] = [m for m in MODALITIES if m in {"rgb", "ids", *raw.get("modalities", ["rgb"])}]
        if isinstance(raw.get("assets"), dict) and split in ("probe", "eval") and "holdout" not in self.dataset:
            raw["split"] = "all"  # held-out assets: never in training (with a holdout, the split above governs both)
        return raw

    def train_raw(self, data: str, out: str, **change) -> dict:
        """The main model's training config, or a study point's (`change`: one field changed). The
        main run keeps its checkpoints at the study's steps."""
        from simreel.trainer.config import TrainConfig

        steps = self.train.get("steps", TrainConfig.steps)
        kept = [s for s in self.study.get("steps", ()) if isinstance(s, int) and 0 < s < steps and not change]
        kept = {"keep_steps": sorted(kept)} if kept else {}  # study.steps outside that range is reported as such
        return {"seed": self.seed, **self.train, **kept, **change, "data": data, "out": out}

    def dataset_config(self, split: str, out: str) -> DatasetConfig:
        return dataset_from_dict(self.dataset_raw(split, out), f"loop dataset config ({split})")

    def train_config(self, data: str, out: str, **change):
        return train_from_dict(self.train_raw(data, out, **change), "loop training config")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def load_loop(path: str | Path, overrides: list[str] = ()) -> LoopConfig:
    """A loop config file, then overrides (`train.steps=200 splits.train=64`); a `train.config`
    file is read relative to the loop config's folder."""
    return loop_from_dict(read(path, overrides), f"loop config {path}", base=Path(path).parent)


def loop_from_dict(raw: dict, what: str = "loop config", base: Path = Path(".")) -> LoopConfig:
    c = Checker()
    known = [f.name for f in fields(LoopConfig)]
    raw = c.mapping("", raw, known)
    for section in ("dataset", "splits", "train"):
        c.need(isinstance(raw.get(section), dict), section, raw.get(section), "expected a mapping (a required section)")
    splits = raw.get("splits") if isinstance(raw.get("splits"), dict) else {}
    dataset = raw.get("dataset") if isinstance(raw.get("dataset"), dict) else {}
    names = SPLITS + ((HELDOUT,) if dataset.get("holdout") else ())
    why = (f" (dataset.holdout asks for the {HELDOUT} split: clips of held-out scenes)" if HELDOUT in names
           else f" (a {HELDOUT} split needs dataset.holdout saying what is held out)" if HELDOUT in splits else "")
    if not c.need(set(splits) == set(names) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 2
                                                    for n in splits.values()),
                  "splits", splits, f"expected clips (>= 2) for each of {list(names)}{why}"):
        splits = {s: 2 for s in names}  # to check the other sections with
    c.need("split" not in dataset, "dataset.split", dataset.get("split"),
           f"the loop sets it: {', '.join(SPLITS)} hold no held-out scene, {HELDOUT} only held-out ones; remove it")
    sections = {name: _section(c.within(name), raw.get(name), defaults) for name, defaults in LOOP_SECTIONS.items()}
    name = raw.get("name", "simreel loop")
    c.need(isinstance(name, str) and bool(name), "name", name, "expected a non-empty string")
    seed = c.int("seed", raw.get("seed"), 0, 2**31 - 1, default=0)
    workers = raw.get("workers")
    c.need(workers is None or (isinstance(workers, int) and not isinstance(workers, bool) and workers >= 1),
           "workers", workers, "expected a number of generation workers >= 1, or null for one per CPU")
    train = _train_section(c, raw.get("train"), base)
    study = c.mapping("study", raw.get("study") or {}, _STUDY_FIELDS)
    for key, values in study.items():
        if key in _STUDY_FIELDS:
            c.need(isinstance(values, list) and bool(values) and len(set(map(str, values))) == len(values),
                   f"study.{key}", values, "expected a list of distinct values, one model each")
    study = {k: v for k, v in study.items() if k in _STUDY_FIELDS and isinstance(v, list)}
    cfg = LoopConfig(name=name, seed=seed, dataset=dict(raw.get("dataset") or {}), splits=dict(splits), train=train,
                     workers=workers, study=study, **sections)
    if isinstance(raw.get("dataset"), dict):
        d = _dataset(c.within("dataset"), cfg.dataset_raw("train", "unused"))
    if isinstance(raw.get("train"), dict):
        t = _train(c.within("train"), cfg.train_raw("unused", "unused"))
    if not c.problems:
        _loop_fits(c, cfg, d, t)
    c.done(what)
    return cfg


def _section(c: Checker, given, defaults: dict) -> dict:
    """One of LOOP_SECTIONS: its defaults, with the given keys checked (integers, or numbers where the default is one)."""
    given = c.mapping("", given, defaults)
    values = dict(defaults)
    for key, value in given.items():
        if key in defaults:
            hint = type(defaults[key])
            values[key] = c.typed(key, value, hint, defaults[key])
            c.need(values[key] >= (1 if hint is int else 0), key, value, "expected a positive number")
    return values


def _train_section(c: Checker, train, base: Path) -> dict:
    """The loop's `train` mapping with its `config:` file (relative to `base`) read in beneath it."""
    if not isinstance(train, dict) or "config" not in train:
        return dict(train) if isinstance(train, dict) else {}
    rest = {k: v for k, v in train.items() if k != "config"}
    ref = train["config"]
    if not isinstance(ref, str) or not ref:
        c.bad("train.config", ref, "expected the path of a training config file, relative to the loop config")
        return rest
    try:
        return {**read_yaml(base / ref), **rest}
    except ConfigError as e:
        c.bad("train.config", ref, str(e))
        return rest


def _loop_fits(c: Checker, cfg: LoopConfig, d: DatasetConfig, t) -> None:
    """Checks across sections, made now rather than after the first stage has run for minutes."""
    shortest = min(d.fps) * d.duration_s.bounds()[0]
    c.need(shortest >= t.frames, "train.frames", t.frames,
           f"the shortest dataset clip has {shortest:g} frames: make clips longer or the model's shorter")
    judged = {s: cfg.splits[s] for s in ("eval", HELDOUT) if s in cfg.splits}  # both are judged alike
    for section, key in (("sample", "prompts"), ("evaluate", "continuations")):
        value = getattr(cfg, section)[key]
        c.need(value <= min(judged.values()), f"{section}.{key}", value,
               "expected at most " + " and ".join(f"splits.{s}={n}" for s, n in judged.items()))
    if HELDOUT in cfg.splits:
        _dataset(c.within("dataset"), cfg.dataset_raw(HELDOUT, "unused"))
    for name, value in cfg.study_points():
        _train(c.within("study"), cfg.train_raw("unused", "unused", **{name: value}))
        if name == "steps":
            c.need(isinstance(value, int) and 0 < value < t.steps, "study.steps", value,
                   f"expected steps below train.steps={t.steps} (kept on the main run's way)")
        if name == "clips":
            most = cfg.splits["train"] - t.val_clips
            c.need(isinstance(value, int) and 0 < value < most, "study.clips", value,
                   f"expected fewer clips than the {most} the main model trains on (splits.train - train.val_clips)")
    c.need(cfg.sample["prompts"] >= 2, "sample.prompts", cfg.sample["prompts"],
           "expected at least 2 (the shuffled-caption floor needs two)")
    k, pt = cfg.evaluate["context_frames"], t.patch[0]
    c.need(0 < k < t.frames and k % pt == 0, "evaluate.context_frames", k,
           f"expected a multiple of the temporal patch {pt} below train.frames={t.frames}")
