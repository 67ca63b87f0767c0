"""Render speed, side by side: ours vs plain pyrender vs pybullet's tiny renderer.

The standard scene (`render.standard`: 6 objects, shadows on) renders RGB + depth + ids
at 64², 128² and 256², 48 frames per clip, with
  (a) ours: `render.Renderer("default")` (4x MSAA, shadows); also in a world (`scenes.worlds`:
      plank floor, clear-day sky with its spherical-harmonics light, textured objects);
  (b) pyrender the plain way: per frame one `OffscreenRenderer.render` (RGB + depth,
      directional shadows) and one `RenderFlags.SEG` pass for ids;
  (c) pybullet `getCameraImage(..., renderer=ER_TINY_RENDERER)`: RGB + depth + ids in
      one call, no shadows (its default).
Every renderer runs in its own process with LP_NUM_THREADS=1 (Mesa single-threaded),
and the processes take turns clip by clip, so load from other work hits all of them
alike. Figures are the median over rounds. (b) and (c) are timed over their per-frame
loops only (scene building excluded); (a) over its whole `render` call. a/c compares
at matched settings: ours with shadows off, like (c).

    .venv/bin/python benchmarks/render.py [--rounds 5] [--frames 48]

Ends with one JSON line: fps per renderer and size, ratio_vs_pyrender, ratio_vs_tiny.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SIZES = (64, 128, 256)
RENDERERS = ("ours", "world", "pyrender", "tiny")
ROOT = Path(__file__).resolve().parent.parent


# -- workers: one process per renderer, answering one clip per request -----------------


def _worker_ours():
    from simreel import render

    renderer = render.Renderer("default")

    def run(spec, trajectory):
        clocks = _clocks()
        renderer.render(spec, trajectory, ("rgb", "depth", "ids"))
        return _elapsed(clocks)

    return run


def _worker_world():
    from simreel.scenes import worlds

    plain = _worker_ours()
    return lambda spec, trajectory: plain(worlds.dress(spec, 0, ("planks",), ("clear_day",), True), trajectory)


def _worker_pyrender():
    from simreel.render.reference import PyrenderReference

    cache = {}

    def run(spec, trajectory):
        key = (spec.width, spec.light.shadows)
        if key not in cache:
            ref = PyrenderReference(spec.width, spec.height)
            cache[key] = ref, ref.prepare(spec)
        ref, prepared = cache[key]
        clocks = _clocks()
        ref.render(prepared, spec, trajectory, shadows=spec.light.shadows)
        return _elapsed(clocks)

    return run


def _worker_tiny():
    import numpy as np
    import pybullet
    import pybullet_data

    from simreel.render.standard import standard_scene
    from simreel.scenes import camera, shapes
    from simreel.scenes.vocabulary import COLOURS

    client = pybullet.connect(pybullet.DIRECT)
    pybullet.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
    pybullet.loadURDF("plane.urdf", physicsClientId=client)  # textured checker floor
    bodies = []
    for obj in standard_scene()[0].objects:  # the same objects at every size
        mesh = shapes.mesh(obj)
        visual = pybullet.createVisualShape(
            pybullet.GEOM_MESH, vertices=mesh.vertices.tolist(), indices=mesh.faces.reshape(-1).tolist(),
            rgbaColor=[*(c / 255 for c in COLOURS[obj.colour]), 1.0], physicsClientId=client)
        bodies.append(pybullet.createMultiBody(baseMass=0, baseVisualShapeIndex=visual, physicsClientId=client))

    def run(spec, trajectory):
        T = trajectory.num_frames
        poses = camera.camera_poses(spec.camera, T)
        views = [np.linalg.inv(p).T.reshape(-1).tolist() for p in poses]  # column-major world -> camera
        projection = pybullet.computeProjectionMatrixFOV(spec.camera.fov_deg, spec.width / spec.height, 0.05, 100.0)
        positions, orientations = trajectory.positions.tolist(), trajectory.orientations.tolist()
        clocks = _clocks()
        for t in range(T):
            for k, body in enumerate(bodies):
                pybullet.resetBasePositionAndOrientation(body, positions[t][k], orientations[t][k], physicsClientId=client)
            pybullet.getCameraImage(spec.width, spec.height, views[t], projection, renderer=pybullet.ER_TINY_RENDERER,
                                    physicsClientId=client)
        return _elapsed(clocks)

    return run


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _elapsed(clocks: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) seconds since `clocks`; CPU time counts every thread of the process
    (Mesa's rasteriser thread included) and is what other work on the machine disturbs least."""
    return time.perf_counter() - clocks[0], time.process_time() - clocks[1]


