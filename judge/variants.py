"""Re-rendered variants of held-out scenes, which only the factory can make, for the judge:

- two takes: the scene simulated again as it is, and with every object nudged 1 mm — the
  spread between them is how far physics itself lets two runs differ (Physics-IQ's
  normalisation of motion-mask overlap);
- implausible on purpose: gravity reversed, and one object removed mid-clip (its pixels
  replaced by a render of the scene without it) — what the plausibility statistics
  must flag.

Every variant goes through the dataset's video codec, so it differs from the shard's
clips in physics only, not in compression.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

NUDGE_M = 0.001


def _trajectory_without(trajectory, index: int):
    from simreel.scenes.types import Trajectory

    keep = [i for i in range(len(trajectory.names)) if i != index]
    return Trajectory(
        fps=trajectory.fps, names=tuple(trajectory.names[i] for i in keep),
        positions=trajectory.positions[:, keep], orientations=trajectory.orientations[:, keep],
        linear_velocities=trajectory.linear_velocities[:, keep],
        angular_velocities=trajectory.angular_velocities[:, keep], events=())


def nudged(spec):
    """The same scene with every object's starting place moved 1 mm along x."""
    objects = tuple(dataclasses.replace(o, position=(o.position[0] + NUDGE_M, *o.position[1:])) for o in spec.objects)
    return dataclasses.replace(spec, objects=objects)


def gravity_reversed(spec):
    return dataclasses.replace(spec, gravity=-spec.gravity)


def object_removed(renderer, spec, trajectory, start: int) -> np.ndarray | None:
    """RGB where, from frame `start` on, the most visible object's pixels show the scene
    without it. None when no object is visible at `start`."""
    frames = renderer.render(spec, trajectory, modalities=("rgb", "ids"))
    visible = np.bincount(frames.ids[start].ravel(), minlength=len(spec.objects) + 1)[1:]
    if not visible.any():
        return None
    k = int(visible.argmax())
    without = dataclasses.replace(spec, objects=tuple(o for i, o in enumerate(spec.objects) if i != k))
    empty = renderer.render(without, _trajectory_without(trajectory, k)).rgb
    rgb = frames.rgb.copy()
    mask = frames.ids[start:] == k + 1
    rgb[start:][mask] = empty[start:][mask]
    return rgb


def write(dataset, path: Path, *, window, takes: int, implausible: int) -> None:
    """Variants of the first clips of `dataset` (a finished DatasetConfig), windowed like the
    judged clips, into one .npz: takes_keys, take_a, take_b; gravity_reversed and object_removed
    (with *_colours: each clip's colour names, comma-joined)."""
    from simreel import render
    from simreel import scenes
    from simreel.shards import ClipDataset, VideoCodec, decode_video, encode_video

    metas = [s["meta"] for s in ClipDataset(dataset.out, decode=False)]
    codec = VideoCodec(dataset.video_codec, dataset.video_crf, dataset.video_preset)
    through_codec = lambda rgb, fps: window.apply(decode_video(encode_video(rgb, fps, codec)))  # noqa: E731
    still = sorted(metas, key=lambda m: m["scene"]["camera"]["motion"] != "static")  # stable: still cameras first
    out: dict[str, list] = {k: [] for k in ("takes_keys", "take_a", "take_b", "gravity_reversed",
                                            "gravity_reversed_colours", "object_removed",
                                            "object_removed_colours")}
    with render.Renderer(dataset.render_quality) as renderer:
        for meta in still[:takes]:
            spec = scenes.SceneSpec.from_dict(meta["scene"])
            a = renderer.render(spec, scenes.simulate(spec)).rgb
            try:
                b = renderer.render(nudged(spec), scenes.simulate(nudged(spec))).rgb
            except scenes.InvalidScene:
                continue
            out["takes_keys"].append(meta["key"])
            out["take_a"].append(through_codec(a, spec.fps))
            out["take_b"].append(through_codec(b, spec.fps))
        for meta in still:
            if len(out["gravity_reversed"]) >= implausible and len(out["object_removed"]) >= implausible:
                break
            spec = scenes.SceneSpec.from_dict(meta["scene"])
            colours = ",".join(sorted({o.colour for o in spec.objects}))
            if len(out["gravity_reversed"]) < implausible:
                try:
                    up = gravity_reversed(spec)
                    rgb = renderer.render(up, scenes.simulate(up)).rgb
                    out["gravity_reversed"].append(through_codec(rgb, spec.fps))
                    out["gravity_reversed_colours"].append(colours)
                except scenes.InvalidScene:
                    pass
            if len(out["object_removed"]) < implausible:
                start = window.indices(spec.num_frames)[window.frames // 2]
                rgb = object_removed(renderer, spec, scenes.simulate(spec), int(start))
                if rgb is not None:
                    out["object_removed"].append(through_codec(rgb, spec.fps))
                    out["object_removed_colours"].append(colours)
    np.savez(path, **{k: np.array(v) for k, v in out.items()})
