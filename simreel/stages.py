"""The loop's six stages, each filling OUT/<stage>/ from the stages before it (simreel/loop.py
runs them, stamps them and skips the finished ones), and `run_training`, which `simreel train`
shares with the train stage."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from simreel.cluster import connect
from simreel.config import HELDOUT, LoopConfig
from simreel.errors import UserError
from simreel.progress import Progress

log = logging.getLogger(__name__)


def stage_generate(cfg: LoopConfig, out: Path, here: Path, address: str | None) -> None:
    """The three datasets (four with a holdout), then the re-rendered variants of held-out scenes
    (OUT/generate/variants.npz)."""
    from simreel import job
    from simreel.judge import variants

    with connect(address):  # one Ray for the datasets
        for split in cfg.split_names:
            log.info(f"generate: {split} split, {cfg.splits[split]} clips")
            job.generate(cfg.dataset_config(split, str(here / split)), workers=cfg.workers)
    log.info("generate: re-rendering held-out scenes (two takes, implausible variants)")
    variants.write(cfg.dataset_config("eval", str(here / "eval")), here / "variants.npz", window=window(cfg),
                   takes=cfg.evaluate["continuations"], implausible=cfg.evaluate["implausible"])


def window(cfg: LoopConfig):
    """The clip the model sees, as the judge cuts it from the datasets."""
    from simreel.judge.evaluate import Window

    t = cfg.train_config("unused", "unused")
    return Window(frames=t.frames, stride=1, height=t.height, width=t.width)


def stage_train(cfg: LoopConfig, out: Path, here: Path, address: str | None) -> None:
    run_training(cfg.train_config(str(out / "generate" / "train"), str(here)), address)


def run_training(cfg, address: str | None = None) -> dict:
    """Train in this process, or on cfg.ranks Ray Train ranks (joining Ray as generate does), with a progress display."""
    from simreel.trainer.train import train, train_with_ray

    progress = Progress("train", cfg.steps, "step")

    def on_log(step: int, record: dict) -> None:
        progress.update(step, loss=f"{record['loss']:.4f}", clips_per_s=f"{record['clips_per_s']:.1f}")

    if cfg.ranks > 1:
        with connect(address):
            return train_with_ray(cfg, on_log=on_log)  # the display runs in rank 0's process
    summary = train(cfg, on_log=on_log)
    progress.close(summary["step"])
    return summary


def stage_sample(cfg: LoopConfig, out: Path, here: Path) -> None:
    from simreel.trainer.checkpoint import CHECKPOINT

    np.savez(here / "samples.npz", **sample_for_judge(cfg, out, out / "train" / CHECKPOINT))


def sample_for_judge(cfg: LoopConfig, out: Path, path: Path) -> dict:
    """Videos for the first held-out captions, and continuations of held-out clips' first frames,
    from the checkpoint at `path` -> the arrays of samples.npz; with a heldout split, the same for
    its clips (the arrays named heldout_*)."""
    from simreel.judge.evaluate import load_clips
    from simreel.trainer import sample

    try:
        model, tcfg, _ = sample.load(path)
    except (FileNotFoundError, ValueError) as e:
        raise UserError(f"{e}; to train again, delete {path.parent} and rerun the loop") from None
    arrays = _sample_split(cfg, model, tcfg, load_clips(str(out / "generate" / "eval"), window(cfg)), cfg.seed)
    if HELDOUT in cfg.splits:
        log.info(f"sample: the {HELDOUT} split")
        clips = load_clips(str(out / "generate" / HELDOUT), window(cfg))
        arrays |= {f"{HELDOUT}_{k}": v for k, v in _sample_split(cfg, model, tcfg, clips, cfg.seed + 20_000).items()}
    return arrays


def _sample_split(cfg: LoopConfig, model, tcfg, clips: list, seed: int) -> dict:
    """Videos for the first captions of `clips` and continuations of their first frames."""
    import torch

    from simreel.trainer import sample
    from simreel.trainer.data import ClipShape, to_tensor

    shape = ClipShape(tcfg.frames, tcfg.height, tcfg.width)
    prompts = clips[: cfg.sample["prompts"]]
    continued = continuation_clips(cfg, clips)
    k = cfg.evaluate["context_frames"]
    first = torch.stack([to_tensor(c.video, ClipShape(k, tcfg.height, tcfg.width)) for c in continued])
    s = cfg.sample
    log.info(f"sample: {len(prompts)} prompts")
    generated = sample.sample_videos(model, [c.caption for c in prompts], shape, steps=s["steps"],
                                     guidance=s["guidance"], seed=seed)
    log.info(f"sample: {len(continued)} continuations of {k} given frames")
    continuations = sample.sample_videos(model, [c.caption for c in continued], shape, steps=s["steps"],
                                         guidance=s["continuation_guidance"], seed=seed + 10_000, first=first)
    return {"generated": np.stack(generated), "continuations": np.stack(continuations),
            "prompt_keys": np.array([c.key for c in prompts]), "continued_keys": np.array([c.key for c in continued])}


def continuation_clips(cfg: LoopConfig, clips: list) -> list:
    """Held-out clips to continue: static-camera ones first (motion masks need a still camera)."""
    still = [c for c in clips if c.truth.camera == "static"]
    moving = [c for c in clips if c.truth.camera != "static"]
    return (still + moving)[: cfg.evaluate["continuations"]]


def stage_evaluate(cfg: LoopConfig, out: Path, here: Path) -> None:
    from simreel.judge import probe as probes
    from simreel.judge.track import Palette
    from simreel.report import plain
    from simreel.scenes.vocabulary import COLOURS

    log.info("evaluate: reading clips")
    clips = JudgedClips.read(cfg, out, Palette.from_srgb(COLOURS))
    labelled = [c for c in clips.reference + clips.train if c.labels is not None]  # dataset order
    palette = Palette.from_srgb(COLOURS).calibrate([c.video for c in labelled], [c.labels for c in labelled])
    (here / "palette.json").write_text(json.dumps(palette.to_dict(), indent=1))
    p = cfg.probe
    log.info(f"evaluate: training the probe on {len(clips.train)} clips")
    probe = probes.train_probe(np.stack([c.video for c in clips.train]), [c.truth for c in clips.train], palette,
                               epochs=p["epochs"], batch_size=p["batch_size"], width=p["width"], seed=cfg.seed,
                               log=log.info)
    probes.save(probe, here / "probe.pt")
    log.info("evaluate: judging")
    metrics = clips.judge(cfg, probe, dict(np.load(out / "sample" / "samples.npz")))
    (here / "metrics.json").write_text(json.dumps(plain(metrics), indent=1, sort_keys=True))


@dataclass(frozen=True)
class JudgedClips:
    """What the judge reads beside the samples: the probe split (minus a reference part that nobody
    trains on: the ceiling's and FD's yardstick), the held-out eval clips, the re-rendered variants,
    and the heldout split's clips (none without a holdout)."""

    train: list
    reference: list
    eval: list
    variants: dict
    heldout: list

    @classmethod
    def read(cls, cfg: LoopConfig, out: Path, palette=None) -> "JudgedClips":
        """`palette`: label the clips that carry ids (to calibrate a palette with)."""
        from simreel.judge.evaluate import hold_out, load_clips

        reference, train = hold_out(load_clips(str(out / "generate" / "probe"), window(cfg), palette))
        heldout = load_clips(str(out / "generate" / HELDOUT), window(cfg)) if HELDOUT in cfg.splits else []
        return cls(train, reference, load_clips(str(out / "generate" / "eval"), window(cfg)),
                   dict(np.load(out / "generate" / "variants.npz")), heldout)

    def judge(self, cfg: LoopConfig, probe, samples: dict) -> dict:
        from simreel.judge.evaluate import evaluate, generalisation

        k = cfg.evaluate["context_frames"]
        metrics = evaluate(probe, [c.truth for c in self.train], self.reference, self.eval, samples, self.variants,
                           probe.palette, context_frames=k, seed=cfg.seed)
        if self.heldout:
            metrics["generalisation"] = generalisation(probe, self.kinds(cfg, samples), metrics["probe"],
                                                       metrics["headline"]["attributes"], probe.palette,
                                                       context_frames=k, seed=cfg.seed)
        return metrics

    def kinds(self, cfg: LoopConfig, samples: dict) -> dict:
        """Every judged clip sorted by what the holdout makes of it (scenes.holdout.held_out), whichever
        split it came from: the eval and probe splits hold only clips in distribution."""
        from simreel.judge.evaluate import KINDS, Kind
        from simreel.scenes.holdout import held_out

        holdout = cfg.dataset_config(HELDOUT, "unused").holdout
        kind_of = {None: "in_distribution", "combination": "combinatorial", "range": "out_of_range"}
        kind = lambda c: kind_of[getattr(held_out(c.meta, holdout), "kind", None)]  # noqa: E731
        judged = {"prompted": [], "continued": []}  # (clip, video)
        for prefix, clips in (("", self.eval), (f"{HELDOUT}_", self.heldout)):
            by_key = {c.key: c for c in clips}  # keys repeat across splits, not within one
            for part, keys, videos in (("prompted", "prompt_keys", "generated"),
                                       ("continued", "continued_keys", "continuations")):
                judged[part] += [(by_key[str(key)], v) for key, v in zip(samples[prefix + keys], samples[prefix + videos])]
        of = lambda part, name: [(c, v) for c, v in judged[part] if kind(c) == name]  # noqa: E731
        return {name: Kind([c for c, _ in of("prompted", name)], [v for _, v in of("prompted", name)],
                           [c for c in self.eval + self.reference + self.heldout if kind(c) == name],
                           [c for c, _ in of("continued", name)], [v for _, v in of("continued", name)])
                for name in KINDS}


