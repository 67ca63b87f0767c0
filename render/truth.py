"""Ground truth computed on the CPU from what the GPU passes give: boxes, camera-frame normals.

Per-pixel truth (depth, ids, flow, normals, coords) comes from the resolve pass; what
follows from ids and poses alone is cheaper here than as another pass.
"""
from __future__ import annotations

import numpy as np

from simreel.scenes import shapes
from simreel.scenes.types import ObjectSpec

_CORNERS = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=np.float64)  # [8, 3]


def object_box(obj: ObjectSpec) -> tuple[np.ndarray, np.ndarray]:
    """(low corner, size) of the object's axis-aligned box in its body frame: the box of its
    `scenes.shapes` mesh (centred on the centre of mass, so not always on the box's centre)."""
    lo, hi = np.asarray(shapes.mesh(obj).bounds, dtype=np.float64)
    return lo, np.maximum(hi - lo, 1e-9)


def boxes_3d(objects: tuple[ObjectSpec, ...], matrices: np.ndarray) -> np.ndarray:
    """float32 [T, N, 8, 3]: world corners of each object's box; `matrices` [T, N, 4, 4] body to world.
    Corner c has box coordinates (c >> 2 & 1, c >> 1 & 1, c & 1)."""
    local = np.stack([lo + _CORNERS * size for lo, size in map(object_box, objects)]) if objects else np.zeros((0, 8, 3))
    world = np.einsum("tnij,ncj->tnci", matrices[..., :3, :3], local) + matrices[:, :, None, :3, 3]
    return world.astype(np.float32).reshape(matrices.shape[0], len(objects), 8, 3)


def boxes_2d(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(bbox_2d float32 [T, N, 4] x0, y0, x1, y1 bounding each object's ids mask in pixel edges,
    NaN where it is not seen; visible_px int32 [T, N])."""
    T = ids.shape[0]
    boxes = np.full((T, n, 4), np.nan, np.float32)
    visible = np.zeros((T, n), np.int32)
    for k in range(n):
        mask = ids == k + 1
        rows, cols = mask.any(2), mask.any(1)  # [T, H], [T, W]
        seen = rows.any(1)
        visible[:, k] = mask.sum((1, 2))
        first_col, last_col = cols.argmax(1), cols.shape[1] - cols[:, ::-1].argmax(1)
        first_row, last_row = rows.argmax(1), rows.shape[1] - rows[:, ::-1].argmax(1)
        boxes[seen, k] = np.stack([first_col, first_row, last_col, last_row], 1)[seen]
    return boxes, visible


def camera_normals(world: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """World-frame normals [T, H, W, 3] -> unit camera-frame normals (0 stays 0)."""
    cam = np.einsum("tji,thwj->thwi", poses[:, :3, :3], world)  # R^T n
    length = np.linalg.norm(cam, axis=-1, keepdims=True)
    return np.where(length > 0.5, cam / np.maximum(length, 1e-12), 0.0).astype(np.float32)
