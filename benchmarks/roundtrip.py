"""Round trip: factory clip -> its short caption -> prompt -> new take -> does the take say the caption again?

    nice -n 19 .venv/bin/python benchmarks/roundtrip.py [-n 1000] [--duration 2.0] [--seed 0]

Clip i is family i mod F (every built-in family in turn), seed `--seed` + i // F. Its
English short caption is parsed (`captioning.parse`), enacted from seed i
(`captioning.enact`), and the take's own captions must entail the original caption's
claims (`captioning.enact.round_trip`). Prints the rate, failures grouped by reason with
one example each, and a JSON line. Target: at least 95%.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict

from simreel import scenes
from simreel.captioning.enact import round_trip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="clips (default 1000)")
    parser.add_argument("--duration", type=float, default=2.0, help="clip length in seconds (default 2.0)")
    parser.add_argument("--seed", type=int, default=0, help="first scene seed (default 0)")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop after this long and report the clips done so far (default: no limit)")
    args = parser.parse_args()
    families = scenes.family_names()
    clip = scenes.ClipFormat(duration_s=args.duration)
    failures: dict[str, list[str]] = defaultdict(list)
    by_family: Counter = Counter()
    start = time.time()
    done = 0
    with scenes.Physics() as physics:
        for i in range(args.n):
            if args.max_minutes is not None and time.time() - start > 60 * args.max_minutes:
                print(f"  stopped after {args.max_minutes:g} minutes (--max-minutes)", flush=True)
                break
            family, seed = families[i % len(families)], args.seed + i // len(families)
            scene = scenes.make(family, seed, clip, physics)
            why = round_trip(scene, i, physics)
            if why is not None:
                failures[why.split(":")[0] + ": " + _gist(why)].append(f"{family} seed {seed}")
                by_family[family] += 1
            done += 1
            if (i + 1) % 50 == 0:
                bad = sum(map(len, failures.values()))
                print(f"  {i + 1} clips, {1 - bad / (i + 1):.1%} round trip, {time.time() - start:.0f} s", flush=True)
    bad = sum(map(len, failures.values()))
    rate = 1 - bad / max(done, 1)
    print(f"round trip: {done - bad}/{done} = {rate:.1%} ({clip.duration_s:g} s clips, {time.time() - start:.0f} s)")
    for reason, clips in sorted(failures.items(), key=lambda x: -len(x[1])):
        print(f"  {len(clips):>4}  {reason}   e.g. {clips[0]}")
    print(json.dumps({"benchmark": "roundtrip", "clips": done, "duration_s": clip.duration_s, "rate": round(rate, 4),
                      "failures": {r: len(c) for r, c in failures.items()}, "failures_by_family": dict(by_family)}))


def _gist(why: str) -> str:
    """The reason without what varies per clip (object words), so failures group."""
    stage, _, rest = why.partition(": ")
    if stage == "entail":
        return f"the take misses {rest}"
    return rest.split(";")[0] if stage == "parse" else rest


if __name__ == "__main__":
    main()
