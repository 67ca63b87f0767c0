"""Worlds: the floor, the sky and the surface patterns a scene is drawn with.

A world is looks only: the floor keeps its friction, the objects their materials (a
pattern follows the material: wood shows grain, metal is brushed). So a world is put on
a scene after it is simulated (`dress`), from its own random stream (the scene's seed
and a fixed tag): the same scene moves the same in any world, and the same seed and
options always give the same world. Names here reach pixels (`render`) and captions.
"""
from __future__ import annotations

import colorsys
import dataclasses
from dataclasses import dataclass

import numpy as np

from simreel.scenes.types import FloorSpec, LightSpec, SceneSpec, WorldSpec, shows_material

FLOORS = ("checker", "planks", "tiles", "concrete", "grass")
TEXTURES = ("wood_grain", "brushed_metal", "marble", "rubber", "fabric", "speckled_plastic")
MATERIAL_TEXTURES = {  # what each material may show; "" = plain (ice stays clear)
    "wood": ("wood_grain",),
    "metal": ("brushed_metal",),
    "rubber": ("rubber",),
    "plastic": ("speckled_plastic", "marble", "fabric"),
    "ice": ("",),
}
_TAG = 0x5EED_F1  # the dressing's random stream: apart from every stream a scene family draws from


@dataclass(frozen=True)
class Environment:
    """A procedural sky and the light it gives: the sun's height, strength and tint, and how
    bright the sky is as ambient light (`render` projects the sky onto spherical harmonics)."""

    zenith: tuple[int, int, int]  # sRGB, straight up
    horizon: tuple[int, int, int]  # sRGB, at the horizon (also the scene's background colour)
    sun_tint: tuple[float, float, float]  # linear multiplier of the sun's light
    elevation_deg: tuple[float, float]
    intensity: tuple[float, float]
    ambient: tuple[float, float]  # LightSpec.ambient: scales the sky's light on the objects


ENVIRONMENTS: dict[str, Environment] = {
    "clear_day": Environment((70, 130, 215), (195, 218, 238), (1.0, 0.98, 0.92), (45, 75), (4.0, 5.5), (0.35, 0.5)),
    "overcast": Environment((160, 166, 176), (205, 207, 210), (0.95, 0.97, 1.0), (50, 80), (1.2, 2.0), (0.6, 0.8)),
    "sunset": Environment((55, 75, 150), (250, 165, 95), (1.0, 0.62, 0.35), (8, 20), (3.0, 4.5), (0.3, 0.45)),
    "night": Environment((12, 16, 40), (55, 62, 100), (0.6, 0.7, 1.0), (35, 60), (1.0, 1.8), (0.15, 0.25)),
    "studio": Environment((85, 85, 90), (150, 150, 155), (1.0, 1.0, 1.0), (55, 80), (3.5, 5.0), (0.4, 0.55)),
}


def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(h % 1.0, s, v))


def _floor(kind: str, old: FloorSpec, rng: np.random.Generator, horizon: tuple[int, int, int]) -> FloorSpec:
    """The floor's two tones and pattern size for a kind (checker keeps the scene's own)."""
    if kind == "checker":
        return dataclasses.replace(old, background=horizon)
    h, s, v, darker, size = {  # hue, saturation, value ranges; second tone's value factor; pattern size (m)
        "planks": ((0.05, 0.1), (0.4, 0.6), (0.45, 0.7), (0.65, 0.8), (0.15, 0.25)),  # board width
        "tiles": ((0.0, 1.0), (0.05, 0.2), (0.45, 0.65), (0.4, 0.55), (0.3, 0.6)),  # tile edge; b = grout (not white
        # under a bright sky, grout dark enough to read at 64 px)
        "concrete": ((0.05, 0.15), (0.0, 0.06), (0.5, 0.66), (0.75, 0.88), (0.3, 0.6)),  # blotch size
        "grass": ((0.22, 0.3), (0.45, 0.7), (0.35, 0.5), (0.6, 0.75), (0.5, 1.0)),
    }[kind]
    hue, sat, val = (float(rng.uniform(*r)) for r in (h, s, v))
    a = _rgb(hue, sat, val)
    b = _rgb(hue + float(rng.uniform(-0.02, 0.02)), sat, val * float(rng.uniform(*darker)))
    return FloorSpec(colour_a=a, colour_b=b, checker_m=float(rng.uniform(*size)), background=horizon)


def dress(spec: SceneSpec, seed: int, floors: tuple[str, ...], environments: tuple[str, ...],
          textures: bool) -> SceneSpec:
    """`spec` in a world drawn from `seed`: a floor kind, an environment (sky, sun, ambient) and,
    with `textures`, a pattern per object that fits its material (none on an asset in its own colours)."""
    rng = np.random.default_rng([int(seed), _TAG])
    kind = floors[int(rng.integers(len(floors)))]
    name = environments[int(rng.integers(len(environments)))]
    env = ENVIRONMENTS[name]
    light = LightSpec(azimuth_deg=spec.light.azimuth_deg, elevation_deg=float(rng.uniform(*env.elevation_deg)),
                      intensity=float(rng.uniform(*env.intensity)), ambient=float(rng.uniform(*env.ambient)),
                      shadows=spec.light.shadows)
    floor = _floor(kind, spec.floor, rng, env.horizon)
    patterns = tuple(MATERIAL_TEXTURES[o.material][int(rng.integers(len(MATERIAL_TEXTURES[o.material])))]
                     if textures and shows_material(o) else "" for o in spec.objects)
    return dataclasses.replace(spec, light=light, floor=floor, world=WorldSpec(kind, name, patterns))
