"""What a clip shows, as plain facts read from its KEY.json and KEY.traj.npz.

These are the attributes the probe learns to read from pixels and the judge scores
generated video on. They come from the factory's ground truth (the scene spec, the
events, the object trajectories and the camera), never from the caption text, so a
caption and its clip are scored against the same truth.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MOTIONS = ("stays", "falls", "rises", "slides left", "slides right")
MOVE_M = 0.1  # an object whose centre ends less than this far from where it began stays


@dataclass(frozen=True)
class Truth:
    colours: frozenset[str]
    shapes: frozenset[str]
    count: int
    collision: bool  # two objects touch at some point of the clip
    camera: str  # the rig's motion: static / orbit / pan / dolly
    motions: tuple[tuple[str, str], ...]  # (colour, main motion), sorted by colour

    def motion(self, colour: str) -> str | None:
        return dict(self.motions).get(colour)


def main_motion(positions: np.ndarray, right: np.ndarray) -> str:
    """positions [T, 3] (world, z up) -> one of MOTIONS, seen from a camera whose right is `right`.

    Net displacement, split into up and camera-right: the larger names the motion.
    """
    d = positions[-1] - positions[0]
    up, side = float(d[2]), float(d @ right)
    if max(abs(up), abs(side)) < MOVE_M:
        return "stays"
    if abs(up) >= abs(side):
        return "falls" if up < 0 else "rises"
    return "slides right" if side > 0 else "slides left"


def clip_truth(meta: dict, positions: np.ndarray, frames: np.ndarray | None = None) -> Truth:
    """From KEY.json and the trajectory's positions [T, N, 3] (N follows scene objects).

    `frames` (indices, default all) is the part of the clip that is judged: motion,
    collisions and the camera's view are taken over those frames only.
    """
    frames = np.arange(len(positions)) if frames is None else np.asarray(frames)
    positions = positions[frames]
    objects = meta["scene"]["objects"]
    names = {o["name"] for o in objects}
    collision = any(
        e["kind"] == "contact_begin" and len(e["subjects"]) == 2 and set(e["subjects"]) <= names
        and frames[0] <= e["frame"] <= frames[-1]
        for e in meta["events"]
    )
    right = np.asarray(meta["camera"]["poses"][int(frames[0])], dtype=np.float64)[:3, 0]
    right[2] = 0.0  # "left"/"right" along the floor
    right /= max(np.linalg.norm(right), 1e-9)
    by_colour: dict[str, tuple[float, str]] = {}
    for i, o in enumerate(objects):
        travel = float(np.linalg.norm(positions[-1, i] - positions[0, i]))
        if o["colour"] not in by_colour or travel > by_colour[o["colour"]][0]:  # the colour's busiest object
            by_colour[o["colour"]] = (travel, main_motion(positions[:, i], right))
    return Truth(
        colours=frozenset(o["colour"] for o in objects),
        shapes=frozenset(o["shape"] for o in objects),
        count=len(objects),
        collision=collision,
        camera=meta["scene"]["camera"]["motion"],
        motions=tuple(sorted((c, m) for c, (_, m) in by_colour.items())),
    )


_STATED_BY = {
    "colour": "colours", "shape": "shapes", "count": "count", "collides": "collision", "hits": "collision",
    "camera_static": "camera", "camera_orbits": "camera", "camera_tracks": "camera", "camera_dollies": "camera",
    "falls": "motion", "flies": "motion", "moves": "motion", "moves_dir": "motion", "slides": "motion",
    "rests": "motion", "rolls": "motion",
}


def stated(meta: dict) -> frozenset[str]:
    """The attributes the clip's short caption (the prompt) speaks about, from its claims.

    A prompt that never mentions the camera cannot be faithful or unfaithful about it.
    """
    captions = meta["captions"]
    claims = captions.get("claims")
    if claims is None or "short_claims" not in captions:
        return frozenset(_STATED_BY.values())
    return frozenset(
        _STATED_BY[c["predicate"]] for i in captions["short_claims"] if (c := claims[i])["predicate"] in _STATED_BY
    )
