"""The independent checker: what each predicate *means*, measured on a trajectory.

It shares nothing with the generator but `captioning.types`: it recomputes geometry
from the spec, meshes, camera poses and the raw per-frame state, and re-simulates the
other worlds (the clip run longer, the scene without an object) itself. The generator
keeps safety margins on top of these definitions; these thresholds are the meaning.
"""
from __future__ import annotations

import colorsys
import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.spatial.transform import Rotation

from simreel.captioning.types import CLIP, EXTENDED, WITHOUT, Captions, Claim, Reference
from simreel.scenes import camera as cam
from simreel.scenes import shapes
from simreel.scenes.types import CameraSpec, ObjectSpec, SceneSpec, Trajectory

MOVE_M = 0.05  # "moves": leaves its start-of-span position by more than this
FALL_M = 0.05  # "falls": its centre ends at least this much lower...
RISE_TOL_M = 0.02  # ...never climbing back more than this on the way
REST_SPEED = 0.05  # "rests": linear speed (m/s) stays under this...
REST_SPIN = 0.5  # ...and angular speed (rad/s) under this
TOPPLE_DEG = 45.0  # "topples": the axis that was up tilts past this
FLOOR_TOUCH_M = 0.02  # lowest point this close to z=0 is on the floor
AIR_M = 0.03  # lowest point above this is in the air
STACK_GAP_M = 0.03  # "on top of": A's bottom within this of B's top
SIDE_TAN = 0.02  # "left of": separated by this much tan(angle) in the view
DEPTH_M = 0.05  # "in front of": nearer along the view axis by this much
ROLL_RATIO = (0.5, 1.5)  # "rolls": surface speed from spin / linear speed in this band...
SLIDE_RATIO = 0.3  # "slides": ...or under this
MOTION_SPEED = 0.1  # frames slower than this do not count towards roll/slide
MAJORITY = 0.6  # share of moving frames that must roll (or slide)
DIR_SHARE = 0.5  # "moves left": that component is at least this share of the horizontal displacement
CAMERA_EPS_M = 1e-3
CAMERA_TURN_DEG = 5.0


@dataclass(frozen=True)
class Failure:
    """A claim that does not hold, with the measurement that refutes it."""

    index: int
    claim: Claim
    reason: str


