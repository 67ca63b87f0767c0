"""scenes: real pybullet runs checked against physics, the families' promises and the event contract."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from simreel import scenes
from simreel.scenes import camera, shapes, validity, vocabulary
from simreel.scenes.factory import MAX_ATTEMPTS
from simreel.scenes.sampling import rotation
from simreel.scenes.types import PHYSICS_HZ, CameraSpec, FloorSpec, LightSpec, ObjectSpec, SceneSpec

FAMILIES = ("drop", "collide", "ramp", "topple", "throw")
SEEDS = range(50)
CLIP = scenes.ClipFormat(fps=24, duration_s=2.0)  # the default clip
SHORT_CLIP = scenes.ClipFormat(fps=8, duration_s=1.0)  # what the tiny dataset config asks for


@functools.lru_cache(maxsize=None)
def _raw(family: str, clip: scenes.ClipFormat):
    """[(spec, trajectory or the InvalidScene raised)] straight from the sampler: no resampling."""
    runs = []
    for seed in SEEDS:
        spec = scenes.sample(family, seed, clip)
        try:
            validity.check_initial_view(spec)
            runs.append((spec, scenes.simulate(spec)))
        except validity.InvalidScene as e:
            runs.append((spec, e))
    return runs


@pytest.fixture(scope="module")
def raw_samples():
    return {family: _raw(family, CLIP) for family in FAMILIES}


def _simulated(raw_samples, family):
    return [(s, t) for s, t in raw_samples[family] if isinstance(t, scenes.Trajectory)]


# --- the families ------------------------------------------------------------------------


def test_builtin_families_are_registered():
    assert set(FAMILIES) <= set(scenes.FAMILIES)
    assert all(scenes.FAMILIES[f].summary for f in FAMILIES)


@pytest.mark.parametrize("clip", [CLIP, SHORT_CLIP], ids=["2s-24fps", "1s-8fps"])
@pytest.mark.parametrize("family", FAMILIES)
def test_family_keeps_its_promise_in_90_percent_of_raw_samples(family, clip):
    kept, failures = 0, []
    for spec, result in _raw(family, clip):
        if isinstance(result, validity.InvalidScene):
            failures.append((spec.seed, result.reason))
            continue
        rejection = scenes.check_promise(spec, result)
        if rejection is None:
            kept += 1
        else:
            failures.append((spec.seed, rejection.detail))
    assert kept >= 0.9 * len(SEEDS), failures


@pytest.mark.parametrize("family", FAMILIES)
def test_mechanical_energy_never_rises_by_more_than_2_percent_of_start(raw_samples, family):
    checked = 0
    for spec, traj in _simulated(raw_samples, family):
        energy = _mechanical_energy(spec, traj)
        worst_rise = float(np.diff(energy).max())
        assert worst_rise <= 0.02 * energy[0], (spec.seed, worst_rise / energy[0])
        checked += 1
    assert checked >= 45


def _mechanical_energy(spec: SceneSpec, traj: scenes.Trajectory) -> np.ndarray:
    """[T] potential + translational + rotational energy, with each body's own inertia."""
    total = np.zeros(traj.num_frames)
    for i, obj in enumerate(spec.objects):
        mass, inertia = shapes.mass_properties(obj, vocabulary.MATERIALS[obj.material].density)
        v = traj.linear_velocities[:, i]
        w_body = np.stack([rotation(tuple(q)).T @ w for q, w in zip(traj.orientations[:, i], traj.angular_velocities[:, i])])
        total += mass * spec.gravity * traj.positions[:, i, 2]
        total += 0.5 * mass * (v * v).sum(-1) + 0.5 * (w_body * w_body * inertia).sum(-1)
    return total


@pytest.mark.parametrize("family", ["drop", "throw"])
def test_free_flight_accelerates_at_g_and_keeps_horizontal_speed(raw_samples, family):
    """Before its first contact a body's vertical acceleration is -g (within 2%): no damping, no drag."""
    checked = 0
    for spec, traj in _simulated(raw_samples, family):
        for i, name in enumerate(traj.names):
            first_touch = min((e.time_s for e in traj.events if e.kind == "contact_begin" and name in e.subjects), default=None)
            last_step = round(first_touch * PHYSICS_HZ) - 1 if first_touch is not None else 10**9
            for f in range(1, traj.num_frames - 1):
                if (f + 1) * PHYSICS_HZ // spec.fps > last_step:
                    break
                accel = (traj.positions[f + 1, i] - 2 * traj.positions[f, i] + traj.positions[f - 1, i]) * spec.fps**2
                assert abs(accel[2] + spec.gravity) <= 0.02 * spec.gravity, (spec.seed, name, f, accel)
                assert np.abs(accel[:2]).max() <= 0.02 * spec.gravity, (spec.seed, name, f, accel)
                checked += 1
    assert checked > 200


