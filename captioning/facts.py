"""What happens in a clip, read off the trajectory by the generator (not by the checker).

`happenings()` turns per-frame state and the simulator's events into a time-ordered
list of `Happening`s ("obj0 falls from frame 3 to 11", "obj1 hits obj2 at frame 14").
Every happening is kept only with a safety margin over what the words mean, so the
claims made from it hold under `captioning.check` with room to spare.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull

from simreel.scenes import camera, shapes
from simreel.scenes.types import CameraSpec, ObjectSpec, SceneSpec, Trajectory

TOPPLE_SHAPES = ("cube", "block", "cylinder", "cone", "capsule")
ROUND_SHAPES = ("sphere", "cylinder", "capsule")


@dataclass(frozen=True)
class Happening:
    """One thing worth saying; frames are inclusive, f0 <= f1."""

    kind: str  # see KINDS
    subject: str
    other: str | None  # the surface or object involved, if any
    f0: int
    f1: int
    manner: str | None = None  # roll | slide (descend, travel)
    direction: str | None = None  # left | right | toward_camera | away_from_camera (travel)


KINDS = ("fly", "fall", "land", "bounce", "hit", "collide", "topple", "descend", "travel", "exit", "enter", "rest", "still")


def rotation_matrix(q: np.ndarray) -> np.ndarray:
    """[..., 3, 3] rotation matrices from quaternions [..., 4] (x, y, z, w)."""
    x, y, z, w = np.moveaxis(np.asarray(q, dtype=np.float64), -1, 0)
    rows = [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]
    return np.stack(rows, axis=-1).reshape(x.shape + (3, 3))


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Body-frame vectors v [..., 3] in world axes, for quaternions q [..., 4]; broadcasts."""
    return np.einsum("...ij,...j->...i", rotation_matrix(q), v)


@functools.lru_cache(maxsize=64)
def _hull(obj: ObjectSpec) -> np.ndarray:
    """Convex hull vertices in the body frame (enough for heights and reach).

    The vertices trimesh's `convex_hull` keeps, in its order (qhull with trimesh's options,
    referenced points sorted), without building a mesh of them: a third of the time."""
    points = shapes.mesh(obj).vertices.view(np.ndarray)
    return points[np.sort(ConvexHull(points, qhull_options="Qt QbB Pp").vertices)]


@functools.lru_cache(maxsize=64)
def _poses(cam: CameraSpec, num_frames: int) -> np.ndarray:
    """Camera poses, shared by the clip and its longer and counterfactual re-runs."""
    poses = camera.camera_poses(cam, num_frames)
    poses.flags.writeable = False
    return poses


