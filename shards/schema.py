"""The sample schema: which tar members a sample has and what its KEY.json holds.

One table is the truth for the writer (what it must be given), `simreel validate`
(what it checks) and the dataset card and README (what they document).
"""
from __future__ import annotations

import json
import re

KEY_DIGITS = 8
KEY_PATTERN = re.compile(r"^[0-9A-Za-z_-]+$")

REQUIRED_MEMBERS = ("mp4", "json", "txt", "traj.npz")
OPTIONAL_MEMBERS = ("depth.npz", "ids.npz", "flow.npz", "backward_flow.npz", "normals.npz", "coords.npz", "boxes.npz")
NAN_ARRAYS = ("bbox_2d",)  # arrays where NaN has a meaning (not visible); NaN anywhere else is damage

MEMBERS = {
    "mp4": "the clip: H.264 in MP4, yuv420p at the configured crf, or libx264rgb crf 0 (exact pixels) when lossless",
    "json": "metadata, the fields below",
    "txt": "the short caption in the first configured language, UTF-8, for tools that expect one",
    "traj.npz": "per-frame object state: positions [T,N,3] m, orientations [T,N,4] xyzw, "
    "linear_velocities [T,N,3] m/s, angular_velocities [T,N,3] rad/s; N follows scene.objects",
    "depth.npz": "`depth` float32 [T,H,W], metres along the optical axis; `inf` on the background, where no surface "
    "is hit (when asked for)",
    "ids.npz": "`ids` uint8 [T,H,W], 0 = background/floor/statics, object k = k+1 (when asked for)",
    "flow.npz": "`flow` float32 [T,H,W,2], forward optical flow (du, dv) in pixels (when asked for)",
    "backward_flow.npz": "`backward_flow` float32 [T,H,W,2], backward optical flow in pixels: where the surface seen at "
    "a pixel of frame t is seen in frame t-1; 0 on the first frame and the background (when asked for)",
    "normals.npz": "`normals` float32 [T,H,W,3], unit surface normals in the camera frame (x right, y up, z towards "
    "the camera); 0 on the background (when asked for)",
    "coords.npz": "`coords` float32 [T,H,W,3], object-space coordinates of the surface seen, scaled to the object's "
    "box (0..1 per axis); 0 off the objects (when asked for)",
    "boxes.npz": "`bbox_2d` float32 [T,N,4] x0,y0,x1,y1 in pixels bounding each object's ids mask (pixel u spans "
    "u..u+1), NaN when not visible; `bbox_3d` float32 [T,N,8,3] world corners of the object's box (corner c at box "
    "coordinates c>>2&1, c>>1&1, c&1); `visible_px` int32 [T,N] pixels of each object (when asked for)",
}

# field -> (JSON type, description). Every field is required.
FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "key": (str, "the sample key: its global index, zero-padded; no dots"),
    "index": (int, "global sample index; sample i lives in shard i // samples_per_shard"),
    "seed": (int, "the sample's seed, derived from (dataset seed, index) alone"),
    "family": (str, "scene family"),
    "fps": (int, "frames per second"),
    "num_frames": (int, "frame count T"),
    "width": (int, "frame width W, even"),
    "height": (int, "frame height H, even"),
    "video": (dict, "how KEY.mp4 was encoded: codec, encoder, pix_fmt, crf, preset"),
    "modalities": (list, "what was rendered; rgb always, each other modality has its own .npz member"),
    "captions": (dict, "all caption kinds and languages: short and dense per language, `references`, "
                       "`short_claims`; `events`, `qa`, `dense_sentences` and `claims` as JSON text"),
    "scene": (dict, "the scene spec: objects, camera rig, light, floor, physics; `statics` (fixed scenery) and "
                    "`params` (the family's own facts) as JSON text; an object drawn from a mesh asset also has `asset` "
                    "{name, category, sha256, own_colours} (its `shape` is then `rock`, the irregular-body class; "
                    "captions use the asset's name; `own_colours`: drawn in its file's texture or vertex colours, so "
                    "its `material` is physics only: neither drawn nor captioned)"),
    "events": (str, "JSON text: physical events, each {kind, frame, time_s, subjects, value}"),
    "events": (str, "JSON text: physical events, each {kind, frame, time_s, subjects, value}; contact_begin adds "
                     "impulse (N*s, the peak normal impulse of one physics step) and normal (unit, from subjects[1] "
                     "towards subjects[0])"),
    "camera": (dict, "K: 3x3 intrinsics; poses: [T,4,4] camera-to-world, OpenGL axes (x right, y up, looks -z)"),
    "rejections": (str, "JSON text: the scenes sampled and thrown away before this one, each {seed, reason, detail} "
                        "(`[]` when none; text, so the field has one type in every sample)"),
    "generator": (dict, "name and version of the software that made the sample"),
    "config_hash": (str, "sha256 (16 hex) of the dataset config that made it"),
}


