"""Factory throughput, cost and memory, measured side by side in one run.

    .venv/bin/python benchmarks/pipeline.py [--clips 200] [--repeats 2] [--memory-clips 1000] [--usd-per-core-hour 0.04]
                                            [--set KEY=VALUE ...]   # e.g. --set 'world={}': the throughput runs in worlds

Runs configs/default.yaml (16 frames at 64x64, RGB + instance ids, captions in English and
Chinese, QA) through `simreel.job.generate`, each run starting its own local Ray the way
`simreel generate` does, and prints:
- clips/s with 1 worker (the baseline) and with 2, and the scaling efficiency
  (clips/s with 2 / (2 x clips/s with 1)); the rate is taken from the first shard's start
  to the last shard's end, so Ray start-up and the dataset card are not in it; runs
  alternate 1, 2, 1, 2 and the best of each counts, as the machine is shared;
- seconds per stage per clip in the 1-worker run (scene = sample + simulate, render,
  caption, encode, write), and `overhead_vs_sim_render`: a clip's whole time in a worker
  (its shard's wall time per clip) / its scene + render time, both from the same run;
- `clips_per_core_hour` at default.yaml's size and at Kubric MOVi's (256x256, 24 frames at
  12 fps), from 1-worker runs (one worker is one core);
- memory: the whole process tree (driver, Ray's processes, workers; from /proc, sampled
  every 0.1 s) of `simreel generate` with two workers making `--memory-clips` clips, run as
  its own process as a user runs it: the peak of its summed RSS (`tree_rss_mb`) and PSS,
  and its RSS once clip 100 is in a finished shard and just before the last shard finishes
  (shards of 50 clips: at clip 950-1,000, both workers still running);
- the cost of 1,000 clips at the stated price per core-hour, and what changed against the
  figures issue #14 started from.
Floors: overhead <= 1.5, 2-worker efficiency >= 0.85, tree <= 1,200 MB, tree growth from
clip 100 to the last within 10%; the exit code says whether all hold. Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from simreel.config import load_dataset  # noqa: E402
from simreel.job import generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CYCLES_FRAMES_PER_S = 1.9  # DESIGN.md field note, 64^2, 2 cores
KUBRIC_CLIPS_PER_CORE_HOUR = 11  # issue #14: Blender Cycles at Kubric's setting, 256^2 x 24 frames, rendering alone
STAGES = ("scene", "render", "caption", "encode", "write")
ISSUE = {  # where issue #14 started (loaded 2-core machine)
    "overhead_vs_sim_render": 2.9, "clips_per_s_1_worker": 7.5, "tree_rss_mb": 2500,
    "seconds_per_stage": {"scene": 0.034, "render": 0.011, "caption": 0.078, "encode": 0.007},
}
MOVI = ["clip.resolution=256x256", "clip.fps=12", "clip.duration_s=2.0"]  # 24 frames


def _tree(root: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        out.append(todo.pop())
        todo += children.get(out[-1], [])
    return out


def tree_memory_mb(root: int) -> tuple[float, float]:
    """(RSS summed, PSS summed) over a process tree, MB. Summed RSS counts a shared library once
    per process that maps it (the issue's measure); PSS shares such pages out (what the tree costs)."""
    rss = pss = 0.0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    key, value = line.split()[:2]
                    if key == "Rss:":
                        rss += int(value) / 1024
                    elif key == "Pss:":
                        pss += int(value) / 1024
        except (OSError, ValueError):
            pass
    return rss, pss


class TreeWatch:
    """Samples a process tree's memory every `every` s: its peaks, the first sample once `done()` reaches
    `first`, and the last sample before it reaches `last` (while every worker still runs)."""

    def __init__(self, root: int, first: int, last: int, done, every: float = 0.1):
        self.root, self.first, self.last, self.done, self.every = root, first, last, done, every
        self.peak_rss = self.peak_pss = 0.0
        self.at_first: tuple[float, float] | None = None
        self.before_last: tuple[float, float] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.every):
            rss, pss = tree_memory_mb(self.root)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            done = self.done()
            if done >= self.first and self.at_first is None:
                self.at_first = (rss, pss)
            if done < self.last:
                self.before_last = (rss, pss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def memory_run(clips: int, out: str) -> TreeWatch:
    """`simreel generate` default.yaml with 2 workers, as a user runs it (its own process, its own Ray)."""
    def done() -> int:  # clips in finished shards
        total = 0
        for p in Path(out).glob("*.stats.json"):
            try:
                total += json.loads(p.read_text())["count"]
            except (OSError, ValueError, KeyError):
                pass
        return total

    cmd = [sys.executable, "-m", "simreel", "generate", str(ROOT / "configs/default.yaml"), f"num_samples={clips}",
           "samples_per_shard=50", "--workers", "2", "--out", out]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with TreeWatch(proc.pid, first=100, last=clips, done=done) as watch:
        _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"memory run failed: {err[-2000:]}")
    return watch


