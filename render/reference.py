"""Plain pyrender, used the way its docs show: the baseline and an independent check.

Per frame: set node poses, one `OffscreenRenderer.render` for RGB + depth, and a second
with `RenderFlags.SEG` for instance ids. `benchmarks/render.py` measures our renderer
against this; the tests compare our depth and ids with it.
"""
from __future__ import annotations

import numpy as np
import trimesh

from simreel.render.compat import pyrender  # the NumPy 2 patch comes first
from simreel.render.egl import release
from simreel.render.frames import Frames
from simreel.render.transforms import NEAR, object_matrices, static_matrices, sun_direction
from simreel.scenes import camera, shapes
from simreel.scenes.types import SceneSpec, Trajectory
from simreel.scenes.vocabulary import COLOURS, FLOOR_MATERIAL, MATERIALS

FLOOR_HALF = 10.0  # pyrender fits its shadow camera to the whole scene: keep the floor modest


def _material(colour: str, material: str) -> pyrender.MetallicRoughnessMaterial:
    m = MATERIALS[material]
    return pyrender.MetallicRoughnessMaterial(
        baseColorFactor=[*(c / 255.0 for c in COLOURS[colour]), 1.0], metallicFactor=m.metallic, roughnessFactor=m.roughness
    )


def _floor(spec: SceneSpec) -> pyrender.Mesh:
    tiles = 2 * FLOOR_HALF / spec.floor.checker_m
    h = FLOOR_HALF
    mesh = trimesh.Trimesh(vertices=[[-h, -h, 0], [h, -h, 0], [h, h, 0], [-h, h, 0]], faces=[[0, 1, 2], [0, 2, 3]], process=False)
    a, b = (*spec.floor.colour_a, 255), (*spec.floor.colour_b, 255)
    image = np.array([[a, b], [b, a]], np.uint8)  # RGBA: rows of 2 RGB texels would break GL unpack alignment
    texture = pyrender.Texture(
        source=image, source_channels="RGBA",
        sampler=pyrender.Sampler(magFilter=pyrender.constants.GLTF.NEAREST, minFilter=pyrender.constants.GLTF.LINEAR,
                                 wrapS=pyrender.constants.GLTF.REPEAT, wrapT=pyrender.constants.GLTF.REPEAT),
    )
    material = pyrender.MetallicRoughnessMaterial(baseColorTexture=texture, metallicFactor=FLOOR_MATERIAL.metallic,
                                                  roughnessFactor=FLOOR_MATERIAL.roughness)
    uv = np.array([[0, 0], [tiles / 2, 0], [tiles / 2, tiles / 2], [0, tiles / 2]], np.float32)
    primitive = pyrender.Primitive(positions=mesh.vertices, normals=np.tile([0.0, 0.0, 1.0], (4, 1)),
                                   indices=mesh.faces, texcoord_0=uv, material=material)
    return pyrender.Mesh([primitive])


class PyrenderReference:
    """One pyrender OffscreenRenderer (its own EGL context); `prepare` then `render`."""

    def __init__(self, width: int, height: int):
        self._renderer = pyrender.OffscreenRenderer(width, height)

    def prepare(self, spec: SceneSpec) -> tuple:
        """Build the pyrender scene for `spec` (once per clip)."""
        scene = pyrender.Scene(bg_color=[*(c / 255.0 for c in spec.floor.background), 1.0],
                               ambient_light=[spec.light.ambient] * 3)
        nodes = [scene.add(pyrender.Mesh.from_trimesh(shapes.mesh(o), material=_material(o.colour, o.material)))
                 for o in spec.objects]
        for s, pose in zip(spec.statics, static_matrices(spec.statics)):
            scene.add(pyrender.Mesh.from_trimesh(trimesh.creation.box(extents=s.dims), material=_material(s.colour, s.material),
                                                 smooth=False), pose=pose)
        scene.add(_floor(spec))
        K = camera.intrinsics(spec.camera, spec.width, spec.height)
        cam = scene.add(pyrender.IntrinsicsCamera(K[0, 0], K[1, 1], K[0, 2], K[1, 2], znear=NEAR, zfar=1000.0))
        sun = camera.look_at(sun_direction(spec.light.azimuth_deg, spec.light.elevation_deg), np.zeros(3))
        scene.add(pyrender.DirectionalLight(intensity=spec.light.intensity), pose=sun)
        seg = {node: (k + 1,) * 3 for k, node in enumerate(nodes)}
        return scene, nodes, cam, seg, K

    def render(self, prepared: tuple, spec: SceneSpec, trajectory: Trajectory, modalities=("rgb", "depth", "ids"),
               shadows: bool = True) -> Frames:
        scene, nodes, cam, seg, K = prepared
        poses = camera.camera_poses(spec.camera, trajectory.num_frames)
        objects = object_matrices(trajectory)
        flags = pyrender.RenderFlags.SHADOWS_DIRECTIONAL if shadows else pyrender.RenderFlags.NONE
        rgb, depth, ids = [], [], []
        for t in range(trajectory.num_frames):
            for node, pose in zip(nodes, objects[t]):
                scene.set_pose(node, pose)
            scene.set_pose(cam, poses[t])
            colour, z = self._renderer.render(scene, flags=flags)
            rgb.append(colour)
            depth.append(z)
            if "ids" in modalities:
                ids.append(self._renderer.render(scene, flags=pyrender.RenderFlags.SEG, seg_node_map=seg)[0][..., 0])
        depth = np.stack(depth).astype(np.float32)
        return Frames(rgb=np.stack(rgb), depth=np.where(depth > 0, depth, np.inf).astype(np.float32),
                      ids=np.stack(ids) if ids else None, flow=None, K=K, poses=poses)

    def close(self) -> None:
        """Free pyrender's GL objects and its context, leaving other contexts alive."""
        r = self._renderer
        if r._platform is None:
            return
        r._platform.make_current()
        r._renderer.delete()
        release(r._platform)
        r._renderer = r._platform = None

    def __del__(self):  # pyrender's own clean-up would eglTerminate every context of the process
        self.close()

