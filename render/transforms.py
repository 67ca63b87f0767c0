"""The per-clip matrices, computed once on the CPU (float64) and uploaded as one texture.

Everything that changes per frame (camera, object poses, flow warps) is a row of
`frame_table`; the shaders fetch their frame's row, so drawing a whole clip needs no
per-frame uniform uploads.
"""
from __future__ import annotations

import math

import numpy as np

from simreel.scenes.types import StaticSpec, Trajectory

NEAR = 0.05  # metres. Reversed z, far plane at infinity: window depth = NEAR / depth (float32: ~1e-7 relative everywhere)


def rotation(quaternions: np.ndarray) -> np.ndarray:
    """[..., 4] quaternions (x, y, z, w) -> [..., 3, 3] rotation matrices."""
    q = np.asarray(quaternions, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    x, y, z, w = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def rigid(positions: np.ndarray, quaternions: np.ndarray) -> np.ndarray:
    """[..., 3] + [..., 4] -> [..., 4, 4] body-to-world matrices."""
    positions = np.asarray(positions, dtype=np.float64)
    m = np.zeros(positions.shape[:-1] + (4, 4))
    m[..., :3, :3] = rotation(quaternions)
    m[..., :3, 3] = positions
    m[..., 3, 3] = 1.0
    return m


def object_matrices(trajectory: Trajectory) -> np.ndarray:
    """[T, N, 4, 4] body-to-world per frame and object."""
    return rigid(trajectory.positions, trajectory.orientations)


def static_matrices(statics: tuple[StaticSpec, ...]) -> np.ndarray:
    """[S, 4, 4] for the fixed scenery."""
    if not statics:
        return np.zeros((0, 4, 4))
    return rigid([s.position for s in statics], [s.orientation for s in statics])


def projection(K: np.ndarray, width: int, height: int) -> np.ndarray:
    """Camera coords -> GL clip coords for intrinsics K, with image rows flipped so GL's
    bottom-up framebuffer reads back top row first, and reversed z (clip control 0..1):
    window depth NEAR / z, 1 at the near plane, 0 at infinity."""
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    return np.array(
        [
            [2 * fx / width, 0.0, 1 - 2 * cx / width, 0.0],
            [0.0, -2 * fy / height, 2 * cy / height - 1, 0.0],  # flipped: +v (down) is +y
            [0.0, 0.0, 0.0, NEAR],
            [0.0, 0.0, -1.0, 0.0],
        ]
    )


def pixel_projection(K: np.ndarray) -> np.ndarray:
    """Camera coords -> homogeneous pixels (u w, v w, w), rows x, y, w (camera looks along -z)."""
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    return np.array([[fx, 0.0, -cx, 0.0], [0.0, -fy, -cy, 0.0], [0.0, 0.0, -1.0, 0.0]])


def flow_matrices(K: np.ndarray, poses: np.ndarray, objects: np.ndarray, step: int = 1) -> np.ndarray:
    """[T, N + 1, 3, 4]: camera coords at frame t of a point on surface k -> homogeneous
    pixels at t + step (1: forward flow, -1: backward). k = 0 is the static world (floor,
    statics); k = i + 1 is object i, moved rigidly from its pose at t to its pose at t + step.
    Frames with no frame there map to themselves."""
    T = poses.shape[0]
    following = np.clip(np.arange(T) + step, 0, T - 1)
    world_to_next_pixels = pixel_projection(K) @ np.linalg.inv(poses[following])  # [T, 3, 4]
    motion = np.concatenate(
        [np.broadcast_to(np.eye(4), (T, 1, 4, 4)), objects[following] @ np.linalg.inv(objects)], axis=1
    )  # [T, N + 1, 4, 4] world at t -> world at t + 1
    return world_to_next_pixels[:, None] @ motion @ poses[:, None]


def sun_direction(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Unit vector towards the light (same azimuth convention as the camera rig)."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return np.array([math.cos(el) * math.sin(az), -math.cos(el) * math.cos(az), math.sin(el)])


def light_matrix(sun: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, float]:
    """Orthographic world -> light clip matrix framing every shadow caster (spheres
    `centres` [M, 3], `radii` [M]) with a margin; returns it and its width in metres."""
    forward = -sun / np.linalg.norm(sun)
    up = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.99 else np.array([0.0, 1.0, 0.0])
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    rot = np.stack([right, up, -forward])  # world -> light axes (light looks along -z)
    local = centres @ rot.T
    lo = (local - radii[:, None]).min(0)
    hi = (local + radii[:, None]).max(0)
    centre = (lo + hi) / 2
    half = max(hi[0] - lo[0], hi[1] - lo[1]) / 2 * 1.05 + 1e-3  # square texels, margin keeps tiles apart
    near, far = -hi[2] - 1.0, -lo[2] + 1.0
    view = np.eye(4)
    view[:3, :3] = rot
    ortho = np.array(
        [
            [1 / half, 0, 0, -centre[0] / half],
            [0, 1 / half, 0, -centre[1] / half],
            [0, 0, -1 / (far - near), -near / (far - near)],  # clip control 0..1: near -> 0, far -> 1
            [0, 0, 0, 1],
        ]
    )
    return ortho @ view, 2 * half


def frame_table(poses: np.ndarray, K: np.ndarray, width: int, height: int, models: np.ndarray) -> np.ndarray:
    """float32 [T, 5 + 3 * slots, 4]: per frame the view-projection rows (0-3), the eye
    position (4), then the top three rows of each slot's model matrix."""
    T = poses.shape[0]
    view_projection = projection(K, width, height) @ np.linalg.inv(poses)
    eye = np.concatenate([poses[:, :3, 3], np.ones((T, 1))], axis=1)[:, None]
    rows = models[:, :, :3, :].reshape(T, -1, 4)
    return np.ascontiguousarray(np.concatenate([view_projection, eye, rows], axis=1), dtype=np.float32)


def shadow_footprint(light: np.ndarray, sun: np.ndarray, half: float) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1): the box on the floor (z = 0, |x|, |y| <= half) outside which no
    caster can shade it: where the light's frustum meets the floor. Low suns give the
    whole floor."""
    if sun[2] < 0.05:
        return -half, half, -half, half
    corners = np.array([[x, y, 0.0, 1.0] for x in (-1, 1) for y in (-1, 1)]) @ np.linalg.inv(light).T
    corners = corners[:, :3] / corners[:, 3:]
    on_floor = corners[:, :2] - np.outer(corners[:, 2] / sun[2], sun[:2])  # slide along the light to z = 0
    lo, hi = np.clip(on_floor.min(0), -half, half), np.clip(on_floor.max(0), -half, half)
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])
