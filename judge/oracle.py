"""The factory as an oracle: fresh ground-truth takes of a prompt, to set a generated video beside.

Several takes of one prompt differ in everything the prompt leaves open (positions,
speeds, the objects it does not name, the camera) yet each one's own captions entail
the prompt (`captioning.enact`), so their spread is the spread a faithful video may show.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simreel import render, scenes
from simreel.captioning.enact import Take, enact
from simreel.captioning.parse import parse


@dataclass(frozen=True, eq=False)
class TruthTake:
    """One ground-truth take of a prompt, rendered."""

    take: Take
    rgb: np.ndarray  # uint8 [T, H, W, 3]


def oracle_takes(prompt: str, n: int, seed: int, clip: scenes.ClipFormat) -> list[TruthTake]:
    """`n` takes of `prompt`, take k drawn from seed + k. Raises `captioning.parse.PromptError`
    for a prompt it cannot read and `captioning.enact.EnactError` for one no take shows."""
    parsed = parse(prompt)
    with scenes.Physics() as physics:
        takes = [enact(parsed, seed + k, clip, physics=physics) for k in range(n)]
    with render.Renderer() as renderer:
        return [TruthTake(t, renderer.render(t.scene.spec, t.scene.trajectory).rgb) for t in takes]


def beside(video: np.ndarray, truth: np.ndarray, gap: int = 2) -> np.ndarray:
    """uint8 [T, H, W, 3] videos side by side (left: `video`, right: `truth`) with a white gap;
    the truth is repeated or cut to the video's length and nearest-scaled to its height."""
    frames, height = video.shape[0], video.shape[1]
    truth = truth[np.minimum(np.arange(frames), len(truth) - 1)]
    rows = np.arange(height) * truth.shape[1] // height
    cols = np.arange(truth.shape[2] * height // truth.shape[1]) * truth.shape[1] // height
    truth = truth[:, rows][:, :, cols]
    white = np.full((frames, height, gap, 3), 255, np.uint8)
    return np.concatenate([video, white, truth], axis=2)
