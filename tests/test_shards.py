"""shards on synthetic samples: codecs, deterministic bytes, atomic shards, validation,
reading back (torch, DataLoader workers, ranks), export and preview. No physics here."""
from __future__ import annotations

import json
import os
import tarfile
import time

import numpy as np
import pytest
import torch
from PIL import Image

from simreel import shards
from simreel.shards.card import render_card
from simreel.shards.preview import write_preview
from simreel.shards.sample import npz_bytes
from simreel.shards.summary import merge, summarize
from simreel.shards.writer import finished_stats, stats_name, tar_name

T, H, W = 8, 32, 32


def make_video(i: int) -> np.ndarray:
    """A coloured square moving down a grey background, different per sample."""
    v = np.full((T, H, W, 3), 90, np.uint8)
    colour = np.array([(200, 40, 40), (40, 160, 60), (40, 60, 200)][i % 3], np.uint8)
    for t in range(T):
        v[t, 4 + 2 * t : 12 + 2 * t, 4 + i % 10 : 12 + i % 10] = colour
    return v


def make_sample(i: int, modalities=("rgb", "ids")) -> shards.Sample:
    key = f"{i:08d}"
    video = make_video(i)
    meta = {
        "key": key, "index": i, "seed": 1000 + i, "family": ["drop", "collide"][i % 2],
        "modalities": list(modalities),
        "captions": {"short": {"en": f"A cube number {i} falls.", "zh": "一个立方体落下。"},
                     "dense": {"en": "A cube falls onto the floor and rests."}},
        "scene": {"objects": [{"name": "obj0"}] * (1 + i % 3)},
        "events": [{"kind": "bounce", "frame": 3, "time_s": 0.25, "subjects": ["obj0", "floor"], "value": 1.0}] * (i % 2),
        "camera": {"K": np.eye(3), "poses": np.tile(np.eye(4), (T, 1, 1))},
        "rejections": [], "generator": {"name": "simreel", "version": "test"}, "config_hash": "0123456789abcdef",
    }
    arrays = {"traj": {"positions": np.linspace(0, 1, T * 3).reshape(T, 1, 3)}}
    if "ids" in modalities:
        arrays["ids"] = {"ids": (video[..., 0] != 90).astype(np.uint8)}
    return shards.Sample(key, video, 12, meta, meta["captions"]["short"]["en"], arrays)


def write_dataset(out: str, n_shards: int = 3, per_shard: int = 3) -> dict:
    stats = []
    for s in range(n_shards):
        samples = [make_sample(i) for i in range(s * per_shard, (s + 1) * per_shard)]
        with shards.ShardWriter(out, f"shard-{s:06d}") as w:
            for sample in samples:
                w.write(sample)
            stats.append(w.commit({"summary": merge(summarize(x.meta) for x in samples)}))
    manifest = shards.build_manifest(name="synthetic", generator={"name": "simreel", "version": "test"},
                                     config={"num_samples": n_shards * per_shard}, config_hash="0123456789abcdef",
                                     stats=stats)
    shards.write_manifest(out, manifest)
    return manifest


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("ds"))
    write_dataset(out)
    return out


# ---------------------------------------------------------------- bytes


def test_h264_round_trip_is_close_and_lossless_is_exact():
    v = make_video(1)
    lossy = shards.decode_video(shards.encode_video(v, 12, shards.VideoCodec("h264", crf=18)))
    assert lossy.shape == v.shape and lossy.dtype == np.uint8
    assert np.abs(lossy.astype(int) - v).mean() < 4
    exact = shards.decode_video(shards.encode_video(v, 12, shards.VideoCodec("h264-lossless")))
    assert np.array_equal(exact, v)


def test_video_rejects_odd_sizes_and_bad_codecs():
    with pytest.raises(ValueError, match="even"):
        shards.encode_video(np.zeros((2, 31, 32, 3), np.uint8), 12)
    with pytest.raises(ValueError, match="codec"):
        shards.VideoCodec("vp9")
    with pytest.raises(ValueError, match="not a decodable mp4"):
        shards.decode_video(b"\x00" * 100)


