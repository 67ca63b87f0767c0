"""Hugging Face `datasets` (the real package, offline) reads a simreel dataset as it is: the
webdataset loader over the shards, the directory through its dataset card, streaming, and the
mp4-folder export as a videofolder; every sample, every member, every JSON value.

Videos stay bytes here (`Video(decode=False)`): decoding them in `datasets` needs torchcodec,
a separate choice; the bytes are compared with the shard's and decoded by our own decoder.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # read before `datasets` is imported: nothing is downloaded
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="simreel-hf-"))

from simreel import shards  # noqa: E402
from simreel.render import MODALITIES  # noqa: E402
from simreel.shards.features import MixedTypes, merge, sample_features, type_of, unify  # noqa: E402
from simreel.shards.schema import outdated, pack, unpack  # noqa: E402
from simreel.shards.sample import load_npz  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_column_types_unify_across_samples_and_refuse_mixtures():
    a = type_of({"x": [], "y": None, "n": 1, "s": {"k": "v"}})
    b = type_of({"x": [{"seed": 3}], "y": "text", "n": 2.5, "s": {"k": "w", "extra": True}})
    assert unify(a, b) == {"struct": {"x": {"list": {"struct": {"seed": "int64"}}}, "y": "string", "n": "float64",
                                      "s": {"struct": {"k": "string", "extra": "bool"}}}}
    with pytest.raises(MixedTypes, match=r"field \.params\[\] is string in one sample and float64"):
        unify(type_of({"params": ["ramp_angle_deg"]}), type_of({"params": [16.4]}))
    with pytest.raises(MixedTypes, match="members"):
        merge(sample_features({"json": {}, "txt": "a"}), sample_features({"json": {}}))


def test_a_sample_that_mixes_types_is_refused_when_written(tmp_path):
    from test_shards import make_sample

    first, second = make_sample(0), make_sample(1)
    second = shards.Sample(second.key, second.video, second.fps, {**second.meta, "family": 7}, second.text,
                           second.arrays)
    with shards.ShardWriter(str(tmp_path), "shard-000000") as w:
        w.write(first)
        with pytest.raises(MixedTypes, match="sample 00000001: json.family is string in one sample and int64"):
            w.write(second)


def test_fields_whose_shape_follows_the_content_are_json_text():
    meta = {"family": "ramp", "rejections": [], "events": [], "scene": {"statics": [], "params": {"n": 1}},
            "captions": {"short": {"en": "A ball."}, "claims": [{"object": None, "params": {}}]}}
    packed = pack(meta)
    assert packed["rejections"] == "[]" and packed["scene"]["params"] == '{"n":1}' and packed["family"] == "ramp"
    assert packed["captions"]["short"] == {"en": "A ball."} and meta["events"] == []  # the given value is kept
    assert unpack(packed) == meta and unpack(pack(meta)) == meta
    assert outdated(pack(meta)) is None and "rejections, events" in outdated(meta)


def nulls(t, where: str = "") -> list[str]:
    """Where a column type is left open (an empty list, a None): a reader inferring types from early rows guesses."""
    if t == "null":
        return [where]
    if isinstance(t, dict) and "list" in t:
        return nulls(t["list"], where + "[]")
    if isinstance(t, dict) and "struct" in t:
        return [w for k, v in t["struct"].items() for w in nulls(v, f"{where}.{k}")]
    return []


# ---------------------------------------------------------------- a real dataset through `datasets`


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, simreel) -> Path:
    """Seed 22: the first five clips (all `datasets` types a column from, without the card) have no ramp, so
    no statics and other families' params; clips 6-10 bring a ramp, a throw (no params) and a topple."""
    out = tmp_path_factory.mktemp("hf") / "ds"
    simreel("generate", str(ROOT / "configs" / "tiny.yaml"), "--out", str(out), "num_samples=10", "seed=22",
            "samples_per_shard=5", f"modalities=[{','.join(MODALITIES)}]", "world={}", "render.motion_blur=2",
            timeout=300)
    return out


@pytest.fixture(scope="module")
def truth(dataset) -> dict[str, dict]:
    """Every sample as the shards hold it: key -> {ext: bytes}."""
    return {raw["__key__"]: raw for url in shards.list_shards(str(dataset)) for raw in shards.iter_samples(url)}


