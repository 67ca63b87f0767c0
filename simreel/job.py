"""The factory run: plan a dataset from its config, make its shards on Ray, index it.

- The plan is the config alone: shard s holds samples [s*n, (s+1)*n); sample i's seed,
  family and clip format derive from (dataset seed, i) and nothing else.
- One Ray task per shard, run by `ShardWorker` actors (one per worker slot), each
  keeping its renderer (one EGL context) for every shard it makes. Which worker makes a
  shard, and when, changes no byte of it.
- A shard is finished when its stats JSON matches its tar; a re-run verifies and skips
  finished shards and makes the rest. A worker process that dies mid-shard is restarted
  by Ray and the shard is made again from its start: a retry, never lost or doubled data.
- When every shard is finished the driver writes manifest.json, index.wids.json, a
  preview and the dataset card README.md.

This module is the glue that turns Scene + Frames + Captions into a plain `shards.Sample`;
`shards` never sees physics.
"""
from __future__ import annotations

import ctypes
import dataclasses
import gc
import importlib.metadata
import logging
import os
import resource
import socket
import time
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from typing import Callable, Iterator

import numpy as np
import ray
import yaml

from simreel import captioning
from simreel import scenes
from simreel import shards
from simreel.scenes import worlds
from simreel.shards import storage
from simreel.shards.card import MARK, render_card
from simreel.shards.lock import Busy, locked
from simreel.shards.manifest import CARD, dataset_file, own_temporary
from simreel.shards.preview import write_preview
from simreel.shards.schema import KEY_DIGITS
from simreel.shards.summary import merge, summarize
from simreel.cluster import connect
from simreel.config import CAPTION_KINDS, ConfigError, DatasetConfig, dataset_from_dict
from simreel.progress import Progress

