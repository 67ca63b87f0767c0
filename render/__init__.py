"""render: SceneSpec + Trajectory -> Frames (rgb and ground truth: depth, ids, flow both ways, normals, coords, boxes), headless.

    with render.Renderer() as r:
        frames = r.render(spec, trajectory, modalities=("rgb", "depth", "ids", "flow"))

PYOPENGL_PLATFORM is set to "egl" here (unless already set) because PyOpenGL picks its
platform once, at first import: this package must be imported before anything that
imports OpenGL (pyrender included).
"""
import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from simreel.render.contact_sheet import contact_sheet  # noqa: E402
from simreel.render.egl import EGLUnavailable  # noqa: E402
from simreel.render.frames import MODALITIES, Frames  # noqa: E402
from simreel.render.quality import QUALITIES, Quality  # noqa: E402


def __getattr__(name: str):
    """`render.Renderer` loads OpenGL on first use: `import render` (for Frames or
    contact_sheet) works on machines without EGL, and a missing EGL surfaces as
    EGLUnavailable, with what to install, where the renderer is asked for."""
    if name == "Renderer":
        from simreel.render.renderer import Renderer

        return Renderer
    raise AttributeError(f"module 'render' has no attribute {name!r}")


__all__ = ["Renderer", "Frames", "Quality", "QUALITIES", "MODALITIES", "EGLUnavailable", "contact_sheet"]