@dataclass(frozen=True, eq=False)
class World:
    """One trajectory and the geometry the checker measures on it."""

    spec: SceneSpec
    traj: Trajectory

    def __post_init__(self):
        if tuple(self.traj.names) != tuple(o.name for o in self.spec.objects):
            raise ValueError(f"trajectory objects {self.traj.names} do not match the spec's "
                             f"{[o.name for o in self.spec.objects]}")

    @functools.cached_property
    def poses(self) -> np.ndarray:
        return _poses(self.spec.camera, self.traj.num_frames)

    @functools.cached_property
    def K(self) -> np.ndarray:
        return cam.intrinsics(self.spec.camera, self.spec.width, self.spec.height)

    @functools.cached_property
    def vertices(self) -> np.ndarray:
        """[T, N, V, 3] world-space vertices (V padded by repeating)."""
        meshes = [np.asarray(shapes.mesh(o).vertices) for o in self.spec.objects]
        v = max(len(m) for m in meshes)
        local = np.stack([np.resize(m, (v, 3)) for m in meshes])  # [N, V, 3]
        T, N = self.traj.num_frames, len(meshes)
        rot = Rotation.from_quat(self.traj.orientations.reshape(-1, 4)).as_matrix().reshape(T, N, 3, 3)
        return np.einsum("tnij,nvj->tnvi", rot, local) + self.traj.positions[:, :, None, :]

    def frame(self, t: float) -> int:
        return int(min(max(round(t * self.traj.fps), 0), self.traj.num_frames - 1))

    def idx(self, name: str) -> int:
        if name not in self.traj.names:
            raise KeyError(f"no object {name!r} in this world (objects: {self.traj.names})")
        return self.traj.index(name)

    def pos(self, name: str, f: int) -> np.ndarray:
        return self.traj.positions[f, self.idx(name)]

    def bottom(self, name: str, f: int) -> float:
        return float(self.vertices[f, self.idx(name), :, 2].min())

    def top(self, name: str, f: int) -> float:
        return float(self.vertices[f, self.idx(name), :, 2].max())

    def radius_xy(self, name: str, f: int) -> float:
        v = self.vertices[f, self.idx(name)]
        return float(np.linalg.norm(v[:, :2] - self.pos(name, f)[:2], axis=1).max())

    def speed(self, name: str) -> np.ndarray:
        return np.linalg.norm(self.traj.linear_velocities[:, self.idx(name)], axis=1)

    def spin(self, name: str) -> np.ndarray:
        return np.linalg.norm(self.traj.angular_velocities[:, self.idx(name)], axis=1)

    def view(self, name: str, f: int) -> tuple[float, float, float]:
        """(x/depth, y/depth, depth) of the object's centre in the camera at frame f."""
        p = cam.to_camera_frame(self.pos(name, f), self.poses[f])
        depth = -p[2]
        return p[0] / max(depth, 1e-9), p[1] / max(depth, 1e-9), depth

    def in_view(self, name: str, f: int) -> bool:
        (u, v), depth = cam.project(self.pos(name, f), self.poses[f], self.K)
        return bool(depth > 0 and 0 <= u <= self.spec.width and 0 <= v <= self.spec.height)

    def contacts(self, a: str, b: str, kind: str = "contact_begin") -> list[int]:
        """Frames of `kind` events between a and b (either order)."""
        return [e.frame for e in self.traj.events if e.kind == kind and set(e.subjects) == {a, b}]

    def surface(self, name: str) -> np.ndarray:
        return _surface(self.spec.object(name))

    def planes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return _planes(self.spec.object(name))

    def _in_body(self, points: np.ndarray, name: str, f: int) -> np.ndarray:
        i = self.idx(name)
        rot = Rotation.from_quat(self.traj.orientations[f, i]).as_matrix()
        return (points - self.traj.positions[f, i]) @ rot

    def _in_world(self, name: str, f: int) -> np.ndarray:
        i = self.idx(name)
        rot = Rotation.from_quat(self.traj.orientations[f, i]).as_matrix()
        return self.surface(name) @ rot.T + self.traj.positions[f, i]

    def gap(self, a: str, b: str, f: int, within: float = 0.3) -> float:
        """Distance (m) between the surfaces of a and b at frame f (a few cm resolution),
        exact up to `within`; larger gaps come back as at least `within`.

        Points on each surface are measured against the other's convex hull; beyond a
        face, the largest plane distance is the distance (it underestimates only at edges).
        """
        if b == "floor":
            return max(self.bottom(a, f), 0.0)
        if b in self.traj.names:
            out = np.inf
            for x, y in ((a, b), (b, a)):
                normals, offsets = self.planes(y)
                local = self._in_body(self._in_world(x, f), y, f)
                reach = float(offsets.max())  # no point farther than this from y's centre touches y
                close = local[np.linalg.norm(local, axis=1) < reach + within]
                if len(close):
                    out = min(out, float((close @ normals.T - offsets).max(axis=1).min()))
            return max(out, 0.0) if np.isfinite(out) else within
        static = next((s for s in self.spec.statics if s.name == b), None)
        if static is None:
            raise KeyError(f"{b!r} is neither an object, a static nor the floor")
        rot = Rotation.from_quat(static.orientation).as_matrix()
        local = (self._in_world(a, f) - np.asarray(static.position)) @ rot
        outside = np.maximum(np.abs(local) - np.asarray(static.dims) / 2, 0.0)
        return float(np.min(np.linalg.norm(outside, axis=1)))

    def near(self, a: str, b: str, f: int) -> bool:
        """Geometric sanity for a contact: are a and b (nearly) touching at frame f?

        Events sit on the nearest frame, so allow one frame of travel at the bodies' speed.
        """
        speeds = [self.speed(n)[max(f - 1, 0):f + 2].max() for n in (a, b) if n in self.traj.names]
        tolerance = 0.03 + sum(speeds) / self.traj.fps
        return self.gap(a, b, f, within=tolerance) < tolerance


