"""Shared sampling for scene families: objects, floor, light and a camera that frames them.

A family only decides where things are and how they move; `SceneDraft` supplies the
rest so every family (ours or a user's) gets distinguishable objects, a floor they
stand out from, and a camera that sees them at frame 0.
"""
from __future__ import annotations

import colorsys
import contextvars
import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from simreel.scenes import camera, shapes, vocabulary
from simreel.scenes.types import (
    CameraSpec, ClipFormat, FloorSpec, LightSpec, ObjectSpec, Quat, SceneSpec, StaticSpec, Vec3,
)

ASSETS: contextvars.ContextVar = contextvars.ContextVar("simreel_assets", default=None)
"""The `scenes.assets.AssetLibrary` a sample may draw from, set by `scenes.sample` for the
length of one family call (families keep their `(rng, clip)` signature); None: primitives only."""


@dataclass(frozen=True)
class Look:
    """Attributes a prompt fixed for one body; None: the sampler's choice."""

    colour: str | None = None
    shape: str | None = None
    size: str | None = None
    material: str | None = None

    def allows(self, shapes, sizes, materials) -> bool:
        return ((self.shape is None or self.shape in shapes) and (self.size is None or self.size in sizes)
                and (self.material is None or self.material in materials))

    def fits(self, thing) -> bool:
        """Does an object or static (anything with these attributes) look like this?"""
        return all(v is None or getattr(thing, k, None) == v for k, v in vars(self).items())


@dataclass(frozen=True)
class Wishes:
    """Looks a prompt fixed: each object look goes to one pick whose allowed shapes, sizes
    and materials admit it; a static's colour is honoured where it is added. Where the
    family's choices cannot admit a wish it is left out, so a caller screens the spec."""

    objects: tuple[Look, ...] = ()
    statics: tuple[tuple[str, Look], ...] = ()


WISHES: contextvars.ContextVar = contextvars.ContextVar("simreel_wishes", default=Wishes())
"""The `Wishes` a sample honours, set by `scenes.sample` like ASSETS."""

MIN_COLOUR_DISTANCE = 80.0  # RGB distance an object's colour keeps from the floor and sky
GAP_M = 0.002  # clearance samplers leave between bodies placed at rest
DIMS_RATIO = {  # shape -> (min, max) ratio of the other extents to the characteristic extent
    "cylinder": (0.55, 0.9),  # diameter / height
    "cone": (0.6, 0.95),  # base diameter / height
    "capsule": (0.35, 0.5),  # diameter / length
    "rock": (0.65, 0.95),  # two shorter axes / longest
}


# --- small geometry helpers (quaternions are x, y, z, w like pybullet) ---------------------


def quat_about(axis, angle: float) -> Quat:
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    s = math.sin(angle / 2)
    return (float(axis[0] * s), float(axis[1] * s), float(axis[2] * s), float(math.cos(angle / 2)))


