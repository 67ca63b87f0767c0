"""Render ground truth checked against geometry computed independently: ray casts on
the physics meshes, scipy rotations and `scenes.camera.project`, never the renderer's
own matrices."""
from __future__ import annotations

import dataclasses
import gc

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from simreel import render
from simreel.render import renderer as renderer_module
from simreel.render.standard import standard_scene
from simreel.scenes import camera, shapes
from simreel.scenes.types import Trajectory

ALL = ("rgb", "depth", "ids", "flow")


@pytest.fixture(scope="module")
def renderer():
    with render.Renderer() as r:
        yield r


@pytest.fixture(scope="module")
def standard_64(renderer):
    spec, trajectory = standard_scene(64, 24)
    return spec, trajectory, renderer.render(spec, trajectory, ALL)


def body_to_world(trajectory: Trajectory, t: int, k: int) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = Rotation.from_quat(trajectory.orientations[t, k]).as_matrix()  # scipy uses x, y, z, w too
    m[:3, 3] = trajectory.positions[t, k]
    return m


def pixel_rays(K: np.ndarray, pose: np.ndarray, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World-space rays (origins, unit directions) through image points uv [M, 2]."""
    cam = np.stack([(uv[:, 0] - K[0, 2]) / K[0, 0], -(uv[:, 1] - K[1, 2]) / K[1, 1], -np.ones(len(uv))], 1)
    directions = cam @ pose[:3, :3].T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return np.repeat(pose[None, :3, 3], len(uv), 0), directions


def ray_mesh(origins: np.ndarray, directions: np.ndarray, mesh: trimesh.Trimesh) -> np.ndarray:
    """Distance along each ray to its nearest hit on the mesh, inf if none (Moller-Trumbore)."""
    a, b, c = (mesh.vertices[mesh.faces[:, i]] for i in range(3))
    e1, e2 = b - a, c - a  # [F, 3]
    p = np.cross(directions[:, None], e2[None])  # [M, F, 3]
    det = np.einsum("mfk,fk->mf", p, e1)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origins[:, None] - a[None]
    u = np.einsum("mfk,mfk->mf", s, p) * inv
    q = np.cross(s, e1[None])
    v = np.einsum("mk,mfk->mf", directions, q) * inv
    t = np.einsum("fk,mfk->mf", e2, q) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
    return np.where(hit, t, np.inf).min(axis=1)


def first_hits(spec, trajectory, t, origins, directions) -> tuple[np.ndarray, np.ndarray]:
    """(object index or -1 for floor/sky, distance along the ray) of the nearest surface."""
    best = np.full(len(origins), np.inf)
    which = np.full(len(origins), -1)
    down = directions[:, 2] < 0
    floor = np.where(down, -origins[:, 2] / np.where(down, directions[:, 2], -1), np.inf)
    best = np.minimum(best, floor)
    for k, obj in enumerate(spec.objects):
        mesh = shapes.mesh(obj).copy()
        mesh.apply_transform(body_to_world(trajectory, t, k))
        dist = ray_mesh(origins, directions, mesh)
        closer = dist < best
        best[closer] = dist[closer]
        which[closer] = k
    return which, best


def test_depth_and_ids_at_projected_centres(standard_64):
    spec, trajectory, frames = standard_64
    checked = 0
    for t in range(0, trajectory.num_frames, 4):
        pose = frames.poses[t]
        uv, _ = camera.project(trajectory.positions[t], pose, frames.K)
        for k, (u, v) in enumerate(uv):
            if not (0 <= u < spec.width and 0 <= v < spec.height):
                continue
            pixel = np.floor([u, v])
            corners = pixel + np.array([[0.5, 0.5], [0.05, 0.05], [0.95, 0.05], [0.05, 0.95], [0.95, 0.95]])
            origins, directions = pixel_rays(frames.K, pose, corners)
            which, dist = first_hits(spec, trajectory, t, origins, directions)
            if not (which == k).all():  # occluded, or the pixel straddles an edge
                continue
            cam_dir = directions[0] @ pose[:3, :3]  # camera coords
            expected = dist[0] * -cam_dir[2]  # z-depth of the surface hit
            iv, iu = int(pixel[1]), int(pixel[0])
            assert frames.ids[t, iv, iu] == k + 1, f"frame {t} object {k}"
            assert abs(frames.depth[t, iv, iu] - expected) < 0.02 * expected, f"frame {t} object {k}"
            checked += 1
    assert checked >= 20  # most objects are visible in most frames of the standard scene


def test_types_background_and_floor(renderer, standard_64):
    _, _, frames = standard_64
    assert frames.rgb.shape == (24, 64, 64, 3) and frames.rgb.dtype == np.uint8
    assert frames.depth.dtype == np.float32 and frames.ids.dtype == np.uint8 and frames.flow.dtype == np.float32
    spec, trajectory = standard_scene(64, 4)
    spec = dataclasses.replace(spec, camera=dataclasses.replace(spec.camera, elevation_deg=8.0))  # horizon in view
    frames = renderer.render(spec, trajectory, ALL)
    sky = ~np.isfinite(frames.depth)
    assert sky[:, 0].all() and not sky[:, -1].any()  # sky above, floor below
    assert (frames.depth > 0).all() and np.isfinite(frames.flow).all()
    assert (frames.ids[sky] == 0).all() and (frames.flow[sky] == 0).all()
    assert (frames.rgb[:, 0] == spec.floor.background).all()  # the clear colour, untouched
    # the floor's depth is where the pixel ray meets z = 0
    t, v = 2, 60
    origins, directions = pixel_rays(frames.K, frames.poses[t], np.array([[u + 0.5, v + 0.5] for u in range(64)]))
    which, dist = first_hits(spec, trajectory, t, origins, directions)
    floor = which == -1
    z = dist * -(directions @ frames.poses[t][:3, :3])[:, 2]
    assert floor.sum() > 30
    np.testing.assert_allclose(frames.depth[t, v, floor], z[floor], rtol=1e-3)
    assert (frames.ids[t, v, floor] == 0).all()


def test_object_out_of_view_has_no_pixels(renderer):
    spec, trajectory = standard_scene(64, 8)
    positions = trajectory.positions.copy()
    positions[:, 3] = (0.0, -20.0, 0.3)  # far behind the camera
    positions[:, 1] = (12.0, 0.0, 0.3)  # well to the side
    moved = dataclasses.replace(trajectory, positions=positions)
    frames = renderer.render(spec, moved, ("rgb", "ids"))
    present = set(np.unique(frames.ids))
    assert 4 not in present and 2 not in present
    assert {1, 3, 5, 6} <= present


def reference_flow(spec, trajectory, frames) -> np.ndarray:
    """Kubric-style forward flow: unproject with depth at t, move with the surface's rigid
    motion t -> t+1 (static world for id 0), project with the camera at t+1."""
    T, H, W = frames.ids.shape
    v, u = np.mgrid[0:H, 0:W] + 0.5
    K = frames.K
    flow = np.zeros((T, H, W, 2))
    for t in range(T - 1):
        z = np.where(np.isfinite(frames.depth[t]), frames.depth[t], 0.0)
        cam = np.stack([(u - K[0, 2]) / K[0, 0] * z, -(v - K[1, 2]) / K[1, 1] * z, -z, np.ones_like(z)], -1)
        world = cam @ frames.poses[t].T
        for k in range(len(spec.objects)):
            mask = frames.ids[t] == k + 1
            motion = body_to_world(trajectory, t + 1, k) @ np.linalg.inv(body_to_world(trajectory, t, k))
            world[mask] = world[mask] @ motion.T
        uv, _ = camera.project(world[..., :3], frames.poses[t + 1], K)
        flow[t] = np.where(np.isfinite(frames.depth[t])[..., None], uv - np.stack([u, v], -1), 0.0)
    return flow


def test_flow_matches_unproject_move_project(standard_64):
    spec, trajectory, frames = standard_64
    expected = reference_flow(spec, trajectory, frames)
    assert np.abs(frames.flow - expected).max() < 2e-3 * max(1.0, np.abs(expected).max())
    assert np.abs(frames.flow[:-1]).max() > 0.5 and (frames.flow[-1] == 0).all()


def bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample image [H, W, C] at pixel-centre coordinates (x, y) (pixel (i, j) centre = j + .5, i + .5)."""
    x, y = x - 0.5, y - 0.5
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    H, W = image.shape[:2]
    at = lambda yy, xx: image[np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]  # noqa: E731
    return (at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x0 + 1) * fx * (1 - fy)
            + at(y0 + 1, x0) * (1 - fx) * fy + at(y0 + 1, x0 + 1) * fx * fy)


