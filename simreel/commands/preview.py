"""`simreel preview DIR`: a contact sheet PNG and an animated GIF grid of the first clips, captioned.
`simreel preview --assets`: a contact sheet of the asset library, one row per asset, one column per family.
`simreel preview --worlds`: each family on every floor under every sky; with --assets: every asset in each
family and environment (a floor under a sky), the sheet to look at before generating in worlds."""
from __future__ import annotations

from simreel.cli import UserError

HELP = ("Write preview.png (contact sheet) and preview.gif (animated grid) of a dataset's first clips, "
        "or contact sheets of the asset library (--assets) and the worlds (--worlds), or of both (families x "
        "environments x assets).")
ASSET_FAMILIES = ("drop", "collide", "ramp", "throw")  # the families that draw assets (topple keeps its primitives)
SEEDS_PER_CELL = 40  # seeds tried for a scene that shows the asset (its own colour must stand out from the floor)


def add_arguments(parser) -> None:
    parser.add_argument("dataset", nargs="?", help="dataset directory or URL (holding manifest.json)")
    parser.add_argument("--out", help="where to write the files (default: the dataset directory; with --assets: .)")
    parser.add_argument("-n", type=int, default=8, help="number of clips (default 8)")
    parser.add_argument("--assets", nargs="*", metavar="PATH",
                        help="instead of a dataset: render every built-in asset (and those in PATHs) in each family "
                             "that draws assets, as contact-assets.png")
    parser.add_argument("--worlds", action="store_true",
                        help="instead of a dataset: render each family on every floor under every sky, as "
                             "contact-worlds.png; with --assets: every asset in each family and environment, "
                             "as contact-all.png")
    parser.add_argument("--families", nargs="+", metavar="FAMILY",
                        help="with --assets or --worlds: only these families (default: all that apply)")
    parser.add_argument("--no-builtin", action="store_true",
                        help="with --assets: only the assets in PATHs, not the built-in library")


def run(args) -> int:
    if args.assets is not None or args.worlds:
        return _sheet(args)
    from simreel import shards
    from simreel.shards.preview import write_preview

    if args.dataset is None:
        raise UserError("preview: give a dataset directory, or --assets / --worlds for the library and worlds")
    if args.n < 1:
        raise UserError(f"-n {args.n}: expected at least one clip")
    try:
        png, gif = write_preview(args.dataset, args.out, n=args.n)
    except (shards.DatasetError, ValueError) as e:
        raise UserError(str(e)) from None
    print(f"wrote {png} and {gif}")
    return 0


def _sheet(args) -> int:
    """contact-assets.png (assets x families), contact-worlds.png (families x floors x skies) or, with
    both flags, contact-all.png (assets x environments x families); each cell is a clip's middle frame."""
    import os

    from simreel import render, scenes
    from simreel.scenes.worlds import ENVIRONMENTS, FLOORS

    default = ASSET_FAMILIES if args.assets is not None else scenes.family_names()
    families = tuple(args.families or default)
    for family in families:
        if family not in scenes.family_names() or args.assets is not None and family not in ASSET_FAMILIES:
            raise UserError(f"--families {family}: expected some of {', '.join(default)}")
    clip = scenes.ClipFormat(fps=8, duration_s=2.0, width=96, height=96)
    skies = tuple(ENVIRONMENTS)
    rows, labels = [], []
    with render.Renderer() as renderer:
        if args.assets is None:  # worlds: one scene per family, on every floor (rows) under every sky (columns)
            headers, name = list(skies), "contact-worlds.png"
            for family in families:
                scene = scenes.make(family, 0, clip)
                for floor in FLOORS:
                    rows.append(_frames(renderer, [(scene, (floor, sky)) for sky in skies], clip))
                    labels.append(f"{family}\n{floor} floor")
        else:
            library = _library(args.assets, not args.no_builtin)
            # each environment pairs a sky with a floor (by position: every floor and every sky appear)
            environments = [(FLOORS[i % len(FLOORS)], skies[i % len(skies)]) for i in range(max(len(FLOORS), len(skies)))]
            worlds = [(e, f) for e in environments for f in families] if args.worlds else [(None, f) for f in families]
            headers = [f"{e[1]}, {e[0]}\n{f}" if e else f for e, f in worlds]
            name = "contact-all.png" if args.worlds else "contact-assets.png"
            for k, asset in enumerate(library.assets):
                shown = {f: _scene_showing(asset, f, k, clip) for f in families}
                rows.append(_frames(renderer, [(shown[f], e) for e, f in worlds], clip))
                labels.append(f"{asset.ref.name}\n({asset.ref.category})")
    widest = max(len(line) for label in labels for line in label.split("\n"))
    sheet = render.contact_sheet(rows, labels, columns=len(headers), label_width=max(110, 6 * widest + 8), headers=headers)
    out = args.out or "."
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    tmp = path + ".tmp"
    sheet.save(tmp, format="PNG")
    os.replace(tmp, path)
    print(f"wrote {path}: {len(rows)} rows x {len(headers)} columns")
    return 0


def _library(paths: list[str], builtin: bool):
    from simreel import scenes

    if not builtin and not paths:
        raise UserError("--no-builtin: give the asset folders to show after --assets")
    try:
        library = scenes.load_library(paths, builtin=builtin)
    except scenes.AssetError as e:
        raise UserError(str(e)) from None
    for _, why in library.rejected:
        print(f"asset rejected: {why}")
    if not library.assets:
        raise UserError(f"--assets {' '.join(paths)}: no asset could be loaded (see above)")
    return library


def _scene_showing(asset, family: str, first_seed: int, clip):
    """A scene of `family` with `asset` among its objects, or None when SEEDS_PER_CELL seeds give none."""
    from simreel import scenes

    only = scenes.AssetLibrary((asset,), builtin=False)
    candidates = (scenes.make(family, seed, clip, assets=only) for seed in range(first_seed, first_seed + SEEDS_PER_CELL))
    return next((s for s in candidates if any(o.asset for o in s.spec.objects)), None)


def _frames(renderer, cells, clip):
    """The middle frame of each (scene, world) cell: the scene dressed in the world's (floor, sky), or
    as it is when the world is None; black where there is no scene."""
    import numpy as np

    from simreel.scenes import worlds

    frames = []
    for scene, world in cells:
        if scene is None:
            frames.append(np.zeros((clip.height, clip.width, 3), np.uint8))
            continue
        spec = scene.spec if world is None else worlds.dress(scene.spec, scene.spec.seed, (world[0],), (world[1],), True)
        rgb = renderer.render(spec, scene.trajectory).rgb
        frames.append(rgb[len(rgb) // 2])
    return np.stack(frames)
