"""CLEVRER-style questions, language-neutral: what is asked, the answer, and the claims behind it.

- descriptive: attributes, counts, order of contacts, layout at the start;
- explanatory: what caused a change of motion, read off the contacts;
- predictive: what happens after the cut, answered from the same scene simulated longer;
- counterfactual: what would happen without one object, answered by re-simulating
  the scene without it.
The other worlds come from `scenes.simulate`; their claims name the world they are
about, so the checker re-simulates the same scene to verify them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from simreel.captioning.facts import Clip, Happening, happenings
from simreel.captioning.plan import ClaimBook, happening_message, stated_time
from simreel.captioning.types import EXTENDED, WITHOUT, Claim
from simreel.scenes.types import SceneSpec, Trajectory, shows_material

PREDICT_S = 1.0  # how far past the cut predictive questions look
NEXT_KINDS = ("hit", "collide", "land", "bounce", "topple", "exit", "rest")  # "what does it do next?"
QUOTA = {"descriptive": 4, "explanatory": 2, "predictive": 2, "counterfactual": 2}
COLOUR_FREE_ORDERS = (("shape",), ("size", "shape"), ("material", "shape"), ("size", "material", "shape"))


@dataclass(frozen=True)
class Question:
    kind: str  # descriptive | explanatory | predictive | counterfactual
    qtype: str  # which template: colour, count, why_moves, will_hit, cf_moves, ...
    subject: str | None
    slots: tuple[tuple[str, Any], ...]
    answer: bool | None  # yes/no questions; None for open answers
    claims: tuple[Claim, ...]  # what makes the answer true


def _q(kind: str, qtype: str, subject: str | None, claims: list[Claim], answer: bool | None = None, **slots) -> Question:
    return Question(kind, qtype, subject, tuple(sorted(slots.items())), answer, tuple(claims))


def _sample(rng: np.random.Generator, candidates: list[Question], k: int, prefer=lambda q: 0) -> list[Question]:
    """Up to k candidates, distinct question types first, preferred ones first, else at random."""
    order = sorted(rng.permutation(len(candidates)), key=lambda j: -prefer(candidates[j]))
    picked, types = [], set()
    for j in order:
        if candidates[j].qtype not in types:
            picked.append(candidates[j])
            types.add(candidates[j].qtype)
    for j in order:
        if candidates[j] not in picked:
            picked.append(candidates[j])
    return picked[:k]


def descriptive(clip: Clip, found: list[Happening]) -> list[Question]:
    spec, end = clip.spec, clip.last / clip.fps
    objs = spec.objects
    out = []
    for o in objs:
        # a mesh asset's noun is its name, not a shape word: no shape questions, none that name it by shape
        for order in COLOUR_FREE_ORDERS if o.asset is None else ():
            if sum(all(getattr(p, a) == getattr(o, a) for a in order) for p in objs) == 1:
                attrs = tuple((a, getattr(o, a)) for a in ("size", "material", "shape") if a in order)
                claims = [Claim(o.name, a, v) for a, v in attrs] + [Claim(o.name, "colour", o.colour)]
                out.append(_q("descriptive", "colour", o.name, claims, attributes=attrs, value=o.colour))
                break
        if sum(p.colour == o.colour for p in objs) == 1 and o.asset is None:
            out.append(_q("descriptive", "shape", o.name,
                          [Claim(o.name, "colour", o.colour), Claim(o.name, "shape", o.shape)], colour=o.colour, value=o.shape))
        if shows_material(o):
            out.append(_q("descriptive", "material", o.name, [Claim(o.name, "material", o.material)], value=o.material))
    out.append(_q("descriptive", "count", None, [Claim("scene", "count", params=(("n", len(objs)),))], n=len(objs)))
    for key in ("shape", "material"):
        for value in sorted({getattr(o, key) for o in objs if key != "shape" or o.asset is None}):
            if key == "shape" and any(o.shape == value and o.asset is not None for o in objs):
                continue  # "how many rocks?" would count the assets (shape "rock") among them
            if key == "material" and any(o.material == value and not shows_material(o) for o in objs):
                continue  # nor count a material some object does not show
            n = sum(getattr(o, key) == value for o in objs)
            out.append(_q("descriptive", "count", None,
                          [Claim("scene", "count", params=(("n", n), (key, value)))], n=n, **{key: value}))
    moved = [clip.moved(i) for i in range(len(objs))]
    if all(d > 0.12 or d < 0.02 for d in moved):
        n = sum(d > 0.12 for d in moved)
        out.append(_q("descriptive", "count_moved", None,
                      [Claim("scene", "count_moved", None, 0.0, end, params=(("n", n),))], n=n))
    for i, o in enumerate(objs):
        first = sorted((f0, pair) for f0, _, pair, _ in clip.contacts if f0 > 0 and o.name in pair and "floor" not in pair)
        if first and sum(f == first[0][0] for f, _ in first) == 1:
            other = next(n for n in first[0][1] if n != o.name)
            out.append(_q("descriptive", "first_contact", o.name,
                          [Claim(o.name, "first_contact", other, 0.0, end)], other=other))
        out += _does(clip, found, i)
    names = clip.traj.names
    for i in range(len(names)):
        for j in range(len(names)):
            if i == j:
                continue
            gap = clip.slope(0, i) - clip.slope(0, j)
            if abs(gap) > 0.1 and i < j:
                rel = "left_of" if gap < 0 else "right_of"
                out.append(_q("descriptive", "side", names[i], [Claim(names[i], rel, names[j])], gap < 0,
                              other=names[j]))
            depth = clip.pixels[0, j, 2] - clip.pixels[0, i, 2]
            if depth > 0.3:
                out.append(_q("descriptive", "closer", names[i], [Claim(names[i], "in_front_of", names[j])],
                              other=names[j], order=int((i + j) % 2)))
    return out


def _does(clip: Clip, found: list[Happening], i: int) -> list[Question]:
    name, end = clip.traj.names[i], clip.last / clip.fps
    out = []
    bounce = next((h for h in found if h.kind == "bounce" and h.subject == name), None)
    if bounce is not None:
        a, b = max(bounce.f0 - 1, 0) / clip.fps, min(bounce.f0 + 1, clip.last) / clip.fps
        out.append(_q("descriptive", "does", name, [Claim(name, "bounces", bounce.other, a, b)], True, event="bounce"))
    elif not any(e.kind == "bounce" and e.subjects[0] == name for e in clip.traj.events):
        out.append(_q("descriptive", "does", name, [Claim(name, "bounces", None, 0.0, end, negated=True)], False,
                      event="bounce"))
    if clip.upright(i, 0):
        topple = next((h for h in found if h.kind == "topple" and h.subject == name), None)
        if topple is not None:
            claim = Claim(name, "topples", None, topple.f0 / clip.fps, topple.f1 / clip.fps)
            out.append(_q("descriptive", "does", name, [claim], True, event="topple"))
        elif clip.tilt_from(i, 0).max() < 20:
            claim = Claim(name, "topples", None, 0.0, end, negated=True)
            out.append(_q("descriptive", "does", name, [claim], False, event="topple"))
    exit_ = next((h for h in found if h.kind == "exit" and h.subject == name), None)
    if exit_ is not None:
        claim = Claim(name, "exits_view", None, exit_.f0 / clip.fps, exit_.f1 / clip.fps)
        out.append(_q("descriptive", "does", name, [claim], True, event="exit"))
    elif _inside(clip, i, 0):
        out.append(_q("descriptive", "does", name, [Claim(name, "in_view", None, 0.0, end)], False, event="exit"))
    return out


def _inside(clip: Clip, i: int, f0: int, f1: int | None = None) -> bool:
    """Clearly inside the picture at every frame from f0 to f1 (default: the end)."""
    px = clip.pixels[f0:(clip.last if f1 is None else f1) + 1, i]
    return bool(np.all((px[:, 2] > 0.1) & np.all((px[:, :2] > 0.05) & (px[:, :2] < 0.95), axis=1)))


def explanatory(clip: Clip, found: list[Happening]) -> list[Question]:
    fps, end = clip.fps, clip.last / clip.fps
    out = []
    for h in found:
        if h.kind == "hit":
            j = clip.traj.index(h.other)
            f = h.f0
            if f < 2 or clip.moved(j, 0, f - 1) >= 0.01:
                continue
            hit = Claim(h.subject, "hits", h.other, (f - 1) / fps, min(f + 1, clip.last) / fps)
            still = Claim(h.other, "moves", None, 0.0, (f - 1) / fps, negated=True)
            topple = next((g for g in found if g.kind == "topple" and g.subject == h.other and g.f1 >= f), None)
            if topple is not None:
                claims = [still, hit, Claim(h.other, "topples", None, topple.f0 / fps, topple.f1 / fps)]
                out.append(_q("explanatory", "why_topples", h.other, claims, cause=h.subject))
            elif clip.moved(j, f) > 0.12:
                claims = [still, hit, Claim(h.other, "moves", None, f / fps, end)]
                out.append(_q("explanatory", "why_moves", h.other, claims, cause=h.subject))
    for h in found:
        if h.kind == "fall":
            landing = next((g for g in found if g.kind in ("land", "hit") and g.subject == h.subject
                            and h.f1 <= g.f0 <= h.f1 + 2), None)
            if landing is not None:
                pred = "hits" if landing.kind == "hit" else "lands_on"
                claims = [Claim(h.subject, "falls", None, h.f0 / fps, h.f1 / fps),
                          Claim(h.subject, pred, landing.other, max(landing.f0 - 1, 0) / fps,
                                min(landing.f0 + 1, clip.last) / fps)]
                out.append(_q("explanatory", "why_stops_falling", h.subject, claims, other=landing.other))
        if h.kind == "bounce" and h.other == "floor":
            at = stated_time(h.f0 / fps)
            claim = Claim(h.subject, "bounces", "floor", max(h.f0 - 1, 0) / fps, min(h.f0 + 1, clip.last) / fps,
                          params=(("at", at),))
            out.append(_q("explanatory", "why_bounces", h.subject, [claim], other="floor", at=at))
    return out


def _alternate(clip: Clip, spec: SceneSpec, simulate: Callable[[SceneSpec], Trajectory]) -> Clip | None:
    """The clip of another world, or None if that scene's physics cannot be trusted."""
    from simreel.scenes.validity import InvalidScene

    try:
        return Clip(spec, simulate(spec))
    except InvalidScene:
        return None


