"""Meshes as scene objects: loaded from files (OBJ, GLB/glTF, STL, PLY) or built in.

An `Asset` is a mesh normalised once: centred on the centre of mass of its convex hull,
turned onto that hull's principal axes (so physics can use a diagonal inertia, as for
the primitives) and scaled to a longest extent of 1; a scene scales it into a size
class. Its look is kept as vertex colours (textures are sampled at the vertices, and a
single texture is kept as well, for the renderer to sample per pixel), or it has none
and the scene tints it. Collision is the convex hull, explicit convex
parts (built-in chairs, tables), or a VHACD decomposition for concave files, cached
on disk by the mesh's sha256.

A scene records only `AssetRef(name, category, sha256, own_colours)`; `resolve(ref)` finds the mesh
again by content: built-ins are rebuilt from their name, file assets must have been
loaded in this process (`load_library` does, and every worker loads the same config).

Files are hostile: every error is one line with the file and the reason, a bad mesh is
rejected (kept in `AssetLibrary.rejected`) and nothing else breaks; names read from
files (sidecars, `mtllib`, texture names) are text only, never opened as paths.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field

import numpy as np
import trimesh

from simreel.scenes import vocabulary
from simreel.scenes.types import AssetRef

FORMATS = ("obj", "glb", "gltf", "stl", "ply")
SIDE_FILES = ("mtl", "png", "jpg", "jpeg", "bin")  # what a mesh may reference by name, from its own folder
MAX_FILE_BYTES = 64 << 20
MAX_FACES = 200_000
TEXTURE_FACES = 2_000  # a textured mesh with fewer triangles is subdivided before its texture is sampled
TEXTURE_PX = 1024  # a kept texture's longest side at most (larger ones are scaled down)
MAX_ASPECT = 40.0  # longest / shortest extent: thinner than this is a sheet or a wire, not an object
VHACD = {"resolution": 50_000, "maxNumVerticesPerCH": 32, "concavity": 0.01}  # in the cache key: other settings, other parts
CONCAVE = 0.8  # a watertight mesh filling less of its hull than this is decomposed (VHACD)
NAME = re.compile(r"[a-z][a-z0-9' -]{0,39}")  # what a caption may say: lowercase words
SIDECAR_KEYS = {"name": str, "category": str, "size_m": float, "density": float, "friction": float,
                "restitution": float}
SIDECAR_RANGES = {"size_m": (0.01, 100.0), "density": (10.0, 25_000.0), "friction": (0.0, 2.0),
                  "restitution": (0.0, 1.0)}


class AssetError(ValueError):
    """A file that cannot be an asset; the message is one line: where, what, what to do."""


@dataclass(frozen=True, eq=False)
class Asset:
    ref: AssetRef
    mesh: trimesh.Trimesh  # normalised (see module doc); vertex colours iff `colour` is set
    parts: tuple[np.ndarray, ...] = ()  # convex collision parts' vertices, same frame; () = the hull
    colour: str | None = None  # its own look's nearest vocabulary colour; None = the scene tints it
    sizes: tuple[str, ...] = tuple(vocabulary.SIZES)  # size classes it may take
    density: float | None = None  # sidecar overrides of the material's physics
    friction: float | None = None
    restitution: float | None = None
    source: str = ""  # where it came from, for the manifest (never opened again)
    licence: str = ""
    texture: tuple[np.ndarray, np.ndarray] | None = None  # (uv [V, 2] per mesh vertex, image uint8 [H, W, 3],
    # top row first) drawn per pixel; None: the vertex colours (or the tint) alone


@dataclass(frozen=True, eq=False)
class AssetLibrary:
    """The assets a dataset may draw, the held-out names, and the files rejected on the way."""

    assets: tuple[Asset, ...]
    builtin: bool = True  # primitives stay in the pool beside the assets
    heldout: frozenset = frozenset()  # asset names kept out of training
    split: str = "train"  # "train": no held-out assets; "heldout": only them; "all"
    rejected: tuple[tuple[str, str], ...] = field(default=())  # (file, reason)

    def drawable(self) -> tuple[Asset, ...]:
        keep = {"train": lambda a: a.ref.name not in self.heldout, "heldout": lambda a: a.ref.name in self.heldout,
                "all": lambda a: True}[self.split]
        return tuple(a for a in self.assets if keep(a))


# --------------------------------------------------------------------------- resolving


_LOADED: dict[str, Asset] = {}
"""sha256 -> Asset: a content-addressed cache (an entry can only ever hold that content)."""


def register(asset: Asset) -> Asset:
    return _LOADED.setdefault(asset.ref.sha256, asset)


def resolve(ref: AssetRef) -> Asset:
    """The asset a scene names, by content."""
    asset = _LOADED.get(ref.sha256)
    if asset is None:
        from simreel.scenes import library  # built-ins rebuild from their name

        asset = library.by_name().get(ref.name)
        if asset is None or asset.ref.sha256 != ref.sha256:
            raise KeyError(f"asset {ref.name!r} (sha256 {ref.sha256[:12]}) is not loaded in this process; "
                           f"load the dataset's assets config (scenes.assets.load_library) first")
    return asset


def parts_file(asset: Asset) -> str:
    """An OBJ of the asset's convex parts (one `o` each), for pybullet's compound collision
    shapes; written once per content (temp name, then renamed), named by our own hash."""
    folder = os.path.join(tempfile.gettempdir(), "simreel-assets")
    os.makedirs(folder, exist_ok=True)
    key = hashlib.sha256(asset.ref.sha256.encode() + b"".join(np.round(p, 9).tobytes() for p in asset.parts))
    path = os.path.join(folder, f"{key.hexdigest()[:32]}.parts.obj")
    if not os.path.exists(path):
        lines, base = [], 1
        for k, points in enumerate(asset.parts):
            hull = trimesh.convex.convex_hull(points)
            lines.append(f"o part{k}")
            lines += [f"v {x:.9f} {y:.9f} {z:.9f}" for x, y, z in hull.vertices]
            lines += [f"f {a + base} {b + base} {c + base}" for a, b, c in hull.faces]
            base += len(hull.vertices)
        fd, tmp = tempfile.mkstemp(suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- normalising


def dominant_colour(rgb: np.ndarray) -> str:
    """The vocabulary colour most vertices are nearest to: a yellow duck with an orange beak is yellow."""
    names = list(vocabulary.COLOURS)
    palette = np.array([vocabulary.COLOURS[c] for c in names], dtype=np.float64)
    nearest = np.linalg.norm(np.asarray(rgb, np.float64)[:, None] - palette[None], axis=-1).argmin(axis=1)
    return names[int(np.bincount(nearest, minlength=len(names)).argmax())]


def normalise(mesh: trimesh.Trimesh, where: str, parts=(), assembled: bool = False,
              ) -> tuple[trimesh.Trimesh, tuple[np.ndarray, ...], str | None]:
    """(mesh on its hull's principal axes, longest extent 1; parts in that frame; own colour or None).

    Raises AssetError for meshes no scene can use. `assembled`: built from touching pieces
    (a chair), whose shared edges are not a defect."""
    if len(mesh.faces) == 0 or len(mesh.vertices) < 4:
        raise AssetError(f"{where}: empty mesh (no triangles); export the object with its faces")
    if len(mesh.faces) > MAX_FACES:
        raise AssetError(f"{where}: gigantic mesh ({len(mesh.faces)} triangles, limit {MAX_FACES}); decimate it first")
    if not np.isfinite(mesh.vertices).all():
        raise AssetError(f"{where}: vertices hold NaN or infinity; re-export the mesh")
    extents = mesh.extents
    if extents.min() <= 0 or extents.max() / extents.min() > MAX_ASPECT:
        raise AssetError(f"{where}: flat or needle-thin (extents {np.round(extents, 4).tolist()}, ratio limit "
                         f"{MAX_ASPECT:g}); give the object some thickness")
    _, uses = np.unique(_position_edges(mesh), axis=0, return_counts=True)
    if not assembled and uses.max(initial=0) > 2:
        raise AssetError(f"{where}: non-manifold (an edge is shared by more than two triangles); repair the mesh")
    colour = None
    if mesh.visual.kind is not None:
        mesh.visual = mesh.visual.to_color() if mesh.visual.kind == "texture" else mesh.visual
        colour = dominant_colour(np.asarray(mesh.visual.vertex_colors)[:, :3])
    else:
        mesh.visual = trimesh.visual.ColorVisuals(mesh)
    hull = trimesh.convex.convex_hull(np.asarray(mesh.vertices))
    transform = np.array(hull.principal_inertia_transform)
    transform[:3] /= hull.apply_transform(transform).extents.max()
    mesh.apply_transform(transform)
    parts = tuple(trimesh.transform_points(np.asarray(p, dtype=np.float64), transform) for p in parts)
    return mesh, parts, colour


def _position_edges(mesh: trimesh.Trimesh) -> np.ndarray:
    """Edges by vertex position, not index: UV seams split vertices without splitting the surface."""
    _, index = np.unique(np.round(np.asarray(mesh.vertices), 9), axis=0, return_inverse=True)
    edges = np.sort(index.reshape(-1)[mesh.edges], axis=1)
    return edges[edges[:, 0] != edges[:, 1]]


# --------------------------------------------------------------------------- files


def parse_sidecar(text: bytes, where: str) -> dict:
    """A NAME.json beside a mesh, read as hostile data: known keys, right types, sane ranges."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise AssetError(f"{where}: not JSON ({e}); write an object like {{\"name\": \"teddy bear\"}}") from None
    if not isinstance(data, dict):
        raise AssetError(f"{where}: expected a JSON object, got {type(data).__name__}")
    out = {}
    for key, value in data.items():
        kind = SIDECAR_KEYS.get(key)
        if kind is None:
            raise AssetError(f"{where}: unknown key {str(key)[:40]!r}; allowed: {sorted(SIDECAR_KEYS)}")
        if kind is float:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise AssetError(f"{where}: {key} must be a number, got {str(value)[:40]!r}")
            lo, hi = SIDECAR_RANGES[key]
            if not lo <= value <= hi:
                raise AssetError(f"{where}: {key} {value!r} is outside [{lo:g}, {hi:g}]")
            out[key] = float(value)
        else:
            if not isinstance(value, str) or not NAME.fullmatch(value):
                raise AssetError(f"{where}: {key} must be 1-40 lowercase letters, digits, spaces, ' or -; "
                                 f"got {str(value)[:40]!r}")
            out[key] = value
    return out


def size_classes(size_m: float | None) -> tuple[str, ...]:
    """The size class a real size falls in (the nearest one outside every range); all without one."""
    if size_m is None:
        return tuple(vocabulary.SIZES)
    gap = {s: max(lo - size_m, size_m - hi, 0.0) for s, (lo, hi) in vocabulary.SIZES.items()}
    return (min(gap, key=gap.get),)


class _Siblings(trimesh.resolvers.Resolver):
    """Serves a mesh's side files (materials, textures) by plain name, from its own folder's listing only."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files

    def get(self, name):
        name = str(name).strip()
        if name not in self.files:  # "../x", "/etc/x", "sub/x": never looked up on disk
            raise KeyError(f"side file {name[:60]!r} is not a plain file beside the mesh")
        return self.files[name]

    def write(self, name, data):
        raise PermissionError("read-only")

    def namespaced(self, namespace):
        return self

    def keys(self):
        return self.files.keys()


def load_mesh(data: bytes, ext: str, where: str, siblings: dict[str, bytes] | None = None,
              ) -> tuple[trimesh.Trimesh, tuple[np.ndarray, np.ndarray] | None]:
    """Bytes of one mesh file -> one Trimesh with its colours (every part of a glTF scene, placed), and
    its texture (uv per vertex, image) when it is one textured part (several are drawn as vertex colours)."""
    if ext not in FORMATS:
        raise AssetError(f"{where}: unknown format {ext!r}; use one of {FORMATS}")
    if len(data) > MAX_FILE_BYTES:
        raise AssetError(f"{where}: gigantic file ({len(data) >> 20} MB, limit {MAX_FILE_BYTES >> 20} MB)")
    import io

    try:
        loaded = trimesh.load(io.BytesIO(data), file_type=ext, resolver=_Siblings(siblings or {}), force="scene",
                              process=True)
        geometries = [g for g in loaded.dump(concatenate=False) if isinstance(g, trimesh.Trimesh)]
    except AssetError:
        raise
    except Exception as e:  # noqa: BLE001  (a parser's error on hostile bytes, whatever its type)
        raise AssetError(f"{where}: not a readable {ext.upper()} mesh ({type(e).__name__}: {str(e)[:80]})") from None
    if not geometries:
        raise AssetError(f"{where}: not a mesh (no geometry in it: empty, or not a {ext.upper()} file)")
    geometries = [g for g in geometries if len(g.faces)]
    if not geometries:
        raise AssetError(f"{where}: empty mesh (no triangles); export the object with its faces")
    texture = None
    if any(g.visual.kind is not None for g in geometries):
        for k, g in enumerate(geometries):  # one colour kind for all, so they concatenate
            if g.visual.kind == "texture":
                while len(g.faces) < TEXTURE_FACES:  # vertex colours sample the texture: enough vertices to show it
                    g = geometries[k] = g.subdivide()
                texture = _texture(g.visual) if len(geometries) == 1 else None
                g.visual = g.visual.to_color()
            if g.visual.kind is None:
                g.visual = trimesh.visual.ColorVisuals(g, vertex_colors=np.full((len(g.vertices), 4), 200, np.uint8))
            g.visual.vertex_colors = np.asarray(g.visual.vertex_colors)
    mesh = geometries[0] if len(geometries) == 1 else trimesh.util.concatenate(geometries)
    return mesh, texture


def _texture(visual) -> tuple[np.ndarray, np.ndarray] | None:
    """(uv, RGB image no larger than TEXTURE_PX) of a textured part, or None without an image."""
    material = visual.material
    image = material.baseColorTexture if isinstance(material, trimesh.visual.material.PBRMaterial) else material.image
    if image is None or visual.uv is None:
        return None
    image = image.convert("RGB")
    if max(image.size) > TEXTURE_PX:
        scale = TEXTURE_PX / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    return np.asarray(visual.uv, dtype=np.float32).copy(), np.asarray(image, dtype=np.uint8).copy()


def _vhacd_parts(mesh: trimesh.Trimesh, sha: str) -> tuple[np.ndarray, ...]:
    """Convex parts of a concave mesh by pybullet's VHACD, cached on disk by the mesh's sha256."""
    cache = os.path.join(tempfile.gettempdir(), "simreel-vhacd")
    os.makedirs(cache, exist_ok=True)
    settings = hashlib.sha256(json.dumps(VHACD, sort_keys=True).encode()).hexdigest()[:8]
    path = os.path.join(cache, f"{sha}.{settings}.obj")  # named by our own hashes, never by anything read from a file
    if not os.path.exists(path):
        from simreel.scenes.physics import vhacd

        fd, src = tempfile.mkstemp(suffix=".obj", dir=cache)
        os.close(fd)
        tmp = src[:-4] + ".parts.obj"
        try:
            trimesh.Trimesh(mesh.vertices, mesh.faces, process=False).export(src)
            vhacd(src, tmp, **VHACD)
            os.replace(tmp, path)
        finally:
            for p in (src, tmp, src[:-4] + ".log"):
                if os.path.exists(p):
                    os.remove(p)
    return read_parts(path)


def read_parts(path: str) -> tuple[np.ndarray, ...]:
    """The vertices of each `o` block of an OBJ of convex parts (VHACD's output)."""
    parts: list[list] = []
    with open(path) as f:
        for line in f:
            if line.startswith("o ") or not parts and line.startswith("v "):
                parts.append([])
            if line.startswith("v "):
                parts[-1].append([float(x) for x in line.split()[1:4]])
    return tuple(np.asarray(p, dtype=np.float64) for p in parts if len(p) >= 4)


def asset_from_file(data: bytes, ext: str, where: str, sidecar: dict | None = None,
                    siblings: dict[str, bytes] | None = None, stem: str = "") -> Asset:
    """One asset from a mesh file's bytes (and its parsed sidecar), or AssetError saying why not."""
    sidecar = sidecar or {}
    sha = hashlib.sha256(data).hexdigest()
    default_name = re.sub(r"[_\s]+", " ", stem.lower()).strip()
    name = sidecar.get("name") or default_name
    if not NAME.fullmatch(name):
        raise AssetError(f"{where}: the file name gives no caption name ({name[:40]!r}); add a sidecar "
                         f"{{\"name\": \"...\"}} in lowercase words")
    mesh, texture = load_mesh(data, ext, where, siblings)
    watertight = mesh.is_watertight
    mesh, _, colour = normalise(mesh, where)
    parts: tuple[np.ndarray, ...] = ()
    if watertight and abs(mesh.volume) < CONCAVE * mesh.convex_hull.volume:
        parts = _vhacd_parts(mesh, sha)
    return Asset(
        ref=AssetRef(name=name, category=sidecar.get("category", "object"), sha256=sha, own_colours=colour is not None),
        mesh=mesh, parts=parts,
        colour=colour, sizes=size_classes(sidecar.get("size_m")), density=sidecar.get("density"),
        friction=sidecar.get("friction"), restitution=sidecar.get("restitution"), source=where, texture=texture,
    )


def load_paths(paths) -> tuple[list[Asset], list[tuple[str, str]]]:
    """Every mesh file in each folder (local path or fsspec URL), sorted by name: (assets, rejected)."""
    import fsspec

    assets, rejected = [], []
    for root in paths:
        try:
            fs, base = fsspec.core.url_to_fs(root)
            listing = sorted(fs.ls(base, detail=False))
        except Exception as e:  # noqa: BLE001
            raise AssetError(f"assets.paths: cannot list {root!r} ({type(e).__name__}: {str(e)[:80]}); "
                             f"give a folder or an fsspec URL") from None
        files = {p.rstrip("/").rsplit("/", 1)[-1]: p for p in listing}
        siblings = None
        for fname in sorted(files):
            stem, _, ext = fname.rpartition(".")
            ext = ext.lower()
            if ext not in FORMATS or not stem:
                continue
            where = f"{root.rstrip('/')}/{fname}"
            try:
                if siblings is None:  # side files this folder holds, by plain name
                    siblings = {n: fs.cat_file(p) for n, p in files.items()
                                if n.rpartition(".")[2].lower() in SIDE_FILES and fs.isfile(p)}
                sidecar = None
                if f"{stem}.json" in files:
                    sidecar = parse_sidecar(fs.cat_file(files[f"{stem}.json"]), f"{root.rstrip('/')}/{stem}.json")
                assets.append(asset_from_file(fs.cat_file(files[fname]), ext, where, sidecar, siblings, stem))
            except AssetError as e:
                rejected.append((where, str(e)))
    return assets, rejected


def heldout_names(names, holdout) -> frozenset:
    """`holdout`: a list of names, or a fraction of the names (chosen by a hash of each name, so
    the same names are held out in every split, process and run)."""
    names = sorted(set(names))
    if isinstance(holdout, (list, tuple)):
        return frozenset(holdout)
    k = int(round(float(holdout or 0.0) * len(names)))
    return frozenset(sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())[:k])


def load_library(paths=(), builtin: bool = True, holdout=0.0, split: str = "train") -> AssetLibrary:
    """The library a dataset draws from; its file assets are registered so scenes resolve them."""
    from simreel.scenes import library

    assets, rejected = load_paths(paths)
    if builtin:
        assets = list(library.builtin()) + assets
    seen, kept = set(), []
    for a in assets:
        if a.ref.name in seen:
            rejected.append((a.source, f"{a.source}: duplicate asset name {a.ref.name!r}; rename it in a sidecar"))
            continue
        seen.add(a.ref.name)
        kept.append(register(a))
    return AssetLibrary(tuple(kept), builtin, heldout_names(seen, holdout), split, tuple(rejected))
