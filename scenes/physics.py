"""pybullet simulation: a SceneSpec in, a Trajectory (states + events) out.

Each call owns one DIRECT client from connect to disconnect, so scenes never share
state and a worker can simulate thousands in a row. The world is rebuilt from the
spec alone, in a fixed order, with float64 inputs: the same spec gives a bit-identical
trajectory in any process.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from dataclasses import dataclass

import numpy as np


@contextlib.contextmanager
def _silenced_stderr():
    """pybullet's C code prints its build time to fd 2 on import: noise in every CLI call."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _silenced_stderr():
    import pybullet as pb

from simreel.scenes import assets, events, shapes, validity, vocabulary
from simreel.scenes.types import PHYSICS_HZ, VALID_FPS, ObjectSpec, SceneSpec, StaticSpec, Trajectory

DT = 1.0 / PHYSICS_HZ
ROLLING_FRICTION = 0.005  # lets rolling balls and cylinders come to rest, as real ones do
SPINNING_FRICTION = 0.005
SOLVER_ITERATIONS = 20  # pybullet's 50 cost topple 1.7x the CPU; promise rates, energy and a standing 5-cube tower unchanged
DEBOUNCE_S = 0.05  # separations this short (rocking, jitter) do not end a contact; the slowest
# bounce events.py counts (0.3 m/s) is airborne 0.06 s, so every real bounce still ends one


@dataclass
class Contact:
    """One physical contact between an object `a` and a body `b` (object or surface), debounced.

    Steps are physics steps (time = step / PHYSICS_HZ); `end` is the first step without
    contact, None if still touching when the clip ends.
    """

    a: str
    b: str
    begin: int
    last: int  # last step that touched
    end: int | None = None
    peak_impulse: float = 0.0  # N*s: the largest normal impulse of one physics step, summed over the pair's points
    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)  # unit, from b towards a, at first touch
    separation_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)  # a's velocity just after `last`


def simulate(spec: SceneSpec) -> Trajectory:
    """Simulate `spec` at 240 Hz and sample its frames; raise validity.InvalidScene if unusable.

    One fresh client for this call; to simulate many scenes, keep a `Physics` instead."""
    with Physics() as physics:
        return physics.simulate(spec)


@dataclass
class _World:
    """The live world of the last scene a Physics built: its spec and everything `_run` has recorded."""

    spec: SceneSpec
    bodies: list[str]
    states: tuple[np.ndarray, ...]  # positions, orientations, linear, angular velocities, [T, N, .]
    tracker: "_ContactTracker"


class Physics:
    """One pybullet client for many simulations in a row, as a worker keeps one renderer.

    A fresh client costs ~15 ms a scene (connect, and the first body of a new world); a
    client reset between scenes costs ~0.7 ms and gives bit-identical trajectories. The
    last scene's world stays live, so a longer run of the same scene (the predictive
    questions' world) continues it from its last frame instead of starting again: the same
    steps in the same order, so the same bits as simulating the longer spec from scratch.
    """

    def __init__(self):
        self.cid: int | None = None
        self.world: _World | None = None

    def __enter__(self) -> "Physics":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.cid is not None:
            pb.disconnect(physicsClientId=self.cid)
        self.cid, self.world = None, None

    def simulate(self, spec: SceneSpec) -> Trajectory:
        """As `simulate(spec)`; continues the live world when `spec` is it, only longer."""
        _check_spec(spec)
        world = self.world
        if world is None or not _continues(world.spec, spec):
            world = self._new_world(spec)
        self.world = None  # a world that raises half-way is not continued
        states = _run(spec, world.bodies, self.cid, world.tracker, world.states)
        self.world = dataclasses.replace(world, spec=spec, states=states)
        trajectory = Trajectory(spec.fps, tuple(o.name for o in spec.objects), *states)
        return dataclasses.replace(trajectory, events=events.derive(spec, trajectory, world.tracker.finish()))

    def _new_world(self, spec: SceneSpec) -> _World:
        if self.cid is None:
            self.cid = pb.connect(pb.DIRECT)
        else:
            pb.resetSimulation(physicsClientId=self.cid)
        self.world = None
        bodies = _build(spec, self.cid)
        _check_interpenetration(bodies, self.cid)
        n = _num_objects(bodies)
        empty = (np.zeros((0, n, 3)), np.zeros((0, n, 4)), np.zeros((0, n, 3)), np.zeros((0, n, 3)))
        return _World(spec, bodies, empty, _ContactTracker(bodies, round(DEBOUNCE_S * PHYSICS_HZ), self.cid))


def _continues(live: SceneSpec, spec: SceneSpec) -> bool:
    """`spec` is the live world's scene run for at least as long."""
    return spec.num_frames >= live.num_frames and dataclasses.replace(spec, duration_s=live.duration_s) == live


