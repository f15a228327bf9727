"""The chapters read like a book: notebooks only call the package, and their stored outputs are clean.

CONTRIBUTING.md sets the targets: no code cell over 15 lines, at most 120 lines of code per notebook, no
function or class defined in a notebook (a one-line lambda at most), no loop except over printing, the same cell
tags in every chapter, and stored outputs that hold nothing a machine or a clock changes.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ALLOWED_TAGS = {"hide-cell", "remove-input"}
#: Text that differs between machines or runs: timings, sizes, progress bars, rounding-level digits.
NOISE = re.compile(r"\d+(\.\d+)?\s*(ms|kB|KiB|MB|MiB|GB)\b|\bs wall\b|n\s*[*·]\s*eps|it/s\]|\d+%\||\d\.\d+e-(1[3-9]|[2-9]\d)\b")


def _cells(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _code(cell) -> list[str]:
    return [line for line in "".join(cell["source"]).splitlines() if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_are_short_and_define_nothing(path):
    cells = _cells(path)
    total = 0
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or i == 0:  # cell 0 installs the package on Colab
            continue
        lines = _code(cell)
        total += len(lines)
        assert len(lines) <= 15, f"{path.name} cell {i} has {len(lines)} lines of code (at most 15)"
        source = "".join(cell["source"])
        tree = ast.parse("\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!"))))
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)), \
                f"{path.name} cell {i} defines {node.name}: it belongs in the package"
            if isinstance(node, ast.Lambda):
                assert node.lineno == node.end_lineno, f"{path.name} cell {i}: a lambda over several lines"
            if isinstance(node, (ast.For, ast.While, ast.comprehension)):
                body = node.body if isinstance(node, (ast.For, ast.While)) else []
                printing = all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                               and getattr(s.value.func, "id", "") == "print" for s in body)
                assert isinstance(node, ast.For) and printing, f"{path.name} cell {i}: a loop that computes"
        assert "perf_counter" not in source and "import time" not in source, f"{path.name} cell {i} times itself"
    assert total <= 120, f"{path.name} has {total} lines of code (at most 120)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cell_tags_follow_the_convention(path):
    for i, cell in enumerate(_cells(path)):
        tags = set(cell.get("metadata", {}).get("tags", []))
        assert tags <= ALLOWED_TAGS, f"{path.name} cell {i} has tags {sorted(tags - ALLOWED_TAGS)}"
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "ledger.record" in source:
            assert "remove-input" in tags, f"{path.name} cell {i} records claims but is not tagged remove-input"
        if "hide-cell" in tags:
            assert i == 0, f"{path.name}: only the Colab cell (cell 0) is hidden"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_hold_no_machine_noise(path):
    for i, cell in enumerate(_cells(path)):
        for out in cell.get("outputs", []):
            texts = ["".join(out.get("text", ""))]
            texts += ["".join(v) if isinstance(v, list) else str(v) for v in out.get("data", {}).values()]
            for text in texts:
                m = NOISE.search(text)
                assert not m, f"{path.name} cell {i} stores machine-dependent text {m.group(0)!r}"
                assert not re.search(r"[A-Za-z0-9+/]{64,}", text), f"{path.name} cell {i} stores base64 data"
            assert out.get("output_type") != "error", f"{path.name} cell {i} stores an error"
            assert not (out.get("output_type") == "stream" and out.get("name") == "stderr"), \
                f"{path.name} cell {i} stores text written to stderr"


def test_the_noise_pattern_catches_what_it_is_meant_to_catch():
    for text in ("built in 3.2 ms", "389 kB of HTML", "0.04 n*eps", "12.5it/s]", " 40%|####", "err 2.3e-16"):
        assert NOISE.search(text), text
    for text in ("slope 0.500", "delta = 1e-08", "measured 0.3333", "12 frames", "a = 1e-3"):
        assert not NOISE.search(text), text
