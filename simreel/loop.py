"""`simreel loop`: generate -> train -> sample -> evaluate -> report, resumable stage by stage.

Each stage writes its outputs into OUT/<stage>/ and, last, OUT/<stage>/stage.json: the
hash of what it was made from (its config section and the stamps of the stages before
it), the size of each output file and the seconds it took. A stage whose stamp matches
and whose files are all there at those sizes is skipped, so a loop stopped anywhere
resumes at the first stage without a valid stamp; changing a stage's config redoes it
and everything after it. Inside a stage, generate and train resume on their own
(finished shards stay, training continues from its checkpoint).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

STAGES = ("generate", "train", "sample", "evaluate", "report")
SPLITS = ("train", "probe", "eval")  # model training clips; the probe's training clips; held-out clips
DEFAULTS = {  # the judge's and the report's sections, with every key they take
    "probe": {"epochs": 30, "width": 32, "batch_size": 16},
    "sample": {"steps": 30, "guidance": 4.0, "prompts": 16},  # prompts: held-out captions generated for
    "evaluate": {"context_frames": 4, "continuations": 8, "implausible": 4},  # clips continued (and re-rendered
    # as two takes); clips made implausible on purpose, per kind
    "report": {"gallery": 12, "pairs": 8},  # dataset clips shown; generated/real pairs shown
}


class LoopError(ValueError):
    """A loop config or output directory the loop cannot use; the message says what to change."""


@dataclass(frozen=True)
class LoopConfig:
    """The whole loop in one YAML file. `dataset` and `train` are a dataset config and a
    training config as `simreel generate` and `simreel train` take them; the loop sets
    their sizes, seeds and paths."""

    name: str
    seed: int
    dataset: dict
    splits: dict  # split -> number of clips
    train: dict
    probe: dict  # DEFAULTS lists the keys of these four
    sample: dict
    evaluate: dict
    report: dict
    workers: int | None = None  # Ray workers for generate (None: one per core)

    @staticmethod
    def load(path: str | Path, overrides: list[str] = ()) -> "LoopConfig":
        from simreel.config import apply_override

        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            raise LoopError(f"loop config {path} does not exist") from None
        except yaml.YAMLError as e:
            raise LoopError(f"loop config {path} is not valid YAML: {e}") from None
        for item in overrides:
            try:
                apply_override(raw, item)
            except ValueError as e:
                raise LoopError(str(e)) from None
        return LoopConfig.from_dict(raw, str(path))

    @staticmethod
    def from_dict(raw: dict, where: str = "loop config") -> "LoopConfig":
        fields = {f.name for f in dataclasses.fields(LoopConfig)}
        if not isinstance(raw, dict):
            raise LoopError(f"{where}: expected a mapping of sections {sorted(fields)}")
        unknown = sorted(set(raw) - fields)
        if unknown:
            raise LoopError(f"{where}: unknown section(s) {unknown}; known: {sorted(fields)}")
        missing = sorted(k for k in ("dataset", "splits", "train") if k not in raw)
        if missing:
            raise LoopError(f"{where}: missing section(s) {missing}")
        splits = raw["splits"]
        if not isinstance(splits, dict) or set(splits) != set(SPLITS) or not all(
            isinstance(n, int) and n >= 2 for n in splits.values()
        ):
            raise LoopError(f"{where}: splits must give clips (>= 2) for each of {list(SPLITS)}, got {splits!r}")
        sections = {}
        for name, defaults in DEFAULTS.items():
            given = raw.get(name) or {}
            unknown = sorted(set(given) - set(defaults)) if isinstance(given, dict) else [given]
            if unknown:
                raise LoopError(f"{where}: {name}: unknown key(s) {unknown}; known: {sorted(defaults)}")
            sections[name] = {**defaults, **given}
        cfg = LoopConfig(name=str(raw.get("name", "simreel loop")), seed=int(raw.get("seed", 0)),
                         dataset=dict(raw["dataset"]), splits=dict(splits), train=dict(raw["train"]),
                         workers=raw.get("workers"), **sections)
        cfg.check(where)
        return cfg

    def check(self, where: str) -> None:
        """Validate the embedded configs now, not after the first stage has run for minutes."""
        from simreel.config import ConfigError as DataConfigError
        from simreel.trainer.config import ConfigError as TrainConfigError

        try:
            d = self.dataset_config("train", "unused")
        except DataConfigError as e:
            raise LoopError(f"{where}: dataset: {e}") from None
        try:
            t = self.train_config("unused", "unused")
        except TrainConfigError as e:
            raise LoopError(f"{where}: train: {e}") from None
        shortest = min(d.fps) * d.duration_s.bounds()[0]
        if shortest < t.frames:
            raise LoopError(f"{where}: the shortest clip has {shortest:g} frames but train.frames={t.frames}: "
                            "make dataset clips longer or the model's clips shorter")
        if self.sample["prompts"] > self.splits["eval"] or self.evaluate["continuations"] > self.splits["eval"]:
            raise LoopError(f"{where}: sample.prompts and evaluate.continuations must not exceed splits.eval")
        if self.sample["prompts"] < 2:
            raise LoopError(f"{where}: sample.prompts must be at least 2 (the shuffled-caption floor needs two)")
        k, pt = self.evaluate["context_frames"], t.patch[0]
        if not (0 < k < t.frames and k % pt == 0):
            raise LoopError(f"{where}: evaluate.context_frames={k} must be a multiple of the temporal patch {pt} "
                            f"below train.frames={t.frames}")

    def dataset_config(self, split: str, out: str):
        from simreel.config import MODALITIES, from_dict

        raw = {**self.dataset, "name": f"{self.name} ({split})", "num_samples": self.splits[split],
               "seed": self.seed * 1000 + SPLITS.index(split), "out": out}
        if split == "probe":  # instance ids calibrate the tracker's colours
            raw["modalities"] = [m for m in MODALITIES if m in {"rgb", "ids", *raw.get("modalities", ["rgb"])}]
        return from_dict(raw)

    def train_config(self, data: str, out: str):
        from simreel.trainer.config import TrainConfig

        return TrainConfig.from_dict({"seed": self.seed, **self.train, "data": data, "out": out})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _yaml(value) -> str:
    return yaml.safe_dump(json.loads(json.dumps(value)), sort_keys=False)


def _hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def say(message: str) -> None:
    print(f"[loop] {message}", file=sys.stderr, flush=True)


class Stamps:
    """Reads and writes OUT/<stage>/stage.json; a stage is valid when its stamp matches."""

    def __init__(self, out: Path):
        self.out = out

    def path(self, stage: str) -> Path:
        return self.out / stage / "stage.json"

    def read(self, stage: str) -> dict | None:
        try:
            return json.loads(self.path(stage).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def valid(self, stage: str, inputs: str) -> bool:
        stamp = self.read(stage)
        if stamp is None or stamp.get("inputs") != inputs:
            return False
        root = self.out / stage
        return all((root / rel).is_file() and (root / rel).stat().st_size == size
                   for rel, size in stamp["outputs"].items())

    def write(self, stage: str, inputs: str, seconds: float) -> dict:
        root = self.out / stage
        outputs = {str(p.relative_to(root)): p.stat().st_size for p in sorted(root.rglob("*"))
                   if p.is_file() and p.name != "stage.json" and "/ray/" not in f"/{p.relative_to(root)}"}
        stamp = {"stage": stage, "inputs": inputs, "outputs": outputs, "seconds": round(seconds, 2),
                 "finished": time.time()}  # a redone stage invalidates those after it, even with equal outputs
        tmp = self.path(stage).with_suffix(".tmp")
        tmp.write_text(json.dumps(stamp, indent=1, sort_keys=True))
        tmp.replace(self.path(stage))
        return stamp


def run(cfg: LoopConfig, out: str | Path, *, until: str | None = None, redo: tuple[str, ...] = (),
        address: str | None = None) -> dict:
    """Run the loop into `out`, skipping valid stages (except those in `redo`); stop after
    `until`. -> {stage: stamp}."""
    if until is not None and until not in STAGES:
        raise LoopError(f"--until {until!r}: choose one of {list(STAGES)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "loop.yaml").write_text(_yaml(cfg.to_dict()))
    stamps = Stamps(out)
    sections = {"generate": [cfg.dataset, cfg.splits, cfg.evaluate, cfg.seed], "train": [cfg.train, cfg.seed],
                "sample": [cfg.sample, cfg.evaluate, cfg.seed], "evaluate": [cfg.probe, cfg.evaluate, cfg.seed],
                "report": [cfg.report, cfg.name]}
    work = {"generate": lambda d: stage_generate(cfg, out, d, address), "train": lambda d: stage_train(cfg, out, d),
            "sample": lambda d: stage_sample(cfg, out, d), "evaluate": lambda d: stage_evaluate(cfg, out, d),
            "report": lambda d: stage_report(cfg, out, d)}
    done, upstream = {}, ""
    for stage in STAGES:
        inputs = _hash([sections[stage], upstream])
        if stage not in redo and stamps.valid(stage, inputs):
            say(f"{stage}: up to date, skipped")
        else:
            say(f"{stage}: running")
            (out / stage).mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            work[stage](out / stage)
            stamps.write(stage, inputs, time.perf_counter() - start)
            say(f"{stage}: done in {stamps.read(stage)['seconds']:.0f} s")
        done[stage] = stamps.read(stage)
        upstream = _hash(done[stage])
        if stage == until:
            say(f"stopped after {stage} (--until); run again without it to go on")
            break
    return done


# ---------------------------------------------------------------- stages


def stage_generate(cfg: LoopConfig, out: Path, here: Path, address: str | None) -> None:
    """The three datasets, then the re-rendered variants of held-out scenes (OUT/generate/variants.npz)."""
    import ray

    from simreel.judge import variants
    from simreel import job

    # One Ray for the three datasets. Without an address, a fresh local one: plain ray.init()
    # would join any cluster another process on this machine happens to have started.
    address = address or os.environ.get("RAY_ADDRESS")
    started = not ray.is_initialized()
    if started:
        ray.init(address=address or "local", include_dashboard=False)
    try:
        for split in SPLITS:
            say(f"generate: {split} split, {cfg.splits[split]} clips")
            job.generate(cfg.dataset_config(split, str(here / split)), workers=cfg.workers)
    finally:
        if started:
            ray.shutdown()
    say("generate: re-rendering held-out scenes (two takes, implausible variants)")
    variants.write(cfg.dataset_config("eval", str(here / "eval")), here / "variants.npz", window=window(cfg),
                   takes=cfg.evaluate["continuations"], implausible=cfg.evaluate["implausible"])


def window(cfg: LoopConfig):
    from simreel.judge.evaluate import Window

    t = cfg.train_config("unused", "unused")
    return Window(frames=t.frames, stride=1, height=t.height, width=t.width)


def stage_train(cfg: LoopConfig, out: Path, here: Path) -> None:
    from simreel.trainer.train import train, train_with_ray

    t = cfg.train_config(str(out / "generate" / "train"), str(here))
    train_with_ray(t) if t.workers > 1 else train(t)


def stage_sample(cfg: LoopConfig, out: Path, here: Path) -> None:
    """Videos for the first held-out captions, and continuations of held-out clips' first frames."""
    import torch

    from simreel.trainer import checkpoint, flow
    from simreel.judge.evaluate import load_clips

    model, tcfg, _ = checkpoint.load_for_sampling(out / "train" / checkpoint.CHECKPOINT)
    if torch.cuda.is_available():
        model = model.cuda()
    clips = load_clips(str(out / "generate" / "eval"), window(cfg))
    prompts = clips[: cfg.sample["prompts"]]
    continued = continuation_clips(cfg, clips)
    k = cfg.evaluate["context_frames"]
    to_model = lambda v: torch.from_numpy(np.stack(v)).permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0  # noqa: E731
    to_uint8 = lambda x: ((x.permute(0, 2, 3, 4, 1) + 1) * 127.5).round().clamp(0, 255).byte().cpu().numpy()  # noqa
    s = cfg.sample
    generated, continuations = [], []
    for i in range(0, len(prompts), 8):
        batch = prompts[i : i + 8]
        say(f"sample: prompts {i + 1}-{i + len(batch)} of {len(prompts)}")
        generated.append(to_uint8(flow.sample(model, [c.caption for c in batch], tcfg.frames, tcfg.height, tcfg.width,
                                              steps=s["steps"], guidance=s["guidance"], seed=cfg.seed + i)))
    for i in range(0, len(continued), 8):
        batch = continued[i : i + 8]
        say(f"sample: continuations {i + 1}-{i + len(batch)} of {len(continued)}")
        first = to_model([c.video[:k] for c in batch])
        continuations.append(to_uint8(flow.sample(model, [c.caption for c in batch], tcfg.frames, tcfg.height,
                                                  tcfg.width, steps=s["steps"], guidance=s["guidance"],
                                                  seed=cfg.seed + 10_000 + i, first=first)))
    np.savez(here / "samples.npz", generated=np.concatenate(generated), continuations=np.concatenate(continuations),
             prompt_keys=np.array([c.key for c in prompts]), continued_keys=np.array([c.key for c in continued]))


