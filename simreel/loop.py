"""`simreel loop`: generate -> train -> sample -> evaluate -> study -> report, resumable stage by stage.

Each stage (simreel/stages.py) writes its outputs into OUT/<stage>/ and, last,
OUT/<stage>/stage.json: the hash of what it was made from (its config section and the
stamps of the stages before it), the size of each output file and the seconds it took. A
stage whose stamp matches and whose files are all there at those sizes is skipped, so a loop
stopped anywhere resumes at the first stage without a valid stamp; changing a stage's config
redoes it and everything after it. Inside a stage, generate and train resume on their own
(finished shards stay, training continues from its checkpoint).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from simreel import stages
from simreel.config import ConfigError, LoopConfig

STAGES = ("generate", "train", "sample", "evaluate", "study", "report")

log = logging.getLogger(__name__)


def _hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


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
    `until`. Generate and a multi-rank train reach Ray at `address` (or RAY_ADDRESS, else a
    private local Ray). -> {stage: stamp}."""
    if until is not None and until not in STAGES:
        raise ConfigError(f"--until {until!r}: choose one of {list(STAGES)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "loop.yaml").write_text(stages.as_yaml(cfg.to_dict()))
    stamps = Stamps(out)
    datasets = [cfg.dataset_raw(split, "") for split in cfg.split_names]  # what generate makes, as it makes it
    kept = [cfg.study["steps"]] if "steps" in cfg.study else []  # checkpoints the study reads
    sections = {"generate": [datasets, cfg.evaluate, cfg.seed], "train": [cfg.train, cfg.seed, *kept],
                "sample": [cfg.sample, cfg.evaluate, cfg.seed], "evaluate": [cfg.probe, cfg.evaluate, cfg.seed],
                "study": [cfg.study, cfg.train, cfg.sample, cfg.evaluate, cfg.seed], "report": [cfg.report, cfg.name]}
    done, upstream = {}, ""
    work = {"generate": lambda d: stages.stage_generate(cfg, out, d, address),
            "train": lambda d: stages.stage_train(cfg, out, d, address),
            "sample": lambda d: stages.stage_sample(cfg, out, d),
            "evaluate": lambda d: stages.stage_evaluate(cfg, out, d),
            "study": lambda d: stages.stage_study(cfg, out, d, address),
            "report": lambda d: stages.stage_report(cfg, out, d, {s: st["seconds"] for s, st in done.items()})}
    for stage in STAGES:
        inputs = _hash([sections[stage], upstream])
        if stage not in redo and stamps.valid(stage, inputs):
            log.info(f"{stage}: up to date, skipped")
        else:
            log.info(f"{stage}: running")
            (out / stage).mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            work[stage](out / stage)
            stamps.write(stage, inputs, time.perf_counter() - start)
            log.info(f"{stage}: done in {stamps.read(stage)['seconds']:.0f} s")
        done[stage] = stamps.read(stage)
        upstream = _hash(done[stage])
        if stage == until:
            log.info(f"stopped after {stage} (--until); run again without it to go on")
            break
    return done
