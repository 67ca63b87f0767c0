"""The README tells the truth about the tree: the schema it shows is the writer's, every file
it cites exists, and its examples import the stages as simreel.<stage>."""
from __future__ import annotations

import re
from pathlib import Path

from simreel.shards import schema
from test_imports import IMPORT_LINE, STAGES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOP = ("scenes", "render", "captioning", "shards", "trainer", "judge", "simreel", "configs", "benchmarks", "tests")


def test_schema_tables_are_the_schema():
    assert schema.markdown() in README


def test_every_cited_file_exists():
    cited = {p for p in re.findall(r"`([\w./-]+)`", README) if p.split("/")[0] in TOP and "/" in p}
    assert len(cited) > 60  # the architecture section's table
    missing = sorted(p for p in cited if not (ROOT / p).exists())
    assert not missing, missing
    assert "../" not in README  # nothing outside the repository


def test_examples_import_stages_by_their_simreel_name():
    bare = [m.group(0).strip() for m in IMPORT_LINE.finditer(README)
            if (m.group(1) or m.group(2)).split(".")[0].split(",")[0].strip() in STAGES]
    assert not bare, bare
