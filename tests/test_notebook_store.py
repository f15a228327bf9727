"""The stored form of a notebook, and git's clean filter that produces it (learnreg.book.notebook_store).

* The filter keeps text outputs and removes image data, saved widget state and execution timings.
* It is idempotent, writes the layout nbformat writes, and fails loudly on a file it cannot read.
* Every stored notebook is already in stored form (tests/test_repository.py checks the rest).
* ``make lab`` registers the filter in a git checkout, and ``git add`` then stages the stripped
  notebook (run in a temporary repository, with the project's .venv).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from learnreg.book.notebook_store import dumps, strip_outputs

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def _filter(raw: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "learnreg.book.notebook_store"], input=raw,
                          capture_output=True, cwd=ROOT)


def _after_a_run() -> dict:
    """A notebook as JupyterLab saves it after a run: figures, widget state, timings, text."""
    return {
        "cells": [
            {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "# Title\n\nSome *text*."},
            {"cell_type": "code", "execution_count": 3, "id": "c1",
             "metadata": {"execution": {"iopub.execute_input": "2026-01-01T00:00:00Z"}, "tags": ["hide-input"]},
             "outputs": [
                 {"output_type": "stream", "name": "stdout", "text": "slope = -1.000\nrate = 0.500\n"},
                 {"output_type": "display_data", "metadata": {},
                  "data": {"image/png": PNG, "image/svg+xml": "<svg/>", "text/plain": "<Figure size 640x480>"}},
                 {"output_type": "display_data", "metadata": {},
                  "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2,
                                                                          "version_minor": 0},
                           "text/plain": "VBox(children=(IntSlider(value=1),))"}},
                 {"output_type": "execute_result", "execution_count": 3, "metadata": {},
                  "data": {"text/html": "<b>claim</b>\n<i>ok</i>", "image/jpeg": PNG, "text/plain": "ok"}},
             ],
             "source": "x = 1\nprint(x)"},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}},
                                                                               "version_major": 2}}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_strip_outputs_removes_images_widget_state_and_timings_and_keeps_text():
    nb = _after_a_run()
    strip_outputs(nb)
    assert "widgets" not in nb["metadata"]
    code = nb["cells"][1]
    assert code["metadata"] == {"tags": ["hide-input"]}
    outs = code["outputs"]
    assert outs[0]["text"] == "slope = -1.000\nrate = 0.500\n"
    assert outs[1]["data"] == {"text/plain": "<Figure size 640x480>"}
    assert set(outs[2]["data"]) == {"application/vnd.jupyter.widget-view+json", "text/plain"}
    assert outs[3]["data"] == {"text/html": "<b>claim</b>\n<i>ok</i>", "text/plain": "ok"}


def test_the_filter_writes_what_nbformat_writes():
    raw = json.dumps(_after_a_run()).encode()
    out = _filter(raw)
    assert out.returncode == 0, out.stderr.decode()
    expected = nbformat.reads(raw.decode(), as_version=4)
    strip_outputs(expected)
    assert out.stdout.decode("utf-8") == nbformat.writes(expected) + "\n"


def test_the_filter_is_idempotent():
    once = _filter(json.dumps(_after_a_run()).encode()).stdout
    twice = _filter(once).stdout
    assert once and twice == once


def test_the_filter_fails_loudly_on_a_file_that_is_not_a_notebook():
    out = _filter(b'<<<<<<< HEAD\n{"cells": []}\n')
    assert out.returncode != 0
    assert b"cannot strip this notebook" in out.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_stored_notebook_is_already_in_stored_form(path):
    """A stored notebook passes through the filter byte for byte, so git never sees it as changed."""
    raw = path.read_bytes()
    out = _filter(raw)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout == raw, (f"{path.name} is not in stored form: run it through "
                               "`.venv/bin/python -m learnreg.book.notebook_store` (or git add it with the "
                               "filter registered)")


def test_dumps_does_not_change_a_stored_notebook():
    raw = NOTEBOOKS[0].read_text(encoding="utf-8")
    nb = json.loads(raw)
    before = copy.deepcopy(nb)
    assert dumps(nb) == raw
    assert nb == before


# --- end to end: make lab registers the filter, git add stages the stripped notebook ----------


def _git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def test_make_lab_registers_the_filter_and_git_add_strips_a_notebook(tmp_path):
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git and make")
    if not (ROOT / ".venv" / ".installed").is_file():
        pytest.skip("needs the project's .venv (make install)")
    repo = tmp_path / "clone"
    (repo / "notebooks").mkdir(parents=True)
    for name in ("Makefile", "_config.yml", "pyproject.toml", "requirements-lock.txt", ".gitattributes"):
        shutil.copy2(ROOT / name, repo / name)  # keeps the times, so make sees the install as done
    (repo / ".venv").symlink_to(ROOT / ".venv")
    _git(repo, "init", "-q", ".")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MAKE"))}
    run = subprocess.run(["make", "-s", "lab", "LAB_ARGS=--version"], cwd=repo, capture_output=True, text=True,
                         env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("4."), run.stdout  # JupyterLab's version
    assert _git(repo, "config", "filter.learnreg-notebook.clean").strip() == \
        ".venv/bin/python -m learnreg.book.notebook_store"
    assert _git(repo, "check-attr", "filter", "notebooks/ch.ipynb").strip().endswith("learnreg-notebook")

    nb_path = repo / "notebooks" / "ch.ipynb"
    nb_path.write_text(json.dumps(_after_a_run()), encoding="utf-8")
    _git(repo, "add", "notebooks/ch.ipynb")
    staged = _git(repo, "show", ":notebooks/ch.ipynb")
    assert "image/png" not in staged and "widget-state" not in staged and "iopub" not in staged
    assert "slope = -1.000" in staged and "VBox(children=" in staged
    assert "image/png" in nb_path.read_text(encoding="utf-8")  # the reader's working copy is untouched
