"""The renderer: one EGL context, many clips, a few dozen GL calls per clip.

Plain per-frame rendering (pyrender's way) pays Python uniform uploads per object
per frame and a framebuffer read per frame. Here a batch's per-frame state (camera,
object poses) goes up as one uniform buffer; each mesh is drawn once for the whole
batch (instance = frame, tile = frame in a strip framebuffer), and each output is
read back once per batch. Passes per batch:

1. shadow: depth of every shadow caster seen from the sun, one atlas tile per frame;
2. scene: colour (id in alpha) and depth, multisampled;
3. resolve: mean colour; the id covering most samples, its depth, forward and backward
   flow, normal and body coordinates (the last two as extra scene-pass outputs).

Boxes and visible pixels follow from ids and poses on the CPU (`render.truth`).

Meshes, programs and framebuffers persist across clips; only what the clip changes
is uploaded.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import trimesh

from simreel.render import gl, meshes, shaders, transforms, truth
from simreel.render.egl import Context, import_gl
from simreel.render.environment import linear, world_light
from simreel.render.frames import MODALITIES, Frames
from simreel.render.quality import Quality, resolve_quality
from simreel.scenes import camera
from simreel.scenes.types import SceneSpec, Trajectory
from simreel.scenes.vocabulary import COLOURS, MATERIALS
from simreel.scenes.worlds import ENVIRONMENTS, FLOORS, TEXTURES

GL = import_gl()

FLOOR_HALF = 200.0  # metres: the floor reaches far past where fog hides it
FOG = (3.0, 12.0)  # the floor fades into the background between these multiples of the camera distance
MESH_CACHE = 64  # GPU meshes kept; dims vary per object, so cross-clip hits are rare and the bound keeps workers flat
MAX_BATCH_SAMPLES = 1 << 21  # multisample texels per batch: ~16 MB of colour + depth; larger batches are no faster
SHADOW_TILE = (64, 2048)  # shadow-map tile size bounds, texels


class _Mesh:
    """Interleaved position + normal (+ colour (+ uv)) buffer and an index buffer, ready to draw instanced."""

    def __init__(self, vertices: np.ndarray, indices: np.ndarray):
        self.vao = GL.glGenVertexArrays(1)
        GL.glBindVertexArray(self.vao)
        self.buffers = GL.glGenBuffers(2)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.buffers[0])
        GL.glBufferData(GL.GL_ARRAY_BUFFER, vertices.nbytes, vertices, GL.GL_STATIC_DRAW)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self.buffers[1])
        GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, indices.nbytes, indices, GL.GL_STATIC_DRAW)
        sizes = {6: (3, 3), 9: (3, 3, 3), 11: (3, 3, 3, 2)}[vertices.shape[1]]  # position, normal[, colour[, uv]]
        for loc, size in enumerate(sizes):
            GL.glEnableVertexAttribArray(loc)
            GL.glVertexAttribPointer(loc, size, GL.GL_FLOAT, GL.GL_FALSE, vertices.strides[0],
                                     GL.GLvoidp(4 * sum(sizes[:loc])))
        GL.glBindVertexArray(0)
        self.count = int(indices.size)

    def draw(self, instances: int, first: int = 0, count: int | None = None) -> None:
        GL.glBindVertexArray(self.vao)
        count = self.count - first if count is None else count
        GL.glDrawElementsInstanced(GL.GL_TRIANGLES, count, GL.GL_UNSIGNED_INT, GL.GLvoidp(4 * first), instances)

    def delete(self) -> None:
        GL.glDeleteVertexArrays(1, [self.vao])
        GL.glDeleteBuffers(2, self.buffers)


class _Framebuffers:
    textures: list[int]
    framebuffers: list[int]

    def delete(self) -> None:
        GL.glDeleteFramebuffers(len(self.framebuffers), self.framebuffers)
        GL.glDeleteTextures(self.textures)


class _Targets(_Framebuffers):
    """Scene and resolve framebuffers for `capacity` tiles of one image size."""

    def __init__(self, width: int, height: int, capacity: int, quality: Quality, outputs: tuple[str, ...]):
        s, n = quality.supersample, quality.samples
        size = (width * s, height * s * capacity)
        self.colour = gl.texture(GL.GL_RGBA8, *size, n)
        self.depth = gl.texture(GL.GL_DEPTH_COMPONENT32F, *size, n)
        self.geometry = [gl.texture(GL.GL_RGBA16F, *size, n) for _ in range(2 if "normals" in outputs else 0)]
        resolved = [gl.texture(OUTPUTS[name][0], width, height * capacity) for name in outputs]
        self.textures = [self.colour, self.depth, *self.geometry, *resolved]
        self.framebuffers = [gl.framebuffer([self.colour, *self.geometry], self.depth, n), gl.framebuffer(resolved, None)]
        self.scene, self.resolve = self.framebuffers


class _ShadowAtlas(_Framebuffers):
    """One shadow-map tile per frame, stacked like the frames. A rectangle texture: looked
    up in texels, so a tile's lookups do not depend on how many tiles there are."""

    def __init__(self, tile: int, capacity: int):
        rect = GL.GL_TEXTURE_RECTANGLE
        self.depth = gl.texture(GL.GL_DEPTH_COMPONENT24, tile, tile * capacity, linear=True, target=rect)
        GL.glTexParameteri(rect, GL.GL_TEXTURE_COMPARE_MODE, GL.GL_COMPARE_REF_TO_TEXTURE)
        GL.glTexParameteri(rect, GL.GL_TEXTURE_COMPARE_FUNC, GL.GL_LEQUAL)
        self.textures = [self.depth]
        self.framebuffers = [gl.framebuffer([], self.depth, target=rect)]