def quat_mul(a: Quat, b: Quat) -> Quat:
    """a * b: rotate by b first, then by a."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def rotation(q: Quat) -> np.ndarray:
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def random_orientation(rng: np.random.Generator) -> Quat:
    """Uniform over rotations (Shoemake)."""
    u1, u2, u3 = rng.random(3)
    a, b = math.sqrt(1 - u1), math.sqrt(u1)
    return (a * math.sin(2 * math.pi * u2), a * math.cos(2 * math.pi * u2), b * math.sin(2 * math.pi * u3), b * math.cos(2 * math.pi * u3))


def extent_below(obj: ObjectSpec, orientation: Quat, direction=(0.0, 0.0, 1.0)) -> float:
    """How far the body reaches below its centre along `direction` when turned by `orientation`."""
    world = shapes.mesh(obj).vertices @ rotation(orientation).T
    return float(-(world @ np.asarray(direction, dtype=np.float64)).min())


def radius(obj: ObjectSpec) -> float:
    """Bounding-sphere radius about the centre of mass."""
    return float(np.linalg.norm(shapes.mesh(obj).vertices, axis=1).max())


def vec(v) -> Vec3:
    return tuple(float(c) for c in v)


# --- scene dressing ----------------------------------------------------------------------


def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(h, s, v))


def sample_floor(rng: np.random.Generator) -> FloorSpec:
    """A muted checker floor (a motion cue) under a sky-ish or neutral background."""
    h, s, v = rng.uniform(0, 1), rng.uniform(0.05, 0.3), rng.uniform(0.4, 0.7)
    a = _rgb(h, s, v)
    b = _rgb(h, s, v * rng.uniform(0.72, 0.86))
    sky = _rgb(rng.uniform(0.52, 0.66), rng.uniform(0.0, 0.35), rng.uniform(0.78, 0.95))
    return FloorSpec(colour_a=a, colour_b=b, checker_m=float(rng.uniform(0.25, 0.6)), background=sky)


def sample_light(rng: np.random.Generator) -> LightSpec:
    return LightSpec(
        azimuth_deg=float(rng.uniform(0, 360)),
        elevation_deg=float(rng.uniform(35, 75)),
        intensity=float(rng.uniform(3.0, 6.0)),
        ambient=float(rng.uniform(0.2, 0.45)),
        shadows=bool(rng.random() < 0.85),
    )


def object_dims(shape: str, extent: float, rng: np.random.Generator) -> Vec3:
    """Full extents for a shape whose characteristic extent (its size word) is `extent`."""
    if shape in ("cube", "sphere"):
        return (extent, extent, extent)
    if shape == "block":  # a brick: longest edge = extent, lying flat
        return vec((extent, extent * rng.uniform(0.45, 0.7), extent * rng.uniform(0.3, 0.5)))
    lo, hi = DIMS_RATIO[shape]
    if shape == "rock":
        return vec((extent, extent * rng.uniform(lo, hi), extent * rng.uniform(lo, hi)))
    d = extent * rng.uniform(lo, hi)
    return vec((d, d, extent))


class SceneDraft:
    """A scene being sampled. Families pick looks, add bodies, then call `finish()`.

    Colours are unique per scene while they last (then looks stay unique as a
    colour+shape+size+material combination), so a caption can always name an
    object unambiguously.
    """

    def __init__(self, rng: np.random.Generator, clip: ClipFormat):
        self.rng, self.clip = rng, clip
        self.floor = sample_floor(rng)
        self.light = sample_light(rng)
        self.objects: list[ObjectSpec] = []
        self.statics: list[StaticSpec] = []
        self.focus: list[np.ndarray] = []
        backdrop = np.array([self.floor.colour_a, self.floor.colour_b, self.floor.background], dtype=np.float64)
        self.colours = [
            name for name, rgb in vocabulary.COLOURS.items()
            if np.linalg.norm(backdrop - np.asarray(rgb, dtype=np.float64), axis=1).min() >= MIN_COLOUR_DISTANCE
        ]
        self._looks: list[tuple] = []
        wishes = WISHES.get()
        self.wishes = list(wishes.objects)  # not yet given to a pick
        # half the drafts give wishes to the first picks that admit them, half only to every other
        # such pick, so a wished body also lands in a family's later roles (a tower's upper bricks)
        self.eager = not self.wishes or bool(rng.random() < 0.5)
        self.static_wishes = dict(wishes.statics)
        library = ASSETS.get()
        self.library = library
        self.assets = library.drawable() if library is not None else ()

    def pick(self, shapes=vocabulary.SHAPES, sizes=tuple(vocabulary.SIZES), materials=tuple(vocabulary.MATERIALS),
             dims: Vec3 | None = None) -> ObjectSpec:
        """An unplaced object (at the origin) with a look no other object in the scene has.

        `dims` overrides the sampled proportions (dominoes); its longest extent must
        still lie in the size class, so the size word stays true. With an asset library,
        wherever a family allows a rock (an irregular body) an asset may come instead:
        uniformly among the allowed primitives (if the library keeps them) and the assets
        that fit the sizes and a free colour.
        """
        rng = self.rng
        wish = self._wish(shapes, sizes, materials)
        if wish is not None:
            shapes, sizes, materials = ((v,) if v else kept for v, kept in
                                        ((wish.shape, shapes), (wish.size, sizes), (wish.material, materials)))
        elif self.library is not None and "rock" in shapes and dims is None:
            fits = self._fitting_assets(sizes)
            primitives = tuple(shapes) if self.library.builtin or not fits else ()
            k = int(rng.integers(len(primitives) + len(fits)))
            if k >= len(primitives):
                return self._pick_asset(fits[k - len(primitives)], sizes, materials)
            shapes = (primitives[k],)
        shape = str(rng.choice(shapes))
        size = str(rng.choice(sizes))
        material = str(rng.choice(materials))
        used = {look[0] for look in self._looks} | self._reserved()
        free = [c for c in self.colours if c not in used]
        if wish is not None and wish.colour is not None:
            colour = wish.colour
        elif free:
            colour = str(rng.choice(free))
        else:  # more objects than colours: keep the whole look unique instead
            taken = set(self._looks)
            colour = str(rng.choice([c for c in vocabulary.COLOURS if (c, shape, size, material) not in taken]))
        self._looks.append((colour, shape, size, material))
        lo, hi = vocabulary.SIZES[size]
        if dims is None:
            dims = object_dims(shape, float(rng.uniform(lo, hi)), rng)
        elif not lo <= max(dims) <= hi:
            raise ValueError(f"dims {dims} do not fit size {size!r} (longest extent {lo}..{hi} m)")
        return ObjectSpec(
            name="", shape=shape, size=size, dims=vec(dims), colour=colour, material=material,
            position=(0.0, 0.0, 0.0), mesh_seed=int(rng.integers(0, 2**31 - 1)) if shape == "rock" else 0,
        )

    def _wish(self, shapes, sizes, materials) -> Look | None:
        """One of the open wishes this pick admits (taken off the list), chosen at random; None if none."""
        open_ = [k for k, w in enumerate(self.wishes) if w.allows(shapes, sizes, materials)]
        if not open_ or (not self.eager and self.rng.random() < 0.5):
            return None
        return self.wishes.pop(open_[int(self.rng.integers(len(open_)))])

    def unplaced(self) -> int:
        """How many wished looks no pick has taken yet (a family may add bodies for them)."""
        return len(self.wishes)

    def _reserved(self) -> set[str]:
        """Colours wished for bodies not yet drawn: nobody else may take them."""
        return {w.colour for w in (*self.wishes, *self.static_wishes.values()) if w.colour}

    def _fitting_assets(self, sizes) -> list:
        used = {look[0] for look in self._looks} | self._reserved()
        return [a for a in self.assets if set(a.sizes) & set(sizes)
                and (a.colour is None or (a.colour in self.colours and a.colour not in used))]

    def _pick_asset(self, asset, sizes, materials) -> ObjectSpec:
        """An asset in one of its size classes, in its own colour or a free one (tinted)."""
        rng = self.rng
        size = str(rng.choice([s for s in vocabulary.SIZES if s in sizes and s in asset.sizes]))
        material = str(rng.choice(materials))
        colour = asset.colour
        if colour is None:
            used = {look[0] for look in self._looks} | self._reserved()
            free = [c for c in self.colours if c not in used]
            taken = set(self._looks)
            colour = str(rng.choice(free or [c for c in vocabulary.COLOURS
                                             if (c, asset.ref.name, size, material) not in taken]))
        self._looks.append((colour, asset.ref.name, size, material))
        lo, hi = vocabulary.SIZES[size]
        dims = vec(float(rng.uniform(lo, hi)) * asset.mesh.extents)
        return ObjectSpec(name="", shape="rock", size=size, dims=dims, colour=colour, material=material,
                          position=(0.0, 0.0, 0.0), asset=asset.ref)

    def add(self, obj: ObjectSpec, position, orientation: Quat = (0.0, 0.0, 0.0, 1.0),
            linear_velocity=(0.0, 0.0, 0.0), angular_velocity=(0.0, 0.0, 0.0)) -> ObjectSpec:
        """Place a picked object; it is named obj0, obj1, ... in the order added and kept in view."""
        placed = dataclasses.replace(
            obj, name=f"obj{len(self.objects)}", position=vec(position), orientation=vec(orientation),
            linear_velocity=vec(linear_velocity), angular_velocity=vec(angular_velocity),
        )
        self.objects.append(placed)
        self.see(placed.position)
        return placed

    def add_static(self, name: str, dims: Vec3, position, orientation: Quat, material: str) -> StaticSpec:
        wish = self.static_wishes.pop(name, Look())
        used = {look[0] for look in self._looks} | self._reserved()
        colour = wish.colour or str(self.rng.choice([c for c in self.colours if c not in used] or list(vocabulary.COLOURS)))
        self._looks.append((colour, "static", name, material))
        static = StaticSpec(name, vec(dims), vec(position), vec(orientation), colour, material)
        self.statics.append(static)
        return static

    def see(self, *points) -> None:
        """Points the camera must frame besides the objects' starting centres (e.g. where they land)."""
        self.focus.extend(np.asarray(p, dtype=np.float64) for p in points)

    def finish(self, params: dict | None = None, azimuth_deg: float | None = None,
               motions=camera.MOTIONS) -> SceneSpec:
        """The spec, with a camera framing every focus point at frame 0 and at the last frame.

        family and seed are left blank: `scenes.sample` stamps them.
        """
        cam = frame_camera(self.rng, np.array(self.focus), max(map(radius, self.objects), default=0.2),
                           self.clip, azimuth_deg, motions)
        return SceneSpec(
            family="", seed=0, objects=tuple(self.objects), camera=cam, light=self.light, floor=self.floor,
            statics=tuple(self.statics), fps=self.clip.fps, duration_s=self.clip.duration_s,
            width=self.clip.width, height=self.clip.height,
            params=tuple(sorted((params or {}).items())),
        )


