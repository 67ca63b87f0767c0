"""Minimal unique referring expressions: which attributes (and, rarely, which position) name an object.

Colour and shape come first; size, then material, then both are added only when
needed to tell objects apart (material only where it is seen: `scenes.types.shows_material`).
Objects that look identical (possible once a scene has more objects than colours) are
told apart by their rank from the left, or from the camera, at frame 0, and only where
that rank is clear by a wide margin.
"""
from __future__ import annotations

from dataclasses import dataclass

from simreel.captioning.facts import Clip
from simreel.scenes.types import shows_material

ATTRIBUTE_ORDERS = (
    ("colour", "shape"),
    ("size", "colour", "shape"),
    ("colour", "material", "shape"),
    ("size", "colour", "material", "shape"),
)
WORD_ORDER = ("size", "colour", "material", "shape")  # how attributes line up in a noun phrase
SIDE_MARGIN = 0.08  # tan-angle gap between neighbours before "leftmost" is safe
DEPTH_MARGIN = 0.3  # metres between neighbours before "nearest" is safe


@dataclass(frozen=True)
class Choice:
    """The attributes (in word order) and optional spatial rank that single out one object."""

    name: str
    attributes: tuple[tuple[str, str], ...]
    spatial: tuple[str, int] | None = None  # ("from_left" | "from_near", rank starting at 0)


def choose(clip: Clip) -> dict[str, Choice]:
    """The minimal unique description of every object in the clip."""
    objects = clip.spec.objects
    out = {}
    for i, obj in enumerate(objects):
        for order in _seen(obj, ATTRIBUTE_ORDERS):
            key = tuple(getattr(obj, a) for a in order)
            if sum(tuple(getattr(o, a) for a in order) == key for o in objects) == 1:
                out[obj.name] = Choice(obj.name, _in_word_order(obj, order))
                break
        else:
            out[obj.name] = _spatial(clip, i)
    return out


def _seen(obj, orders):
    """The attribute orders that name only what can be seen of `obj` (not an unseen material)."""
    return [o for o in orders if "material" not in o or shows_material(obj)]


def _in_word_order(obj, attrs) -> tuple[tuple[str, str], ...]:
    return tuple((a, getattr(obj, a)) for a in WORD_ORDER if a in attrs)


def _spatial(clip: Clip, i: int) -> Choice:
    objects = clip.spec.objects
    obj = objects[i]
    words = tuple(a for a in WORD_ORDER if a != "material" or shows_material(obj))
    twins = [j for j, o in enumerate(objects) if all(getattr(o, a) == getattr(obj, a) for a in words)]
    attrs = _in_word_order(obj, words)
    for relation, key, margin in (("from_left", lambda j: clip.slope(0, j), SIDE_MARGIN),
                                  ("from_near", lambda j: clip.pixels[0, j, 2], DEPTH_MARGIN)):
        ranked = sorted(twins, key=key)
        rank = ranked.index(i)
        gaps = [abs(key(ranked[k]) - key(i)) for k in (rank - 1, rank + 1) if 0 <= k < len(ranked)]
        if rank in (0, 1, len(ranked) - 1) and min(gaps) > margin:
            if rank == len(ranked) - 1 and rank > 1:  # "rightmost" / "farthest" read better than "fifth"
                relation, rank = {"from_left": ("from_right", 0), "from_near": ("from_far", 0)}[relation]
            return Choice(obj.name, attrs, (relation, rank))
    raise ValueError(
        f"scene {clip.spec.family} seed {clip.spec.seed}: {obj.name} looks exactly like "
        f"{[objects[j].name for j in twins if j != i]} and no position tells them apart; "
        "samplers must keep looks unique (scenes.SceneDraft does)"
    )
