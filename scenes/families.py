"""The built-in scene families: each a seeded sampler (rng, clip) -> SceneSpec plus its promise.

Layouts stay within about 3 m so a 64x64 camera still sees objects a few pixels
wide; speeds stay well under validity's bounds. Each promise names the happening a
caption of the family may rely on; `scenes.make` resamples clips that lack it.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from simreel.scenes import vocabulary
from simreel.scenes.registry import register_family
from simreel.scenes.sampling import (
    GAP_M, SceneDraft, extent_below, quat_about, quat_mul, radius, random_orientation, rotation,
)
from simreel.scenes.types import ClipFormat, SceneSpec, Trajectory


def _contacts(trajectory: Trajectory) -> list[tuple[str, ...]]:
    return [e.subjects for e in trajectory.events if e.kind == "contact_begin"]


def _deadline(clip: ClipFormat) -> float:
    """Seconds by which a family's promised happening should have happened.

    Families size heights, distances and speeds to it, so short clips (datasets use 1 s)
    still show the happening and leave time for its aftermath.
    """
    return min(0.6 * clip.duration_s, 1.5)


def _disc(rng: np.random.Generator, r: float) -> np.ndarray:
    angle, rad = rng.uniform(0, 2 * math.pi), r * math.sqrt(rng.uniform(0, 1))
    return np.array([rad * math.cos(angle), rad * math.sin(angle)])


# --- drop --------------------------------------------------------------------------------


def _drop_promise(spec: SceneSpec, trajectory: Trajectory) -> str | None:
    touched = {name for pair in _contacts(trajectory) for name in pair}
    missing = [o.name for o in spec.objects if o.name not in touched]
    if missing:
        return f"{', '.join(missing)} never touched anything"
    if "floor" not in touched:
        return "nothing reached the floor"
    return None


@register_family("drop", promise=_drop_promise)
def drop(rng: np.random.Generator, clip: ClipFormat) -> SceneSpec:
    """Objects fall from rest and settle on the floor, or land on each other when dropped in a column."""
    draft = SceneDraft(rng, clip)
    fall = min(1.3, 0.45 * 9.81 * _deadline(clip) ** 2)  # longest drop that lands in time
    column = rng.random() < 0.3
    n = int(rng.integers(2, 4)) if column else int(rng.integers(1, 5))
    placed: list[tuple[np.ndarray, float]] = []
    for _ in range(n):
        obj = draft.pick(sizes=("small", "medium") if column else ("small", "medium", "large"))
        r = radius(obj)
        if column:  # each one above the last: they stack or tumble off each other
            top = max((c[2] + rc for c, rc in placed), default=0.0)
            centre = np.array([*rng.normal(0.0, 0.04, 2), top + r + rng.uniform(0.05, min(0.3, fall / 2))])
        else:
            for _attempt in range(50):
                centre = np.array([*_disc(rng, 0.7), r + rng.uniform(min(0.3, fall / 2), fall)])
                if all(np.linalg.norm(centre - c) > r + rc + 0.02 for c, rc in placed):
                    break
            else:  # no room at these heights: drop it from above everything
                centre[2] = max(c[2] + rc for c, rc in placed) + r + 0.05
        placed.append((centre, r))
        orientation = random_orientation(rng) if rng.random() < 0.7 else (0.0, 0.0, 0.0, 1.0)
        draft.add(obj, centre, orientation)
        draft.see((centre[0], centre[1], 0.0))
    return draft.finish({"layout": "column" if column else "scatter"})


# --- collide -----------------------------------------------------------------------------


MOVER_SHAPES = ("cube", "block", "sphere", "cylinder", "capsule")


def _collide_promise(spec: SceneSpec, trajectory: Trajectory) -> str | None:
    objects = {o.name for o in spec.objects}
    if any(set(pair) <= objects for pair in _contacts(trajectory)):
        return None
    return "no two objects touched"


def _floor_pose(obj, heading: float, rng: np.random.Generator, moving: bool):
    """(orientation, rolling radius or None) for an object set down on the floor facing `heading`.

    Launched cylinders and capsules lie on their side, axis across the heading, so they
    roll instead of tripping over; standing ones lie half of the time.
    """
    yaw = quat_about((0, 0, 1), heading)
    if obj.shape == "sphere":
        return yaw, obj.dims[0] / 2
    if obj.shape in ("cylinder", "capsule") and (moving or rng.random() < 0.5):
        return quat_mul(yaw, quat_about((1, 0, 0), math.pi / 2)), obj.dims[0] / 2
    return quat_mul(yaw, quat_about((0, 0, 1), rng.uniform(-0.4, 0.4))), None


def _launch(direction: np.ndarray, speed: float, roll_radius: float | None):
    """(linear, angular) velocity along the floor; rollers get the matching spin so they roll, not skid."""
    linear = direction * speed
    angular = np.zeros(3) if roll_radius is None else np.cross((0.0, 0.0, 1.0), direction) * speed / roll_radius
    return linear, angular


@register_family("collide", promise=_collide_promise)
def collide(rng: np.random.Generator, clip: ClipFormat) -> SceneSpec:
    """Objects launched along the floor at each other (or one at a standing target)."""
    draft = SceneDraft(rng, clip)
    heading = rng.uniform(0, 2 * math.pi)
    u = np.array([math.cos(heading), math.sin(heading), 0.0])
    side = np.array([-u[1], u[0], 0.0])
    centre = np.array([*_disc(rng, 0.3), 0.0])
    both = rng.random() < 0.6
    deadline = _deadline(clip)
    gap = rng.uniform(1.0, 1.8) * min(1.0, deadline / 0.9)
    for sign in (-1.0, 1.0):
        moving = both or sign < 0
        # rocks and cones tumble off course when launched: they only stand and wait
        obj = draft.pick(shapes=MOVER_SHAPES if moving else vocabulary.SHAPES, sizes=("small", "medium", "large"))
        orientation, roll_radius = _floor_pose(obj, heading, rng, moving)
        position = centre + sign * u * gap / 2 + side * rng.normal(0.0, 0.03)
        position[2] = extent_below(obj, orientation) + GAP_M
        travel = (gap / 2 if both else gap) - radius(obj)
        mu = vocabulary.MATERIALS[obj.material].friction * vocabulary.FLOOR_MATERIAL.friction
        need = 0.0 if roll_radius else math.sqrt(2 * mu * 9.81 * max(travel, 0.1))
        speed = max(need * rng.uniform(1.15, 1.4) + rng.uniform(0.6, 1.5), travel / (0.8 * deadline))
        linear, angular = _launch(-sign * u, min(speed, 7.0) if moving else 0.0, roll_radius)
        draft.add(obj, position, orientation, linear, angular)
    if rng.random() < 0.4:  # a bystander: beside the line, or behind the target to be knocked on
        obj = draft.pick(sizes=("small", "medium"))
        orientation, _ = _floor_pose(obj, heading, rng, moving=False)
        behind = rng.random() < 0.5
        offset = u * (gap / 2 + 0.5 + radius(obj)) if behind else side * rng.choice([-1, 1]) * (0.6 + radius(obj))
        position = centre + offset
        position[2] = extent_below(obj, orientation) + GAP_M
        draft.add(obj, position, orientation)
    draft.see(centre + u * (gap / 2 + 0.6), centre - u * (gap / 2 + 0.3))
    return draft.finish({"both_moving": bool(both)})


# --- ramp --------------------------------------------------------------------------------


def _ramp_promise(spec: SceneSpec, trajectory: Trajectory) -> str | None:
    first_ramp: dict[str, int] = {}
    for e in trajectory.events:
        if e.kind == "contact_begin" and e.subjects[1] == "ramp":
            first_ramp.setdefault(e.subjects[0], e.frame)
        if e.kind == "contact_begin" and e.subjects[1] == "floor" and e.subjects[0] in first_ramp:
            return None
    return "nothing went from the ramp to the floor"


@register_family("ramp", promise=_ramp_promise)
def ramp(rng: np.random.Generator, clip: ClipFormat) -> SceneSpec:
    """Objects released on an incline roll (balls, lying cylinders) or slide (slippery boxes) down it."""
    draft = SceneDraft(rng, clip)
    deadline = _deadline(clip)
    angle = math.radians(rng.uniform(15.0, 32.0))
    length, width = rng.uniform(1.1, 1.6), rng.uniform(0.7, 1.0)
    heading = rng.uniform(0, 2 * math.pi)  # downhill direction on the floor
    tilt = quat_mul(quat_about((0, 0, 1), heading), quat_about((0, 1, 0), angle))
    R = rotation(tilt)
    down, across, normal = R[:, 0], R[:, 1], R[:, 2]  # along the surface, across it, out of it
    low_edge = np.array([*(-0.4 * length * np.array([math.cos(heading), math.sin(heading)])), 0.0])
    # thick enough that its underside meets the floor at the high end: it reads as a wedge
    thickness = length * math.tan(angle) + 0.05
    top_centre = low_edge - down * length / 2
    ramp_material = str(rng.choice(["wood", "metal", "plastic"]))
    draft.add_static("ramp", (length, width, thickness), top_centre - normal * thickness / 2, tilt, ramp_material)
    ramp_mu = vocabulary.MATERIALS[ramp_material].friction
    slippery = tuple(m for m, v in vocabulary.MATERIALS.items() if v.friction * ramp_mu < 0.6 * math.tan(angle))
    placed: list[tuple[np.ndarray, float]] = []
    for _ in range(int(rng.integers(1, 4))):
        roller = not slippery or rng.random() < 0.6
        if roller:
            obj = draft.pick(shapes=("sphere", "cylinder", "capsule"), sizes=("small", "medium"))
            # cylinders and capsules lie with their axis across the slope
            orientation = tilt if obj.shape == "sphere" else quat_mul(tilt, quat_about((1, 0, 0), -math.pi / 2))
        else:
            obj = draft.pick(shapes=("cube", "block", "rock"), sizes=("small", "medium"), materials=slippery)
            orientation = quat_mul(tilt, quat_about((0, 0, 1), rng.uniform(-0.3, 0.3)))
        r, lift = radius(obj), extent_below(obj, orientation, normal) + GAP_M
        half_lane = max(width / 2 - r, 0.0)
        # no higher up than it can travel down in time (rolling: ~2/3 g sin; sliding: friction slows it)
        mu = vocabulary.MATERIALS[obj.material].friction * ramp_mu
        accel = 9.81 * (0.65 * math.sin(angle) if roller else math.sin(angle) - mu * math.cos(angle))
        highest = min(0.9 * length, max(0.4 * accel * deadline**2, r + 0.05))
        for _attempt in range(30):  # on the upper part of the ramp, clear of the others
            up_slope = rng.uniform(min(0.55 * length, 0.7 * highest), highest)
            spot = low_edge - down * up_slope + across * rng.uniform(-half_lane, half_lane)
            centre = spot + normal * lift
            if all(np.linalg.norm(centre - c) > r + rc + 0.01 for c, rc in placed):
                placed.append((centre, r))
                draft.add(obj, centre, orientation)
                break
    along = np.array([math.cos(heading), math.sin(heading), 0.0])
    for _ in range(draft.unplaced()):  # bodies a prompt names that no roller or slider took: in the runout's path
        obj = draft.pick(sizes=("small", "medium"))
        orientation, _ = _floor_pose(obj, heading, rng, moving=False)
        position = low_edge + along * (rng.uniform(0.25, 0.5) + radius(obj)) + across * rng.normal(0.0, 0.05)
        position[2] = extent_below(obj, orientation) + GAP_M
        draft.add(obj, position, orientation)
    high = low_edge - down * length
    runout = low_edge + along * 0.9
    draft.see(high + across * width / 2, high - across * width / 2, runout)
    side_view = heading + math.pi * rng.integers(0, 2) + math.radians(rng.uniform(-35, 35))
    return draft.finish(
        {"ramp_angle_deg": round(math.degrees(angle), 3), "ramp_length_m": round(length, 3)},
        azimuth_deg=math.degrees(side_view) % 360.0,
    )


# --- topple ------------------------------------------------------------------------------


def _topple_promise(spec: SceneSpec, trajectory: Trajectory) -> str | None:
    return None if any(e.kind == "topple" for e in trajectory.events) else "nothing toppled"


def _tower(draft: SceneDraft, rng: np.random.Generator, deadline: float) -> dict:
    """Bricks stacked on the floor, knocked by a ball thrown at the upper half."""
    k = int(rng.integers(3, 6 if deadline >= 0.9 else 5))  # high bricks take long to land
    z, yaw = 0.0, rng.uniform(0, 2 * math.pi)
    for _ in range(k):
        obj = draft.pick(shapes=("cube", "block"), sizes=("small", "medium"), materials=("wood", "plastic", "rubber"))
        if obj.shape == "block":  # a pillar standing on end, so a knocked one lands visibly on its side
            obj = dataclasses.replace(obj, dims=(obj.dims[1], obj.dims[1], obj.dims[0]))
        orientation = quat_about((0, 0, 1), yaw + rng.uniform(-0.15, 0.15))
        centre = np.array([*rng.normal(0.0, 0.015, 2), z + obj.dims[2] / 2 + GAP_M])
        draft.add(obj, centre, orientation)
        z = centre[2] + obj.dims[2] / 2
    ball = draft.pick(shapes=("sphere",), sizes=("medium",), materials=("metal", "rubber"))
    aim = rng.uniform(0.55, 0.9) * z
    heading = rng.uniform(0, 2 * math.pi)
    u = np.array([math.cos(heading), math.sin(heading), 0.0])
    distance = radius(ball) + rng.uniform(0.9, 1.3) * min(1.0, deadline / 1.2)  # short clips: hit sooner
    start = -u * distance + np.array([0.0, 0.0, max(aim, radius(ball) + 0.05)])
    speed = rng.uniform(3.0, 5.0)
    flight = distance / speed  # to the tower's axis, back at the height it left from
    draft.add(ball, start, linear_velocity=u * speed + np.array([0.0, 0.0, 9.81 * flight / 2]))
    draft.see(u * (z + 0.3), np.array([0.0, 0.0, z]))
    return {"arrangement": "tower", "count": k}


def _dominoes(draft: SceneDraft, rng: np.random.Generator, deadline: float) -> dict:
    """A row of dominoes; the first is tipped towards the rest."""
    k = int(rng.integers(3, int(np.clip(2 + 4 * deadline, 4, 7)) + 1))  # the chain takes time
    size = str(rng.choice(["small", "medium"]))
    height = rng.uniform(*vocabulary.SIZES[size])
    thick, wide = 0.18 * height, 0.5 * height
    spacing = thick + rng.uniform(0.35, 0.6) * height
    heading = rng.uniform(0, 2 * math.pi)
    u = np.array([math.cos(heading), math.sin(heading), 0.0])
    start = -u * spacing * (k - 1) / 2
    orientation = quat_about((0, 0, 1), heading)
    for i in range(k):
        obj = draft.pick(shapes=("block",), sizes=(size,), materials=("wood", "plastic"), dims=(thick, wide, height))
        centre = start + u * spacing * i + np.array([0.0, 0.0, height / 2 + GAP_M])
        linear = angular = (0.0, 0.0, 0.0)
        if i == 0:  # tip it forward about its front bottom edge, with enough spin to pass upright
            lift = (math.hypot(height, thick) - height) / 2
            least = math.sqrt(2 * 9.81 * lift / ((height**2 + thick**2) / 3))
            angular = np.cross((0.0, 0.0, 1.0), u) * least * rng.uniform(1.5, 2.5)
            linear = np.cross(angular, -u * thick / 2 + np.array([0.0, 0.0, height / 2]))
        draft.add(obj, centre, orientation, linear, angular)
    draft.see(start + u * (spacing * (k - 1) + height))
    return {"arrangement": "dominoes", "count": k}


@register_family("topple", promise=_topple_promise)
def topple(rng: np.random.Generator, clip: ClipFormat) -> SceneSpec:
    """A tower knocked by a thrown ball, or a row of dominoes tipped at one end."""
    draft = SceneDraft(rng, clip)
    deadline = _deadline(clip)
    params = _tower(draft, rng, deadline) if rng.random() < 0.5 else _dominoes(draft, rng, deadline)
    return draft.finish(params)


# --- throw -------------------------------------------------------------------------------


def _throw_promise(spec: SceneSpec, trajectory: Trajectory) -> str | None:
    return None if any(e.kind == "bounce" for e in trajectory.events) else "nothing bounced"


@register_family("throw", promise=_throw_promise)
def throw(rng: np.random.Generator, clip: ClipFormat) -> SceneSpec:
    """Objects thrown in arcs that land and bounce."""
    draft = SceneDraft(rng, clip)
    deadline = _deadline(clip)
    heading = rng.uniform(0, 2 * math.pi)
    u = np.array([math.cos(heading), math.sin(heading), 0.0])
    side = np.array([-u[1], u[0], 0.0])
    # the first is a ball, the rest mostly: edges and corners tumble rather than bounce
    throws = [
        draft.pick(
            shapes=("sphere",) if k == 0 else ("sphere", "sphere", "cube", "cylinder", "capsule", "rock"),
            sizes=("small", "medium"),
            materials=("rubber", "rubber", "plastic", "wood"),
        )
        for k in range(int(rng.integers(1, 4)))
    ]
    widths = np.array([2 * radius(obj) + 0.1 for obj in throws])
    lanes = np.cumsum(widths) - widths / 2 - widths.sum() / 2  # side by side, centred, never touching
    for obj, lane in zip(throws, lanes):
        height = rng.uniform(0.2, 0.9) * min(1.0, deadline / 0.9)  # of its lowest point
        z0 = radius(obj) + height
        start = -u * rng.uniform(0.9, 1.3) + side * lane + np.array([0.0, 0.0, z0])
        fastest_up = min(3.5, 9.81 * deadline / 2 - height / deadline)  # still lands by the deadline
        vh, vz = rng.uniform(1.0, 2.2), rng.uniform(0.45, 1.0) * fastest_up
        flight = (vz + math.sqrt(vz * vz + 2 * 9.81 * height)) / 9.81
        draft.add(obj, start, random_orientation(rng), u * vh + np.array([0.0, 0.0, vz]), rng.normal(0.0, 3.0, 3))
        land = start + u * vh * flight
        draft.see((land[0], land[1], 0.0), start + np.array([0.0, 0.0, max(vz, 0.0) ** 2 / (2 * 9.81)]))
    return draft.finish({})
