"""Drawable meshes: crease-aware normals and levels of detail of the physics solids."""
from __future__ import annotations

import numpy as np
import pytest

from simreel.render import meshes
from simreel.scenes import shapes
from simreel.scenes.types import ObjectSpec, StaticSpec


def obj(shape: str, dims=(0.3, 0.3, 0.5), seed=3) -> ObjectSpec:
    return ObjectSpec("o", shape, "medium", dims, "red", "wood", (0.0, 0.0, 0.0), mesh_seed=seed)


def test_cube_normals_are_its_face_normals():
    vertices, indices = meshes.arrays_for(obj("cube", (0.3, 0.3, 0.3)))
    normals = vertices[:, 3:]
    assert len(vertices) == 24 and indices.shape == (12, 3)
    assert np.allclose(np.abs(normals).max(1), 1.0) and np.allclose(np.linalg.norm(normals, axis=1), 1.0)


def test_cone_apex_normals_lean_out_not_up():
    vertices, _ = meshes.arrays_for(obj("cone"))
    positions, normals = vertices[:, :3], vertices[:, 3:]
    apex = positions[:, 2] > positions[:, 2].max() - 1e-6
    assert apex.sum() > 4  # split per face direction
    slant = np.degrees(np.arccos(normals[apex, 2]))
    assert (slant > 20).all()  # the side's normal tilts ~31 degrees off vertical for this cone


def test_finest_level_is_the_physics_mesh():
    for shape in meshes.LEVELS:
        o = obj(shape, (0.3, 0.3, 0.3) if shape == "sphere" else (0.3, 0.3, 0.5))
        vertices, indices = meshes.arrays_for(o, meshes.LEVELS[shape][-1])
        physics = shapes.mesh(o)
        assert np.allclose(vertices[indices.ravel(), :3], physics.vertices[physics.faces.ravel()], atol=1e-6)


@pytest.mark.parametrize("shape", sorted(meshes.LEVELS))
def test_coarse_levels_are_the_same_solid(shape):
    o = obj(shape, (0.3, 0.3, 0.3) if shape == "sphere" else (0.3, 0.3, 0.5))
    physics = shapes.mesh(o)
    for level in meshes.LEVELS[shape][:-1]:
        vertices, _ = meshes.arrays_for(o, level)
        positions = vertices[:, :3]
        assert np.allclose(positions.min(0)[2], physics.bounds[0][2], atol=1e-6)  # same axial extent...
        assert np.allclose(positions.max(0)[2], physics.bounds[1][2], atol=1e-6)  # ...same centre of mass
        radial = np.linalg.norm(positions if shape == "sphere" else positions[:, :2], axis=1)
        assert radial.max() <= 0.15 + 1e-6 and radial.max() > 0.15 - 1e-6  # vertices on the true surface


def test_detail_follows_size_on_screen():
    assert meshes.detail("sphere", 2.0) == 1 and meshes.detail("sphere", 1000.0) == 3
    for shape, levels in meshes.LEVELS.items():
        chosen = [meshes.detail(shape, r) for r in (1, 3, 10, 30, 100, 300)]
        assert chosen == sorted(chosen) and chosen[-1] == levels[-1]
    assert meshes.detail("cube", 500.0) is None  # no levels: drawn as built
    assert meshes.mesh_key(obj("rock", seed=1)) != meshes.mesh_key(obj("rock", seed=2))
    assert meshes.mesh_key(obj("cube", seed=1)) == meshes.mesh_key(obj("cube", seed=2))


def test_statics_are_boxes():
    ramp = StaticSpec("ramp", (2.0, 1.0, 0.1), (0.0, 0.0, 0.5), (0.0, 0.0, 0.0, 1.0), "gray", "wood")
    vertices, indices = meshes.arrays_for(ramp)
    assert np.allclose(vertices[:, :3].max(0), (1.0, 0.5, 0.05)) and indices.shape == (12, 3)
