"""Stress the notebook execution: many kernel runs, some two at a time; count hangs.

Usage::

    .venv/bin/python scripts/stress_kernels.py --rounds 3 --jobs 1 2          # the book's notebooks
    .venv/bin/python scripts/stress_kernels.py --widget-runs 200 --jobs 2      # the small widget notebook only
    .venv/bin/python scripts/stress_kernels.py --widget-runs 200 --jobs 2 --unsafe   # as jupyter-book runs it

Not part of ``make test`` (it takes many minutes). Each round executes every
notebook of ``_toc.yml`` (or ``--only``) through
:func:`learnreg.book.execution.execute_notebooks`, the code ``make book`` uses,
once per entry of ``--jobs`` (1: one kernel at a time, 2: two at once).
``--widget-runs N`` adds N runs of a small notebook whose widget cell has the
pattern of chapters 1-3 (``interactive_output`` drawing a figure into an
``Output`` widget), the pattern that exposed the lost reply; it runs in about
two seconds, so it gives many kernel runs quickly.

A run counts as a **hang** when a cell failed (its reply came only at the cell
timeout, :class:`~learnreg.book.execution.CellStalled`, or not at all) while its
kernel was idle (``ExecutedNotebook.hung``); a cell that failed while its
kernel kept computing was too slow for the timeout (a busy machine), not hung.
``--unsafe`` executes as jupyter-book does (TCP ports, nbclient's own Output
widget mimic), to show the problem that the safe path removes. Claims go to a
temporary folder; the SVD cache is the usual one unless ``--cold-cache``.

The summary (and ``--json``) reports: kernel runs, runs that overlapped another
run, hangs, cells too slow for the timeout, other failures, and the slowest
cell of each notebook, by wall-clock time and by its kernel's CPU time (which a
busy machine does not inflate; the cell timeout in ``_config.yml`` is measured
from it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.pop("MPLBACKEND", None)  # kernels use their inline backend, as in the book

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from learnreg.book.execution import execute_notebooks, toc_notebooks  # noqa: E402

WIDGET_CELLS = [
    "import numpy as np\nimport matplotlib.pyplot as plt\nimport ipywidgets as widgets\nfrom IPython.display import display",
    "x = np.linspace(0, 1, 200)\nfig, ax = plt.subplots()\nax.plot(x, x**2)\nplt.show()\nprint('figure drawn')",
    "a = widgets.IntSlider(value=3, min=1, max=40, description='a')\n"
    "b = widgets.Dropdown(options=[1, 2, 3], value=2, description='b')\n\n"
    "def show(a, b):\n    fig, ax = plt.subplots()\n    ax.plot(x, x**a * b)\n    plt.show()\n    print(a, b)\n\n"
    "out = widgets.interactive_output(show, {'a': a, 'b': b})\n"
    "display(widgets.VBox([widgets.HBox([a, b]), out]))",
    "print('done')",
]


def widget_notebook(folder: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in WIDGET_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "widget_probe.ipynb"
    nbformat.write(nb, path)
    return path


def overlapping(results) -> int:
    """How many runs overlapped in time with at least one other run."""
    spans = [(r.started, r.started + r.seconds) for r in results]
    return sum(any(i != j and a < d and c < b for j, (c, d) in enumerate(spans)) for i, (a, b) in enumerate(spans))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=1, help="rounds over the book's notebooks (0: none)")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="kernels at once, one round each")
    ap.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="only these notebooks (stems)")
    ap.add_argument("--widget-runs", type=int, default=0, help="runs of the small widget notebook")
    ap.add_argument("--timeout", type=int, default=None, help="cell timeout in s (default: _config.yml)")
    ap.add_argument("--unsafe", action="store_true", help="execute as jupyter-book does (shows the hang)")
    ap.add_argument("--cold-cache", action="store_true", help="empty SVD cache for every round")
    ap.add_argument("--json", type=Path, help="write the summary here")
    args = ap.parse_args(argv)

    from learnreg.book.execution import book_timeout

    timeout = args.timeout or book_timeout(ROOT)
    notebooks = toc_notebooks(ROOT)
    if args.only:
        notebooks = [p for p in notebooks if p.stem in set(args.only)]
    tmp = Path(tempfile.mkdtemp(prefix="learnreg-stress-"))
    os.environ["LEARNREG_CLAIMS_DIR"] = str(tmp / "claims")
    results, batches = [], []

    def report(r):
        slowest, busiest = r.slowest_cell, r.busiest_cell
        print(f"[{time.strftime('%H:%M:%S')}] {r.path.stem}: {'ok' if r.ok else 'FAILED'} {r.seconds:.1f} s"
              + (f" (slowest cell {slowest[0]}: {slowest[1]:.1f} s" if slowest else "")
              + (f"; most kernel CPU: cell {busiest[0]}, {busiest[1]:.1f} s" if busiest else "")
              + (")" if slowest else "")
              + (f"\n    {r.error}" if r.error else ""), flush=True)

    def batch(paths, jobs, label):
        if args.cold_cache:
            os.environ["LEARNREG_CACHE_DIR"] = tempfile.mkdtemp(prefix="svd-", dir=tmp)
        t0 = time.monotonic()
        out = execute_notebooks(paths, timeout=timeout, jobs=jobs, safe=not args.unsafe, on_done=report)
        batches.append({"what": label, "jobs": jobs, "runs": len(out), "seconds": round(time.monotonic() - t0, 1)})
        results.extend(out)

    for rnd in range(args.rounds):
        for jobs in args.jobs:
            print(f"round {rnd + 1}/{args.rounds}, {jobs} kernel(s) at a time", flush=True)
            batch(notebooks, jobs, f"book round {rnd + 1}")
    if args.widget_runs:
        probe = widget_notebook(tmp)
        per = max(1, args.widget_runs // len(args.jobs))
        for jobs in args.jobs:
            print(f"{per} runs of the widget notebook, {jobs} at a time", flush=True)
            batch([probe] * per, jobs, "widget notebook")

    hangs = [r for r in results if r.hung]
    timeouts = [r for r in results if r.error and not r.hung and ("timeout" in r.error or "timed out" in r.error)]
    failures = [r for r in results if r.error and r not in hangs and r not in timeouts]
    slowest, busiest = {}, {}
    for r in results:
        for table, cell in ((slowest, r.slowest_cell), (busiest, r.busiest_cell)):
            if cell and cell[1] > table.get(r.path.stem, (None, 0.0))[1]:
                table[r.path.stem] = (cell[0], round(cell[1], 1))
    summary = {
        "mode": "unsafe (as jupyter-book executes)" if args.unsafe else "safe (learnreg.book.execution)",
        "cell_timeout_s": timeout,
        "kernel_runs": len(results),
        "overlapping_runs": overlapping(results),
        "hangs": len(hangs),
        "too_slow_for_the_timeout": len(timeouts),
        "other_failures": len(failures),
        "batches": batches,
        "slowest_cell_wall_s": {k: {"cell": i, "seconds": s} for k, (i, s) in sorted(slowest.items())},
        "slowest_cell_kernel_cpu_s": {k: {"cell": i, "seconds": s} for k, (i, s) in sorted(busiest.items())},
        "errors": [r.error for r in hangs + timeouts + failures],
        "load_average_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return 1 if hangs or failures else 0


if __name__ == "__main__":
    sys.exit(main())
