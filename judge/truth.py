"""What a clip shows, as plain facts read from its KEY.json and KEY.traj.npz.

These are the attributes the probe learns to read from pixels and the judge scores
generated video on. They come from the factory's ground truth (the scene spec, the
events, the object trajectories and the camera), never from the caption's words; which
of them a prompt states comes from the caption's checkable claims (`claimed`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MOTIONS = ("stays", "falls", "rises", "slides left", "slides right")
MOVE_M = 0.1  # an object whose centre ends less than this far from where it began stays


@dataclass(frozen=True)
class Truth:
    colours: frozenset[str]  # of the objects and the fixed scenery (a green ramp is green pixels)
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
        colours=frozenset(o["colour"] for o in objects) | {s["colour"] for s in meta["scene"].get("statics", ())},
        shapes=frozenset(o["shape"] for o in objects),
        count=len(objects),
        collision=collision,
        camera=meta["scene"]["camera"]["motion"],
        motions=tuple(sorted((c, m) for c, (_, m) in by_colour.items())),
    )


_MOTION_CLAIMS = ("falls", "flies", "moves", "moves_dir", "slides", "rolls", "rests", "topples", "descends")
_CAMERA_CLAIMS = ("camera_static", "camera_orbits", "camera_tracks", "camera_dollies")


def claimed(meta: dict, truth: Truth) -> dict:
    """What the clip's prompt (its short caption) states, as checkable expectations.

    From the caption's own claims: {"colours": set, "shapes": set} of the objects it
    names, "count" when it gives one, "collision" when it speaks of a hit, "camera" when
    it describes the camera, "motion": {colour: main motion} of the objects it says move
    or rest. An attribute the prompt never mentions is absent: a video can be neither
    faithful nor unfaithful to it. Motion and collision come from `truth`, so they are
    scored over the judged frames.
    """
    captions = meta["captions"]
    objects = {o["name"]: o for o in meta["scene"]["objects"]}
    statics = {s["name"]: s for s in meta["scene"].get("statics", ())}
    out: dict = {}
    for i in captions["short_claims"]:
        c = captions["claims"][i]
        p, subject = c["predicate"], objects.get(c["subject"])
        if p == "colour" and (subject or c["subject"] in statics):
            out.setdefault("colours", set()).add((subject or statics[c["subject"]])["colour"])
        elif p == "shape" and subject:
            out.setdefault("shapes", set()).add(subject["shape"])
        elif p == "count" and set(c.get("params", {})) == {"n"}:
            out["count"] = int(c["params"]["n"])
        elif p in ("hits", "collides"):
            out["collision"] = truth.collision
        elif p in _CAMERA_CLAIMS:
            out["camera"] = truth.camera
        elif p in _MOTION_CLAIMS and subject and truth.motion(subject["colour"]):
            out.setdefault("motion", {})[subject["colour"]] = truth.motion(subject["colour"])
    return out