@functools.lru_cache(maxsize=64)
def _poses(camera: CameraSpec, num_frames: int) -> np.ndarray:
    poses = cam.camera_poses(camera, num_frames)
    poses.flags.writeable = False
    return poses


@functools.lru_cache(maxsize=64)
def _surface(obj: ObjectSpec) -> np.ndarray:
    """Points covering the object's surface every ~4 cm, in its body frame."""
    return np.asarray(shapes.mesh(obj).subdivide_to_size(0.04, max_iter=8).vertices)


@functools.lru_cache(maxsize=64)
def _planes(obj: ObjectSpec) -> tuple[np.ndarray, np.ndarray]:
    """(normals [F, 3], offsets [F]) of the object's convex hull, body frame."""
    hull = shapes.mesh(obj).convex_hull
    return np.asarray(hull.face_normals), np.einsum("ij,ij->i", hull.face_normals, hull.triangles[:, 0])


def _span(world: World, c: Claim) -> tuple[int, int]:
    return world.frame(c.t_start), world.frame(c.t_end)


def _horizontal_axes(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera right and 'toward the viewer' directions, flattened onto the floor."""
    right, back = pose[:3, 0].copy(), pose[:3, 2].copy()
    right[2] = back[2] = 0.0
    return right / np.linalg.norm(right), back / np.linalg.norm(back)


# --- predicates: each returns None when the claim holds, else the reason it fails ------


def _attribute(world: World, c: Claim) -> str | None:
    if c.subject in world.traj.names:
        thing = world.spec.object(c.subject)
    else:
        thing = next((s for s in world.spec.statics if s.name == c.subject), None)
        if thing is None or c.predicate not in ("colour", "material"):
            return f"{c.subject!r} has no {c.predicate}"
    actual = getattr(thing, c.predicate)
    return None if actual == c.object else f"{c.subject}'s {c.predicate} is {actual!r}, not {c.object!r}"


def _count(world: World, c: Claim) -> str | None:
    filters = {k: v for k, v in c.params if k in ("shape", "colour", "material", "size")}
    n = sum(all(getattr(o, k) == v for k, v in filters.items()) for o in world.spec.objects)
    return None if n == c.param("n") else f"{n} objects match {filters}, not {c.param('n')}"


def _moved(world: World, name: str, f0: int, f1: int) -> float:
    p = world.traj.positions[f0:f1 + 1, world.idx(name)]
    return float(np.linalg.norm(p - p[0], axis=1).max())


def _count_moved(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    n = sum(_moved(world, name, f0, f1) > MOVE_M for name in world.traj.names)
    return None if n == c.param("n") else f"{n} objects move, not {c.param('n')}"


def _side(world: World, c: Claim) -> str | None:
    f = world.frame(c.t_start)
    xa, _, da = world.view(c.subject, f)
    xb, _, db = world.view(c.object, f)
    if da <= 0 or db <= 0:
        return "an object is behind the camera"
    gap = xb - xa if c.predicate == "left_of" else xa - xb
    return None if gap > SIDE_TAN else f"horizontal view separation {gap:.3f} <= {SIDE_TAN}"


def _depth(world: World, c: Claim) -> str | None:
    f = world.frame(c.t_start)
    da, db = world.view(c.subject, f)[2], world.view(c.object, f)[2]
    gap = db - da if c.predicate == "in_front_of" else da - db
    return None if gap > DEPTH_M else f"depth separation {gap:.3f} m <= {DEPTH_M}"


def _on_top_of(world: World, c: Claim) -> str | None:
    f = world.frame(c.t_start)
    gap = world.bottom(c.subject, f) - world.top(c.object, f)
    dxy = float(np.linalg.norm(world.pos(c.subject, f)[:2] - world.pos(c.object, f)[:2]))
    if abs(gap) > STACK_GAP_M:
        return f"bottom-to-top gap {gap:.3f} m"
    return None if dxy < world.radius_xy(c.object, f) else f"not over it ({dxy:.2f} m aside)"


def _above(world: World, c: Claim) -> str | None:
    f = world.frame(c.t_start)
    gap = world.bottom(c.subject, f) - world.top(c.object, f)
    dxy = float(np.linalg.norm(world.pos(c.subject, f)[:2] - world.pos(c.object, f)[:2]))
    if gap <= STACK_GAP_M:
        return f"bottom only {gap:.3f} m above the other's top"
    reach = world.radius_xy(c.object, f) + world.radius_xy(c.subject, f)
    return None if dxy < reach else f"{dxy:.2f} m aside, not above"


def _touches(world: World, c: Claim) -> str | None:
    f = world.frame(c.t_start)
    begins = [b for b in world.contacts(c.subject, c.object) if b <= f]
    ends = world.contacts(c.subject, c.object, "contact_end")
    if not begins or any(max(begins) <= e < f for e in ends):
        return f"no contact between {c.subject} and {c.object} at frame {f}"
    return None if world.near(c.subject, c.object, f) else "contact event but the bodies are apart"


def _on_floor(world: World, c: Claim) -> str | None:
    z = world.bottom(c.subject, world.frame(c.t_start))
    return None if z < FLOOR_TOUCH_M else f"lowest point {z:.3f} m above the floor"


def _in_air(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    z = min(world.bottom(c.subject, f) for f in range(f0, f1 + 1))
    return None if z > AIR_M else f"lowest point down to {z:.3f} m"


def _screen_side(world: World, c: Claim) -> str | None:
    f = world.frame(c.t_start)
    (u, _), depth = cam.project(world.pos(c.subject, f), world.poses[f], world.K)
    x = u / world.spec.width
    ok = {"left": x < 0.4, "centre": 0.3 < x < 0.7, "right": x > 0.6}[c.object]
    return None if depth > 0 and ok else f"at {x:.2f} of the picture width"


def _in_view(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    out = [f for f in range(f0, f1 + 1) if not world.in_view(c.subject, f)]
    return None if not out else f"out of view at frame {out[0]}"


def _moves(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    d = _moved(world, c.subject, f0, f1)
    return None if d > MOVE_M else f"moves only {d:.3f} m"


def _moves_dir(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    d = world.pos(c.subject, f1) - world.pos(c.subject, f0)
    right, back = _horizontal_axes(world.poses[(f0 + f1) // 2])
    h = float(np.linalg.norm(d[:2]))
    comp = {"left": -d @ right, "right": d @ right, "toward_camera": d @ back, "away_from_camera": -d @ back}[c.object]
    if comp <= MOVE_M:
        return f"moves only {comp:.3f} m {c.object}"
    return None if comp >= DIR_SHARE * h else f"{comp:.2f} of {h:.2f} m is {c.object}"


def _falls(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    z = world.traj.positions[f0:f1 + 1, world.idx(c.subject), 2]
    if z[0] - z[-1] <= FALL_M:
        return f"drops only {z[0] - z[-1]:.3f} m"
    climb = float(np.max(z - np.minimum.accumulate(z)))
    return None if climb <= RISE_TOL_M else f"climbs {climb:.3f} m on the way down"


def _flies(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    touching = [e for e in world.traj.events
                if e.kind == "contact_begin" and c.subject in e.subjects and f0 < e.frame < f1]
    if touching:
        return f"touches {touching[0].subjects} at frame {touching[0].frame}"
    return _in_air(world, c) or _moves(world, c)


def _roll_ratios(world: World, c: Claim) -> np.ndarray:
    f0, f1 = _span(world, c)
    i = world.idx(c.subject)
    r = world.spec.object(c.subject).dims[0] / 2
    v = np.linalg.norm(world.traj.linear_velocities[f0:f1 + 1, i], axis=1)
    w = world.traj.angular_velocities[f0:f1 + 1, i]
    # rolling on a surface: the spin axis lies along the surface, so its horizontal part carries it
    surface_speed = r * np.linalg.norm(w[:, :2], axis=1)
    moving = v > MOTION_SPEED
    return surface_speed[moving] / v[moving]


def _rolls(world: World, c: Claim) -> str | None:
    ratio = _roll_ratios(world, c)
    if len(ratio) < 3:
        return f"moving in only {len(ratio)} frames"
    share = float(np.mean((ratio > ROLL_RATIO[0]) & (ratio < ROLL_RATIO[1])))
    return None if share >= MAJORITY else f"rolls in only {share:.0%} of moving frames"


def _slides(world: World, c: Claim) -> str | None:
    ratio = _roll_ratios(world, c)
    if len(ratio) < 3:
        return f"moving in only {len(ratio)} frames"
    share = float(np.mean(ratio < SLIDE_RATIO))
    return None if share >= MAJORITY else f"slides in only {share:.0%} of moving frames"


def _topples(world: World, c: Claim) -> str | None:
    """The axis that was up at the start of the span tilts past TOPPLE_DEG at some point in it."""
    f0, f1 = _span(world, c)
    q = world.traj.orientations[f0:f1 + 1, world.idx(c.subject)]
    up_in_body = Rotation.from_quat(q[0]).inv().apply([0.0, 0.0, 1.0])
    now = Rotation.from_quat(q).apply(up_in_body)
    tilt = float(np.degrees(np.arccos(np.clip(now[:, 2], -1.0, 1.0))).max())
    return None if tilt > TOPPLE_DEG else f"tilts only {tilt:.0f} degrees"


def _descends(world: World, c: Claim) -> str | None:
    static = next((s for s in world.spec.statics if s.name == c.object), None)
    if static is None:
        return f"no static {c.object!r}"
    normal = Rotation.from_quat(static.orientation).apply([0.0, 0.0, 1.0])
    downhill = normal[:2] / max(np.linalg.norm(normal[:2]), 1e-9)
    f0, f1 = _span(world, c)
    d = world.pos(c.subject, f1) - world.pos(c.subject, f0)
    if -d[2] <= FALL_M:
        return f"drops only {-d[2]:.3f} m"
    along = float(d[:2] @ downhill)
    if along < 0.7 * float(np.linalg.norm(d[:2])):
        return "does not move downhill along the slope"
    touching = any(world.near(c.subject, c.object, f) for f in range(f0, f1 + 1))
    return None if touching else f"never touches the {c.object}"


def _rests(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    if f1 != world.traj.num_frames - 1:
        return "rest is claimed only up to the end of the trajectory"
    v = world.speed(c.subject)[f0:]
    w = world.spin(c.subject)[f0:]
    if v.max() >= REST_SPEED:
        return f"speed reaches {v.max():.3f} m/s after t={c.t_start}"
    return None if w.max() < REST_SPIN else f"spins at {w.max():.2f} rad/s after t={c.t_start}"


def _exits_view(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    a, b = world.in_view(c.subject, f0), world.in_view(c.subject, f1)
    want = (True, False) if c.predicate == "exits_view" else (False, True)
    return None if (a, b) == want else f"in view at start/end of span: {a}/{b}"


def _contact_in_span(world: World, c: Claim, partner: str) -> int | str:
    f0, f1 = _span(world, c)
    frames = [f for f in world.contacts(c.subject, partner) if f0 <= f <= f1]
    if not frames:
        return f"no contact between {c.subject} and {partner} in frames {f0}..{f1}"
    f = frames[0]
    if not world.near(c.subject, partner, f):
        return f"contact event at frame {f} but the bodies are apart"
    return f


def _hits(world: World, c: Claim) -> str | None:
    f = _contact_in_span(world, c, c.object)
    if isinstance(f, str):
        return f
    before = max(f - 1, 0)
    va = world.speed(c.subject)[before]
    vb = world.speed(c.object)[before] if c.object in world.traj.names else 0.0
    return None if va > vb else f"{c.subject} ({va:.2f} m/s) is not the mover ({c.object}: {vb:.2f} m/s)"


def _collides(world: World, c: Claim) -> str | None:
    f = _contact_in_span(world, c, c.object)
    return f if isinstance(f, str) else None


def _lands_on(world: World, c: Claim) -> str | None:
    f = _contact_in_span(world, c, c.object)
    if isinstance(f, str):
        return f
    vz = world.traj.linear_velocities[max(f - 1, 0), world.idx(c.subject), 2]
    return None if vz < -0.2 else f"vertical speed before contact is {vz:.2f} m/s, not falling"


def _bounces(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    found = [e for e in world.traj.events if e.kind == "bounce" and e.subjects[0] == c.subject
             and (c.object is None or e.subjects[1] == c.object) and f0 <= e.frame <= f1]
    if not found:
        return f"no bounce of {c.subject} on {c.object or 'anything'} in frames {f0}..{f1}"

    def rises(e) -> bool:  # independent evidence for a floor bounce: it goes up again after the contact
        z = world.traj.positions[e.frame:min(e.frame + 4, world.traj.num_frames), world.idx(c.subject), 2]
        return e.subjects[1] != "floor" or len(z) < 2 or z.max() > z[0] + 1e-3

    return None if any(rises(e) for e in found) else "does not rise again after the bounce"


def _first_contact(world: World, c: Claim) -> str | None:
    f0, f1 = _span(world, c)
    found = sorted((e.frame, e.subjects) for e in world.traj.events
                   if e.kind == "contact_begin" and c.subject in e.subjects and e.frame > 0
                   and "floor" not in e.subjects and f0 <= e.frame <= f1)
    if not found:
        return "touches nothing"
    partners = {s for f, subj in found if f == found[0][0] for s in subj} - {c.subject}
    return None if partners == {c.object} else f"first touches {sorted(partners)}"


def _camera(world: World, c: Claim) -> str | None:
    p = world.poses
    eye = p[:, :3, 3] - p[0, :3, 3]
    fwd = -p[:, :3, 2]
    right0 = p[0, :3, 0]
    yaw = np.degrees(np.unwrap(np.arctan2(fwd[:, 1], fwd[:, 0])))
    turn = float(abs(yaw[-1] - yaw[0]))
    moved = float(np.linalg.norm(eye[-1]))
    sideways = float(eye[-1] @ right0)
    forward = float(eye[-1] @ fwd[0])
    if c.predicate == "camera_static":
        return None if moved < CAMERA_EPS_M and turn < 0.1 else f"camera moves {moved:.3f} m, turns {turn:.1f} deg"
    if c.predicate == "camera_orbits":
        ok = turn > CAMERA_TURN_DEG and (sideways > 0) == (c.object == "right")
        return None if ok else f"turns {turn:.1f} deg, sideways {sideways:.2f} m"
    if turn > 1.0:
        return f"camera turns {turn:.1f} deg"
    if c.predicate == "camera_tracks":
        ok = abs(sideways) > MOVE_M and (sideways > 0) == (c.object == "right") and abs(sideways) > abs(forward)
        return None if ok else f"moves {sideways:.2f} m sideways, {forward:.2f} m forward"
    ok = abs(forward) > MOVE_M and (forward > 0) == (c.object == "in") and abs(forward) > abs(sideways)
    return None if ok else f"moves {forward:.2f} m forward"


def _camera_angle(world: World, c: Claim) -> str | None:
    fwd = -world.poses[world.frame(c.t_start), :3, 2]
    down = math.degrees(math.asin(float(np.clip(-fwd[2], -1, 1))))
    ok = {"high": down > 28, "low": down < 20, "level": 15 < down < 35}[c.object]
    return None if ok else f"looks {down:.0f} degrees down"


def _light_direction(world: World) -> np.ndarray:
    """Unit vector from the scene towards the light (the renderer's azimuth/elevation convention)."""
    az, el = math.radians(world.spec.light.azimuth_deg), math.radians(world.spec.light.elevation_deg)
    return np.array([math.cos(el) * math.sin(az), -math.cos(el) * math.cos(az), math.sin(el)])


def _light(world: World, c: Claim) -> str | None:
    light = world.spec.light
    if c.predicate == "light_height":
        ok = light.elevation_deg > 50 if c.object == "high" else light.elevation_deg < 45
        return None if ok else f"light elevation {light.elevation_deg:.0f} deg"
    if c.predicate == "light_strength":
        ok = light.intensity >= 4.0 if c.object == "bright" else light.intensity < 4.0
        return None if ok else f"light intensity {light.intensity:.1f}"
    right, back = _horizontal_axes(world.poses[world.frame(c.t_start)])
    d = _light_direction(world)
    d = d[:2] / max(np.linalg.norm(d[:2]), 1e-9)
    x, z = float(d @ right[:2]), float(d @ back[:2])
    ok = {"left": -x > 0.7, "right": x > 0.7, "front": z > 0.7, "back": -z > 0.7}[c.object]
    return None if ok else f"light direction in view: right {x:.2f}, toward viewer {z:.2f}"


def _shadows(world: World, c: Claim) -> str | None:
    return None if world.spec.light.shadows else "shadows are off"


HUE_BANDS = {  # HSV hue ranges (degrees) of the plain colour words
    "red": ((0, 15), (340, 360)), "orange": ((15, 40),), "yellow": ((40, 70),), "green": ((70, 165),),
    "teal": ((165, 190),), "blue": ((185, 255),), "purple": ((255, 295),), "pink": ((295, 345),),
}
TINT_BANDS = {  # hue ranges of the tint in "bluish gray" and kin: a gray leaning that way
    "reddish": ((0, 20), (330, 360)), "brownish": ((15, 50),), "yellowish": ((40, 75),), "greenish": ((70, 170),),
    "bluish": ((175, 260),), "purplish": ((255, 325),),
}


def _in_bands(h: float, bands) -> bool:
    return any(lo <= h <= hi for lo, hi in bands)


def colour_name_fits(name: str, rgb: tuple[int, int, int]) -> bool:
    """Does a colour word ("gray", "bluish gray", "pale blue", "beige") describe this sRGB colour?"""
    h, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in rgb))
    h *= 360
    words = name.split()
    if name == "white":
        return s < 0.15 and v > 0.85
    if name == "black":
        return v < 0.2
    if words[-1] == "gray" and len(words) <= 2 and words[0] in ("gray", "light", "dark"):
        chroma = s * v  # (max - min) channel spread: small for any gray, dark or light
        return chroma < 0.08 and {"light": v > 0.6, "dark": v < 0.45, "gray": 0.1 < v < 0.95}[words[0]]
    if words[-1] == "gray" and words[0] in TINT_BANDS:
        return 0.04 < s < 0.45 and 0.15 < v < 0.95 and _in_bands(h, TINT_BANDS[words[0]])
    if name == "beige":
        return 25 <= h <= 60 and 0.08 < s < 0.4 and v > 0.55
    if name == "pale blue":
        return 180 <= h <= 255 and 0.05 < s < 0.5 and v > 0.7
    return name in HUE_BANDS and s >= 0.3 and v > 0.2 and _in_bands(h, HUE_BANDS[name])


