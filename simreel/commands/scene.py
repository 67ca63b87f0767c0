"""`simreel scene FAMILY --seed N`: sample, simulate and show one scene.
`simreel scene --prompt TEXT [--seed N] [--out FILE.mp4]`: a ground-truth take of a prompt, rendered."""
from __future__ import annotations

import json
import re
from collections import Counter

from simreel.cli import UserError

HELP = ("Sample and simulate one physics scene; print its objects and event timeline (or --json). "
        "With --prompt: stage a caption-language prompt as a scene whose captions entail it, and render it.")


def add_arguments(parser) -> None:
    parser.add_argument("family", nargs="?", help="scene family, e.g. drop, collide, ramp, topple, throw")
    parser.add_argument("--prompt", help='instead of a family: a prompt in the caption language (English or Chinese), '
                                         'e.g. "a small red rubber ball rolls down a blue wooden ramp and hits a green cube"')
    parser.add_argument("--out", default="scene.mp4",
                        help="with --prompt: the video to write (default scene.mp4); its JSON goes beside it (.json)")
    parser.add_argument("--tries", type=int, default=None,
                        help="with --prompt: simulated takes before giving up (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="scene seed (non-negative integer; default 0)")
    parser.add_argument("--fps", type=int, default=24, help="frames per second; must divide 240 (default 24)")
    parser.add_argument("--duration", type=float, default=2.0, help="clip length in seconds (default 2.0)")
    parser.add_argument("--size", default="64x64", help="frame size WxH, even numbers (default 64x64)")
    parser.add_argument("--json", action="store_true", help='print {"spec", "trajectory", "events", "rejections"} as JSON')
    parser.add_argument("--captions", action="store_true",
                        help="add captions, timed events and questions (English and Chinese) from the ground truth")
    parser.add_argument(
        "--plugin", action="append", default=[], metavar="MODULE",
        help="import MODULE first so the families it registers can be used (repeatable)",
    )


def _clip(args):
    from simreel import scenes

    match = re.fullmatch(r"(\d+)x(\d+)", args.size)
    if not match:
        raise UserError(f"--size {args.size!r} must look like WIDTHxHEIGHT, e.g. 64x64 or 128x96")
    try:
        return scenes.ClipFormat(args.fps, args.duration, int(match[1]), int(match[2]))
    except ValueError as e:
        raise UserError(str(e).replace("fps", "--fps", 1).replace("duration_s", "--duration", 1)) from None


def run(args) -> int:
    from simreel import scenes

    try:
        scenes.load_plugins(args.plugin)
    except ValueError as e:
        raise UserError(str(e)) from None
    if args.prompt is not None:
        if args.family is not None:
            raise UserError(f"give a family ({args.family!r}) or --prompt, not both")
        return _prompt(args)
    families = scenes.family_names()
    if args.family is None:
        raise UserError(f"give a family ({', '.join(families)}) or --prompt \"...\"")
    if args.family not in families:
        raise UserError(f"unknown family {args.family!r}; choose one of: {', '.join(families)}")
    if args.seed < 0:
        raise UserError(f"--seed {args.seed} must be a non-negative integer")
    clip = _clip(args)
    try:
        scene = scenes.make(args.family, args.seed, clip)
    except scenes.SceneRejected as e:
        raise UserError(str(e)) from None
    captions = None
    if args.captions:
        from simreel import captioning

        captions = captioning.describe(scene.spec, scene.trajectory)
    if args.json:
        print(json.dumps({
            "spec": scene.spec.to_dict(),
            "trajectory": scene.trajectory.to_dict(),
            "events": [e.to_dict() for e in scene.trajectory.events],
            "rejections": [vars(r) for r in scene.rejections],
            **({"captions": captions.to_dict()} if captions else {}),
        }, ensure_ascii=False))
    else:
        print(describe(scene) + (f"\n\n{captions.to_text()}" if captions else ""))
    return 0


def _prompt(args) -> int:
    """Parse, enact, render; write FILE.mp4 and FILE.json (prompt, claims, binding, spec, captions)."""
    from pathlib import Path

    from simreel import render, shards
    from simreel.captioning.enact import TRIES, EnactError, enact
    from simreel.captioning.parse import PromptError, parse
    from simreel.shards import storage

    if args.seed < 0:
        raise UserError(f"--seed {args.seed} must be a non-negative integer")
    out = Path(args.out)
    if out.suffix.lower() != ".mp4":
        raise UserError(f"--out {args.out!r} must name an .mp4 file (the JSON is written beside it)")
    tries = TRIES if args.tries is None else args.tries
    if tries < 1:
        raise UserError(f"--tries {tries} must be at least 1")
    clip = _clip(args)
    try:
        prompt = parse(args.prompt)
        take = enact(prompt, args.seed, clip, tries)
    except (PromptError, EnactError) as e:
        raise UserError(f"--prompt: {e}") from None
    scene = take.scene
    with render.Renderer() as renderer:
        rgb = renderer.render(scene.spec, scene.trajectory).rgb
    out.parent.mkdir(parents=True, exist_ok=True)
    storage.write_atomic(str(out), shards.encode_video(rgb, scene.spec.fps))
    record = {"prompt": prompt.to_dict(), "binding": take.binding, "tries": take.tries, "spec": scene.spec.to_dict(),
              "events": [e.to_dict() for e in scene.trajectory.events], "captions": take.captions.to_dict()}
    storage.write_atomic(str(out.with_suffix(".json")), json.dumps(record, ensure_ascii=False).encode())
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
    else:
        said = ", ".join(f"{e.text} = {take.binding[e.name]}" for e in prompt.entities)
        print(f"{describe(scene)}\n\nprompt objects: {said or 'none'}; entailed after {take.tries} take(s)\n"
              f"{take.captions.to_text()}\n\nwrote {out} and {out.with_suffix('.json')}")
    return 0


def _xyz(v) -> str:
    return "(" + ", ".join(f"{c:+.2f}" for c in v) + ")"


def describe(scene) -> str:
    """A human-readable page: clip, camera, objects, statics, rejections, event timeline."""
    spec, traj = scene.spec, scene.trajectory
    cam = spec.camera
    lines = [
        f"{spec.family} seed {spec.seed}: {len(spec.objects)} objects, {spec.duration_s:g} s at {spec.fps} fps "
        f"({spec.num_frames} frames), {spec.width}x{spec.height}",
        f"camera  {cam.motion}, {cam.distance:.2f} m from {_xyz(cam.target)}, azimuth {cam.azimuth_deg:.0f} deg, "
        f"elevation {cam.elevation_deg:.0f} deg, fov {cam.fov_deg:.0f} deg"
        + (f", amount {cam.amount:+.2f}" if cam.motion != "static" else ""),
    ]
    if spec.params:
        lines.append("params  " + ", ".join(f"{k}={v}" for k, v in spec.params))
    lines.append("")
    lines.append("objects")
    for o in spec.objects:
        look = f"{o.colour} {o.size} {o.material} {o.shape}"
        moving = f"  moving {_xyz(o.linear_velocity)} m/s" if any(o.linear_velocity) else ""
        lines.append(f"  {o.name:<6} {look:<32} at {_xyz(o.position)}{moving}")
    for s in spec.statics:
        lines.append(f"  {s.name:<6} {s.colour} {s.material} box {'x'.join(f'{d:.2f}' for d in s.dims)} m at {_xyz(s.position)}")
    if scene.rejections:
        reasons = Counter(r.reason for r in scene.rejections)
        first = scene.rejections[0]
        lines.append(
            f"rejected first: {len(scene.rejections)} samples ({', '.join(f'{k} x{n}' for k, n in sorted(reasons.items()))}); "
            f"e.g. seed {first.seed}: {first.detail}"
        )
    lines.append("")
    lines.append(f"events ({len(traj.events)})")
    lines.append(f"  {'time':>7} {'frame':>5}  {'event':<14} subjects")
    for e in traj.events:
        value = ""
        if e.kind == "contact_begin":
            value = f"  peak impulse {e.value:.2f} N*s"
        elif e.kind == "bounce":
            value = f"  rebound {e.value:.2f} m/s"
        lines.append(f"  {e.time_s:>6.3f}s {e.frame:>5}  {e.kind:<14} {' - '.join(e.subjects)}{value}")
    return "\n".join(lines)
