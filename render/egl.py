"""A headless OpenGL context from pyrender's EGL platform, or an error that says what to do.

Mesa's llvmpipe answers on CPU-only machines, NVIDIA's EGL on GPU nodes; both come
through the same `pyrender.platforms.egl`. PYOPENGL_PLATFORM must be "egl" before
anything imports OpenGL, which `render/__init__.py` sees to (setdefault).
"""
from __future__ import annotations

import os

FIX = (
    "install Mesa's EGL (Debian/Ubuntu: `apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri`) "
    "and set PYOPENGL_PLATFORM=egl before anything imports OpenGL"
)


class EGLUnavailable(RuntimeError):
    """No headless OpenGL context could be made; the message says how to get one."""


def _fail(what: str, err: BaseException | None = None) -> EGLUnavailable:
    cause = f" ({type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else 'no detail'})" if err else ""
    return EGLUnavailable(f"cannot start headless OpenGL: {what}{cause}. To fix: {FIX}.")


def import_gl():
    """`OpenGL.GL`, imported on the EGL platform, or EGLUnavailable saying how to get it."""
    platform = os.environ.get("PYOPENGL_PLATFORM")
    if platform != "egl":
        raise _fail(f"PYOPENGL_PLATFORM is {platform!r}, not 'egl'")
    try:
        from OpenGL import GL
    except Exception as err:  # PyOpenGL raises ImportError, OSError... when libEGL/libGL are missing
        raise _fail("PyOpenGL could not load EGL", err) from None
    return GL


class Context:
    """One EGL context (no window, no default framebuffer: we render into our own FBOs)
    and the limits the renderer sizes its batches by."""

    def __init__(self):
        GL = import_gl()
        try:
            import OpenGL.platform

            if type(OpenGL.platform.PLATFORM).__name__ != "EGLPlatform":
                raise _fail(f"OpenGL was imported with the {type(OpenGL.platform.PLATFORM).__name__} platform first")
            from simreel.render.compat import pyrender  # noqa: F401  (patch before pyrender.platforms loads)
            from pyrender.platforms.egl import EGLPlatform

            self._platform = EGLPlatform(1, 1)
            self._platform.init_context()
            self._platform.make_current()
            self.renderer_name = GL.glGetString(GL.GL_RENDERER).decode()
            self.version = GL.glGetString(GL.GL_VERSION).decode()
            self.max_size = int(min(GL.glGetIntegerv(GL.GL_MAX_TEXTURE_SIZE), *GL.glGetIntegerv(GL.GL_MAX_VIEWPORT_DIMS)))
            self.max_samples = int(GL.glGetIntegerv(GL.GL_MAX_SAMPLES))
            self.max_uniform_block = int(GL.glGetIntegerv(GL.GL_MAX_UNIFORM_BLOCK_SIZE))
        except EGLUnavailable:
            raise
        except Exception as err:  # PyOpenGL/EGL raise many types (ImportError, GLError, AssertionError...)
            raise _fail("EGL did not give an OpenGL context", err) from None

    def make_current(self) -> None:
        self._platform.make_current()

    def close(self) -> None:
        if getattr(self, "_platform", None) is not None:
            release(self._platform)
            self._platform = None

    def __del__(self):  # before pyrender's platform object goes and terminates the shared display
        self.close()


def release(platform) -> None:
    """Destroy a pyrender EGL platform's context but keep its display.

    pyrender's `delete_context` (also run by its `__del__`) calls eglTerminate, and an
    EGL display is shared by every context of the process: closing one renderer would
    kill the others (EGL_BAD_DISPLAY). We destroy only the context and detach the display.
    """
    from OpenGL import EGL

    if platform._egl_context is not None:
        EGL.eglMakeCurrent(platform._egl_display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
        EGL.eglDestroyContext(platform._egl_display, platform._egl_context)
    platform._egl_context = None
    platform._egl_display = None