@dataclass(frozen=True, eq=False)
class Clip:
    """A spec and trajectory with the derived per-frame quantities the generator reads."""

    spec: SceneSpec
    traj: Trajectory

    @property
    def fps(self) -> int:
        return self.traj.fps

    @property
    def last(self) -> int:
        return self.traj.num_frames - 1

    @functools.cached_property
    def speed(self) -> np.ndarray:  # [T, N]
        return np.linalg.norm(self.traj.linear_velocities, axis=-1)

    @functools.cached_property
    def spin(self) -> np.ndarray:
        return np.linalg.norm(self.traj.angular_velocities, axis=-1)

    @functools.cached_property
    def hulls(self) -> list[np.ndarray]:
        return [_hull(o) for o in self.spec.objects]

    def body_points(self, f: int, i: int) -> np.ndarray:
        """Object i's hull vertices at frame f, relative to its centre, in world axes."""
        return rotate(self.traj.orientations[f, i][None], self.hulls[i])

    @functools.cached_property
    def _heights(self) -> tuple[np.ndarray, np.ndarray]:
        T, N = self.traj.num_frames, len(self.spec.objects)
        low, high = np.empty((T, N)), np.empty((T, N))
        for i in range(N):
            z = rotate(self.traj.orientations[:, i][:, None, :], self.hulls[i][None])[..., 2]  # [T, V]
            low[:, i] = self.traj.positions[:, i, 2] + z.min(axis=1)
            high[:, i] = self.traj.positions[:, i, 2] + z.max(axis=1)
        return low, high

    @property
    def lowest(self) -> np.ndarray:
        """[T, N] height of each body's lowest point."""
        return self._heights[0]

    @property
    def highest(self) -> np.ndarray:
        return self._heights[1]

    def radius_xy(self, f: int, i: int) -> float:
        """How far object i reaches horizontally from its centre at frame f."""
        return float(np.linalg.norm(self.body_points(f, i)[:, :2], axis=1).max())

    @functools.cached_property
    def poses(self) -> np.ndarray:
        return _poses(self.spec.camera, self.traj.num_frames)

    @functools.cached_property
    def K(self) -> np.ndarray:
        return camera.intrinsics(self.spec.camera, self.spec.width, self.spec.height)

    @functools.cached_property
    def pixels(self) -> np.ndarray:
        """[T, N, 3]: (u / width, v / height, depth) of every centre at every frame."""
        out = np.empty((self.traj.num_frames, len(self.spec.objects), 3))
        for f, pose in enumerate(self.poses):
            uv, depth = camera.project(self.traj.positions[f], pose, self.K)
            out[f, :, 0] = uv[:, 0] / self.spec.width
            out[f, :, 1] = uv[:, 1] / self.spec.height
            out[f, :, 2] = depth
        return out

    def slope(self, f: int, i: int) -> float:
        """tan of the horizontal angle of object i from the optical axis at frame f (left < 0)."""
        p = camera.to_camera_frame(self.traj.positions[f, i], self.poses[f])
        return float(p[0] / max(-p[2], 1e-6))

    @functools.cached_property
    def contacts(self) -> list[tuple[int, int, tuple[str, str], float]]:
        """(begin frame, end frame or last+1, pair, peak impulse) for every contact, in time order."""
        ends: dict[tuple[str, ...], list[int]] = {}
        for e in self.traj.events:
            if e.kind == "contact_end":
                ends.setdefault(tuple(sorted(e.subjects)), []).append(e.frame)
        out = []
        for e in self.traj.events:
            if e.kind == "contact_begin":
                key = tuple(sorted(e.subjects))
                later = [f for f in ends.get(key, []) if f >= e.frame]
                end = later[0] if later else self.last + 1
                if later:
                    ends[key].remove(end)
                out.append((e.frame, end, (e.subjects[0], e.subjects[1]), e.value))
        return out

    def touching(self, i: int) -> np.ndarray:
        """[T] bool: object i is in some contact at each frame."""
        name = self.traj.names[i]
        out = np.zeros(self.traj.num_frames, dtype=bool)
        for f0, f1, pair, _ in self.contacts:
            if name in pair:
                out[f0:f1 + 1] = True
        return out

    def moved(self, i: int, f0: int = 0, f1: int | None = None) -> float:
        """How far object i gets from where it is at f0, up to f1 (default: the end)."""
        p = self.traj.positions[f0:(self.last if f1 is None else f1) + 1, i]
        return float(np.linalg.norm(p - p[0], axis=1).max())

    def tilt_from(self, i: int, f: int) -> np.ndarray:
        """[T] degrees between object i's axis that points up at frame f and world up."""
        x, y, z, w = self.traj.orientations[f, i]
        up_body = rotate(np.array([-x, -y, -z, w]), np.array([0.0, 0.0, 1.0]))
        return np.degrees(np.arccos(np.clip(rotate(self.traj.orientations[:, i], up_body)[:, 2], -1, 1)))

    def upright(self, i: int, f: int) -> bool:
        """Standing so it can fall over: a box on any face, a cylinder/cone/capsule on its end."""
        obj = self.spec.objects[i]
        if obj.shape not in TOPPLE_SHAPES:
            return False
        axes = np.eye(3) if obj.shape in ("cube", "block") else np.eye(3)[2:]
        vertical = rotate(self.traj.orientations[f, i], axes)[..., 2]
        if obj.shape != "cone":  # a cone on its tip is not standing
            vertical = np.abs(vertical)
        return bool(vertical.max() > 0.97)

    def initially_touching(self, name: str) -> set[str]:
        return {p for f0, _, pair, _ in self.contacts if f0 == 0 and name in pair for p in pair} - {name}


def happenings(clip: Clip) -> list[Happening]:
    """Everything worth saying about the clip's motion, ordered by start frame."""
    out: list[Happening] = []
    for i, obj in enumerate(clip.spec.objects):
        out += _motion_of(clip, i)
    out += _contacts(clip)
    views = _views(clip)
    gone = {h.subject: h.f0 for h in views if h.kind == "exit"}
    # what happens after an object has left the picture is not in the video: leave it unsaid
    out = [h for h in out if h.f0 < gone.get(h.subject, clip.last + 1)] + views
    return sorted(out, key=lambda h: (h.f0, h.f1, KINDS.index(h.kind), h.subject))


