"""What checking every shard's sha256 costs a reader, measured side by side in one run.

    .venv/bin/python benchmarks/reader.py [DATASET] [--repeats 5]

Reads every sample of DATASET (default: made here from configs/default.yaml, 64 clips) with
`shards.ClipDataset`, verify on and off, two ways: decode=False (the bytes only, the worst
case for the ratio: nothing else to do) and decode=True (mp4 decoded, what training does).
Runs alternate off, on, off, on and the best of each counts, as the machine is shared. Prints
samples/s for each and the ratio verified / unverified (1.0 = free). Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from simreel import shards  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def make_dataset(out: str) -> str:
    from simreel.config import load_dataset
    from simreel.job import generate

    generate(load_dataset(ROOT / "configs" / "default.yaml", ["num_samples=64", "samples_per_shard=16"]), out,
             progress_stream=io.StringIO())
    return out


def rate(dataset: str, decode: bool, verify: bool) -> float:
    t0 = time.perf_counter()
    n = sum(1 for _ in shards.ClipDataset(dataset, decode=decode, verify=verify))
    return n / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dataset = args.dataset or make_dataset(f"{tmp}/ds")
        manifest = shards.read_manifest(dataset)
        print(f"{dataset}: {manifest['totals']['samples']} clips in {manifest['totals']['shards']} shards, "
              f"{manifest['totals']['bytes'] / 1e6:.1f} MB")
        result = {}
        for decode in (False, True):
            best = {False: 0.0, True: 0.0}
            for _ in range(args.repeats):
                for verify in (False, True):
                    best[verify] = max(best[verify], rate(dataset, decode, verify))
            ratio = best[True] / best[False]
            label = "decoded" if decode else "bytes only"
            print(f"{label:>10}: {best[False]:8.1f} samples/s unverified, {best[True]:8.1f} verified, ratio {ratio:.3f}")
            result["decoded" if decode else "bytes"] = {"unverified": round(best[False], 1),
                                                         "verified": round(best[True], 1), "ratio": round(ratio, 3)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
