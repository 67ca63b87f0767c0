"""One mesh per object, shared by physics (collision hull) and rendering (visual).

Meshes are centred on their centre of mass so a body's pybullet pose is also the
mesh's pose: no offsets to keep in sync between stages.
"""
from __future__ import annotations

import functools

import numpy as np
import trimesh

from simreel.scenes import assets
from simreel.scenes.types import AssetRef, ObjectSpec


@functools.lru_cache(maxsize=64)
def _mesh(shape: str, dims: tuple[float, float, float], mesh_seed: int) -> trimesh.Trimesh:
    dx, dy, dz = dims
    if shape in ("cube", "block"):
        mesh = trimesh.creation.box(extents=dims)
    elif shape == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=3, radius=dx / 2)
    elif shape == "cylinder":
        mesh = trimesh.creation.cylinder(radius=dx / 2, height=dz, sections=32)
    elif shape == "cone":
        mesh = trimesh.creation.cone(radius=dx / 2, height=dz, sections=32)
    elif shape == "capsule":
        # dims z is the full length; trimesh's height is the distance between cap centres
        mesh = trimesh.creation.capsule(height=dz - dx, radius=dx / 2, count=[16, 16])
    elif shape == "rock":
        rng = np.random.default_rng(mesh_seed)
        points = rng.normal(size=(24, 3))
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        points *= rng.uniform(0.75, 1.0, size=(24, 1))
        mesh = trimesh.convex.convex_hull(points)
        # Turn onto the principal axes before scaling: scaling along principal axes keeps
        # the inertia tensor diagonal, so physics can use it exactly (no product terms).
        mesh.apply_transform(mesh.principal_inertia_transform)
        mesh.apply_scale(np.asarray(dims) / mesh.extents)
    else:
        raise ValueError(f"unknown shape {shape!r}")
    mesh.apply_translation(-mesh.center_mass)
    mesh.visual = trimesh.visual.ColorVisuals(mesh)  # plain: render sets material per object
    return mesh


@functools.lru_cache(maxsize=64)
def _asset_mesh(ref: AssetRef, dims: tuple[float, float, float]) -> trimesh.Trimesh:
    mesh = assets.resolve(ref).mesh.copy()  # normalised: longest extent 1, on its principal axes
    mesh.apply_scale(max(dims))
    return mesh


def mesh(obj: ObjectSpec) -> trimesh.Trimesh:
    """The object's mesh in its body frame (cached: treat it as read-only). An asset keeps its
    vertex colours (when it has its own look)."""
    if obj.asset is not None:
        return _asset_mesh(obj.asset, tuple(float(d) for d in obj.dims))
    return _mesh(obj.shape, tuple(float(d) for d in obj.dims), obj.mesh_seed if obj.shape == "rock" else 0)


def mass_properties(obj: ObjectSpec, density: float) -> tuple[float, np.ndarray]:
    """(mass kg, principal moments of inertia [3] kg*m^2 in the body frame).

    Every mesh is built on its principal axes, so the body-frame inertia tensor is
    diagonal; physics and energy bookkeeping both read it from here.
    """
    m = mesh(obj) if obj.asset is None else mesh(obj).convex_hull  # an asset's body: its hull (closed, convex)
    tensor = m.moment_inertia * (density / m.density)
    return float(m.volume * density), np.diag(tensor).copy()