def stage_study(cfg: LoopConfig, out: Path, here: Path, address: str | None) -> None:
    """Scaling curves: a model for each study point (one training field changed; a `steps` point is
    the main run's checkpoint at that step), sampled and judged exactly like the main model."""
    from simreel.judge import probe as probes
    from simreel.report import plain
    from simreel.trainer import checkpoint

    points = cfg.study_points()
    axes = {name: [] for name in cfg.study}
    if points:
        clips = JudgedClips.read(cfg, out)
        probe = probes.load(out / "evaluate" / "probe.pt")
    for name, value in points:
        where = here / f"{name}-{value}"
        if name == "steps":
            path = checkpoint.kept(out / "train", value)
        else:
            log.info(f"study: training with {name}={value}")
            tcfg = cfg.train_config(str(out / "generate" / "train"), str(where / "train"), **{name: value})
            _clear_other_run(where / "train", tcfg)
            run_training(tcfg, address)
            path = where / "train" / checkpoint.CHECKPOINT
        log.info(f"study: sampling and judging {name}={value}")
        samples = sample_for_judge(cfg, out, path)
        np.savez(here / f"{name}-{value}.npz", **samples)
        axes[name].append({"value": value, "main": False, **study_row(clips.judge(cfg, probe, samples))})
    main = study_row(json.loads((out / "evaluate" / "metrics.json").read_text()))
    for name, rows in axes.items():
        rows.append({"value": cfg.main_value(name), "main": True, **main})
        rows.sort(key=lambda r: r["value"])
    (here / "study.json").write_text(json.dumps(plain({"axes": axes}), indent=1, sort_keys=True))


