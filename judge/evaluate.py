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
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg

from simreel.shards.manifest import list_shards
from simreel.shards.reader import iter_samples
from simreel.shards.sample import decode_sample
from simreel.judge import dynamics as dyn
from simreel.judge import plausibility, stats
from simreel.judge.probe import ATTRIBUTES, Probe, agreement, faithful, fixed_threads, prior_reading, read
from simreel.judge.track import Palette, colour_labels, track
from simreel.judge.truth import Truth, claimed, clip_truth


READABLE_MARGIN = 0.1  # the probe must beat chance by this much for an attribute's faithfulness to mean anything
DYNAMICS_FIGURES = ("model", "copy_last", "linear", "two_takes")


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


def hold_out(clips: list[Clip], every: int = 5) -> tuple[list[Clip], list[Clip]]:
    """-> (held out, the probe's training clips): one clip in `every` is kept from the probe
    so that its accuracy and the faithfulness ceiling rest on many real clips it never saw."""
    held = len(clips) // every
    return clips[:held], clips[held:]


def _mean(values: list[float]) -> float:
    return stats.nanmean(values)


def _accuracy_row(acc: list[float], chance: list[float], seed: int) -> dict:
    """Probe accuracy beside chance on the same clips; readable when it beats chance by
    READABLE_MARGIN and the paired interval of (accuracy - chance) is above zero."""
    pairs = [(a, c) for a, c in zip(acc, chance) if np.isfinite(a) and np.isfinite(c)]
    margin = lambda items: stats.nanmean([a - c for a, c in items])  # noqa: E731
    row = {"accuracy": stats.nanmean([a for a, _ in pairs]), "chance": stats.nanmean([c for _, c in pairs]),
           "n": len(pairs), "ci95": stats.interval([a for a, _ in pairs], seed=seed),
           "chance_ci95": stats.interval([c for _, c in pairs], seed=seed),
           "margin_ci95": stats.interval(pairs, margin, seed=seed)}
    row["readable"] = bool(row["accuracy"] > row["chance"] + READABLE_MARGIN and row["margin_ci95"] is not None
                           and row["margin_ci95"][0] > 0)
    return row


def probe_accuracy(probe: Probe, clips: list[Clip], train_truths: list[Truth], seed: int = 0) -> dict:
    """The probe on real clips it never saw, every attribute of every clip, beside chance
    (its best constant guess), each with n and a 95% interval."""
    readings, _ = read(probe, np.stack([c.video for c in clips]))
    prior = prior_reading(train_truths)
    acc = [agreement(r, c.truth) for r, c in zip(readings, clips)]
    chance = [agreement(prior, c.truth) for c in clips]
    return {a: _accuracy_row([x[a] for x in acc], [x[a] for x in chance], seed) for a in ATTRIBUTES}


@dataclass(frozen=True)
class Scores:
    """Per-clip faithfulness, {attribute: score} for the attributes each caption states.
    generated[i]: video i against prompt i; floor[i]: the other prompts' videos against
    prompt i, averaged; ceiling[k]: unseen real clip k against its own caption."""

    generated: list[dict]
    floor: list[dict]
    ceiling: list[dict]


def faithfulness_scores(probe: Probe, prompted: list[Clip], generated: np.ndarray, unseen: list[Clip]) -> Scores:
    """generated[i] was made for prompted[i].caption; `unseen`: real clips the probe never
    saw (the ceiling rests on all of them, not on the few prompts). The floor pairs every
    prompt with every other prompt's video (n(n-1) pairings, not one shuffle)."""
    if len(prompted) < 2:
        raise ValueError("the other-captions floor needs at least 2 prompts")
    gen_read, _ = read(probe, generated)
    real_read, _ = read(probe, np.stack([c.video for c in unseen]))
    own = [faithful(r, c.claims) for r, c in zip(gen_read, prompted)]
    floor = []
    for i, c in enumerate(prompted):
        others = [faithful(r, c.claims) for j, r in enumerate(gen_read) if j != i]
        floor.append({a: stats.nanmean([o[a] for o in others]) for a in own[i]})
    return Scores(own, floor, [faithful(r, c.claims) for r, c in zip(real_read, unseen)])


def _over(attributes) -> Callable[[list[dict]], float]:
    """Statistic over per-clip score dicts: the mean over `attributes` of each one's mean
    over the clips that state it."""
    return lambda items: stats.nanmean([stats.nanmean([d[a] for d in items if a in d]) for a in attributes])


def faithfulness_row(scores: Scores, attributes, seed: int) -> dict:
    """{generated, ci95, floor, floor_ci95, gain, gain_ci95, ceiling, ceiling_ci95, n,
    ceiling_n} for one attribute (or the mean over several). gain = generated - floor,
    paired per prompt: how much a video follows its own caption rather than any."""
    attributes = tuple(attributes)
    stat = _over(attributes)
    prompts = [(g, f) for g, f in zip(scores.generated, scores.floor) if any(a in g for a in attributes)]
    real = [c for c in scores.ceiling if any(a in c for a in attributes)]
    gen, floor = [g for g, _ in prompts], [f for _, f in prompts]
    gain = lambda items: stat([g for g, _ in items]) - stat([f for _, f in items])  # noqa: E731
    return {"generated": stat(gen), "ci95": stats.interval(gen, stat, seed=seed),
            "floor": stat(floor), "floor_ci95": stats.interval(floor, stat, seed=seed),
            "gain": gain(prompts), "gain_ci95": stats.interval(prompts, gain, seed=seed),
            "ceiling": stat(real), "ceiling_ci95": stats.interval(real, stat, seed=seed),
            "n": len(prompts), "ceiling_n": len(real)}


