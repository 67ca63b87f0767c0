"""`simreel preview DIR`: a contact sheet PNG and an animated GIF grid of the first clips, captioned."""
from __future__ import annotations

from simreel.cli import UserError

HELP = "Write preview.png (contact sheet) and preview.gif (animated grid) of a dataset's first clips."


def add_arguments(parser) -> None:
    parser.add_argument("dataset", help="dataset directory or URL (holding manifest.json)")
    parser.add_argument("--out", help="where to write the two files (default: the dataset directory)")
    parser.add_argument("-n", type=int, default=8, help="number of clips (default 8)")


def run(args) -> int:
    from simreel import shards
    from simreel.shards.preview import write_preview

    if args.n < 1:
        raise UserError(f"-n {args.n}: expected at least one clip")
    try:
        png, gif = write_preview(args.dataset, args.out, n=args.n)
    except (shards.DatasetError, ValueError) as e:
        raise UserError(str(e)) from None
    print(f"wrote {png} and {gif}")
    return 0
