"""Worlds (floor kinds, skies and their light, surface patterns, motion blur): deterministic
from the seed, looks only (ground truth and physics unchanged), the sky as its formula says,
its harmonics as the integral says, captions that name them and a checker that holds them to it."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simreel import captioning, render, scenes
from simreel.captioning.check import World, check_claim
from simreel.config import ConfigError, load_dataset
from simreel.render import environment
from simreel.render.standard import standard_scene
from simreel.scenes import camera, worlds
from simreel.scenes.types import SceneSpec
from support.sheets import cells

T = 4


@pytest.fixture(scope="module")
def renderer():
    with render.Renderer() as r:
        yield r


@pytest.fixture(scope="module")
def low_view():
    """The standard scene seen from low down, so the sky fills the top of the frame."""
    spec, trajectory = standard_scene(64, T)
    spec = dataclasses.replace(spec, camera=dataclasses.replace(spec.camera, elevation_deg=10.0, distance=3.5))
    return spec, trajectory


def test_dressing_is_deterministic_looks_only_and_round_trips(low_view):
    spec, _ = low_view
    a = worlds.dress(spec, 5, worlds.FLOORS, tuple(worlds.ENVIRONMENTS), True)
    assert a == worlds.dress(spec, 5, worlds.FLOORS, tuple(worlds.ENVIRONMENTS), True)
    seen = {(w.floor, w.environment) for w in (worlds.dress(spec, s, worlds.FLOORS, tuple(worlds.ENVIRONMENTS), True).world
                                              for s in range(60))}
    assert len(seen) > 15  # the draw spreads over floors and skies
    assert a.objects == spec.objects and a.camera == spec.camera and a.statics == spec.statics
    assert all(t in worlds.MATERIAL_TEXTURES[o.material] for t, o in zip(a.world.textures, a.objects))
    assert SceneSpec.from_dict(a.to_dict()) == a
    assert "world" not in spec.to_dict() and SceneSpec.from_dict(spec.to_dict()) == spec  # the classic look: JSON as before


def test_a_world_changes_pixels_only_never_ground_truth(renderer, low_view):
    spec, trajectory = low_view
    modalities = ("rgb", "depth", "ids", "flow", "normals")
    looks = set()
    for i, (floor, env) in enumerate(zip(worlds.FLOORS, worlds.ENVIRONMENTS)):
        dressed = worlds.dress(spec, i, (floor,), (env,), True)
        frames = renderer.render(dressed, trajectory, modalities)
        # the same sun (it places the floor's shadowed cell) in the classic look
        classic = renderer.render(dataclasses.replace(dressed, world=None), trajectory, modalities)
        for name in modalities[1:]:
            np.testing.assert_array_equal(getattr(frames, name), getattr(classic, name), err_msg=f"{floor} {env} {name}")
        again = renderer.render(dressed, trajectory, ("rgb",))
        np.testing.assert_array_equal(again.rgb, frames.rgb)  # deterministic
        looks.add(frames.rgb.tobytes())
        floor_px = frames.rgb[0][(frames.ids[0] == 0) & np.isfinite(frames.depth[0])]
        assert floor_px.std(0).mean() > 2.0, floor  # a pattern, not a flat colour
        assert np.abs(frames.rgb.astype(int) - classic.rgb).mean() > 5
    assert len(looks) == len(worlds.FLOORS)


def test_the_sky_is_drawn_as_its_formula(renderer, low_view):
    spec, trajectory = low_view
    K = camera.intrinsics(spec.camera, spec.width, spec.height)
    pose = camera.camera_poses(spec.camera, T)[0]
    u, v = spec.width / 2, 0.5  # top row, centre
    d = pose[:3, :3] @ np.array([(u - K[0, 2]) / K[0, 0], -(v - K[1, 2]) / K[1, 1], -1.0])
    d /= np.linalg.norm(d)
    assert d[2] > 0.05
    for name, env in worlds.ENVIRONMENTS.items():
        dressed = worlds.dress(spec, 0, ("grass",), (name,), False)
        frames = renderer.render(dressed, trajectory, ("rgb", "depth"))
        assert not np.isfinite(frames.depth[0, 0, 32])
        sun = render.renderer.transforms.sun_direction(dressed.light.azimuth_deg, dressed.light.elevation_deg)
        c = np.minimum(environment.sky(d[None], environment.linear(env.zenith), environment.linear(env.horizon),
                                       np.asarray(env.sun_tint), sun)[0], 1.0)
        expected = 255 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
        assert np.abs(frames.rgb[0, 0, 32] - expected).max() <= 3, name


def test_sky_light_harmonics_match_the_cosine_integral(low_view):
    spec, _ = low_view
    for name in worlds.ENVIRONMENTS:
        dressed = worlds.dress(spec, 1, ("tiles",), (name,), False)
        light = environment.world_light(dressed)
        env = worlds.ENVIRONMENTS[name]
        sun = render.renderer.transforms.sun_direction(dressed.light.azimuth_deg, dressed.light.elevation_deg)
        d = environment._sphere(20000)
        radiance = environment.sky(d, light["u_zenith"], light["u_horizon"], light["u_sun_tint"], sun) * light["u_sky_gain"]
        ground = 0.5 * (environment.linear(dressed.floor.colour_a) + environment.linear(dressed.floor.colour_b)) * (
            np.asarray(env.sun_tint) * dressed.light.intensity * max(sun[2], 0) / np.pi
            + dressed.light.ambient * environment.linear(env.horizon))
        radiance = np.where(d[:, 2:] > 0, radiance, ground)
        for n in ([0, 0, 1], [1, 0, 0], [0, -1, 0], [0.6, 0.0, -0.8]):
            n = np.asarray(n, dtype=np.float64)
            exact = (4 * np.pi / len(d)) * (np.maximum(d @ n, 0)[:, None] * radiance).sum(0) / np.pi
            x, y, z = n
            basis = np.array([1, y, z, x, x * y, y * z, 3 * z * z - 1, x * z, x * x - y * y])
            approx = basis @ light["u_sh"]
            assert np.abs(approx - exact).max() < 0.08 * exact.max() + 1e-3, (name, n, approx, exact)


def test_motion_blur_smears_motion_and_keeps_ground_truth(renderer):
    spec, trajectory = standard_scene(64, 6, camera_motion="static")
    sharp = renderer.render(spec, trajectory, ("rgb", "ids", "flow"))
    blurred = renderer.render(spec, trajectory, ("rgb", "ids", "flow"), motion_blur=5)
    np.testing.assert_array_equal(blurred.ids, sharp.ids)
    np.testing.assert_array_equal(blurred.flow, sharp.flow)
    moving = np.abs(blurred.rgb.astype(int) - sharp.rgb)
    assert moving.max() > 20
    still = standard_scene(64, 6, camera_motion="static")[1]
    still = dataclasses.replace(still, positions=np.broadcast_to(still.positions[:1], still.positions.shape),
                                orientations=np.broadcast_to(still.orientations[:1], still.orientations.shape))
    a = renderer.render(spec, still, ("rgb",))
    b = renderer.render(spec, still, ("rgb",), motion_blur=3)
    assert np.abs(a.rgb.astype(int) - b.rgb).max() <= 1  # nothing moves: sub-frames are the frame
    with pytest.raises(ValueError, match="motion_blur"):
        renderer.render(spec, trajectory, motion_blur=0)


@pytest.mark.parametrize("family", ["drop", "ramp"])
def test_captions_name_the_floor_and_setting_and_the_checker_holds_them(family):
    clip = scenes.ClipFormat(fps=12, duration_s=1.0)
    named = {"en": 0, "zh": 0}
    for i, (floor, env) in enumerate(zip(worlds.FLOORS, worlds.ENVIRONMENTS)):
        scene = scenes.make(family, 40 + i, clip)
        spec = worlds.dress(scene.spec, i, (floor,), (env,), True)
        caps = captioning.describe(spec, scene.trajectory, languages=("en", "zh"), qa=False)
        world = World(spec, scene.trajectory)
        predicates = {c.predicate for c in caps.claims}
        assert {"floor_kind", "environment"} <= predicates
        for claim in caps.claims:
            assert check_claim(claim, world) is None, claim
            if claim.predicate in ("floor_kind", "environment"):
                other = next(n for n in (worlds.FLOORS if claim.predicate == "floor_kind" else worlds.ENVIRONMENTS)
                             if n != claim.object)
                assert check_claim(dataclasses.replace(claim, object=other), world) is not None
        dense = caps.to_dict()["dense"]
        named["en"] += any(w in dense["en"] for w in ("plank", "board", "tile", "concrete", "grass", "lawn", "checker"))
        named["zh"] += any(w in dense["zh"] for w in ("木", "砖", "水泥", "混凝土", "草", "棋盘"))
    assert named == {"en": 5, "zh": 5}


def test_world_config_knobs_default_to_the_classic_look():
    default = load_dataset("configs/default.yaml")
    assert not default.world and default.motion_blur == 1
    assert "world" not in default.to_dict() and "motion_blur" not in default.to_dict()["render"]
    dressed = load_dataset("configs/default.yaml", ["world={}", "render.motion_blur=3"])
    assert dressed.floors == worlds.FLOORS and dressed.environments == tuple(worlds.ENVIRONMENTS) and dressed.textures
    assert dressed.hash != default.hash and load_dataset(None, _overrides(dressed.to_dict())).hash == dressed.hash
    some = load_dataset("configs/default.yaml", ["world.floors=[planks]", "world.textures=false"])
    assert some.floors == ("planks",) and not some.textures
    shipped = load_dataset("configs/worlds.yaml")
    assert shipped.world and shipped.motion_blur == 3 and "boxes" in shipped.modalities
    with pytest.raises(ConfigError, match="world.floors"):
        load_dataset("configs/default.yaml", ["world.floors=[lava]"])
    with pytest.raises(ConfigError, match="render.motion_blur"):
        load_dataset("configs/default.yaml", ["render.motion_blur=0"])


def _overrides(d: dict) -> list[str]:
    import json

    return [f"{k}={json.dumps(v)}" for k, v in d.items() if v is not None]


def test_preview_worlds_shows_every_floor_under_every_sky(tmp_path):
    from simreel.cli import main as cli

    assert cli(["preview", "--worlds", "--families", "drop", "--out", str(tmp_path)]) == 0
    grid = cells(tmp_path / "contact-worlds.png", len(worlds.FLOORS), len(worlds.ENVIRONMENTS), top=15).astype(float)
    sky, floor = grid[:, :, :12].mean(axis=(2, 3)), grid[:, :, -24:].mean(axis=(2, 3))  # [floor, sky, rgb]
    for a in range(len(worlds.ENVIRONMENTS)):  # each sky its own colour, on every floor
        for b in range(a):
            assert (np.abs(sky[:, a] - sky[:, b]).max(axis=1) > 6).all(), (a, b)
    for a in range(len(worlds.FLOORS)):  # each floor its own look, under every sky
        for b in range(a):
            assert (np.abs(floor[a] - floor[b]).max(axis=1) > 6).all(), (a, b)


def _floor_contrast(frames) -> tuple[float, float]:
    """(mean |difference| of neighbouring floor pixels' luminance, mean floor luminance) of frame 0, in
    8-bit levels; the floor within 8 m: where the pattern has pixels to show in."""
    lum = frames.rgb[0].astype(float) @ np.array([0.2126, 0.7152, 0.0722])
    floor = (frames.ids[0] == 0) & (frames.depth[0] > 0) & (frames.depth[0] < 8)
    steps = [np.abs(np.diff(lum, axis=a))[floor[:-1] & floor[1:] if a == 0 else floor[:, :-1] & floor[:, 1:]]
             for a in (0, 1)]
    return float(np.concatenate(steps).mean()), float(lum[floor].mean())


def test_tiles_read_at_64_pixels_under_every_sky(renderer):
    """Grout at least a pixel wide and tiles that are not white: at 64x64 a tiled floor shows as much
    local contrast as the checker does (before: a tenth of it, the grout faded out), under every sky."""
    clip = scenes.ClipFormat(fps=8, duration_s=1.0, width=64, height=64)
    shots = [scenes.make(family, seed, clip) for family, seed in (("drop", 0), ("collide", 1), ("throw", 2))]
    for sky in worlds.ENVIRONMENTS:
        got = {floor: [_floor_contrast(renderer.render(worlds.dress(s.spec, k, (floor,), (sky,), True), s.trajectory,
                                                       ("rgb", "depth", "ids")))
                       for s in shots for k in range(2)] for floor in ("tiles", "checker")}
        tiles, checker = (np.mean([c for c, _ in got[f]]) for f in ("tiles", "checker"))
        assert tiles > 0.6 * checker and min(c for c, _ in got["tiles"]) > 1.0, (sky, tiles, checker, got["tiles"])
        assert max(m for _, m in got["tiles"]) < 170, (sky, got["tiles"])  # not white under the brightest sky
