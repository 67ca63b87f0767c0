"""mp4 bytes <-> uint8 frames [T, H, W, 3], with PyAV.

Two codecs: "h264" (yuv420p, the one every player and loader takes) and "h264-lossless"
(libx264rgb at crf 0: exact pixels, for users who need them; yuv420p smears saturated
colour edges even at crf 0).

The dataset contract is byte-identical shards, so x264 runs single-threaded (its output
depends on the thread count) and without macroblock-tree rate control: with mb-tree on,
encoding the same 32x32 frames 30 times gave 5 different bitstreams (measured with the
PyAV 18 wheel's libx264); with mbtree=0 every encode is identical.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np

CODECS = ("h264", "h264-lossless")
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


@dataclass(frozen=True)
class VideoCodec:
    """How clips are compressed. `crf` is x264's quality (0 best, 51 worst); ignored when lossless."""

    codec: str = "h264"
    crf: int = 18
    preset: str = "medium"

    def __post_init__(self):
        if self.codec not in CODECS:
            raise ValueError(f"video codec {self.codec!r} is not one of {CODECS}")
        if not 0 <= self.crf <= 51:
            raise ValueError(f"video crf {self.crf} is outside 0..51")
        if self.preset not in PRESETS:
            raise ValueError(f"video preset {self.preset!r} is not one of {PRESETS}")

    @property
    def lossless(self) -> bool:
        return self.codec == "h264-lossless"

    def describe(self) -> dict:
        """What a reader of KEY.json needs to know about the mp4."""
        return {
            "codec": self.codec,
            "encoder": "libx264rgb" if self.lossless else "libx264",
            "pix_fmt": "rgb24" if self.lossless else "yuv420p",
            "crf": 0 if self.lossless else self.crf,
            "preset": self.preset,
        }


def encode_video(frames: np.ndarray, fps: int, codec: VideoCodec = VideoCodec()) -> bytes:
    """uint8 [T, H, W, 3] -> mp4 bytes. H and W must be even (4:2:0 chroma needs pairs)."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f"expected uint8 frames [T,H,W,3] with T >= 1, got {frames.dtype} {frames.shape}")
    _, height, width, _ = frames.shape
    if height % 2 or width % 2:
        raise ValueError(f"video size {width}x{height} must be even in both dimensions")
    d = codec.describe()
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream(d["encoder"], rate=int(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, d["pix_fmt"]
        stream.options = {"crf": str(d["crf"]), "preset": codec.preset, "x264-params": "mbtree=0"}
        stream.codec_context.thread_count = 1
        for t, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts = t
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    return buf.getvalue()


def decode_video(data: bytes) -> np.ndarray:
    """mp4 bytes -> uint8 [T, H, W, 3]. Raises ValueError on bytes that are not a whole video."""
    try:
        with av.open(io.BytesIO(data), "r") as container:
            # threads=1: PyAV >= 18 scales with a thread pool by default, and a process forked after
            # a decode (a DataLoader worker) waits forever on the pool's threads, which it lacks
            frames = [f.to_ndarray(format="rgb24", threads=1) for f in container.decode(video=0)]
    except (av.FFmpegError, IndexError) as e:
        raise ValueError(f"not a decodable mp4: {e}") from e
    if not frames:
        raise ValueError("mp4 holds no video frames")
    return np.stack(frames)
