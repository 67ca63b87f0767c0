"""Every stage is imported as simreel.<stage>: a bare `import scenes` or `from trainer import ...`
would load the folder as a second, top-level copy (or some other package of that name)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("scenes", "render", "captioning", "shards", "trainer", "judge")
# code kept in strings (run in a child process, or shown to users): lines that import
IMPORT_LINE = re.compile(r"^\s*(?:import\s+([\w. ,]+)|from\s+([\w.]+)\s+import\b)", re.MULTILINE)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module name) for every absolute import in the file's code and string literals."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for m in IMPORT_LINE.finditer(node.value):
                names = m.group(1).split(",") if m.group(1) else [m.group(2)]
                found += [(node.lineno, n.split()[0]) for n in names if n.strip()]
    return [(line, name.split(".")[0]) for line, name in found]


def test_no_module_imports_a_stage_by_its_bare_name():
    sources = [p for top in (*STAGES, "simreel", "benchmarks", "tests") for p in (ROOT / top).rglob("*.py")]
    assert len(sources) > 50
    bare = [f"{p.relative_to(ROOT)}:{line}: {name}" for p in sources for line, name in imported(p) if name in STAGES]
    assert not bare, "import these as simreel.<stage>:\n" + "\n".join(bare)


# Which stages each stage may import: only those upstream of it. `simreel` (the glue) alone wires
# them together and is imported by none; only `scenes` touches pybullet. The judge reads captioning
# to stage ground-truth takes of a prompt (judge/oracle.py).
UPSTREAM = {"scenes": set(), "render": {"scenes"}, "captioning": {"scenes"}, "shards": set(),
            "trainer": {"shards"}, "judge": {"shards", "scenes", "render", "captioning"}}


def test_stages_import_only_what_is_upstream():
    wrong = []
    for stage, allowed in UPSTREAM.items():
        for p in (ROOT / stage).rglob("*.py"):
            tree = ast.parse(p.read_text(encoding="utf-8"), str(p))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                else:
                    continue
                for name in names:
                    parts = name.split(".")
                    if parts[0] == "pybullet" and stage != "scenes":
                        wrong.append(f"{p.relative_to(ROOT)}:{node.lineno}: {name}")
                    elif parts[0] == "simreel" and len(parts) > 1 and parts[1] != stage and (
                            parts[1] not in UPSTREAM or parts[1] not in allowed):
                        wrong.append(f"{p.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not wrong, "a stage imports downstream, sideways or the glue:\n" + "\n".join(wrong)