WORKER_ENV = {"PYOPENGL_PLATFORM": "egl", "LP_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
"""One core per worker: Mesa's llvmpipe would otherwise start a thread per core in every worker."""

MAX_TASK_RETRIES = 3

log = logging.getLogger(__name__)

RELEASE_EVERY = 50
"""Clips between returning freed heap to the OS. glibc's heap fragments otherwise: measured on one
worker (stage caches kept small), RSS grew 29% from its 100th to its 1000th clip without it, 2% with it."""


class JobFailed(RuntimeError):
    """Some shards could not be made; the others are finished and a re-run resumes."""


class SampleFailed(RuntimeError):
    """A sample could not be made; names it so it can be reproduced alone (`simreel scene FAMILY --seed SEED`)."""

    @classmethod
    def of(cls, planned: "SamplePlan", cause: BaseException) -> "SampleFailed":
        tb = cause.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
        return cls(f"sample {planned.key} (family {planned.family}, seed {planned.seed}, {planned.clip}): "
                   f"{type(cause).__name__}: {cause}{where}")


def generator_info() -> dict:
    """Which simreel made a sample: recorded in every sample and the manifest."""
    try:
        version = importlib.metadata.version("simreel")
    except importlib.metadata.PackageNotFoundError:
        version = "0+unknown"
    return {"name": "simreel", "version": version}


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class SamplePlan:
    index: int
    key: str
    seed: int
    family: str
    clip: scenes.ClipFormat


@dataclass(frozen=True)
class ShardPlan:
    index: int
    name: str
    start: int  # first sample index
    stop: int  # one past the last


def sample_plan(config: DatasetConfig, index: int) -> SamplePlan:
    """Everything about sample `index` that is decided before simulating, from (config, index) alone."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, index]))
    seed = int(rng.integers(2**62))
    families = config.split_families
    names = [f for f, _ in families]
    weights = np.array([w for _, w in families])
    family = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    width, height = config.resolutions[int(rng.integers(len(config.resolutions)))]
    fps = config.fps[int(rng.integers(len(config.fps)))]
    clip = scenes.ClipFormat(fps=fps, duration_s=config.duration_s.draw(rng), width=width, height=height)
    return SamplePlan(index, f"{index:0{KEY_DIGITS}d}", seed, family, clip)


def shard_plan(config: DatasetConfig, s: int) -> ShardPlan:
    n = config.samples_per_shard
    return ShardPlan(s, f"shard-{s:06d}", s * n, min((s + 1) * n, config.num_samples))


def plan(config: DatasetConfig) -> Iterator[ShardPlan]:
    """The shards in order, made one at a time: the largest allowed dataset plans in constant memory."""
    return (shard_plan(config, s) for s in range(config.num_shards))


# ---------------------------------------------------------------- one sample, one shard


def load_assets(config: DatasetConfig):
    """The dataset's asset library (None without `assets:`); its bad files are rejected, not raised."""
    if config.assets is None:
        return None
    a = config.assets
    try:
        return scenes.load_library(a.paths, a.builtin, a.holdout, config.split)
    except scenes.AssetError as e:
        raise ConfigError(str(e)) from None


def make_sample(p: SamplePlan, config: DatasetConfig, renderer, physics: scenes.Physics,
                seconds: Counter, assets=None) -> tuple[shards.Sample, tuple]:
    """Simulate, render and caption one planned sample; returns it and the scenes rejected on the way."""
    t0 = time.perf_counter()
    screen = config.holdout.screen(config.split) if config.holdout else None  # draws outside this split
    scene = scenes.make(p.family, p.seed, p.clip, physics, assets, screen)
    if config.world:  # looks only: the simulated motion stays as it is
        scene = dataclasses.replace(scene, spec=worlds.dress(scene.spec, p.seed, config.floors, config.environments,
                                                             config.textures))
    t1 = time.perf_counter()
    frames = renderer.render(scene.spec, scene.trajectory, modalities=config.modalities, motion_blur=config.motion_blur)
    t2 = time.perf_counter()
    # the questions' other worlds in the same client: the longer one continues the scene's live world
    captions = captioning.describe(scene.spec, scene.trajectory, languages=config.languages,
                                   qa="qa" in config.caption_kinds, simulate=physics.simulate)
    t3 = time.perf_counter()
    seconds.update({"scene": t1 - t0, "render": t2 - t1, "caption": t3 - t2})

    traj = scene.trajectory
    # keep the chosen kinds and what belongs to them ("dense_sentences" goes with "dense"), and the claims
    caption_dict = {k: v for k, v in captions.to_dict().items()
                    if k.split("_")[0] not in CAPTION_KINDS or k.split("_")[0] in config.caption_kinds}
    meta = {
        "key": p.key,
        "index": p.index,
        "seed": p.seed,
        "family": p.family,
        "modalities": list(config.modalities),
        "captions": caption_dict,
        "scene": scene.spec.to_dict(),
        "events": [e.to_dict() for e in traj.events],
        "camera": {"K": frames.K, "poses": frames.poses},
        "rejections": [dataclasses.asdict(r) for r in scene.rejections],  # shards.schema.TEXT_FIELDS
        "generator": generator_info(),
        "config_hash": config.hash,
    }
    arrays = {"traj": {
        "positions": traj.positions,
        "orientations": traj.orientations,
        "linear_velocities": traj.linear_velocities,
        "angular_velocities": traj.angular_velocities,
    }}
    for modality in config.modalities:
        if modality != "rgb":
            arrays[modality] = frames.arrays(modality)
    text = captions.short[config.languages[0]]
    return shards.Sample(p.key, frames.rgb, p.clip.fps, meta, text, arrays), scene.rejections


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc only; a no-op elsewhere)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def worker_info() -> dict:
    """Who made a shard: node, host, process, and the process's peak memory so far."""
    node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    return {"node_id": node, "host": socket.gethostname(), "pid": os.getpid(), "peak_rss_mb": round(peak_mb, 1)}


def make_shard(shard: ShardPlan, config: DatasetConfig, out: str, renderer, physics: scenes.Physics,
               report: Callable[[int, bool], None] = lambda n, made: None, assets=None) -> dict:
    """Make one shard (or verify it is already finished); returns its stats.

    `report(clips_done, made)` is called as clips complete (made=False for a verified, skipped shard).
    """
    done = shards.finished_stats(out, shard.name)
    if done is not None and done.get("config_hash") == config.hash:
        report(done["count"], False)
        return {**done, "skipped": True}
    report(0, True)
    seconds: Counter = Counter()
    rejections: Counter = Counter()
    summaries = []
    used: dict[str, dict] = {}  # sha256 -> the asset's manifest entry
    started_at, t0, cpu0 = time.time(), time.perf_counter(), time.process_time()
    with shards.ShardWriter(out, shard.name, config.codec) as writer:
        for n, index in enumerate(range(shard.start, shard.stop), 1):
            planned = sample_plan(config, index)
            try:
                sample, rejected = make_sample(planned, config, renderer, physics, seconds, assets)
            except Exception as e:
                raise SampleFailed.of(planned, e) from e
            for o in sample.meta["scene"]["objects"]:
                if "asset" in o and o["asset"]["sha256"] not in used:
                    used[o["asset"]["sha256"]] = asset_entry(o["asset"])
            writer.write(sample)
            rejections.update(r.reason for r in rejected)
            summaries.append(summarize(sample.meta))
            report(n, True)
            if n % RELEASE_EVERY == 0:
                release_memory()
        stats = writer.commit({
            "config_hash": config.hash,
            "seconds": dict(seconds),
            "rejections": dict(sorted(rejections.items())),
            "summary": merge(summaries),
            "worker": worker_info(),
            "started_at": started_at,
            "wall_seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - cpu0,
            **({"assets": dict(sorted(used.items()))} if used else {}),
        })
    return {**stats, "skipped": False}


