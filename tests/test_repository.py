"""Repository-level checks: pins stay in sync, and the built book loads nothing from the web.

The built-book checks need `make book` to have run first. They skip otherwise,
unless LEARNREG_REQUIRE_BUILD=1 (as in CI), where a missing build is a failure.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_environment_yml_matches_the_lock_file():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = _lock_pins()
    checked = 0
    for dep in env["dependencies"]:
        entries = dep["pip"] if isinstance(dep, dict) else [dep]
        for entry in entries:
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s]+)", entry)
            if not m:
                continue
            name = m.group(1).lower().replace("_", "-")
            if name == "python":
                continue
            assert name in pins, f"{name} is pinned in environment.yml but not in requirements-lock.txt"
            assert pins[name] == m.group(2), f"{name}: environment.yml has {m.group(2)}, lock has {pins[name]}"
            checked += 1
    assert checked >= 8, "environment.yml should pin the book's direct dependencies"


def _direct_dependencies(pyproject: dict) -> dict[str, list[str]]:
    """Every direct dependency of the project, by where it is declared ("dependencies" or "extra <name>")."""
    project = pyproject["project"]
    out = {"dependencies": list(project.get("dependencies", []))}
    for extra, reqs in project.get("optional-dependencies", {}).items():
        out[f"extra {extra}"] = list(reqs)
    return out


def unlocked_dependencies(pyproject: dict, pins: dict[str, str]) -> list[str]:
    """Direct dependencies that the lock file does not pin, or pins to a version they do not allow."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    locked = {canonicalize_name(name): version for name, version in pins.items()}
    problems = []
    for where, reqs in _direct_dependencies(pyproject).items():
        for text in reqs:
            req = Requirement(text)
            name = canonicalize_name(req.name)
            if name not in locked:
                problems.append(f"{req.name} ({where}) is not pinned in requirements-lock.txt")
            elif not req.specifier.contains(locked[name], prereleases=True):
                problems.append(f"{req.name} ({where}): the lock pins {locked[name]}, outside {req.specifier}")
    return problems


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)


def test_every_direct_dependency_is_locked():
    pyproject = _pyproject()
    assert sum(len(r) for r in _direct_dependencies(pyproject).values()) >= 15
    problems = unlocked_dependencies(pyproject, _lock_pins())
    assert not problems, "\n".join(problems)


def test_the_lock_check_reports_a_new_unpinned_dependency_and_a_pin_outside_its_range():
    pyproject = _pyproject()
    pyproject["project"]["optional-dependencies"]["test"].append("not-a-locked-package>=1")
    pyproject["project"]["dependencies"].append("numpy<1")
    problems = unlocked_dependencies(pyproject, _lock_pins())
    assert any(p.startswith("not-a-locked-package (extra test) is not pinned") for p in problems), problems
    assert any(p.startswith("numpy (dependencies): the lock pins") for p in problems), problems
    assert len(problems) == 2, problems


