"""Kubric-grade ground truth (normals, backward flow, object coordinates, boxes, contact
impulses) checked against geometry computed apart from the renderer: unprojected depth,
scipy rotations, `scenes.camera.project`, the objects' own meshes."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from simreel import render, scenes
from simreel.render import truth
from simreel.render.standard import standard_scene
from simreel.scenes import camera

T = 12


@pytest.fixture(scope="module")
def clip():
    spec, trajectory = standard_scene(64, T)
    with render.Renderer() as r:
        frames = r.render(spec, trajectory, render.MODALITIES)
        boxes_only = r.render(spec, trajectory, ("rgb", "boxes"))
    return spec, trajectory, frames, boxes_only


def body_to_world(trajectory, t: int, k: int) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = Rotation.from_quat(trajectory.orientations[t, k]).as_matrix()
    m[:3, 3] = trajectory.positions[t, k]
    return m


def world_points(frames, t: int) -> np.ndarray:
    """[H, W, 3] world point seen at each pixel centre of frame t (from depth; garbage off surfaces)."""
    H, W = frames.depth.shape[1:]
    v, u = np.mgrid[0:H, 0:W] + 0.5
    K, z = frames.K, np.where(np.isfinite(frames.depth[t]), frames.depth[t], 0.0)
    cam = np.stack([(u - K[0, 2]) / K[0, 0] * z, -(v - K[1, 2]) / K[1, 1] * z, -z, np.ones_like(z)], -1)
    return (cam @ frames.poses[t].T)[..., :3]


def interior(ids: np.ndarray, k: int) -> np.ndarray:
    """Pixels of object k whose four neighbours are object k too (no edge pixels)."""
    m = ids == k
    inner = m.copy()
    inner[1:-1, 1:-1] &= m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    inner[[0, -1]] = inner[:, [0, -1]] = False
    return inner


def test_the_new_modalities_leave_the_old_ones_as_they_were(clip):
    spec, trajectory, frames, boxes_only = clip
    with render.Renderer() as r:
        plain = r.render(spec, trajectory, ("rgb", "depth", "ids", "flow"))
    for name in ("rgb", "depth", "ids", "flow"):
        np.testing.assert_array_equal(getattr(frames, name), getattr(plain, name), err_msg=name)
    assert boxes_only.ids is None and boxes_only.normals is None  # boxes read ids without returning them
    for name in ("bbox_2d", "bbox_3d", "visible_px"):
        np.testing.assert_array_equal(getattr(boxes_only, name), getattr(frames, name), err_msg=name)
    assert frames.normals.dtype == frames.coords.dtype == frames.backward_flow.dtype == np.float32
    assert frames.bbox_2d.dtype == frames.bbox_3d.dtype == np.float32 and frames.visible_px.dtype == np.int32


def test_normals_are_unit_face_the_camera_and_point_up_on_the_floor(clip):
    spec, trajectory, frames, _ = clip
    hit = np.isfinite(frames.depth)
    length = np.linalg.norm(frames.normals, axis=-1)
    assert np.allclose(length[hit], 1.0, atol=1e-3) and (length[~hit] == 0).all()
    world = np.einsum("tij,thwj->thwi", frames.poses[:, :3, :3], frames.normals)
    floor = hit & (frames.ids == 0) & (world_points_z(frames) < 1e-3)
    assert floor.sum() > 1000 and (world[floor][:, 2] > 0.9999).all()
    # facing the camera: the normal and the ray back to the eye agree (edge pixels aside)
    H, W = frames.depth.shape[1:]
    v, u = np.mgrid[0:H, 0:W] + 0.5
    rays = np.stack([(u - frames.K[0, 2]) / frames.K[0, 0], -(v - frames.K[1, 2]) / frames.K[1, 1], -np.ones_like(u)], -1)
    facing = -(frames.normals * rays).sum(-1)
    assert (facing[hit] > -0.05).mean() > 0.99


def world_points_z(frames) -> np.ndarray:
    return np.stack([world_points(frames, t)[..., 2] for t in range(frames.num_frames)])


def test_normals_on_the_sphere_point_away_from_its_centre(clip):
    spec, trajectory, frames, _ = clip
    k = 0  # obj0, a sphere
    assert spec.objects[k].shape == "sphere"
    angles = []
    for t in range(T):
        mask = interior(frames.ids[t], k + 1)
        expected = world_points(frames, t)[mask] - trajectory.positions[t, k]
        expected /= np.linalg.norm(expected, axis=-1, keepdims=True)
        world = frames.normals[t][mask] @ frames.poses[t, :3, :3].T
        angles.append(np.degrees(np.arccos(np.clip((world * expected).sum(-1), -1, 1))))
    angles = np.concatenate(angles)
    assert len(angles) > 100 and np.median(angles) < 2.0 and angles.max() < 10.0  # a tessellated sphere, smooth-shaded


def reference_flow(spec, trajectory, frames, step: int) -> np.ndarray:
    """Unproject with depth at t, move with the surface's rigid motion t -> t + step, project."""
    H, W = frames.depth.shape[1:]
    v, u = np.mgrid[0:H, 0:W] + 0.5
    flow = np.zeros((T, H, W, 2))
    for t in range(max(0, -step), T - max(0, step)):
        world = np.concatenate([world_points(frames, t), np.ones((H, W, 1))], -1)
        for k in range(len(spec.objects)):
            mask = frames.ids[t] == k + 1
            motion = body_to_world(trajectory, t + step, k) @ np.linalg.inv(body_to_world(trajectory, t, k))
            world[mask] = world[mask] @ motion.T
        uv, _ = camera.project(world[..., :3], frames.poses[t + step], frames.K)
        flow[t] = np.where(np.isfinite(frames.depth[t])[..., None], uv - np.stack([u, v], -1), 0.0)
    return flow


