"""Execute notebooks in place and store their text outputs (for nbval).

Usage: .venv/bin/python scripts/execute_notebook.py notebooks/01_operators.ipynb [...]

Each notebook runs in a fresh kernel in its own folder, with the book's cell
timeout, through :mod:`learnreg.book.execution` (as ``make book`` runs it). Text
outputs are kept so that ``pytest --nbval`` can compare them with a fresh run;
image data and saved widget state are removed to keep the repository small
(nbval ignores images, and the book re-executes every notebook anyway), by the
same function that git's clean filter uses (learnreg.book.notebook_store).
Claims recorded while executing go to a temporary folder, not to _build.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from learnreg.book.execution import book_timeout, execute_notebooks  # noqa: E402
from learnreg.book.notebook_store import strip_outputs  # noqa: E402


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # bit-reproducible BLAS, as in the Makefile
    os.environ["LEARNREG_STATIC_PAGES"] = "1"  # panels in their static form, as the book build and nbval run them
    timeout = book_timeout(ROOT)
    for p in paths:
        path = Path(p).resolve()
        with tempfile.TemporaryDirectory() as claims:
            os.environ["LEARNREG_CLAIMS_DIR"] = claims
            (result,) = execute_notebooks([path], timeout=timeout)
        if not result.ok:
            print(result.error, file=sys.stderr)
            return 1
        strip_outputs(result.nb)
        nbformat.write(result.nb, path)
        print(f"{path.name}: executed in {result.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
