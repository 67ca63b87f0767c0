"""Prompt -> scene: the caption language read back (captioning.parse), staged as a ground-truth
take whose own captions entail it (captioning.enact), rendered by `simreel scene --prompt`, and
the judge's oracle takes. Real physics, real captions, the independent checker, real mp4s."""
from __future__ import annotations

import json

import numpy as np
import pytest

from simreel import scenes
from simreel.captioning import describe
from simreel.captioning.check import World, check_claim
from simreel.captioning.enact import EnactError, enact, entail, round_trip
from simreel.captioning.parse import PromptError, parse
from simreel.cli import main

ISSUE = "a small red rubber ball rolls down a blue wooden ramp and hits a green cube"
CLIP = scenes.ClipFormat(fps=12, duration_s=2.0)


def _said(prompt):
    return {(c.subject, c.predicate, c.object) for group in prompt.claims for c in group}


def test_a_prompt_keeps_every_stated_fact():
    prompt = parse(ISSUE)
    ball, cube = prompt.entities
    assert dict(ball.look) == {"size": "small", "colour": "red", "material": "rubber", "shape": "sphere"}
    assert dict(cube.look) == {"colour": "green", "shape": "cube"}
    assert [(s.name, dict(s.look)) for s in prompt.statics] == [("ramp", {"colour": "blue", "material": "wood"})]
    assert {("p0", "descends", "ramp"), ("p0", "rolls", None), ("p0", "hits", "p1")} <= _said(prompt)

    take = enact(prompt, seed=1, clip=CLIP)
    spec, world = take.scene.spec, World(take.scene.spec, take.scene.trajectory)
    assert spec.family == "ramp"
    red, green = spec.object(take.binding["p0"]), spec.object(take.binding["p1"])
    assert (red.size, red.colour, red.material, red.shape) == ("small", "red", "rubber", "sphere")
    assert (green.colour, green.shape) == ("green", "cube")
    assert (spec.statics[0].colour, spec.statics[0].material) == ("blue", "wood")
    said = take.captions.claims
    for predicate, other in (("descends", "ramp"), ("rolls", None), ("hits", green.name)):
        # the take's own captions say it, and the independent checker agrees
        claims = [c for c in said if (c.subject, c.predicate, c.object) == (red.name, predicate, other)]
        assert claims and any(check_claim(c, world) is None for c in claims), predicate


def test_chinese_reads_as_the_english_of_the_same_caption():
    for family, seed in (("drop", 0), ("ramp", 3), ("throw", 2), ("topple", 1)):
        scene = scenes.make(family, seed, CLIP)
        caps = describe(scene.spec, scene.trajectory, qa=False)
        en, zh = parse(caps.short["en"]), parse(caps.short["zh"])
        assert (en.language, zh.language) == ("en", "zh")
        assert [e.look for e in en.entities] == [e.look for e in zh.entities], caps.short
        assert [s.look for s in en.statics] == [s.look for s in zh.statics]
        # what each says happened (where English is ambiguous, the Chinese reading is one of its readings)
        assert _said(zh) <= _said(en) and len(zh.claims) == len(en.claims)


def test_a_chinese_prompt_is_staged():
    prompt = parse("一个小的红色橡胶球沿着一个蓝色的木制斜坡滚下，撞上一个绿色正方体。")
    take = enact(prompt, seed=2, clip=CLIP)
    assert take.scene.spec.family == "ramp" and take.captions.short["zh"]
    ball = take.scene.spec.object(take.binding["p0"])
    assert (ball.colour, ball.shape, ball.material) == ("red", "sphere", "rubber")


@pytest.mark.parametrize("text, words", [
    ("a sphere that is also a cube rolls to the left", ["a sphere that is also a cube", "sphere", "cube"]),
    ("a big small ball falls", ["big small", "large", "small"]),
    ("three objects. a red ball hits a blue cube. a green cone falls. a yellow cylinder rolls to the left.",
     ['"three objects"', "names 4 objects", "a yellow cylinder"]),
    ("a red ball dances wildly across the floor", ['"dances wildly across the floor"', 'after "a red ball"']),
    ("a red ball rolls down a green ramp. the red ball rolls down a blue ramp", ["ramp", "both green and blue"]),
    ("a red ball hits a blue ball. then the ball falls", ['"the ball"', '"a red ball"', '"a blue ball"']),
])
def test_unreadable_or_contradictory_prompts_say_which_words(text, words):
    with pytest.raises(PromptError) as e:
        parse(text)
    message = str(e.value)
    assert "\n" not in message
    for w in words:
        assert w in message, message


