"""The generalisation study end to end on a tiny loop with configs/generalisation.yaml's holdout:
no held-out scene reaches the model's or the probe's training clips, and the judge's rows come
per kind of clip (in distribution, combinatorial, out of range), with n and intervals."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_loop import TINY

from simreel.scenes.holdout import held_out
from simreel.shards import ClipDataset

ROOT = Path(__file__).resolve().parent.parent
HOLDOUT = yaml.safe_load((ROOT / "configs" / "generalisation.yaml").read_text())["dataset"]["holdout"]
CONFIG = {**TINY, "name": "tiny generalisation", "dataset": {**TINY["dataset"], "holdout": HOLDOUT},
          "splits": {**TINY["splits"], "heldout": 24}, "study": {"steps": [4]}}
KIND = {None: "in_distribution", "combination": "combinatorial", "range": "out_of_range"}

@pytest.fixture(scope="module")
def study(tmp_path_factory, simreel):
    tmp = tmp_path_factory.mktemp("generalisation")
    (tmp / "loop.yaml").write_text(yaml.safe_dump(CONFIG))
    simreel("loop", str(tmp / "loop.yaml"), "--out", str(tmp / "out"))
    return tmp / "out"


def metas(out: Path, split: str) -> list[dict]:
    return [s["meta"] for s in ClipDataset(str(out / "generate" / split), decode=False)]


@pytest.mark.slow  # a whole loop (minutes)
def test_no_held_out_scene_is_trained_on(study):
    for split in ("train", "probe", "eval"):
        found = [held_out(m, HOLDOUT) for m in metas(study, split)]
        assert len(found) == CONFIG["splits"][split] and not any(found), (split, found)
    kinds = [held_out(m, HOLDOUT).kind for m in metas(study, "heldout")]  # None would fail here
    assert len(kinds) == CONFIG["splits"]["heldout"] and set(kinds) == {"range", "combination"}, kinds


@pytest.mark.slow  # a whole loop (minutes)
def test_each_kind_is_judged_on_its_own_clips_with_n_and_intervals(study):
    m = json.loads((study / "report" / "metrics.json").read_text())
    g = m["generalisation"]
    assert set(g) == {"in_distribution", "combinatorial", "out_of_range"}
    prompts = CONFIG["sample"]["prompts"]
    heldout = [KIND[getattr(held_out(x, HOLDOUT), "kind", None)] for x in metas(study, "heldout")[:prompts]]
    for kind, row in g.items():
        f = row["following"]
        assert f["n"] == (prompts if kind == "in_distribution" else heldout.count(kind)), (kind, f)
        for r in (f, row["dynamics"]["position_error"], *row["faithfulness"].values()):
            assert {"n", "ci95", "decided"} <= set(r), (kind, r)
            if not r["decided"]:
                assert r["reason"] and r["ci95"] is None, (kind, r)
        if f["decided"]:
            assert f["ci95"][0] <= f["generated"] <= f["ci95"][1], (kind, f)
    assert g["in_distribution"]["following"]["decided"], g["in_distribution"]
    # in distribution is the main judgement on the same prompts: the same figure
    assert g["in_distribution"]["following"]["generated"] == m["headline"]["generated"]
    assert sum(r["dynamics"]["position_error"]["n"] for r in g.values()) <= 2 * CONFIG["evaluate"]["continuations"]
    axes = json.loads((study / "study" / "study.json").read_text())["axes"]
    assert all(set(r["generalisation"]) == set(g) for r in axes["steps"]), axes


@pytest.mark.slow  # a whole loop (minutes)
def test_the_report_answers_does_it_generalise(study):
    page = (study / "report" / "index.html").read_text()
    assert "Does it generalise?" in page and "Kang et al. 2024" in page
    table = page.split("id=generalisation", 1)[1].split("</table>", 1)[0]
    assert table.count("<tr><th>") == 4, table  # the header and the three kinds
    assert page.index("id=study") < page.index("id=generalisation") < page.index("id=ablations")
    assert (study / "report" / "charts" / "generalisation-steps.png").is_file()


def kind(gain_ci, error_ci) -> dict:
    return {"following": {"ci95": gain_ci, "gain_ci95": gain_ci, "ceiling_ci95": [0.7, 0.8]},
            "dynamics": {"position_error": {"ci95": error_ci, "copy_last_ci95": [0.15, 0.2]}}}


def test_the_reading_goes_by_intervals_not_figures():
    from simreel.report import generalisation_reading

    text = generalisation_reading({"in_distribution": kind([0.72, 0.9], [0.05, 0.1]),
                                   "combinatorial": kind([0.6, 0.75], [0.08, 0.12]),  # overlaps in distribution
                                   "out_of_range": kind([0.1, 0.3], [0.3, 0.5])}, {})
    assert "ceiling: no different; position error against copying the last frame: better." in text, text
    assert "Combinatorial (unseen combination) against in distribution: caption following no different, " \
           "position error no different." in text, text
    assert "Out of range against in distribution: caption following worse, position error worse." in text, text
    assert "caption following undecided" in generalisation_reading(
        {"in_distribution": kind([0.72, 0.9], [0.05, 0.1]), "combinatorial": kind(None, None),
         "out_of_range": kind(None, None)}, {})
