"""The repository address: one setting, and everything that follows it.

The address is ``repository.url`` in ``_config.yml``. It stays empty until the book is published
under a real address; ``scripts/set_repository.py URL`` sets it and updates what follows it:

* **Launch and repository buttons.** Listed in ``sphinx.extra_extensions``, this module shows the
  Binder/Colab launch buttons (``launch_buttons`` in ``_config.yml``) and the repository button
  only when the address is set (:func:`buttons_follow_the_setting`, at Sphinx's ``config-inited``).
* **The Colab cell.** The first cell of every chapter notebook (tagged ``hide-cell``; it does
  something on Colab only) installs the package from the address, or, while there is none, says
  that the book is not yet published and how to run it locally (:func:`colab_cell`).
* **CITATION.cff** carries the address as ``repository-code`` once it is set.

:func:`problems` lists every place that disagrees with the setting; the tests call it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .notebook_store import dumps

__all__ = ["COLAB_MARK", "colab_cell", "read_setting", "write_setting", "apply", "problems",
           "buttons_follow_the_setting", "setup"]

#: Every Colab cell starts with this line, so that the script never overwrites another cell.
COLAB_MARK = "# Runs only on Colab"
_GITHUB = re.compile(r"https://github\.com/[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]+")


def read_setting(root: Path) -> tuple[str, str]:
    """Return ``(url, branch)`` from ``_config.yml``; ``url`` is ``""`` while the book is unpublished."""
    import yaml

    repo = (yaml.safe_load((Path(root) / "_config.yml").read_text(encoding="utf-8")) or {}).get("repository") or {}
    return str(repo.get("url") or ""), str(repo.get("branch") or "main")


def _check_url(url: str) -> str:
    if url and (not _GITHUB.fullmatch(url) or url.endswith((".git", "."))):
        raise ValueError(f"url must be a GitHub repository address https://github.com/OWNER/REPO, got {url!r} "
                         "(Binder and Colab launch notebooks from GitHub)")
    return url


def colab_cell(url: str, branch: str = "main") -> str:
    """The source of a chapter's first cell for the repository ``url`` (``""``: not yet published)."""
    _check_url(url)
    if url:
        return (f"{COLAB_MARK}: install the book's package from its repository (elsewhere this cell does nothing).\n"
                "import sys\n"
                'if "google.colab" in sys.modules:\n'
                f'    %pip install --quiet "learnreg @ git+{url}@{branch}"')
    return (f"{COLAB_MARK}. The book is not yet published, so there is no address to install its package from;\n"
            "# run it locally instead: in the book's folder, `make lab` (see README.md).\n"
            "import sys\n"
            'if "google.colab" in sys.modules:\n'
            '    raise RuntimeError("This book is not yet published, so it cannot run on Colab. "\n'
            '                       "Run it locally: in the book\'s folder, `make lab` (see README.md).")')


def write_setting(url: str, root: Path) -> None:
    """Write ``url`` as ``repository.url`` in ``_config.yml``, keeping the rest of the file as it is."""
    _check_url(url)
    path = Path(root) / "_config.yml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    in_repository = False
    for i, line in enumerate(lines):
        if line.strip() and not line[0].isspace():
            in_repository = line.startswith("repository:")
        elif in_repository and re.match(r"[ \t]+url:", line):
            indent = line[: len(line) - len(line.lstrip())]
            comment = line.partition("#")[2].rstrip("\n")
            lines[i] = f'{indent}url: "{url}"' + (f"  #{comment}" if comment else "") + "\n"
            path.write_text("".join(lines), encoding="utf-8")
            return
    raise ValueError("_config.yml has no `url:` under `repository:`")


def _notebook_with_cell(path: Path, source: str) -> tuple[str, str]:
    """Return the notebook's text now and with its Colab cell set to ``source`` (every other cell as it is)."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    if dumps(json.loads(raw)) != raw:
        raise ValueError(f"{path.name} is not in stored form (run it through learnreg.book.notebook_store first); "
                         "writing it would change more than its first cell")
    cell = nb["cells"][0]
    if cell["cell_type"] != "code" or not "".join(cell["source"]).startswith(COLAB_MARK) or \
            "hide-cell" not in cell.get("metadata", {}).get("tags", []):
        raise ValueError(f"{path.name}: the first cell is not the Colab cell (a code cell tagged hide-cell "
                         f"that starts with {COLAB_MARK!r})")
    cell["source"] = source
    return raw, dumps(nb)


def _notebooks(root: Path) -> list[Path]:
    return sorted((Path(root) / "notebooks").glob("*.ipynb"))


def _citation_with(text: str, url: str) -> str:
    text = re.sub(r"^repository-code:[^\n]*\n", "", text, flags=re.M)
    if url:
        text = re.sub(r"^(license:[^\n]*\n)", rf'\1repository-code: "{url}"\n', text, count=1, flags=re.M)
    return text


def apply(root: Path) -> list[Path]:
    """Make the notebooks' Colab cells and CITATION.cff follow the setting; return the files changed."""
    url, branch = read_setting(root)
    source = colab_cell(url, branch)
    changed = []
    for path in _notebooks(root):
        before, after = _notebook_with_cell(path, source)
        if after != before:
            path.write_text(after, encoding="utf-8")
            changed.append(path)
    cff = Path(root) / "CITATION.cff"
    if cff.is_file():
        before = cff.read_text(encoding="utf-8")
        after = _citation_with(before, url)
        if after != before:
            cff.write_text(after, encoding="utf-8")
            changed.append(cff)
    return changed


def problems(root: Path) -> list[str]:
    """Every place that does not follow the setting (empty when all agree)."""
    url, branch = read_setting(root)
    out = []
    try:
        source = colab_cell(url, branch)
    except ValueError as exc:
        return [f"_config.yml: {exc}"]
    for path in _notebooks(root):
        try:
            before, after = _notebook_with_cell(path, source)
        except ValueError as exc:
            out.append(str(exc))
            continue
        if after != before:
            out.append(f"{path.name}: the Colab cell does not follow repository.url = {url!r}")
    cff = Path(root) / "CITATION.cff"
    if cff.is_file() and _citation_with(cff.read_text(encoding="utf-8"), url) != cff.read_text(encoding="utf-8"):
        out.append(f"CITATION.cff: repository-code does not follow repository.url = {url!r}")
    return out


# --- Sphinx: buttons only for a published book ------------------------------------------------


def buttons_follow_the_setting(app, config) -> None:
    """Show the launch buttons and the repository button only when ``repository.url`` is set.

    Jupyter Book 1 copies ``repository.url`` to ``html_theme_options["repository_url"]`` and
    ``launch_buttons`` as they are; without an address the theme cannot build launch links.
    """
    options = dict(config.html_theme_options or {})
    url = options.get("repository_url") or ""
    if url:
        _check_url(url)
        options["use_repository_button"] = True
    else:
        options.pop("repository_url", None)
        options.pop("launch_buttons", None)
        options["use_repository_button"] = False
    config.html_theme_options = options


def setup(app):
    app.connect("config-inited", buttons_follow_the_setting)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