def asset_entry(ref: dict) -> dict:
    """An asset's manifest entry: what it is, its hash, where it came from and under which licence."""
    asset = scenes.resolve_asset(scenes.AssetRef(**ref))
    return {**ref, "source": asset.source, "licence": asset.licence}


# ---------------------------------------------------------------- Ray actors


class ShardWorker:
    """One per worker slot: keeps one renderer (one EGL context) and one physics client for every
    shard it makes. While it makes one, `progress()` answers from a thread of its own, so the
    driver gathers progress by asking the workers, with no actor of its own."""

    def __init__(self, config: DatasetConfig, out: str):
        for k, v in WORKER_ENV.items():
            os.environ.setdefault(k, v)
        self.config, self.out = config, out
        self.renderer = None  # made by the first shard: an EGL context belongs to the thread that uses it
        self.physics = scenes.Physics()
        self.assets = load_assets(config)
        self.done: tuple[int, int, bool] | None = None  # (shard, clips done, made by this run)

    def make_shard(self, shard: ShardPlan) -> dict:
        if self.renderer is None:
            from simreel import render

            self.renderer = render.Renderer(self.config.render_quality)

        def report(n: int, made: bool):
            self.done = (shard.index, n, made)

        return make_shard(shard, self.config, self.out, self.renderer, self.physics, report, self.assets)

    @ray.method(concurrency_group="progress")
    def progress(self) -> tuple[int, int, bool] | None:
        return self.done


RemoteShardWorker = ray.remote(num_cpus=1, max_restarts=MAX_TASK_RETRIES, max_task_retries=MAX_TASK_RETRIES,
                               concurrency_groups={"progress": 1})(ShardWorker)


# ---------------------------------------------------------------- the driver


@dataclass(frozen=True)
class RunResult:
    out: str
    manifest: dict
    made: int  # shards made by this run
    skipped: int  # shards already finished and verified
    workers: int
    seconds: float


def foreign_files(out: str) -> list[str]:
    """Files in `out` that are not this kind of dataset's own: a user's, never to be written over or removed.
    A README.md counts unless it is a card simreel wrote."""
    fs, root = storage.filesystem(out)
    if not fs.exists(root):
        return []
    if not fs.isdir(root):
        raise ConfigError(f"--out {out} is a file, not a directory; give a directory for the dataset")
    names = sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False))
    foreign = [n for n in names if not (dataset_file(n) or own_temporary(n))]
    if CARD in names and MARK not in storage.read_bytes(storage.join(out, CARD)).decode("utf-8", "replace"):
        foreign.append(CARD)
    return foreign


def prepare_output(out: str, config: DatasetConfig, allow_other_files: bool = False) -> None:
    """Refuse a directory holding a user's files (unless allowed) or a dataset of another config;
    record the config in `out`/config.yaml."""
    foreign = foreign_files(out)
    if foreign and not allow_other_files:
        names = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ConfigError(f"--out {out} holds files that are not part of a simreel dataset ({names}); use a new or "
                          "empty directory, or pass --allow-other-files to write beside them (they are left alone)")
    url = storage.join(out, "config.yaml")
    recorded = {k: v for k, v in config.to_dict().items() if k != "out"}
    if storage.exists(url):
        try:
            previous = dataset_from_dict(yaml.safe_load(storage.read_bytes(url)) or {})
        except (ConfigError, yaml.YAMLError) as e:
            raise ConfigError(f"{url} is not a readable config ({e}); move it away or use a new --out") from None
        if previous.hash != config.hash:
            raise ConfigError(
                f"{out} holds a dataset made from a different config (hash {previous.hash}, this one {config.hash}); "
                f"use a new --out, or resume it with its own config: simreel generate {url} --out {out}")
    storage.write_atomic(url, yaml.safe_dump(recorded, sort_keys=False, allow_unicode=True).encode())