FAITH_FIGURES = ("generated", "floor", "gain", "ceiling")


def faithfulness(scores: Scores, probe_rows: dict, seed: int = 0,
                 min_clips: int = stats.MIN_CLIPS) -> tuple[dict, dict]:
    """-> ({attribute: row}, headline). A row is decided only when enough prompts and real
    clips state the attribute and the probe reads it (else its figures are None and
    `reason` says why); the headline is the mean over the decided attributes alone."""
    rows = {}
    for a in ATTRIBUTES:
        row = {**faithfulness_row(scores, [a], seed), "readable": probe_rows[a]["readable"]}
        reason = (stats.undecided(row["n"], min_clips) or stats.undecided(row["ceiling_n"], min_clips)
                  or (None if row["readable"] else "the probe does not read it better than chance"))
        rows[a] = stats.withhold(row, reason, FAITH_FIGURES)
    decided = [a for a in ATTRIBUTES if rows[a]["decided"]]
    overall = faithfulness_row(scores, decided, seed)
    return rows, stats.withhold({**overall, "attributes": decided}, None if decided else "no attribute decided",
                                FAITH_FIGURES)


def plausibility_of(videos, colours, palette: Palette) -> list[dict]:
    """Per-clip statistics (`plausibility.clip_stats`); colours[i]: the colours clip i should
    hold (its objects or its prompt's)."""
    return [plausibility.clip_stats(track(v, palette, c)) for v, c in zip(videos, colours)]


def plausibility_rows(columns: dict[str, list[dict]], seed: int, min_clips: int = stats.MIN_CLIPS) -> dict:
    """{stat: {column: pooled value, column_ci95: interval over clips, column_n}}, the first
    column's interval as ci95 and its clip count as n. A row is decided when the first two
    columns (generated and real) rest on min_clips clips each; the other columns are clips
    made implausible on purpose, there to show that the statistic can tell."""
    names = list(columns)
    rows = {}
    for s in plausibility.STATS:
        stat = lambda items, s=s: plausibility.summarise(items)[s]  # noqa: E731
        row = {}
        for i, name in enumerate(names):
            ci = stats.interval(columns[name], stat, seed=seed)
            row |= {name: stat(columns[name]), "ci95" if i == 0 else f"{name}_ci95": ci,
                    "n" if i == 0 else f"{name}_n": len(columns[name])}
        reason = next(filter(None, (stats.undecided(len(columns[n]), min_clips) for n in names[:2])), None)
        rows[s] = stats.withhold(row, reason, names)
    return rows


