"""Held-out regions of the scene space, for asking whether a model generalises.

A dataset config may hold out
- ranges of a family's starting quantities (`throw.speed_mps: {min: 4.0, max: 6.0}`): out of range;
- combinations of seen values (`{colour: red, shape: sphere}`: one object that is both; `family`
  narrows it to one family): combinatorial.

A training split never contains a held-out scene; a `heldout` split contains nothing else; `all`
screens nothing. (The same `split` keeps held-out assets in or out: `scenes.assets`.)
Both are decided on the sampled spec, before it is simulated, so a screened-out draw costs
only its sampling (~5 ms). A heldout split draws its families at their configured weights,
among those a clause can reach, then resamples within the family until the scene is held
out: every reachable family is represented, a rare region included. `held_out(scene, holdout)`
tells the judge which kind a clip is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from simreel.scenes import vocabulary
from simreel.scenes.types import Rejection, SceneSpec

SPLITS = ("train", "heldout", "all")


def _speed(objects) -> float:
    return max((float(np.linalg.norm(o["linear_velocity"])) for o in objects), default=0.0)


def _height(objects) -> float:
    return max((float(o["position"][2]) for o in objects), default=0.0)


QUANTITIES: dict[str, tuple[str, Callable]] = {  # name -> (what it is, objects -> value)
    "speed_mps": ("the fastest starting speed of an object, m/s", _speed),
    "height_m": ("the highest starting centre of an object above the floor, m", _height),
    "objects": ("the number of objects", len),
}
"""What a range may bound, for any family: `FAMILY.QUANTITY`. Read from the spec's starting state."""

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "colour": tuple(vocabulary.COLOURS),
    "shape": vocabulary.SHAPES,
    "size": tuple(vocabulary.SIZES),
    "material": tuple(vocabulary.MATERIALS),
}
"""What a combination may name of one object (besides `family`, of the scene)."""


@dataclass(frozen=True)
class Range:
    family: str
    quantity: str  # one of QUANTITIES
    low: float | None = None  # inclusive; None: unbounded
    high: float | None = None

    @property
    def name(self) -> str:
        return f"{self.family}.{self.quantity}"

    def value(self, scene: Mapping) -> float | None:
        """The quantity in this scene, or None when the scene is of another family."""
        return QUANTITIES[self.quantity][1](scene["objects"]) if scene["family"] == self.family else None

    @property
    def text(self) -> str:
        low, high = ("-inf" if self.low is None else f"{self.low:g}"), ("inf" if self.high is None else f"{self.high:g}")
        return f"{self.name} in [{low}, {high}]"

    def bounds(self) -> dict:
        return {k: v for k, v in (("min", self.low), ("max", self.high)) if v is not None}


@dataclass(frozen=True)
class Match:
    """Why a scene is held out: `kind` is "range" (out of range) or "combination" (an unseen combination)."""

    kind: str
    clause: str  # the holdout entry, e.g. "throw.speed_mps in [4.0, 6.0]" or "colour=red, shape=sphere"
    detail: str  # what in the scene matched it


@dataclass(frozen=True)
class Holdout:
    ranges: tuple[Range, ...] = ()
    combinations: tuple[tuple[tuple[str, str], ...], ...] = ()  # each: sorted (key, value) pairs

    def match(self, scene: Mapping) -> Match | None:
        """The first range, then the first combination, that holds out `scene` (a SceneSpec dict)."""
        for r in self.ranges:
            v = r.value(scene)
            if v is not None and (r.low is None or v >= r.low) and (r.high is None or v <= r.high):
                return Match("range", r.text, f"{r.name} = {v:g}")
        for combo in self.combinations:
            wanted = dict(combo)
            if wanted.pop("family", scene["family"]) != scene["family"]:
                continue
            for o in scene["objects"]:
                if all(o[k] == v for k, v in wanted.items()):
                    return Match("combination", ", ".join(f"{k}={v}" for k, v in combo),
                                 f"{scene['family']} scene, {o['name']} is {' '.join(o[k] for k in sorted(wanted))}")
        return None

    def families(self, split: str, names) -> tuple[str, ...]:
        """Of `names`, the families a `split` can hold: a heldout split only those a clause can match,
        a training split all but those a combination of `family` alone holds out whole."""
        whole = {dict(c)["family"] for c in self.combinations if len(c) == 1 and c[0][0] == "family"}
        if split == "all":
            return tuple(names)
        if split == "train":
            return tuple(f for f in names if f not in whole)
        named = {r.family for r in self.ranges} | {dict(c).get("family") for c in self.combinations}
        return tuple(f for f in names if None in named or f in named)

    def screen(self, split: str) -> Callable[[SceneSpec], Rejection | None]:
        """For `scenes.make`: a sampled spec the split must not hold becomes a Rejection."""
        def screen(spec: SceneSpec) -> Rejection | None:
            m = self.match(spec.to_dict())
            if split == "train" and m is not None:
                return Rejection(spec.seed, "held_out", f"{m.kind} {m.clause}: {m.detail}")
            if split == "heldout" and m is None:
                return Rejection(spec.seed, "not_held_out", "")
            return None

        return screen

    def to_dict(self) -> dict:
        """The config's YAML shape."""
        return {"ranges": {r.name: r.bounds() for r in self.ranges},
                "combinations": [dict(c) for c in self.combinations]}

    @staticmethod
    def from_dict(d: Mapping) -> "Holdout":
        """From `to_dict`'s shape (a manifest's config), unchecked: the config loader checks what users write."""
        ranges = tuple(Range(*name.split(".", 1), b.get("min"), b.get("max")) for name, b in d.get("ranges", {}).items())
        return Holdout(ranges, tuple(tuple(sorted(c.items())) for c in d.get("combinations", ())))


def held_out(scene, holdout: Holdout | Mapping) -> Match | None:
    """Whether a clip is held out, and as which kind: `scene` is a SceneSpec, its dict, or a whole KEY.json
    (its "scene"); `holdout` a Holdout or its dict (a manifest's `config.holdout`)."""
    if isinstance(scene, SceneSpec):
        scene = scene.to_dict()
    holdout = holdout if isinstance(holdout, Holdout) else Holdout.from_dict(holdout)
    return holdout.match(scene.get("scene", scene))