def generate(config: DatasetConfig, out: str | None = None, *, workers: int | None = None,
             address: str | None = None, progress_stream=None, progress_tty: bool | None = None,
             progress_every: float = 10.0, allow_other_files: bool = False) -> RunResult:
    """Make (or finish) the dataset of `config` in `out` (a path or fsspec URL), holding its lock throughout:
    a second run on the same `out` is refused. `allow_other_files`: write into a directory that also holds
    a user's files (left alone; a user's README.md is kept and the card goes to README.simreel.md)."""
    out = out or config.out
    if not out:
        raise ConfigError("out: no output location; pass --out DIR or set `out:` in the config")
    try:
        foreign_files(out)  # a file given as --out is named before any lock is tried there
        with locked(out):
            prepare_output(out, config, allow_other_files)
            return _generate(config, out, workers, address, progress_stream, progress_tty, progress_every)
    except ImportError as e:  # fsspec names the package a URL scheme needs (s3fs, gcsfs, ...)
        raise ConfigError(f"out: {out!r} cannot be opened: {e}") from None
    except Busy as e:
        raise ConfigError(str(e)) from None
    except (NotADirectoryError, FileExistsError) as e:
        raise ConfigError(f"--out {out} cannot be made a directory ({e.strerror or e}): part of the path is a file; "
                          "give a path under directories") from None


def _generate(config, out, workers, address, progress_stream, progress_tty, progress_every) -> RunResult:
    t0 = time.monotonic()
    library = load_assets(config)
    if library is not None:
        for _, why in library.rejected:
            log.warning(f"asset rejected: {why}")
        if not library.drawable():
            raise ConfigError(f"assets: no usable asset for split {library.split!r} "
                              f"({len(library.rejected)} rejected); see the lines above")
    with connect(address):
        if len([n for n in ray.nodes() if n["Alive"]]) > 1 and storage.is_local(out):
            log.warning(f"note: {out} is a local path and this Ray cluster has several nodes; every node must see it "
                        "as the same shared filesystem (else write to s3:// or gs://)")
        cpus = int(ray.cluster_resources().get("CPU", 1))
        n_workers = max(1, min(workers or cpus, cpus, config.num_shards))
        display = Progress("generate", config.num_samples, "clip", stream=progress_stream, tty=progress_tty,
                           every=progress_every)
        stats, failures, board = _run_shards(plan(config), config, out, n_workers, display)
        display.close(*board.totals())
    if failures:
        lines = "\n  ".join(f"{name}: {why}" for name, why in failures)
        raise JobFailed(f"{len(failures)} of {config.num_shards} shards failed (the others are finished; rerun the "
                        f"same command to retry just these):\n  {lines}")
    manifest = finish(out, config, stats, library.rejected if library is not None else ())
    skipped = sum(1 for s in stats if s["skipped"])
    return RunResult(out, manifest, len(stats) - skipped, skipped, n_workers, time.monotonic() - t0)


class ProgressBoard:
    """Clips done per shard, as the workers last told (a retried shard starts again from 0)."""

    def __init__(self):
        self.done: dict[int, tuple[int, bool]] = {}

    def update(self, shard: int, n: int, made: bool) -> None:
        self.done[shard] = (n, made)

    def totals(self) -> tuple[int, int]:
        """(clips done, of which made by this run)."""
        return sum(n for n, _ in self.done.values()), sum(n for n, made in self.done.values() if made)


