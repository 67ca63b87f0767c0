"""sample -> validate -> simulate -> keep or resample: how a family + seed becomes a Scene.

A rejected sample is never hidden: its seed and reason travel with the Scene, and the
next attempt's seed is derived from (seed, attempt) alone, so the outcome depends on
nothing but the family, the seed and the clip format.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from simreel.scenes import sampling, validity
from simreel.scenes.physics import Physics
from simreel.scenes.registry import get_family
from simreel.scenes.types import ClipFormat, Rejection, Scene, SceneSpec, Trajectory

MAX_ATTEMPTS = 25
MAX_SCREENED = 1000  # ~5 s of sampling at most, no simulation


class SceneRejected(RuntimeError):
    """Every attempt for a family + seed was rejected; `rejections` says why."""

    def __init__(self, message: str, rejections: tuple[Rejection, ...]):
        super().__init__(message)
        self.rejections = rejections


def attempt_seed(seed: int, attempt: int) -> int:
    """Seed of the attempt-th try: the seed itself first, then a hash of (seed, attempt)."""
    if attempt == 0:
        return seed
    words = np.random.SeedSequence([seed, attempt]).generate_state(2, dtype=np.uint32)
    return int(words[0]) << 21 | int(words[1]) >> 11  # 53 bits: exact as a JSON number in any language


def sample(family: str, seed: int, clip: ClipFormat | None = None, assets=None,
           wishes: sampling.Wishes | None = None) -> SceneSpec:
    """The family's spec for this exact seed (not validated, not simulated).

    `assets`: a `scenes.assets.AssetLibrary` its objects may come from (None: primitives only).
    `wishes`: looks to give objects and statics where the family allows (`sampling.Wishes`)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    clip = clip or ClipFormat()
    token, wished = sampling.ASSETS.set(assets), sampling.WISHES.set(wishes or sampling.Wishes())
    try:
        spec = get_family(family)(np.random.default_rng(int(seed)), clip)
    finally:
        sampling.WISHES.reset(wished)
        sampling.ASSETS.reset(token)
    return dataclasses.replace(
        spec, family=family, seed=int(seed), fps=clip.fps, duration_s=float(clip.duration_s),
        width=clip.width, height=clip.height,
    )


def check_promise(spec: SceneSpec, trajectory: Trajectory) -> Rejection | None:
    missing = get_family(spec.family).promise(spec, trajectory)
    return None if missing is None else Rejection(spec.seed, "promise_broken", missing)


def make(family: str, seed: int, clip: ClipFormat | None = None, physics: Physics | None = None,
         assets=None, screen: Callable[[SceneSpec], Rejection | None] | None = None) -> Scene:
    """A valid, simulated scene of `family` for `seed`, resampling (and recording) rejects.

    `physics`: the client to simulate in (a worker keeps one for all its scenes); its live
    world is the returned scene's, ready to be run longer. Default: a client for this call.
    `assets`: as for `sample`.
    `screen(spec)`: a Rejection for a sampled spec this dataset must not hold (a held-out
    region, `scenes.holdout`), checked before simulating; such draws cost no simulation and
    do not count against MAX_ATTEMPTS, but at most MAX_SCREENED are drawn."""
    if physics is None:
        with Physics() as physics:
            return make(family, seed, clip, physics, assets, screen)
    rejections: list[Rejection] = []
    screened = 0
    for draw in range(MAX_ATTEMPTS + MAX_SCREENED):
        if draw - screened == MAX_ATTEMPTS:
            break
        spec = sample(family, attempt_seed(int(seed), draw), clip, assets)
        excluded = screen(spec) if screen is not None else None
        if excluded is not None:
            rejections.append(excluded)
            screened += 1
            if screened == MAX_SCREENED:
                raise SceneRejected(
                    f"family {family!r} seed {seed}: {screened} of {draw + 1} samples were screened out "
                    f"({excluded.reason}): this split's region of the scene space is (nearly) empty for this "
                    "family and clip format; widen the holdout or drop the family", tuple(rejections))
            continue
        try:
            validity.check_initial_view(spec)
            trajectory = physics.simulate(spec)
        except validity.InvalidScene as e:
            rejections.append(Rejection(spec.seed, e.reason, e.detail))
            continue
        broken = check_promise(spec, trajectory)
        if broken is None:
            return Scene(spec, trajectory, tuple(rejections))
        rejections.append(broken)
    reasons = sorted({r.reason for r in rejections})
    raise SceneRejected(
        f"family {family!r} seed {seed}: all {MAX_ATTEMPTS} samples were rejected ({', '.join(reasons)}); "
        f"last: {rejections[-1].detail}. A longer clip (duration) usually lets the promised events happen.",
        tuple(rejections),
    )
