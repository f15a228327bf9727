"""Execute notebooks in place and store their text outputs (for nbval).

Usage: .venv/bin/python scripts/execute_notebook.py notebooks/01_operators.ipynb [...]

Each notebook runs in its own folder, as the book build and nbval run it. Text
outputs are kept so that ``pytest --nbval`` can compare them with a fresh run;
image data and saved widget state are removed to keep the repository small
(nbval ignores images, and the book re-executes every notebook anyway).
Claims recorded while executing go to a temporary folder, not to _build.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

STRIP_MIME = ("image/png", "image/jpeg", "image/svg+xml", "application/vnd.jupyter.widget-state+json")


_SLIDER = re.compile(r'<div class="learnreg-slider" id="[^"]*"')
_BASE64 = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")


def strip(nb: nbformat.NotebookNode) -> None:
    """Remove image data, widget state and the frames of static sliders; keep text outputs.

    A static slider's HTML is replaced by one line saying what it varies (the
    book build draws the frames); base64 data left in other outputs (glued
    figures) is replaced by the placeholder ``<BASE64>``. nbval's sanitiser
    maps the fresh outputs to the same text (tests/nbval_sanitize.cfg).
    """
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            for mime in STRIP_MIME:
                data.pop(mime, None)
            for mime, value in list(data.items()):
                text = "".join(value) if isinstance(value, list) else value
                if not isinstance(text, str):
                    continue
                if mime == "text/html" and _SLIDER.search(text):
                    plain = "".join(data.get("text/plain", "")) or "Static slider."
                    data[mime] = (f'<div class="learnreg-slider" data-stored="without frames"><p>{plain} '
                                  "Its frames are drawn when the book is built.</p></div>")
                elif _BASE64.search(text):  # e.g. a glued figure (application/papermill.record/image/png)
                    data[mime] = _BASE64.sub("<BASE64>", text)


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # bit-reproducible BLAS, as in the Makefile
    os.environ["LEARNREG_STATIC_PAGES"] = "1"  # panels in their static form, as the book build and nbval run them
    for p in paths:
        path = Path(p).resolve()
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as claims:
            os.environ["LEARNREG_CLAIMS_DIR"] = claims
            t0 = time.perf_counter()
            NotebookClient(
                nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
            ).execute()
            dt = time.perf_counter() - t0
        strip(nb)
        nbformat.write(nb, path)
        print(f"{path.name}: executed in {dt:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