def _floor_colours(world: World, c: Claim) -> str | None:
    floor = world.spec.floor
    a, b = c.param("colours")
    if not (colour_name_fits(a, floor.colour_a) and colour_name_fits(b, floor.colour_b)):
        return f"floor colours {floor.colour_a}/{floor.colour_b} are not {a}/{b}"
    checks = c.param("checks")
    if checks is not None and (floor.checker_m >= 0.5) != (checks == "large"):
        return f"checker squares are {floor.checker_m} m, not {checks}"
    return None


def _background(world: World, c: Claim) -> str | None:
    rgb = world.spec.floor.background
    return None if colour_name_fits(c.object, rgb) else f"background {rgb} is not {c.object}"


def _world(world: World, c: Claim) -> str | None:
    w = world.spec.world
    said = w and (w.floor if c.predicate == "floor_kind" else w.environment)
    return None if said == c.object else f"the scene's {c.predicate} is {said}, not {c.object}"


AT_ANCHOR = {"rests": "start", "topples": "end", "exits_view": "end", "enters_view": "end"}

CHECKS: dict[str, Callable[[World, Claim], str | None]] = {
    "colour": _attribute, "shape": _attribute, "size": _attribute, "material": _attribute,
    "count": _count, "count_moved": _count_moved,
    "left_of": _side, "right_of": _side, "in_front_of": _depth, "behind": _depth,
    "on_top_of": _on_top_of, "above": _above, "touches": _touches, "on_floor": _on_floor, "in_air": _in_air,
    "screen_side": _screen_side, "in_view": _in_view,
    "moves": _moves, "moves_dir": _moves_dir, "falls": _falls, "flies": _flies,
    "rolls": _rolls, "slides": _slides, "topples": _topples, "descends": _descends,
    "rests": _rests, "exits_view": _exits_view, "enters_view": _exits_view,
    "hits": _hits, "collides": _collides, "lands_on": _lands_on, "bounces": _bounces,
    "first_contact": _first_contact,
    "camera_static": _camera, "camera_orbits": _camera, "camera_tracks": _camera, "camera_dollies": _camera,
    "camera_angle": _camera_angle,
    "light_side": _light, "light_height": _light, "light_strength": _light, "shadows": _shadows,
    "floor_colours": _floor_colours, "background_colour": _background,
    "floor_kind": _world, "environment": _world,
}