def test_encoding_is_byte_identical_across_runs():
    a = shards.encode_sample(make_sample(4))
    time.sleep(1.1)  # a wall-clock timestamp (zip, tar, mp4) would show up as a difference
    b = shards.encode_sample(make_sample(4))
    assert a == b
    assert list(a) == ["mp4", "json", "txt", "ids.npz", "traj.npz"]
    assert npz_bytes({"x": np.arange(3)}) == npz_bytes({"x": np.arange(3)})


def test_x264_output_is_stable_for_tiny_textured_clips():
    # x264's mb-tree made 5 different bitstreams out of 30 encodes of clips like this one
    yy, xx = np.mgrid[0:32, 0:32]
    clip = np.stack([np.stack([128 + 60 * np.sin(xx / 5 + t) + 40 * np.cos(yy / 7 - t / 2)] * 3, -1)
                     for t in range(16)]).clip(0, 255).astype(np.uint8)
    first = shards.encode_video(clip, 8)
    for _ in range(15):
        shards.decode_video(first)  # other codec work in the same process must not matter either
        assert shards.encode_video(clip, 8) == first


def test_encode_derives_video_fields_and_rejects_bad_keys():
    members = shards.encode_sample(make_sample(2))
    meta = json.loads(members["json"])
    assert (meta["fps"], meta["num_frames"], meta["width"], meta["height"]) == (12, T, W, H)
    assert meta["video"]["pix_fmt"] == "yuv420p"
    decoded = shards.decode_sample(members, arrays=("traj", "ids"))
    assert decoded["video"].shape == (T, H, W, 3)
    assert decoded["ids"]["ids"].shape == (T, H, W)
    with pytest.raises(ValueError, match="no dots"):
        shards.encode_sample(shards.Sample("a.b", make_video(0), 12, {}, "x"))


# ---------------------------------------------------------------- writing


def test_shard_appears_whole_with_stats_written_last(tmp_path):
    out = str(tmp_path)
    with shards.ShardWriter(out, "shard-000000") as w:
        w.write(make_sample(0))
        names = os.listdir(out)
        assert names and all(n.endswith(".tmp") for n in names)  # only the temporary exists mid-shard
        w.write(make_sample(1))
        stats = w.commit({"seconds": {"render": 1.0}})
    assert sorted(os.listdir(out)) == [stats_name("shard-000000"), tar_name("shard-000000")]
    assert stats["count"] == 2 and stats["seconds"]["render"] == 1.0 and "encode" in stats["seconds"]
    with tarfile.open(tmp_path / "shard-000000.tar") as tar:
        members = tar.getmembers()
    assert [m.name for m in members][:3] == ["00000000.mp4", "00000000.json", "00000000.txt"]
    assert all(m.mtime == 0 and m.uid == 0 and m.uname == "" for m in members)
    assert finished_stats(out, "shard-000000") == json.loads((tmp_path / "shard-000000.stats.json").read_text())


def test_abandoned_shard_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with shards.ShardWriter(str(tmp_path), "shard-000000") as w:
            w.write(make_sample(0))
            raise RuntimeError("worker failed mid-shard")
    assert os.listdir(tmp_path) == []


def test_same_samples_make_identical_shards(tmp_path):
    for d in ("a", "b"):
        write_dataset(str(tmp_path / d), n_shards=1)
    assert (tmp_path / "a/shard-000000.tar").read_bytes() == (tmp_path / "b/shard-000000.tar").read_bytes()


