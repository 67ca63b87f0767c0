"""Reading back the contact sheets `simreel preview` writes."""
from __future__ import annotations

import numpy as np
from PIL import Image


def cells(png, rows: int, columns: int, cell: int = 96, left: int = 110, top: int = 26) -> np.ndarray:
    """A contact sheet's frames as [rows, columns, cell, cell, 3] (its size checked against the grid)."""
    sheet = np.asarray(Image.open(png).convert("RGB"))
    assert sheet.shape == (top + rows * (cell + 2), left + columns * (cell + 2), 3)
    return np.stack([np.stack([sheet[top + r * (cell + 2):][:cell, left + c * (cell + 2):][:, :cell]
                               for c in range(columns)]) for r in range(rows)])
