"""Factory throughput and cost, measured side by side in one run.

    .venv/bin/python benchmarks/pipeline.py [--clips 200] [--repeats 2] [--memory-clips 1000] [--usd-per-core-hour 0.04]

Runs configs/default.yaml (16 frames at 64x64, RGB + instance ids, captions in English and
Chinese) through `simreel.job.generate` on a local 2-CPU Ray and prints:
- clips/s with 1 worker (the baseline) and with 2, and the scaling efficiency
  (clips/s with 2 / (2 x clips/s with 1)); the rate is taken from the first shard's start
  to the last shard's end, so Ray start-up and the dataset card are not in it; runs
  alternate 1, 2, 1, 2 and the best of each counts, as the machine is shared; and the
  CPU seconds per clip of a worker alone vs beside another (what scaling costs in work,
  whatever else the machine is running);
- seconds per stage per clip in the 1-worker run (scene = sample + simulate, render,
  caption, encode, write);
- a worker's memory: one worker makes `--memory-clips` clips in one shard; its RSS at
  the 100th and the last clip, the growth between them, and its peak;
- the cost of 1,000 clips at the stated price per core-hour (from the 2-worker rate);
- for scale, the field-note peer: Blender Cycles at Kubric's MOVi setting renders 64^2 at
  ~1.9 frames/s on these 2 cores (render alone, no physics or captions).
Floors: 2-worker efficiency >= 0.85, memory growth within 10%; the exit code says if both hold.
Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import ray  # noqa: E402

from simreel.config import load_dataset  # noqa: E402
from simreel.job import WORKER_ENV, ShardPlan, generate, make_shard  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CYCLES_FRAMES_PER_S = 1.9  # DESIGN.md field note, 64^2, 2 cores
STAGES = ("scene", "render", "caption", "encode", "write")


def throughput(config, workers: int, out: str) -> dict:
    t0 = time.monotonic()
    result = generate(config, out, workers=workers, progress_stream=io.StringIO())
    wall = time.monotonic() - t0
    stats = [json.loads(p.read_text()) for p in Path(out).glob("*.stats.json")]
    start = min(s["started_at"] for s in stats)
    end = max(s["started_at"] + s["wall_seconds"] for s in stats)
    clips = sum(s["count"] for s in stats)
    seconds = result.manifest["totals"]["seconds"]
    return {
        "workers": result.workers,
        "clips": clips,
        "clips_per_s": clips / (end - start),
        "wall_s": wall,
        "seconds_per_stage": {k: seconds.get(k, 0.0) / clips for k in STAGES},
        "peak_rss_mb": max(s["worker"]["peak_rss_mb"] for s in stats),
        "cpu_s_per_clip": sum(s["cpu_seconds"] for s in stats) / clips,
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@ray.remote(num_cpus=1)
def memory_run(config, out: str, n: int) -> dict:
    """One worker, one shard of n clips, RSS sampled as clips complete (same code path as the job's workers)."""
    for k, v in WORKER_ENV.items():
        os.environ.setdefault(k, v)
    from simreel import render

    rss = {}

    def report(done: int, made: bool):
        if done in (100, n):
            rss[done] = _rss_mb()

    with render.Renderer(config.render_quality) as renderer:
        make_shard(ShardPlan(0, "shard-000000", 0, n), config, out, renderer, report)
    return {"rss_mb_at_100": rss[100], f"rss_mb_at_{n}": rss[n],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=200, help="clips per throughput run (default 200)")
    ap.add_argument("--repeats", type=int, default=2,
                    help="throughput runs per worker count, alternated 1, 2, 1, 2, ...; the best of each counts "
                         "(the machine is shared: the best run is the one least disturbed)")
    ap.add_argument("--memory-clips", type=int, default=1000, help="clips in the memory run (default 1000, >= 100)")
    ap.add_argument("--usd-per-core-hour", type=float, default=0.04,
                    help="price of one core for an hour (default 0.04: on-demand cloud compute vCPU, 2026)")
    args = ap.parse_args()
    if args.memory_clips < 100:
        ap.error("--memory-clips must be at least 100")

    base = load_dataset(ROOT / "configs/default.yaml", [f"num_samples={args.clips}", "samples_per_shard=10"])
    print(f"config: configs/default.yaml, {args.clips} clips of 16 frames at 64x64, rgb+ids, captions en+zh, "
          f"10 clips per shard; price ${args.usd_per_core_hour}/core-hour", flush=True)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runs: dict[int, dict] = {}
            for rep in range(args.repeats):
                for w in (1, 2):
                    r = throughput(base, w, f"{tmp}/r{rep}w{w}")
                    print(f"{w} worker{'s' if w > 1 else ''}: {r['clips_per_s']:.2f} clips/s "
                          f"({r['clips']} clips, {r['wall_s']:.1f} s end to end)", flush=True)
                    if w not in runs or r["clips_per_s"] > runs[w]["clips_per_s"]:
                        runs[w] = r
            mem_config = load_dataset(ROOT / "configs/default.yaml",
                                     [f"num_samples={args.memory_clips}", f"samples_per_shard={args.memory_clips}"])
            print(f"memory run: one worker, {args.memory_clips} clips ...", flush=True)
            memory = ray.get(memory_run.remote(mem_config, f"{tmp}/mem", args.memory_clips))
    finally:
        ray.shutdown()

    cps1, cps2 = runs[1]["clips_per_s"], runs[2]["clips_per_s"]
    efficiency = cps2 / (2 * cps1)
    per_stage = runs[1]["seconds_per_stage"]
    at100, at_end = memory["rss_mb_at_100"], memory[f"rss_mb_at_{args.memory_clips}"]
    growth = (at_end - at100) / at100
    usd = 1000 * (2 / cps2) / 3600 * args.usd_per_core_hour
    cycles_cps = CYCLES_FRAMES_PER_S / 16
    floors = {"scaling_efficiency>=0.85": efficiency >= 0.85, "memory_growth<=0.10": growth <= 0.10}

    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"best of {args.repeats}: 1 worker {cps1:.2f} clips/s, 2 workers {cps2:.2f} clips/s")
    print(f"scaling efficiency (2 workers vs 2 x 1 worker): {efficiency:.2f}")
    work_ratio = runs[1]["cpu_s_per_clip"] / runs[2]["cpu_s_per_clip"]
    print(f"CPU seconds per clip in a worker: {runs[1]['cpu_s_per_clip']:.3f} alone, {runs[2]['cpu_s_per_clip']:.3f} "
          f"beside a second worker ({work_ratio:.2f}: below 1 means running two makes each clip more work; "
          f"wall-clock efficiency below this is CPU taken by other processes on the machine)")
    print("seconds per clip by stage (1-worker run): "
          + ", ".join(f"{k} {v:.4f}" for k, v in per_stage.items()) + f", total {sum(per_stage.values()):.4f}")
    print(f"worker memory: {at100:.0f} MB at clip 100, {at_end:.0f} MB at clip {args.memory_clips} "
          f"(growth {100 * growth:+.1f}%), peak {memory['peak_rss_mb']:.0f} MB")
    print(f"cost: ${usd:.4f} per 1,000 clips at ${args.usd_per_core_hour}/core-hour")
    print(f"vs Blender Cycles render alone (field note, {CYCLES_FRAMES_PER_S} frames/s = {cycles_cps:.3f} clips/s "
          f"on 2 cores): {cps2 / cycles_cps:.0f}x")
    print("floors: " + ", ".join(f"{k} {'PASS' if ok else 'FAIL'}" for k, ok in floors.items()))
    print(json.dumps({
        "clips_per_s": {"1": round(cps1, 3), "2": round(cps2, 3)},
        "scaling_efficiency": round(efficiency, 3),
        "cpu_work_ratio": round(work_ratio, 3),
        "seconds_per_stage": {k: round(v, 5) for k, v in per_stage.items()},
        "peak_rss_mb": round(max(memory["peak_rss_mb"], runs[1]["peak_rss_mb"], runs[2]["peak_rss_mb"]), 1),
        "rss_mb_at_clip_100": round(at100, 1),
        f"rss_mb_at_clip_{args.memory_clips}": round(at_end, 1),
        "memory_growth": round(growth, 4),
        "usd_per_1000_clips": round(usd, 5),
        "usd_per_core_hour": args.usd_per_core_hour,
        "vs_cycles_render": round(cps2 / cycles_cps, 1),
        "floors": floors,
        "load_average": round(os.getloadavg()[0], 2),
    }))
    return 0 if all(floors.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
