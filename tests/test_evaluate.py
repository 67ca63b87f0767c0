"""The judge on real rendered clips: the tracker against the renderer's instance ids, the
plausibility statistics against clips made implausible on purpose, the dynamics metrics
against known continuations, and the probe Fréchet distance's basic sense."""
from __future__ import annotations

import numpy as np
import pytest

from simreel import render
from simreel import scenes
from simreel.scenes.vocabulary import COLOURS
from simreel.shards import decode_video, encode_video
from simreel.judge import variants
from simreel.judge import plausibility
from simreel.judge.dynamics import mask_ious
from simreel.judge.evaluate import Window, dynamics, probe_frechet
from simreel.judge.track import Palette, colour_labels, track
from simreel.judge.truth import Truth

WINDOW = Window(frames=16, stride=1, height=32, width=32)  # the demo model's clip
CLIP = scenes.ClipFormat(fps=8, duration_s=2.0, width=64, height=64)


def through_codec(rgb: np.ndarray) -> np.ndarray:
    return WINDOW.apply(decode_video(encode_video(rgb, CLIP.fps)))


@pytest.fixture(scope="module")
def renderer():
    with render.Renderer("fast") as r:
        yield r


@pytest.fixture(scope="module")
def rendered(renderer):
    """Clips of every family with their colour labels, windowed like the judge sees them."""
    out = []
    for i, family in enumerate(scenes.family_names() * 5):
        scene = scenes.make(family, 1000 + i, CLIP)
        frames = renderer.render(scene.spec, scene.trajectory, modalities=("rgb", "ids"))
        names = [o.colour for o in scene.spec.objects]
        labels = WINDOW.apply_labels(colour_labels(frames.ids, names, tuple(COLOURS)), len(COLOURS) + 1)
        out.append((scene, through_codec(frames.rgb), labels))
    return out


@pytest.fixture(scope="module")
def palette(rendered):
    half = rendered[::2]
    return Palette.from_srgb(COLOURS).calibrate([v for _, v, _ in half], [lbl for _, _, lbl in half])


def detections(rendered, palette):
    """On the clips the palette was not calibrated on: for each object of 3+ pixels in a
    frame, whether the tracker found its colour, and the centroid error (pixels) if so."""
    found, errors = [], []
    ys, xs = np.mgrid[0:32, 0:32]
    for scene, video, labels in rendered[1::2]:
        tracks = track(video, palette, {o.colour for o in scene.spec.objects})
        for t in range(len(video)):
            for c in set(np.unique(labels[t])) - {0}:
                truth = labels[t] == c
                if truth.sum() < 3:
                    continue
                found.append(tracks.present[t, c - 1])
                if tracks.present[t, c - 1]:
                    true_xy = np.array([xs[truth].mean() + 0.5, ys[truth].mean() + 0.5]) / 32
                    errors.append(np.linalg.norm(tracks.centroid[t, c - 1] - true_xy) * 32)
    return np.array(found), np.array(errors)


def test_tracker_finds_objects_where_the_renderer_put_them(rendered, palette):
    found, errors = detections(rendered, palette)
    assert len(found) > 100
    assert found.mean() > 0.9, f"objects of 3+ pixels found in only {found.mean():.0%} of frames"
    assert np.median(errors) < 0.75, f"median centroid error {np.median(errors):.2f} px"


def test_calibration_is_what_finds_shaded_objects(rendered, palette):
    """The painted base colours miss many rendered objects; calibrated ones do not."""
    calibrated, _ = detections(rendered, palette)
    painted, _ = detections(rendered, Palette.from_srgb(COLOURS))
    assert calibrated.mean() > painted.mean() + 0.1, (calibrated.mean(), painted.mean())


def test_plausibility_flags_implausible_clips(renderer, palette):
    real, reversed_, removed = [], [], []
    for seed in range(10):
        scene = scenes.make("drop", 2000 + seed, CLIP)
        colours = {o.colour for o in scene.spec.objects}
        stats = lambda rgb: plausibility.clip_stats(track(through_codec(rgb), palette, colours))  # noqa: E731
        real.append(stats(renderer.render(scene.spec, scene.trajectory).rgb))
        up = variants.gravity_reversed(scene.spec)
        reversed_.append(stats(renderer.render(up, scenes.simulate(up)).rgb))
        gone = variants.object_removed(renderer, scene.spec, scene.trajectory, start=8)
        if gone is not None:
            removed.append(stats(gone))
    real, reversed_, removed = (plausibility.summarise(s) for s in (real, reversed_, removed))
    assert real["vanish_per_clip"] <= 0.1 and real["appear_per_clip"] <= 0.1
    assert removed["vanish_per_clip"] >= 0.5, removed
    assert real["down_accel_fraction"] > reversed_["down_accel_fraction"] + 0.3, (real, reversed_)


def test_dynamics_metrics_rank_the_truth_first(rendered, palette):
    """The simulator's own continuation has zero error and full overlap; copying the last
    frame has no motion at all; two takes of one scene overlap but not perfectly."""
    moving = [(s, v) for s, v, _ in rendered if s.spec.camera.motion == "static"][:4]
    assert moving, "no static-camera clip rendered"

    class Clip:
        def __init__(self, scene, video):
            self.video = video
            self.truth = Truth(frozenset(o.colour for o in scene.spec.objects), frozenset(), 0, False, "static", ())

    clips = [Clip(s, v) for s, v in moving]
    metrics, curves = dynamics(clips, np.stack([c.video for c in clips]), 4, palette)
    assert metrics["position_error"]["model"] == 0.0
    assert metrics["spatiotemporal_iou"]["model"] == 1.0
    assert metrics["spatiotemporal_iou"]["copy_last"] < 0.1
    assert metrics["objects_kept"]["model"] == 1.0
    assert len(curves["position"]["linear"]) == 12


def test_two_takes_overlap_less_than_one_take_with_itself(renderer):
    scene = scenes.make("collide", 3, CLIP)
    a = through_codec(renderer.render(scene.spec, scenes.simulate(scene.spec)).rgb)
    nudged = variants.nudged(scene.spec)
    b = through_codec(renderer.render(nudged, scenes.simulate(nudged)).rgb)
    same, two = mask_ious(a, a), mask_ious(b, a)
    assert same["spatial_iou"] == 1.0
    assert 0.0 < two["spatiotemporal_iou"] <= 1.0


def test_probe_frechet_distance_grows_with_the_gap():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 8)), rng.normal(size=(200, 8))
    assert probe_frechet(a, b) < probe_frechet(a, b + 1.0)
    assert probe_frechet(a, a) == pytest.approx(0.0, abs=1e-3)
