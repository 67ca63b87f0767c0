"""`simreel` console script: one subcommand per module in simreel/commands/.

Each command module defines `HELP`, `add_arguments(parser)` and `run(args) -> int`;
modules are imported lazily so `simreel scene` never pays for torch or Ray.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys

from simreel.errors import UserError  # noqa: F401  (commands import it from here)

COMMANDS = ("scene", "generate", "validate", "preview", "export", "train", "sample", "evaluate", "loop")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")  # every module logs to "simreel.<module>"
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="simreel", description="Synthetic physics video-data factory.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    name = next((a for a in argv if not a.startswith("-")), None)
    for cmd in COMMANDS:
        if cmd == name:  # only the chosen command's module is imported
            module = importlib.import_module(f"simreel.commands.{cmd}")
            p = sub.add_parser(cmd, help=module.HELP, description=module.HELP)
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
        else:
            sub.add_parser(cmd, add_help=False)
    args = parser.parse_args(argv)
    if args.command is None or not hasattr(args, "_run"):
        parser.print_help()
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # `kill`, a scheduler's stop: end as Ctrl-C does, cleanly
    try:
        return int(args._run(args) or 0)
    except UserError as e:
        print(f"simreel {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"simreel {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `simreel validate DIR | head -1`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush stays quiet
        return 141
    except OSError as e:
        if e.errno is None:
            raise
        where = f" ({e.filename})" if e.filename else ""
        print(f"simreel {args.command}: error: {e.strerror or e}{where}; free space, fix the permissions or write "
              "elsewhere, then rerun", file=sys.stderr)
        return 1


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
