"""Look at a dataset: a contact sheet PNG (a row of frames per clip, its caption beneath)
and an animated GIF grid of the same clips, captioned.
"""
from __future__ import annotations

import io
import json
import math
import textwrap
from itertools import islice
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from simreel.shards import storage
from simreel.shards.manifest import list_shards
from simreel.shards.reader import iter_samples
from simreel.shards.video import decode_video

BACKGROUND = (24, 24, 24)
INK = (235, 235, 235)


def _font(size: int = 11) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(text: str, font, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap to `width` pixels, cut with an ellipsis after `max_lines`."""
    chars = max(8, int(width / max(font.getlength("n"), 1)))
    lines = textwrap.wrap(text, chars) or [""]
    while any(font.getlength(line) > width for line in lines) and chars > 8:
        chars -= 2
        lines = textwrap.wrap(text, chars)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, len(lines[-1]) - 1)] + "…"
    return lines


def _fit(frame: np.ndarray, cell: int) -> Image.Image:
    """A frame scaled (pixel-sharp) into a cell x cell square, letterboxed."""
    img = Image.fromarray(frame)
    scale = cell / max(img.size)
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.NEAREST)
    out = Image.new("RGB", (cell, cell), BACKGROUND)
    out.paste(img, ((cell - img.width) // 2, (cell - img.height) // 2))
    return out


def contact_sheet(clips: Sequence[tuple[str, np.ndarray, str]], *, frames: int = 6, cell: int = 96) -> Image.Image:
    """One row per (key, video [T,H,W,3], caption): `frames` evenly spaced frames, caption below."""
    font, pad, text_h = _font(), 4, 30
    width = frames * (cell + pad) + pad
    row_h = cell + text_h + pad
    sheet = Image.new("RGB", (width, len(clips) * row_h + pad), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for r, (key, video, caption) in enumerate(clips):
        y = pad + r * row_h
        for c, t in enumerate(np.linspace(0, len(video) - 1, frames).round().astype(int)):
            sheet.paste(_fit(video[t], cell), (pad + c * (cell + pad), y))
        lines = _wrap(f"{key}: {caption}", font, width - 2 * pad, 2)
        draw.multiline_text((pad, y + cell + 2), "\n".join(lines), fill=INK, font=font, spacing=1)
    return sheet


def animation(clips: Sequence[tuple[str, np.ndarray, str]], *, cell: int = 128, columns: int | None = None) -> list[Image.Image]:
    """GIF frames of all clips playing side by side in a grid, each captioned; shorter clips loop."""
    font, pad, text_h = _font(10), 4, 40
    columns = columns or math.ceil(math.sqrt(len(clips)))
    rows = math.ceil(len(clips) / columns)
    base = Image.new("RGB", (columns * (cell + pad) + pad, rows * (cell + text_h + pad) + pad), BACKGROUND)
    draw = ImageDraw.Draw(base)
    origins = []
    for i, (_, _, caption) in enumerate(clips):
        x, y = pad + (i % columns) * (cell + pad), pad + (i // columns) * (cell + text_h + pad)
        draw.multiline_text((x, y + cell + 2), "\n".join(_wrap(caption, font, cell, 3)), fill=INK, font=font, spacing=1)
        origins.append((x, y))
    out = []
    for t in range(max(len(v) for _, v, _ in clips)):
        frame = base.copy()
        for (x, y), (_, video, _) in zip(origins, clips):
            frame.paste(_fit(video[t % len(video)], cell), (x, y))
        out.append(frame)
    return out


def gif_bytes(frames: list[Image.Image], fps: float) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)
    return buf.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def first_clips(dataset_dir: str, n: int) -> list[tuple[str, np.ndarray, str, int]]:
    """(key, video, English short caption or the txt, fps) of the dataset's first n clips."""
    def clips():
        for url in list_shards(dataset_dir):
            for raw in iter_samples(url):
                meta = json.loads(raw["json"])
                caption = meta["captions"]["short"].get("en", raw["txt"].decode("utf-8"))
                yield raw["__key__"], decode_video(raw["mp4"]), caption, meta["fps"]
    return list(islice(clips(), n))


def write_preview(dataset_dir: str, out_dir: str | None = None, *, n: int = 8) -> tuple[str, str]:
    """Write preview.png (contact sheet) and preview.gif (animated grid); returns their URLs."""
    out_dir = out_dir or dataset_dir
    clips = first_clips(dataset_dir, n)
    if not clips:
        raise ValueError(f"{dataset_dir} holds no clips to preview")
    triples = [(k, v, c) for k, v, c, _ in clips]
    png, gif = storage.join(out_dir, "preview.png"), storage.join(out_dir, "preview.gif")
    storage.write_atomic(png, png_bytes(contact_sheet(triples)))
    storage.write_atomic(gif, gif_bytes(animation(triples), fps=clips[0][3]))
    return png, gif