def check_claim(claim: Claim, world: World) -> str | None:
    """None if the claim holds in `world`, else why it does not.

    A stated time (param "at", "at about 0.4 s") names the moment of change, give or
    take the tenth of a second it was rounded to: when a rest begins, when a topple or a
    view change is complete, or any moment of a short span (a hit, a bounce).
    """
    at = claim.param("at")
    if at is not None:
        anchor = AT_ANCHOR.get(claim.predicate)
        lo, hi = {"start": (claim.t_start, claim.t_start), "end": (claim.t_end, claim.t_end)}.get(
            anchor, (claim.t_start, claim.t_end))
        if not (lo - 0.1 <= at <= hi + 0.1):
            return f"stated time {at} s is not when the {claim.predicate} happens ({lo:.2f}..{hi:.2f} s)"
    reason = CHECKS[claim.predicate](world, claim)
    if claim.negated:
        return f"negated claim holds: {claim.predicate} is true" if reason is None else None
    return reason


def world_spec(spec: SceneSpec, world: str) -> SceneSpec:
    """The scene a world names: the clip's, a longer run of it, or it without one object."""
    if world == CLIP:
        return spec
    if world.startswith(EXTENDED):
        return dataclasses.replace(spec, duration_s=float(world[len(EXTENDED):]))
    if world.startswith(WITHOUT):
        gone = world[len(WITHOUT):]
        spec.object(gone)  # raises a clear KeyError for an unknown name
        return dataclasses.replace(spec, objects=tuple(o for o in spec.objects if o.name != gone))
    raise ValueError(f"unknown world {world!r}")