def frame_camera(rng: np.random.Generator, focus: np.ndarray, pad: float, clip: ClipFormat,
                 azimuth_deg: float | None = None, motions=camera.MOTIONS) -> CameraSpec:
    """A camera rig whose first and last frames contain every focus point.

    Distance is first chosen so the focus points' bounding sphere just fits the
    narrower field of view (a little tighter is allowed: layouts are flatter than
    spheres), then pushed back until the projection check passes.
    """
    lo, hi = focus.min(axis=0), focus.max(axis=0)
    centre = (lo + hi) / 2
    r = max(float(np.linalg.norm(focus - centre, axis=1).max()) + pad, 0.5)
    fov = float(rng.uniform(40.0, 55.0))
    half_v = math.radians(fov) / 2
    half = min(half_v, math.atan(math.tan(half_v) * clip.width / clip.height))
    fit = lambda radius: radius / math.sin(half)  # noqa: E731
    motion = str(rng.choice(motions))
    azimuth = float(rng.uniform(0.0, 360.0) if azimuth_deg is None else azimuth_deg)
    elevation = float(rng.uniform(12.0, 40.0))
    tight = float(rng.uniform(0.8, 1.0))
    amount = 0.0
    if motion == "orbit":
        amount = float(rng.choice([-1.0, 1.0]) * rng.uniform(30.0, 90.0))
        distance = fit(r) * tight
    elif motion == "pan":
        amount = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.25, 0.6))
        distance = fit(r + abs(amount)) * tight
    elif motion == "dolly":
        travel = fit(r) * rng.uniform(0.15, 0.35)
        closer = bool(rng.random() < 0.5)
        distance = fit(r) * tight + (travel if closer else 0.0)
        amount = float(travel if closer else -travel)
    else:
        distance = fit(r) * tight
    target = vec(centre)
    for _ in range(30):
        spec = CameraSpec(motion, target, float(distance), azimuth, elevation, fov, amount)
        if _frames_all(spec, focus, clip):
            return spec
        distance *= 1.08
    return spec


def _frames_all(cam: CameraSpec, points: np.ndarray, clip: ClipFormat) -> bool:
    K = camera.intrinsics(cam, clip.width, clip.height)
    margin = 0.06 * np.array([clip.width, clip.height])
    for pose in camera.camera_poses(cam, 2):  # motion is linear: first and last frame
        (uv, depth) = camera.project(points, pose, K)
        if (depth <= 0.1).any() or (uv < margin).any() or (uv > np.array([clip.width, clip.height]) - margin).any():
            return False
    return True
