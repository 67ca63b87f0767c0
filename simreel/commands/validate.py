"""`simreel validate DIR`: exit 0 only if every shard, checksum, video and sample is sound."""
from __future__ import annotations

from simreel.cli import UserError

HELP = "Check a dataset: checksums, every video decoded, every sample's members and JSON; names each bad shard."


def add_arguments(parser) -> None:
    parser.add_argument("dataset", help="dataset directory or URL (holding manifest.json)")
    parser.add_argument("--quiet", action="store_true", help="print only problems and the verdict")


def run(args) -> int:
    from simreel import shards

    def on_shard(name: str, problems: list[str]):
        if not args.quiet:
            print(f"{name}: {'ok' if not problems else 'BAD'}", flush=True)

    try:
        report = shards.validate(args.dataset, on_shard=on_shard)
    except shards.DatasetError as e:  # a dataset that cannot be checked at all (one written by an older schema)
        raise UserError(str(e)) from None
    for where in report.bad_shards():
        print(f"BAD {where}:")
        for p in report.problems:
            if p.where == where:
                print(f"    {p.what}")
    verdict = "ok" if report.ok else f"DAMAGED ({len(report.bad_shards())} bad)"
    print(f"{args.dataset}: {report.shards} shards, {report.samples} samples: {verdict}")
    return 0 if report.ok else 1