def worker(name: str) -> None:
    """Answer requests {"size", "shadows", "frames"} on stdin with {"wall", "cpu"} seconds on stdout."""
    from simreel.render.standard import standard_scene

    run = {"ours": _worker_ours, "world": _worker_world, "pyrender": _worker_pyrender, "tiny": _worker_tiny}[name]()
    warm = set()
    for line in sys.stdin:
        req = json.loads(line)
        spec, trajectory = standard_scene(req["size"], req["frames"], shadows=req["shadows"])
        key = (req["size"], req["shadows"])
        if key not in warm:  # first clip of a shape compiles shaders, uploads meshes, sizes buffers
            run(spec, trajectory)
            warm.add(key)
        wall, cpu = run(spec, trajectory)
        print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)


# -- driver -----------------------------------------------------------------------------


class Worker:
    def __init__(self, name: str):
        env = dict(os.environ, LP_NUM_THREADS="1", PYOPENGL_PLATFORM="egl")
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", name], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)

    def clip_seconds(self, size: int, shadows: bool, frames: int) -> dict:
        self.proc.stdin.write(json.dumps({"size": size, "shadows": shadows, "frames": frames}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker exited (code {self.proc.wait()}); see its stderr above")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--worker", choices=RENDERERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return 0

    # (renderer, shadows): (b) with shadows like (a); (c) has none, so (a) also runs without them
    runs = [("ours", True), ("world", True), ("pyrender", True), ("tiny", False), ("ours", False), ("world", False)]
    workers = {name: Worker(name) for name in RENDERERS}
    seconds: dict[tuple, list[float]] = {}
    try:
        for r in range(args.rounds):
            for size in SIZES:
                for name, shadows in runs:
                    seconds.setdefault((name, shadows, size), []).append(
                        workers[name].clip_seconds(size, shadows, args.frames))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    finally:
        for w in workers.values():
            w.close()

    def table(clock: str) -> dict:
        return {f"{name}{'' if shadows or name == 'tiny' else '_no_shadows'}":
                {str(size): round(args.frames / statistics.median(t[clock] for t in seconds[(name, shadows, size)]), 1)
                 for size in SIZES} for name, shadows in runs}

    def ratios(fps: dict, ours: str, theirs: str) -> dict:
        return {s: round(fps[ours][s] / fps[theirs][s], 2) for s in fps[ours]}

    fps, cpu_fps = table("wall"), table("cpu")
    labels = {"ours": "(a) ours, shadows", "world": "(a) ours in a world, shadows",
              "pyrender": "(b) pyrender plain, shadows", "tiny": "(c) pybullet tiny, no shadows",
              "ours_no_shadows": "(a) ours, no shadows", "world_no_shadows": "(a) ours in a world, no shadows"}
    print(f"{args.frames} frames per clip, RGB + depth + ids, LP_NUM_THREADS=1, median of {args.rounds} rounds")
    for title, figures in (("frames/s (wall clock)", fps), ("frames/s of CPU time (all threads)", cpu_fps)):
        print(f"{title:38s}" + "".join(f"{s + '²':>9s}" for s in fps["ours"]))
        for key, label in labels.items():
            print(f"  {label:36s}" + "".join(f"{v:9.1f}" for v in figures[key].values()))
        print(f"  {'a/b (shadows on)':36s}" + "".join(f"{v:9.2f}" for v in ratios(figures, 'ours', 'pyrender').values()))
        print(f"  {'a/c (shadows off)':36s}" + "".join(f"{v:9.2f}" for v in ratios(figures, 'ours_no_shadows', 'tiny').values()))
        print(f"  {'world a/b (shadows on)':36s}" + "".join(f"{v:9.2f}" for v in ratios(figures, 'world', 'pyrender').values()))
        print(f"  {'world a/c (shadows off)':36s}" + "".join(f"{v:9.2f}" for v in ratios(figures, 'world_no_shadows', 'tiny').values()))
        print(f"  {'world / plain (shadows on)':36s}" + "".join(f"{v:9.2f}" for v in ratios(figures, 'world', 'ours').values()))
    print(json.dumps({
        "fps": fps,
        "ratio_vs_pyrender": ratios(fps, "ours", "pyrender"),
        "ratio_vs_tiny": ratios(fps, "ours_no_shadows", "tiny"),
        "cpu_fps": cpu_fps,
        "cpu_ratio_vs_pyrender": ratios(cpu_fps, "ours", "pyrender"),
        "cpu_ratio_vs_tiny": ratios(cpu_fps, "ours_no_shadows", "tiny"),
        "world_ratio_vs_pyrender": ratios(fps, "world", "pyrender"),
        "world_ratio_vs_tiny": ratios(fps, "world_no_shadows", "tiny"),
        "world_vs_plain": ratios(fps, "world", "ours"),
        "frames": args.frames, "rounds": args.rounds, "lp_num_threads": 1,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
