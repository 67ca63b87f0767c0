"""The one place that patches pyrender 0.1.45 for NumPy 2.

pyrender 0.1.45 (the last release, 2021) computes mesh bounds with `np.infty`, an
alias NumPy 2 removed; every shadowed render and every `Mesh.bounds` then raises
AttributeError (upstream mmatl/pyrender#288, still open). We restore the alias,
only when it is missing, and import this module before pyrender everywhere. Our own
renderer only borrows pyrender's EGL context, but the plain pyrender reference
(`render.reference`, the benchmark baseline) runs pyrender's renderer in full.
"""
import numpy as np

if not hasattr(np, "infty"):
    np.infty = np.inf  # exact alias: np.infty was np.inf before NumPy 2

import pyrender  # noqa: E402  (after the alias, on purpose)

__all__ = ["pyrender"]
