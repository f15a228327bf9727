"""How a notebook is stored in the repository: text outputs kept; images, widget state and frames removed.

Stored notebooks keep their text outputs, which nbval compares with a fresh run. Image data and
saved widget state are removed: nbval ignores images, the book re-executes every notebook, and
they would make every commit of a notebook large. A static slider's HTML is replaced by one line
saying what it varies (the book build draws its frames), and base64 data left in other outputs
(a glued figure's ``application/papermill.record/image/png``, a gallery ``<img>``) by the placeholder
``<BASE64>``; nbval's sanitiser (``tests/nbval_sanitize.cfg``) maps the fresh outputs to the same text.

The same :func:`strip_outputs` is used in two places:

* ``scripts/execute_notebook.py`` strips a notebook after executing it for storage;
* git's *clean filter* strips a notebook when it is staged, so a notebook saved after a reader's
  run in JupyterLab is committed in its stored form. ``.gitattributes`` applies the filter
  ``learnreg-notebook`` to ``notebooks/*.ipynb``; ``make install`` and ``make lab`` register it::

      git config filter.learnreg-notebook.clean ".venv/bin/python -m learnreg.book.notebook_store"

As a filter this module reads a notebook on stdin and writes the stripped notebook on stdout, in
the layout nbformat writes (so a stored notebook passes through byte for byte). It uses the
standard library only, because git runs it on every ``git add`` and ``git status`` of a changed
notebook.
"""

from __future__ import annotations

import json
import re
import sys

__all__ = ["STRIP_MIME", "strip_outputs", "dumps", "main"]

#: Output data removed from stored notebooks: images and saved widget state.
STRIP_MIME = ("image/png", "image/jpeg", "image/svg+xml", "application/vnd.jupyter.widget-state+json")

_SLIDER = re.compile(r'<div class="learnreg-slider" id="[^"]*"')
_BASE64 = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")


def _text(value) -> str | None:
    text = "".join(value) if isinstance(value, list) else value
    return text if isinstance(text, str) else None


def strip_outputs(nb) -> None:
    """Strip ``nb`` in place for storage; keep its text outputs.

    Removes image data, saved widget state and execution timings, replaces a
    static slider by one line and other base64 data by ``<BASE64>``. ``nb`` is a
    notebook as a dict (``json.load``) or an ``nbformat.NotebookNode``.
    """
    nb["metadata"].pop("widgets", None)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            for mime in STRIP_MIME:
                data.pop(mime, None)
            for mime, value in list(data.items()):
                text = _text(value)
                if text is None:
                    continue
                if mime == "text/html" and _SLIDER.search(text):
                    plain = _text(data.get("text/plain", "")) or "Static slider."
                    data[mime] = (f'<div class="learnreg-slider" data-stored="without frames"><p>{plain} '
                                  "Its frames are drawn when the book is built.</p></div>")
                elif _BASE64.search(text):
                    data[mime] = _BASE64.sub("<BASE64>", text)


# nbformat stores multi-line strings as lists of lines: cell sources, stream text, and text-like
# output data (text/*, JavaScript, SVG). Other data (base64 images, JSON) stays one string.
_SPLIT_MIME = ("application/javascript", "image/svg+xml")


def _split_bundle(bundle: dict) -> None:
    for mime, value in bundle.items():
        if isinstance(value, str) and (mime.startswith("text/") or mime in _SPLIT_MIME):
            bundle[mime] = value.splitlines(True)


def dumps(nb) -> str:
    """Serialise ``nb`` as ``nbformat.write`` does (sorted keys, one-space indent, lines split)."""
    for cell in nb["cells"]:
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(True)
        for attachment in cell.get("attachments", {}).values():
            _split_bundle(attachment)
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("execute_result", "display_data"):
                _split_bundle(out.get("data", {}))
            elif out.get("output_type") == "stream" and isinstance(out.get("text"), str):
                out["text"] = out["text"].splitlines(True)
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\n"


def main() -> int:
    """Git clean filter: a notebook on stdin, the same notebook stripped on stdout."""
    raw = sys.stdin.buffer.read()
    try:
        nb = json.loads(raw)
        strip_outputs(nb)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # not a notebook we can read (e.g. one with merge-conflict markers): say so and fail, so
        # that git reports the file instead of storing something half-stripped
        print(f"learnreg.book.notebook_store: cannot strip this notebook ({exc})", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(dumps(nb).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
