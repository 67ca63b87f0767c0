"""Find objects by colour in uint8 video and follow them: centroid, area and colour per frame.

The factory paints every object in one of a few base colours picked far apart, so a
pixel's nearest palette colour (in CIELAB, lightness down-weighted because shading
changes it) says which object it belongs to. The floor and sky colours of the scene
compete as "background" classes, so a floor that happens to be near a palette colour
is not mistaken for an object. One track per colour: two objects of one colour share
a track (their union), the same for generated and real clips, so comparisons stay fair.

The palette is an argument, not an import: the trainer reads the factory only through
shards, and the glue passes `scenes.vocabulary.COLOURS` in.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

LIGHTNESS_WEIGHT = 0.4  # shading moves L* a lot and a*, b* little
MAX_DISTANCE = 30.0  # weighted Lab distance beyond which a pixel is nobody's
BACKGROUND = -1


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 or float 0..255 sRGB [..., 3] -> CIELAB [..., 3] (D65), float32."""
    c = np.asarray(rgb, dtype=np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=np.float32
    )
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    return np.stack(
        [116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1
    ).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Tracks:
    """Per-frame state of each palette colour in one clip. Coordinates are fractions of the
    frame (x right, y down, 0..1) so clips of any size compare; NaN where a colour is absent."""

    colours: tuple[str, ...]
    labels: np.ndarray  # [T, H, W] int8: colour index or BACKGROUND
    present: np.ndarray  # [T, C] bool
    centroid: np.ndarray  # [T, C, 2] (x, y)
    area: np.ndarray  # [T, C] fraction of the frame
    bbox: np.ndarray  # [T, C, 4] (x0, y0, x1, y1), fractions, NaN when absent
    lab: np.ndarray  # [T, C, 3] mean CIELAB colour of the colour's pixels

    @property
    def num_frames(self) -> int:
        return int(self.labels.shape[0])

    def index(self, colour: str) -> int:
        return self.colours.index(colour)


def segment(
    video: np.ndarray,
    palette: dict[str, tuple[int, int, int]],
    background: tuple[tuple[int, int, int], ...] = (),
    min_pixels: int = 3,
) -> np.ndarray:
    """[T, H, W] int8 label map: index into `palette` or BACKGROUND.

    `background` lists the scene's floor and sky colours; pixels nearer to them than to
    any palette colour are background. Blobs smaller than `min_pixels` (codec fringes at
    colour edges) are dropped.
    """
    video = np.asarray(video)
    if video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3:
        raise ValueError(f"expected uint8 video [T,H,W,3], got {video.dtype} {video.shape}")
    refs = np.asarray(list(palette.values()) + list(background), dtype=np.float32).reshape(-1, 3)
    weights = np.array([LIGHTNESS_WEIGHT, 1.0, 1.0], dtype=np.float32)
    lab = srgb_to_lab(video) * weights
    ref_lab = srgb_to_lab(refs) * weights
    dist = np.linalg.norm(lab[..., None, :] - ref_lab, axis=-1)  # [T, H, W, K]
    nearest = dist.argmin(-1)
    ok = (nearest < len(palette)) & (np.take_along_axis(dist, nearest[..., None], -1)[..., 0] < MAX_DISTANCE)
    labels = np.where(ok, nearest, BACKGROUND).astype(np.int8)
    if min_pixels > 1:
        for t in range(labels.shape[0]):
            for c in np.unique(labels[t]):
                if c == BACKGROUND:
                    continue
                blobs, n = ndimage.label(labels[t] == c)
                sizes = np.bincount(blobs.ravel(), minlength=n + 1)
                small = (sizes < min_pixels) & (np.arange(n + 1) > 0)
                labels[t][small[blobs]] = BACKGROUND
    return labels


def track(
    video: np.ndarray,
    palette: dict[str, tuple[int, int, int]],
    background: tuple[tuple[int, int, int], ...] = (),
    min_pixels: int = 3,
) -> Tracks:
    """Segment `video` by colour and summarise each colour per frame."""
    labels = segment(video, palette, background, min_pixels)
    T, H, W = labels.shape
    C = len(palette)
    lab = srgb_to_lab(video)
    ys, xs = np.mgrid[0:H, 0:W]
    xs, ys = (xs + 0.5) / W, (ys + 0.5) / H
    present = np.zeros((T, C), dtype=bool)
    centroid = np.full((T, C, 2), np.nan)
    area = np.zeros((T, C))
    bbox = np.full((T, C, 4), np.nan)
    mean_lab = np.full((T, C, 3), np.nan)
    for t in range(T):
        for c in np.unique(labels[t]):
            if c == BACKGROUND:
                continue
            m = labels[t] == c
            present[t, c] = True
            area[t, c] = m.mean()
            centroid[t, c] = xs[m].mean(), ys[m].mean()
            bbox[t, c] = xs[m].min() - 0.5 / W, ys[m].min() - 0.5 / H, xs[m].max() + 0.5 / W, ys[m].max() + 0.5 / H
            mean_lab[t, c] = lab[t][m].mean(0)
    return Tracks(tuple(palette), labels, present, centroid, area, bbox, mean_lab)


def scene_background(meta: dict) -> tuple[tuple[int, int, int], ...]:
    """The floor and sky colours a clip's KEY.json records (empty if it records none)."""
    floor = meta.get("spec", {}).get("floor", {})
    return tuple(tuple(floor[k]) for k in ("colour_a", "colour_b", "background") if k in floor)