def test_backward_flow_matches_unproject_move_project_and_undoes_forward_flow(clip):
    spec, trajectory, frames, _ = clip
    expected = reference_flow(spec, trajectory, frames, -1)
    assert np.abs(frames.backward_flow - expected).max() < 2e-3 * max(1.0, np.abs(expected).max())
    assert np.abs(frames.backward_flow[1:]).max() > 0.5 and (frames.backward_flow[0] == 0).all()
    # round trip on rigid objects: forward to t + 1, then backward from the nearest pixel there
    errors = []
    for t in range(T - 1):
        for k in range(len(spec.objects)):
            v, u = np.nonzero(interior(frames.ids[t], k + 1))
            x, y = u + 0.5 + frames.flow[t, v, u, 0], v + 0.5 + frames.flow[t, v, u, 1]
            iu, iv = np.floor(x).astype(int), np.floor(y).astype(int)
            ok = (iu >= 0) & (iu < 64) & (iv >= 0) & (iv < 64)
            iu, iv, x, y, u, v = iu[ok], iv[ok], x[ok], y[ok], u[ok], v[ok]
            same = interior(frames.ids[t + 1], k + 1)[iv, iu]
            back = frames.backward_flow[t + 1, iv[same], iu[same]]
            # where the nearest pixel's surface point lands, compared with where we started
            landed = np.stack([iu[same] + 0.5, iv[same] + 0.5], -1) + back
            start = np.stack([u[same] + 0.5, v[same] + 0.5], -1) - np.stack([x[same] - iu[same] - 0.5,
                                                                              y[same] - iv[same] - 0.5], -1)
            errors.append(np.linalg.norm(landed - start, axis=-1))
    errors = np.concatenate(errors)
    assert len(errors) > 200 and np.median(errors) < 0.05 and np.percentile(errors, 95) < 0.2


def test_coords_are_the_body_frame_point_scaled_to_the_box(clip):
    spec, trajectory, frames, _ = clip
    assert frames.coords.min() >= 0.0 and frames.coords.max() <= 1.0
    assert (frames.coords[frames.ids == 0] == 0).all()
    for k, obj in enumerate(spec.objects):
        lo, size = truth.object_box(obj)
        for t in range(0, T, 3):
            mask = interior(frames.ids[t], k + 1)
            body = (world_points(frames, t)[mask] - trajectory.positions[t, k]) @ body_to_world(trajectory, t, k)[:3, :3]
            # in pixels: metres over a pixel's footprint at that depth
            error = np.abs(frames.coords[t][mask] * size + lo - body).max(-1) * frames.K[0, 0] / frames.depth[t][mask]
            # a pixel across a crease (a cube's edge) mixes two faces: depth and coords differ a little there
            assert np.median(error) < 0.1 and (error < 0.5).mean() > 0.85 and error.max() < 2, f"{obj.shape} {t}"


