"""Small PyOpenGL helpers: programs, textures, framebuffers. Nothing scene-specific."""
from __future__ import annotations

import numpy as np

from simreel.render.egl import import_gl

GL = import_gl()

GLSL_VERSION = "#version 330 core\n"
UNIFORM_BLOCKS = ("FrameTable",)  # uniform block name -> binding point (its index)


class Program:
    """A linked shader program; `set(name, value)` sets a uniform by its Python type."""

    def __init__(self, vertex: str, fragment: str, defines: dict[str, int]):
        header = GLSL_VERSION + "".join(f"#define {k} {v}\n" for k, v in defines.items())
        shaders = [_compile(GL.GL_VERTEX_SHADER, header + vertex), _compile(GL.GL_FRAGMENT_SHADER, header + fragment)]
        self.id = GL.glCreateProgram()
        for s in shaders:
            GL.glAttachShader(self.id, s)
        GL.glLinkProgram(self.id)
        for s in shaders:
            GL.glDeleteShader(s)
        if not GL.glGetProgramiv(self.id, GL.GL_LINK_STATUS):
            raise RuntimeError(f"shader link failed ({defines}): {GL.glGetProgramInfoLog(self.id).decode()}")
        for binding, block in enumerate(UNIFORM_BLOCKS):
            index = GL.glGetUniformBlockIndex(self.id, block)
            if index != GL.GL_INVALID_INDEX:
                GL.glUniformBlockBinding(self.id, index, binding)
        self._locations: dict[str, int] = {}

    def use(self) -> "Program":
        GL.glUseProgram(self.id)
        return self

    def set(self, name: str, value) -> None:
        loc = self._locations.get(name)
        if loc is None:
            loc = self._locations[name] = GL.glGetUniformLocation(self.id, name)
        if loc < 0:
            return  # optimised out in this variant
        if isinstance(value, (bool, int, np.integer)):
            GL.glUniform1i(loc, int(value))
        elif isinstance(value, (float, np.floating)):
            GL.glUniform1f(loc, float(value))
        else:
            a = np.asarray(value, dtype=np.float32)
            if a.shape == (4, 4):
                GL.glUniformMatrix4fv(loc, 1, GL.GL_TRUE, a)
            elif a.ndim == 2 and a.shape[1] == 3:  # an array of vec3
                GL.glUniform3fv(loc, len(a), np.ascontiguousarray(a))
            else:
                {2: GL.glUniform2fv, 3: GL.glUniform3fv, 4: GL.glUniform4fv}[a.size](loc, 1, a)

    def delete(self) -> None:
        GL.glDeleteProgram(self.id)


def _compile(kind: int, source: str) -> int:
    shader = GL.glCreateShader(kind)
    GL.glShaderSource(shader, source)
    GL.glCompileShader(shader)
    if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
        log = GL.glGetShaderInfoLog(shader).decode()
        raise RuntimeError(f"shader compile failed: {log}")
    return shader


def clip_control_zero_to_one() -> None:
    """glClipControl(GL_LOWER_LEFT, GL_ZERO_TO_ONE) (GL 4.5): clip z in 0..1, so a reversed,
    float depth buffer keeps ~1e-7 relative precision at every distance. PyOpenGL 3.1.0
    (pinned by pyrender) predates it, so it is looked up by name."""
    import ctypes

    import OpenGL.platform

    address = OpenGL.platform.PLATFORM.getExtensionProcedure(b"glClipControl")
    if not address:
        raise RuntimeError("this OpenGL has no glClipControl (needs OpenGL 4.5 or ARB_clip_control)")
    ctypes.CFUNCTYPE(None, ctypes.c_uint, ctypes.c_uint)(address)(0x8CA1, 0x935F)  # GL_LOWER_LEFT, GL_ZERO_TO_ONE