# resolve outputs: name -> (texture format, read format, read type, channels, dtype); colour, depth
# and id always, the rest when asked for ("normals" brings "coords": they share the scene pass's outputs)
OUTPUTS = {
    "rgb": (GL.GL_RGBA8, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, 3, np.uint8),
    "depth": (GL.GL_R32F, GL.GL_RED, GL.GL_FLOAT, 0, np.float32),
    "ids": (GL.GL_R8, GL.GL_RED, GL.GL_UNSIGNED_BYTE, 0, np.uint8),
    "flow": (GL.GL_RG32F, GL.GL_RG, GL.GL_FLOAT, 2, np.float32),
    "backward_flow": (GL.GL_RG32F, GL.GL_RG, GL.GL_FLOAT, 2, np.float32),
    "normals": (GL.GL_RGBA16F, GL.GL_RGB, GL.GL_FLOAT, 3, np.float32),
    "coords": (GL.GL_RGBA16F, GL.GL_RGB, GL.GL_FLOAT, 3, np.float32),
}


def _outputs(modalities: tuple[str, ...]) -> tuple[str, ...]:
    """The resolve pass's outputs for a set of modalities, in attachment order."""
    geometry = "normals" in modalities or "coords" in modalities
    return ("rgb", "depth", "ids", *(m for m in ("flow", "backward_flow") if m in modalities),
            *(("normals", "coords") if geometry else ()))


@dataclass
class _Draw:
    item: object  # its ObjectSpec or StaticSpec
    mesh: _Mesh
    slot: int  # row of the frame table holding its model matrix
    colour: str
    material: str
    id: int
    box: tuple[np.ndarray, np.ndarray] | None = None  # (low corner, size) in the body frame, for coords
    texture: int = 0  # 1 + index in worlds.TEXTURES; 0 = plain
    seed: tuple[float, float, float] = (0.0, 0.0, 0.0)  # shifts the pattern
    image: int = 0  # GL texture of its own image (an asset's texture), drawn per pixel; 0 = none


@dataclass
class _Clip:
    """What one render call derives from its spec and trajectory (CPU side)."""

    spec: SceneSpec
    K: np.ndarray
    poses: np.ndarray
    table: np.ndarray  # frame_table [T, rows, 4], uploaded batch by batch
    draws: list[_Draw]  # objects and statics (the floor is drawn apart)
    light: np.ndarray | None  # world -> light clip, or None without shadows
    light_width: float
    footprint: tuple[float, float, float, float]  # floor box where shadows can fall
    shadow_tile: int
    tiles: int  # frames per batch: set by image size, quality and object count, never by clip length
    outputs: tuple[str, ...]  # the resolve pass's, `_outputs`
    world: bool  # drawn in a world (spec.world): sky dome, floor kinds, patterns, sky light


