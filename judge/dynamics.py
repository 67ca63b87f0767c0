"""Dynamics against the truth: a continuation of a clip's first k frames versus the
simulator's own continuation.

Two views of the same question:
- tracked positions: each object (one palette colour) is followed in both videos;
  position and velocity error per future frame, in frame widths, beside the two
  baselines every video model must beat: copying the last given frame, and moving each
  object on in a straight line at its last velocity;
- Physics-IQ's motion masks: which pixels change between frames; spatial IoU (where
  anything moved over the continuation) and spatiotemporal IoU (where and when). Their
  scale is set by two real takes of one scene with a tiny perturbation: physics itself
  does not repeat better than that.
"""
from __future__ import annotations

import numpy as np

from simreel.judge.track import BACKGROUND, Tracks

MOTION_THRESHOLD = 0.1  # fraction of full scale a pixel must change by to count as moving


def motion_masks(video: np.ndarray, threshold: float = MOTION_THRESHOLD) -> np.ndarray:
    """uint8 [T, H, W, 3] -> bool [T-1, H, W]: pixels that changed from the previous frame."""
    v = np.asarray(video, dtype=np.int16)
    return (np.abs(np.diff(v, axis=0)).max(-1) / 255.0) > threshold


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks; two empty masks agree perfectly."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def mask_ious(pred: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """Physics-IQ overlaps of two continuations (uint8 videos of equal shape)."""
    mp, mr = motion_masks(pred), motion_masks(real)
    return {"spatial_iou": iou(mp.any(0), mr.any(0)), "spatiotemporal_iou": iou(mp, mr)}


def _filled(positions: np.ndarray) -> np.ndarray:
    """Forward-fill NaN rows: an object the video lost stays where it was last seen."""
    out = positions.copy()
    for t in range(1, len(out)):
        gone = np.isnan(out[t, :, 0])
        out[t, gone] = out[t - 1, gone]
    return out


def baseline_positions(context: Tracks, horizon: int) -> dict[str, np.ndarray]:
    """[horizon, C, 2] positions predicted by copy-last-frame and by linear extrapolation."""
    seen = _filled(context.centroid)
    last = seen[-1]
    velocity = np.nan_to_num(seen[-1] - seen[-2]) if len(seen) > 1 else np.zeros_like(last)
    steps = np.arange(1, horizon + 1)[:, None, None]
    return {"copy_last": np.repeat(last[None], horizon, 0), "linear": last[None] + steps * velocity[None]}


def position_errors(pred: np.ndarray, real: Tracks, context: Tracks, colours: list[int]) -> dict:
    """Per-future-frame mean position and velocity error over `colours` (frame widths), and
    the fraction of the objects the truth shows that the prediction still shows ("kept").

    `pred` is [horizon, C, 2]; it may hold NaN where a video lost an object: it is then
    held at its last known place (from the context if need be). Frames where the truth
    does not show an object are not scored for it.
    """
    horizon = len(pred)
    full = _filled(np.concatenate([context.centroid, pred], 0))[-horizon - 1 :]
    truth = np.concatenate([context.centroid[-1:], real.centroid[:horizon]], 0)
    pos_err = np.linalg.norm(full[1:] - truth[1:], axis=-1)[:, colours]  # [h, n]
    vel_err = np.linalg.norm(np.diff(full, axis=0) - np.diff(truth, axis=0), axis=-1)[:, colours]
    mean = lambda e: np.array([np.nanmean(r) if np.isfinite(r).any() else np.nan for r in e])  # noqa: E731
    shown = np.isfinite(real.centroid[:horizon, colours, 0])
    kept = np.isfinite(pred[:, colours, 0])[shown]
    return {"position": mean(pos_err), "velocity": mean(vel_err), "kept": float(kept.mean()) if kept.size else np.nan}


def linear_video(context: np.ndarray, tracks: Tracks, horizon: int) -> np.ndarray:
    """The linear baseline as pixels, for the motion masks: each object's last blob slid
    along its last velocity over a background that is the context's per-pixel median."""
    H, W = context.shape[1:3]
    background = np.median(context, axis=0).astype(np.uint8)
    last = tracks.labels[-1]
    velocity = baseline_positions(tracks, 1)["linear"][0] - _filled(tracks.centroid)[-1]
    out = np.repeat(background[None], horizon, 0)
    for c in np.unique(last):
        if c == BACKGROUND:
            continue
        ys, xs = np.nonzero(last == c)
        for j in range(horizon):
            dx, dy = np.rint((j + 1) * velocity[c] * (W, H)).astype(int)
            y, x = ys + dy, xs + dx
            keep = (y >= 0) & (y < H) & (x >= 0) & (x < W)
            out[j, y[keep], x[keep]] = context[-1, ys[keep], xs[keep]]
    return out
