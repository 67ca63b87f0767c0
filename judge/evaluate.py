"""The judge: scores generated video against the factory's ground truth.

Everything is measured the same way on real held-out clips, so each figure is read
beside its reference:
- faithfulness: the probe's reading of a video generated for a caption, scored against
  that caption's truth, per attribute the caption states; beside the ceiling (the
  probe on the real clip) and the floor (videos generated for other captions);
- plausibility: `judge.plausibility` statistics of generated and real clips;
- dynamics: `judge.dynamics` errors of continuations against the simulator's, beside
  the copy-last-frame and linear baselines, and Physics-IQ motion-mask IoU scaled by
  two real takes of one scene;
- probe Fréchet distance: between generated and real clips in the probe's feature space
  (FVD's formula in a space learned here, not I3D's: not comparable with published FVD).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg

from simreel.shards.manifest import list_shards
from simreel.shards.reader import iter_samples
from simreel.shards.sample import decode_sample
from simreel.judge import dynamics as dyn
from simreel.judge import plausibility
from simreel.judge.probe import ATTRIBUTES, Probe, agreement, faithful, prior_reading, read
from simreel.judge.track import Palette, colour_labels, track
from simreel.judge.truth import Truth, claimed, clip_truth


READABLE_MARGIN = 0.1  # the probe must beat chance by this much for an attribute's faithfulness to mean anything


@dataclass(frozen=True)
class Window:
    """Which frames of a dataset clip are judged and at what size: the model's clip format
    (`frames` frames taken every `stride`, resized to height x width)."""

    frames: int
    stride: int
    height: int
    width: int

    def indices(self, num_frames: int) -> np.ndarray:
        idx = np.arange(self.frames) * self.stride
        if idx[-1] >= num_frames:
            raise ValueError(f"a clip of {num_frames} frames is too short for {self.frames} frames every {self.stride}")
        return idx

    def apply(self, video: np.ndarray) -> np.ndarray:
        return resize(np.asarray(video)[self.indices(len(video))], self.height, self.width)

    def apply_labels(self, labels: np.ndarray, classes: int) -> np.ndarray:
        """Integer label maps [T, H, W] -> windowed, each pixel the label covering most of it."""
        x = torch.from_numpy(np.asarray(labels)[self.indices(len(labels))]).long()
        if x.shape[1:] == (self.height, self.width):
            return x.numpy()
        onehot = F.one_hot(x, classes).permute(0, 3, 1, 2).float()
        return F.interpolate(onehot, size=(self.height, self.width), mode="area").argmax(1).numpy()


def resize(video: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 [T, H, W, 3] -> [T, height, width, 3], area-averaged (antialiased) when shrinking."""
    if video.shape[1:3] == (height, width):
        return video
    x = torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


@dataclass(frozen=True, eq=False)
class Clip:
    """A held-out factory clip, windowed, with what is true of it."""

    key: str
    video: np.ndarray  # uint8 [frames, height, width, 3]
    truth: Truth
    caption: str  # the prompt: the short caption
    claims: dict  # what the prompt states (`truth.claimed`)
    meta: dict
    labels: np.ndarray | None = None  # [frames, height, width] colour labels (0 scenery, c + 1) if ids were stored


def load_clips(dataset_dir: str, window: Window, palette: Palette | None = None,
               limit: int | None = None) -> list[Clip]:
    """The first `limit` clips of a dataset (shard order), windowed. With a palette, clips
    whose instance ids were stored also get colour labels (for `Palette.calibrate`)."""
    clips = []
    for url in list_shards(dataset_dir):
        for members in iter_samples(url):
            with_ids = palette is not None and "ids.npz" in members
            s = decode_sample(members, arrays=("traj", "ids") if with_ids else ("traj",))
            meta, video = s["meta"], s["video"]
            labels = None
            if with_ids:
                colours = [o["colour"] for o in meta["scene"]["objects"]]
                labels = window.apply_labels(colour_labels(s["ids"]["ids"], colours, palette.names),
                                             len(palette.names) + 1)
            truth = clip_truth(meta, s["traj"]["positions"], window.indices(len(video)))
            clips.append(Clip(members["__key__"], window.apply(video), truth, s["txt"], claimed(meta, truth), meta,
                              labels))
            if limit is not None and len(clips) >= limit:
                return clips
    return clips


