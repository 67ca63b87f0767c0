"""`simreel preview DIR`: a contact sheet PNG and an animated GIF grid of the first clips, captioned.
`simreel preview --assets`: a contact sheet of the asset library, one row per asset, one column per family."""
from __future__ import annotations

from simreel.cli import UserError

HELP = ("Write preview.png (contact sheet) and preview.gif (animated grid) of a dataset's first clips, "
        "or (--assets) a families x assets contact sheet of the asset library.")
ASSET_FAMILIES = ("drop", "collide", "ramp", "throw")  # the families that draw assets (topple keeps its primitives)
SEEDS_PER_CELL = 40  # seeds tried for a scene that shows the asset (its own colour must stand out from the floor)


def add_arguments(parser) -> None:
    parser.add_argument("dataset", nargs="?", help="dataset directory or URL (holding manifest.json)")
    parser.add_argument("--out", help="where to write the files (default: the dataset directory; with --assets: .)")
    parser.add_argument("-n", type=int, default=8, help="number of clips (default 8)")
    parser.add_argument("--assets", nargs="*", metavar="PATH",
                        help="instead of a dataset: render every built-in asset (and those in PATHs) in each family "
                             "that draws assets, as contact-assets.png")


def run(args) -> int:
    if args.assets is not None:
        return _assets_sheet(args.assets, args.out or ".")
    from simreel import shards
    from simreel.shards.preview import write_preview

    if args.dataset is None:
        raise UserError("preview: give a dataset directory, or --assets for the asset library")
    if args.n < 1:
        raise UserError(f"-n {args.n}: expected at least one clip")
    try:
        png, gif = write_preview(args.dataset, args.out, n=args.n)
    except (shards.DatasetError, ValueError) as e:
        raise UserError(str(e)) from None
    print(f"wrote {png} and {gif}")
    return 0


def _assets_sheet(paths: list[str], out: str) -> int:
    import os

    import numpy as np

    from simreel import render, scenes

    try:
        library = scenes.load_library(paths)
    except scenes.AssetError as e:
        raise UserError(str(e)) from None
    for _, why in library.rejected:
        print(f"asset rejected: {why}")
    clip = scenes.ClipFormat(fps=8, duration_s=2.0, width=96, height=96)
    rows, labels = [], []
    with render.Renderer() as renderer:
        for k, asset in enumerate(library.assets):
            only = scenes.AssetLibrary((asset,), builtin=False)
            cells = []
            for family in ASSET_FAMILIES:
                scene = next((s for s in (scenes.make(family, seed, clip, assets=only) for seed in range(k, k + SEEDS_PER_CELL))
                              if any(o.asset for o in s.spec.objects)), None)
                if scene is None:
                    cells.append(np.zeros((clip.height, clip.width, 3), np.uint8))
                    continue
                rgb = renderer.render(scene.spec, scene.trajectory).rgb
                cells.append(rgb[len(rgb) // 2])
            rows.append(np.stack(cells))
            labels.append(f"{asset.ref.name} ({asset.ref.category})")
    sheet = render.contact_sheet(rows, labels, columns=len(ASSET_FAMILIES), label_width=150)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "contact-assets.png")
    tmp = path + ".tmp"
    sheet.save(tmp, format="PNG")
    os.replace(tmp, path)
    print(f"wrote {path}: {len(rows)} assets x {', '.join(ASSET_FAMILIES)}")
    return 0
