"""Execute the book's notebooks into jupyter-book's execution cache (``make book`` runs this first).

Usage::

    .venv/bin/python scripts/execute_book.py                 # two kernels at a time
    .venv/bin/python scripts/execute_book.py --jobs 1        # one at a time
    .venv/bin/python scripts/execute_book.py --cache DIR     # another cache (bench builds into a temporary folder)

Notebooks already in the cache with unchanged code are skipped. Then
``jupyter-book build`` finds every notebook cached and starts no kernel itself.
Why the notebooks are not left to jupyter-book, and how a hang is prevented:
see :mod:`learnreg.book.execution`. Exit code 1 if any notebook fails.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.pop("MPLBACKEND", None)  # kernels use their inline backend, as in the book

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from learnreg.book.execution import execute_book  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2, help="kernels at a time (default 2)")
    ap.add_argument("--cache", type=Path, default=ROOT / "_build" / ".jupyter_cache",
                    help="jupyter-cache folder (default: the one jupyter-book uses, _build/.jupyter_cache)")
    ap.add_argument("--toc", type=Path, help="another table of contents than _toc.yml")
    args = ap.parse_args(argv)
    try:
        execute_book(ROOT, cache_path=args.cache, jobs=args.jobs, toc_path=args.toc,
                     log=lambda m: print(m, flush=True))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
