"""The light of a world's sky (`scenes.worlds`): its radiance, and that radiance as L2
spherical harmonics of irradiance, so a shader lights any normal with nine terms.

The same sky formula runs here and in the shader (`shaders.SCENE_FS`, `sky`); below the
horizon the sky's light is the lit floor's.
"""
from __future__ import annotations

import numpy as np

from simreel.render.transforms import sun_direction
from simreel.scenes.types import SceneSpec
from simreel.scenes.worlds import ENVIRONMENTS

_DIRECTIONS = 2048  # Fibonacci sphere: the projection's quadrature


def linear(srgb) -> np.ndarray:
    """sRGB bytes -> linear [0, 1]."""
    c = np.asarray(srgb, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def sky(directions: np.ndarray, zenith: np.ndarray, horizon: np.ndarray, tint: np.ndarray, sun: np.ndarray) -> np.ndarray:
    """[M, 3] radiance looking along unit `directions` [M, 3] (as the shader's `sky`)."""
    g = np.maximum(directions @ sun, 0.0)[:, None]
    up = np.sqrt(np.maximum(directions[:, 2:], 0.0))
    return horizon + (zenith - horizon) * up + tint * 0.25 * g ** 16


def _basis(d: np.ndarray) -> np.ndarray:
    """[M, 9] real SH basis, bands 0-2, in the shader's order (polynomials without their constants)."""
    x, y, z = d.T
    return np.stack([np.ones_like(x), y, z, x, x * y, y * z, 3 * z * z - 1, x * z, x * x - y * y], 1)


_NORM = np.array([0.282095, 0.488603, 0.488603, 0.488603, 1.092548, 1.092548, 0.315392, 1.092548, 0.546274])
_BAND = np.array([np.pi, *[2 * np.pi / 3] * 3, *[np.pi / 4] * 5])  # cosine-lobe convolution per band


def _sphere(n: int) -> np.ndarray:
    i = np.arange(n) + 0.5
    z = 1 - 2 * i / n
    phi = np.pi * (1 + 5 ** 0.5) * i
    r = np.sqrt(1 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], 1)


def world_light(spec: SceneSpec) -> dict[str, np.ndarray | float]:
    """The shader's world uniforms for a scene with a `world`: sky colours, sun tint, the sky's
    gain as light, and `u_sh` [9, 3] (irradiance / pi, so a uniform sky of radiance L gives L)."""
    env = ENVIRONMENTS[spec.world.environment]
    zenith, horizon, tint = linear(env.zenith), linear(env.horizon), np.asarray(env.sun_tint, dtype=np.float64)
    sun = sun_direction(spec.light.azimuth_deg, spec.light.elevation_deg)
    d = _sphere(_DIRECTIONS)
    radiance = sky(d, zenith, horizon, tint, sun)
    above = d[:, 2] > 0
    gain = spec.light.ambient / max(float(radiance[above].mean()), 1e-6)  # ambient sets the level, the sky its colour
    ground = 0.5 * (linear(spec.floor.colour_a) + linear(spec.floor.colour_b)) * (
        tint * spec.light.intensity * max(sun[2], 0.0) / np.pi + spec.light.ambient * horizon)
    light = np.where(above[:, None], radiance * gain, ground)
    Y = _basis(d) * _NORM
    coefficients = (4 * np.pi / len(d)) * Y.T @ light  # [9, 3]
    sh = coefficients * (_BAND / np.pi * _NORM)[:, None]  # evaluated against the plain polynomials
    return {"u_zenith": zenith, "u_horizon": horizon, "u_sun_tint": tint, "u_sky_gain": float(gain), "u_sh": sh}
