"""`simreel scene` and the documented ways to add a family, run as a user would."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from simreel import scenes
from simreel.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_scene_prints_objects_and_an_event_timeline(capsys):
    assert main(["scene", "drop", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    scene = scenes.make("drop", 3)
    assert out.startswith("drop seed 3:")
    for obj in scene.spec.objects:
        assert f"{obj.colour} {obj.size} {obj.material} {obj.shape}" in out
    timeline = out.split("events (")[1].splitlines()[2:]
    assert len(timeline) == len(scene.trajectory.events)
    for line, event in zip(timeline, scene.trajectory.events):
        assert event.kind in line and f"{event.frame:>5}" in line and " - ".join(event.subjects) in line


def test_scene_json_is_the_spec_trajectory_and_events(capsys):
    assert main(["scene", "ramp", "--seed", "4", "--fps", "12", "--duration", "1.5", "--size", "96x64", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    spec = scenes.SceneSpec.from_dict(data["spec"])
    assert (spec.family, spec.fps, spec.duration_s, spec.width, spec.height) == ("ramp", 12, 1.5, 96, 64)
    trajectory = scenes.Trajectory.from_dict(data["trajectory"])
    assert trajectory.num_frames == 18
    assert [scenes.Event.from_dict(e) for e in data["events"]] == list(trajectory.events)
    assert spec == scenes.make("ramp", 4, scenes.ClipFormat(12, 1.5, 96, 64)).spec


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["scene", "bogus"], "choose one of: collide, drop, ramp, throw, topple"),
        (["scene", "drop", "--fps", "25"], "choose one of (1, 2, 3"),
        (["scene", "drop", "--size", "63x64"], "even"),
        (["scene", "drop", "--size", "large"], "WIDTHxHEIGHT"),
        (["scene", "drop", "--duration", "-1"], "--duration"),
        (["scene", "drop", "--seed", "-4"], "non-negative"),
        (["scene", "drop", "--plugin", "no_such_module_xyz"], "no_such_module_xyz"),
    ],
)
def test_bad_input_exits_non_zero_and_says_what_is_valid(capsys, argv, expected):
    assert main(argv) != 0
    assert expected in capsys.readouterr().err


def _docstring_plugin() -> str:
    """The family example from scenes' docstring, verbatim: the docs must work."""
    return textwrap.dedent(scenes.__doc__.split("# mypkg/families.py\n")[1].split("Then make it findable")[0])


def _simreel(simreel, args, pythonpath: Path) -> subprocess.CompletedProcess:
    return simreel(*args, check=False, env={"PYTHONPATH": os.pathsep.join([str(pythonpath), str(REPO)])})


def test_a_user_family_in_their_own_module_runs_with_plugin(tmp_path, simreel):
    (tmp_path / "myfamilies.py").write_text(_docstring_plugin())
    run = _simreel(simreel, ["scene", "spin", "--seed", "2", "--json", "--plugin", "myfamilies"], tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["spec"]["family"] == "spin" and data["spec"]["objects"][0]["shape"] == "cone"
    assert any(e["kind"] == "rest" for e in data["events"])  # its own promise was kept
    assert _simreel(simreel, ["scene", "spin"], tmp_path).returncode != 0  # without the plugin it is unknown


def test_a_user_family_is_found_through_its_entry_point(tmp_path, simreel):
    (tmp_path / "myfamilies.py").write_text(_docstring_plugin())
    dist = tmp_path / "myfamilies-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myfamilies\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[simreel.families]\nspin = myfamilies\n")
    run = _simreel(simreel, ["scene", "spin", "--seed", "1"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("spin seed 1:") and "cone" in run.stdout
    listed = _simreel(simreel, ["scene", "nothing_like_it"], tmp_path)
    assert "collide, drop, ramp, spin, throw, topple" in listed.stderr
