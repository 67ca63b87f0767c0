"""What `Renderer.render` returns: the pixels and the ground truth of one clip."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODALITIES = ("rgb", "depth", "ids", "flow", "backward_flow", "normals", "coords", "boxes")


@dataclass(frozen=True, eq=False)
class Frames:
    """One clip's frames; arrays are [T, H, W, ...] with pixel (v, u) = row v, column u.

    - rgb: uint8 [T, H, W, 3], sRGB.
    - depth: float32 [T, H, W] z-depth in metres (distance along the optical axis, as
      in `scenes.camera`); +inf where no surface is hit (the background).
    - ids: uint8 [T, H, W]; 0 = background, floor and statics, object k = k + 1.
    - flow: float32 [T, H, W, 2] forward flow in pixels (du, dv): where the surface seen
      at a pixel of frame t is seen in frame t + 1. 0 on the background and on the last frame.
    - backward_flow: float32 [T, H, W, 2], the same towards frame t - 1; 0 on the first frame.
    - normals: float32 [T, H, W, 3] unit surface normals in the camera frame (OpenGL axes:
      x right, y up, z towards the viewer); 0 on the background.
    - coords: float32 [T, H, W, 3] object-space coordinates of the surface seen, scaled to
      the object's box (`truth.object_box`): 0..1 on every axis; 0 off the objects.
    - bbox_2d: float32 [T, N, 4] x0, y0, x1, y1 in pixels bounding each object's ids mask
      (pixel edges: pixel u spans u..u + 1, so x1 = last column + 1); NaN when not visible.
    - bbox_3d: float32 [T, N, 8, 3] the world corners of each object's box.
    - visible_px: int32 [T, N] pixels of each object in ids.
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
    backward_flow: np.ndarray | None = None
    normals: np.ndarray | None = None
    coords: np.ndarray | None = None
    bbox_2d: np.ndarray | None = None
    bbox_3d: np.ndarray | None = None
    visible_px: np.ndarray | None = None

    def arrays(self, modality: str) -> dict[str, np.ndarray]:
        """The named arrays of one modality (other than rgb), as its KEY.MODALITY.npz holds them."""
        if modality == "boxes":
            return {"bbox_2d": self.bbox_2d, "bbox_3d": self.bbox_3d, "visible_px": self.visible_px}
        return {modality: getattr(self, modality)}

    @property
    def num_frames(self) -> int:
        return int(self.rgb.shape[0])