def _mean(values: list[float]) -> float:
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def derangement(n: int, seed: int) -> np.ndarray:
    """A permutation with no fixed point: clip i gets the video made for another caption."""
    if n < 2:
        raise ValueError("the shuffled-caption floor needs at least 2 clips")
    return (np.arange(n) + np.random.default_rng(seed).integers(1, n)) % n


def probe_accuracy(probe: Probe, clips: list[Clip], train_truths: list[Truth]) -> dict:
    """The probe on real clips it never saw, every attribute of every clip, beside chance."""
    readings, _ = read(probe, np.stack([c.video for c in clips]))
    prior = prior_reading(train_truths)
    return {
        a: {
            "accuracy": _mean([agreement(r, c.truth)[a] for r, c in zip(readings, clips)]),
            "chance": _mean([agreement(prior, c.truth)[a] for c in clips]),
        }
        for a in ATTRIBUTES
    }


def faithfulness(probe: Probe, clips: list[Clip], generated: np.ndarray, seed: int = 0) -> dict:
    """{attribute: {generated, ceiling, floor, n}}: generated[i] was made for clips[i].caption;
    n counts the prompts that state the attribute."""
    real_read, _ = read(probe, np.stack([c.video for c in clips]))
    gen_read, _ = read(probe, generated)
    perm = derangement(len(clips), seed)
    scored = {name: [faithful(readings[j], c.claims) for j, c in zip(order, clips)]
              for name, readings, order in (("generated", gen_read, range(len(clips))),
                                            ("ceiling", real_read, range(len(clips))), ("floor", gen_read, perm))}
    return {a: {**{name: _mean([s[a] for s in rows if a in s]) for name, rows in scored.items()},
                "n": sum(a in c.claims for c in clips)} for a in ATTRIBUTES}


def plausibility_of(videos, colours, palette: Palette) -> dict[str, float]:
    """Pooled statistics; colours[i]: the colours clip i should hold (its objects or its prompt's)."""
    return plausibility.summarise([plausibility.clip_stats(track(v, palette, c)) for v, c in zip(videos, colours)])


def dynamics(clips: list[Clip], continuations: np.ndarray, k: int, palette: Palette,
             takes: list[tuple[np.ndarray, np.ndarray]] = ()) -> tuple[dict, dict]:
    """Continuations [N, frames, H, W, 3] of each clip's first k frames.

    `takes` pairs two real renders (windowed) of some of the scenes, the second with a
    tiny perturbation. -> (metrics {metric: {model, copy_last, linear[, two_takes]}},
    curves {position|velocity: {method: [per future frame]}}).
    """
    curves = {m: {"model": [], "copy_last": [], "linear": []} for m in ("position", "velocity")}
    kept = {"model": [], "copy_last": [], "linear": []}
    ious = {m: {"model": [], "copy_last": [], "linear": []} for m in ("spatial_iou", "spatiotemporal_iou")}
    for clip, cont in zip(clips, continuations):
        real, expected = clip.video, clip.truth.colours
        ctx = track(real[:k], palette, expected)
        truth_tracks = track(real[k:], palette, expected)
        horizon = len(real) - k
        colours = [ctx.index(c) for c in sorted(expected) if c in ctx.colours and ctx.present[:, ctx.index(c)].any()]
        preds = {"model": track(cont[k:], palette, expected).centroid, **dyn.baseline_positions(ctx, horizon)}
        videos = {"model": cont[k:], "copy_last": np.repeat(real[k - 1 : k], horizon, 0),
                  "linear": dyn.linear_video(real[:k], ctx, horizon)}
        for method in preds:
            if colours:
                err = dyn.position_errors(preds[method], truth_tracks, ctx, colours)
                for m in curves:
                    curves[m][method].append(err[m])
                kept[method].append(err["kept"])
            seen = dyn.mask_ious(np.concatenate([real[k - 1 : k], videos[method]]), real[k - 1 :])
            for m in ious:
                ious[m][method].append(seen[m])
    metrics = {}
    for m, by in curves.items():
        metrics[f"{m}_error"] = {meth: _mean([float(np.nanmean(c)) for c in v if np.isfinite(c).any()])
                                 for meth, v in by.items()}
    metrics["objects_kept"] = {meth: _mean(v) for meth, v in kept.items()}
    mean_curves = {m: {meth: np.nanmean(np.stack(v), 0).tolist() if v else [] for meth, v in by.items()}
                   for m, by in curves.items()}
    for m, by in ious.items():
        metrics[m] = {meth: _mean(v) for meth, v in by.items()}
    if takes:
        pairs = [dyn.mask_ious(b[k - 1 :], a[k - 1 :]) for a, b in takes]
        for m in ious:
            ref = _mean([p[m] for p in pairs])
            metrics[m]["two_takes"] = ref
            metrics[f"{m}_normalised"] = {meth: v / ref if ref > 0 else float("nan")
                                          for meth, v in metrics[m].items() if meth != "two_takes"}
    return metrics, mean_curves


