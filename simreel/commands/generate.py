"""`simreel generate CONFIG --out DIR [--workers N] [--address ADDR] [key=value ...]`."""
from __future__ import annotations

import argparse

from simreel.cli import UserError

HELP = "Make a dataset: scenes simulated, rendered and captioned on Ray workers into webdataset shards."


class _IntermixedParser(argparse.ArgumentParser):
    """Lets `key=value` overrides sit before or after options (plain argparse takes positionals in one run)."""

    _inner = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.__class__ = _IntermixedParser
    parser.add_argument("config", help="dataset config YAML, e.g. configs/tiny.yaml")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="override config fields, dotted for nested ones: num_samples=100 video.crf=23")
    parser.add_argument("--out", help="output directory or URL (file://, s3://, gs://); default: the config's `out`")
    parser.add_argument("--workers", type=int, help="generation worker processes (default: every CPU Ray has)")
    parser.add_argument("--address", help="Ray cluster to join (default: $RAY_ADDRESS, else a private Ray in this process)")
    parser.add_argument("--allow-other-files", action="store_true",
                        help="write into --out even though it holds files of yours (they are left alone)")


def run(args) -> int:
    from simreel.config import ConfigError, load_dataset
    from simreel.job import JobFailed, generate

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers {args.workers}: expected a positive number of workers")
    try:
        config = load_dataset(args.config, args.overrides, out=args.out)
        result = generate(config, workers=args.workers, address=args.address, allow_other_files=args.allow_other_files)
    except ConfigError as e:
        raise UserError(str(e)) from None
    except JobFailed as e:
        print(f"simreel generate: {e}")
        return 1
    totals = result.manifest["totals"]
    print(f"{result.out}: {totals['samples']} clips in {totals['shards']} shards, {totals['bytes'] / 1e6:.1f} MB "
          f"({result.made} shards made, {result.skipped} already finished) by {result.workers} workers "
          f"in {result.seconds:.1f} s; see {result.out}/README.md")
    return 0
