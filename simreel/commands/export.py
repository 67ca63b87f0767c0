"""`simreel export DIR --to mp4-folder OUT`: plain files other tools load."""
from __future__ import annotations

from simreel.cli import UserError

HELP = "Export a dataset: --to mp4-folder writes KEY.mp4 files plus a Hugging Face videofolder metadata.jsonl."


def add_arguments(parser) -> None:
    from simreel.shards.export import FORMATS

    parser.add_argument("dataset", help="dataset directory or URL (holding manifest.json)")
    parser.add_argument("--to", choices=FORMATS, required=True, help="export format")
    parser.add_argument("out", help="output directory or URL")


def run(args) -> int:
    from simreel import shards

    try:
        n = shards.export(args.dataset, args.out, args.to)
    except shards.DatasetError as e:
        raise UserError(str(e)) from None
    print(f"wrote {n} clips and metadata.jsonl to {args.out} "
          f"(load with datasets.load_dataset('videofolder', data_dir={args.out!r}))")
    return 0
