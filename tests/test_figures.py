"""The figure registry and `python -m learnreg figure`: every labelled figure can be made without a notebook."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from learnreg import figures  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _labels_in_notebooks() -> set[str]:
    labels = set()
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                labels |= set(re.findall(r"```\{glue:figure\}\s+(fig-ch\d+-[a-z0-9-]+)", "".join(cell["source"])))
    return labels


def test_every_glued_figure_of_a_chapter_is_registered_and_every_registered_figure_is_shown():
    registered = set(figures.registry())
    shown = _labels_in_notebooks()
    assert shown, "no chapter pastes a figure with {glue:figure}"
    assert shown <= registered, f"figures shown but not registered: {sorted(shown - registered)}"
    assert registered <= shown, f"figures registered but not shown in any chapter: {sorted(registered - shown)}"


def test_register_checks_its_arguments():
    for kwargs in (dict(label="rate", chapter=3, caption="c"), dict(label="fig-ch3-x", chapter=0, caption="c"),
                   dict(label="fig-ch3-x", chapter=3, caption=" "), dict(label="fig-ch3-x", chapter=3, caption="c", seed=-1)):
        with pytest.raises(ValueError):
            figures.register(**kwargs)
    with pytest.raises(ValueError, match="label must be one of"):
        figures.make_figure("fig-ch99-none")
    with pytest.raises(ValueError, match="fmt must be one of"):
        figures.write_figure("fig-ch3-noise", "x.jpg")


def test_the_same_recipe_writes_the_same_file(tmp_path):
    a = figures.write_figure("fig-ch3-noise", tmp_path / "a.png")
    b = figures.write_figure("fig-ch3-noise", tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes() and a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_line_lists_and_writes_figures(tmp_path):
    out = subprocess.run([sys.executable, "-m", "learnreg", "figure", "--list"], capture_output=True, text=True,
                         check=True).stdout
    for label in figures.registry():
        assert re.search(rf"^{re.escape(label)}  \(chapter \d+\): \S", out, re.M), label
    path = tmp_path / "noise.svg"
    subprocess.run([sys.executable, "-m", "learnreg", "figure", "fig-ch3-noise", "--format", "svg",
                    "--output", str(path)], check=True, capture_output=True)
    assert path.read_text().lstrip().startswith("<?xml")
    bad = subprocess.run([sys.executable, "-m", "learnreg", "figure", "fig-ch3-nothing"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--list" in bad.stderr
