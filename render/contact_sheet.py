"""A contact sheet: a grid of frames per clip, one labelled row per clip, for previews."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from simreel.render.frames import Frames


def contact_sheet(clips: list[Frames | np.ndarray], labels: list[str] | None = None, *, columns: int = 6,
                  scale: int = 1, label_width: int = 120, headers: list[str] | None = None) -> Image.Image:
    """One row per clip: `columns` frames evenly spaced over the clip, label on the left.

    clips: Frames or uint8 [T, H, W, 3] arrays (sizes may differ: each row is padded).
    headers: a label above each column (lines split by "\n"), for grids whose columns mean something.
    """
    videos = [c.rgb if isinstance(c, Frames) else np.asarray(c) for c in clips]
    if not videos:
        raise ValueError("contact_sheet needs at least one clip")
    labels = list(labels) if labels is not None else [""] * len(videos)
    if len(labels) != len(videos):
        raise ValueError(f"{len(labels)} labels for {len(videos)} clips")
    cell_h = max(v.shape[1] for v in videos) * scale
    cell_w = max(v.shape[2] for v in videos) * scale
    gap = 2
    left = label_width if any(labels) else 0
    top = 4 + 11 * max(h.count("\n") + 1 for h in headers) if headers else 0
    sheet = Image.new("RGB", (left + columns * (cell_w + gap), top + len(videos) * (cell_h + gap)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for col, header in enumerate(headers or ()):
        draw.multiline_text((left + col * (cell_w + gap) + 2, 2), header, fill=(0, 0, 0), spacing=1)
    for row, (video, label) in enumerate(zip(videos, labels)):
        y = top + row * (cell_h + gap)
        picks = np.linspace(0, len(video) - 1, min(columns, len(video))).round().astype(int)
        for col, t in enumerate(picks):
            img = Image.fromarray(video[t])
            if scale != 1:
                img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
            sheet.paste(img, (left + col * (cell_w + gap), y))
        if label:
            draw.multiline_text((4, y + 4), label, fill=(0, 0, 0), spacing=1)
    return sheet
