"""`simreel evaluate OUT`: judge a loop's model again (probe, metrics) and rewrite its report."""
from __future__ import annotations

from pathlib import Path

from simreel.cli import UserError

HELP = "Re-run the judge and the report of a finished `simreel loop` output directory."


def add_arguments(parser) -> None:
    parser.add_argument("out", help="a `simreel loop` output directory (holds loop.yaml)")


def run(args) -> int:
    from simreel.config import ConfigError, load_loop
    from simreel.loop import Stamps, run as run_loop

    out = Path(args.out)
    if not (out / "loop.yaml").is_file():
        raise UserError(f"{out} has no loop.yaml: is it a `simreel loop` output directory?")
    missing = [s for s in ("generate", "train", "sample") if Stamps(out).read(s) is None]
    if missing:
        raise UserError(f"{out}: stage(s) {missing} have not finished; run `simreel loop {out}/loop.yaml --out {out}`")
    try:
        run_loop(load_loop(out / "loop.yaml"), out, redo=("evaluate", "report"))
    except ConfigError as e:
        raise UserError(str(e)) from None
    print(out / "report" / "index.html")
    return 0
