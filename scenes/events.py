"""Events: the happenings a caption may state, read off the simulated ground truth.

Each physical happening becomes exactly one Event at the frame nearest to it, so a
caption claim ("the red ball bounces twice") can be checked by counting events.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simreel.scenes import camera
from simreel.scenes.types import EVENT_KINDS, PHYSICS_HZ, Event, SceneSpec, Trajectory

if TYPE_CHECKING:
    from simreel.scenes.physics import Contact

BOUNCE_MIN_SPEED_M_S = 0.3  # rebound speed along the contact normal that counts as a bounce
BOUNCE_MAX_CONTACT_S = 0.1  # longer touches are landings or slides, not bounces
REST_SPEED_M_S = 0.05
REST_SPIN_RAD_S = 0.5
REST_MIN_S = 0.25  # a pause shorter than this at the clip's end is not "comes to rest"
REST_MIN_TRAVEL_M = 0.03  # only an object that moved this far (or turned this much) "comes" to rest
REST_MIN_TURN_DEG = 15.0
TOPPLE_DEG = 45.0
VIEW_MIN_FRAMES = 2  # a view change must hold this many frames (or to the end) to count
TOPPLE_SHAPES = ("cube", "block", "cylinder", "cone", "capsule")  # spheres and rocks have no "up"
SYMMETRIC_UP_SHAPES = ("cylinder", "cone", "capsule")  # only their own z axis is "up"


def derive(spec: SceneSpec, trajectory: Trajectory, contacts: list[Contact]) -> tuple[Event, ...]:
    """All events of a simulated clip, sorted by (frame, kind, subjects)."""
    steps_per_frame = PHYSICS_HZ // spec.fps
    frames = trajectory.num_frames
    touching = _touching(trajectory.names, contacts, frames, steps_per_frame)
    found = (
        _contact_events(contacts, spec.fps, frames)
        + _bounces(spec, contacts, frames)
        + _rests(spec, trajectory, touching)
        + _topples(spec, trajectory, touching)
        + _view_changes(spec, trajectory)
    )
    return tuple(sorted(found, key=lambda e: (e.frame, e.time_s, EVENT_KINDS.index(e.kind), e.subjects)))


def _frame_of_step(step: int, fps: int, frames: int) -> int:
    return min(int(math.floor(step * fps / PHYSICS_HZ + 0.5)), frames - 1)


def _step_event(kind: str, step: int, subjects, spec_fps: int, frames: int, value: float = 0.0, **contact) -> Event:
    return Event(kind, _frame_of_step(step, spec_fps, frames), step / PHYSICS_HZ, tuple(subjects), float(value), **contact)


def _frame_event(kind: str, frame: int, subjects, fps: int, value: float = 0.0) -> Event:
    return Event(kind, frame, frame / fps, tuple(subjects), float(value))


def _contact_events(contacts, fps: int, frames: int) -> list[Event]:
    out = []
    for c in contacts:
        out.append(_step_event("contact_begin", c.begin, (c.a, c.b), fps, frames, c.peak_impulse,
                               impulse=float(c.peak_impulse), normal=tuple(float(x) for x in c.normal)))
        if c.end is not None:
            out.append(_step_event("contact_end", c.end, (c.a, c.b), fps, frames))
    return out


def _bounces(spec: SceneSpec, contacts, frames: int) -> list[Event]:
    """A brief touch of a surface after which the object leaves it fast enough."""
    surfaces = {"floor", *(s.name for s in spec.statics)}
    out = []
    for c in contacts:
        if c.b not in surfaces or c.end is None or (c.end - c.begin) / PHYSICS_HZ > BOUNCE_MAX_CONTACT_S:
            continue
        rebound = float(np.dot(c.separation_velocity, c.normal))
        if rebound >= BOUNCE_MIN_SPEED_M_S:
            out.append(_step_event("bounce", c.begin, (c.a, c.b), spec.fps, frames, rebound))
    return out


def _touching(names, contacts, frames: int, steps_per_frame: int) -> np.ndarray:
    """[T, N] bool: object touches anything (debounced) at each frame."""
    index = {n: i for i, n in enumerate(names)}
    out = np.zeros((frames, len(names)), dtype=bool)
    steps = np.arange(frames) * steps_per_frame
    for c in contacts:
        during = (steps >= c.begin) & (steps <= (c.last if c.end is None else c.end - 1))
        for name in (c.a, c.b):
            if name in index:
                out[during, index[name]] = True
    return out


def _rests(spec: SceneSpec, trajectory: Trajectory, touching: np.ndarray) -> list[Event]:
    """The frame from which an object that moved stays still, supported, to the end of the clip.

    "Moved" means visibly: settling the 2 mm gap samplers leave under a resting body is not
    a happening a caption should report.
    """
    speed = np.linalg.norm(trajectory.linear_velocities, axis=-1)
    spin = np.linalg.norm(trajectory.angular_velocities, axis=-1)
    settled = (speed < REST_SPEED_M_S) & (spin < REST_SPIN_RAD_S) & touching
    shift = np.linalg.norm(trajectory.positions - trajectory.positions[:1], axis=-1)
    turn = 2 * np.degrees(np.arccos(np.clip(np.abs((trajectory.orientations * trajectory.orientations[:1]).sum(-1)), 0, 1)))
    frames = trajectory.num_frames
    min_frames = max(3, math.ceil(REST_MIN_S * spec.fps))
    out = []
    for i, name in enumerate(trajectory.names):
        unsettled = np.flatnonzero(~settled[:, i])
        start = int(unsettled[-1]) + 1 if len(unsettled) else 0
        moved = start > 0 and (shift[:start, i].max() >= REST_MIN_TRAVEL_M or turn[:start, i].max() >= REST_MIN_TURN_DEG)
        if moved and frames - start >= min_frames:
            out.append(_frame_event("rest", start, (name,), spec.fps))
    return out


def _up_axes(q: np.ndarray) -> np.ndarray:
    """World-z component of each body axis: [..., 3] for body x, y, z, from quaternions x y z w."""
    x, y, z, w = (q[..., k] for k in range(4))
    return np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1)


def _topples(spec: SceneSpec, trajectory: Trajectory, touching: np.ndarray) -> list[Event]:
    """An object standing on a face at frame 0 whose up axis later tilts past 45 degrees while supported.

    Requiring support keeps spinning projectiles from "toppling" in mid-air; a knocked
    block that tumbles and lands on its side topples at the frame it lands.
    """
    cos_limit = math.cos(math.radians(TOPPLE_DEG))
    out = []
    for i, obj in enumerate(spec.objects):
        if obj.shape not in TOPPLE_SHAPES:
            continue
        verticals = _up_axes(trajectory.orientations[:, i])  # [T, 3]
        axes = (2,) if obj.shape in SYMMETRIC_UP_SHAPES else (0, 1, 2)
        axis = max(axes, key=lambda k: abs(verticals[0, k]))
        sign = 1.0 if verticals[0, axis] >= 0 else -1.0
        if obj.shape == "cone":
            sign = 1.0  # a cone on its tip is not upright; on its base it is
        if sign * verticals[0, axis] < cos_limit:
            continue  # not standing upright at the start
        tilted = (sign * verticals[:, axis] < cos_limit) & touching[:, i]
        hits = np.flatnonzero(tilted)
        if len(hits):
            out.append(_frame_event("topple", int(hits[0]), (obj.name,), spec.fps))
    return out


def _view_changes(spec: SceneSpec, trajectory: Trajectory) -> list[Event]:
    """exit_view / enter_view when an object's centre crosses the image border for good."""
    K, poses = camera.scene_cameras(spec)
    inside = np.stack([camera.in_image(p, pose, K, spec.width, spec.height) for p, pose in zip(trajectory.positions, poses)])
    out = []
    for i, name in enumerate(trajectory.names):
        state = bool(inside[0, i])
        for f in range(1, len(inside)):
            window = inside[f : f + VIEW_MIN_FRAMES, i]
            if inside[f, i] != state and (window == inside[f, i]).all():
                state = bool(inside[f, i])
                out.append(_frame_event("enter_view" if state else "exit_view", f, (name,), spec.fps))
    return out
