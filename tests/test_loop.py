"""`simreel loop` end to end on a tiny config: stopped after a stage and resumed, the judge's
honesty on what it produced, and the report opened in a real headless Chromium."""
from __future__ import annotations

import base64
import json
import shutil
import time
from pathlib import Path

import pytest
import yaml
from support.chromium import Browser, chromium

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.slow  # every test here needs the whole loop run first (minutes)

TINY = {
    "name": "tiny loop",
    "seed": 0,
    "workers": 2,
    "dataset": {
        "samples_per_shard": 16,
        "families": ["drop", "collide", "ramp", "topple", "throw"],
        "clip": {"resolution": "32x32", "fps": 8, "duration_s": 2.0},
        "modalities": ["rgb"],
        "captions": {"kinds": ["short", "dense"], "languages": ["en"]},
        "video": {"codec": "h264", "crf": 18, "preset": "veryfast"},
        "render": {"quality": "fast"},
    },
    "splits": {"train": 16, "probe": 112, "eval": 16},
    "train": {"model": "tiny", "frames": 16, "height": 32, "width": 32, "patch": [2, 8, 8], "text_dim": 32,
              "text_depth": 1, "text_heads": 2, "text_len": 24, "batch_size": 4, "steps": 6, "warmup": 2,
              "val_clips": 2, "log_every": 2, "eval_every": 6, "ckpt_every": 6, "loader_workers": 0},
    "probe": {"epochs": 20, "width": 16, "batch_size": 16},
    "sample": {"steps": 2, "guidance": 2.0, "prompts": 8},
    "evaluate": {"context_frames": 4, "continuations": 3, "implausible": 4},
    "report": {"gallery": 4, "pairs": 2},
    "study": {"clips": [8], "steps": [4]},  # a model on 8 of the 14 training clips; the main one at step 4
}


@pytest.fixture(scope="module")
def loop(tmp_path_factory, simreel):
    """The tiny loop, first stopped after training, then resumed to the end."""
    tmp = tmp_path_factory.mktemp("loop")
    config = tmp / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    out = tmp / "out"
    first = simreel("loop", str(config), "--out", str(out), "--until", "train")
    second = simreel("loop", str(config), "--out", str(out))
    return out, first.stderr, second.stderr


def stamp(out: Path, stage: str) -> dict:
    return json.loads((out / stage / "stage.json").read_text())


def test_loop_stops_between_stages_and_resumes(loop):
    out, first, second = loop
    assert "stopped after train" in first and "sample:" not in first
    assert "generate: up to date, skipped" in second and "train: up to date, skipped" in second
    assert "sample: running" in second and "report: done" in second
    for stage in ("generate", "train", "sample", "evaluate", "study", "report"):
        assert stamp(out, stage)["outputs"], stage


def test_the_study_judges_each_point_like_the_main_model(loop):
    """Each axis holds its points and the main model; the data axis's model read only its nested
    subset (the first clips after the held-out ones), and the steps axis is the main run's own
    checkpoint on the way."""
    from simreel.shards import ClipDataset
    from simreel.trainer import checkpoint

    out = loop[0]
    axes = json.loads((out / "study" / "study.json").read_text())["axes"]
    assert [(r["value"], r["main"]) for r in axes["clips"]] == [(8, False), (14, True)], axes["clips"]
    assert [(r["value"], r["main"]) for r in axes["steps"]] == [(4, False), (6, True)], axes["steps"]
    main = json.loads((out / "evaluate" / "metrics.json").read_text())
    assert axes["clips"][1]["following"]["gain"] == main["headline"]["gain"]
    for row in axes["clips"] + axes["steps"]:
        assert row["following"]["n"] == TINY["sample"]["prompts"] and len(row["following"]["gain_ci95"]) == 2, row
        assert row["position_error"]["n"] == TINY["evaluate"]["continuations"], row
    keys = [s["__key__"] for s in ClipDataset(str(out / "generate" / "train"), decode=False)]
    val = TINY["train"]["val_clips"]
    read = json.loads((out / "study" / "clips-8" / "train" / "workers.json").read_text())["workers"][0]["read"]
    assert set().union(*read.values()) == set(keys[val:val + 8]), read  # 6 steps x 4 clips: all 8, none else
    assert checkpoint.load(checkpoint.kept(out / "train", 4))["step"] == 4
    assert checkpoint.load(out / "train" / checkpoint.CHECKPOINT)["step"] == 6


def test_a_damaged_stage_is_redone(loop, tmp_path, simreel):
    copy = tmp_path / "out"
    shutil.copytree(loop[0], copy)
    (copy / "report" / "index.html").write_text("")  # an output of another size: the stage is not valid
    log = simreel("loop", str(copy / "loop.yaml"), "--out", str(copy)).stderr
    assert "evaluate: up to date, skipped" in log and "report: running" in log
    assert (copy / "report" / "index.html").stat().st_size > 1000


