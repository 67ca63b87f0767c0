"""`simreel loop CONFIG --out OUT`: generate -> train -> sample -> evaluate -> study -> report."""
from __future__ import annotations

from simreel.cli import UserError

HELP = "Close the loop: generate data, train the model, sample it, judge it, write the report (resumable)."


def add_arguments(parser) -> None:
    from simreel.commands.generate import _IntermixedParser
    from simreel.loop import STAGES

    parser.__class__ = _IntermixedParser  # key=value overrides before or after the options
    parser.add_argument("config", help="loop config YAML (e.g. configs/demo.yaml)")
    parser.add_argument("--out", required=True,
                        help="output directory; rerunning resumes at the first unfinished stage")
    parser.add_argument("--until", choices=STAGES, help="stop after this stage")
    parser.add_argument("--redo", nargs="+", choices=STAGES, default=(), help="run these stages even if up to date")
    parser.add_argument("--address", help="Ray cluster to join for generate and a multi-rank train "
                                           "(default: $RAY_ADDRESS, else a private Ray in this process)")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="override config fields, dotted for nesting: train.steps=200 splits.train=64")


def run(args) -> int:
    from simreel.config import ConfigError, load_loop
    from simreel.loop import run as run_loop

    try:
        cfg = load_loop(args.config, args.overrides)
        stamps = run_loop(cfg, args.out, until=args.until, redo=tuple(args.redo), address=args.address)
    except ConfigError as e:
        raise UserError(str(e)) from None
    if "report" in stamps:
        print(f"{args.out}/report/index.html")
    return 0
