"""What makes a sampled scene unusable, as named reasons `scenes.make` records.

Physics that blew up must become a recorded rejection, never a silent wrong sample;
these checks are the single place that decides what "blew up" means.
"""
from __future__ import annotations

import numpy as np

from simreel.scenes import camera
from simreel.scenes.types import SceneSpec

PENETRATION_TOL_M = 1e-3  # samplers leave >= 2 mm gaps; pybullet's own margin is 1 mm
MAX_SPEED_M_S = 30.0  # nothing in our families is launched faster than ~8 m/s
MAX_SPIN_RAD_S = 200.0
MIN_HEIGHT_M = -0.25  # a centre this far below the floor fell through it

REASONS = (
    "interpenetrating",  # objects start overlapping each other, the floor or a static
    "out_of_view",  # an object's centre is outside the camera at frame 0
    "nan",  # the state went non-finite
    "exploded",  # speed or spin beyond a physical bound
    "fell_through_floor",  # tunnelled below the floor
    "promise_broken",  # the family's promised happening did not occur in the clip
)


class InvalidScene(ValueError):
    """A spec whose physics cannot be trusted; `reason` is one of REASONS."""

    def __init__(self, reason: str, detail: str):
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def check_initial_view(spec: SceneSpec) -> None:
    """Every object's centre must project inside the image at frame 0."""
    K = camera.intrinsics(spec.camera, spec.width, spec.height)
    pose = camera.camera_poses(spec.camera, 1)[0]
    for obj in spec.objects:
        if not camera.in_image(np.asarray(obj.position), pose, K, spec.width, spec.height):
            (u, v), depth = camera.project(np.asarray(obj.position), pose, K)
            raise InvalidScene("out_of_view", f"{obj.name} starts at pixel ({u:.1f}, {v:.1f}), depth {depth:.2f} m")


def check_state(names, frame: int, pos: np.ndarray, lin: np.ndarray, ang: np.ndarray) -> None:
    """Raise on a non-finite, exploding or tunnelling state ([N, 3] arrays at one frame)."""
    if _clearly_fine(pos, lin, ang):  # all objects at once, with a margin; else each, exactly, to name the first
        return
    for i, name in enumerate(names):
        if not (np.isfinite(pos[i]).all() and np.isfinite(lin[i]).all() and np.isfinite(ang[i]).all()):
            raise InvalidScene("nan", f"{name} state is not finite at frame {frame}")
        speed, spin = float(np.linalg.norm(lin[i])), float(np.linalg.norm(ang[i]))
        if speed > MAX_SPEED_M_S or spin > MAX_SPIN_RAD_S:
            raise InvalidScene(
                "exploded",
                f"{name} reaches {speed:.1f} m/s, {spin:.1f} rad/s at frame {frame} "
                f"(bounds {MAX_SPEED_M_S} m/s, {MAX_SPIN_RAD_S} rad/s)",
            )
        if pos[i, 2] < MIN_HEIGHT_M:
            raise InvalidScene("fell_through_floor", f"{name} is at z = {pos[i, 2]:.2f} m at frame {frame}")


def _clearly_fine(pos: np.ndarray, lin: np.ndarray, ang: np.ndarray) -> bool:
    """Finite, at most 90% of the speed and spin bounds, above the floor limit: no object fails check_state."""
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.isfinite(pos).all() and np.isfinite(lin).all() and np.isfinite(ang).all()
                    and (lin * lin).sum(axis=1).max(initial=0.0) < (0.9 * MAX_SPEED_M_S) ** 2
                    and (ang * ang).sum(axis=1).max(initial=0.0) < (0.9 * MAX_SPIN_RAD_S) ** 2
                    and pos[:, 2].min(initial=np.inf) >= MIN_HEIGHT_M)
