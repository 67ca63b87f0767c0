"""Held-out splits as configuration: a training split never holds a held-out scene, a heldout split
holds nothing else, for a range and for a combination; real generate runs (local Ray), tiny clips."""
from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest

from simreel import scenes, shards
from simreel.config import ConfigError, dataset_from_dict
from simreel.scenes.holdout import Holdout, Range, held_out

TINY = {"num_samples": 6, "samples_per_shard": 3, "seed": 5, "modalities": ["rgb"], "captions": {"kinds": ["short"]},
        "clip": {"resolution": "32x32", "fps": 8, "duration_s": 1.0}, "render": {"quality": "fast"}}
RANGE = {"ranges": {"throw.speed_mps": {"min": 2.6}}}  # about half of 1 s throws start this fast
COMBINATION = {"combinations": [{"family": "throw", "colour": "red"}, {"colour": "blue", "shape": "sphere"}]}
CLIP = scenes.ClipFormat(fps=8, duration_s=1.0, width=32, height=32)


def test_a_scene_is_held_out_by_a_range_or_a_combination():
    specs = [scenes.sample("throw", seed, CLIP) for seed in range(40)]
    fast = Holdout(ranges=(Range("throw", "speed_mps", 2.6, None),))
    for spec in specs:
        m = held_out(spec, fast)
        speed = max(sum(v * v for v in o.linear_velocity) ** 0.5 for o in spec.objects)
        assert (m is not None) == (speed >= 2.6) and (m is None or (m.kind, m.clause) == ("range", "throw.speed_mps in [2.6, inf]"))
    red = Holdout(combinations=((("colour", "red"), ("family", "throw")),))
    for spec in specs:
        m = held_out({"scene": spec.to_dict()}, red.to_dict())  # a KEY.json and a manifest's config.holdout
        assert (m is not None) == any(o.colour == "red" for o in spec.objects)
        assert m is None or (m.kind, m.clause) == ("combination", "colour=red, family=throw")
    assert held_out(scenes.sample("drop", 0, CLIP), red) is None  # another family


def test_screened_draws_cost_no_simulation_attempt_and_are_recorded():
    wanted = scenes.attempt_seed(7, 30)  # beyond MAX_ATTEMPTS: screened draws do not use attempts up
    screen = lambda spec: None if spec.seed == wanted else scenes.Rejection(spec.seed, "held_out", "test")  # noqa: E731
    scene = scenes.make("drop", 7, CLIP, screen=screen)
    assert scene.spec.seed == wanted and [r.reason for r in scene.rejections] == ["held_out"] * 30


@pytest.mark.parametrize("holdout, split, message", [
    ({"ranges": {"throw.sped_mps": {"min": 1}}}, "train", "known fields are ['drop.height_m', 'drop.objects'"),
    ({"ranges": {"ramp.speed_mps": {"min": 1}}}, "train", "'throw.speed_mps']"),  # not a family of this dataset
    ({"ranges": {"throw.speed_mps": {"min": 3, "max": 1}}}, "train", "A <= B"),
    ({"combinations": [{"colour": "reed"}]}, "train", "colour: 'reed' is not allowed; expected one of ['red',"),
    ({"combinations": [{"hue": "red"}]}, "train", "known keys are ['family', 'colour', 'shape', 'size', 'material']"),
    ({"combinations": [{"family": "drop"}, {"family": "throw"}]}, "train", "leaves no family of ['drop', 'throw']"),
    (None, "heldout", "a heldout split needs a `holdout` section"),
    (RANGE, "test", "expected one of ['train', 'heldout', 'all']"),
])
def test_holdout_mistakes_are_named_with_what_is_allowed(holdout, split, message):
    raw = {**TINY, "families": ["drop", "throw"], "split": split, **({"holdout": holdout} if holdout else {})}
    with pytest.raises(ConfigError) as e:
        dataset_from_dict(raw)
    assert message in str(e.value)


def test_a_holdout_round_trips_and_leaves_other_configs_hash_alone():
    config = dataset_from_dict({**TINY, "families": ["throw"], "holdout": {**RANGE, **COMBINATION}, "split": "heldout"})
    assert dataset_from_dict(config.to_dict()) == config
    plain = dataset_from_dict({**TINY, "families": ["throw"]})
    assert "holdout" not in plain.to_dict() and plain.hash != config.hash
    assert dataset_from_dict({**TINY, "families": ["drop", "throw"], "holdout": RANGE, "split": "heldout"}
                             ).split_families == (("throw", 1.0),)  # drop cannot be held out by this range
    every = dataset_from_dict({**TINY, "families": ["drop", "throw"], "holdout": RANGE, "split": "all"})
    assert every.split_families == (("drop", 1.0), ("throw", 1.0)) and every.hash != config.hash
    fast = next(s for s in (scenes.sample("throw", seed, CLIP) for seed in range(40)) if held_out(s, every.holdout))
    assert every.holdout.screen("all")(fast) is None and every.holdout.screen("train")(fast).reason == "held_out"


def generated(out: Path, holdout: dict, split: str, families: list[str]) -> list[dict]:
    from simreel.job import generate

    config = dataset_from_dict({**TINY, "families": families, "holdout": holdout, "split": split})
    generate(config, str(out), workers=1, progress_stream=io.StringIO())
    return [s["meta"] for s in shards.ClipDataset(str(out), decode=False)]


@pytest.mark.slow
@pytest.mark.parametrize("kind, holdout, families", [("range", RANGE, ["throw"]),
                                                     ("combination", COMBINATION, ["drop", "throw"])])
def test_train_never_holds_a_held_out_scene_and_heldout_nothing_else(local_ray, tmp_path, kind, holdout, families):
    train = generated(tmp_path / "train", holdout, "train", families)
    heldout = generated(tmp_path / "heldout", holdout, "heldout", families)
    assert len(train) == len(heldout) == TINY["num_samples"]
    assert [held_out(m, holdout) for m in train] == [None] * len(train)
    assert all(held_out(m, holdout).kind == kind for m in heldout)

    manifest = json.loads((tmp_path / "train" / "manifest.json").read_text())
    rejected = Counter(r["reason"] for m in train for r in m["rejections"])
    assert rejected["held_out"] > 0 and manifest["totals"]["rejections"]["held_out"] == rejected["held_out"]
    assert manifest["config"]["holdout"] == Holdout.from_dict(holdout).to_dict()
    card = (tmp_path / "heldout" / "README.md").read_text()
    assert "## Held-out split" in card and "This is the `heldout` split" in card
    clause = next(iter(holdout["ranges"])) if kind == "range" else "colour = red"
    assert clause in card