@pytest.mark.parametrize("family", FAMILIES)
def test_sampled_specs_are_well_formed(raw_samples, family):
    motions = set()
    for spec, result in raw_samples[family]:
        assert not isinstance(result, validity.InvalidScene), (spec.seed, result)
        assert [o.name for o in spec.objects] == [f"obj{i}" for i in range(len(spec.objects))]
        looks = [(o.colour, o.shape, o.size, o.material) for o in spec.objects]
        assert len(set(looks)) == len(looks), "two objects a caption could not tell apart"
        for o in spec.objects:
            lo, hi = vocabulary.SIZES[o.size]
            assert lo <= max(o.dims) <= hi + 1e-9, (o.name, o.size, o.dims)  # the size word is true
            assert o.colour in vocabulary.COLOURS and o.material in vocabulary.MATERIALS
        start = np.array([o.position for o in spec.objects])
        assert np.ptp(start[:, :2], axis=0).max() <= 3.0, "layout wider than the ~3 m a 64x64 camera can show"
        assert spec.camera.motion in camera.MOTIONS
        motions.add(spec.camera.motion)
        assert (spec.fps, spec.duration_s, spec.width, spec.height) == (24, 2.0, 64, 64)
        assert SceneSpec.from_dict(json.loads(spec.to_json())) == spec
    assert motions == set(camera.MOTIONS)


@pytest.mark.parametrize("family", FAMILIES)
def test_events_are_ordered_framed_and_name_real_bodies(raw_samples, family):
    for spec, traj in _simulated(raw_samples, family):
        bodies = {o.name for o in spec.objects} | {"floor"} | {s.name for s in spec.statics}
        frames = [e.frame for e in traj.events]
        assert frames == sorted(frames)
        for e in traj.events:
            assert e.kind in scenes.EVENT_KINDS and 0 <= e.frame < traj.num_frames
            assert abs(e.time_s - e.frame / spec.fps) <= 0.5 / spec.fps + 1e-9
            assert set(e.subjects) <= bodies
            if e.kind == "contact_begin":
                assert e.value > 0  # peak impulse of a real touch
        # at most one open contact per pair at any time: begins and ends alternate
        open_pairs = set()
        for e in traj.events:
            if e.kind == "contact_begin":
                assert e.subjects not in open_pairs
                open_pairs.add(e.subjects)
            elif e.kind == "contact_end":
                open_pairs.remove(e.subjects)


