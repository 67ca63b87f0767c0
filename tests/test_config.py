"""The one config loader: training and loop configs read, overridden and checked like dataset
configs (test_generate_config.py), every problem at once, one line per field."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from simreel.config import ConfigError, load_loop, load_train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def problems(e: pytest.ExceptionInfo) -> list[str]:
    return [line.strip() for line in str(e.value).splitlines()[1:]]


def test_training_configs_load_with_overrides():
    cfg = load_train(CONFIGS / "train-tiny.yaml", ["lr=1e-3", "patch=[1,4,4]", "ranks=2"])
    assert (cfg.lr, cfg.patch, cfg.ranks, cfg.frames) == (1e-3, (1, 4, 4), 2, 8)
    for name in ("train-tiny", "train-small", "train-base"):
        assert load_train(CONFIGS / f"{name}.yaml").warmup >= 0
    with pytest.raises(ConfigError, match="does not exist"):
        load_train(CONFIGS / "missing.yaml")


@pytest.mark.parametrize("override, allowed", [
    ("warmup=-1", ">= 0"),  # would divide by zero in the learning-rate warm-up at step 0
    ("steps=0", ">= 1"), ("batch_size=-2", ">= 1"), ("ranks=0", ">= 1"), ("lr=0", "positive"),
    ("ema_decay=1.0", "[0, 1)"), ("caption_dropout=-0.1", "[0, 1)"), ("frames=15", "multiple of its patch size 2"),
    ("lr_final=0", "(0, 1]"), ("latent_channels=-1", ">= 0"),
    ("model=huge", "one of"), ("attention=sparse", "'full' or 'factorised'"), ("loader_workers=2", "0 (decode"),
    ("caption_kinds=[long]", "'short', 'dense'"), ("steps=many", "an integer"), ("gpu=maybe", "true or false"),
    ("stepz=3", "unknown field"), ("t_uniform=1.5", "[0, 1)"), ("loss_t_min=0", "(0, 1]"), ("object_weight=0", "positive"), ("patch=[2,4]", "three positive integers"), ("text_dim=65", "multiple of text_heads"),
])
def test_each_bad_training_field_is_one_line(override, allowed):
    with pytest.raises(ConfigError) as e:
        load_train(CONFIGS / "train-tiny.yaml", [override])
    field, value = override.split("=")
    assert len(problems(e)) == 1, problems(e)
    assert problems(e)[0].startswith(f"{field}: ") and allowed in problems(e)[0], problems(e)


def test_a_latent_model_needs_frames_whole_latent_patches():
    """A latent cell covers 4x4 pixels, so a patch of 4 cells needs 16 pixels: 24 is refused, 32 is fine."""
    with pytest.raises(ConfigError, match="height.*latent cells of 4"):
        load_train(CONFIGS / "train-tiny.yaml", ["latent_channels=4", "height=24"])
    assert load_train(CONFIGS / "train-tiny.yaml", ["latent_channels=4", "height=32"]).tokens_per_clip == 4 * 2 * 1


def test_every_bad_training_field_is_reported_at_once():
    with pytest.raises(ConfigError) as e:
        load_train(CONFIGS / "train-tiny.yaml", ["warmup=-1", "steps=0", "lr=x", "stepz=1", "nonsense"])
    assert str(e.value) == "override 'nonsense' must look like key=value (nested: video.crf=23)"
    with pytest.raises(ConfigError) as e:
        load_train(CONFIGS / "train-tiny.yaml", ["warmup=-1", "steps=0", "lr=x", "stepz=1"])
    assert sorted(p.split(":")[0] for p in problems(e)) == ["lr", "steps", "stepz", "warmup"]


def test_a_loop_config_may_reference_a_training_config(tmp_path):
    gpu = load_loop(CONFIGS / "loop-gpu.yaml", ["train.steps=5", "study={}"])
    base = load_train(CONFIGS / "train-base.yaml", ["steps=5"])
    assert gpu.train_config("data", "out") == dataclasses.replace(base, data="data", out="out")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "t.yaml").write_text(yaml.safe_dump({"frames": 16, "steps": 9, "warmup": 3}))
    loop = yaml.safe_load((CONFIGS / "demo.yaml").read_text())
    loop["train"] = {"config": "sub/t.yaml", "steps": 7}  # relative to the loop config; its fields win
    (tmp_path / "loop.yaml").write_text(yaml.safe_dump(loop))
    t = load_loop(tmp_path / "loop.yaml").train_config("d", "o")
    assert (t.frames, t.steps, t.warmup) == (16, 7, 3)


def test_an_object_weighted_loop_makes_its_training_clips_with_ids():
    """Weighting the loss by objects needs the instance ids of the training split."""
    assert "ids" not in load_loop(CONFIGS / "demo.yaml", ["train.object_weight=1"]).dataset_config("train", "o").modalities
    loop = load_loop(CONFIGS / "demo.yaml", ["train.object_weight=4"])
    assert "ids" in loop.dataset_config("train", "o").modalities and loop.train_config("d", "o").object_weight == 4


def test_a_loops_held_out_assets_stay_out_of_training_only():
    loop = load_loop(CONFIGS / "demo.yaml")
    loop = dataclasses.replace(loop, dataset={**loop.dataset, "assets": {"holdout": ["duck"]}})
    assert [loop.dataset_config(s, "o").split for s in ("train", "probe", "eval")] == ["train", "all", "all"]


def test_every_bad_loop_field_is_reported_at_once():
    with pytest.raises(ConfigError) as e:
        load_loop(CONFIGS / "demo.yaml", ["train.warmup=-1", "splits.eval=1", "dataset.video.crf=99",
                                          "sample.steps=x", "train.config=nope.yaml", "workers=0", "bogus=1"])
    fields = sorted(p.split(":")[0] for p in problems(e))
    assert fields == ["bogus", "dataset.video.crf", "sample.steps", "splits", "train.config", "train.warmup",
                      "workers"], problems(e)
    with pytest.raises(ConfigError) as e:
        load_loop(CONFIGS / "demo.yaml", ["train.frames=32", "sample.prompts=100", "evaluate.context_frames=3"])
    assert sorted(p.split(":")[0] for p in problems(e)) == ["evaluate.context_frames", "sample.prompts", "train.frames"]


def test_a_study_changes_one_training_field_per_model():
    loop = load_loop(CONFIGS / "learn.yaml")
    assert loop.study_points()[:3] == [("clips", 250), ("clips", 1000), ("steps", 450)]
    assert loop.train_config("d", "o").keep_steps == (450, 900)  # the main run keeps the steps axis's checkpoints
    point = loop.train_config("d", "o", clips=250)
    assert point.clips == 250 and point.keep_steps == () and point.steps == loop.train_config("d", "o").steps
    assert loop.main_value("clips") == loop.splits["train"] - loop.train_config("d", "o").val_clips
    with pytest.raises(ConfigError) as e:
        load_loop(CONFIGS / "learn.yaml", ["study.clips=[5000]", "study.steps=[1800]", "study.dim=[64]"])
    assert sorted(p.split(":")[0] for p in problems(e)) == ["study.clips", "study.dim", "study.steps"], problems(e)
    with pytest.raises(ConfigError) as e:
        load_loop(CONFIGS / "learn.yaml", ["study.steps=[900, 900]", "study.data=[x]"])
    assert sorted(p.split(":")[0] for p in problems(e)) == ["study.data", "study.steps"], problems(e)


HOLDOUT = "dataset.holdout={combinations: [{colour: red, shape: sphere}]}"


@pytest.mark.parametrize("overrides, field, allowed", [
    ([HOLDOUT], "splits", "(dataset.holdout asks for the heldout split"),
    (["splits.heldout=40"], "splits", "(a heldout split needs dataset.holdout"),
    ([HOLDOUT, "splits.heldout=40", "dataset.split=heldout"], "dataset.split", "the loop sets it"),
    (["dataset.split=heldout"], "dataset.split", "remove it"),
    (["dataset.holdout={ranges: {throw.sped_mps: {min: 4}}}", "splits.heldout=48"],
     "dataset.holdout.ranges.throw.sped_mps", "known fields are ['collide.height_m'"),
    (["dataset.holdout={combinations: [{colour: reed}]}", "splits.heldout=48"],
     "dataset.holdout.combinations[0].colour", "expected one of ['red'"),
    ([HOLDOUT, "splits.heldout=48", "evaluate.continuations=60", "sample.prompts=40"], "evaluate.continuations",
     "expected at most splits.eval=48"),
    ([HOLDOUT, "splits.heldout=20"], "sample.prompts", "and splits.heldout=20"),
])
def test_a_bad_holdout_in_a_loop_is_one_line(overrides, field, allowed):
    with pytest.raises(ConfigError) as e:
        load_loop(CONFIGS / "demo.yaml", overrides)
    assert len(problems(e)) == 1 and problems(e)[0].startswith(f"{field}: ") and allowed in problems(e)[0], problems(e)


def test_a_loop_with_a_holdout_trains_on_none_of_it():
    loop = load_loop(CONFIGS / "generalisation.yaml")
    assert loop.split_names == ("train", "probe", "eval", "heldout")
    holdout = loop.dataset_config("heldout", "o").holdout
    assert holdout.ranges and holdout.combinations and loop.dataset_config("heldout", "o").split == "heldout"
    for split in ("train", "probe", "eval"):  # the eval split is the in-distribution side
        d = loop.dataset_config(split, "o")
        assert (d.holdout, d.split) == (holdout, "train"), split
    demo = load_loop(CONFIGS / "demo.yaml")  # no holdout: three splits, their configs as before
    assert demo.split_names == ("train", "probe", "eval") and demo.dataset_config("eval", "o").holdout is None
