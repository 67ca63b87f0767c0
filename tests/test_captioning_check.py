"""The checker has teeth: it accepts what is true and rejects what is false.

Hand-made trajectories pin down what words mean (a fall, a rest, "left of" under an
orbiting camera); mutated claims from real captions (wrong colour, swapped sides, wrong
count, rolled instead of slid...) must all be rejected.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simreel import captioning
from simreel import scenes
from simreel.captioning.check import World, check_claim, world_spec
from simreel.captioning.types import Claim
from simreel.scenes.types import CameraSpec, Event, FloorSpec, LightSpec, ObjectSpec, SceneSpec, Trajectory

FPS = 12


def _spec(objects, camera=None) -> SceneSpec:
    camera = camera or CameraSpec("static", (0.0, 0.0, 0.2), 4.0, 0.0, 25.0)
    return SceneSpec("test", 1, tuple(objects), camera, LightSpec(90.0, 60.0, 5.0, 0.3),
                     FloorSpec((120, 120, 120), (90, 90, 90), 0.5, (200, 220, 240)), fps=FPS, duration_s=2.0)


def _ball(name, x, z=0.15, colour="red") -> ObjectSpec:
    return ObjectSpec(name, "sphere", "small", (0.3, 0.3, 0.3), colour, "rubber", (x, 0.0, z))


def _trajectory(spec: SceneSpec, positions: np.ndarray, events=()) -> Trajectory:
    T, N = positions.shape[:2]
    velocities = np.gradient(positions, 1 / FPS, axis=0)
    orientations = np.tile([0.0, 0.0, 0.0, 1.0], (T, N, 1))
    return Trajectory(FPS, tuple(o.name for o in spec.objects), positions, orientations, velocities,
                      np.zeros((T, N, 3)), tuple(events))


def test_a_dropped_ball_falls_lands_and_rests():
    spec = _spec([_ball("a", 0.0, z=1.5)])
    t = np.arange(24) / FPS
    z = np.maximum(1.5 - 0.5 * 9.81 * t**2, 0.15)  # lands at t ~ 0.5 s, then lies still
    positions = np.stack([np.zeros(24), np.zeros(24), z], axis=1)[:, None, :]
    landing = int(np.argmax(z <= 0.15))
    traj = _trajectory(spec, positions, [Event("contact_begin", landing, landing / FPS, ("a", "floor"), 1.0)])
    world = World(spec, traj)
    holds = lambda c: check_claim(c, world) is None  # noqa: E731
    end = 23 / FPS
    assert holds(Claim("a", "falls", None, 0.0, landing / FPS))
    assert not holds(Claim("a", "falls", None, landing / FPS, end))  # lying still is not falling
    assert holds(Claim("a", "lands_on", "floor", (landing - 1) / FPS, (landing + 1) / FPS))
    assert not holds(Claim("a", "lands_on", "floor", 0.0, (landing - 2) / FPS))
    assert holds(Claim("a", "rests", None, (landing + 1) / FPS, end))
    assert not holds(Claim("a", "rests", None, 0.0, end))
    assert not holds(Claim("a", "rests", None, (landing + 1) / FPS, 1.0))  # rest must run to the end
    assert holds(Claim("a", "in_air", None, 0.0, 0.0)) and holds(Claim("a", "on_floor", None, end, end))
    assert holds(Claim("a", "moves", None, 0.0, end)) and holds(Claim("a", "moves", None, 1.0, end, negated=True))
    assert not holds(Claim("a", "rests", None, (landing + 1) / FPS, end, params=(("at", 1.8),)))  # wrong stated time


def test_left_and_right_follow_the_camera_of_the_moment():
    """Two still balls; the camera orbits half way round, so left and right swap by the end."""
    orbit = CameraSpec("orbit", (0.0, 0.0, 0.15), 4.0, 0.0, 25.0, amount=180.0)
    spec = _spec([_ball("a", -0.6), _ball("b", 0.6, colour="blue")], orbit)
    positions = np.tile([[-0.6, 0.0, 0.15], [0.6, 0.0, 0.15]], (24, 1, 1))
    world = World(spec, _trajectory(spec, positions))
    end = 23 / FPS
    assert check_claim(Claim("a", "left_of", "b", 0.0, 0.0), world) is None
    assert check_claim(Claim("a", "left_of", "b", end, end), world) is not None
    assert check_claim(Claim("a", "right_of", "b", end, end), world) is None
    assert check_claim(Claim("a", "screen_side", "left", 0.0, 0.0), world) is None
    assert check_claim(Claim("a", "screen_side", "right", end, end), world) is None
    assert check_claim(Claim("camera", "camera_orbits", "right", 0.0, end), world) is None
    assert check_claim(Claim("camera", "camera_orbits", "left", 0.0, end), world) is not None


def test_worlds_name_the_scene_they_simulate():
    spec = _spec([_ball("a", 0.0), _ball("b", 1.0, colour="blue")])
    assert world_spec(spec, "extended:3.5").duration_s == 3.5
    assert [o.name for o in world_spec(spec, "without:a").objects] == ["b"]
    with pytest.raises(KeyError, match="no object 'c'"):
        world_spec(spec, "without:c")
    with pytest.raises(ValueError, match="unknown predicate"):
        Claim("a", "levitates")


def _mutations(c: Claim, spec: SceneSpec) -> list[Claim]:
    """False versions of a true claim: the same statement with one word changed."""
    r = dataclasses.replace
    swap = {"left_of": "right_of", "right_of": "left_of", "in_front_of": "behind", "behind": "in_front_of",
            "rolls": "slides", "slides": "rolls", "exits_view": "enters_view", "on_floor": "in_air"}
    opposite = {"left": "right", "right": "left", "toward_camera": "away_from_camera", "away_from_camera": "toward_camera",
                "in": "out", "out": "in", "front": "back", "back": "front", "bright": "soft", "soft": "bright",
                "high": "low", "low": "high"}
    p = c.predicate
    if p in ("colour", "shape", "material", "size"):
        values = {"colour": scenes.vocabulary.COLOURS, "shape": scenes.vocabulary.SHAPES,
                  "material": scenes.vocabulary.MATERIALS, "size": scenes.vocabulary.SIZES}[p]
        return [r(c, object=v) for v in values if v != c.object][:2]
    if p in ("count", "count_moved"):
        return [r(c, params=tuple((k, v + 1 if k == "n" else v) for k, v in c.params))]
    if p in swap and not c.negated:
        return [r(c, predicate=swap[p])]
    if p in ("moves_dir", "screen_side", "camera_orbits", "camera_tracks", "camera_dollies", "light_side",
             "light_strength", "light_height") and c.object in opposite:
        return [r(c, object=opposite[c.object])]
    if p == "first_contact":
        return [r(c, object=o.name) for o in spec.objects if o.name not in (c.subject, c.object)][:1]
    if p in ("topples", "falls") and not c.negated:
        return [r(c, t_end=c.t_start)]  # nothing happens in no time
    if p == "rests":
        return [r(c, t_start=0.0, params=())]
    if p == "background_colour":
        return [r(c, object="green")]
    if p == "floor_colours":
        return [r(c, params=(("colours", ("pale blue", "pale blue")),))]
    return []


@pytest.mark.parametrize("family", ["drop", "collide", "ramp", "topple", "throw"])
def test_the_checker_rejects_falsified_claims(family):
    clip = scenes.ClipFormat(fps=FPS, duration_s=2.0)
    tried, kinds = 0, set()
    for seed in range(6):
        scene = scenes.make(family, 1000 + seed, clip)
        caps = captioning.describe(scene.spec, scene.trajectory, qa=False)
        world = World(scene.spec, scene.trajectory)
        for claim in caps.claims:
            assert check_claim(claim, world) is None, claim
            for false in _mutations(claim, scene.spec):
                assert check_claim(false, world) is not None, (claim, false)
                tried += 1
                kinds.add(claim.predicate)
    assert tried > 60 and len(kinds) >= 12, (tried, sorted(kinds))


def test_floor_and_sky_words_agree_with_the_checker_across_the_sampler():
    """The generator names colours in CIELAB; the checker judges them in HSV. Over the
    floors and skies scenes actually samples, every word used must pass, and most get one."""
    from simreel.captioning.check import colour_name_fits
    from simreel.captioning.colours import muted_name, sky_name
    from simreel.scenes.sampling import sample_floor

    named = 0
    for seed in range(3000):
        floor = sample_floor(np.random.default_rng(seed))
        for rgb, name in ((floor.colour_a, muted_name(floor.colour_a)), (floor.colour_b, muted_name(floor.colour_b)),
                          (floor.background, sky_name(floor.background))):
            if name is not None:
                assert colour_name_fits(name, rgb), (name, rgb)
                named += 1
    assert named > 3000 * 3 * 0.4
    assert not colour_name_fits("pale blue", (90, 90, 90)) and not colour_name_fits("gray", (40, 90, 200))
