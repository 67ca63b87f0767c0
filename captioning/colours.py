"""Plain words for the floor and background colours, read off sRGB in CIELAB.

The generator names a colour only when it sits clearly inside a word's region (by
lightness, chroma and hue angle); `captioning.check` judges the same words by its
own HSV bands, so the two agree only if the words are honest.
"""
from __future__ import annotations

import math

import numpy as np


def lab(rgb) -> np.ndarray:
    """sRGB (0..255) -> CIELAB (D65)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ c
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


LAB_HUES = (  # CIELAB hue angle ranges (degrees) for the tint of a muted colour
    ("reddish", 0, 30), ("brownish", 50, 90), ("yellowish", 100, 117), ("greenish", 125, 180),
    ("bluish", 205, 290), ("purplish", 305, 332),
)


def muted_name(rgb) -> str | None:
    """A word for a muted floor colour ("gray", "bluish gray", "beige"), or None if unclear."""
    L, a, b = lab(rgb)
    chroma, hue = math.hypot(a, b), math.degrees(math.atan2(b, a)) % 360
    if chroma < 4:
        return "gray"
    if chroma < 8 or chroma > 30:
        return None
    if 65 <= hue <= 100 and L > 65 and chroma < 22:
        return "beige"
    for word, lo, hi in LAB_HUES:
        if lo <= hue <= hi:
            return f"{word} gray"
    return None


def sky_name(rgb) -> str | None:
    """A word for a light background colour, or None if unclear."""
    L, a, b = lab(rgb)
    chroma, hue = math.hypot(a, b), math.degrees(math.atan2(b, a)) % 360
    if chroma < 2.5:
        return "white" if L > 95 else "light gray" if L > 66 else None
    if chroma > 7 and 220 <= hue <= 290 and L > 75:
        return "pale blue"
    return None
