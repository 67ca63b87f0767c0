"""`simreel sample CHECKPOINT "prompt" [more ...] --out FILE`: generate clips from a trained model."""
from __future__ import annotations

import sys

from simreel.cli import UserError

HELP = "sample videos from a trained checkpoint (prompts, optionally continuing a clip's first frames)"


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", help="a checkpoint file or the run directory holding checkpoint.pt")
    parser.add_argument("prompts", nargs="+", metavar="prompt", help="one or more captions")
    parser.add_argument("--out", required=True,
                        help="FILE.gif or FILE.mp4: one captioned grid (one prompt to .mp4: the plain video); "
                             "anything else: a directory with one mp4 per prompt")
    parser.add_argument("--steps", type=int, default=30, help="Euler steps (default 30)")
    parser.add_argument("--guidance", type=float, default=3.0, help="classifier-free guidance scale; 1 = none (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first-frames", metavar="CLIP", help="a video file whose first frames the samples continue")
    parser.add_argument("--given", type=int, help="how many of CLIP's frames to give (default: half the clip, "
                                                  "a multiple of the temporal patch)")
    parser.add_argument("--frames", type=int, help="frames to generate (default: the training clip length)")
    parser.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), help="frame size (default: the training size)")
    parser.add_argument("--scale", type=int, default=1, help="enlarge the written videos by this factor (nearest)")
    parser.add_argument("--raw", action="store_true", help="use the raw weights instead of their EMA")
    parser.add_argument("--beside-truth", action="store_true",
                        help="put a ground-truth take of each prompt (simreel scene --prompt) to the right of its sample")


def run(args) -> int:
    from simreel.trainer import sample
    from simreel.trainer.data import ClipShape

    if args.steps < 1 or args.scale < 1:
        raise UserError("--steps and --scale must be at least 1")
    try:
        model, cfg, info = sample.load(args.checkpoint, ema=not args.raw)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise UserError(str(e)) from None
    pt, ph, pw = cfg.patch
    height, width = args.size or (cfg.height, cfg.width)
    shape = ClipShape(args.frames or cfg.frames, height, width)
    for name, n, p in (("--frames", shape.frames, pt), ("--size H", shape.height, ph), ("--size W", shape.width, pw)):
        if n < p or n % p:
            raise UserError(f"{name} {n} must be a positive multiple of the model's patch size {p}")
    tokenizer = getattr(model.text, "tokenizer", None)
    try:
        for warning in sample.check_prompts(args.prompts, tokenizer, getattr(model.text, "length", None)):
            print(f"simreel sample: warning: {warning}", file=sys.stderr)
        first = None
        if args.first_frames:
            given = args.given if args.given is not None else max(pt, (shape.frames // 2) // pt * pt)
            if given < pt or given % pt or given >= shape.frames:
                raise UserError(f"--given {given} must be a multiple of {pt} below {shape.frames}")
            one = sample.read_first_frames(args.first_frames, given, shape)
            first = one[None].expand(len(args.prompts), *one.shape)  # every prompt continues the same frames
        videos = sample.sample_videos(model, args.prompts, shape, steps=args.steps, guidance=args.guidance,
                                      seed=args.seed, first=first)
        if args.beside_truth:
            videos = _beside_truth(videos, args.prompts, shape, info["fps"], args.seed)
        files = sample.write(videos, args.prompts, args.out, info["fps"], args.scale)
    except (sample.PromptError, FileNotFoundError, ValueError) as e:
        raise UserError(str(e)) from None
    for f in files:
        print(f)
    return 0


def _beside_truth(videos, prompts: list[str], shape, fps: int, seed: int):
    """Each sample with a ground-truth take of its prompt at the sample's size and length on its right."""
    from simreel import scenes
    from simreel.captioning.enact import EnactError
    from simreel.captioning.parse import PromptError
    from simreel.judge.oracle import beside, oracle_takes

    try:
        clip = scenes.ClipFormat(fps, shape.frames / fps, shape.width, shape.height)
    except ValueError as e:
        raise UserError(f"--beside-truth: the factory cannot make clips of this shape: {e}") from None
    out = []
    for k, (video, prompt) in enumerate(zip(videos, prompts)):
        try:
            truth = oracle_takes(prompt, 1, seed + k, clip)[0]
        except (PromptError, EnactError) as e:
            raise UserError(f"--beside-truth: prompt {k + 1} ({prompt[:40]!r}): {e}") from None
        out.append(beside(video, truth.rgb))
    return out