def continuation_clips(cfg: LoopConfig, clips: list) -> list:
    """Held-out clips to continue: static-camera ones first (motion masks need a still camera)."""
    still = [c for c in clips if c.truth.camera == "static"]
    moving = [c for c in clips if c.truth.camera != "static"]
    return (still + moving)[: cfg.evaluate["continuations"]]


def stage_evaluate(cfg: LoopConfig, out: Path, here: Path) -> None:
    from simreel.scenes.vocabulary import COLOURS
    from simreel.judge import probe as probes
    from simreel.judge.evaluate import evaluate, hold_out, load_clips
    from simreel.judge.track import Palette

    w = window(cfg)
    say("evaluate: reading clips")
    palette = Palette.from_srgb(COLOURS)
    train_clips = load_clips(str(out / "generate" / "probe"), w, palette)
    clips = load_clips(str(out / "generate" / "eval"), w)
    labelled = [c for c in train_clips if c.labels is not None]
    palette = palette.calibrate([c.video for c in labelled], [c.labels for c in labelled])
    (here / "palette.json").write_text(json.dumps(palette.to_dict(), indent=1))
    p = cfg.probe
    samples = dict(np.load(out / "sample" / "samples.npz"))
    reference, train_clips = hold_out(train_clips)  # real clips nobody trains on: the ceiling's, FD's yardstick
    say(f"evaluate: training the probe on {len(train_clips)} clips")
    probe = probes.train_probe(np.stack([c.video for c in train_clips]), [c.truth for c in train_clips], palette,
                               epochs=p["epochs"], batch_size=p["batch_size"], width=p["width"], seed=cfg.seed,
                               log=say)
    probes.save(probe, here / "probe.pt")
    variants = dict(np.load(out / "generate" / "variants.npz"))
    say("evaluate: judging")
    metrics = evaluate(probe, [c.truth for c in train_clips], reference, clips, samples, variants, palette,
                       context_frames=cfg.evaluate["context_frames"], seed=cfg.seed)
    (here / "metrics.json").write_text(json.dumps(_plain(metrics), indent=1, sort_keys=True))


def _plain(v):
    from simreel.report import plain

    return plain(v)


def stage_report(cfg: LoopConfig, out: Path, here: Path) -> None:
    from simreel import report as rep

    rep.write(here, report_inputs(cfg, out))
    say(f"report: {here / 'index.html'}")


def report_inputs(cfg: LoopConfig, out: Path):
    """Gather what the report shows from the other stages' outputs."""
    from simreel.shards import ClipDataset
    from simreel.report import ReportInputs, Shown, count
    from simreel.judge.evaluate import load_clips
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
    log = [json.loads(line) for line in log_path.read_text().splitlines()] if log_path.exists() else []
    t = cfg.train_config(str(train_dir), str(out / "train"))
    configs = {"loop config": (out / "loop.yaml").read_text(),
               "dataset config (train split)": _yaml(cfg.dataset_config("train", str(train_dir)).to_dict()),
               "training config": _yaml(t.to_dict())}
    stamps = Stamps(out)
    timings = {s: stamps.read(s)["seconds"] for s in STAGES if stamps.read(s)}
    metrics["timings_s"] = timings
    return ReportInputs(cfg.name, metrics, gallery, pairs, continuations, stats, log, configs, timings)
