"""Vertex arrays for drawing: positions plus normals split along creases, at a level
of detail that fits the object's size on screen.

`scenes.shapes` gives one mesh per object for physics and pixels alike. Drawing it
needs per-corner normals: smooth across a sphere, sharp at a cube's edges and at a
cylinder's rim, and sensible at a cone's apex, where averaging all faces around the
vertex (trimesh's smooth shading) points the normal straight up. Each corner here
averages only the faces around its vertex that lie within a crease angle of its own.

Round shapes come in coarser tessellations too: a 1280-triangle sphere eight pixels
wide costs triangle setup for nothing (at 64² that was two thirds of the frame time).
Each level is the same analytic solid as `scenes.shapes` builds (same trimesh call,
fewer segments, centred on the same centre of mass); the finest is its mesh itself.
"""
from __future__ import annotations

import math

import numpy as np
import trimesh

from simreel.scenes import assets, shapes
from simreel.scenes.types import ObjectSpec, StaticSpec

CREASE_DEG = 40.0
FACETED = ("rock",)  # drawn flat-faceted: a rock reads as a rock by its facets
LEVELS: dict[str, tuple[int, ...]] = {  # coarsest first; the last is scenes.shapes' own tessellation
    "sphere": (1, 2, 3),  # icosphere subdivisions
    "cylinder": (8, 12, 16, 24, 32),  # sections around
    "cone": (8, 12, 16, 24, 32),
    "capsule": (8, 12, 16),  # sections around and along each cap
}
SILHOUETTE_PX = 0.25  # largest gap between the true outline and the polygon's, in pixels


def vertex_arrays(mesh: trimesh.Trimesh, crease_deg: float, colours: np.ndarray | None = None,
                  uv: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(vertices float32 [V, 6] = position, normal (+ colour [V, 9] given per-vertex `colours`, + uv
    [V, 11] given `uv` too); indices uint32 [F, 3])."""
    faces = np.asarray(mesh.faces)
    face_normals = np.asarray(mesh.face_normals)
    weighted = face_normals * np.asarray(mesh.area_faces)[:, None]
    around = np.asarray(mesh.vertex_faces)[faces]  # [F, 3, D] faces around each corner, -1 padded
    valid = around >= 0
    neighbour = np.where(valid, around, 0)
    cosine = np.einsum("fcdk,fk->fcd", face_normals[neighbour], face_normals)
    keep = valid & (cosine >= np.cos(np.radians(crease_deg)) - 1e-6)
    normals = np.einsum("fcd,fcdk->fck", keep.astype(np.float64), weighted[neighbour])
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    columns = [np.asarray(mesh.vertices)[faces], normals] + [a[faces] for a in (colours, uv) if a is not None]
    corners = np.concatenate(columns, axis=-1).reshape(-1, sum(c.shape[-1] for c in columns)).astype(np.float32)
    unique, inverse = np.unique(corners, axis=0, return_inverse=True)
    return np.ascontiguousarray(unique), inverse.reshape(-1, 3).astype(np.uint32)


def _segments(shape: str, level: int) -> int:
    """Segments around the object's widest outline at a level."""
    return 5 * 2 ** level if shape == "sphere" else level


def detail(shape: str, radius_px: float) -> int | None:
    """The coarsest level whose outline stays within SILHOUETTE_PX of the true one for
    an object `radius_px` pixels in radius (a chord of n segments sags r (1 - cos(pi/n))).
    None for shapes drawn as built (boxes, rocks)."""
    levels = LEVELS.get(shape)
    if levels is None:
        return None
    for level in levels:
        if radius_px * (1 - math.cos(math.pi / _segments(shape, level))) <= SILHOUETTE_PX:
            return level
    return levels[-1]


def _solid(obj: ObjectSpec, level: int | None) -> trimesh.Trimesh:
    if level is None or level == LEVELS[obj.shape][-1]:
        return shapes.mesh(obj)
    dx, _, dz = (float(d) for d in obj.dims)
    if obj.shape == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=level, radius=dx / 2)
    elif obj.shape == "cylinder":
        mesh = trimesh.creation.cylinder(radius=dx / 2, height=dz, sections=level)
    elif obj.shape == "cone":
        mesh = trimesh.creation.cone(radius=dx / 2, height=dz, sections=level)
    else:
        mesh = trimesh.creation.capsule(height=dz - dx, radius=dx / 2, count=[level, level])
    mesh.apply_translation(-mesh.center_mass)
    return mesh


def own_colours(item: ObjectSpec | StaticSpec) -> bool:
    """Whether the item is a mesh asset drawn in its own colours, vertex colours or its texture (not tinted
    by its colour word)."""
    return isinstance(item, ObjectSpec) and item.asset is not None and shapes.mesh(item).visual.kind is not None


def texture(item: ObjectSpec | StaticSpec) -> tuple[np.ndarray, np.ndarray] | None:
    """An asset's texture (uv per vertex, image) when it is drawn in its own colours from one texture."""
    return assets.resolve(item.asset).texture if own_colours(item) else None


def mesh_key(item: ObjectSpec | StaticSpec, level: int | None = None) -> tuple:
    """What identifies a drawable mesh: shape, dims, level and (rocks only) seed; statics are boxes;
    assets by their content hash."""
    dims = tuple(float(d) for d in item.dims)
    if isinstance(item, StaticSpec):
        return "box", dims, 0, None
    if item.asset is not None:
        return "asset", dims, item.asset.sha256, None
    if item.shape in LEVELS and level == LEVELS[item.shape][-1]:
        level = None  # the finest level is the physics mesh itself
    return item.shape, dims, item.mesh_seed if item.shape == "rock" else 0, level


def arrays_for(item: ObjectSpec | StaticSpec, level: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Vertex arrays of an object (its `scenes.shapes` solid at `level`, None = as built)
    or a static (a box)."""
    if isinstance(item, StaticSpec):
        return vertex_arrays(trimesh.creation.box(extents=item.dims), CREASE_DEG)
    if item.asset is not None:
        mesh = shapes.mesh(item)
        if not own_colours(item):
            return vertex_arrays(mesh, CREASE_DEG)
        image = texture(item)
        if image is not None:  # the renderer samples it per pixel: white vertices carrying uv
            return vertex_arrays(mesh, CREASE_DEG, np.ones((len(mesh.vertices), 3)), image[0])
        srgb = np.asarray(mesh.visual.vertex_colors)[:, :3] / 255.0
        return vertex_arrays(mesh, CREASE_DEG, np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4))
    if item.shape in LEVELS:
        return vertex_arrays(_solid(item, level), CREASE_DEG)
    return vertex_arrays(shapes.mesh(item), 1.0 if item.shape in FACETED else CREASE_DEG)