def test_every_toc_entry_exists_and_every_notebook_is_listed():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [c["file"] for c in part["chapters"]]
    for f in files:
        assert any((ROOT / (f + ext)).is_file() for ext in (".md", ".ipynb")), f"{f} listed in _toc.yml is missing"
    listed = {f for f in files if f.startswith("notebooks/")}
    present = {f"notebooks/{p.stem}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert present == listed, f"notebooks not in the toc: {sorted(present - listed)}"


def _built_pages():
    if not HTML.is_dir():
        if os.environ.get("LEARNREG_REQUIRE_BUILD") == "1":
            pytest.fail("the book has not been built (run `make book` first)")
        pytest.skip("the book has not been built; run `make book` first")
    pages = sorted(HTML.rglob("*.html"))
    assert pages
    return pages


def test_no_built_page_loads_a_script_from_the_web():
    offenders = []
    for page in _built_pages():
        for src in re.findall(r"<script[^>]*\bsrc=[\"']([^\"']+)", page.read_text(encoding="utf-8")):
            if re.match(r"(https?:)?//", src):
                offenders.append(f"{page.relative_to(HTML)}: {src}")
    assert not offenders, "pages load scripts from the web:\n" + "\n".join(offenders)


def test_built_pages_use_the_vendored_mathjax_and_widget_manager():
    pages = {p.relative_to(HTML).as_posix(): p.read_text(encoding="utf-8") for p in _built_pages()}
    assert (HTML / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    assert (HTML / "_static" / "widgets" / "embed.js").is_file()
    chapter = pages["notebooks/01_operators.html"]
    assert "_static/mathjax/tex-mml-chtml.js" in chapter
    assert chapter.count("tex-mml-chtml.js") == 1, "MathJax is loaded more than once"
    # Static pages hold no widget views (panels show their static form), so most load no widget manager;
    # a page that does load one loads the vendored copy.
    for name, text in pages.items():
        if re.search(r"<script[^>]*(html-manager|embed-amd|widgets/embed)", text):
            assert "_static/widgets/embed.js" in text, f"{name} loads a widget manager that is not the vendored one"


def test_built_claims_json_is_complete_and_passes():
    _built_pages()
    records = json.loads((ROOT / "_build" / "claims.json").read_text())
    assert records, "no claims recorded"
    for r in records:
        assert {"id", "chapter", "statement", "measured", "expected", "tolerance", "passed"} <= set(r)
        assert isinstance(r["chapter"], int) and isinstance(r["passed"], bool)
    from learnreg.book.claims import check_claims

    failed = [r["id"] for r in check_claims(records)]
    assert not failed, f"failed theory claims: {failed}"
    # expectations may not hold; each is recorded as held or not, and the book lists those that did not
    assert {r["type"] for r in records} == {"theory", "expectation"}
    assert all(r["passed"] for r in records if r["type"] == "theory")


def test_every_chapter_page_shows_its_figures():
    """Executed figures are written to _images/; a kernel without a display backend would leave none
    (the static sliders embed their frames inline and do not count)."""
    pages = [p for p in _built_pages() if p.parent.name == "notebooks"]
    assert pages, "no chapter pages were built"
    for page in pages:
        figures = re.findall(r'<img[^>]+src="\.\./_images/[^"]+\.png"', page.read_text(encoding="utf-8"))
        assert len(figures) >= 2, f"{page.name} shows {len(figures)} executed figures"


# --- stored notebooks: text outputs only ---------------------------------------------------------

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")


def _stored_notebook_problems(nb: dict) -> dict[str, list[str]]:
    """What a stored notebook must not carry, by kind: image data, saved widget state, base64 runs."""
    problems: dict[str, list[str]] = {"images": [], "widget state": [], "base64": []}
    if "widgets" in nb.get("metadata", {}):
        problems["widget state"].append("notebook metadata holds saved widget state")
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            for mime, value in out.get("data", {}).items():
                text = value if isinstance(value, str) else "".join(value) if isinstance(value, list) else ""
                # a glued figure (papermill.record/image/...) may stay as the placeholder that strip_outputs leaves
                if (mime.startswith("image/") or "/image/" in mime) and text != "<BASE64>":
                    problems["images"].append(f"cell {i}: {mime}")
                if mime.endswith("widget-state+json"):
                    problems["widget state"].append(f"cell {i}: {mime}")
                runs = _BASE64_RUN.findall(text)
                if runs:
                    problems["base64"].append(f"cell {i}: {mime}: {len(runs)} run(s), longest {max(map(len, runs))}")
    return problems


def test_the_stored_notebook_check_reports_images_widget_state_and_base64():
    dirty = {"metadata": {"widgets": {}}, "cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "data": {"image/png": "iVBOR", "text/html": "<img src='data:image/png;base64,"
                                                 + "A" * 80 + "'>"}}]}]}
    problems = _stored_notebook_problems(dirty)
    assert problems["images"] and problems["widget state"] and problems["base64"]
    glued = {"metadata": {}, "cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data", "data": {
        "application/papermill.record/image/png": "<BASE64>", "text/plain": "<Figure>"}}]}]}
    assert _stored_notebook_problems(glued) == {"images": [], "widget state": [], "base64": []}
    glued["cells"][0]["outputs"][0]["data"]["application/papermill.record/image/png"] = "iVBORw0KGgo"
    assert _stored_notebook_problems(glued)["images"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebooks_carry_no_images_or_widget_state(path):
    problems = _stored_notebook_problems(json.loads(path.read_text(encoding="utf-8")))
    assert not problems["images"] and not problems["widget state"], problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebooks_carry_no_base64_runs(path):
    problems = _stored_notebook_problems(json.loads(path.read_text(encoding="utf-8")))
    assert not problems["base64"], problems["base64"]


def api_page_problems(text: str) -> list[str]:
    """Modules the API page documents that do not import, and members it names that they do not have."""
    import importlib

    problems, module = [], None
    for line in text.splitlines():
        m = re.match(r"\.\. automodule:: (\S+)", line.strip())
        if m:
            try:
                module = importlib.import_module(m.group(1))
            except ImportError as exc:
                problems.append(f"{m.group(1)} does not import: {exc}")
                module = None
            continue
        m = re.match(r":members: (.+)", line.strip())
        if m and module is not None:
            problems += [f"{module.__name__} has no {name}" for name in map(str.strip, m.group(1).split(","))
                         if not hasattr(module, name)]
    return problems


def test_the_api_page_names_only_modules_and_members_that_exist():
    """autodoc warns (and the -W build fails) on a member that a module no longer has."""
    text = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    assert text.count(".. automodule::") >= 30
    assert not api_page_problems(text), api_page_problems(text)
    broken = text.replace(":members: static_slider,", ":members: glue_figure, static_slider,")
    assert api_page_problems(broken) == ["learnreg.book.sliders has no glue_figure"]
    assert api_page_problems(".. automodule:: learnreg.no_such_module")[0].startswith("learnreg.no_such_module")