def test_finished_stats_rejects_truncated_and_altered_tars(tmp_path):
    out = str(tmp_path)
    write_dataset(out, n_shards=1)
    tar = tmp_path / "shard-000000.tar"
    data = tar.read_bytes()
    tar.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert finished_stats(out, "shard-000000", verify=False) is not None  # same size: only the hash can tell
    assert finished_stats(out, "shard-000000") is None
    tar.write_bytes(data[: len(data) // 2])
    assert finished_stats(out, "shard-000000", verify=False) is None


# ---------------------------------------------------------------- validate


def test_validate_passes_a_sound_dataset(dataset):
    report = shards.validate(dataset)
    assert report.ok, report.problems
    assert (report.shards, report.samples) == (3, 9)


def _damage(src: str, dst, how: str) -> None:
    import shutil

    shutil.copytree(src, dst)
    tar = dst / "shard-000001.tar"
    data = bytearray(tar.read_bytes())
    at = bytes(data).index(b"mdat", len(data) // 3) + 40  # inside the second sample's mp4 payload
    if how == "truncate":  # mid-member, as an interrupted copy leaves it
        tar.write_bytes(bytes(data[:at]))
    else:
        data[at] ^= 0xFF
        tar.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncate", "alter"])
def test_validate_names_a_damaged_shard(dataset, tmp_path, how):
    _damage(dataset, tmp_path / "ds", how)
    report = shards.validate(str(tmp_path / "ds"))
    assert not report.ok
    assert report.bad_shards() == ["shard-000001"]
    text = " ".join(p.what for p in report.problems)
    assert ("truncated" in text and "tar unreadable after" in text) if how == "truncate" else "altered" in text


def test_validate_checks_members_and_schema(tmp_path):
    out = str(tmp_path)
    good = shards.encode_sample(make_sample(0))
    bad_meta = json.loads(good["json"])
    del bad_meta["events"]
    with shards.ShardWriter(out, "shard-000000") as w:
        w.write_members("00000000", {**good, "json": json.dumps(bad_meta).encode()})
        w.write_members("00000001", {k: v for k, v in shards.encode_sample(make_sample(1)).items() if k != "txt"})
        stats = w.commit()
    shards.write_manifest(out, shards.build_manifest(name="x", generator={}, config={"num_samples": 2},
                                                     config_hash="x", stats=[stats]))
    problems = [p.what for p in shards.validate(out).problems]
    assert any("00000000" in p and "events" in p for p in problems), problems
    assert any("00000001" in p and "missing members ['txt']" in p for p in problems), problems


def test_validate_without_manifest_says_so(tmp_path):
    report = shards.validate(str(tmp_path))
    assert not report.ok and "manifest.json" in report.problems[0].what


# ---------------------------------------------------------------- reading back


def test_list_shards_and_wids_index(dataset):
    urls = shards.list_shards(dataset)
    assert [os.path.basename(u) for u in urls] == [f"shard-00000{i}.tar" for i in range(3)]
    wids = json.loads(open(os.path.join(dataset, "index.wids.json")).read())
    assert wids["__kind__"] == "wids-shard-index-v1"
    assert [s["nsamples"] for s in wids["shardlist"]] == [3, 3, 3]
    assert [s["url"] for s in wids["shardlist"]] == [os.path.basename(u) for u in urls]


def test_clip_dataset_with_dataloader_workers_yields_every_key_once(dataset):
    """The parent decodes first, as the trainer does for its held-out clips: forked workers must not
    inherit a decoder's thread pool without its threads (PyAV 18 hung there)."""
    ds = shards.ClipDataset(dataset, arrays=("traj",))
    assert next(iter(ds))["video"].shape == (T, H, W, 3)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2, collate_fn=shards.collate_clips,
                                         multiprocessing_context="fork", timeout=60)
    keys = []
    for batch in loader:
        assert batch["video"].dtype == torch.uint8 and tuple(batch["video"].shape[1:]) == (T, H, W, 3)
        assert all(isinstance(m, dict) for m in batch["meta"]) and all(isinstance(t, str) for t in batch["txt"])
        keys += batch["__key__"]
    assert sorted(keys) == [f"{i:08d}" for i in range(9)]


def test_clip_dataset_splits_by_rank(dataset, monkeypatch):
    seen = []
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        seen.append([s["__key__"] for s in shards.ClipDataset(dataset, shuffle=4, seed=3, decode=False)])
    assert seen[0] and seen[1] and not set(seen[0]) & set(seen[1])
    assert sorted(seen[0] + seen[1]) == [f"{i:08d}" for i in range(9)]


def test_clip_dataset_shuffle_is_seeded_and_resample_draws_with_replacement(dataset):
    def order(seed, epoch=0):
        ds = shards.ClipDataset(dataset, shuffle=5, seed=seed, decode=False)
        ds.set_epoch(epoch)
        return [s["__key__"] for s in ds]

    assert order(1) == order(1)
    assert sorted(order(1)) == [f"{i:08d}" for i in range(9)]
    assert order(1) != order(2) or order(1) != order(1, epoch=1)
    it = iter(shards.ClipDataset(dataset, resample=True, seed=0, decode=False))
    drawn = [next(it)["__key__"] for _ in range(30)]  # more than the dataset holds: it never ends
    assert len(drawn) == 30 and set(drawn) <= {f"{i:08d}" for i in range(9)}


def test_clip_dataset_reads_fsspec_urls(tmp_path):
    write_dataset("memory://simreel-test/ds", n_shards=2, per_shard=2)
    assert shards.validate("memory://simreel-test/ds").ok
    keys = [s["__key__"] for s in shards.ClipDataset("memory://simreel-test/ds")]
    assert keys == [f"{i:08d}" for i in range(4)]
    out = f"file://{tmp_path}/ds"
    write_dataset(out, n_shards=1, per_shard=2)
    assert shards.list_shards(out)[0].startswith("file://")
    assert [s["__key__"] for s in shards.ClipDataset(out)] == ["00000000", "00000001"]


@pytest.mark.slow  # starts a local Ray
def test_ray_dataset_rows_are_clip_dataset_samples(dataset, local_ray):
    """The two readers give the same row for a key: the same fields, arrays of the same
    dtype, shape and values, the same text and metadata."""
    for decode in (True, False):
        options = dict(decode=decode, arrays=("traj", "ids"))
        torch_rows = {s["__key__"]: s for s in shards.ClipDataset(dataset, **options)}
        ray_rows = {r["__key__"]: r for r in shards.ray_dataset(dataset, **options).take_all()}
        assert sorted(ray_rows) == sorted(torch_rows) == [f"{i:08d}" for i in range(9)]
        for key in ("00000000", "00000005"):
            ours, theirs = torch_rows[key], ray_rows[key]
            assert sorted(ours) == sorted(theirs), (sorted(ours), sorted(theirs))
            assert {"traj_positions", "ids", "video" if decode else "mp4"} <= set(ours)
            for field, value in ours.items():
                if isinstance(value, np.ndarray):
                    assert theirs[field].dtype == value.dtype and theirs[field].shape == value.shape, field
                    np.testing.assert_array_equal(theirs[field], value, err_msg=field)
                else:
                    assert theirs[field] == value, field


# ---------------------------------------------------------------- export, preview, card


def test_export_mp4_folder_for_hugging_face(dataset, tmp_path):
    n = shards.export(dataset, str(tmp_path / "exp"), "mp4-folder")
    assert n == 9
    rows = [json.loads(line) for line in (tmp_path / "exp/metadata.jsonl").read_text().splitlines()]
    assert [r["file_name"] for r in rows] == [f"{i:08d}.mp4" for i in range(9)]
    assert len({tuple(sorted(r)) for r in rows}) == 1  # one set of columns for every row
    first = next(shards.iter_samples(shards.list_shards(dataset)[0]))
    assert (tmp_path / "exp/00000000.mp4").read_bytes() == first["mp4"]  # not re-encoded
    assert rows[0]["text"] == first["txt"].decode()


def test_preview_writes_contact_sheet_and_animation(dataset, tmp_path):
    png, gif = write_preview(dataset, str(tmp_path), n=4)
    sheet = Image.open(png)
    assert sheet.width > 6 * 96 and sheet.height > 4 * 96
    anim = Image.open(gif)
    assert anim.n_frames == T
    # the clips' colours reach the sheet: red, green and blue squares are all there
    pixels = np.asarray(sheet.convert("RGB")).reshape(-1, 3).astype(int)
    for channel in range(3):
        others = [c for c in range(3) if c != channel]
        assert ((pixels[:, channel] > 140) & (pixels[:, others] < 90).all(axis=1)).any()


def test_dataset_card_has_yaml_header_schema_and_statistics(dataset):
    import yaml

    manifest = shards.read_manifest(dataset)
    summary = merge(summarize(make_sample(i).meta) for i in range(9))
    card = render_card(manifest, summary, languages=["en", "zh"], license="cc-by-4.0")
    header = yaml.safe_load(card.split("---")[1])
    assert header["language"] == ["en", "zh"] and header["size_categories"] == ["n<1K"]
    assert header["configs"][0]["data_files"][0]["path"] == "shard-*.tar"
    assert "`KEY.traj.npz`" in card and "| `captions` |" in card
    assert "objects per clip: mean 2.00, min 1, max 3" in card
    assert "events per clip: mean 0.44, min 0, max 1" in card
    assert "vocabulary (zh" in card and "![first clips" in card
