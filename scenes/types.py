"""The values that flow out of `scenes`: frozen, JSON-able, and complete.

Everything downstream (render, captioning, shards) reads these and nothing else of
the physics, so a spec + trajectory is the whole truth about a clip.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # x, y, z, w (pybullet order)


@dataclass(frozen=True)
class AssetRef:
    """A mesh asset an object is (scenes.assets): enough to name it and find the exact mesh again."""

    name: str  # the caption noun, "teddy bear"
    category: str  # "toy", "furniture", ...
    sha256: str  # of the mesh file (built-in procedural ones: of their vertices and faces)
    own_colours: bool = False  # drawn in its file's colours (a texture, vertex colours), not tinted (see shows_material)


@dataclass(frozen=True)
class ObjectSpec:
    """A dynamic body. Its mesh is `scenes.shapes.mesh(obj)`, centred on its centre of mass."""

    name: str  # unique in the scene, no dots: "obj0", "obj1", ...
    shape: str  # one of vocabulary.SHAPES
    size: str  # one of vocabulary.SIZES
    dims: Vec3  # full extent along the body's x, y, z axes in metres (bounding box)
    colour: str  # one of vocabulary.COLOURS
    material: str  # one of vocabulary.MATERIALS
    position: Vec3
    orientation: Quat = (0.0, 0.0, 0.0, 1.0)
    linear_velocity: Vec3 = (0.0, 0.0, 0.0)
    angular_velocity: Vec3 = (0.0, 0.0, 0.0)
    mesh_seed: int = 0  # only `rock` uses it
    asset: AssetRef | None = None  # a mesh asset (its shape is then "rock": an irregular body); None = the primitive


def shows_material(item) -> bool:
    """Whether an object's (or a static's) material can be seen, so captions may name it: not for an
    asset in its own colours (a soccer ball's texture is its look; its material is physics only)."""
    return not (isinstance(item, ObjectSpec) and item.asset is not None and item.asset.own_colours)


@dataclass(frozen=True)
class StaticSpec:
    """Fixed scenery besides the floor (a ramp, a wall). Rendered, collides, never moves."""

    name: str  # "ramp", "wall", ...
    dims: Vec3  # full box extents, metres
    position: Vec3
    orientation: Quat
    colour: str
    material: str


@dataclass(frozen=True)
class CameraSpec:
    """A camera rig; per-frame poses come from `scenes.camera.camera_poses`."""

    motion: str  # "static" | "orbit" | "pan" | "dolly"
    target: Vec3  # point looked at (at t=0)
    distance: float  # metres from target (at t=0)
    azimuth_deg: float  # 0 = looking along +y from -y; counter-clockwise seen from above
    elevation_deg: float  # above the horizon
    fov_deg: float = 45.0  # vertical field of view
    amount: float = 0.0  # orbit: degrees over the clip; pan: metres sideways; dolly: metres closer


@dataclass(frozen=True)
class LightSpec:
    azimuth_deg: float
    elevation_deg: float
    intensity: float  # directional light, pyrender units (~3-6 looks natural)
    ambient: float  # 0..1 grey ambient term
    shadows: bool = True


@dataclass(frozen=True)
class FloorSpec:
    colour_a: tuple[int, int, int]
    colour_b: tuple[int, int, int]
    checker_m: float  # checker square size in metres: a motion cue for the camera
    background: tuple[int, int, int]  # sky / clear colour


@dataclass(frozen=True)
class WorldSpec:
    """The look of a scene beyond its objects' colours (`scenes.worlds`): pixels and captions
    only, never physics. A scene without one is drawn as before: a checker under a flat sky."""

    floor: str  # one of worlds.FLOORS
    environment: str  # one of worlds.ENVIRONMENTS: the sky and the light it gives
    textures: tuple[str, ...] = ()  # per object (as `objects`), one of worlds.TEXTURES; "" = plain


@dataclass(frozen=True)
class SceneSpec:
    family: str
    seed: int
    objects: tuple[ObjectSpec, ...]
    camera: CameraSpec
    light: LightSpec
    floor: FloorSpec
    statics: tuple[StaticSpec, ...] = ()
    fps: int = 24
    duration_s: float = 2.0
    width: int = 64
    height: int = 64
    gravity: float = 9.81
    params: tuple[tuple[str, Any], ...] = ()  # family-specific facts worth keeping (e.g. ramp angle)
    world: WorldSpec | None = None  # floor kind, environment, textures; None: the classic look

    @property
    def num_frames(self) -> int:
        return int(round(self.fps * self.duration_s))

    def object(self, name: str) -> ObjectSpec:
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(f"no object {name!r} in scene; objects are {[o.name for o in self.objects]}")

    def to_dict(self) -> dict:
        """JSON-able; `params` as an object {name: value} (one type per name), so a table reader types it.
        `world` only when set, so scenes in the classic look keep their JSON."""
        d = {**dataclasses.asdict(self), "params": dict(self.params)}
        if self.world is None:
            del d["world"]
        for o in d["objects"]:  # primitives carry no `asset` key: scenes without assets keep their old JSON
            if o["asset"] is None:
                del o["asset"]
        return d

    @staticmethod
    def from_dict(d: dict) -> "SceneSpec":
        def tup(x):
            return tuple(tup(v) for v in x) if isinstance(x, list) else x

        params = d.get("params", {})
        params = tuple(sorted(params.items())) if isinstance(params, dict) else tup(params)
        return SceneSpec(
            family=d["family"],
            seed=d["seed"],
            objects=tuple(ObjectSpec(**{k: AssetRef(**v) if k == "asset" else tup(v) for k, v in o.items()})
                          for o in d["objects"]),
            camera=CameraSpec(**{k: tup(v) for k, v in d["camera"].items()}),
            light=LightSpec(**d["light"]),
            floor=FloorSpec(**{k: tup(v) for k, v in d["floor"].items()}),
            statics=tuple(StaticSpec(**{k: tup(v) for k, v in s.items()}) for s in d.get("statics", ())),
            fps=d["fps"],
            duration_s=d["duration_s"],
            width=d["width"],
            height=d["height"],
            gravity=d["gravity"],
            params=params,
            world=WorldSpec(**{k: tup(v) for k, v in d["world"].items()}) if d.get("world") else None,
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


EVENT_KINDS = (
    "contact_begin",  # subjects: (a, b); value: peak normal impulse (N*s) over the contact
    "contact_end",  # subjects: (a, b)
    "bounce",  # subjects: (obj, surface); value: rebound speed (m/s)
    "rest",  # subjects: (obj,); it stays still to the end of the clip
    "topple",  # subjects: (obj,); its up axis tilts past 45 degrees
    "exit_view",  # subjects: (obj,); its centre leaves the camera frustum
    "enter_view",  # subjects: (obj,)
)


@dataclass(frozen=True)
class Event:
    """One physical happening, aligned to a frame. One collision is one event."""

    kind: str  # one of EVENT_KINDS
    frame: int
    time_s: float
    subjects: tuple[str, ...]  # object names, or "floor" / a static's name
    value: float = 0.0
    impulse: float | None = None  # contact_begin only: N*s, the largest normal impulse of one physics step
    normal: tuple[float, float, float] | None = None  # contact_begin only: unit, from subjects[1] towards subjects[0]

    def to_dict(self) -> dict:
        """Plain values; impulse and normal only where set (contact_begin)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @staticmethod
    def from_dict(d: dict) -> "Event":
        normal = d.get("normal")
        return Event(d["kind"], d["frame"], d["time_s"], tuple(d["subjects"]), d.get("value", 0.0),
                     d.get("impulse"), None if normal is None else tuple(normal))


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Per-frame state of every object (axis 1 follows `spec.objects`), plus events.

    Arrays are float64 and never written to after construction.
    """

    fps: int
    names: tuple[str, ...]
    positions: np.ndarray  # [T, N, 3] metres, centre of mass
    orientations: np.ndarray  # [T, N, 4] quaternion x, y, z, w
    linear_velocities: np.ndarray  # [T, N, 3] m/s
    angular_velocities: np.ndarray  # [T, N, 3] rad/s
    events: tuple[Event, ...] = ()

    @property
    def num_frames(self) -> int:
        return int(self.positions.shape[0])

    def index(self, name: str) -> int:
        return self.names.index(name)

    def to_dict(self) -> dict:
        return {
            "fps": self.fps,
            "names": list(self.names),
            "positions": self.positions.tolist(),
            "orientations": self.orientations.tolist(),
            "linear_velocities": self.linear_velocities.tolist(),
            "angular_velocities": self.angular_velocities.tolist(),
            "events": [e.to_dict() for e in self.events],
        }

    @staticmethod
    def from_dict(d: dict) -> "Trajectory":
        arr = lambda k: np.asarray(d[k], dtype=np.float64)  # noqa: E731
        return Trajectory(
            fps=d["fps"],
            names=tuple(d["names"]),
            positions=arr("positions"),
            orientations=arr("orientations"),
            linear_velocities=arr("linear_velocities"),
            angular_velocities=arr("angular_velocities"),
            events=tuple(Event.from_dict(e) for e in d["events"]),
        )


@dataclass(frozen=True)
class Rejection:
    """A sampled scene that was thrown away, and why (e.g. "interpenetrating", "exploded")."""

    seed: int
    reason: str
    detail: str = ""


@dataclass(frozen=True, eq=False)
class Scene:
    """What `scenes.make` returns: the accepted spec, its trajectory, and what was rejected first."""

    spec: SceneSpec
    trajectory: Trajectory
    rejections: tuple[Rejection, ...] = field(default=())


PHYSICS_HZ = 240
"""The fixed physics step rate. Clip frame rates must divide it, so every frame is an
exact physics step and no state is interpolated."""

VALID_FPS = tuple(f for f in range(1, PHYSICS_HZ + 1) if PHYSICS_HZ % f == 0)


@dataclass(frozen=True)
class ClipFormat:
    """How long, how fast and how large a clip is; `scenes.make` stamps it on the spec."""

    fps: int = 24
    duration_s: float = 2.0
    width: int = 64
    height: int = 64

    def __post_init__(self):
        if self.fps not in VALID_FPS:
            raise ValueError(f"fps {self.fps!r} must divide the {PHYSICS_HZ} Hz physics rate; choose one of {VALID_FPS}")
        if not (0 < self.duration_s <= 120):
            raise ValueError(f"duration_s {self.duration_s!r} must be in (0, 120] seconds")
        for name in ("width", "height"):
            v = getattr(self, name)
            if not (isinstance(v, int) and 16 <= v <= 4096 and v % 2 == 0):
                raise ValueError(f"{name} {v!r} must be an even integer in [16, 4096] (video codecs reject odd sizes)")