def check(claims: tuple[Claim, ...] | Captions, spec: SceneSpec, trajectory: Trajectory,
          simulate: Callable[[SceneSpec], Trajectory] | None = None) -> list[Failure]:
    """Every claim that does not hold. Other worlds are simulated here (default
    `scenes.simulate`) from the checker's own reading of the world name, once each."""
    if isinstance(claims, Captions):
        claims = claims.claims
    if simulate is None and any(c.world != CLIP for c in claims):
        from simreel.scenes import simulate
    worlds = {CLIP: World(spec, trajectory)}
    failures = []
    for i, claim in enumerate(claims):
        if claim.world not in worlds:
            other = world_spec(spec, claim.world)
            worlds[claim.world] = World(other, simulate(other))
        reason = check_claim(claim, worlds[claim.world])
        if reason is not None:
            failures.append(Failure(i, claim, reason))
    return failures


def resolve(ref: Reference, spec: SceneSpec, trajectory: Trajectory) -> list[str]:
    """The objects a referring expression picks out (it is unique iff the list has one name)."""
    matches = [o.name for o in spec.objects if all(getattr(o, k) == v for k, v in ref.attributes)]
    if ref.spatial is None or len(matches) < 2:
        return matches
    relation, rank = ref.spatial
    world = World(spec, trajectory)
    sign = -1.0 if relation in ("from_right", "from_far") else 1.0
    axis, gap = (0, SIDE_TAN) if relation in ("from_left", "from_right") else (2, DEPTH_M)
    value = {n: sign * world.view(n, 0)[axis] for n in matches}
    ranked = sorted(matches, key=value.get)
    if rank >= len(ranked):
        return []
    picked = ranked[rank]
    # its neighbours in that order must be clearly apart, or the phrase is ambiguous
    rivals = [n for k, n in enumerate(ranked) if abs(k - rank) == 1 and abs(value[n] - value[picked]) <= gap]
    return [picked, *rivals]
