"""Execute notebooks in place and store their text outputs (for nbval).

Usage: .venv/bin/python scripts/execute_notebook.py notebooks/01_operators.ipynb [...]

Each notebook runs in its own folder, as the book build and nbval run it. Text
outputs are kept so that ``pytest --nbval`` can compare them with a fresh run;
image data and saved widget state are removed to keep the repository small
(nbval ignores images, and the book re-executes every notebook anyway), by the
same function that git's clean filter uses (learnreg.book.notebook_store).
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

from learnreg.book.notebook_store import strip_outputs


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
        strip_outputs(nb)
        nbformat.write(nb, path)
        print(f"{path.name}: executed in {dt:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