def test_coords_stay_with_a_surface_point_across_frames(clip):
    spec, trajectory, frames, _ = clip
    followed, fixed = [], []
    for t in range(T - 1):
        for k in range(len(spec.objects)):
            v, u = np.nonzero(interior(frames.ids[t], k + 1))
            # where forward flow takes the pixel, as a bilinear lookup among object pixels of t + 1
            x, y = u + frames.flow[t, v, u, 0], v + frames.flow[t, v, u, 1]  # pixel-centre units
            i, j = np.floor(x).astype(int), np.floor(y).astype(int)
            ok = (i >= 0) & (i < 63) & (j >= 0) & (j < 63)
            i, j, x, y, u, v = i[ok], j[ok], x[ok], y[ok], u[ok], v[ok]
            inner = interior(frames.ids[t + 1], k + 1)
            ok = inner[j, i] & inner[j, i + 1] & inner[j + 1, i] & inner[j + 1, i + 1] & inner[v, u]
            i, j, fx, fy, u, v = i[ok], j[ok], (x - i)[ok, None], (y - j)[ok, None], u[ok], v[ok]
            c = frames.coords[t + 1]
            there = ((1 - fx) * (1 - fy) * c[j, i] + fx * (1 - fy) * c[j, i + 1] + (1 - fx) * fy * c[j + 1, i]
                     + fx * fy * c[j + 1, i + 1])
            followed.append(np.abs(there - frames.coords[t, v, u]).max(-1))
            fixed.append(np.abs(c[v, u] - frames.coords[t, v, u]).max(-1))
    followed, fixed = np.concatenate(followed), np.concatenate(fixed)
    assert len(followed) > 200 and np.median(followed) < 0.01 and np.median(followed) < 0.2 * np.median(fixed)


def test_boxes_bound_the_ids_mask_and_follow_the_body(clip):
    spec, trajectory, frames, _ = clip
    N = len(spec.objects)
    assert frames.bbox_2d.shape == (T, N, 4) and frames.bbox_3d.shape == (T, N, 8, 3) and frames.visible_px.shape == (T, N)
    for t in range(T):
        for k in range(N):
            v, u = np.nonzero(frames.ids[t] == k + 1)
            assert frames.visible_px[t, k] == len(u)
            if not len(u):
                assert np.isnan(frames.bbox_2d[t, k]).all()
                continue
            np.testing.assert_array_equal(frames.bbox_2d[t, k], [u.min(), v.min(), u.max() + 1, v.max() + 1])
            # the 3D box's corners, projected, enclose the 2D box (up to the pixel grid)
            uv, _ = camera.project(frames.bbox_3d[t, k].astype(np.float64), frames.poses[t], frames.K)
            x0, y0, x1, y1 = frames.bbox_2d[t, k]
            assert uv[:, 0].min() <= x0 + 1 and uv[:, 1].min() <= y0 + 1 and uv[:, 0].max() >= x1 - 1 and uv[:, 1].max() >= y1 - 1
            # the corners, back in the body frame, are the box of the object's mesh
            body = (frames.bbox_3d[t, k] - trajectory.positions[t, k]) @ body_to_world(trajectory, t, k)[:3, :3]
            lo, size = truth.object_box(spec.objects[k])
            np.testing.assert_allclose(body.min(0), lo, atol=1e-4)
            np.testing.assert_allclose(body.max(0) - body.min(0), size, atol=1e-4)
    assert frames.visible_px.sum() > 0 and (frames.visible_px > 0).mean() > 0.5


def test_contact_events_carry_a_positive_impulse_and_a_unit_normal():
    contacts = []
    for family, seed in (("drop", 1), ("collide", 2)):
        scene = scenes.make(family, seed, scenes.ClipFormat(duration_s=1.0))
        for e in scene.trajectory.events:
            if e.kind == "contact_begin":
                contacts.append(e)
                assert e.impulse > 0 and e.impulse == e.value
                assert abs(np.linalg.norm(e.normal) - 1.0) < 1e-6
                if e.subjects[1] == "floor":
                    assert e.normal[2] > 0.9  # from the floor towards the object: up
                assert scenes.Event.from_dict(e.to_dict()) == e
            else:
                assert "normal" not in e.to_dict() and "impulse" not in e.to_dict()
    assert len(contacts) >= 2
