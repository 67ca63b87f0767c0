"""What makes a clip cheap must not change what it says: the shortcuts give the same bits
as the long way, and a worker that only generates carries no torch.

- one pybullet client for many scenes (`scenes.Physics`) = a fresh client per scene;
- the predictive questions' longer world, continued from the scene's live world = the
  longer spec simulated from scratch;
- hull vertices without trimesh's mesh = trimesh's; `look_at`'s cross product = np.cross.
Speed itself is measured in benchmarks/pipeline.py, not asserted here.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from simreel import scenes
from simreel.captioning import facts
from simreel.scenes import camera, shapes
from simreel.scenes.types import ObjectSpec

CLIP = scenes.ClipFormat(fps=8, duration_s=1.0, width=32, height=32)
STATE = ("positions", "orientations", "linear_velocities", "angular_velocities")


def same_world(a: scenes.Trajectory, b: scenes.Trajectory) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in STATE) and a.events == b.events


def test_one_client_for_many_scenes_gives_the_bits_of_a_client_each():
    with scenes.Physics() as physics:
        for family in scenes.family_names():
            for seed in range(2):
                scene = scenes.make(family, seed, CLIP, physics)
                assert same_world(scene.trajectory, scenes.simulate(scene.spec)), (family, seed)
                longer = dataclasses.replace(scene.spec, duration_s=scene.spec.duration_s + 1.0)
                continued = physics.simulate(longer)  # continues the live world: only the new second is stepped
                assert same_world(continued, scenes.simulate(longer)), (family, seed)
                n = scene.trajectory.num_frames
                assert np.array_equal(continued.positions[:n], scene.trajectory.positions)


def test_a_world_that_raised_is_not_continued():
    ok = scenes.make("drop", 0, CLIP).spec
    ball = ok.objects[0]
    overlapping = dataclasses.replace(ok, objects=(ball, dataclasses.replace(ball, name="objX")))
    with scenes.Physics() as physics:
        physics.simulate(ok)
        with pytest.raises(scenes.InvalidScene):
            physics.simulate(overlapping)
        assert physics.world is None
        longer = dataclasses.replace(ok, duration_s=2.0)  # built again, not continued from a broken world
        assert same_world(physics.simulate(longer), scenes.simulate(longer))
        shorter = dataclasses.replace(ok, duration_s=0.5)  # shorter is never a continuation
        assert same_world(physics.simulate(shorter), scenes.simulate(shorter))


@pytest.mark.parametrize("shape", ["cube", "block", "sphere", "cylinder", "cone", "capsule", "rock"])
def test_hull_vertices_are_trimesh_s(shape):
    dims = {"capsule": (0.2, 0.2, 0.5), "block": (0.3, 0.15, 0.2)}.get(shape, (0.25, 0.25, 0.3))
    obj = ObjectSpec(name="obj0", shape=shape, size="small", dims=dims, colour="red", material="rubber",
                     position=(0.0, 0.0, 0.5), mesh_seed=7)
    assert np.array_equal(facts._hull(obj), np.asarray(shapes.mesh(obj).convex_hull.vertices))


def test_look_at_cross_product_is_numpy_s():
    rng = np.random.default_rng(0)
    for _ in range(1000):
        a, b = rng.normal(size=3) * 10.0 ** rng.integers(-4, 4), rng.normal(size=3)
        assert np.array_equal(camera._cross(a, b), np.cross(a, b))


@pytest.mark.slow
def test_a_generating_worker_imports_no_torch(local_ray, tmp_path):
    """The generate path's own worker code, in a Ray worker process, making a real shard."""
    from simreel.config import load_dataset
    from simreel.job import ShardPlan, ShardWorker

    config = load_dataset(Path(__file__).resolve().parents[1] / "configs/tiny.yaml", ["num_samples=2"])

    @local_ray.remote(num_cpus=1, max_calls=1)  # a fresh process, used by nothing else
    def make(config, out):
        worker = ShardWorker(config, out)
        stats = worker.make_shard(ShardPlan(0, "shard-000000", 0, 2))
        return stats["count"], worker.progress(), sorted(m for m in ("torch", "webdataset") if m in sys.modules)

    count, progress, heavy = local_ray.get(make.remote(config, str(tmp_path)))
    assert (count, progress) == (2, (0, 2, True))
    assert heavy == []