def _motion_of(clip: Clip, i: int) -> list[Happening]:
    name = clip.traj.names[i]
    if clip.moved(i) < 0.01:
        return [Happening("still", name, None, 0, clip.last)]
    out = []
    out += _airborne(clip, i)
    out += _topple(clip, i)
    out += _ground_motion(clip, i)
    rest = _rest_frame(clip, i)
    if rest is not None:
        out.append(Happening("rest", name, None, rest, clip.last))
    return out


def _airborne(clip: Clip, i: int) -> list[Happening]:
    """Free flight (launched) and falls: spans with no contact that end on a contact."""
    name = clip.traj.names[i]
    touching = clip.touching(i)
    z = clip.traj.positions[:, i, 2]
    out = []
    f = 0
    while f < clip.last:
        if touching[f]:
            f += 1
            continue
        g = f
        while g < clip.last and not touching[g + 1]:
            g += 1
        landing = g + 1 if g < clip.last else None  # first touching frame
        launched = f == 0 and clip.speed[0, i] > 1.0
        if launched and g - f >= 2 and clip.lowest[f:g + 1, i].min() > 0.08 and clip.moved(i, f, g) > 0.15:
            out.append(Happening("fly", name, None, f, g))
        elif landing is not None:
            # the fall: from where it starts going down to the landing, strictly descending
            top = f + int(np.argmax(z[f:landing + 1]))
            end = landing
            while end > top and z[end] > z[end - 1] - 1e-3:
                end -= 1
            descending = np.all(np.diff(z[top:end + 1]) < 1e-3)
            if end - top >= 2 and z[top] - z[end] > 0.12 and descending:
                out.append(Happening("fall", name, None, top, end))
        f = g + 1
    return out


def _topple(clip: Clip, i: int) -> list[Happening]:
    """Standing at the start, tilted well past the point of no return later."""
    obj = clip.spec.objects[i]
    if not clip.upright(i, 0) or not any(e.kind == "topple" and e.subjects == (obj.name,) for e in clip.traj.events):
        return []
    tilt = clip.tilt_from(i, 0)
    over = np.flatnonzero(tilt > 60.0)
    if len(over) == 0:
        return []
    f1 = int(over[0])
    upright = np.flatnonzero(tilt[:f1] < 5.0)
    f0 = int(upright[-1]) if len(upright) else 0
    return [Happening("topple", obj.name, None, f0, f1)]


def _roll_share(clip: Clip, i: int, f0: int, f1: int) -> tuple[float, float]:
    """(share of frames rolling, share sliding) over moving frames, with the generator's margins."""
    r = clip.spec.objects[i].dims[0] / 2
    v = clip.speed[f0:f1 + 1, i]
    w = clip.traj.angular_velocities[f0:f1 + 1, i, :2]
    moving = v > 0.15
    if moving.sum() < 4:
        return 0.0, 0.0
    ratio = r * np.linalg.norm(w, axis=1)[moving] / v[moving]
    return float(np.mean((ratio > 0.7) & (ratio < 1.3))), float(np.mean(ratio < 0.15))


def _manner(clip: Clip, i: int, f0: int, f1: int) -> str | None:
    roll, slide = _roll_share(clip, i, f0, f1)
    if roll >= 0.85 and clip.spec.objects[i].shape in ROUND_SHAPES:
        return "roll"
    return "slide" if slide >= 0.85 else None


def _ground_motion(clip: Clip, i: int) -> list[Happening]:
    """Going down a ramp, and travel along the floor in a clear direction (rolling or sliding)."""
    name = clip.traj.names[i]
    out = []
    for static in clip.spec.statics:
        n = rotate(np.asarray(static.orientation), np.array([0.0, 0.0, 1.0]))
        downhill = n[:2] / max(np.linalg.norm(n[:2]), 1e-9)
        spans = [(f0, min(f1, clip.last)) for f0, f1, pair, _ in clip.contacts if set(pair) == {name, static.name}]
        for f0, f1 in spans:
            d = clip.traj.positions[f1, i] - clip.traj.positions[f0, i]
            if -d[2] > 0.12 and d[:2] @ downhill > 0.85 * np.linalg.norm(d[:2]) and f1 - f0 >= 3:
                out.append(Happening("descend", name, static.name, f0, f1, _manner(clip, i, f0, f1)))
    # travel on the floor: the longest stretch touching the floor while moving
    on_floor = (clip.lowest[:, i] < 0.01) & (clip.speed[:, i] > 0.15)
    best, f = None, 0
    while f <= clip.last:
        if not on_floor[f]:
            f += 1
            continue
        g = f
        while g < clip.last and on_floor[g + 1]:
            g += 1
        if best is None or g - f > best[1] - best[0]:
            best = (f, g)
        f = g + 1
    if best is not None and best[1] - best[0] >= 4:
        f0, f1 = best
        direction = _direction(clip, i, f0, f1)
        manner = _manner(clip, i, f0, f1)
        if direction is not None or manner is not None:
            out.append(Happening("travel", name, None, f0, f1, manner, direction))
    return out