def dynamics(clips: list[Clip], continuations: np.ndarray, k: int, palette: Palette,
             takes: list[tuple[np.ndarray, np.ndarray]] = (), seed: int = 0) -> tuple[dict, dict]:
    """Continuations [N, frames, H, W, 3] of each clip's first k frames.

    `takes` pairs two real renders (windowed) of some of the scenes, the second with a
    tiny perturbation. -> (metrics {metric: {model, copy_last, linear[, two_takes]}, each
    with the clips measured (n) and 95% intervals (ci95 for the model, METHOD_ci95)},
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
    per_clip = {f"{m}_error": {meth: [float(np.nanmean(c)) for c in v if np.isfinite(c).any()]
                               for meth, v in by.items()} for m, by in curves.items()}
    per_clip["objects_kept"] = kept
    per_clip |= ious
    metrics = {name: _row(by, seed) for name, by in per_clip.items()}
    mean_curves = {m: {meth: np.nanmean(np.stack(v), 0).tolist() if v else [] for meth, v in by.items()}
                   for m, by in curves.items()}
    if takes:
        pairs = [dyn.mask_ious(b[k - 1 :], a[k - 1 :]) for a, b in takes]
        for m in ious:
            ref = _mean([p[m] for p in pairs])
            metrics[m]["two_takes"] = ref
            metrics[m]["two_takes_n"] = len(pairs)
            scaled = {meth: [v / ref if ref > 0 else float("nan") for v in vals] for meth, vals in ious[m].items()}
            metrics[f"{m}_normalised"] = _row(scaled, seed)
    return metrics, mean_curves


def _row(by_method: dict[str, list[float]], seed: int) -> dict:
    """{method: mean over clips, ...} with the first method's n and ci95 and the others'
    method_ci95 (a normalised row divides each clip's figure by the two-takes mean)."""
    row = {}
    for i, (meth, values) in enumerate(by_method.items()):
        values = [v for v in values if np.isfinite(v)]
        row |= {meth: _mean(values), "ci95" if i == 0 else f"{meth}_ci95": stats.interval(values, seed=seed)}
        if i == 0:
            row["n"] = len(values)
    return row


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
    `reference`: real clips neither the probe nor the model saw (the probe Fréchet
    distance's real-vs-real yardstick); `clips`: the held-out real clips the prompts and
    continuations come from. Probe accuracy and the faithfulness ceiling rest on both.
    Every row carries n and 95% bootstrap intervals (seeded by `seed`); a row on too few
    clips is undecided (`stats.withhold`), and the headline averages decided rows only.
    `samples`: generated [N, ...] for clips keyed prompt_keys, continuations [M, ...] of
    clips keyed continued_keys (their first `context_frames` frames given).
    `variants` (all optional): take_a/take_b for takes_keys; gravity_reversed and
    object_removed videos with their *_colours (comma-joined colour names).
    """
    by_key = {c.key: c for c in clips}
    prompted = [by_key[str(k)] for k in samples["prompt_keys"]]
    generated = samples["generated"]
    unseen = clips + reference  # two datasets: keys may repeat, clips do not
    with fixed_threads():
        metrics = {"probe": probe_accuracy(probe, unseen, train_truths, seed)}
        scores = faithfulness_scores(probe, prompted, generated, unseen)
    metrics["faithfulness"], metrics["headline"] = faithfulness(scores, metrics["probe"], seed)

    columns = {"generated": plausibility_of(generated, [c.truth.colours for c in prompted], palette),
               "real": plausibility_of([c.video for c in clips], [c.truth.colours for c in clips], palette)}
    for name in ("gravity_reversed", "object_removed"):
        if len(variants.get(name, ())):
            colours = [str(c).split(",") for c in variants[f"{name}_colours"]]
            columns[name] = plausibility_of(variants[name], colours, palette)
    metrics["plausibility"] = plausibility_rows(columns, seed)

    continued = [by_key[str(k)] for k in samples["continued_keys"]]
    takes = list(zip(variants.get("take_a", ()), variants.get("take_b", ())))
    rows, metrics["dynamics_curves"] = dynamics(continued, samples["continuations"], context_frames, palette, takes,
                                                seed)
    metrics["dynamics"] = {name: stats.withhold(row, stats.undecided(row["n"]), DYNAMICS_FIGURES)
                           for name, row in rows.items()}

    with fixed_threads():
        _, real_feats = read(probe, np.stack([c.video for c in prompted]))
        _, gen_feats = read(probe, generated)
        _, other_feats = read(probe, np.stack([c.video for c in reference[: len(generated)]]))  # equal sizes
    k = max(2, min(8, len(generated) // 4))
    basis = principal_axes(real_feats, k)
    metrics["probe_frechet"] = {"generated_vs_real": probe_frechet(gen_feats, real_feats, basis),
                                "real_vs_real": probe_frechet(other_feats, real_feats, basis),
                                "clips": len(generated), "dimensions": k}
    return metrics


KINDS = ("in_distribution", "combinatorial", "out_of_range")  # the generalisation study's kinds of clip


@dataclass(frozen=True, eq=False)
class Kind:
    """One kind of clip, judged on its own: prompts with the videos generated for them, real clips of
    the kind that neither the model nor the probe saw (the ceiling), continued clips with their
    continuations."""

    prompted: list[Clip]
    generated: list[np.ndarray]
    unseen: list[Clip]
    continued: list[Clip]
    continuations: list[np.ndarray]


def generalisation(probe: Probe, kinds: dict[str, Kind], probe_rows: dict, attributes, palette: Palette, *,
                   context_frames: int, seed: int = 0) -> dict:
    """Faithfulness and dynamics per kind of clip (Kang et al. 2024's in-distribution, combinatorial
    and out-of-range), each resting on that kind's clips alone, with n and 95% intervals.
    `attributes`: the main headline's, so that every kind's `following` row averages the same ones;
    `probe_rows`: which attributes the probe reads (on clips in distribution).
    -> {kind: {following, faithfulness: {attribute: row}, dynamics: {metric: row}}}."""
    attributes = tuple(attributes)
    out = {}
    for name, k in kinds.items():
        with fixed_threads():
            enough = len(k.prompted) >= 2 and len(k.unseen) > 0  # the floor needs two prompts
            scores = (faithfulness_scores(probe, k.prompted, np.stack(k.generated), k.unseen) if enough
                      else Scores([], [], []))
        rows, _ = faithfulness(scores, probe_rows, seed)
        row = {**faithfulness_row(scores, attributes, seed), "attributes": list(attributes)}
        reason = ("no attribute decided" if not attributes else
                  stats.undecided(row["n"]) or stats.undecided(row["ceiling_n"]))
        conts = np.stack(k.continuations) if k.continuations else np.zeros((0,))
        dyn_rows, _ = dynamics(k.continued, conts, context_frames, palette, seed=seed)
        out[name] = {"following": stats.withhold(row, reason, FAITH_FIGURES), "faithfulness": rows,
                     "dynamics": {m: stats.withhold(r, stats.undecided(r["n"]), DYNAMICS_FIGURES)
                                  for m, r in dyn_rows.items()}}
    return out