def test_the_same_seed_gives_a_bit_identical_scene_in_a_new_process():
    code = (
        "import hashlib\n"
        "from simreel import scenes\n"
        "for f in " + repr(FAMILIES) + ":\n"
        "    s = scenes.make(f, 11, scenes.ClipFormat(duration_s=1.0))\n"
        "    t = s.trajectory\n"
        "    h = hashlib.sha256(s.spec.to_json().encode())\n"
        "    for a in (t.positions, t.orientations, t.linear_velocities, t.angular_velocities): h.update(a.tobytes())\n"
        "    h.update(repr(t.events).encode())\n"
        "    print(f, h.hexdigest())\n"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    here = []
    for family in FAMILIES:
        s = scenes.make(family, 11, scenes.ClipFormat(duration_s=1.0))
        t = s.trajectory
        assert all(a.dtype == np.float64 for a in (t.positions, t.orientations, t.linear_velocities, t.angular_velocities))
        h = hashlib.sha256(s.spec.to_json().encode())
        for a in (t.positions, t.orientations, t.linear_velocities, t.angular_velocities):
            h.update(a.tobytes())
        h.update(repr(t.events).encode())
        here += [family, h.hexdigest()]
    assert child == here


def test_trajectory_round_trips_through_json():
    scene = scenes.make("topple", 3, scenes.ClipFormat(duration_s=1.0))
    back = scenes.Trajectory.from_dict(json.loads(json.dumps(scene.trajectory.to_dict())))
    assert back.events == scene.trajectory.events and back.names == scene.trajectory.names
    np.testing.assert_array_equal(back.positions, scene.trajectory.positions)
    np.testing.assert_array_equal(back.angular_velocities, scene.trajectory.angular_velocities)


# --- events on hand-built scenes ---------------------------------------------------------


def _scene(*objects: ObjectSpec, duration_s=2.0, camera_spec=None) -> SceneSpec:
    return SceneSpec(
        family="test", seed=0, objects=tuple(objects),
        camera=camera_spec or CameraSpec("static", (0.0, 0.0, 0.5), 5.0, 0.0, 20.0),
        light=LightSpec(0.0, 60.0, 4.0, 0.3), floor=FloorSpec((120, 120, 120), (100, 100, 100), 0.5, (200, 210, 230)),
        duration_s=duration_s,
    )


def _obj(name, shape, dims, material, position, **kw) -> ObjectSpec:
    return ObjectSpec(name, shape, "medium", dims, "red", material, position, **kw)


def _events(traj, kind, *subjects):
    return [e for e in traj.events if e.kind == kind and (not subjects or e.subjects == subjects)]


def test_a_box_landing_is_one_contact_then_rest_despite_many_contact_points():
    box = _obj("obj0", "cube", (0.3, 0.3, 0.3), "ice", (0.0, 0.0, 0.65))
    traj = scenes.simulate(_scene(box))
    begins = _events(traj, "contact_begin", "obj0", "floor")
    assert len(begins) == 1 and not _events(traj, "contact_end") and not _events(traj, "bounce")
    fall_time = math.sqrt(2 * 0.5 / 9.81)
    assert begins[0].time_s == pytest.approx(fall_time, abs=2 / PHYSICS_HZ)
    # the peak is the largest impulse of one physics step: part of the momentum stopped, never more than all of it
    momentum = box_mass(box) * 9.81 * fall_time
    assert 0.25 * momentum <= begins[0].value <= (1 + 0.075) * momentum
    (rest,) = _events(traj, "rest", "obj0")
    assert rest.frame > begins[0].frame
    assert np.linalg.norm(traj.linear_velocities[rest.frame :, 0], axis=-1).max() < 0.05


def box_mass(obj):
    return shapes.mass_properties(obj, vocabulary.MATERIALS[obj.material].density)[0]


def test_a_rubber_ball_bounces_with_the_combined_restitution():
    ball = _obj("obj0", "sphere", (0.3, 0.3, 0.3), "rubber", (0.0, 0.0, 1.15))
    traj = scenes.simulate(_scene(ball))
    bounces = _events(traj, "bounce", "obj0", "floor")
    e = vocabulary.MATERIALS["rubber"].restitution * vocabulary.FLOOR_MATERIAL.restitution
    assert len(bounces) >= 2
    assert bounces[0].value == pytest.approx(e * math.sqrt(2 * 9.81 * 1.0), rel=0.1)
    assert bounces[1].value == pytest.approx(e * bounces[0].value, rel=0.15)
    begins, ends = _events(traj, "contact_begin"), _events(traj, "contact_end")
    assert len(ends) >= len(bounces) and len(begins) == len(ends) + (0 if ends[-1].time_s > begins[-1].time_s else 1)
    for bounce in bounces:  # each bounce is the start of one brief touch
        assert any(b.time_s == bounce.time_s for b in begins)


def test_a_pushed_pillar_topples_at_the_frame_it_passes_45_degrees():
    pillar = _obj("obj0", "block", (0.12, 0.2, 0.6), "wood", (0.0, 0.0, 0.302), angular_velocity=(0.0, 2.5, 0.0),
                  linear_velocity=(0.75, 0.0, 0.0))
    traj = scenes.simulate(_scene(pillar))
    (topple,) = _events(traj, "topple", "obj0")
    tilt = np.degrees(np.arccos([rotation(tuple(q))[2, 2] for q in traj.orientations[:, 0]]))
    assert topple.frame == int(np.argmax(tilt > 45.0))
    assert _events(traj, "rest", "obj0")


def test_rolling_out_of_a_static_camera_is_one_exit_at_the_right_frame():
    r = 0.15
    ball = _obj("obj0", "sphere", (2 * r,) * 3, "metal", (0.0, 0.0, r + 0.002),
                linear_velocity=(3.0, 0.0, 0.0), angular_velocity=(0.0, 3.0 / r, 0.0))
    cam = CameraSpec("static", (0.0, 0.0, 0.3), 3.0, 0.0, 15.0)
    spec = _scene(ball, camera_spec=cam)
    traj = scenes.simulate(spec)
    (exit_event,) = _events(traj, "exit_view")
    assert not _events(traj, "enter_view")
    K, poses = camera.scene_cameras(spec)
    (u, _), _ = camera.project(traj.positions[exit_event.frame, 0], poses[exit_event.frame], K)
    (u_before, _), _ = camera.project(traj.positions[exit_event.frame - 1, 0], poses[exit_event.frame - 1], K)
    assert u >= spec.width > u_before


def test_a_stack_is_one_contact_per_pair():
    lower = _obj("obj0", "cube", (0.4, 0.4, 0.4), "wood", (0.0, 0.0, 0.202))
    upper = dataclasses.replace(lower, name="obj1", colour="blue", dims=(0.3, 0.3, 0.3), position=(0.0, 0.0, 0.554))
    traj = scenes.simulate(_scene(lower, upper))
    pairs = [e.subjects for e in _events(traj, "contact_begin")]
    assert sorted(pairs) == [("obj0", "floor"), ("obj0", "obj1")]
    assert not _events(traj, "contact_end") and not _events(traj, "rest")  # never moved, so never "came" to rest


# --- validity and rejection --------------------------------------------------------------


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"position": (0.1, 0.0, 0.2)}, "interpenetrating"),  # inside obj0
        ({"position": (0.0, 0.0, 0.05)}, "interpenetrating"),  # into the floor
        ({"linear_velocity": (60.0, 0.0, 0.0)}, "exploded"),
        ({"position": (math.nan, 0.0, 1.0)}, "nan"),
    ],
)
def test_unusable_physics_raises_a_named_reason(change, reason):
    base = _obj("obj0", "cube", (0.3, 0.3, 0.3), "wood", (0.0, 0.0, 0.152))
    other = dataclasses.replace(base, **{"name": "obj1", "colour": "blue", "position": (1.0, 0.0, 0.152), **change})
    with pytest.raises(validity.InvalidScene) as raised:
        scenes.simulate(_scene(base, other, duration_s=0.5))
    assert raised.value.reason == reason and raised.value.detail