class Renderer:
    """Renders clips headless. Hold one per process (or per Ray task) and reuse it.

    quality: "fast" (no anti-aliasing, no shadows), "default" (4x MSAA, shadows) or
    "high" (2x supersampled on top, finer shadows); or a `render.Quality`.
    """

    def __init__(self, quality: str | Quality = "default"):
        self.quality = resolve_quality(quality)
        self._context = Context()
        self.device = f"{self._context.renderer_name}; OpenGL {self._context.version}"  # pixels may differ across devices
        if self.quality.samples > self._context.max_samples:
            raise ValueError(f"quality asks for {self.quality.samples}x MSAA; {self.device} allows {self._context.max_samples}x")
        self._programs: dict[tuple, gl.Program] = {}
        self._meshes: OrderedDict[tuple, _Mesh] = OrderedDict()
        self._images: OrderedDict[str, int] = OrderedDict()  # asset sha256 -> its texture
        self._targets: dict[str, tuple[tuple, _Framebuffers]] = {}  # "frames" / "shadows" -> (key, them)
        self._flow_table: int | None = None
        self._frame_rows = min(4096, self._context.max_uniform_block // 16)
        self._frame_buffer = gl.uniform_buffer(16 * self._frame_rows, gl.UNIFORM_BLOCKS.index("FrameTable"))
        self._empty_vao = GL.glGenVertexArrays(1)
        self._floor = _Mesh(*_floor_grid())
        GL.glVertexAttrib3f(2, 1.0, 1.0, 1.0)  # the colour of meshes without vertex colours: the albedo alone
        GL.glVertexAttrib2f(3, 0.0, 0.0)  # the uv of meshes without a texture (never read)
        self._sky = _Mesh(*meshes.vertex_arrays(trimesh.creation.icosphere(subdivisions=2), 180.0))
        gl.clip_control_zero_to_one()

    def render(self, spec: SceneSpec, trajectory: Trajectory, modalities=("rgb",), motion_blur: int = 1) -> Frames:
        """Frames of `spec` moving as `trajectory`. rgb always; add any of `MODALITIES` as needed.

        motion_blur: rgb averages this many sub-frames spread over a 180-degree shutter centred
        on each frame (1 = none); ground truth stays that of the frame's instant."""
        modalities = tuple(modalities)
        unknown = [m for m in modalities if m not in MODALITIES]
        if unknown:
            raise ValueError(f"unknown modalities {unknown}; choose from {MODALITIES}")
        _check(spec, trajectory)
        if not isinstance(motion_blur, int) or motion_blur < 1:
            raise ValueError(f"motion_blur must be a whole number of sub-frames >= 1, not {motion_blur!r}")
        if self._context is None:
            raise RuntimeError("this Renderer is closed; make a new one")
        self._context.make_current()
        poses = camera.camera_poses(spec.camera, trajectory.num_frames)
        out = self._draw(spec, trajectory, modalities, poses)
        if motion_blur > 1:
            out["rgb"] = self._blurred(spec, trajectory, motion_blur)
        if "normals" in out:
            out["normals"] = truth.camera_normals(out["normals"], poses)
        if "boxes" in modalities:
            out["bbox_2d"], out["visible_px"] = truth.boxes_2d(out["ids"], len(spec.objects))
            out["bbox_3d"] = truth.boxes_3d(spec.objects, transforms.object_matrices(trajectory))
            if "ids" not in modalities:
                del out["ids"]
        return Frames(rgb=out.pop("rgb"), depth=out.pop("depth", None), ids=out.pop("ids", None),
                      flow=out.pop("flow", None), K=camera.intrinsics(spec.camera, spec.width, spec.height),
                      poses=poses, **out)

    def _blurred(self, spec: SceneSpec, trajectory: Trajectory, samples: int) -> np.ndarray:
        """rgb [T, H, W, 3]: each frame the mean (in linear light) of `samples` sub-frames at
        t + (j / (samples - 1) - 1/2) / 2, j = 0..samples-1, poses interpolated between frames."""
        T, steps = trajectory.num_frames, 4 * (samples - 1)  # sub-frame times are multiples of 1 / steps
        ticks = np.arange(T)[:, None] * steps + 2 * np.arange(samples)[None] - (samples - 1)
        ticks = np.clip(ticks, 0, (T - 1) * steps).ravel()
        poses = camera.camera_poses(spec.camera, (T - 1) * steps + 1)[ticks]
        rgb = self._draw(spec, _resample(trajectory, ticks / steps), ("rgb",), poses)["rgb"]
        mean = _LINEAR[rgb].reshape(T, samples, *rgb.shape[1:]).mean(1)
        return np.round(255.0 * np.where(mean <= 0.0031308, 12.92 * mean, 1.055 * mean ** (1 / 2.4) - 0.055)).astype(np.uint8)

    def _draw(self, spec: SceneSpec, trajectory: Trajectory, modalities: tuple[str, ...],
              poses: np.ndarray) -> dict[str, np.ndarray]:
        """The resolve pass's arrays for `modalities` (ids too when boxes need them), by name."""
        clip = self._prepare(spec, trajectory, _outputs(modalities), poses)
        W, H, T = spec.width, spec.height, trajectory.num_frames
        wanted = set(modalities) | {"rgb"} | ({"ids"} if "boxes" in modalities else set())
        out = {name: np.empty((T, H, W, OUTPUTS[name][3]) if OUTPUTS[name][3] else (T, H, W), OUTPUTS[name][4])
               for name in clip.outputs if name in wanted}
        for first in range(0, T, clip.tiles):
            n = min(clip.tiles, T - first)
            gl.update_uniform_buffer(self._frame_buffer, clip.table[first:first + n])
            if clip.light is not None:
                self._shadow_pass(clip, first, n)
            self._scene_pass(clip, first, n)
            self._resolve_pass(clip, first, n)
            framebuffer = self._target("frames").resolve
            for attachment, name in enumerate(clip.outputs):
                if name in out:
                    gl.read(framebuffer, attachment, W, H * n, *OUTPUTS[name][1:3], out[name][first:first + n])
        return out

    def close(self) -> None:
        """Free GL objects and the context (also on leaving a `with` block)."""
        if self._context is None:
            return
        self._context.make_current()
        for m in [*self._meshes.values(), self._floor, self._sky]:
            m.delete()
        for p in self._programs.values():
            p.delete()
        if self._images:
            GL.glDeleteTextures(list(self._images.values()))
        for _, targets in self._targets.values():
            targets.delete()
        if self._flow_table is not None:
            GL.glDeleteTextures([self._flow_table])
        GL.glDeleteBuffers(1, [self._frame_buffer])
        GL.glDeleteVertexArrays(1, [self._empty_vao])
        self._context.close()
        self._context = None

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- per clip -----------------------------------------------------------------

    def _prepare(self, spec: SceneSpec, trajectory: Trajectory, outputs: tuple[str, ...],
                 poses: np.ndarray) -> _Clip:
        """Upload the clip's tables, size the targets, set every uniform fixed over the clip.
        `poses`: the camera's at each frame drawn (the spec's rig, or motion blur's sub-frames)."""
        W, H, T = spec.width, spec.height, trajectory.num_frames
        q, ss = self.quality, self.quality.supersample
        K = camera.intrinsics(spec.camera, W, H)
        objects = transforms.object_matrices(trajectory)
        statics = transforms.static_matrices(spec.statics)
        models = np.concatenate(
            [objects, np.broadcast_to(statics, (T,) + statics.shape), np.broadcast_to(np.eye(4), (T, 1, 4, 4))], axis=1)
        table = transforms.frame_table(poses, K, W, H, models)
        steps = [step for step, name in ((1, "flow"), (-1, "backward_flow")) if name in outputs]
        if steps:  # the warps asked for: forward rows first, then backward ones
            warps = [transforms.flow_matrices(K, poses, objects, step) for step in steps]
            self._upload_flow_table(np.concatenate(warps).reshape(len(steps) * T, -1, 4))

        sun = transforms.sun_direction(spec.light.azimuth_deg, spec.light.elevation_deg)
        light, light_width = None, 0.0
        casters = _casters(spec, trajectory)
        if q.shadows and spec.light.shadows and len(casters[0]):
            light, light_width = transforms.light_matrix(sun, *casters)
        # Batches: as many frames as the GL limits, a memory budget and the uniform block allow
        # (targets sized for the first two, reused across clips; batch length never follows T).
        shadow_tile = int(np.clip(math.ceil(q.shadow_texels * max(W, H)), *SHADOW_TILE))
        limit = self._context.max_size  # tiles stack along y, up to the largest texture / viewport
        capacity = min(limit // (H * ss), limit // shadow_tile, MAX_BATCH_SAMPLES // (W * H * ss * ss * q.samples))
        tiles = min(capacity, self._frame_rows // table.shape[1])
        if tiles < 1:
            raise ValueError(f"a {W}x{H} clip with {len(spec.objects)} objects and {len(spec.statics)} statics does not fit "
                             f"one batch (GL limits: {limit} px, {self._frame_rows} uniform rows)")
        self._ensure_target("frames", (W, H, capacity, q, outputs), _Targets)
        if light is not None:
            self._ensure_target("shadows", (shadow_tile, capacity), _ShadowAtlas)

        radii = _radii_px(spec, trajectory, K, poses) * ss
        geometry = "normals" in outputs
        patterns = spec.world.textures if spec.world is not None else ()
        draws = [_Draw(o, self._mesh(o, meshes.detail(o.shape, r)), k, o.colour, o.material, k + 1,
                       truth.object_box(o) if geometry else None,
                       TEXTURES.index(patterns[k]) + 1 if k < len(patterns) and patterns[k] else 0,
                       tuple(np.random.default_rng([spec.seed, k]).uniform(0.0, 100.0, 3)), self._image(o))
                 for k, (o, r) in enumerate(zip(spec.objects, radii))]
        draws += [_Draw(s, self._mesh(s), len(spec.objects) + i, s.colour, s.material, 0) for i, s in enumerate(spec.statics)]
        footprint = transforms.shadow_footprint(light, sun, FLOOR_HALF) if light is not None else (0.0, 0.0, 0.0, 0.0)
        clip = _Clip(spec, K, poses, table, draws, light, light_width, footprint, shadow_tile, tiles, outputs,
                     spec.world is not None)
        self._set_clip_uniforms(clip, sun)
        return clip

    def _set_clip_uniforms(self, clip: _Clip, sun: np.ndarray) -> None:
        spec, floor, lit = clip.spec, clip.spec.floor, clip.spec.light
        shadows, geometry, world = clip.light is not None, "normals" in clip.outputs, clip.world
        variants = {(False, shadows, False), (True, False, False), (True, shadows, False)} | ({(False, False, True)} if world else set())
        lights = world_light(spec) if world else {}
        for is_floor, has_shadows, sky in variants:
            p = self._program("scene", FLOOR=is_floor, SHADOWS=has_shadows, GEOMETRY=geometry, WORLD=world, SKY=sky)
            for name, value in lights.items():
                p.set(name, value)
            p.set("u_image", 7)  # its own unit: no other sampler type shares it
            if world:
                p.set("u_floor_kind", FLOORS.index(spec.world.floor))
            if sky:
                p.set("u_slot", len(spec.objects) + len(spec.statics))
            p.set("u_stride", clip.table.shape[1])
            p.set("u_tiles", clip.tiles)
            p.set("u_sun_dir", sun)
            p.set("u_sun", float(lit.intensity))
            p.set("u_ambient", float(lit.ambient))
            p.set("u_sky", linear(floor.background))
            p.set("u_ground", 0.5 * (linear(floor.colour_a) + linear(floor.colour_b)))
            if is_floor:
                x0, x1, y0, y1 = clip.footprint
                p.set("u_floor_x", np.array([-FLOOR_HALF, x0, x1, FLOOR_HALF]))
                p.set("u_floor_y", np.array([-FLOOR_HALF, y0, y1, FLOOR_HALF]))
                p.set("u_slot", len(spec.objects) + len(spec.statics))
                p.set("u_check_a", linear(floor.colour_a))
                p.set("u_check_b", linear(floor.colour_b))
                p.set("u_check_m", float(floor.checker_m))
                p.set("u_fog", np.array(FOG) * spec.camera.distance)
                p.set("u_floor_light", np.array([lit.intensity * max(sun[2], 0.0) / np.pi, lit.ambient]))
                p.set("u_id", 0.0)
            if has_shadows:
                p.set("u_shadow_map", 1)
                p.set("u_light", clip.light)
                p.set("u_normal_offset", 1.5 * clip.light_width / clip.shadow_tile)
                p.set("u_shadow_tile", float(clip.shadow_tile))
        if shadows:
            p = self._program("shadow", SHADOW_PASS=True)
            p.set("u_stride", clip.table.shape[1])
            p.set("u_tiles", clip.tiles)
            p.set("u_light", clip.light)
        p = self._resolve_program(clip.outputs)
        p.set("u_color", 2)
        p.set("u_depth", 3)
        p.set("u_near", transforms.NEAR)
        p.set("u_normal", 5)
        p.set("u_coords", 6)
        if "flow" in clip.outputs or "backward_flow" in clip.outputs:
            p.set("u_flow", 4)
            p.set("u_height", spec.height)
            p.set("u_last", clip.table.shape[0] - 1)
            if "backward_flow" in clip.outputs:  # its rows follow the forward ones, if any
                p.set("u_back", clip.table.shape[0] if "flow" in clip.outputs else 0)
            p.set("u_intrinsics", clip.K[[0, 1, 0, 1], [0, 1, 2, 2]])

    def _program(self, kind: str, **defines) -> gl.Program:
        key = (kind,) + tuple(sorted(defines.items()))
        if key not in self._programs:
            vs, fs = {
                "shadow": (shaders.SCENE_VS, shaders.SHADOW_FS),
                "scene": (shaders.SCENE_VS, shaders.SCENE_FS),
                "resolve": (shaders.RESOLVE_VS, shaders.RESOLVE_FS),
            }[kind]
            defines = {k: int(v) for k, v in defines.items() if v is not False}
            self._programs[key] = gl.Program(vs, fs, {"FRAME_ROWS": self._frame_rows, **defines})
        return self._programs[key].use()

    def _resolve_program(self, outputs: tuple[str, ...]) -> gl.Program:
        at = {name: i for i, name in enumerate(outputs)}
        return self._program("resolve", SAMPLES=self.quality.samples, SCALE=self.quality.supersample,
                             FLOW="flow" in at, LOC_FLOW=at.get("flow", False), BACKWARD="backward_flow" in at,
                             LOC_BACKWARD=at.get("backward_flow", False), GEOMETRY="normals" in at,
                             LOC_NORMAL=at.get("normals", False), LOC_COORDS=at.get("coords", False))

    def _mesh(self, item, level: int | None = None) -> _Mesh:
        key = meshes.mesh_key(item, level)
        mesh = self._meshes.get(key)
        if mesh is None:
            mesh = self._meshes[key] = _Mesh(*meshes.arrays_for(item, level))
            if len(self._meshes) > MESH_CACHE:
                self._meshes.popitem(last=False)[1].delete()
        self._meshes.move_to_end(key)
        return mesh

    def _image(self, item) -> int:
        """The GL texture of an object's own image (0 without one), uploaded once per asset."""
        texture = meshes.texture(item)
        if texture is None:
            return 0
        key = item.asset.sha256
        if key not in self._images:
            uv, image = texture
            self._images[key] = gl.image_texture(image, repeat=bool((uv < 0).any() or (uv > 1).any()))
            if len(self._images) > MESH_CACHE:
                GL.glDeleteTextures([self._images.popitem(last=False)[1]])
        self._images.move_to_end(key)
        return self._images[key]

    def _upload_flow_table(self, table: np.ndarray) -> None:
        if self._flow_table is not None:
            GL.glDeleteTextures([self._flow_table])
        self._flow_table = gl.float_texture(table)

    def _ensure_target(self, name: str, key: tuple, kind: type) -> None:
        if name not in self._targets or self._targets[name][0] != key:
            if name in self._targets:
                self._targets[name][1].delete()
            self._targets[name] = key, kind(*key)

    def _target(self, name: str):
        return self._targets[name][1]

    # -- per batch ----------------------------------------------------------------

    def _shadow_pass(self, clip: _Clip, first: int, n: int) -> None:
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._target("shadows").framebuffers[0])
        GL.glViewport(0, 0, clip.shadow_tile, clip.shadow_tile * clip.tiles)
        gl.clear(clip.shadow_tile, clip.shadow_tile * n, depth=1.0)
        _state(depth=GL.GL_LESS, cull=GL.GL_FRONT, front=GL.GL_CCW)  # back faces: no acne on lit faces
        GL.glEnable(GL.GL_POLYGON_OFFSET_FILL)
        GL.glPolygonOffset(1.5, 2.0)
        p = self._program("shadow", SHADOW_PASS=True)
        for d in clip.draws:  # the floor casts no shadow
            p.set("u_slot", d.slot)
            d.mesh.draw(n)
        GL.glDisable(GL.GL_POLYGON_OFFSET_FILL)

    def _scene_pass(self, clip: _Clip, first: int, n: int) -> None:
        ss = self.quality.supersample
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._target("frames").scene)
        GL.glViewport(0, 0, clip.spec.width * ss, clip.spec.height * ss * clip.tiles)
        geometry = "normals" in clip.outputs
        gl.clear(clip.spec.width * ss, clip.spec.height * ss * n, depth=0.0,  # reversed z: 0 is infinitely far
                 colour=(*(c / 255.0 for c in clip.spec.floor.background), 0.0), zeroed=2 if geometry else 0)
        _state(depth=GL.GL_GREATER, cull=GL.GL_BACK, front=GL.GL_CW)  # image rows are flipped: winding too
        shadows = clip.light is not None
        if shadows:
            _bind(1, GL.GL_TEXTURE_RECTANGLE, self._target("shadows").depth)
        p = self._program("scene", FLOOR=False, SHADOWS=shadows, GEOMETRY=geometry, WORLD=clip.world, SKY=False)
        for d in clip.draws:
            own = meshes.own_colours(d.item)  # its file's look, whatever its material: a plain finish, no pattern
            m = MATERIALS["plastic"] if own else MATERIALS[d.material]
            p.set("u_slot", d.slot)
            if d.box is not None:
                p.set("u_box_lo", d.box[0])
                p.set("u_box_size", d.box[1])
            if clip.world:
                p.set("u_texture", d.texture)
                p.set("u_tex_seed", np.asarray(d.seed))
            p.set("u_albedo", np.ones(3) if own else linear(COLOURS[d.colour]))
            p.set("u_imaged", int(d.image > 0))
            if d.image:
                _bind(7, GL.GL_TEXTURE_2D, d.image)
            p.set("u_roughness", m.roughness)
            p.set("u_metallic", m.metallic)
            p.set("u_id", d.id / 255.0)
            d.mesh.draw(n)
        # The floor last, so the depth test spares its shading under objects; its centre
        # cell (where shadows can fall) apart, so the rest skips the shadow lookup.
        if shadows:
            self._program("scene", FLOOR=True, SHADOWS=True, GEOMETRY=geometry, WORLD=clip.world, SKY=False)
            self._floor.draw(n, 0, 6)
        self._program("scene", FLOOR=True, SHADOWS=False, GEOMETRY=geometry, WORLD=clip.world, SKY=False)
        self._floor.draw(n, 6 if shadows else 0)
        if clip.world:  # the sky last, only where nothing was drawn (it writes depth 0: nothing hit)
            _state(depth=GL.GL_GEQUAL, cull=None, front=GL.GL_CW)
            GL.glDepthMask(GL.GL_FALSE)
            self._program("scene", FLOOR=False, SHADOWS=False, GEOMETRY=geometry, WORLD=True, SKY=True)
            self._sky.draw(n)
            GL.glDepthMask(GL.GL_TRUE)

    def _resolve_pass(self, clip: _Clip, first: int, n: int) -> None:
        targets = self._target("frames")
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, targets.resolve)
        GL.glViewport(0, 0, clip.spec.width, clip.spec.height * n)
        _state(depth=None, cull=None, front=GL.GL_CCW)
        target = GL.GL_TEXTURE_2D_MULTISAMPLE if self.quality.samples > 1 else GL.GL_TEXTURE_2D
        _bind(2, target, targets.colour)
        _bind(3, target, targets.depth)
        for unit, texture in enumerate(targets.geometry, 5):
            _bind(unit, target, texture)
        if "flow" in clip.outputs or "backward_flow" in clip.outputs:
            _bind(4, GL.GL_TEXTURE_2D, self._flow_table)
        self._resolve_program(clip.outputs).set("u_first", first)
        GL.glBindVertexArray(self._empty_vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)