def test_flow_warps_next_frame_onto_this_one(renderer):
    # One rigid object sliding and spinning under an orbiting camera, at 128 so the cube
    # has an interior; warping frame t+1 back with the flow must reproduce frame t.
    spec, trajectory = standard_scene(128, 12)
    keep = [1]  # the cube
    spec = dataclasses.replace(spec, objects=tuple(spec.objects[i] for i in keep))
    trajectory = Trajectory(trajectory.fps, tuple(trajectory.names[i] for i in keep), trajectory.positions[:, keep],
                            trajectory.orientations[:, keep], trajectory.linear_velocities[:, keep],
                            trajectory.angular_velocities[:, keep])
    frames = renderer.render(spec, trajectory, ("rgb", "ids", "flow"))
    errors = []
    for t in range(trajectory.num_frames - 1):
        mask = frames.ids[t] == 1
        v, u = np.nonzero(mask)
        x, y = u + 0.5 + frames.flow[t, v, u, 0], v + 0.5 + frames.flow[t, v, u, 1]
        inside = (x > 0.5) & (x < 127.5) & (y > 0.5) & (y < 127.5)
        warped = bilinear(frames.rgb[t + 1].astype(np.float64) / 255, x[inside], y[inside])
        errors.append(np.abs(warped - frames.rgb[t, v[inside], u[inside]] / 255.0))
        assert np.hypot(*frames.flow[t, v, u].T).mean() > 0.3  # it really moves
    assert np.concatenate(errors).mean() < 0.05


