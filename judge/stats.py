"""How sure the judge is: every figure comes with the number of clips it rests on and a
95% bootstrap interval, and a row resting on too few clips is not decided at all.

A probe trained on a few hundred clips reads a borderline clip differently on another
CPU or thread count (torch differs there in the last bits); a verdict is only worth
stating if flipping a clip or two cannot overturn it. So verdicts are made on enough
clips and read against intervals, never on one figure's last digits.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

MIN_CLIPS = 8  # below this many clips a row says "undecided" instead of giving a number
RESAMPLES = 2000


def nanmean(values: Sequence[float]) -> float:
    """Mean of the finite values; NaN when there are none (nothing measurable)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def interval(items: Sequence, statistic: Callable[[list], float] = nanmean, *, seed: int,
             resamples: int = RESAMPLES) -> list[float] | None:
    """95% percentile bootstrap interval of `statistic` over `items` (one per clip),
    resampling clips with replacement from an explicitly seeded generator: the same items
    give the same interval on any machine. None for fewer than two items."""
    items = list(items)
    if len(items) < 2:
        return None
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(items), size=(resamples, len(items)))
    values = np.array([statistic([items[i] for i in row]) for row in draws], dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return [float(lo), float(hi)]


def summary(items: Sequence, statistic: Callable[[list], float] = nanmean, *, seed: int) -> dict:
    """{value, n, ci95} of `statistic` over per-clip `items`."""
    items = list(items)
    return {"value": statistic(items), "n": len(items), "ci95": interval(items, statistic, seed=seed)}


def undecided(n: int, min_clips: int = MIN_CLIPS) -> str | None:
    """Why a row on `n` clips cannot be decided, or None when it can."""
    return f"n={n} < {min_clips}" if n < min_clips else None


def withhold(row: dict, reason: str | None, figures: Sequence[str]) -> dict:
    """Mark a row decided or not. An undecided row keeps its counts and says why, but its
    `figures` and every interval become None, so no sum or mean can take them in."""
    if reason is None:
        return {**row, "decided": True}
    blank = {k: None for k in row if k in figures or k.endswith("ci95")}
    return {**row, **blank, "decided": False, "reason": reason}