def probe_frechet(a: np.ndarray, b: np.ndarray, basis: np.ndarray | None = None) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets [N, D], measured in
    `basis` ([D, k], e.g. `principal_axes`) when given: a few dozen clips cannot pin down
    a covariance in hundreds of dimensions."""
    if basis is not None:
        a, b = a @ basis, b @ basis
    mu_a, mu_b = a.mean(0), b.mean(0)
    eps = 1e-6 * np.eye(a.shape[1])
    cov_a, cov_b = np.cov(a, rowvar=False) + eps, np.cov(b, rowvar=False) + eps
    root = linalg.sqrtm(cov_a @ cov_b)
    root = root.real if np.iscomplexobj(root) else root
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def principal_axes(features: np.ndarray, k: int) -> np.ndarray:
    """[D, k]: the k directions along which `features` [N, D] vary most (standardised)."""
    centred = (features - features.mean(0)) / (features.std(0) + 1e-6)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return (vt[:k] / (features.std(0) + 1e-6)).T


def evaluate(probe: Probe, train_truths: list[Truth], reference: list[Clip], clips: list[Clip], samples: dict,
             variants: dict, palette: Palette, *, context_frames: int, seed: int = 0) -> dict:
    """Every figure of the report.

    `train_truths`: what the probe trained on (chance is its best constant guess);
    `reference`: real clips neither the probe nor the model saw, as many as there are
    generated videos (the probe Fréchet distance's real-vs-real yardstick); `clips`: the
    held-out real clips the prompts and continuations come from.
    `samples`: generated [N, ...] for clips keyed prompt_keys, continuations [M, ...] of
    clips keyed continued_keys (their first `context_frames` frames given).
    `variants` (all optional): take_a/take_b for takes_keys; gravity_reversed and
    object_removed videos with their *_colours (comma-joined colour names).
    """
    by_key = {c.key: c for c in clips}
    prompted = [by_key[str(k)] for k in samples["prompt_keys"]]
    generated = samples["generated"]
    metrics = {"probe": probe_accuracy(probe, clips, train_truths),
               "faithfulness": faithfulness(probe, prompted, generated, seed)}
    for a, row in metrics["faithfulness"].items():  # a judge no better than chance judges nothing
        p = metrics["probe"][a]
        row["readable"] = bool(p["accuracy"] > p["chance"] + READABLE_MARGIN)

    columns = {"generated": plausibility_of(generated, [c.truth.colours for c in prompted], palette),
               "real": plausibility_of([c.video for c in clips], [c.truth.colours for c in clips], palette)}
    for name in ("gravity_reversed", "object_removed"):
        if len(variants.get(name, ())):
            colours = [str(c).split(",") for c in variants[f"{name}_colours"]]
            columns[name] = plausibility_of(variants[name], colours, palette)
    metrics["plausibility"] = {s: {col: v[s] for col, v in columns.items()} for s in plausibility.STATS}

    continued = [by_key[str(k)] for k in samples["continued_keys"]]
    takes = list(zip(variants.get("take_a", ()), variants.get("take_b", ())))
    metrics["dynamics"], metrics["dynamics_curves"] = dynamics(continued, samples["continuations"], context_frames,
                                                               palette, takes)

    _, real_feats = read(probe, np.stack([c.video for c in prompted]))
    _, gen_feats = read(probe, generated)
    _, other_feats = read(probe, np.stack([c.video for c in reference]))
    k = max(2, min(8, len(generated) // 4))
    basis = principal_axes(real_feats, k)
    metrics["probe_frechet"] = {"generated_vs_real": probe_frechet(gen_feats, real_feats, basis),
                                "real_vs_real": probe_frechet(other_feats, real_feats, basis),
                                "clips": len(generated), "dimensions": k}
    return metrics