def test_same_bytes_twice_and_across_renderers(renderer, standard_64):
    spec, trajectory, first = standard_64
    again = renderer.render(spec, trajectory, ALL)
    with render.Renderer() as other:
        third = other.render(spec, trajectory, ALL)
    for name in ALL:
        assert getattr(first, name).tobytes() == getattr(again, name).tobytes() == getattr(third, name).tobytes(), name


def test_a_dropped_renderer_leaves_the_others_working(renderer):
    spec, trajectory = standard_scene(64, 2)
    before = renderer.render(spec, trajectory)
    render.Renderer().render(spec, trajectory)  # never closed: garbage-collected right here
    gc.collect()
    assert renderer.render(spec, trajectory).rgb.tobytes() == before.rgb.tobytes()


def test_frames_do_not_depend_on_clip_length_or_batching(renderer, monkeypatch):
    # Batches have a fixed size per image size and scene, so frame t renders the same
    # whatever the clip's length; with a forced batch of 4 frames, 10 frames span 3 batches.
    monkeypatch.setattr(renderer_module, "MAX_BATCH_SAMPLES", 64 * 64 * 4 * 4)
    spec, trajectory = standard_scene(64, 24, camera_motion="static")
    full = renderer.render(spec, trajectory, ALL)
    short_spec = dataclasses.replace(spec, duration_s=10 / spec.fps)
    short = renderer.render(short_spec, Trajectory(trajectory.fps, trajectory.names, *(
        a[:10] for a in (trajectory.positions, trajectory.orientations, trajectory.linear_velocities,
                         trajectory.angular_velocities))), ALL)
    for name in ALL:
        a, b = getattr(full, name)[:10], getattr(short, name)
        if name == "flow":  # frame 9 is the short clip's last: nothing follows it
            a, b = a[:9], b[:9]
        assert a.tobytes() == b.tobytes(), name
    monkeypatch.undo()
    unbatched = renderer.render(spec, trajectory, ALL)  # one batch: the same up to sub-pixel rounding at edges
    assert (np.abs(unbatched.rgb.astype(int) - full.rgb) > 2).mean() < 1e-3
    assert (unbatched.ids == full.ids).mean() > 0.999
    same = unbatched.ids == full.ids
    np.testing.assert_allclose(unbatched.depth[same], full.depth[same], rtol=2e-4)


