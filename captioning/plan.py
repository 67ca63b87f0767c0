"""From happenings to claims and language-neutral messages: what to say, in which order.

A `Message` is one clause's worth of content (a kind, its participants, a few slots)
with the claims it states; the realisers for each language turn the same messages
into text, so every language says exactly the same claims. All choices here (which
details, which order) draw on one rng seeded from the spec, never on the language.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simreel.captioning.colours import muted_name, sky_name
from simreel.captioning.facts import Clip, Happening
from simreel.captioning.types import Claim
from simreel.scenes.types import shows_material

SALIENCE = {"topple": 5, "hit": 4, "collide": 4, "descend": 3, "fly": 3, "fall": 2, "exit": 2, "enter": 2,
            "travel": 1.5, "bounce": 1, "land": 1, "rest": 0.5, "still": 0}


@dataclass(frozen=True)
class Message:
    """One clause of content. `slots` hold language-neutral words ("left", "roll", 0.4)."""

    kind: str
    subject: str | None = None
    other: str | None = None
    slots: tuple[tuple[str, Any], ...] = ()
    claims: tuple[int, ...] = ()
    f0: int = 0
    f1: int = 0

    def slot(self, key: str, default: Any = None) -> Any:
        return dict(self.slots).get(key, default)

    @property
    def moment(self) -> int:
        """The frame the message is about, for telling things in order: a topple or an exit
        when it is complete, a fall when it lands, anything else when it starts."""
        if self.kind in ("topple", "exit", "enter") or (self.kind == "fall" and self.slot("onto")):
            return self.f1
        return self.f0


class ClaimBook:
    """Collects claims once each; messages refer to them by index."""

    def __init__(self):
        self.claims: list[Claim] = []
        self._index: dict[Claim, int] = {}

    def add(self, claim: Claim) -> int:
        if claim not in self._index:
            self._index[claim] = len(self.claims)
            self.claims.append(claim)
        return self._index[claim]

    def attributes(self, spec, name: str, attrs=("size", "colour", "material", "shape")) -> tuple[int, ...]:
        """The attribute claims of an object (or a static's colour and material), of what can be seen."""
        obj = next((o for o in (*spec.objects, *spec.statics) if o.name == name), None)
        if obj is None:
            return ()
        return tuple(self.add(Claim(name, a, getattr(obj, a))) for a in attrs
                     if hasattr(obj, a) and (a != "material" or shows_material(obj)))


def _instant(clip: Clip, f: int) -> tuple[float, float]:
    return max(f - 1, 0) / clip.fps, min(f + 1, clip.last) / clip.fps


def stated_time(seconds: float) -> float:
    """A time as the text states it: to a tenth of a second."""
    return round(seconds + 1e-9, 1)


def happening_message(h: Happening, clip: Clip, book: ClaimBook, say_time: bool = False,
                      onto: Happening | None = None) -> Message:
    """The message (and its claims) for one happening; `onto` is the landing that ends a fall."""
    fps, name = clip.fps, h.subject
    t0, t1 = h.f0 / fps, h.f1 / fps
    slots: dict[str, Any] = {}
    claims: list[Claim] = []

    def timed(claim_kwargs: dict, at_frame: int) -> Claim:
        if say_time:
            slots["at"] = stated_time(at_frame / fps)
            claim_kwargs["params"] = (("at", slots["at"]),)
        return Claim(**claim_kwargs)

    if h.kind == "fall":
        claims.append(Claim(name, "falls", None, t0, t1))
        if onto is not None:
            pred = "hits" if onto.kind == "hit" else "lands_on"
            a, b = _instant(clip, onto.f0)
            claims.append(timed(dict(subject=name, predicate=pred, object=onto.other, t_start=a, t_end=b), onto.f0))
            slots["onto"] = onto.other
    elif h.kind == "fly":
        claims.append(Claim(name, "flies", None, t0, t1))
    elif h.kind in ("land", "hit", "collide", "bounce"):
        pred = {"land": "lands_on", "hit": "hits", "collide": "collides", "bounce": "bounces"}[h.kind]
        a, b = _instant(clip, h.f0)
        claims.append(timed(dict(subject=name, predicate=pred, object=h.other, t_start=a, t_end=b), h.f0))
    elif h.kind == "topple":
        claims.append(timed(dict(subject=name, predicate="topples", t_start=t0, t_end=t1), h.f1))
    elif h.kind in ("descend", "travel"):
        if h.kind == "descend":
            claims.append(Claim(name, "descends", h.other, t0, t1))
        elif h.direction is not None:
            claims.append(Claim(name, "moves_dir", h.direction, t0, t1))
            slots["direction"] = h.direction
        if h.manner is not None:
            claims.append(Claim(name, {"roll": "rolls", "slide": "slides"}[h.manner], None, t0, t1))
            slots["manner"] = h.manner
    elif h.kind in ("exit", "enter"):
        pred = "exits_view" if h.kind == "exit" else "enters_view"
        claims.append(timed(dict(subject=name, predicate=pred, t_start=t0, t_end=t1), h.f1))
    elif h.kind == "rest":
        claims.append(timed(dict(subject=name, predicate="rests", t_start=t0, t_end=t1), h.f0))
    elif h.kind == "still":
        claims.append(Claim(name, "moves", None, t0, t1, negated=True))
    else:
        raise ValueError(f"no message for happening kind {h.kind!r}")
    other = onto.other if onto is not None else h.other
    return Message(h.kind, name, other, tuple(sorted(slots.items())), tuple(book.add(c) for c in claims),
                   h.f0, onto.f0 if onto is not None else h.f1)


def motion_messages(clip: Clip, book: ClaimBook, rng: np.random.Generator | None,
                    found: list[Happening]) -> list[Message]:
    """All happenings as messages, in time order; a fall and the landing that ends it merge.

    With an rng, some messages state their time ("at about 0.4 seconds"); without, none do.
    """
    used: set[int] = set()
    out = []
    for k, h in enumerate(found):
        if k in used:
            continue
        onto = None
        if h.kind == "fall":
            for j, g in enumerate(found):
                if j not in used and g.kind in ("land", "hit") and g.subject == h.subject and h.f1 <= g.f0 <= h.f1 + 2:
                    onto, _ = g, used.add(j)
                    break
        say_time = rng is not None and (
            (h.kind in ("hit", "collide", "topple", "land", "exit", "rest") and rng.random() < 0.35)
            or (onto is not None and rng.random() < 0.3))
        out.append(happening_message(h, clip, book, say_time, onto))
    return sorted(out, key=lambda m: (m.moment, m.f0))


# --- the scene's look: objects, setting, camera, light ---------------------------------------


def placement(clip: Clip, i: int, placed: list[int], rng: np.random.Generator, book: ClaimBook) -> tuple[list, list[int]]:
    """Where object i starts: its support (floor / on top of / in the air / above) and one
    position relative to the picture or to an object already introduced."""
    name = clip.traj.names[i]
    low, high = clip.lowest, clip.highest
    parts: list[tuple] = []
    claims: list[Claim] = []
    support = None
    for j, other in enumerate(clip.traj.names):
        if j == i:
            continue
        dxy = float(np.linalg.norm(clip.traj.positions[0, i, :2] - clip.traj.positions[0, j, :2]))
        if dxy < 0.6 * clip.radius_xy(0, j):
            gap = low[0, i] - high[0, j]
            if abs(gap) < 0.01 and other in clip.initially_touching(name):
                support = (("on_top_of", other), Claim(name, "on_top_of", other))
            elif gap > 0.1 and support is None:
                support = (("above", other), Claim(name, "above", other))
    statics = sorted(clip.initially_touching(name) & {st.name for st in clip.spec.statics})
    if support is None and statics:
        support = (("on", statics[0]), Claim(name, "touches", statics[0]))
    if support is None:
        if low[0, i] < 0.005:
            support = (("floor",), Claim(name, "on_floor"))
        elif low[0, i] > 0.1 and not clip.initially_touching(name):
            support = (("air",), Claim(name, "in_air"))
    if support is not None:
        parts.append(support[0])
        claims.append(support[1])
    options: list[tuple[tuple, Claim]] = []
    x = clip.pixels[0, i, 0]
    side = "left" if x < 0.3 else "right" if x > 0.7 else "centre" if 0.42 < x < 0.58 else None
    if side is not None:
        options.append((("side", side), Claim(name, "screen_side", side)))
    for j in placed[-2:]:
        other = clip.traj.names[j]
        if support is not None and support[0][-1] == other:
            continue
        gap = clip.slope(0, i) - clip.slope(0, j)
        depth = clip.pixels[0, i, 2] - clip.pixels[0, j, 2]
        if abs(gap) > 0.1:
            rel = "left_of" if gap < 0 else "right_of"
            options.append(((rel, other), Claim(name, rel, other)))
        if abs(depth) > 0.3:
            rel = "in_front_of" if depth < 0 else "behind"
            options.append(((rel, other), Claim(name, rel, other)))
    if options:
        part, claim = options[int(rng.integers(len(options)))]
        parts.append(part)
        claims.append(claim)
    return parts, [book.add(c) for c in claims]


def intro_messages(clip: Clip, book: ClaimBook, rng: np.random.Generator) -> list[Message]:
    """One message per object, left to right as the camera first sees them."""
    order = sorted(range(len(clip.spec.objects)), key=lambda i: clip.slope(0, i))
    out, placed = [], []
    for i in order:
        name = clip.traj.names[i]
        parts, where = placement(clip, i, placed, rng, book)
        moving = clip.speed[0, i] > 0.5
        slots = (("moving", moving), ("where", tuple(parts)), ("where_claims", tuple(where)))
        out.append(Message("intro", name, None, slots, book.attributes(clip.spec, name) + tuple(where)))
        placed.append(i)
    for static in clip.spec.statics:
        out.append(Message("static", static.name, None, (), book.attributes(clip.spec, static.name)))
    return out


def setting_message(clip: Clip, book: ClaimBook) -> Message:
    spec = clip.spec
    slots: dict[str, Any] = {"n": len(spec.objects)}
    claims = [Claim("scene", "count", None, params=(("n", len(spec.objects)),))]
    world = spec.world
    if world is not None:  # a world names its floor kind and setting; the sky stands in for the backdrop
        slots["kind"], slots["environment"] = world.floor, world.environment
        claims += [Claim("floor", "floor_kind", world.floor), Claim("sky", "environment", world.environment)]
    a, b = muted_name(spec.floor.colour_a), muted_name(spec.floor.colour_b)
    if a is not None and b is not None and (world is None or world.floor == "checker"):
        checks = "large" if spec.floor.checker_m >= 0.52 else "small" if spec.floor.checker_m <= 0.35 else None
        slots["floor"], slots["checks"] = (a, b), checks
        params = (("checks", checks), ("colours", (a, b))) if checks else (("colours", (a, b)),)
        claims.append(Claim("floor", "floor_colours", None, params=params))
    sky = sky_name(spec.floor.background) if world is None else None
    if sky is not None:
        slots["background"] = sky
        claims.append(Claim("background", "background_colour", sky))
    return Message("setting", None, None, tuple(sorted(slots.items())), tuple(book.add(c) for c in claims))


def camera_message(clip: Clip, book: ClaimBook) -> Message:
    cam = clip.spec.camera
    end = clip.last / clip.fps
    motion = cam.motion if abs(cam.amount) > 1e-9 else "static"
    if motion == "orbit" and abs(cam.amount) < 8:
        motion = None
    if motion in ("pan", "dolly") and abs(cam.amount) < 0.1:
        motion = None
    slots: dict[str, Any] = {}
    claims = []
    if motion is not None:
        direction = {"orbit": "right" if cam.amount > 0 else "left", "pan": "right" if cam.amount > 0 else "left",
                     "dolly": "in" if cam.amount > 0 else "out", "static": None}[motion]
        pred = {"static": "camera_static", "orbit": "camera_orbits", "pan": "camera_tracks", "dolly": "camera_dollies"}[motion]
        claims.append(Claim("camera", pred, direction, 0.0, end))
        slots["motion"], slots["direction"] = motion, direction
    el = cam.elevation_deg
    angle = "high" if el >= 33 else "low" if el <= 16 else "level" if 20 <= el <= 30 else None
    if angle is not None:
        claims.append(Claim("camera", "camera_angle", angle))
        slots["angle"] = angle
    return Message("camera", "camera", None, tuple(sorted(slots.items())), tuple(book.add(c) for c in claims))


def light_message(clip: Clip, book: ClaimBook) -> Message:
    light, cam = clip.spec.light, clip.spec.camera
    slots: dict[str, Any] = {}
    claims = []
    delta = (light.azimuth_deg - cam.azimuth_deg + 180) % 360 - 180  # light relative to the camera
    for side, centre in (("front", 0), ("right", 90), ("back", 180), ("left", -90)):
        if abs((delta - centre + 180) % 360 - 180) < 25:
            slots["side"] = side
            claims.append(Claim("light", "light_side", side))
    if light.elevation_deg >= 58 or light.elevation_deg <= 40:
        slots["height"] = "high" if light.elevation_deg >= 58 else "low"
        claims.append(Claim("light", "light_height", slots["height"]))
    if light.intensity >= 4.6 or light.intensity <= 3.6:
        slots["strength"] = "bright" if light.intensity >= 4.6 else "soft"
        claims.append(Claim("light", "light_strength", slots["strength"]))
    slots["shadows"] = light.shadows
    claims.append(Claim("scene", "shadows", negated=not light.shadows))
    return Message("light", "light", None, tuple(sorted(slots.items())), tuple(book.add(c) for c in claims))


def compact_intro(m: Message) -> Message:
    """The intro with only its first placement part (and its claim), to save words."""
    where, claims = m.slot("where"), m.slot("where_claims")
    if len(where) < 2:
        return m
    dropped = set(claims[1:])
    slots = tuple((k, where[:1] if k == "where" else claims[:1] if k == "where_claims" else v) for k, v in m.slots)
    return Message(m.kind, m.subject, m.other, slots, tuple(c for c in m.claims if c not in dropped), m.f0, m.f1)


def main_messages(motion: list[Message]) -> list[Message]:
    """The short caption's content: the most salient happening, with its subject's others around it."""
    if not motion:
        return []
    best = max(motion, key=lambda m: (SALIENCE[m.kind], -m.f0))
    own = [m for m in motion if m.subject == best.subject and m.kind != "still"]
    k = own.index(best)
    start = max(0, k - 1)
    return own[start:start + 3]

