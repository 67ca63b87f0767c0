"""One sample as plain values, and its tar members as bytes (both directions).

`shards` knows no physics: the caller hands over pixels, arrays and a JSON-able dict.
Every encoding here is deterministic (sorted JSON, fixed zip timestamps, single-threaded
x264), so the same sample always becomes the same bytes.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from simreel.shards.schema import OPTIONAL_MEMBERS, check_key, pack, plain, unpack
from simreel.shards.video import VideoCodec, decode_video, encode_video


@dataclass(frozen=True, eq=False)
class Sample:
    """A clip ready for a shard.

    `meta` is everything of KEY.json except what the writer derives from the video
    itself (fps, num_frames, width, height, video). `arrays` maps a member stem to named
    arrays: {"traj": {"positions": ...}, "ids": {"ids": ...}} -> KEY.traj.npz, KEY.ids.npz.
    """

    key: str
    video: np.ndarray  # uint8 [T, H, W, 3]
    fps: int
    meta: Mapping
    text: str
    arrays: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)


def encode_sample(sample: Sample, codec: VideoCodec = VideoCodec()) -> dict[str, bytes]:
    """Sample -> {extension: bytes}, in the order the members go into the tar."""
    check_key(sample.key)
    T, H, W, _ = np.shape(sample.video)
    derived = {"fps": int(sample.fps), "num_frames": T, "width": W, "height": H, "video": codec.describe()}
    clash = sorted(k for k in derived if k in sample.meta)
    if clash:
        raise ValueError(f"sample {sample.key}: meta must not set {clash}; they are derived from the video")
    members = {
        "mp4": encode_video(sample.video, sample.fps, codec),
        "json": json_bytes(pack({**sample.meta, **derived})),
        "txt": sample.text.encode("utf-8"),
    }
    for stem in sorted(sample.arrays):
        ext = f"{stem}.npz"
        if stem != "traj" and ext not in OPTIONAL_MEMBERS:
            raise ValueError(f"sample {sample.key}: unknown array member {ext!r}; known: traj.npz, {OPTIONAL_MEMBERS}")
        members[ext] = npz_bytes(sample.arrays[stem])
    return members


def decode_sample(members: Mapping[str, bytes], *, video: bool = True, arrays: tuple[str, ...] = ()) -> dict:
    """{extension: bytes} -> {"video", "meta", "txt", plus each requested array stem}.

    With video=False the mp4 stays bytes (under "mp4"), for readers that only need text.
    """
    out = {"meta": unpack(json.loads(members["json"])), "txt": members["txt"].decode("utf-8")}
    if video:
        out["video"] = decode_video(members["mp4"])
    else:
        out["mp4"] = members["mp4"]
    for stem in arrays:
        out[stem] = load_npz(members[f"{stem}.npz"])
    return out


def json_bytes(value) -> bytes:
    """Canonical JSON: sorted keys, no NaN (strict readers reject it), UTF-8; numpy values as plain numbers."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                      default=plain).encode("utf-8")


_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # numpy's savez stamps the wall clock; this keeps bytes stable


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Named arrays -> a compressed .npz (np.load reads it) that is byte-identical on every run."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            with z.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(arrays[name]), allow_pickle=False)
    return buf.getvalue()


def load_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {name: z[name] for name in z.files}