def test_evaluate_command_rejudges_a_finished_loop(loop, tmp_path, simreel):
    copy = tmp_path / "out"
    shutil.copytree(loop[0], copy)
    log = simreel("evaluate", str(copy)).stderr
    assert "sample: up to date, skipped" in log and "evaluate: running" in log and "report: running" in log
    assert json.loads((copy / "report" / "metrics.json").read_text()) == json.loads(
        (loop[0] / "report" / "metrics.json").read_text()) | {"timings_s": json.loads(
            (copy / "report" / "metrics.json").read_text())["timings_s"]}  # the judge is deterministic


def test_metrics_have_the_promised_shape(loop):
    """Every judged row says how many clips it rests on and gives a 95% interval; a row on
    too few clips says so and gives no figure; the headline takes decided rows only."""
    metrics = json.loads((loop[0] / "report" / "metrics.json").read_text())
    for attr, row in metrics["faithfulness"].items():
        assert set(row) >= {"generated", "ceiling", "floor", "gain", "n", "ceiling_n", "ci95", "decided"}, attr
        if row["decided"]:
            assert row["n"] >= 8 and row["ceiling_n"] >= 8, row
            for figure in ("generated", "ceiling", "floor"):
                lo, hi = row["ci95" if figure == "generated" else f"{figure}_ci95"]
                assert 0 <= lo <= row[figure] <= hi <= 1, (attr, figure, row)
        else:
            assert row["reason"] and row["generated"] is None and row["ci95"] is None, (attr, row)
    head = metrics["headline"]
    assert head["attributes"] == [a for a, r in metrics["faithfulness"].items() if r["decided"]]
    for section, first in (("plausibility", "generated"), ("dynamics", "model")):
        for name, row in metrics[section].items():
            assert "n" in row and "ci95" in row and "decided" in row, (section, name)
            if row["decided"]:
                assert row["n"] >= 8, (section, name, row)
            else:
                assert row["reason"] and row[first] is None and row["ci95"] is None, (section, name, row)
    for name, row in metrics["plausibility"].items():
        assert set(row) >= {"generated", "real", "real_n", "real_ci95"}, name
    for name, row in metrics["dynamics"].items():
        assert set(row) >= {"model", "copy_last", "linear", "copy_last_ci95"}, name
    assert metrics["probe_frechet"]["generated_vs_real"] >= 0


def test_the_judge_is_honest(loop):
    """The probe reads real clips it never saw better than chance, with 95% confidence;
    videos made for other captions score below the real clips' interval; implausible clips
    are flagged. Margins and intervals, not last digits: torch differs across machines."""
    m = json.loads((loop[0] / "report" / "metrics.json").read_text())
    probe = m["probe"]
    for attribute in ("colours", "motion"):  # what ~90 clips of 32x32 pixels can teach (the demo's 320 teach more)
        assert probe[attribute]["readable"] and probe[attribute]["margin_ci95"][0] > 0, (attribute, probe)
        assert probe[attribute]["n"] >= 30, probe[attribute]  # the eval split and the probe's held-out clips
    head = m["headline"]
    assert head["decided"] and {"colours", "motion"} <= set(head["attributes"]), m["faithfulness"]
    assert head["floor"] < head["ceiling_ci95"][0], head
    p = m["plausibility"]
    assert p["vanish_per_clip"]["object_removed"] > p["vanish_per_clip"]["real"], p["vanish_per_clip"]
    assert p["down_accel_fraction"]["gravity_reversed"] < p["down_accel_fraction"]["real"], p["down_accel_fraction"]


# ---------------------------------------------------------------- the report in a real browser


@pytest.mark.browser
def test_report_loads_in_chromium(loop):
    index = loop[0] / "report" / "index.html"
    browser = Browser(chromium())
    try:
        browser.page("Page.enable")
        browser.page("Page.navigate", {"url": index.as_uri()})
        deadline, state = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            state = json.loads(browser.evaluate("JSON.stringify(document.documentElement.dataset)") or "{}")
            if state.get("ready"):
                break
            time.sleep(0.2)
        counts = browser.evaluate("""JSON.stringify({
            gallery: document.querySelectorAll('.gallery video').length,
            pairs: document.querySelectorAll('.pairs video').length,
            charts: document.querySelectorAll('img.chart').length,
            videos: document.querySelectorAll('video').length,
            playable: Array.from(document.querySelectorAll('video')).filter(v => v.videoWidth > 0).length,
            tables: document.querySelectorAll('table').length,
            appendix: document.querySelectorAll('#ablations + table tr').length,
            study: document.querySelectorAll('img.chart[src*="study-"]').length})""")
        shot = browser.page("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    finally:
        browser.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "loop-report.png").write_bytes(base64.b64decode(shot["data"]))
    counts = json.loads(counts)
    assert state.get("ready") == "1" and state.get("errors") == "0", state
    assert counts["gallery"] == TINY["report"]["gallery"] and counts["pairs"] == TINY["report"]["pairs"], counts
    assert counts["charts"] >= 8 and counts["tables"] >= 5, counts
    assert counts["appendix"] >= 3, counts  # the levers tried, beside what this run measured
    assert counts["study"] == 2 * len(TINY["study"]), counts  # following and dynamics per axis
    assert counts["playable"] == counts["videos"] == int(state["videos"]), (counts, state)
