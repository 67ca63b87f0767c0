"""What `Renderer.render` returns: the pixels and the ground truth of one clip."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODALITIES = ("rgb", "depth", "ids", "flow")


@dataclass(frozen=True, eq=False)
class Frames:
    """One clip's frames; arrays are [T, H, W, ...] with pixel (v, u) = row v, column u.

    - rgb: uint8 [T, H, W, 3], sRGB.
    - depth: float32 [T, H, W] z-depth in metres (distance along the optical axis, as
      in `scenes.camera`); +inf where no surface is hit (the background).
    - ids: uint8 [T, H, W]; 0 = background, floor and statics, object k = k + 1.
    - flow: float32 [T, H, W, 2] forward flow in pixels (du, dv): where the surface seen
      at a pixel of frame t is seen in frame t + 1. 0 on the background and on the last frame.
    - K: [3, 3] intrinsics; poses: [T, 4, 4] camera-to-world (OpenGL axes, `scenes.camera`).

    Edge pixels (anti-aliased) blend colours in rgb; in depth/ids/flow they take the
    surface that covers most of the pixel, so ground truth never mixes two surfaces.
    """

    rgb: np.ndarray
    depth: np.ndarray | None
    ids: np.ndarray | None
    flow: np.ndarray | None
    K: np.ndarray
    poses: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.rgb.shape[0])