_LINEAR = linear(np.arange(256)).astype(np.float32)  # sRGB byte -> linear


def _resample(trajectory: Trajectory, times: np.ndarray) -> Trajectory:
    """The trajectory at fractional frame `times`: positions and velocities linear, orientations
    normalised-linear (each pair on the same hemisphere) between the frames around each time."""
    T = trajectory.num_frames
    i = np.clip(np.floor(times).astype(int), 0, max(T - 2, 0))
    j = np.minimum(i + 1, T - 1)
    f = (times - i)[:, None, None]

    def lerp(a):
        return a[i] * (1 - f) + a[j] * f

    q0, q1 = trajectory.orientations[i], trajectory.orientations[j]
    q1 = np.where((q0 * q1).sum(-1, keepdims=True) < 0, -q1, q1)
    q = q0 * (1 - f) + q1 * f
    return Trajectory(fps=trajectory.fps, names=trajectory.names, positions=lerp(trajectory.positions),
                      orientations=q / np.linalg.norm(q, axis=-1, keepdims=True),
                      linear_velocities=lerp(trajectory.linear_velocities),
                      angular_velocities=lerp(trajectory.angular_velocities))


def _bind(unit: int, target: int, texture: int) -> None:
    GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
    GL.glBindTexture(target, texture)


