"""Mesh assets: files of every format, sidecars, bad meshes, holdout, the built-in library,
rendering in their own colours, and captions that name them. Real files written by trimesh."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import trimesh
from PIL import Image

from simreel import captioning, scenes
from simreel.config import ConfigError, dataset_from_dict
from simreel.scenes import assets, library, vocabulary
from simreel.scenes.assets import AssetLibrary

CLIP = scenes.ClipFormat(fps=8, duration_s=2.0)


def coloured(mesh: trimesh.Trimesh, rgb) -> trimesh.Trimesh:
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=np.tile([*rgb, 255], (len(mesh.vertices), 1)))
    return mesh


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("meshes")
    coloured(trimesh.creation.icosphere(subdivisions=2), vocabulary.COLOURS["red"]).export(d / "red_ball.ply")
    trimesh.creation.cylinder(radius=0.3, height=1.0).export(d / "post.stl")
    coloured(trimesh.creation.capsule(height=0.6, radius=0.2), vocabulary.COLOURS["blue"]).export(d / "pill.obj")
    cube = trimesh.creation.box(extents=(1.0, 0.6, 0.4))
    cube.visual = trimesh.visual.TextureVisuals(uv=np.random.default_rng(0).random((len(cube.vertices), 2)),
                                                image=Image.new("RGB", (8, 8), vocabulary.COLOURS["green"]))
    cube.export(d / "crate.glb")
    (d / "crate.json").write_text(json.dumps({"name": "wooden crate", "category": "container", "size_m": 0.6,
                                              "density": 500, "friction": 0.8, "restitution": 0.2}))
    # bad ones, each rejected with its reason
    (d / "empty.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")  # points, no triangles
    (d / "noise.stl").write_bytes(b"\x00\x01garbage" * 10)
    (d / "noise.ply").write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 9\x00\xff" * 3)
    fin = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1]], [[0, 1, 2], [1, 0, 3], [0, 1, 4]])
    fin.export(d / "fins.ply")
    (d / "sneaky.json").write_text(json.dumps({"name": "x", "density": "heavy"}))
    trimesh.creation.box().export(d / "sneaky.stl")
    (d / "outside.mtl").write_text("newmtl red\nKd 1 0 0\n")  # a folder above: must never be read
    obj = trimesh.creation.box().export(file_type="obj")
    (d / "sub").mkdir()
    (d / "sub" / "escape.obj").write_text("mtllib ../outside.mtl\nusemtl red\n" + obj)
    return d


def test_every_format_loads_with_its_colours_and_sidecar(folder):
    lib = scenes.load_library([str(folder)], builtin=False)
    got = {a.ref.name: a for a in lib.assets}
    assert set(got) == {"red ball", "post", "pill", "wooden crate"}
    assert got["red ball"].colour == "red" and got["pill"].colour == "blue"  # vertex colours kept
    assert got["wooden crate"].colour == "green"  # a texture, sampled at the vertices
    assert got["post"].colour is None  # none of its own: the scene tints it
    crate = got["wooden crate"]
    assert (crate.ref.category, crate.sizes, crate.density, crate.friction, crate.restitution) == (
        "container", ("large",), 500.0, 0.8, 0.2)
    for a in lib.assets:
        assert a.ref.sha256 == __import__("hashlib").sha256(a.source and open(a.source, "rb").read()).hexdigest()
        assert np.isclose(a.mesh.extents.max(), 1.0)


def test_bad_meshes_are_rejected_with_a_reason(folder):
    lib = scenes.load_library([str(folder)], builtin=False)
    reasons = {f.rsplit("/", 1)[-1]: why for f, why in lib.rejected}
    assert "empty" in reasons["empty.obj"]
    assert "not a mesh" in reasons["noise.stl"]
    assert "not a readable PLY" in reasons["noise.ply"]
    assert "non-manifold" in reasons["fins.ply"]
    assert "density must be a number" in reasons["sneaky.stl"]
    assert all("\n" not in why for why in reasons.values())
    with pytest.raises(assets.AssetError, match="gigantic"):
        big = trimesh.creation.icosphere(subdivisions=1)
        assets.normalise(trimesh.Trimesh(np.tile(big.vertices, (1, 1)), np.tile(big.faces, (assets.MAX_FACES // 80 + 1, 1))), "big")


def test_a_name_in_a_file_is_never_a_path(folder):
    lib = scenes.load_library([str(folder / "sub")], builtin=False)
    (escape,) = lib.assets
    assert escape.colour is None  # ../outside.mtl (red) was not read
    for bad in ("../x", "/etc/passwd", "a/b", 7):
        with pytest.raises(assets.AssetError):
            assets.parse_sidecar(json.dumps({"name": bad}).encode(), "x.json")


def test_concave_mesh_is_decomposed_and_simulates(tmp_path):
    library.vessel([(0.4, 0), (0.45, 0.8)], 0.05).export(tmp_path / "pail.obj")
    lib = scenes.load_library([str(tmp_path)], builtin=False)
    (pail,) = lib.assets
    assert len(pail.parts) > 1  # VHACD, cached by the mesh's hash
    assert assets.load_library([str(tmp_path)], builtin=False).assets[0].parts[0].shape == pail.parts[0].shape
    scene = next(s for s in (scenes.make("drop", seed, CLIP, assets=lib) for seed in range(20))
                 if any(o.asset for o in s.spec.objects))
    assert any(e.kind in ("contact_begin", "rest") for e in scene.trajectory.events)


def test_holdout_keeps_named_assets_out_of_training_by_the_datasets_one_split():
    from simreel.job import load_assets

    base = {"num_samples": 2, "families": ["drop"], "assets": {"holdout": ["duck", "teddy bear"]}}
    for split, allowed in (("train", lambda n: n not in ("duck", "teddy bear")),
                           ("heldout", lambda n: n in ("duck", "teddy bear")), ("all", lambda n: True)):
        lib = load_assets(dataset_from_dict({**base, "split": split}))
        seen = {o.asset.name for seed in range(40) for o in scenes.sample("drop", seed, CLIP, assets=lib).objects if o.asset}
        assert seen and all(map(allowed, seen)) and (split != "all" or "duck" in seen or "teddy bear" in seen), split
    with pytest.raises(ConfigError) as e:  # the knob's old place: one line saying where it went
        dataset_from_dict({**base, "assets": {**base["assets"], "split": "heldout"}})
    assert str(e.value).splitlines()[1:] == ["  assets.split: 'heldout' is not allowed; moved: write `split: heldout` at "
                                             "the top of the dataset config instead, where it governs held-out assets "
                                             "and held-out scene regions alike"]
    with pytest.raises(ConfigError, match="needs a `holdout` section or `assets.holdout`"):
        dataset_from_dict({**base, "assets": {}, "split": "heldout"})
    assert assets.heldout_names(library.by_name(), 0.25) == assets.heldout_names(reversed(list(library.by_name())), 0.25)
    assert len(assets.heldout_names(library.by_name(), 0.25)) == round(0.25 * len(library.by_name()))


def test_builtin_library_has_named_objects_with_licences():
    lib = library.by_name()
    assert len(lib) >= 30 + 7
    assert len(set(library.chinese_names().values())) == len(lib)
    for name, a in lib.items():
        assert a.ref.name == name and assets.NAME.fullmatch(name) and a.licence
        assert a.mesh.is_watertight or a.parts or name in library.PYBULLET  # closed, or collides by parts
    assert lib["duck"].colour == "yellow" and "SCEA" in lib["duck"].licence


def test_scene_json_records_the_asset_and_primitives_stay_as_they_were():
    lib = scenes.load_library()
    spec = next(s for s in (scenes.sample("drop", seed, CLIP, assets=lib) for seed in range(10)) if any(o.asset for o in s.objects))
    d = spec.to_dict()
    recorded = [o["asset"] for o in d["objects"] if "asset" in o]
    assert recorded and set(recorded[0]) == {"name", "category", "sha256", "own_colours"}
    assert scenes.SceneSpec.from_dict(json.loads(json.dumps(d))) == spec
    plain = scenes.sample("drop", 3, CLIP)
    assert all("asset" not in o for o in plain.to_dict()["objects"]) and plain == scenes.sample("drop", 3, CLIP, assets=None)


@pytest.fixture(scope="module")
def duck_scene():
    lib = AssetLibrary((library.by_name()["duck"],), builtin=False)
    return next(s for s in (scenes.make("drop", seed, CLIP, assets=lib) for seed in range(30))
                if any(o.asset for o in s.spec.objects))


@pytest.mark.parametrize("world", [None, "clear_day"])
def test_pybullet_mesh_renders_in_its_own_colours(duck_scene, world):
    from simreel import render
    from simreel.scenes import worlds

    spec = duck_scene.spec if world is None else worlds.dress(duck_scene.spec, 0, ("tiles",), (world,), True)
    with render.Renderer() as r:
        frames = r.render(spec, duck_scene.trajectory, ("rgb", "ids"))
    k = next(i for i, o in enumerate(duck_scene.spec.objects) if o.asset) + 1
    pixels = frames.rgb[frames.ids == k].astype(float)
    assert len(pixels) > 20
    r_, g, b = pixels.mean(axis=0)
    assert r_ > b + 40 and g > b + 20  # yellow: its texture, not a tint (in a world too, under its sky)


def test_captions_name_the_asset_in_english_and_chinese(duck_scene):
    caps = captioning.describe(duck_scene.spec, duck_scene.trajectory, languages=("en", "zh"), qa=True)
    assert "yellow duck" in caps.short["en"] + caps.dense["en"]
    assert "鸭子" in caps.short["zh"] + caps.dense["zh"]
    text = json.dumps([caps.short, caps.dense, caps.to_dict().get("qa")], ensure_ascii=False)
    assert "rock" not in text and "石块" not in text and "岩石" not in text  # its shape class never reaches the words


@pytest.mark.parametrize("name", ["soccer ball", "vase"])
def test_a_material_is_named_only_where_it_is_drawn(name):
    """A textured asset's look is its texture: its (physical) material changes none of its pixels and
    no caption, event or question names it; a tinted one (the vase) shows its material, and says it."""
    import re

    from simreel import render
    from simreel.captioning.chinese import MATERIAL
    from simreel.captioning.english import MATERIAL_ADJ
    from simreel.scenes import worlds

    asset = library.by_name()[name]
    drawn = asset.colour is None  # tinted: drawn in its material's finish and pattern
    assert asset.ref.own_colours is not drawn
    lib = AssetLibrary((asset,), builtin=False)
    found = [s for s in (scenes.make("drop", seed, CLIP, assets=lib) for seed in range(20)) if any(o.asset for o in s.spec.objects)]
    english = "|".join(w for words in MATERIAL_ADJ.values() for w in words)
    chinese = "|".join(MATERIAL.values())
    said = 0
    for scene in found[:3]:
        text = json.dumps(captioning.describe(scene.spec, scene.trajectory, languages=("en", "zh"), qa=True).to_dict(),
                          ensure_ascii=False)
        said += len(re.findall(rf"\b(?:{english}) {name}\b|\b{name} made of", text))  # "What is the ball made of?"
        said += len(re.findall(rf"(?:{chinese}){library.chinese_names()[name]}", text))
        if not drawn:  # nor counted among the objects of its material
            material = next(o.material for o in scene.spec.objects if o.asset)
            assert not re.search(rf"How many (?:{'|'.join(MATERIAL_ADJ[material])}|{material}) objects", text), text
    assert (said > 0) is drawn, said
    scene = found[0]
    k = next(i for i, o in enumerate(scene.spec.objects) if o.asset)
    with render.Renderer() as r:
        looks = []
        for material in ("wood", "metal"):
            objects = list(scene.spec.objects)
            objects[k] = dataclasses.replace(objects[k], material=material)
            spec = worlds.dress(dataclasses.replace(scene.spec, objects=tuple(objects)), 0, ("planks",), ("clear_day",), True)
            frames = r.render(spec, scene.trajectory, ("rgb", "ids"))
            looks.append(frames.rgb[frames.ids == k + 1].astype(float))
    assert len(looks[0]) > 20
    assert bool(np.abs(looks[0] - looks[1]).mean() > 3) is drawn


def test_assets_config_is_checked_and_absent_by_default():
    base = {"num_samples": 2, "families": ["drop"]}
    assert "assets" not in dataset_from_dict(base).to_dict()
    cfg = dataset_from_dict({**base, "assets": {"paths": ["x"], "holdout": ["duck"], "builtin": False}})
    assert cfg.assets.holdout == ("duck",) and cfg.hash != dataset_from_dict(base).hash
    with pytest.raises(ConfigError) as e:
        dataset_from_dict({**base, "assets": {"holdout": 2, "builtin": "no", "split": "test", "colour": 1}})
    assert len(str(e.value).splitlines()) == 5


@pytest.mark.slow  # a local Ray and 4 clips
def test_generate_records_assets_in_scene_manifest_and_card(local_ray, folder, tmp_path):
    import io

    from simreel import shards
    from simreel.job import generate

    config = dataset_from_dict({
        "name": "assets", "num_samples": 4, "samples_per_shard": 2, "families": ["drop"],
        "clip": {"resolution": "64x64", "fps": 8, "duration_s": 1.0}, "captions": {"languages": ["en", "zh"]},
        "assets": {"paths": [str(folder)], "holdout": ["duck"]}})
    result = generate(config, str(tmp_path), workers=1, progress_stream=io.StringIO())
    manifest = result.manifest
    metas = [json.loads(x["json"]) for tar in sorted(tmp_path.glob("*.tar")) for x in shards.iter_samples(str(tar))]
    listed = {a["sha256"]: a for a in manifest["assets"]}
    assert listed and "duck" not in {a["name"] for a in manifest["assets"]}
    assert all(len(sha) == 64 and a["source"] and a["licence"] is not None for sha, a in listed.items())
    assert {"noise.stl", "fins.ply"} <= {r["file"].rsplit("/", 1)[-1] for r in manifest["assets_rejected"]}
    card = (tmp_path / "README.md").read_text()
    assert "## Assets" in card and all(sha[:16] in card for sha in listed)
    assert "This is the `train` split" in card and "- held-out assets: duck" in card
    shown = {o["asset"]["sha256"] for m in metas for o in m["scene"]["objects"] if "asset" in o}
    assert shown and shown == set(listed)


def test_preview_sheet_of_families_by_environments_by_assets(folder, tmp_path):
    from simreel.cli import main as cli
    from simreel.scenes.worlds import ENVIRONMENTS
    from support.sheets import cells

    assert cli(["preview", "--worlds", "--assets", str(folder), "--no-builtin", "--families", "drop", "collide",
                "--out", str(tmp_path)]) == 0
    names = [a.ref.name for a in scenes.load_library([str(folder)], builtin=False).assets]
    grid = cells(tmp_path / "contact-all.png", len(names), 2 * len(ENVIRONMENTS)).astype(float)  # [asset, env x family]
    assert (grid.reshape(*grid.shape[:2], -1).std(axis=2) > 4).all()  # every cell shows a scene, none is black
    drop = grid[:, 0::2]  # the same scene (per asset) in each environment: the sky and floor change it
    for a in range(len(ENVIRONMENTS)):
        for b in range(a):
            assert (np.abs(drop[:, a] - drop[:, b]).mean(axis=(1, 2, 3)) > 5).all(), (a, b)
    assert cli(["preview", "--assets", "--families", "topple"]) == 2  # topple draws no assets: one line says so


def test_a_texture_is_drawn_per_pixel_the_right_way_up(tmp_path):
    """A textured mesh's image is sampled per pixel (uv per vertex, the image in its own texture):
    where it is red or blue agrees with its colours sampled at the vertices (trimesh's reading of
    the uv), pixel by pixel, so the image is neither flipped nor mirrored."""
    from simreel import render
    from simreel.render import meshes

    box = trimesh.creation.box(extents=(0.5, 0.7, 1.0))
    image = np.zeros((32, 32, 3), np.uint8)
    image[:, :16] = vocabulary.COLOURS["red"]  # left half red, bottom right blue, top right yellow
    image[16:, 16:] = vocabulary.COLOURS["blue"]
    image[:16, 16:] = vocabulary.COLOURS["yellow"]
    uv = (box.vertices[:, [0, 2]] - box.vertices[:, [0, 2]].min(0)) / np.ptp(box.vertices[:, [0, 2]], axis=0)
    box.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(image))
    box.export(tmp_path / "painted_box.glb")
    (painted,) = scenes.load_library([str(tmp_path)], builtin=False).assets
    assert painted.texture is not None and painted.texture[1].shape == (32, 32, 3)
    lib = AssetLibrary((painted,), builtin=False)
    scene = next(s for s in (scenes.make("drop", seed, scenes.ClipFormat(fps=8, duration_s=1.0, width=96, height=96),
                                         assets=lib) for seed in range(20)) if any(o.asset for o in s.spec.objects))
    k = next(i for i, o in enumerate(scene.spec.objects) if o.asset)
    dotted = assets.register(dataclasses.replace(painted, texture=None, ref=dataclasses.replace(painted.ref, sha256="0" * 64)))
    objects = list(scene.spec.objects)
    objects[k] = dataclasses.replace(objects[k], asset=dotted.ref)  # the same mesh, its colours at the vertices
    assert meshes.texture(scene.spec.objects[k]) is not None and meshes.texture(objects[k]) is None
    with render.Renderer() as r:
        per_pixel, per_vertex = (r.render(spec, scene.trajectory, ("rgb", "ids"))
                                 for spec in (scene.spec, dataclasses.replace(scene.spec, objects=tuple(objects))))
    mask = (per_pixel.ids == k + 1) & (per_vertex.ids == k + 1)
    palette = np.array([vocabulary.COLOURS[c] for c in ("red", "blue", "yellow")], float)
    nearest = [np.linalg.norm(f.rgb[mask].astype(float)[:, None] / 255 - palette[None] / 255, axis=-1).argmin(1)
               for f in (per_pixel, per_vertex)]
    assert mask.sum() > 200 and len(set(nearest[0])) == 3
    assert (nearest[0] == nearest[1]).mean() > 0.85, (nearest[0] == nearest[1]).mean()
