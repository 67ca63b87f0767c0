"""Simulation milliseconds per clip, per family, for 8 s clips at 24 fps.

    .venv/bin/python benchmarks/simulate.py [--clips 5] [--families drop,ramp]

CPU time of this process (less disturbed by other jobs than wall time) for `scenes.simulate` alone (pybullet stepping at 240 Hz, contact tracking, event
derivation) on specs sampled beforehand, and `scenes.make` (sampling, validation,
resampling included). Baseline: real time, i.e. 8000 ms of simulated clip; the ratio
says how many clips one core simulates in a clip's own duration. Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from simreel import scenes

CLIP = scenes.ClipFormat(fps=24, duration_s=8.0)


def _median_ms(fn, args_list) -> float:
    times = []
    for args in args_list:
        start = time.process_time()
        fn(*args)
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=5, help="clips per family (seeds 0..N-1)")
    parser.add_argument("--families", default=",".join(scenes.family_names()))
    args = parser.parse_args()
    families = args.families.split(",")
    realtime_ms = CLIP.duration_s * 1000
    frames = round(CLIP.fps * CLIP.duration_s)
    print(f"simulate: {args.clips} clips per family, {CLIP.duration_s:g} s at {CLIP.fps} fps ({frames} frames), "
          f"baseline real time = {realtime_ms:.0f} ms/clip")
    print(f"{'family':<9} {'simulate ms/clip':>17} {'ms/frame':>9} {'x real time':>12} {'make ms/clip':>13}")
    figures = {}
    for family in families:
        specs = [(scenes.make(family, seed, CLIP).spec,) for seed in range(args.clips)]
        sim_ms = _median_ms(scenes.simulate, specs)
        make_ms = _median_ms(scenes.make, [(family, seed, CLIP) for seed in range(args.clips)])
        figures[family] = {"simulate_ms_per_clip": round(sim_ms, 1), "make_ms_per_clip": round(make_ms, 1),
                           "x_realtime": round(realtime_ms / sim_ms, 1)}
        print(f"{family:<9} {sim_ms:>17.1f} {sim_ms / frames:>9.2f} {realtime_ms / sim_ms:>12.1f} {make_ms:>13.1f}",
              flush=True)
    print(json.dumps({"benchmark": "simulate", "clip": {"fps": CLIP.fps, "duration_s": CLIP.duration_s},
                      "clips_per_family": args.clips, "baseline": "real time", "families": figures}))


if __name__ == "__main__":
    main()
