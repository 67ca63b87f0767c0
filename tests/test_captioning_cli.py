"""`simreel scene FAMILY --seed N --captions`: captions in the printout and in --json."""
from __future__ import annotations

import json

from simreel.cli import main


def test_scene_command_prints_captions_events_and_questions(capsys):
    assert main(["scene", "drop", "--seed", "3", "--fps", "12", "--captions"]) == 0
    out = capsys.readouterr().out
    assert "captions" in out and "[en]" in out and "[zh]" in out
    assert "events (" in out and "questions (" in out and "->" in out


def test_scene_command_json_carries_captions_with_their_claims(capsys):
    assert main(["scene", "collide", "--seed", "5", "--fps", "12", "--json", "--captions"]) == 0
    page = json.loads(capsys.readouterr().out)
    caps = page["captions"]
    assert set(caps["short"]) == {"en", "zh"} and caps["short"]["en"].endswith(".")
    assert caps["events"]["en"] and caps["qa"]["zh"]
    n = len(caps["claims"])
    assert all(0 <= i < n for q in caps["qa"]["en"] for i in q["claims"])
    assert main(["scene", "collide", "--seed", "5", "--fps", "12", "--json"]) == 0
    assert "captions" not in json.loads(capsys.readouterr().out)