TEXT_FIELDS = ("rejections", "events", "scene.statics", "scene.params", "captions.events", "captions.qa",
               "captions.dense_sentences", "captions.claims")
"""Fields whose shape follows the content (a list empty in one clip and full in the next, keys that
differ by family or claim) are stored as JSON text: a table reader (Arrow, Hugging Face datasets,
Ray Data) types a column from its first rows, and `[]` there or a key first seen later would fail
the load or drop data. Every other field has one type in every sample. `pack` writes them, `unpack`
reads them back."""


def _paths(meta: dict):
    """(path, parent dict, field name) of each TEXT_FIELDS entry present in `meta`."""
    for path in TEXT_FIELDS:
        *parents, leaf = path.split(".")
        node = meta
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and leaf in node:
            yield path, node, leaf


def pack(meta: dict) -> dict:
    """KEY.json as written: the TEXT_FIELDS as canonical JSON text (a copy; `meta` is left as it is)."""
    meta = json.loads(json.dumps(meta, default=plain))  # a deep copy in plain JSON values
    for _, node, leaf in _paths(meta):
        node[leaf] = json.dumps(node[leaf], sort_keys=True, ensure_ascii=False, allow_nan=False,
                                separators=(",", ":"))
    return meta


def unpack(meta: dict) -> dict:
    """KEY.json as read -> the nested values `pack` was given (in place; returns `meta`)."""
    for _, node, leaf in _paths(meta):
        if isinstance(node[leaf], str):
            node[leaf] = json.loads(node[leaf])
    return meta


def outdated(meta: object) -> str | None:
    """Why a KEY.json predates this schema (a TEXT_FIELDS entry written as a nested value), or None."""
    old = [path for path, node, leaf in _paths(meta) if isinstance(node[leaf], (list, dict))] if isinstance(meta, dict) else []
    return f"KEY.json holds {', '.join(old)} as nested values, not JSON text" if old else None


def plain(value):
    """json.dumps' `default`: numpy values as plain numbers and lists."""
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-able: {value!r}")


def check_key(key: str) -> None:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise ValueError(f"sample key {key!r} must be letters, digits, '_' or '-' (no dots, no slashes)")


def meta_problems(meta: object) -> list[str]:
    """What is wrong with a KEY.json value (empty list when it conforms)."""
    if not isinstance(meta, dict):
        return [f"json is a {type(meta).__name__}, not an object"]
    problems = []
    for name, (kind, _) in FIELDS.items():
        if name not in meta:
            problems.append(f"json lacks field {name!r}")
        elif not isinstance(meta[name], kind) or (kind is int and isinstance(meta[name], bool)):
            problems.append(f"json field {name!r} is {type(meta[name]).__name__}, not {kind.__name__}")
    if problems:
        return problems
    for name in ("fps", "num_frames", "width", "height"):
        if meta[name] <= 0:
            problems.append(f"json field {name!r} is {meta[name]}, must be positive")
    short = meta["captions"].get("short")
    if not isinstance(short, dict) or not short or not all(isinstance(v, str) and v for v in short.values()):
        problems.append("json captions.short must map each language to a non-empty sentence")
    poses = meta["camera"].get("poses")
    if not isinstance(poses, list) or len(poses) != meta["num_frames"]:
        problems.append(f"json camera.poses must list one 4x4 pose per frame ({meta['num_frames']})")
    if not isinstance(meta["camera"].get("K"), list):
        problems.append("json camera.K (3x3 intrinsics) is missing")
    try:
        events = json.loads(meta["events"])
    except ValueError:
        events = None
    for e in events if isinstance(events, list) else [events]:
        if not isinstance(e, dict) or not {"kind", "frame", "subjects"} <= e.keys():
            problems.append(f"json event {e!r} lacks kind/frame/subjects")
            break
    if "rgb" not in meta["modalities"]:
        problems.append("json modalities must include 'rgb'")
    return problems


def markdown() -> str:
    """The schema as Markdown tables (README and dataset card)."""
    lines = ["| member | content |", "| --- | --- |"]
    lines += [f"| `KEY.{ext}` | {text} |" for ext, text in MEMBERS.items()]
    lines += ["", "`KEY.json` fields:", "", "| field | type | content |", "| --- | --- | --- |"]
    type_names = {str: "string", int: "integer", dict: "object", list: "array"}
    lines += [f"| `{name}` | {type_names[kind]} | {text} |" for name, (kind, text) in FIELDS.items()]
    return "\n".join(lines)
