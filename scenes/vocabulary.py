"""What a caption can name and a renderer can draw.

Every entry is a name that reaches text (captions), pixels (render) and physics
(simulate) alike, so the three always agree about what an object is.
"""
from __future__ import annotations

from dataclasses import dataclass

SHAPES = ("cube", "block", "sphere", "cylinder", "cone", "capsule", "rock")
"""`block` is a cuboid of free proportions (dominoes, tower bricks); `rock` is a
procedural convex hull seeded per object."""

SIZES: dict[str, tuple[float, float]] = {
    "small": (0.16, 0.26),
    "medium": (0.30, 0.44),
    "large": (0.50, 0.70),
}
"""Size class -> range of the object's characteristic extent in metres (edge of a
cube, diameter of a sphere, height of a cylinder...). Ranges do not overlap, so a
size word is always true of the object it describes."""

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (210, 35, 35),
    "orange": (240, 130, 20),
    "yellow": (235, 210, 30),
    "green": (40, 160, 50),
    "cyan": (30, 190, 210),
    "blue": (35, 70, 210),
    "purple": (120, 50, 190),
    "pink": (240, 120, 190),
    "brown": (120, 70, 30),
    "white": (235, 235, 235),
    "gray": (125, 125, 125),
    "black": (25, 25, 25),
}
"""sRGB base colours, picked far apart in hue or lightness so they survive yuv420p
chroma subsampling and a trained probe can still read them from pixels."""


@dataclass(frozen=True)
class Material:
    """Sets physics and look together, so "metal" both sounds and behaves like metal."""

    friction: float
    restitution: float
    density: float  # kg/m^3
    roughness: float  # PBR, 0 = mirror
    metallic: float  # PBR, 0 = dielectric


MATERIALS: dict[str, Material] = {
    "rubber": Material(friction=0.9, restitution=0.8, density=1100.0, roughness=0.9, metallic=0.0),
    "metal": Material(friction=0.35, restitution=0.35, density=7800.0, roughness=0.3, metallic=1.0),
    "wood": Material(friction=0.6, restitution=0.45, density=650.0, roughness=0.75, metallic=0.0),
    "ice": Material(friction=0.03, restitution=0.15, density=920.0, roughness=0.08, metallic=0.0),
    "plastic": Material(friction=0.5, restitution=0.6, density=1000.0, roughness=0.5, metallic=0.0),
}

FLOOR_MATERIAL = Material(friction=0.7, restitution=0.5, density=0.0, roughness=0.85, metallic=0.0)