def _clear_other_run(run: Path, tcfg) -> None:
    """A study point's run directory left by an earlier study config is another run: remove it (the study made it)."""
    import shutil

    from simreel.trainer import checkpoint

    path = run / checkpoint.CHECKPOINT
    if path.is_file() and checkpoint.resume_conflicts(checkpoint.load(path)["config"], tcfg):
        log.info(f"study: {run} was trained with another config; training it again")
        shutil.rmtree(run)


def study_row(metrics: dict) -> dict:
    """A judged model in a few figures: caption following (headline and colours: generated, floor,
    gain with intervals) and dynamics (position error of the model, copy-last and linear)."""
    head, colours = metrics["headline"], metrics["faithfulness"]["colours"]
    pos = metrics["dynamics"]["position_error"]
    row = {"following": _pick(head, FOLLOWING), "colours": _pick(colours, FOLLOWING),
           "position_error": _pick(pos, POSITION)}
    if "generalisation" in metrics:  # the same figures per kind of clip
        row["generalisation"] = {kind: {"following": _pick(g["following"], FOLLOWING),
                                        "position_error": _pick(g["dynamics"]["position_error"], POSITION)}
                                 for kind, g in metrics["generalisation"].items()}
    return row


FOLLOWING = ("generated", "floor", "ceiling", "gain", "gain_ci95", "ci95", "n")
POSITION = ("model", "ci95", "copy_last", "copy_last_ci95", "linear", "linear_ci95", "n")