def test_one_renderer_many_shapes(renderer):
    spec, trajectory = standard_scene(64, 6)
    wide = dataclasses.replace(spec, width=96, height=48)
    a = renderer.render(spec, trajectory, ("rgb", "depth"))
    b = renderer.render(wide, trajectory, ("rgb", "depth"))
    c = renderer.render(spec, trajectory, ("rgb", "depth"))
    assert b.rgb.shape == (6, 48, 96, 3) and b.K[0, 2] == 48 and b.K[1, 2] == 24
    assert a.rgb.tobytes() == c.rgb.tobytes() and a.depth.tobytes() == c.depth.tobytes()
    uv, z = camera.project(trajectory.positions[0], b.poses[0], b.K)  # same fov: objects still where K says
    u, v = uv[0].astype(int)
    assert np.isfinite(b.depth[0, v, u]) and b.depth[0, v, u] < z[0]


def test_shadows_darken_the_floor_where_the_sun_is_blocked(renderer):
    spec, trajectory = standard_scene(128, 2, camera_motion="static")
    lit = renderer.render(dataclasses.replace(spec, light=dataclasses.replace(spec.light, shadows=False)), trajectory,
                          ("rgb", "ids"))
    shadowed = renderer.render(spec, trajectory, ("rgb", "ids"))
    az, el = np.radians(spec.light.azimuth_deg), np.radians(spec.light.elevation_deg)
    sun = np.array([np.cos(el) * np.sin(az), -np.cos(el) * np.cos(az), np.sin(el)])
    luminance = lambda f: f.rgb[0].astype(float).mean(-1)  # noqa: E731
    seen = 0
    for k, obj in enumerate(spec.objects[:3]):  # sphere, cube, cylinder: a point high inside each
        inside = trajectory.positions[0, k] + (0.0, 0.0, 0.4 * obj.dims[2])
        on_floor = inside - sun * inside[2] / sun[2]  # the sun's ray through it meets the floor here
        (u, v), _ = camera.project(on_floor, lit.poses[0], lit.K)
        u, v = int(u), int(v)
        if lit.ids[0, v, u] != 0 or shadowed.ids[0, v, u] != 0:
            continue  # hidden behind the object from this camera
        assert luminance(shadowed)[v, u] < 0.75 * luminance(lit)[v, u], obj.shape
        seen += 1
    assert seen >= 1
    far = (lit.ids[0] == 0) & (np.abs(luminance(shadowed) - luminance(lit)) > 2)
    assert far.mean() < 0.15  # shadows stay local; the rest of the floor is unchanged


def test_qualities(standard_64):
    spec, trajectory, default = standard_64
    for name in ("fast", "high"):
        with render.Renderer(name) as r:
            frames = r.render(spec, trajectory, ("rgb", "ids"))
        assert frames.rgb.shape == default.rgb.shape
        assert (frames.ids == default.ids).mean() > 0.97  # same scene, different edge sampling
        assert np.abs(frames.rgb.astype(int) - default.rgb).mean() < 12
    with pytest.raises(ValueError, match="unknown render quality"):
        render.Renderer("ultra")


def test_modalities_and_input_checks(renderer):
    spec, trajectory = standard_scene(64, 4)
    frames = renderer.render(spec, trajectory)
    assert frames.depth is None and frames.ids is None and frames.flow is None
    assert frames.K.shape == (3, 3) and frames.poses.shape == (4, 4, 4) and frames.num_frames == 4
    with pytest.raises(ValueError, match="unknown modalities"):
        renderer.render(spec, trajectory, ("rgb", "albedo"))
    short = dataclasses.replace(trajectory, positions=trajectory.positions[:2], orientations=trajectory.orientations[:2])
    with pytest.raises(ValueError, match="frames"):
        renderer.render(spec, short)
    with pytest.raises(ValueError, match="do not match"):
        renderer.render(dataclasses.replace(spec, objects=spec.objects[:2]), trajectory)


def test_contact_sheet(standard_64):
    _, _, frames = standard_64
    sheet = render.contact_sheet([frames, frames.rgb[:3]], ["standard", "three frames"], columns=4, scale=2)
    assert sheet.mode == "RGB"
    assert sheet.size == (120 + 4 * (128 + 2), 2 * (128 + 2))
    top_left = np.asarray(sheet)[:128, 120:248]
    assert (top_left == np.kron(frames.rgb[0], np.ones((2, 2, 1), np.uint8))).all()
