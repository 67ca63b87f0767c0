"""The loop's five stages, each filling OUT/<stage>/ from the stages before it (simreel/loop.py
runs them, stamps them and skips the finished ones), and `run_training`, which `simreel train`
shares with the train stage."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import yaml

from simreel.cluster import connect
from simreel.config import SPLITS, LoopConfig
from simreel.errors import UserError
from simreel.progress import Progress

log = logging.getLogger(__name__)


def stage_generate(cfg: LoopConfig, out: Path, here: Path, address: str | None) -> None:
    """The three datasets, then the re-rendered variants of held-out scenes (OUT/generate/variants.npz)."""
    from simreel import job
    from simreel.judge import variants

    with connect(address):  # one Ray for the three datasets
        for split in SPLITS:
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
    """Videos for the first held-out captions, and continuations of held-out clips' first frames."""
    import torch

    from simreel.judge.evaluate import load_clips
    from simreel.trainer import checkpoint, sample
    from simreel.trainer.data import ClipShape, to_tensor

    try:
        model, tcfg, _ = sample.load(out / "train" / checkpoint.CHECKPOINT)
    except (FileNotFoundError, ValueError) as e:
        raise UserError(f"{e}; to train again, delete {out / 'train'} and rerun the loop") from None
    shape = ClipShape(tcfg.frames, tcfg.height, tcfg.width)
    clips = load_clips(str(out / "generate" / "eval"), window(cfg))
    prompts = clips[: cfg.sample["prompts"]]
    continued = continuation_clips(cfg, clips)
    k = cfg.evaluate["context_frames"]
    first = torch.stack([to_tensor(c.video, ClipShape(k, tcfg.height, tcfg.width)) for c in continued])
    s = cfg.sample
    log.info(f"sample: {len(prompts)} prompts")
    generated = sample.sample_videos(model, [c.caption for c in prompts], shape, steps=s["steps"],
                                     guidance=s["guidance"], seed=cfg.seed)
    log.info(f"sample: {len(continued)} continuations of {k} given frames")
    continuations = sample.sample_videos(model, [c.caption for c in continued], shape, steps=s["steps"],
                                         guidance=s["guidance"], seed=cfg.seed + 10_000, first=first)
    np.savez(here / "samples.npz", generated=np.stack(generated), continuations=np.stack(continuations),
             prompt_keys=np.array([c.key for c in prompts]), continued_keys=np.array([c.key for c in continued]))


def continuation_clips(cfg: LoopConfig, clips: list) -> list:
    """Held-out clips to continue: static-camera ones first (motion masks need a still camera)."""
    still = [c for c in clips if c.truth.camera == "static"]
    moving = [c for c in clips if c.truth.camera != "static"]
    return (still + moving)[: cfg.evaluate["continuations"]]


def stage_evaluate(cfg: LoopConfig, out: Path, here: Path) -> None:
    from simreel.judge import probe as probes
    from simreel.judge.evaluate import evaluate, hold_out, load_clips
    from simreel.judge.track import Palette
    from simreel.report import plain
    from simreel.scenes.vocabulary import COLOURS

    w = window(cfg)
    log.info("evaluate: reading clips")
    palette = Palette.from_srgb(COLOURS)
    train_clips = load_clips(str(out / "generate" / "probe"), w, palette)
    clips = load_clips(str(out / "generate" / "eval"), w)
    labelled = [c for c in train_clips if c.labels is not None]
    palette = palette.calibrate([c.video for c in labelled], [c.labels for c in labelled])
    (here / "palette.json").write_text(json.dumps(palette.to_dict(), indent=1))
    p = cfg.probe
    samples = dict(np.load(out / "sample" / "samples.npz"))
    reference, train_clips = hold_out(train_clips)  # real clips nobody trains on: the ceiling's, FD's yardstick
    log.info(f"evaluate: training the probe on {len(train_clips)} clips")
    probe = probes.train_probe(np.stack([c.video for c in train_clips]), [c.truth for c in train_clips], palette,
                               epochs=p["epochs"], batch_size=p["batch_size"], width=p["width"], seed=cfg.seed,
                               log=log.info)
    probes.save(probe, here / "probe.pt")
    variants = dict(np.load(out / "generate" / "variants.npz"))
    log.info("evaluate: judging")
    metrics = evaluate(probe, [c.truth for c in train_clips], reference, clips, samples, variants, palette,
                       context_frames=cfg.evaluate["context_frames"], seed=cfg.seed)
    (here / "metrics.json").write_text(json.dumps(plain(metrics), indent=1, sort_keys=True))


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
    metrics["timings_s"] = timings
    return ReportInputs(cfg.name, metrics, gallery, pairs, continuations, stats, records, configs, timings)


def as_yaml(value) -> str:
    return yaml.safe_dump(json.loads(json.dumps(value)), sort_keys=False)
