"""Is a clip physically plausible? Statistics read from tracked pixels alone.

The same numbers are computed for real factory clips and for generated ones, so each
is read against the real value, not against an absolute threshold:
- `objects_seen`: the fraction of the colours a clip should show (its objects, or its
  prompt's) that appear in it at all; the other statistics only speak of what is seen,
  so a video without objects has nothing implausible to count;
- `vanish_per_clip` / `appear_per_clip`: a colour disappears (appears) for good while
  it was, and was heading, clear of the frame's border and nothing that was already in
  view covered (uncovered) the spot. Objects do not blink out of existence.
- `down_accel_fraction`: of the frames where a tracked object moves vertically and its
  vertical speed changes, the fraction where it speeds up downward (image y grows).
  Unsupported objects fall; a clip with gravity reversed scores near zero.
- `colour_drift`: CIELAB distance between a track's mean colour early and late (ΔE).
- `size_jitter`: spread of a track's frame-to-frame log-area change: rigid objects
  change apparent size smoothly.
"""
from __future__ import annotations

import numpy as np

from simreel.judge.track import BACKGROUND, Tracks

BORDER = 0.04  # a blob this close to the frame edge may simply have left the view
PERSIST = 2  # frames a vanish (appearance) must last to count: one-frame flicker is noise
MIN_AREA = 0.003  # blobs smaller than this fraction of the frame fade out by distance, not magic
MIN_SPEED = 0.004  # frame heights per frame: below this, vertical motion is noise
MIN_ACCEL = 0.0008  # frame heights per frame^2

STATS = ("objects_seen", "vanish_per_clip", "appear_per_clip", "down_accel_fraction", "colour_drift", "size_jitter")


def _touches_border(box: np.ndarray) -> bool:
    return bool(box[0] < BORDER or box[1] < BORDER or box[2] > 1 - BORDER or box[3] > 1 - BORDER)


def _covered(tracks: Tracks, c: int, t_seen: int, t_gone: int) -> bool:
    """At frame t_gone, do colours already in view at t_seen cover where colour c was?"""
    H, W = tracks.labels.shape[1:]
    x0, y0, x1, y1 = tracks.bbox[t_seen, c]
    rows = slice(max(int(y0 * H) - 1, 0), int(np.ceil(y1 * H)) + 1)
    cols = slice(max(int(x0 * W) - 1, 0), int(np.ceil(x1 * W)) + 1)
    region = tracks.labels[t_gone][rows, cols]
    before = tracks.present[t_seen]
    others = (region != BACKGROUND) & (region != c) & before[np.clip(region, 0, None)]
    was = (tracks.labels[t_seen] == c).sum()
    return bool(others.sum() >= 0.5 * was)


def _vanishings(tracks: Tracks, reverse: bool = False) -> list[tuple[int, int]]:
    """(colour, frame) of each unexplained disappearance (appearance when `reverse`)."""
    order = np.arange(tracks.num_frames)[::-1] if reverse else np.arange(tracks.num_frames)
    present = tracks.present[order]
    found = []
    for c in range(len(tracks.colours)):
        for i in range(PERSIST, len(order) - PERSIST + 1):
            if not (present[i - PERSIST : i, c].all() and not present[i : i + PERSIST, c].any()):
                continue
            before, seen, gone = order[i - 2], order[i - 1], order[i]
            step = tracks.centroid[seen, c] - tracks.centroid[before, c]  # where it was heading
            if tracks.area[seen, c] < MIN_AREA or _touches_border(tracks.bbox[seen, c] + np.tile(step, 2)):
                continue
            if not _covered(tracks, c, seen, gone):
                found.append((c, int(gone)))
    return found


def _vertical_accel_signs(tracks: Tracks) -> tuple[int, int]:
    """(frames accelerating downward, frames counted) over all tracks."""
    down = counted = 0
    for c in range(len(tracks.colours)):
        y = tracks.centroid[:, c, 1]
        for t in range(1, tracks.num_frames - 1):
            window = slice(t - 1, t + 2)
            if not tracks.present[window, c].all():
                continue
            boxes, areas = tracks.bbox[window, c], tracks.area[window, c]
            if any(_touches_border(b) for b in boxes) or areas.max() > 1.3 * areas.min():
                continue  # partial views and occlusions move a centroid without moving the object
            speed, accel = (y[t + 1] - y[t - 1]) / 2, y[t + 1] - 2 * y[t] + y[t - 1]
            if abs(speed) > MIN_SPEED and abs(accel) > MIN_ACCEL:
                counted += 1
                down += accel > 0
    return down, counted


def clip_stats(tracks: Tracks) -> dict:
    """Raw per-clip figures; `summarise` pools them over clips."""
    drifts, jitters = [], []
    for c in range(len(tracks.colours)):
        frames = np.flatnonzero(tracks.present[:, c] & (tracks.area[:, c] >= MIN_AREA))
        if len(frames) < 4:
            continue
        k = max(len(frames) // 3, 1)
        early, late = tracks.lab[frames[:k], c].mean(0), tracks.lab[frames[-k:], c].mean(0)
        drifts.append(float(np.linalg.norm(early - late)))
        inner = [t for t in frames if not _touches_border(tracks.bbox[t, c])]
        steps = [np.log(tracks.area[b, c] / tracks.area[a, c]) for a, b in zip(inner, inner[1:]) if b == a + 1]
        if len(steps) >= 2:
            jitters.append(float(np.std(steps)))
    down, counted = _vertical_accel_signs(tracks)
    seen = [tracks.present[:, tracks.index(c)].sum() >= PERSIST for c in tracks.searched]
    return {
        "seen": sum(seen),
        "searched": len(seen),
        "vanish": len(_vanishings(tracks)),
        "appear": len(_vanishings(tracks, reverse=True)),
        "down": down,
        "counted": counted,
        "drifts": drifts,
        "jitters": jitters,
    }


def summarise(per_clip: list[dict]) -> dict[str, float]:
    """Pool per-clip figures into the named STATS (NaN when nothing was measurable)."""
    n = max(len(per_clip), 1)
    counted = sum(s["counted"] for s in per_clip)
    drifts = [d for s in per_clip for d in s["drifts"]]
    jitters = [j for s in per_clip for j in s["jitters"]]
    searched = sum(s["searched"] for s in per_clip)
    return {
        "objects_seen": sum(s["seen"] for s in per_clip) / searched if searched else float("nan"),
        "vanish_per_clip": sum(s["vanish"] for s in per_clip) / n,
        "appear_per_clip": sum(s["appear"] for s in per_clip) / n,
        "down_accel_fraction": float(sum(s["down"] for s in per_clip) / counted) if counted else float("nan"),
        "colour_drift": float(np.median(drifts)) if drifts else float("nan"),
        "size_jitter": float(np.median(jitters)) if jitters else float("nan"),
    }