def _direction(clip: Clip, i: int, f0: int, f1: int) -> str | None:
    """Which way it goes across the picture, by the camera of the moment (mid-span)."""
    d = clip.traj.positions[f1, i] - clip.traj.positions[f0, i]
    pose = clip.poses[(f0 + f1) // 2]
    right = pose[:3, 0] * [1, 1, 0]
    back = pose[:3, 2] * [1, 1, 0]
    right, back = right / np.linalg.norm(right), back / np.linalg.norm(back)
    h = float(np.linalg.norm(d[:2]))
    if h < 0.15:
        return None
    for word, axis in (("right", right), ("left", -right), ("toward_camera", back), ("away_from_camera", -back)):
        if d @ axis > 0.75 * h:
            return word
    return None


def _rest_frame(clip: Clip, i: int) -> int | None:
    """First frame from which it stays clearly still to the end, after having moved."""
    still = (clip.speed[:, i] < 0.025) & (clip.spin[:, i] < 0.25)
    moving = np.flatnonzero(~still)
    if len(moving) == 0:
        return None
    f = int(moving[-1]) + 1
    if clip.last - f < 2 or clip.moved(i, 0, f) < 0.1:
        return None
    return f


def _contacts(clip: Clip) -> list[Happening]:
    """Landings, bounces and object-object hits (the first touch of each pair after frame 0)."""
    objects = set(clip.traj.names)
    out, seen = [], set()
    v = clip.traj.linear_velocities
    for f0, f1, pair, _ in clip.contacts:
        if f0 == 0 or pair in seen:
            continue
        seen.add(pair)
        a, b = pair
        ia = clip.traj.index(a)
        before = max(f0 - 1, 0)
        if b in objects:
            ib = clip.traj.index(b)
            va, vb = clip.speed[before, ia], clip.speed[before, ib]
            if va > 1.5 * vb + 0.1:
                out.append(Happening("hit", a, b, f0, f0))
            elif vb > 1.5 * va + 0.1:
                out.append(Happening("hit", b, a, f0, f0))
            elif min(va, vb) > 0.1:
                out.append(Happening("collide", a, b, f0, f0))
        elif v[before, ia, 2] < -0.4:
            out.append(Happening("land", a, b, f0, f0))
    for e in clip.traj.events:
        if e.kind == "bounce" and e.value >= 0.5:
            a, surface = e.subjects
            z = clip.traj.positions[e.frame:e.frame + 3, clip.traj.index(a), 2]
            if surface != "floor" or (len(z) == 3 and z[2] > z[0] + 0.01):
                out.append(Happening("bounce", a, surface, e.frame, e.frame))
    return out


def _views(clip: Clip) -> list[Happening]:
    """Leaving or entering the picture, with a margin either side of the border."""
    px = clip.pixels
    inside = (px[..., 2] > 0.1) & np.all((px[..., :2] > 0.03) & (px[..., :2] < 0.97), axis=-1)
    outside = (px[..., 2] <= 0) | np.any((px[..., :2] < -0.03) | (px[..., :2] > 1.03), axis=-1)
    out = []
    for i, name in enumerate(clip.traj.names):
        ins, outs = np.flatnonzero(inside[:, i]), np.flatnonzero(outside[:, i])
        if len(outs) and len(ins) and ins[0] < outs[-1] and outside[-1, i]:
            f1 = int(np.flatnonzero(~outside[:, i])[-1]) + 1
            before = ins[ins < f1]
            if len(before):
                out.append(Happening("exit", name, None, int(before[-1]), f1))
        elif len(outs) and outs[0] == 0 and inside[-1, i]:
            f1 = int(np.flatnonzero(~inside[:, i])[-1]) + 1
            f0 = int(outs[outs < f1][-1])
            out.append(Happening("enter", name, None, f0, f1))
    return out
