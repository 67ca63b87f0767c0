"""The one progress display: shards made by `generate`, steps taken by `train`.

A live tqdm bar on a terminal; otherwise a plain line every `every` seconds (logs, CI,
`ray job`). The trainer, a stage, never imports this: its caller passes `update` in as the
trainer's `on_log` callback, so the object must also work after pickling into a Ray Train
worker (the stream and the bar are found at first use, times are wall-clock).
"""
from __future__ import annotations

import sys
import time


def duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class Progress:
    """`done` of `total` units, plus any figures (loss=...) shown beside them."""

    def __init__(self, name: str, total: int, unit: str, *, stream=None, tty: bool | None = None,
                 every: float = 10.0):
        self.name, self.total, self.unit, self.every = name, total, unit, every
        self.stream, self.tty = stream, tty
        self.t0 = self.last = time.time()
        self.first: tuple[float, int] | None = None
        self.bar = None

    def _out(self):
        return self.stream or sys.stderr

    def line(self, done: int, made: int | None = None, **figures) -> str:
        """`made`: the units made by this run (a resumed run's first units are not throughput); default `done`."""
        made = done if made is None else made
        now = time.time()
        if self.first is None and made > 0:
            self.first = (now, made)  # rate from the first unit on: start-up is not throughput
        first_t, first_made = self.first or (now, made)
        rate = (made - first_made) / (now - first_t) if now > first_t else 0.0
        eta = duration((self.total - done) / rate) if rate > 0 else ("0m00s" if done >= self.total else "?")
        extra = "".join(f", {k} {v}" for k, v in figures.items())
        return (f"[simreel {self.name}] {done}/{self.total} {self.unit}s ({100 * done / max(self.total, 1):.0f}%), "
                f"{rate:.2f} {self.unit}s/s, elapsed {duration(now - self.t0)}, ETA {eta}{extra}")

    def update(self, done: int, made: int | None = None, *, force: bool = False, **figures) -> None:
        if self.tty is None:
            self.tty = self._out().isatty()
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=self.total, unit=self.unit, file=self._out(), dynamic_ncols=True, desc=self.name)
            self.bar.update(done - self.bar.n)
            if figures:
                self.bar.set_postfix(figures)
            return
        line = self.line(done, made, **figures)  # every update, so the rate's starting point is seen
        if force or time.time() - self.last >= self.every:
            self.last = time.time()
            print(line, file=self._out(), flush=True)

    def close(self, done: int, made: int | None = None, **figures) -> None:
        self.update(done, made, force=True, **figures)
        if self.bar is not None:
            self.bar.close()