def _always_overlapping(rng, clip):
    draft = scenes.SceneDraft(rng, clip)
    a = draft.pick(shapes=("cube",))
    draft.add(a, (0.0, 0.0, 1.0))
    draft.add(draft.pick(shapes=("cube",)), (0.05, 0.0, 1.0))
    return draft.finish()


def _one_ball(rng, clip):
    draft = scenes.SceneDraft(rng, clip)
    draft.add(draft.pick(shapes=("sphere",)), (0.0, 0.0, float(rng.uniform(0.5, 1.0))))
    return draft.finish()


def _looks_away(rng, clip):
    spec = _one_ball(rng, clip)  # framed for the ball at <= 1 m, then the ball is lifted far overhead
    return dataclasses.replace(spec, objects=(dataclasses.replace(spec.objects[0], position=(0.0, 0.0, 100.0)),))


@pytest.fixture
def test_families():
    """Families that misbehave on purpose, registered for one test only (the registry is global)."""
    before = dict(scenes.FAMILIES)
    scenes.register_family("test_overlapping")(_always_overlapping)
    scenes.register_family("test_odd_seeds_fail", promise=lambda spec, traj: "odd seed" if spec.seed % 2 else None)(_one_ball)
    scenes.register_family("test_looks_away")(_looks_away)
    yield
    scenes.FAMILIES.clear()
    scenes.FAMILIES.update(before)


@pytest.mark.usefixtures("test_families")
def test_make_resamples_from_derived_seeds_and_returns_the_rejections():
    clip = scenes.ClipFormat(duration_s=0.5)
    scene = scenes.make("test_odd_seeds_fail", 1, clip)
    assert scene.spec.seed % 2 == 0 and scene.rejections
    assert all(r.reason == "promise_broken" and r.detail == "odd seed" for r in scene.rejections)
    assert [r.seed for r in scene.rejections] == [scenes.attempt_seed(1, k) for k in range(len(scene.rejections))]
    assert scene.spec.seed == scenes.attempt_seed(1, len(scene.rejections))
    again = scenes.make("test_odd_seeds_fail", 1, clip)
    assert again.spec == scene.spec and again.rejections == scene.rejections


@pytest.mark.usefixtures("test_families")
@pytest.mark.parametrize("family, reason", [("test_overlapping", "interpenetrating"), ("test_looks_away", "out_of_view")])
def test_a_family_that_never_validates_fails_loudly_with_every_reason(family, reason):
    with pytest.raises(scenes.SceneRejected) as raised:
        scenes.make(family, 5, scenes.ClipFormat(duration_s=0.5))
    rejections = raised.value.rejections
    assert len(rejections) == MAX_ATTEMPTS
    assert {r.reason for r in rejections} == {reason} and all(r.detail for r in rejections)
    assert len({r.seed for r in rejections}) == len(rejections)
    assert reason in str(raised.value)


def test_builtin_families_record_rejections_with_known_reasons():
    for family in FAMILIES:
        for seed in range(3):
            scene = scenes.make(family, seed, CLIP)
            assert all(r.reason in validity.REASONS and r.detail for r in scene.rejections)
            assert scenes.check_promise(scene.spec, scene.trajectory) is None


def test_bad_clip_formats_name_the_valid_choices():
    with pytest.raises(ValueError, match="choose one of"):
        scenes.ClipFormat(fps=25)
    with pytest.raises(ValueError, match="even"):
        scenes.ClipFormat(width=63)
    with pytest.raises(ValueError, match="choose one of"):
        scenes.make("nope", 0)