def _pick(row: dict, keys) -> dict:
    return {k: row[k] for k in keys}


def stage_report(cfg: LoopConfig, out: Path, here: Path, timings: dict) -> None:
    from simreel import report

    report.write(here, report_inputs(cfg, out, timings))
    log.info(f"report: {here / 'index.html'}")


def report_inputs(cfg: LoopConfig, out: Path, timings: dict):
    """Gather what the report shows from the other stages' outputs; `timings`: seconds per finished stage."""
    from simreel.judge.evaluate import load_clips
    from simreel.report import ReportInputs, Shown, count
    from simreel.shards import ClipDataset
    from simreel.trainer.train import METRICS

    metrics = json.loads((out / "evaluate" / "metrics.json").read_text())
    train_dir = out / "generate" / "train"
    metas = [s["meta"] for s in ClipDataset(str(train_dir), decode=False)]
    gallery = []
    for s in ClipDataset(str(train_dir)):
        if len(gallery) >= cfg.report["gallery"]:
            break
        gallery.append(Shown((s["video"],), s["txt"], fps=s["meta"]["fps"]))
    objects = [o for m in metas for o in m["scene"]["objects"]]
    stats = {
        "objects per clip": count(len(m["scene"]["objects"]) for m in metas),
        "events per clip": count(len(m["events"]) for m in metas),
        "object colours": count(o["colour"] for o in objects),
        "object shapes": count(o["shape"] for o in objects),
        "camera motion": count(m["scene"]["camera"]["motion"] for m in metas),
        "scene family": count(m["family"] for m in metas),
        "event kinds": count(e["kind"] for m in metas for e in m["events"]),
        "short caption words": count(len(m["captions"]["short"]["en"].split()) for m in metas
                                     if "en" in m["captions"]["short"]),
    }
    samples = dict(np.load(out / "sample" / "samples.npz"))
    clips = {c.key: c for c in load_clips(str(out / "generate" / "eval"), window(cfg))}
    fps = metas[0]["fps"]
    shown = cfg.report["pairs"]
    pairs = [Shown((clips[str(key)].video, v), clips[str(key)].caption, ("real", "generated"), fps)
             for key, v in list(zip(samples["prompt_keys"], samples["generated"]))[:shown]]
    k = cfg.evaluate["context_frames"]
    continuations = [Shown((clips[str(key)].video, v), f"first {k} frames given: {clips[str(key)].caption}",
                           ("simulator", "model"), fps)
                     for key, v in list(zip(samples["continued_keys"], samples["continuations"]))[:shown]]
    log_path = out / "train" / METRICS
    records = [json.loads(line) for line in log_path.read_text().splitlines()] if log_path.exists() else []
    t = cfg.train_config(str(train_dir), str(out / "train"))
    configs = {"loop config": (out / "loop.yaml").read_text(),
               "dataset config (train split)": as_yaml(cfg.dataset_config("train", str(train_dir)).to_dict()),
               "training config": as_yaml(t.to_dict())}
    if HELDOUT in cfg.splits:
        configs[f"dataset config ({HELDOUT} split)"] = as_yaml(
            cfg.dataset_config(HELDOUT, str(out / "generate" / HELDOUT)).to_dict())
    metrics["timings_s"] = timings
    study = json.loads((out / "study" / "study.json").read_text())["axes"]
    return ReportInputs(cfg.name, metrics, gallery, pairs, continuations, stats, records, configs, timings, study)


def as_yaml(value) -> str:
    return yaml.safe_dump(json.loads(json.dumps(value)), sort_keys=False)