def _run_shards(shard_plans, config, out, n_workers, display) -> tuple[list[dict], list[tuple[str, str]], ProgressBoard]:
    """Keep every worker busy with one shard at a time until all are done or failed; ask the
    busy workers how far they are between results."""
    def new_worker():
        return RemoteShardWorker.options(scheduling_strategy="SPREAD").remote(config, out)

    todo = iter(shard_plans)  # lazily: a plan of a hundred million shards is never held in memory
    again: list[ShardPlan] = []  # shards whose worker died (its node gone, say): a fresh worker makes them again
    idle = [new_worker() for _ in range(n_workers)]
    running: dict = {}
    asked: dict = {}  # progress() call -> worker, at most one outstanding per worker
    board = ProgressBoard()
    final: set[int] = set()  # shards whose result is in: later progress answers about them are stale
    stats, failures = [], []
    deaths_in_a_row, why, requeued = 0, "", Counter()
    shard = next(todo, None)
    try:
        while shard is not None or again or running:
            if shard is None and again:
                shard = again.pop()
            if deaths_in_a_row > 2 * n_workers and shard is not None:  # e.g. no EGL on a node: new workers fail too
                failures += [(s.name, f"not attempted: workers keep dying ({why})") for s in chain([shard], again, todo)]
                shard, again = None, []
            while idle and shard is not None:
                worker = idle.pop()
                running[worker.make_shard.remote(shard)] = (worker, shard)
                shard = again.pop() if again else next(todo, None)
            busy = {w for w, _ in running.values()}
            for worker in busy - set(asked.values()):
                asked[worker.progress.remote()] = worker
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for ref in ready:
                worker, done = running.pop(ref)
                try:
                    stats.append(ray.get(ref))
                    board.update(done.index, stats[-1]["count"], not stats[-1]["skipped"])
                    final.add(done.index)
                    deaths_in_a_row = 0
                except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as e:
                    # Ray's own restarts and retries are spent, or the actor is unreachable (its node died):
                    # the shard goes to a fresh worker; the old one is killed so it cannot come back and write too.
                    deaths_in_a_row += 1
                    requeued[done.name] += 1
                    why = next((line for line in str(e).splitlines() if line.strip()), type(e).__name__)
                    ray.kill(worker)
                    worker = new_worker()
                    if requeued[done.name] > MAX_TASK_RETRIES:  # this shard kills every worker: a bug, not bad luck
                        failures.append((done.name, f"its worker died {requeued[done.name]} times: {why}"))
                    else:
                        log.warning(f"{done.name}: its worker died ({why[:200]}); making it again with a new worker")
                        again.append(done)
                except ray.exceptions.RayTaskError as e:
                    cause = e.cause if e.cause is not None else e
                    failures.append((done.name, str(cause) if isinstance(cause, SampleFailed)
                                     else f"{type(cause).__name__}: {cause}"))
                idle.append(worker)
            answered, _ = ray.wait(list(asked), num_returns=len(asked), timeout=0) if asked else ([], [])
            for ref in answered:
                asked.pop(ref)
                try:
                    told = ray.get(ref)
                except ray.exceptions.RayError:  # a dying worker: its shard's result says what happened
                    continue
                if told is not None and told[0] not in final:
                    board.update(*told)
            display.update(*board.totals())
    finally:
        for worker in idle + [w for w, _ in running.values()]:
            ray.kill(worker)
    return stats, failures, board


def finish(out: str, config: DatasetConfig, stats: list[dict], rejected_assets=()) -> dict:
    """Index a dataset whose shards are all finished: manifest, wids index, preview, card; remove the temporaries
    that runs into `out` left (simreel's own, TARGET.<hex>.tmp for one of its files: never a user's *.tmp)."""
    by_name = {s["shard"]: s for s in stats}
    missing = [p.name for p in plan(config) if p.name not in by_name]
    if missing:
        raise JobFailed(f"shards {missing} have no stats; rerun to make them")
    recorded = {k: v for k, v in config.to_dict().items() if k != "out"}
    manifest = shards.build_manifest(name=config.name, generator=generator_info(), config=recorded,
                                     config_hash=config.hash, stats=stats)
    if rejected_assets:
        manifest["assets_rejected"] = [{"file": f, "reason": why} for f, why in rejected_assets]
    if manifest["totals"]["samples"] != config.num_samples:
        raise JobFailed(f"shards hold {manifest['totals']['samples']} samples, the config asks for {config.num_samples}")
    shards.write_manifest(out, manifest)
    write_preview(out)
    card = render_card(manifest, merge(s["summary"] for s in stats), languages=list(config.languages),
                       license=config.license)
    card_name = CARD if CARD not in foreign_files(out) else "README.simreel.md"
    if card_name != CARD:
        log.warning(f"note: {out}/{CARD} is not a simreel card, so it is kept; the dataset card is {card_name}")
    storage.write_atomic(storage.join(out, card_name), card.encode("utf-8"))
    fs, root = storage.filesystem(out)
    for path in fs.ls(root, detail=False):
        if own_temporary(path.rstrip("/").rsplit("/", 1)[-1]):
            fs.rm(path)
    return manifest