def predictive(clip: Clip, simulate: Callable[[SceneSpec], Trajectory]) -> list[Question]:
    duration = round(clip.spec.duration_s + PREDICT_S, 6)
    world = f"{EXTENDED}{duration:g}"
    ext = _alternate(clip, dataclasses.replace(clip.spec, duration_s=duration), simulate)
    if ext is None:
        return []
    cut, fps, end = clip.last, clip.fps, ext.last / ext.fps
    found = happenings(ext)
    out = []

    def q(qtype, subject, claims, answer, **slots):
        out.append(_q("predictive", qtype, subject, [dataclasses.replace(c, world=world) for c in claims],
                      answer, **slots))

    names = ext.traj.names
    for i, name in enumerate(names):
        moving = ext.speed[cut, i] > 0.3
        nxt = next((h for h in found if h.subject == name and h.kind in NEXT_KINDS and h.f0 > cut), None)
        if moving and nxt is not None and _inside(ext, i, cut, cut):
            book = ClaimBook()  # the answer is the same message a caption of the longer run would use
            message = happening_message(nxt, ext, book, say_time=nxt.kind in ("hit", "collide", "land", "rest"))
            q("what_next", name, [book.claims[k] for k in message.claims], None, message=message)
        if moving:
            rest = next((h for h in found if h.kind == "rest" and h.subject == name and h.f0 > cut), None)
            if rest is not None:
                at = stated_time(rest.f0 / fps)
                q("will_rest", name, [Claim(name, "rests", None, rest.f0 / fps, end, params=(("at", at),))], True,
                  at=at, within=PREDICT_S)
            elif ext.moved(i, ext.last - max(2, fps // 4)) > 0.1:
                q("will_rest", name, [Claim(name, "moves", None, (ext.last - max(2, fps // 4)) / fps, end)], False,
                  within=PREDICT_S)
            for j, other in enumerate(names):
                if j == i:
                    continue
                pair = {name, other}
                touches = [f0 for f0, _, p, _ in ext.contacts if set(p) == pair and f0 > 0]
                span = dict(subject=name, predicate="collides", object=other, t_start=(cut + 1) / fps, t_end=end)
                if touches and min(touches) > cut:
                    q("will_hit", name, [Claim(**span)], True, other=other)
                elif not touches:
                    q("will_hit", name, [Claim(**span, negated=True)], False, other=other)
        elif ext.speed[cut, i] < 0.02:
            d = ext.moved(i, cut)
            if d < 0.01 or d > 0.12:
                q("will_move", name, [Claim(name, "moves", None, cut / fps, end, negated=d < 0.01)], d > 0.12)
        if ext.upright(i, cut):
            tilt = ext.tilt_from(i, cut)[cut:]
            if tilt.max() > 60:
                f1 = cut + int(np.flatnonzero(tilt > 60)[0])
                q("will_topple", name, [Claim(name, "topples", None, cut / fps, f1 / fps)], True)
            elif tilt.max() < 20 and moving:
                q("will_topple", name, [Claim(name, "topples", None, cut / fps, end, negated=True)], False)
        if moving and _inside(ext, i, cut, cut):
            exit_ = next((h for h in found if h.kind == "exit" and h.subject == name and h.f1 > cut), None)
            if exit_ is not None:
                q("will_exit", name, [Claim(name, "exits_view", None, cut / fps, exit_.f1 / fps)], True)
            elif _inside(ext, i, cut):
                q("will_exit", name, [Claim(name, "in_view", None, cut / fps, end)], False)
    return out


def counterfactual(clip: Clip, found: list[Happening], rng: np.random.Generator,
                   simulate: Callable[[SceneSpec], Trajectory]) -> list[Question]:
    """Questions about the scene without one object (the one whose collisions matter most)."""
    spec = clip.spec
    if len(spec.objects) < 2:
        return []
    involved = [h.subject for h in found if h.kind in ("hit", "collide")]  # in time order: the first mover
    removed = involved[0] if involved else spec.objects[int(rng.integers(len(spec.objects)))].name
    cf = _alternate(clip, dataclasses.replace(spec, objects=tuple(o for o in spec.objects if o.name != removed)),
                    simulate)
    if cf is None:
        return []
    world = f"{WITHOUT}{removed}"
    fps, end = cf.fps, cf.last / cf.fps
    out = []

    def q(qtype, subject, claims, answer, as_in_clip, **slots):
        question = _q("counterfactual", qtype, subject, [dataclasses.replace(c, world=world) for c in claims],
                      answer, removed=removed, **slots)
        out.append((question, answer != as_in_clip))

    for j, name in enumerate(cf.traj.names):
        i = clip.traj.index(name)
        d = cf.moved(j)
        if d > 0.12 or d < 0.01:
            q("cf_moves", name, [Claim(name, "moves", None, 0.0, end, negated=d < 0.01)], d > 0.12, clip.moved(i) > 0.12)
        if cf.upright(j, 0):
            tilt = cf.tilt_from(j, 0)
            toppled = any(h.kind == "topple" and h.subject == name for h in found)
            if tilt.max() > 60:
                f1 = int(np.flatnonzero(tilt > 60)[0])
                q("cf_topple", name, [Claim(name, "topples", None, 0.0, f1 / fps)], True, toppled)
            elif tilt.max() < 20:
                q("cf_topple", name, [Claim(name, "topples", None, 0.0, end, negated=True)], False, toppled)
    for h in found:
        if h.kind in ("hit", "collide") and removed not in (h.subject, h.other):
            pair = {h.subject, h.other}
            touches = [f0 for f0, _, p, _ in cf.contacts if set(p) == pair and f0 > 0]
            claim = Claim(h.subject, "collides", h.other, 1 / fps, end, negated=not touches)
            q("cf_hit", h.subject, [claim], bool(touches), True, other=h.other)
    shuffled = [out[k] for k in rng.permutation(len(out))]
    return [question for question, _ in sorted(shuffled, key=lambda x: -x[1])]  # answers that differ first


def _predictive_pick(rng: np.random.Generator, candidates: list[Question]) -> list[Question]:
    """An open "what next?" question if there is one, then yes/no questions, preferring
    something that happens. Little happens in a second, so facts are mostly "nothing
    more": each yes/no question is asked one way or the other ("will it move again?" /
    "will it stay where it is?") at random, which keeps yes and no answers balanced."""
    open_ = [q for q in candidates if q.answer is None]
    yes_no = [q for q in candidates if q.answer is not None]
    picked = _sample(rng, open_, 1)
    picked += _sample(rng, yes_no, QUOTA["predictive"] - len(picked), prefer=lambda q: q.answer is True)
    return [_phrased(q, bool(rng.random() < 0.5)) if q.answer is not None else q for q in picked]


def _phrased(q: Question, flip: bool) -> Question:
    """The question asked the other way round when `flip`: same claims, opposite answer."""
    if not flip:
        return q
    return dataclasses.replace(q, slots=tuple(sorted((*q.slots, ("flip", True)))), answer=not q.answer)


def questions(clip: Clip, found: list[Happening], rng: np.random.Generator,
              simulate: Callable[[SceneSpec], Trajectory]) -> list[Question]:
    """A few questions of each kind, chosen by the spec's rng."""
    picked = [_phrased(q, q.qtype == "does" and dict(q.slots)["event"] != "bounce" and bool(rng.random() < 0.5))
              for q in _sample(rng, descriptive(clip, found), QUOTA["descriptive"])]
    picked += _sample(rng, explanatory(clip, found), QUOTA["explanatory"])
    picked += _predictive_pick(rng, predictive(clip, simulate))
    picked += counterfactual(clip, found, rng, simulate)[:QUOTA["counterfactual"]]
    return picked
