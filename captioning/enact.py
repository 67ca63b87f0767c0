"""Prompt -> scene: a ground-truth clip whose own captions entail what the prompt says.

The family comes from the verbs (rolls down a ramp: ramp; topples: topple; ...), the
stated looks go to the family sampler as `scenes.Wishes`, everything else is drawn
from the seed. A take is simulated, captioned, and kept only if some binding of the
prompt's objects to the clip's bodies makes every prompt claim hold: a happening must
be among the clip's own caption claims (and hold, with any stated time, under the
independent checker); a look, count or camera fact must hold under the checker. Looks
physics never sees (camera, floor colours, world) are redrawn on the simulated clip
rather than resimulated. After `tries` takes that miss, EnactError says what was missed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from simreel import scenes
from simreel.captioning.check import World, check_claim
from simreel.captioning.describe import describe
from simreel.captioning.parse import CAMERA, ENTITY, Prompt
from simreel.captioning.types import CLIP, LANGUAGES, Captions, Claim
from simreel.scenes import camera, sampling, validity, worlds

TRIES = 50  # simulated takes before giving up
SCREEN = 60  # sampled specs per take that may be screened out (looks, counts) before a family is dropped
REDRAW = 80  # camera or floor redraws per take
HAPPENINGS = frozenset({"moves", "moves_dir", "falls", "flies", "rolls", "slides", "topples", "descends", "rests",
                        "exits_view", "enters_view", "hits", "collides", "lands_on", "bounces", "first_contact"})
CAMERA_FACTS = (*CAMERA.values(), "camera_angle")
FAMILY_OF = (  # the family made to show each happening, the most telling happening first
    ("descends", "ramp"), ("topples", "topple"), ("flies", "throw"), ("falls", "drop"), ("bounces", "throw"),
    ("hits", "collide"), ("collides", "collide"), ("moves_dir", "collide"), ("rolls", "collide"),
    ("slides", "collide"), ("lands_on", "drop"),
)
VIEW = frozenset({"moves_dir", "exits_view", "enters_view"})  # happenings the camera's direction decides
TURNS = 3  # more camera directions (a quarter turn apart) tried on a take that misses


class EnactError(RuntimeError):
    """No take in the allowed tries shows the prompt; one line for the user. `missed`: what
    was most often missed, as "predicate" or "predicate at a stated time" (for grouping)."""

    def __init__(self, message: str, missed: str = ""):
        super().__init__(message)
        self.missed = missed


@dataclass(frozen=True, eq=False)
class Take:
    """One ground-truth clip of a prompt: the scene, its captions, and which body each prompt object is."""

    scene: scenes.Scene
    captions: Captions
    binding: dict[str, str]  # prompt object ("p0") -> body ("obj2")
    tries: int  # takes simulated, this one included


def families(prompt: Prompt) -> list[str]:
    """Families to try, best first: the one made to show the prompt's most telling happening,
    then the others by how many of its happenings they are made to show."""
    said = {c.predicate for group in prompt.claims for c in group} | ({"descends"} if prompt.statics else set())
    shown = [f for p, f in FAMILY_OF if p in said]
    score = {f: shown.count(f) + 100 * (f == shown[0]) for f in shown}
    return sorted(scenes.family_names(), key=lambda f: -score.get(f, 0))


def wishes(prompt: Prompt) -> scenes.Wishes:
    return scenes.Wishes(tuple(scenes.Look(**dict(e.look)) for e in prompt.entities),
                         tuple((s.name, scenes.Look(colour=dict(s.look).get("colour"))) for s in prompt.statics))


def fits(prompt: Prompt, spec: scenes.SceneSpec) -> bool:
    """Could this spec show the prompt at all: its looks, scenery and count? (Cheap: no physics.)"""
    for st in prompt.statics:
        if not any(s.name == st.name and scenes.Look(**dict(st.look)).fits(s) for s in spec.statics):
            return False
    for group in prompt.claims:
        if group[0].predicate == "count" and group[0].param("n") != len(spec.objects):
            return False
    looks = [scenes.Look(**dict(e.look)) for e in prompt.entities]
    return _assign(looks, list(spec.objects)) is not None


def _assign(looks, objects, taken=()) -> tuple | None:
    """An injective choice of object per look (indices), or None."""
    if not looks:
        return taken
    for k, obj in enumerate(objects):
        if k not in taken and looks[0].fits(obj):
            got = _assign(looks[1:], objects, (*taken, k))
            if got is not None:
                return got
    return None


def enact(prompt: Prompt, seed: int, clip: scenes.ClipFormat | None = None, tries: int = TRIES,
          physics: scenes.Physics | None = None, languages: tuple[str, ...] = LANGUAGES) -> Take:
    """A take of the prompt drawn from `seed`; EnactError if none of `tries` takes shows it."""
    if physics is None:
        with scenes.Physics() as physics:
            return enact(prompt, seed, clip, tries, physics, languages)
    clip = clip or scenes.ClipFormat()
    order = families(prompt)
    wish = wishes(prompt)
    draw, missed = 0, {}
    for attempt in range(tries):
        if not order:
            break
        # two takes in three from the family the verbs point at, the third from the others in turn
        family = order[0] if attempt % 3 < 2 or len(order) == 1 else order[1 + (attempt // 3) % (len(order) - 1)]
        spec = None
        for _ in range(SCREEN):
            draw += 1
            candidate = scenes.sample(family, scenes.attempt_seed(seed, draw), clip, wishes=wish)
            if fits(prompt, candidate):
                spec = candidate
                break
        if spec is None:  # this family cannot hold the prompt's objects (or hardly ever does)
            order.remove(family)
            continue
        try:
            validity.check_initial_view(spec)
            trajectory = physics.simulate(spec)
        except validity.InvalidScene:
            continue
        rng = np.random.default_rng([seed, draw, 1])
        turning = any(c.predicate in VIEW for g in prompt.claims for c in g)
        drawn = spec
        for turn in range(1 + TURNS * turning):
            spec = _redress(prompt, drawn, trajectory, rng, turn)
            captions = describe(spec, trajectory, ("en",), qa=False)
            binding, why = entail(prompt, spec, trajectory, captions)
            if binding is not None:
                if languages != ("en",):
                    captions = describe(spec, trajectory, languages, qa=False)
                return Take(scenes.Scene(spec, trajectory), captions, binding, attempt + 1)
            if not any(c.predicate in VIEW for g, words in zip(prompt.claims, prompt.sources) if words == why for c in g):
                break  # what was missed is not the camera's doing
        missed[why] = missed.get(why, 0) + 1
    if not missed:
        raise EnactError("no scene family can hold the objects this prompt names "
                         f"({', '.join(chr(34) + e.text + chr(34) for e in prompt.entities)}); name fewer or other objects")
    worst = max(missed, key=missed.get)
    group = next((g for g, words in zip(prompt.claims, prompt.sources) if words == worst), ())
    kind = "/".join(dict.fromkeys(c.predicate for c in group)) + (" at a stated time" if any(c.param("at") for c in group) else "")
    raise EnactError(f"no take in {tries} tries showed the prompt (most often missed: \"{worst}\"); "
                     "try another --seed, a longer --duration or a simpler prompt", kind)


# --- looks physics never sees ----------------------------------------------------------------


def _redress(prompt: Prompt, spec, trajectory, rng, turn: int = 0) -> scenes.SceneSpec:
    """The spec with its world, floor or camera redrawn until the prompt's look facts hold (if
    they can); `turn` k > 0: first a camera turned k quarter turns (for what the view decides)."""
    facts = [g for g in prompt.claims if g[0].predicate in (*CAMERA_FACTS, "floor_colours", "floor_kind", "environment")]
    said = {c.predicate: c.object for g in facts for c in g}
    if ("floor_kind" in said or "environment" in said) and spec.world is None:
        spec = worlds.dress(spec, int(rng.integers(2**31)), (said.get("floor_kind", "checker"),),
                            (said["environment"],) if "environment" in said else tuple(worlds.ENVIRONMENTS),
                            textures=False)
    redraws = []
    if turn or any(p in said for p in CAMERA_FACTS):
        motion = next((m for m, p in CAMERA.items() if p in said), None)
        moves = (motion,) if motion else camera.MOTIONS
        focus = np.concatenate([trajectory.positions[::4].reshape(-1, 3),
                                np.reshape([s.position for s in spec.statics], (-1, 3))])
        pad = max(max(o.dims) for o in spec.objects) / 2
        clip = scenes.ClipFormat(spec.fps, spec.duration_s, spec.width, spec.height)
        azimuth = (spec.camera.azimuth_deg + 90.0 * turn + rng.uniform(-20.0, 20.0) * (turn > 0)) % 360.0
        redraws.append((CAMERA_FACTS, lambda s: dataclasses.replace(
            s, camera=sampling.frame_camera(rng, focus, pad, clip, azimuth, moves))))
        if turn:
            spec = redraws[-1][1](spec)
    if "floor_colours" in said and spec.world is None:
        redraws.append((("floor_colours",), lambda s: dataclasses.replace(s, floor=sampling.sample_floor(rng))))
    for predicates, redraw in redraws:  # each redraw until its own facts hold
        own = [g for g in facts if g[0].predicate in predicates]
        for _ in range(REDRAW):
            if _look_holds(own, spec, trajectory):
                break
            spec = redraw(spec)
    return spec



def _look_holds(facts, spec, trajectory) -> bool:
    world = World(spec, trajectory)
    return all(any(_fact(c, world) for c in g) for g in facts)


def _fact(c: Claim, world: World) -> bool:
    end = (world.traj.num_frames - 1) / world.traj.fps
    claim = dataclasses.replace(c, t_end=end) if c.predicate in CAMERA_FACTS else c
    return check_claim(claim, world) is None


# --- entailment ------------------------------------------------------------------------------


def entail(prompt: Prompt, spec, trajectory, captions: Captions) -> tuple[dict[str, str] | None, str]:
    """(binding of prompt objects to bodies under which every claim group holds, "") or (None, the
    words of the claim no binding could make true)."""
    return entail_claims(prompt.claims, prompt.sources, [e.name for e in prompt.entities], spec, trajectory, captions)


def entail_claims(groups, sources, entities: list[str], spec, trajectory, captions: Captions):
    """`entail` for any claim groups over named prompt objects (the round trip feeds a caption's own claims)."""
    world = World(spec, trajectory)
    said = [c for c in captions.claims if c.world == CLIP]
    bodies = [o.name for o in spec.objects]
    memo: dict[Claim, bool] = {}

    def holds(c: Claim) -> bool:
        if c not in memo:
            memo[c] = _holds(c, world, said)
        return memo[c]

    def mentions(group) -> set[str]:
        return {n for c in group for n in (c.subject, c.object) if n in entities}

    deepest = [(-1, -1), sources[0] if sources else ""]  # ((objects bound, group), words) of the furthest miss

    def search(k: int, bind: dict[str, str]):
        """Bind entities[k:], checking each claim group once all the objects it names are bound."""
        new = entities[k - 1] if k else None
        for g, (group, source) in enumerate(zip(groups, sources)):
            names = mentions(group)
            if names <= set(bind) and (new in names if k else not names):
                if not any(holds(_bound(c, bind)) for c in group):
                    if (k, g) > deepest[0]:
                        deepest[:] = [(k, g), source]
                    return None
        if k == len(entities):
            return dict(bind)
        for body in bodies:
            if body not in bind.values():
                got = search(k + 1, {**bind, entities[k]: body})
                if got is not None:
                    return got
        return None

    found = search(0, {})
    return (found, "") if found is not None else (None, deepest[1])


def _bound(c: Claim, bind: dict[str, str]) -> Claim:
    return dataclasses.replace(c, subject=bind.get(c.subject, c.subject),
                               object=bind.get(c.object, c.object) if c.object else c.object)


def _holds(c: Claim, world: World, said: list[Claim]) -> bool:
    """A happening: one of the clip's own caption claims says it, and it holds (at the stated time)
    under the checker. Anything else: it holds under the checker."""
    if c.subject.startswith(ENTITY) and c.subject[1:].isdigit():
        return False  # an unbound prompt object
    if c.predicate not in HAPPENINGS:
        return _fact(c, world)
    said_as = {(c.predicate, c.subject, c.object)}
    if c.predicate == "collides":  # either way round; or the subject runs into the other (a hit is a collision)
        said_as |= {("collides", c.object, c.subject), ("hits", c.subject, c.object)}
    for d in said:
        if d.negated == c.negated and ((d.predicate, d.subject, d.object) in said_as or (
                c.object is None and (d.predicate, d.subject) == (c.predicate, c.subject))):
            claim = Claim(d.subject, c.predicate, d.object, d.t_start, d.t_end, c.params, d.negated)
            if check_claim(claim, world) is None:
                return True
    return False


# --- the round trip: a clip's short caption, read back and enacted, must say the caption again ----


UNSAID = ("count", "background_colour")  # short-caption claims its English text never states (the setting's count, sky)


def short_claims(captions: Captions) -> list[Claim]:
    """The short caption's claims as a prompt would state them: no spans (a take has its own
    times), stated times kept; minus what the text leaves unsaid (UNSAID, the floor's check size)."""
    out = []
    for c in captions.claims_of(captions.short_passage.claims):
        if c.predicate in UNSAID:
            continue
        params = tuple(p for p in c.params if not (c.predicate == "floor_colours" and p[0] == "checks"))
        out.append(Claim(c.subject, c.predicate, c.object, 0.0, 0.0, params, c.negated))
    return out


def round_trip(scene: scenes.Scene, seed: int, physics: scenes.Physics | None = None, tries: int = TRIES) -> str | None:
    """None if the clip's short caption, parsed and enacted from `seed`, makes a take whose captions
    entail the caption's own claims; else why not, as "stage: what" (parse, enact or entail)."""
    from simreel.captioning.parse import PromptError, parse

    spec, trajectory = scene.spec, scene.trajectory
    captions = describe(spec, trajectory, ("en",), qa=False)
    try:
        prompt = parse(captions.short["en"])
    except PromptError as e:
        return f"parse: {e}"
    clip = scenes.ClipFormat(spec.fps, spec.duration_s, spec.width, spec.height)
    try:
        take = enact(prompt, seed, clip, tries, physics, ("en",))
    except EnactError as e:
        return f"enact: no take shows {e.missed}"
    claims = short_claims(captions)
    names = list(dict.fromkeys(n for c in claims for n in (c.subject, c.object) if n in {o.name for o in spec.objects}))
    sources = [c.predicate + (f" {c.object}" if c.object and c.object not in names and c.predicate in HAPPENINGS else "")
               + (" at a stated time" if c.param("at") else "") for c in claims]
    binding, why = entail_claims([(c,) for c in claims], sources, names, take.scene.spec, take.scene.trajectory,
                                 take.captions)
    return None if binding is not None else f"entail: {why}"