def _check_spec(spec: SceneSpec) -> None:
    if spec.fps not in VALID_FPS:
        raise ValueError(f"spec.fps {spec.fps} must divide {PHYSICS_HZ}; choose one of {VALID_FPS}")
    if spec.num_frames < 1:
        raise ValueError(f"spec has no frames (fps {spec.fps}, duration {spec.duration_s} s)")
    names = [o.name for o in spec.objects] + ["floor"] + [s.name for s in spec.statics]
    if len(set(names)) != len(names):
        raise ValueError(f"body names must be unique and differ from 'floor': {names}")
    for o in spec.objects:
        if o.shape not in vocabulary.SHAPES:
            raise ValueError(f"{o.name}: unknown shape {o.shape!r}; choose one of {vocabulary.SHAPES}")
    for body in (*spec.objects, *spec.statics):
        if body.material not in vocabulary.MATERIALS:
            raise ValueError(f"{body.name}: unknown material {body.material!r}; choose one of {tuple(vocabulary.MATERIALS)}")


def _collision_shape(obj: ObjectSpec, cid: int) -> int:
    dx, _, dz = obj.dims
    if obj.asset is not None:
        asset = assets.resolve(obj.asset)
        if asset.parts:  # concave: a compound of its convex parts
            return pb.createCollisionShape(pb.GEOM_MESH, fileName=assets.parts_file(asset),
                                           meshScale=[max(obj.dims)] * 3, physicsClientId=cid)
        return pb.createCollisionShape(pb.GEOM_MESH, vertices=shapes.mesh(obj).convex_hull.vertices.tolist(),
                                       physicsClientId=cid)
    if obj.shape in ("cube", "block"):
        return pb.createCollisionShape(pb.GEOM_BOX, halfExtents=[d / 2 for d in obj.dims], physicsClientId=cid)
    if obj.shape == "sphere":
        return pb.createCollisionShape(pb.GEOM_SPHERE, radius=dx / 2, physicsClientId=cid)
    if obj.shape == "cylinder":
        return pb.createCollisionShape(pb.GEOM_CYLINDER, radius=dx / 2, height=dz, physicsClientId=cid)
    if obj.shape == "capsule":
        return pb.createCollisionShape(pb.GEOM_CAPSULE, radius=dx / 2, height=dz - dx, physicsClientId=cid)
    # cone, rock: the convex hull of the very mesh the renderer draws
    return pb.createCollisionShape(pb.GEOM_MESH, vertices=shapes.mesh(obj).vertices.tolist(), physicsClientId=cid)


def _material(obj: ObjectSpec) -> vocabulary.Material:
    """The object's material, with an asset's own density, friction and restitution (its sidecar) put in."""
    material = vocabulary.MATERIALS[obj.material]
    if obj.asset is None:
        return material
    asset = assets.resolve(obj.asset)
    own = {k: getattr(asset, k) for k in ("density", "friction", "restitution") if getattr(asset, k) is not None}
    return dataclasses.replace(material, **own)


def _surface(m: vocabulary.Material, body: int, cid: int) -> None:
    pb.changeDynamics(
        body, -1, lateralFriction=m.friction, restitution=m.restitution,
        rollingFriction=ROLLING_FRICTION, spinningFriction=SPINNING_FRICTION, physicsClientId=cid,
    )


def _build(spec: SceneSpec, cid: int) -> list[str]:
    """Create bodies in a fixed order (objects, floor, statics); body id i is names[i]."""
    pb.setPhysicsEngineParameter(
        fixedTimeStep=DT, numSubSteps=0, deterministicOverlappingPairs=1,
        numSolverIterations=SOLVER_ITERATIONS, physicsClientId=cid,
    )
    pb.setGravity(0.0, 0.0, -spec.gravity, physicsClientId=cid)
    names = []
    for obj in spec.objects:
        material = _material(obj)
        mass, inertia = shapes.mass_properties(obj, material.density)
        body = pb.createMultiBody(
            baseMass=mass, baseCollisionShapeIndex=_collision_shape(obj, cid),
            basePosition=obj.position, baseOrientation=obj.orientation, physicsClientId=cid,
        )
        assert body == len(names), "pybullet numbers bodies from 0 in a fresh client"
        _surface(material, body, cid)
        # pybullet's defaults (damping 0.04, box-approximated inertia) would bend free fall and energy.
        # Solving only touching contacts (threshold 0) keeps restitution: speculative contacts found
        # up to 2 cm early stop a ball just short of the floor and its bounce is lost, seemingly at random.
        pb.changeDynamics(
            body, -1, linearDamping=0.0, angularDamping=0.0, localInertiaDiagonal=inertia.tolist(),
            contactProcessingThreshold=0.0, physicsClientId=cid,
        )
        pb.resetBaseVelocity(body, obj.linear_velocity, obj.angular_velocity, physicsClientId=cid)
        names.append(obj.name)
    floor = pb.createMultiBody(0.0, pb.createCollisionShape(pb.GEOM_PLANE, physicsClientId=cid), physicsClientId=cid)
    _surface(vocabulary.FLOOR_MATERIAL, floor, cid)
    names.append("floor")
    for static in spec.statics:
        names.append(static.name)
        _surface(vocabulary.MATERIALS[static.material], _static_body(static, cid), cid)
    return names


