"""scenes: procedural physics scenes, simulated with pybullet, as frozen JSON-able values.

    from simreel import scenes
    scene = scenes.make("drop", seed=7, clip=scenes.ClipFormat(fps=24, duration_s=3.0))
    scene.spec          # SceneSpec: objects, statics, camera rig, light, floor, clip format
    scene.trajectory    # Trajectory: per-frame poses and velocities, plus .events
    scene.rejections    # samples thrown away first, each with seed, reason and detail

`simulate(spec) -> Trajectory` runs one spec (raising `InvalidScene` if its physics
cannot be trusted); `sample(family, seed, clip) -> SceneSpec` draws one spec without
simulating it; `make` does both, resampling rejected draws from seeds derived from
(seed, attempt). A `Physics` runs many of these in one pybullet client (a worker keeps
one): `physics.simulate(spec)` is `simulate(spec)`, bit for bit, and continues the last
scene when asked for the same scene run longer.

Adding a family without editing this package
--------------------------------------------
Write a sampler `(rng, clip) -> SceneSpec` in your own module and decorate it:

    # mypkg/families.py
    from simreel import scenes

    def _settles(spec, trajectory):          # optional promise: None = kept
        return None if any(e.kind == "rest" for e in trajectory.events) else "nothing came to rest"

    @scenes.register_family("spin", promise=_settles)
    def spin(rng, clip):
        \"\"\"One spinning top.\"\"\"
        draft = scenes.SceneDraft(rng, clip)         # floor, light, unique looks, camera framing
        top = draft.pick(shapes=("cone",))
        draft.add(top, (0.0, 0.0, 0.6), angular_velocity=(0.0, 0.0, 20.0))
        return draft.finish({"spin_rad_s": 20.0})

Then make it findable:
- everywhere (Ray workers included): declare an entry point in your package,
  `[project.entry-points."simreel.families"] spin = "mypkg.families"`; it is
  imported the first time an unknown family name is looked up;
- for a quick try: `simreel scene spin --plugin mypkg.families`, or
  `scenes.load_plugins(["mypkg.families"])` in Python.
"""
from __future__ import annotations

from simreel.scenes import families as _builtin_families  # noqa: F401  (registers drop, collide, ...)
from simreel.scenes.assets import Asset, AssetError, AssetLibrary, load_library
from simreel.scenes.assets import resolve as resolve_asset
from simreel.scenes.factory import SceneRejected, attempt_seed, check_promise, make, sample
from simreel.scenes.physics import Physics, simulate
from simreel.scenes.registry import FAMILIES, Family, family_names, get_family, load_plugins, register_family
from simreel.scenes.sampling import Look, SceneDraft, Wishes
from simreel.scenes.types import (
    EVENT_KINDS, AssetRef, ClipFormat, Event, ObjectSpec, Rejection, Scene, SceneSpec, StaticSpec, Trajectory,
)
from simreel.scenes.validity import REASONS, InvalidScene

__all__ = [
    "Asset", "AssetError", "AssetLibrary", "AssetRef", "load_library", "resolve_asset",
    "EVENT_KINDS", "FAMILIES", "REASONS", "ClipFormat", "Physics", "Event", "Family", "InvalidScene", "Look", "ObjectSpec",
    "Rejection", "Scene", "SceneDraft", "SceneRejected", "SceneSpec", "StaticSpec", "Trajectory",
    "attempt_seed", "check_promise", "family_names", "get_family", "load_plugins", "make", "register_family",
    "sample", "simulate", "Wishes",
]