def _state(*, depth: int | None, cull: int | None, front: int) -> None:
    for cap in (GL.GL_DEPTH_TEST, GL.GL_CLIP_DISTANCE0, GL.GL_CLIP_DISTANCE1):
        (GL.glEnable if depth else GL.glDisable)(cap)
    if depth:
        GL.glDepthFunc(depth)
    if cull is None:
        GL.glDisable(GL.GL_CULL_FACE)
    else:
        GL.glEnable(GL.GL_CULL_FACE)
        GL.glCullFace(cull)
    GL.glFrontFace(front)


def _casters(spec: SceneSpec, trajectory: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """Bounding spheres (centres [M, 3], radii [M]) of every object at every frame and every static."""
    radii = [0.5 * float(np.linalg.norm(o.dims)) for o in spec.objects]
    centres = [trajectory.positions.reshape(-1, 3), np.array([s.position for s in spec.statics]).reshape(-1, 3)]
    bounds = [np.tile(radii, trajectory.num_frames), [0.5 * float(np.linalg.norm(s.dims)) for s in spec.statics]]
    return np.concatenate(centres), np.concatenate(bounds).astype(np.float64)


def _radii_px(spec: SceneSpec, trajectory: Trajectory, K: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """[N] largest on-screen radius, in pixels, of each object's round cross-section
    (dims x / 2: what a tessellation approximates) over the clip."""
    if not spec.objects:
        return np.zeros(0)
    bound = np.array([0.5 * float(np.linalg.norm(o.dims)) for o in spec.objects])
    view = np.linalg.inv(poses)  # [T, 4, 4]
    z = -(np.einsum("tj,tnj->tn", view[:, 2, :3], trajectory.positions) + view[:, 2, 3][:, None])
    nearest = np.maximum(z.min(axis=0) - bound, transforms.NEAR)
    return K[1, 1] * np.array([0.5 * float(o.dims[0]) for o in spec.objects]) / nearest


def _floor_grid() -> tuple[np.ndarray, np.ndarray]:
    """A 3 x 3 grid of cells whose lines the shader places (u_floor_x/y), centre cell
    first: one watertight mesh, split at draw time between shadowed and not."""
    i, j = np.meshgrid(np.arange(4.0), np.arange(4.0), indexing="xy")
    vertices = np.stack([i.ravel(), j.ravel(), 0 * i.ravel(), 0 * i.ravel(), 0 * i.ravel(), 1 + 0 * i.ravel()], 1)
    cells = [(1, 1)] + [(a, b) for b in range(3) for a in range(3) if (a, b) != (1, 1)]
    quads = [(b * 4 + a, b * 4 + a + 1, b * 4 + a + 5, b * 4 + a + 4) for a, b in cells]
    indices = [[q[0], q[1], q[2], q[0], q[2], q[3]] for q in quads]
    return vertices.astype(np.float32), np.array(indices, np.uint32)


def _check(spec: SceneSpec, trajectory: Trajectory) -> None:
    names = tuple(o.name for o in spec.objects)
    if tuple(trajectory.names) != names:
        raise ValueError(f"trajectory objects {trajectory.names} do not match the spec's {names}")
    T, N = trajectory.num_frames, len(names)
    if trajectory.positions.shape != (T, N, 3) or trajectory.orientations.shape != (T, N, 4):
        raise ValueError(f"trajectory arrays have shapes {trajectory.positions.shape}, {trajectory.orientations.shape}; "
                         f"expected ({T}, {N}, 3) and ({T}, {N}, 4)")
    if T != spec.num_frames or T < 1:
        raise ValueError(f"trajectory has {T} frames but the spec asks for {spec.num_frames} "
                         f"({spec.fps} fps x {spec.duration_s} s)")
    if N > 254:
        raise ValueError(f"{N} objects: instance ids are uint8, so at most 254 objects per scene")
    for item in spec.objects + spec.statics:
        if item.colour not in COLOURS or item.material not in MATERIALS:
            raise ValueError(f"{item.name}: colour {item.colour!r} / material {item.material!r} not in scenes.vocabulary")
    world = spec.world
    if world is not None and (world.floor not in FLOORS or world.environment not in ENVIRONMENTS
                              or not set(world.textures) <= {"", *TEXTURES} or len(world.textures) > N):
        raise ValueError(f"world {world} names a floor, environment or texture not in scenes.worlds")
    if spec.width < 1 or spec.height < 1:
        raise ValueError(f"bad image size {spec.width}x{spec.height}")