def run(config, workers: int, out: str) -> dict:
    t0 = time.monotonic()
    result = generate(config, out, workers=workers, progress_stream=io.StringIO())
    wall = time.monotonic() - t0
    stats = [json.loads(p.read_text()) for p in Path(out).glob("*.stats.json")]
    start = min(s["started_at"] for s in stats)
    end = max(s["started_at"] + s["wall_seconds"] for s in stats)
    clips = sum(s["count"] for s in stats)
    seconds = result.manifest["totals"]["seconds"]
    per_stage = {k: seconds.get(k, 0.0) / clips for k in STAGES}
    per_clip = sum(s["wall_seconds"] for s in stats) / clips
    return {
        "workers": result.workers,
        "clips": clips,
        "clips_per_s": clips / (end - start),
        "wall_s": wall,
        "seconds_per_stage": per_stage,
        "seconds_per_clip": per_clip,
        "overhead_vs_sim_render": per_clip / (per_stage["scene"] + per_stage["render"]),
        "cpu_s_per_clip": sum(s["cpu_seconds"] for s in stats) / clips,
        "worker_peak_rss_mb": max(s["worker"]["peak_rss_mb"] for s in stats),
    }


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=200, help="clips per throughput run (default 200)")
    ap.add_argument("--repeats", type=int, default=2,
                    help="throughput runs per worker count, alternated 1, 2, 1, 2, ...; the best of each counts "
                         "(the machine is shared: the best run is the one least disturbed)")
    ap.add_argument("--memory-clips", type=int, default=1000, help="clips in the memory run (default 1000, >= 100)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a field of default.yaml in the throughput runs (repeatable)")
    ap.add_argument("--usd-per-core-hour", type=float, default=0.04,
                    help="price of one core for an hour (default 0.04: on-demand cloud compute vCPU, 2026)")
    args = ap.parse_args()
    if args.memory_clips < 100:
        ap.error("--memory-clips must be at least 100")

    default = ROOT / "configs/default.yaml"
    base = load_dataset(default, [f"num_samples={args.clips}", "samples_per_shard=10", *args.set])
    print(f"config: configs/default.yaml, {args.clips} clips of 16 frames at 64x64, rgb+ids, captions en+zh + QA, "
          f"10 clips per shard; price ${args.usd_per_core_hour}/core-hour", flush=True)
    print(f"before: {load()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        runs: dict[int, dict] = {}
        for rep in range(args.repeats):
            for w in (1, 2):
                r = run(base, w, f"{tmp}/r{rep}w{w}")
                print(f"{w} worker{'s' if w > 1 else ''}: {r['clips_per_s']:.2f} clips/s ({r['clips']} clips, "
                      f"{r['wall_s']:.1f} s end to end, overhead {r['overhead_vs_sim_render']:.2f}); {load()}", flush=True)
                if w not in runs or r["clips_per_s"] > runs[w]["clips_per_s"]:
                    runs[w] = r
        movi_clips = max(10, args.clips // 4)
        movi = run(load_dataset(default, [f"num_samples={movi_clips}", "samples_per_shard=5", *MOVI]), 1, f"{tmp}/movi")
        print(f"256x256, 24 frames at 12 fps, 1 worker: {movi['clips_per_s']:.2f} clips/s ({movi_clips} clips); {load()}",
              flush=True)
        print(f"memory run: simreel generate, two workers, {args.memory_clips} clips ...", flush=True)
        t0 = time.monotonic()
        watch = memory_run(args.memory_clips, f"{tmp}/mem")
        print(f"memory run: {args.memory_clips / (time.monotonic() - t0):.2f} clips/s end to end; {load()}", flush=True)

    cps1, cps2 = runs[1]["clips_per_s"], runs[2]["clips_per_s"]
    efficiency = cps2 / (2 * cps1)
    per_stage = runs[1]["seconds_per_stage"]
    overhead = runs[1]["overhead_vs_sim_render"]
    (at100, _), (at_end, _) = watch.at_first, watch.before_last
    growth = (at_end - at100) / at100
    tree_peak, tree_pss = watch.peak_rss, watch.peak_pss
    per_core_hour = {"default_64x64x16": 3600 * cps1, "movi_256x256x24": 3600 * movi["clips_per_s"]}
    usd = 1000 * (2 / cps2) / 3600 * args.usd_per_core_hour
    floors = {"overhead_vs_sim_render<=1.5": overhead <= 1.5, "scaling_efficiency>=0.85": efficiency >= 0.85,
              "tree_rss_mb<=1200": tree_peak <= 1200, "tree_growth_100_to_end<=0.10": growth <= 0.10}

    print(f"after: {load()}")
    print(f"best of {args.repeats}: 1 worker {cps1:.2f} clips/s, 2 workers {cps2:.2f} clips/s; "
          f"scaling efficiency {efficiency:.2f}")
    print("seconds per clip by stage (1-worker run): " + ", ".join(f"{k} {v:.4f}" for k, v in per_stage.items())
          + f"; whole clip in the worker {runs[1]['seconds_per_clip']:.4f}")
    print(f"overhead_vs_sim_render: {overhead:.2f} (a clip's whole time / its scene + render time)")
    print(f"clips per core-hour: {per_core_hour['default_64x64x16']:,.0f} at 64x64x16, "
          f"{per_core_hour['movi_256x256x24']:,.0f} at 256x256x24 (Blender Cycles at Kubric's setting: "
          f"~{KUBRIC_CLIPS_PER_CORE_HOUR}, rendering alone: {per_core_hour['movi_256x256x24'] / KUBRIC_CLIPS_PER_CORE_HOUR:,.0f}x)")
    print(f"process tree of a two-worker simreel generate: RSS summed peak {tree_peak:.0f} MB (PSS {tree_pss:.0f} MB); "
          f"at clip 100 {at100:.0f} MB, just before clip {args.memory_clips} {at_end:.0f} MB (growth {100 * growth:+.1f}%); "
          f"one worker's peak {max(r['worker_peak_rss_mb'] for r in runs.values()):.0f} MB")
    print(f"cost: ${usd:.4f} per 1,000 clips at ${args.usd_per_core_hour}/core-hour")
    print("against issue #14's figures: "
          f"overhead {ISSUE['overhead_vs_sim_render']} -> {overhead:.2f}; "
          f"1 worker {ISSUE['clips_per_s_1_worker']} -> {cps1:.2f} clips/s; "
          f"process tree {ISSUE['tree_rss_mb']} -> {tree_peak:.0f} MB; "
          + ", ".join(f"{k} {v} -> {per_stage[k]:.3f} s" for k, v in ISSUE["seconds_per_stage"].items()))
    print("floors: " + ", ".join(f"{k} {'PASS' if ok else 'FAIL'}" for k, ok in floors.items()))
    print(json.dumps({
        "overhead_vs_sim_render": round(overhead, 3),
        "clips_per_core_hour": {k: round(v) for k, v in per_core_hour.items()},
        "tree_rss_mb": round(tree_peak, 1),
        "tree_pss_mb": round(tree_pss, 1),
        "tree_rss_mb_at_clip_100": round(at100, 1),
        f"tree_rss_mb_at_clip_{args.memory_clips}": round(at_end, 1),
        "tree_growth": round(growth, 4),
        "clips_per_s": {"1": round(cps1, 3), "2": round(cps2, 3)},
        "scaling_efficiency": round(efficiency, 3),
        "seconds_per_stage": {k: round(v, 5) for k, v in per_stage.items()},
        "seconds_per_clip": round(runs[1]["seconds_per_clip"], 5),
        "worker_peak_rss_mb": round(max(r["worker_peak_rss_mb"] for r in runs.values()), 1),
        "usd_per_1000_clips": round(usd, 5),
        "usd_per_core_hour": args.usd_per_core_hour,
        "vs_cycles_render": round(cps2 / (CYCLES_FRAMES_PER_S / 16), 1),
        "issue_14": ISSUE,
        "floors": floors,
        "load_average": round(os.getloadavg()[0], 2),
    }))
    return 0 if all(floors.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
