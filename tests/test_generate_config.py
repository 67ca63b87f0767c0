"""Dataset configs and the plan: validated whole up front; the plan is the config alone."""
from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from simreel.config import ConfigError, dataset_from_dict, load_dataset
from simreel.job import plan, sample_plan
from simreel.progress import Progress

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_shipped_configs_load():
    tiny = load_dataset(CONFIGS / "tiny.yaml")
    default = load_dataset(CONFIGS / "default.yaml")
    assert (tiny.num_samples, tiny.num_shards) == (8, 2)
    assert default.resolutions == ((64, 64),) and default.fps == (8,) and default.duration_s.values == (2.0,)
    assert default.modalities == ("rgb", "ids") and default.languages == ("en", "zh")
    assert dataset_from_dict(default.to_dict()) == default  # to_dict is the YAML shape, losslessly


def test_overrides_reach_nested_fields_and_parse_yaml_values():
    c = load_dataset(CONFIGS / "tiny.yaml", ["video.crf=30", "num_samples=5", "clip.duration_s={min: 0.5, max: 1.5}",
                                            "families={drop: 2, ramp: 1}", "clip.resolution=[32x32, 64x48]"])
    assert c.video_crf == 30 and c.num_samples == 5 and c.num_shards == 2
    assert (c.duration_s.low, c.duration_s.high) == (0.5, 1.5)
    assert c.families == (("drop", 2.0), ("ramp", 1.0))
    assert c.resolutions == ((32, 32), (64, 48))


def test_every_bad_field_is_named_with_its_value_and_what_is_allowed():
    with pytest.raises(ConfigError) as e:
        load_dataset(CONFIGS / "tiny.yaml", ["video.crf=99", "families=[nope]", "clip.resolution=33x32",
                                            "modalities=[depth]", "bogus=1", "clip.fps=7", "captions.kinds=[long]"])
    lines = str(e.value).splitlines()[1:]
    assert len(lines) == 7, lines
    expected = {
        "video.crf: 99": "<= 51",
        "families.nope": "known families are",
        "clip.resolution: '33x32'": "even",
        "modalities: ['depth']": "must include 'rgb'",
        "bogus: 1": "known fields are",
        "clip.fps: 7": "dividing the 240 Hz",
        "captions.kinds: ['long']": "'short', 'dense', 'events', 'qa'",
    }
    for start, allowed in expected.items():
        assert any(line.strip().startswith(start) and allowed in line for line in lines), (start, lines)


@pytest.mark.parametrize("override, field", [
    ("num_samples=0", "num_samples"), ("samples_per_shard=-1", "samples_per_shard"), ("seed=-3", "seed"),
    ("clip.duration_s=0.1", "clip.duration_s"), ("video.codec=vp9", "video.codec"),
    ("render.quality=ultra", "render.quality"), ("captions.languages=[fr]", "captions.languages"), ("nonsense", "key=value"),
])
def test_single_bad_values(override, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_dataset(CONFIGS / "tiny.yaml", [override])


def test_missing_file_and_bad_yaml_are_reported(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_dataset(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("num_samples: [1\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_dataset(tmp_path / "bad.yaml")


def test_hash_ignores_where_and_what_name_but_not_content():
    c = load_dataset(CONFIGS / "tiny.yaml")
    assert load_dataset(CONFIGS / "tiny.yaml", ["name=other", "out=/elsewhere"]).hash == c.hash
    assert load_dataset(CONFIGS / "tiny.yaml", ["video.crf=19"]).hash != c.hash


def test_plan_is_the_config_alone():
    c = load_dataset(CONFIGS / "tiny.yaml", ["num_samples=10", "samples_per_shard=4",
                                            "clip.duration_s=[0.5, 1.0]", "clip.resolution=[32x32, 48x32]"])
    shards_ = plan(c)
    assert [(s.name, s.start, s.stop) for s in shards_] == [
        ("shard-000000", 0, 4), ("shard-000001", 4, 8), ("shard-000002", 8, 10)]
    a = [sample_plan(c, i) for i in range(10)]
    assert a == [sample_plan(c, i) for i in range(10)]  # no hidden state
    assert sample_plan(c, 7) == a[7]
    assert [p.key for p in a[:2]] == ["00000000", "00000001"]
    assert len({p.seed for p in a}) == 10
    # more samples or more shards do not move sample 3; another dataset seed does
    bigger = load_dataset(CONFIGS / "tiny.yaml", ["num_samples=1000", "samples_per_shard=7",
                                                 "clip.duration_s=[0.5, 1.0]", "clip.resolution=[32x32, 48x32]"])
    assert sample_plan(bigger, 3) == a[3]
    reseeded = load_dataset(CONFIGS / "tiny.yaml", ["seed=1", "clip.duration_s=[0.5, 1.0]"])
    assert sample_plan(reseeded, 3).seed != a[3].seed
    # the mixes are used
    assert {p.clip.duration_s for p in a} == {0.5, 1.0} and {p.clip.width for p in a} == {32, 48}


def test_progress_plain_lines_off_a_terminal_and_a_bar_on_one():
    log = io.StringIO()
    display = Progress("generate", 100, "clip", stream=log, tty=False, every=0)
    display.update(0, 0)
    display.update(10, 10)  # the first clips: rate is measured from here, not from start-up
    time.sleep(0.2)
    display.update(30, 30)
    display.close(100, 100)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("[simreel generate] 0/100 clips (0%), 0.00 clips/s") and lines[0].endswith("ETA ?")
    assert float(lines[2].split(", ")[1].split()[0]) > 0 and not lines[2].endswith("ETA ?")
    assert lines[-1].startswith("[simreel generate] 100/100 clips (100%)")
    bar = io.StringIO()
    display = Progress("generate", 100, "clip", stream=bar, tty=True)
    display.update(40, 40)
    display.close(100, 100)
    assert "100/100" in bar.getvalue() and "clip" in bar.getvalue()