def plain(value):
    """A JSON value with the None-valued struct fields left out: a table fills the fields a row lacks with None."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def same_sample(row: dict, raw: dict) -> None:
    key = raw["__key__"]
    assert plain(row["json"]) == plain(json.loads(raw["json"])), key
    assert row["txt"] == raw["txt"].decode("utf-8"), key
    assert row["mp4"]["bytes"] == raw["mp4"], key
    assert shards.decode_video(row["mp4"]["bytes"]).shape[0] == json.loads(raw["json"])["num_frames"]
    npz = sorted(ext for ext in raw if ext.endswith(".npz"))
    assert npz == sorted([f"{m}.npz" for m in MODALITIES if m != "rgb"] + ["traj.npz"])
    assert npz == sorted(e for e in row if e.endswith(".npz"))
    for ext in npz:
        for name, array in load_npz(raw[ext]).items():
            np.testing.assert_array_equal(np.asarray(row[ext][name], dtype=array.dtype), array, err_msg=f"{key} {ext}")


@pytest.mark.slow
def test_every_clip_has_one_complete_json_type(truth):
    """Without the card, `datasets` types each column from the first five rows: every clip's KEY.json must have
    the same type, fully known in each row (no empty list, no None, the same keys), whatever its content."""
    metas = [json.loads(truth[key]["json"]) for key in sorted(truth)]
    families = [m["family"] for m in metas]
    assert "ramp" not in families[:5] and {"ramp", "throw", "topple"} <= set(families[5:])  # the case at stake
    statics = [json.loads(m["scene"]["statics"]) for m in metas]
    assert not any(statics[:5]) and any(statics)
    first = type_of(metas[0])
    assert nulls(first) == []
    for key, meta in zip(sorted(truth), metas):
        assert type_of(meta) == first, key


@pytest.mark.slow  # a real generate (local Ray), then four loads
@pytest.mark.parametrize("how", ["webdataset", "webdataset-streaming", "directory", "directory-streaming"])
def test_datasets_loads_every_sample_with_every_member(dataset, truth, how, tmp_path):
    datasets = pytest.importorskip("datasets")

    streaming = how.endswith("streaming")
    if how.startswith("webdataset"):
        files = sorted(str(p) for p in dataset.glob("shard-*.tar"))
        ds = datasets.load_dataset("webdataset", data_files={"train": files}, split="train", streaming=streaming,
                                   cache_dir=str(tmp_path))
    else:  # driven by the dataset card's YAML: its data_files and its declared features
        ds = datasets.load_dataset(str(dataset), split="train", streaming=streaming, cache_dir=str(tmp_path))
    rows = {row["__key__"]: row for row in ds.cast_column("mp4", datasets.Video(decode=False))}
    assert sorted(rows) == sorted(truth) and len(rows) == 10
    for key, raw in truth.items():
        same_sample(rows[key], raw)


@pytest.mark.slow
def test_the_card_declares_every_column(dataset, truth):
    datasets = pytest.importorskip("datasets")

    card = (dataset / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert "- floors: " in card and "- environments: " in card and "`KEY.boxes.npz`" in card
    features = datasets.Features._from_yaml_list(header["dataset_info"]["features"])
    assert sorted(features) == sorted(["mp4", "json", "txt", "traj.npz", "__key__", "__url__"]
                                      + [f"{m}.npz" for m in MODALITIES if m != "rgb"])
    assert isinstance(features["mp4"], datasets.Video) and features["json"]["rejections"] == datasets.Value("string")
    assert features["depth.npz"]["depth"].feature.feature.feature == datasets.Value("float32")
    assert features["boxes.npz"]["bbox_2d"].feature.feature.feature == datasets.Value("float32")
    assert features["boxes.npz"]["visible_px"].feature.feature == datasets.Value("int32")
    assert features["json"]["events"] == datasets.Value("string")  # JSON text: its shape follows the content
    events = [e for raw in truth.values() for e in json.loads(json.loads(raw["json"])["events"])]
    contact = next(e for e in events if e["kind"] == "contact_begin")
    assert len(contact["normal"]) == 3 and contact["impulse"] > 0
    world = features["json"]["scene"]["world"]
    assert world["floor"] == datasets.Value("string") and world["textures"].feature == datasets.Value("string")


@pytest.mark.slow
def test_mp4_folder_export_loads_as_a_videofolder(dataset, truth, tmp_path):
    datasets = pytest.importorskip("datasets")

    out = tmp_path / "mp4"
    assert shards.export(str(dataset), str(out)) == 10
    ds = datasets.load_dataset("videofolder", data_dir=str(out), split="train", cache_dir=str(tmp_path / "cache"))
    rows = list(ds.cast_column("video", datasets.Video(decode=False)))
    assert len(rows) == 10
    for row in rows:
        raw = truth[row["key"]]
        video = row["video"]["bytes"] or Path(row["video"]["path"]).read_bytes()  # a folder's videos load as paths
        assert video == raw["mp4"] and row["text"] == raw["txt"].decode("utf-8")
        meta = json.loads(raw["json"])
        assert row["family"] == meta["family"] and row["modalities"] == meta["modalities"]
        assert (row["floor"], row["environment"]) == (meta["scene"]["world"]["floor"], meta["scene"]["world"]["environment"])