def texture(internal: int, width: int, height: int, samples: int = 1, *, linear: bool = False,
            target: int = GL.GL_TEXTURE_2D) -> int:
    """Storage-only texture (or multisample texture) to render into or fetch from."""
    tex = GL.glGenTextures(1)
    if samples > 1:
        GL.glBindTexture(GL.GL_TEXTURE_2D_MULTISAMPLE, tex)
        GL.glTexStorage2DMultisample(GL.GL_TEXTURE_2D_MULTISAMPLE, samples, internal, width, height, GL.GL_TRUE)
        return tex
    GL.glBindTexture(target, tex)
    GL.glTexStorage2D(target, 1, internal, width, height)
    filt = GL.GL_LINEAR if linear else GL.GL_NEAREST
    GL.glTexParameteri(target, GL.GL_TEXTURE_MIN_FILTER, filt)
    GL.glTexParameteri(target, GL.GL_TEXTURE_MAG_FILTER, filt)
    GL.glTexParameteri(target, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
    GL.glTexParameteri(target, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
    return tex


def framebuffer(colours: list[int], depth: int | None, samples: int = 1, target: int = GL.GL_TEXTURE_2D) -> int:
    """A framebuffer drawing into `colours` (attachments 0..n-1) and `depth`."""
    target = GL.GL_TEXTURE_2D_MULTISAMPLE if samples > 1 else target
    fbo = GL.glGenFramebuffers(1)
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
    for i, tex in enumerate(colours):
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0 + i, target, tex, 0)
    if depth is not None:
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, target, depth, 0)
    GL.glDrawBuffers(len(colours), [GL.GL_COLOR_ATTACHMENT0 + i for i in range(len(colours))] or [GL.GL_NONE])
    if not colours:
        GL.glReadBuffer(GL.GL_NONE)
    status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
    if status != GL.GL_FRAMEBUFFER_COMPLETE:
        raise RuntimeError(f"framebuffer incomplete (status 0x{int(status):x})")
    return fbo


def clear(width: int, height: int, depth: float, colour: tuple | None = None, zeroed: int = 0) -> None:
    """Clear depth (and colour) of the bottom `height` rows only: a batch shorter than
    the strip leaves the rest alone. Clear values are set here, every time. Colour
    attachments 1..zeroed are cleared to zero (colour goes to attachment 0)."""
    bits = GL.GL_DEPTH_BUFFER_BIT
    GL.glClearDepth(depth)
    if colour is not None:
        GL.glClearColor(*colour)
        bits |= GL.GL_COLOR_BUFFER_BIT
    GL.glDepthMask(GL.GL_TRUE)
    GL.glEnable(GL.GL_SCISSOR_TEST)
    GL.glScissor(0, 0, width, height)
    GL.glClear(bits)
    for i in range(1, zeroed + 1):
        GL.glClearBufferfv(GL.GL_COLOR, i, np.zeros(4, np.float32))
    GL.glDisable(GL.GL_SCISSOR_TEST)


def float_texture(table: np.ndarray) -> int:
    """A float RGBA texture holding `table` [rows, texels, 4] (fetched with texelFetch)."""
    rows, cols = table.shape[:2]
    tex = texture(GL.GL_RGBA32F, cols, rows)
    GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, cols, rows, GL.GL_RGBA, GL.GL_FLOAT, np.ascontiguousarray(table, np.float32))
    return tex


def image_texture(rgb: np.ndarray, repeat: bool) -> int:
    """An sRGB image (uint8 [H, W, 3], top row first) as a mipmapped texture: linear on read and
    filtered at any size, so a texture a few pixels wide on screen averages, not aliases. `repeat`:
    tiled (uv beyond 0..1); else its edges are clamped, so uv 1 does not blend in the opposite edge."""
    height, width = rgb.shape[:2]
    tex = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
    GL.glTexStorage2D(GL.GL_TEXTURE_2D, max(width, height).bit_length(), GL.GL_SRGB8, width, height)
    GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
    GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, width, height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE,
                       np.ascontiguousarray(rgb[::-1], np.uint8))  # uv (0, 0) is the image's bottom left
    GL.glGenerateMipmap(GL.GL_TEXTURE_2D)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR_MIPMAP_LINEAR)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
    for axis in (GL.GL_TEXTURE_WRAP_S, GL.GL_TEXTURE_WRAP_T):
        GL.glTexParameteri(GL.GL_TEXTURE_2D, axis, GL.GL_REPEAT if repeat else GL.GL_CLAMP_TO_EDGE)
    return tex


def uniform_buffer(size: int, binding: int) -> int:
    """A uniform buffer of `size` bytes bound to `binding`, for `update_uniform_buffer`."""
    buf = GL.glGenBuffers(1)
    GL.glBindBuffer(GL.GL_UNIFORM_BUFFER, buf)
    GL.glBufferData(GL.GL_UNIFORM_BUFFER, size, None, GL.GL_DYNAMIC_DRAW)
    GL.glBindBufferBase(GL.GL_UNIFORM_BUFFER, binding, buf)
    return buf


def update_uniform_buffer(buf: int, data: np.ndarray) -> None:
    GL.glBindBuffer(GL.GL_UNIFORM_BUFFER, buf)
    GL.glBufferSubData(GL.GL_UNIFORM_BUFFER, 0, data.nbytes, np.ascontiguousarray(data))


def read(fbo: int, attachment: int, width: int, height: int, fmt: int, kind: int, out: np.ndarray) -> None:
    """Read a framebuffer attachment straight into `out` (C-contiguous, right size)."""
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fbo)
    GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0 + attachment)
    GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
    GL.glReadPixels(0, 0, width, height, fmt, kind, out)
