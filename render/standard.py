"""The standard scene: six objects, one of each kind of motion, with exact poses.

Used by the render tests (its motion is analytic, so ground truth is known exactly)
and by `benchmarks/render.py` (the same scene for every renderer compared).
"""
from __future__ import annotations

import math

import numpy as np

from simreel.scenes.types import CameraSpec, FloorSpec, LightSpec, ObjectSpec, SceneSpec, Trajectory

_OBJECTS = (  # name, shape, dims, colour, material, start, velocity (m/s), spin axis, spin (rad/s)
    ("obj0", "sphere", (0.5, 0.5, 0.5), "red", "metal", (-1.2, 0.3, 0.25), (0.9, 0.0, 0.0), (0, 1, 0), 3.6),
    ("obj1", "cube", (0.4, 0.4, 0.4), "blue", "plastic", (0.2, -0.6, 0.2), (0.0, 0.5, 0.0), (0, 0, 1), 1.5),
    ("obj2", "cylinder", (0.36, 0.36, 0.5), "green", "rubber", (1.0, 0.6, 0.25), (-0.3, -0.3, 0.0), (0, 0, 1), 0.0),
    ("obj3", "cone", (0.44, 0.44, 0.5), "yellow", "wood", (-0.4, 1.2, 0.25), (0.0, 0.0, 0.0), (0, 0, 1), 0.8),
    ("obj4", "capsule", (0.24, 0.24, 0.6), "purple", "plastic", (0.5, 0.3, 1.4), (0.0, 0.0, 0.0), (1, 0, 0), 2.0),
    ("obj5", "rock", (0.45, 0.35, 0.3), "gray", "wood", (-0.9, -0.7, 0.15), (0.4, 0.4, 0.0), (0, 0, 1), -1.0),
)


def standard_scene(size: int = 64, num_frames: int = 48, shadows: bool = True, fps: int = 24,
                   camera_motion: str = "orbit") -> tuple[SceneSpec, Trajectory]:
    """Spec and trajectory: objects slide, roll, spin and (the capsule) fall at exactly g."""
    objects = tuple(
        ObjectSpec(name=n, shape=s, size="medium", dims=d, colour=c, material=m, position=p, mesh_seed=7)
        for n, s, d, c, m, p, *_ in _OBJECTS
    )
    spec = SceneSpec(
        family="standard",
        seed=0,
        objects=objects,
        camera=CameraSpec(motion=camera_motion, target=(0.0, 0.2, 0.3), distance=4.5, azimuth_deg=20.0,
                          elevation_deg=28.0, fov_deg=45.0, amount=15.0),
        light=LightSpec(azimuth_deg=-50.0, elevation_deg=55.0, intensity=4.0, ambient=0.4, shadows=shadows),
        floor=FloorSpec(colour_a=(205, 200, 190), colour_b=(175, 170, 162), checker_m=0.5, background=(190, 205, 225)),
        fps=fps,
        duration_s=num_frames / fps,
        width=size,
        height=size,
    )
    t = np.arange(num_frames)[:, None] / fps  # [T, 1]
    positions = np.empty((num_frames, len(_OBJECTS), 3))
    orientations = np.empty((num_frames, len(_OBJECTS), 4))
    velocities = np.empty_like(positions)
    spins = np.empty_like(positions)
    for k, (*_, start, velocity, axis, spin) in enumerate(_OBJECTS):
        start, velocity, axis = (np.asarray(v, dtype=np.float64) for v in (start, velocity, axis))
        fall = k == 4
        positions[:, k] = start + velocity * t
        velocities[:, k] = velocity
        if fall:  # drops from rest until it meets the floor, then stays
            z = np.maximum(start[2] - 0.5 * 9.81 * t[:, 0] ** 2, 0.12)
            positions[:, k, 2] = z
            velocities[:, k, 2] = np.where(z > 0.12, -9.81 * t[:, 0], 0.0)
        angle = spin * t[:, 0]
        half = 0.5 * angle[:, None]
        orientations[:, k] = np.concatenate([np.sin(half) * axis, np.cos(half)], axis=1)
        if fall:  # lying down (axis along x), spinning about its long axis
            lie = np.array([0.0, math.sin(math.pi / 4), 0.0, math.cos(math.pi / 4)])
            orientations[:, k] = _multiply(orientations[:, k], lie)
        spins[:, k] = spin * axis
    return spec, Trajectory(
        fps=fps,
        names=tuple(o.name for o in objects),
        positions=positions,
        orientations=orientations,
        linear_velocities=velocities,
        angular_velocities=spins,
    )


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Quaternion product a * b, (x, y, z, w) order."""
    ax, ay, az, aw = np.moveaxis(np.asarray(a), -1, 0)
    bx, by, bz, bw = np.moveaxis(np.broadcast_to(b, np.shape(a)), -1, 0)
    return np.stack([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz], -1)
