"""The judge on real rendered clips: the tracker against the renderer's instance ids, the
plausibility statistics against clips made implausible on purpose, the dynamics metrics
against known continuations, and the probe Fréchet distance's basic sense; then how sure
the judge is: intervals, undecided rows, and a probe that trains alike on any thread count."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from simreel import render
from simreel import scenes
from simreel.scenes.vocabulary import COLOURS
from simreel.shards import decode_video, encode_video
from simreel.judge import variants
from simreel.judge import plausibility, probe, stats
from simreel.judge.dynamics import mask_ious
from simreel.judge.evaluate import Scores, Window, dynamics, faithfulness, probe_frechet
from simreel.judge.probe import ATTRIBUTES
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
    assert metrics["spatiotemporal_iou"]["n"] == len(clips) and metrics["spatiotemporal_iou"]["ci95"] == [1.0, 1.0]
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


# ---------------------------------------------------------------- how sure the judge is


def test_bootstrap_interval_is_seeded_and_covers_the_mean():
    values = np.random.default_rng(1).normal(0.5, 0.2, size=40)
    ci = stats.interval(values, seed=0)
    assert ci == stats.interval(values, seed=0)  # the same clips give the same interval anywhere
    assert ci[0] < values.mean() < ci[1]
    wider = stats.interval(values[:10], seed=0)  # fewer clips, less certainty
    assert wider[1] - wider[0] > ci[1] - ci[0]
    assert stats.interval(values[:1], seed=0) is None


def test_a_row_on_too_few_clips_is_undecided_and_scores_nothing():
    row = {"generated": 0.0, "ci95": [0.0, 0.0], "floor": 1.0, "floor_ci95": [1.0, 1.0], "n": 3}
    kept = stats.withhold(row, stats.undecided(row["n"]), ("generated", "floor"))
    assert kept["decided"] is False and kept["reason"] == f"n=3 < {stats.MIN_CLIPS}"
    assert kept["generated"] is None and kept["floor"] is None and kept["ci95"] is None and kept["n"] == 3
    assert stats.withhold(row, stats.undecided(stats.MIN_CLIPS), ("generated",))["decided"] is True


def scores(agree: float, n: int, seed: int = 0) -> Scores:
    """Per-clip faithfulness where each video matches its own caption's colours with
    probability `agree` and any other caption's with probability 0.2; count is stated by 3."""
    rng = np.random.default_rng(seed)
    own = [{"colours": float(rng.random() < agree), **({"count": 1.0} if i < 3 else {})} for i in range(n)]
    floor = [{"colours": 0.2, **({"count": 0.0} if i < 3 else {})} for i in range(n)]
    real = [{"colours": float(rng.random() < 0.9), **({"count": 1.0} if i < 3 else {})} for i in range(3 * n)]
    return Scores(own, floor, real)


def test_faithfulness_decides_on_enough_clips_and_the_headline_skips_the_rest():
    readable = {a: {"readable": True} for a in ATTRIBUTES}
    rows, head = faithfulness(scores(0.8, 24), readable, seed=0)
    assert rows["colours"]["decided"] and rows["colours"]["n"] == 24 and rows["colours"]["ceiling_n"] == 72
    assert rows["count"]["decided"] is False and rows["count"]["generated"] is None  # 3 prompts state it
    assert rows["shapes"]["decided"] is False and rows["shapes"]["n"] == 0
    assert head["attributes"] == ["colours"] and head["generated"] == rows["colours"]["generated"]
    lo, hi = rows["colours"]["gain_ci95"]
    assert 0 < lo <= rows["colours"]["gain"] <= hi  # follows its captions, beyond doubt
    width = lambda ci: ci[1] - ci[0]  # noqa: E731
    assert width(rows["colours"]["ceiling_ci95"]) < width(rows["colours"]["ci95"])  # 72 real clips, 24 prompts
    rows, head = faithfulness(scores(0.2, 24), readable, seed=0)  # no better than other captions' videos
    assert rows["colours"]["gain_ci95"][0] < 0 < rows["colours"]["gain_ci95"][1]
    unread = {**readable, "colours": {"readable": False}}
    rows, head = faithfulness(scores(0.8, 24), unread, seed=0)
    assert not rows["colours"]["decided"] and not head["decided"] and head["generated"] is None


def test_the_probe_trains_to_the_same_bits_whatever_the_callers_thread_count():
    """torch reductions split by thread count; the judge fixes its own and restores the caller's."""
    rng = np.random.default_rng(0)
    names = sorted(COLOURS)
    videos = rng.integers(0, 256, size=(8, 4, 16, 16, 3), dtype=np.uint8)
    truths = [Truth(frozenset({names[i % 3]}), frozenset({("cube", "sphere")[i % 2]}), 1 + i % 2, bool(i % 2),
                    "static", ((names[i % 3], "falls"),)) for i in range(len(videos))]
    palette = Palette.from_srgb(COLOURS)
    before = torch.get_num_threads()
    weights = []
    try:
        for threads in (1, 3):
            torch.set_num_threads(threads)
            p = probe.train_probe(videos, truths, palette, epochs=2, batch_size=4, width=8, seed=0)
            assert torch.get_num_threads() == threads
            weights.append(torch.cat([v.flatten().float() for v in p.state_dict().values()]))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(*weights)