def _static_body(static: StaticSpec, cid: int) -> int:
    shape = pb.createCollisionShape(pb.GEOM_BOX, halfExtents=[d / 2 for d in static.dims], physicsClientId=cid)
    return pb.createMultiBody(
        0.0, shape, basePosition=static.position, baseOrientation=static.orientation, physicsClientId=cid
    )


def _num_objects(bodies: list[str]) -> int:
    return bodies.index("floor")


def _check_interpenetration(bodies: list[str], cid: int) -> None:
    n = _num_objects(bodies)
    for a in range(n):
        for b in range(a + 1, len(bodies)):
            points = pb.getClosestPoints(a, b, distance=0.0, physicsClientId=cid)
            depth = -min((p[8] for p in points), default=0.0)
            if depth > validity.PENETRATION_TOL_M:
                raise validity.InvalidScene(
                    "interpenetrating", f"{bodies[a]} and {bodies[b]} overlap by {depth * 1000:.1f} mm at the start"
                )


def _run(spec: SceneSpec, bodies: list[str], cid: int, tracker: "_ContactTracker", done: tuple[np.ndarray, ...]):
    """Frames len(done[0]) .. spec.num_frames - 1 of a world whose earlier frames are `done`."""
    n, T, start = _num_objects(bodies), spec.num_frames, len(done[0])
    steps_per_frame = PHYSICS_HZ // spec.fps
    positions, orientations, linear, angular = (np.concatenate([d, np.zeros((T - start, *d.shape[1:]))]) for d in done)
    names = bodies[:n]
    for frame in range(start, T):
        if frame > 0:
            for _ in range(steps_per_frame):
                pb.stepSimulation(physicsClientId=cid)
                tracker.step()
        for i in range(n):
            pos, orn = pb.getBasePositionAndOrientation(i, physicsClientId=cid)
            lin, ang = pb.getBaseVelocity(i, physicsClientId=cid)
            positions[frame, i], orientations[frame, i] = pos, orn
            linear[frame, i], angular[frame, i] = lin, ang
        validity.check_state(names, frame, positions[frame], linear[frame], angular[frame])
    return positions, orientations, linear, angular


class _ContactTracker:
    """Turns per-step contact points into debounced Contacts, one per physical touch."""

    def __init__(self, bodies: list[str], gap_steps: int, cid: int):
        self.bodies, self.gap, self.cid = bodies, gap_steps, cid
        self.n = _num_objects(bodies)
        self.open: dict[tuple[int, int], Contact] = {}
        self.closed: list[Contact] = []
        self.touching_before: set[tuple[int, int]] = set()
        self.step_index = 0

    def step(self) -> None:
        self.step_index += 1
        s = self.step_index
        points = pb.getContactPoints(physicsClientId=self.cid)
        if not points and not self.open:  # in flight, nothing touching or just separated: nothing to note
            return
        impulse: dict[tuple[int, int], float] = {}
        first_point: dict[tuple[int, int], tuple] = {}
        for p in points:
            force = p[9]
            if force <= 0.0 and p[8] >= 0.0:  # a near miss inside the margin, not a touch
                continue
            body_a, body_b = p[1], p[2]
            pair = (body_a, body_b) if body_a < body_b else (body_b, body_a)  # the object first
            if pair in impulse:
                impulse[pair] += force * DT
            else:
                impulse[pair] = 0.0 + force * DT
                first_point[pair] = p
        for pair in sorted(impulse):
            contact = self.open.get(pair)
            if contact is None:
                p = first_point[pair]  # pybullet's normal points from its body b to body a; ours from b to a
                sign = 1.0 if p[1] == pair[0] else -1.0
                normal = tuple(sign * c for c in p[7])
                contact = Contact(self.bodies[pair[0]], self.bodies[pair[1]], begin=s, last=s, normal=normal)
                self.open[pair] = contact
            contact.last = s
            contact.peak_impulse = max(contact.peak_impulse, impulse[pair])
        for pair in sorted(self.touching_before - impulse.keys()):
            # just separated: remember how the object left, in case the separation lasts
            self.open[pair].separation_velocity = pb.getBaseVelocity(pair[0], physicsClientId=self.cid)[0]
        for pair in sorted(self.open):
            if s - self.open[pair].last > self.gap:
                self._close(pair)
        self.touching_before = set(impulse)

    def _close(self, pair) -> None:
        contact = self.open.pop(pair)
        contact.end = contact.last + 1
        self.closed.append(contact)

    def finish(self) -> list[Contact]:
        """The contacts so far, as if the clip ended now (copies: the tracker may go on stepping)."""
        ended = [dataclasses.replace(c, end=c.last + 1) if c.last < self.step_index else dataclasses.replace(c)
                 for c in self.open.values()]
        return sorted(self.closed + ended, key=lambda c: (c.begin, c.a, c.b))


def vhacd(src: str, out: str, **settings) -> None:
    """pybullet's convex decomposition of the OBJ at `src` into `out` (its chatter silenced)."""
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        pb.vhacd(src, out, src[:-4] + ".log", **settings)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