def test_the_command_reports_a_bad_prompt_in_one_line(capsys):
    assert main(["scene", "--prompt", "a sphere that is also a cube falls"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("simreel scene: error: --prompt:") and "sphere and cube" in err and "\n" not in err
    assert main(["scene", "drop", "--prompt", "a red ball falls"]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_prompt_no_take_can_show_fails_after_bounded_tries():
    with pytest.raises(EnactError) as e:
        enact(parse("a red ball topples over"), seed=0, clip=CLIP, tries=6)  # a sphere has no side to fall on
    assert "6 tries" in str(e.value) and "topples over" in str(e.value)


def test_scene_prompt_writes_a_video_and_its_json(tmp_path, capsys):
    from simreel.shards import decode_video

    out = tmp_path / "take.mp4"
    assert main(["scene", "--prompt", ISSUE, "--seed", "1", "--fps", "12", "--size", "96x64", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "prompt objects: a small red rubber ball = obj" in printed
    frames = decode_video(out.read_bytes())
    assert frames.shape == (24, 64, 96, 3) and frames.std() > 5
    record = json.loads(out.with_suffix(".json").read_text())
    spec = scenes.SceneSpec.from_dict(record["spec"])
    assert spec.object(record["binding"]["p0"]).colour == "red"
    assert record["prompt"]["text"] == ISSUE and record["captions"]["short"]["zh"]


@pytest.mark.slow
def test_round_trip_of_factory_captions():
    """Each clip's short caption, read back and staged, makes a take whose captions say it again."""
    families = scenes.family_names()
    clips = [(families[i % len(families)], 100 + i // len(families)) for i in range(30)]
    failed = []
    with scenes.Physics() as physics:
        for k, (family, seed) in enumerate(clips):
            why = round_trip(scenes.make(family, seed, CLIP, physics), k, physics)
            if why is not None:
                failed.append((family, seed, why))
    assert len(failed) <= 6, failed  # >= 80%; these 30 fail 4 (benchmarks/roundtrip.py: 85.1% of 1000 clips)


def test_oracle_takes_differ_yet_all_entail_the_prompt():
    from simreel.judge.oracle import oracle_takes

    prompt = "a little blue rubber ball flies through the air, lands on the floor and bounces"
    takes = oracle_takes(prompt, 3, seed=5, clip=CLIP)
    assert len(takes) == 3
    starts = [t.take.scene.spec.object(t.take.binding["p0"]).position for t in takes]
    assert min(np.linalg.norm(np.subtract(a, b)) for a, b in ((starts[0], starts[1]), (starts[1], starts[2]),
                                                              (starts[0], starts[2]))) > 0.01
    assert all(np.abs(a.rgb.astype(int) - b.rgb.astype(int)).mean() > 2 for a, b in zip(takes, takes[1:]))
    parsed = parse(prompt)
    for t in takes:
        spec, trajectory = t.take.scene.spec, t.take.scene.trajectory
        assert t.rgb.shape == (CLIP.fps * 2, CLIP.height, CLIP.width, 3)
        binding, why = entail(parsed, spec, trajectory, describe(spec, trajectory, ("en",), qa=False))
        assert binding is not None, why


def test_beside_truth_puts_the_take_right_of_the_sample():
    from simreel.commands.sample import _beside_truth
    from simreel.judge.oracle import beside
    from simreel.trainer.data import ClipShape

    rng = np.random.default_rng(0)
    video = rng.integers(0, 255, (16, 32, 32, 3), dtype=np.uint8)
    truth = rng.integers(0, 255, (12, 64, 64, 3), dtype=np.uint8)
    both = beside(video, truth)
    assert both.shape == (16, 32, 32 + 2 + 32, 3)
    assert (both[:, :, :32] == video).all() and (both[:, :, 32:34] == 255).all()
    assert (both[:12, :, 34:] == truth[:, ::2, ::2]).all() and (both[12:, :, 34:] == truth[-1, ::2, ::2]).all()

    [out] = _beside_truth([video], ["a small red rubber ball falls onto the floor"], ClipShape(16, 32, 32), 8, 0)
    assert out.shape == (16, 32, 66, 3) and (out[:, :, :32] == video).all() and out[:, :, 34:].std() > 5
