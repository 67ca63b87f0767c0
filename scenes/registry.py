"""The family registry: name -> sampler, filled by `register_family` wherever it is used.

Our families register on `import scenes`. A user's families live in their own module
and are found either by importing it (`load_plugins(["mypkg.families"])`, or
`simreel scene --plugin mypkg.families`) or, for every process including Ray
workers, through the entry-point group `simreel.families`, loaded on first lookup.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from importlib import metadata
from typing import Callable

import numpy as np

from simreel.scenes.types import ClipFormat, SceneSpec, Trajectory

ENTRY_POINT_GROUP = "simreel.families"
Sampler = Callable[[np.random.Generator, ClipFormat], SceneSpec]
Promise = Callable[[SceneSpec, Trajectory], "str | None"]


@dataclass(frozen=True)
class Family:
    """A registered family; calling it samples a spec (family/seed stamped by `scenes.sample`)."""

    name: str
    sampler: Sampler
    promise: Promise  # (spec, trajectory) -> None if kept, else what did not happen
    summary: str

    def __call__(self, rng: np.random.Generator, clip: ClipFormat) -> SceneSpec:
        return self.sampler(rng, clip)


FAMILIES: dict[str, Family] = {}
_entry_points_loaded = False


def _no_promise(spec: SceneSpec, trajectory: Trajectory) -> None:
    return None


def register_family(name: str, *, promise: Promise | None = None):
    """Decorator registering `sampler(rng, clip) -> SceneSpec` as family `name`.

    `promise(spec, trajectory)` returns None when the clip shows what the family
    promises, else a short description of what is missing; `scenes.make` rejects and
    resamples such clips.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"family name {name!r} must be lowercase letters, digits and _ (it ends up in keys)")

    def decorate(sampler: Sampler) -> Sampler:
        existing = FAMILIES.get(name)
        where = f"{sampler.__module__}.{sampler.__qualname__}"
        if existing is not None and f"{existing.sampler.__module__}.{existing.sampler.__qualname__}" != where:
            raise ValueError(f"family {name!r} is already registered by {existing.sampler.__module__}; pick another name")
        summary = next(iter((sampler.__doc__ or "").strip().splitlines()), "")
        FAMILIES[name] = Family(name, sampler, promise or _no_promise, summary)
        return sampler

    return decorate


def load_plugins(modules=()) -> None:
    """Import modules that register families (and, once, the `simreel.families` entry points)."""
    global _entry_points_loaded
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise ValueError(f"cannot import family plugin module {module!r}: {e}") from e
    if not _entry_points_loaded:
        _entry_points_loaded = True
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
            try:
                ep.load()
            except Exception as e:  # a broken plugin must say which one it is
                raise ValueError(f"family plugin entry point {ep.name!r} ({ep.value}) failed to load: {e}") from e


def get_family(name: str) -> Family:
    if name not in FAMILIES:
        load_plugins()
    if name not in FAMILIES:
        raise ValueError(f"unknown scene family {name!r}; choose one of {family_names()}")
    return FAMILIES[name]


def family_names() -> tuple[str, ...]:
    load_plugins()
    return tuple(sorted(FAMILIES))
