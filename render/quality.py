"""Quality presets: what each trades of the look for speed."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quality:
    samples: int  # MSAA samples per pixel (1 = aliased edges)
    supersample: int  # render at this many times the size per axis, then average
    shadows: bool  # draw shadows where the spec's light asks for them
    shadow_texels: float  # shadow-map texels per output pixel, per axis


QUALITIES: dict[str, Quality] = {
    "fast": Quality(samples=1, supersample=1, shadows=False, shadow_texels=1.0),
    "default": Quality(samples=4, supersample=1, shadows=True, shadow_texels=2.0),
    "high": Quality(samples=4, supersample=2, shadows=True, shadow_texels=4.0),
}


def resolve_quality(quality: str | Quality) -> Quality:
    if isinstance(quality, Quality):
        return quality
    if quality not in QUALITIES:
        raise ValueError(f"unknown render quality {quality!r}; choose one of {sorted(QUALITIES)} or pass a render.Quality")
    return QUALITIES[quality]
