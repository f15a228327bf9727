"""The benchmark table: budgets, the schema of ``_build/bench.json``, and its book page.

``make bench`` (``scripts/bench.py``) measures the book on the machine it runs
on and writes ``_build/bench.json``. This module holds what both the script and
the book need:

* :data:`BUDGETS`, the performance budgets of the book (a 2-core machine without
  GPU, as a free Binder instance): clean full build at most 5 min, cached rebuild
  at most 15 s, every notebook at most 60 s (the CNN chapter at most 3 min), peak
  memory of any notebook at most 2 GB, widget updates at most 50 ms (median);
  the Radon SVD at 64² pixels at most 5 s, at 128² at most 2 min and 2 GB, and
  chapter 1 with a cold SVD cache at most 20 s;
* :func:`validate_bench`, which checks a benchmark record against the schema;
* :func:`budget_rows`, which lists every budgeted measurement with its budget
  and a mark: ``pass``, ``MISS`` or ``not measured``;
* a Sphinx extension (:func:`setup`) with the directive ``bench-table``. It is
  replaced by the tables of ``bench.json`` next to the HTML folder (or the file
  named by ``$LEARNREG_BENCH_JSON``); if there is none, by a note saying that
  ``make bench`` has not been run. Neither case emits a warning, so the book
  builds with ``-W`` either way. The page is re-rendered on every build, so a new
  ``bench.json`` shows up after the next ``make book``.

Schema of ``bench.json`` (a JSON object; times in seconds, memory in MB)::

    clean_build_s, cached_build_s     number or null (null: not measured)
    clean_build_serial_s              optional: the clean build with one kernel at a time
    parallel_build_gain               optional: clean_build_serial_s / clean_build_s
    fit_speed_ratio                   number or null: Adam time / closed-form time
    svd_compute_s, svd_load_s         number or null: Radon SVD (64², the book's path) computed / loaded
                                      from the cache
    svd_128_compute_s, svd_128_peak_mb
                                      number or null: Radon 128² SVD, time and peak memory (VmHWM) of
                                      the process that computed it
    ch1_cold_s                        number or null: chapter 1 executed with an empty SVD cache
    radon_svd_scaling                 list of {n, blocked_s[, dense_s, cpu_s, dense_cpu_s, peak_mb]}: the
                                      Radon SVD's cost against n (null or absent dense_s: not run)
    notebooks                         list of {name, seconds, peak_mb[, widget_ms]}

Further keys (machine, comparisons, per-experiment timings) are optional and
shown when present.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .sphinxext import connect_rebuilt_every_time, docutils_table, mark_rebuilt_every_time

__all__ = [
    "BUDGETS",
    "REQUIRED_KEYS",
    "notebook_time_budget",
    "budget_status",
    "validate_bench",
    "budget_rows",
    "growth_exponent",
    "load_bench",
    "setup",
]

#: Budgets of the book (2 cores, no GPU, 2 GB of memory).
BUDGETS = {
    "clean_build_s": 300.0,
    "cached_build_s": 15.0,
    "notebook_s": 60.0,
    "cnn_notebook_s": 180.0,
    "peak_mb": 2048.0,
    "widget_ms": 50.0,
    "svd_64_s": 5.0,
    "svd_128_s": 120.0,
    "svd_128_peak_mb": 2048.0,
    "ch1_cold_s": 20.0,
}

#: Keys every benchmark record must have. The numbers (all but the two lists) may be null.
REQUIRED_KEYS = ("clean_build_s", "cached_build_s", "fit_speed_ratio", "svd_compute_s", "svd_load_s",
                 "svd_128_compute_s", "svd_128_peak_mb", "ch1_cold_s", "radon_svd_scaling", "notebooks")

_LIST_KEYS = ("radon_svd_scaling", "notebooks")

_NOTEBOOK_KEYS = ("name", "seconds", "peak_mb")

#: Optional keys that, when present, must be finite non-negative numbers (or null).
_OPTIONAL_NUMBERS = ("clean_build_serial_s", "parallel_build_gain")


def notebook_time_budget(name: str) -> float:
    """Execution-time budget of a notebook in seconds: 180 for the CNN chapter, 60 otherwise."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    return BUDGETS["cnn_notebook_s"] if "cnn" in name.lower() else BUDGETS["notebook_s"]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def budget_status(measured, budget) -> str:
    """``'pass'`` if ``measured <= budget``, ``'MISS'`` if above, ``'not measured'`` if ``measured`` is None.

    Raises
    ------
    ValueError
        If ``budget`` is not a positive finite number, or ``measured`` is neither
        None nor a finite non-negative number.
    """
    if not _is_number(budget) or budget <= 0:
        raise ValueError(f"budget must be a positive finite number, got {budget!r}")
    if measured is None:
        return "not measured"
    if not _is_number(measured) or measured < 0:
        raise ValueError(f"measured must be None or a finite non-negative number, got {measured!r}")
    return "pass" if measured <= budget else "MISS"


def _check_optional_number(data: dict, key: str, where: str = "bench") -> None:
    value = data.get(key)
    if value is not None and (not _is_number(value) or value < 0):
        raise ValueError(f"{where}[{key!r}] must be null or a finite non-negative number, got {value!r}")


def validate_bench(data) -> dict:
    """Check a benchmark record against the schema (see the module docstring) and return it.

    Raises
    ------
    ValueError
        Naming the first key that is missing or has the wrong type.
    """
    if not isinstance(data, dict):
        raise ValueError(f"bench must be a JSON object, got {type(data).__name__}")
    for key in REQUIRED_KEYS:
        if key not in data:
            raise ValueError(f"bench must have the key {key!r}")
    for key in REQUIRED_KEYS + _OPTIONAL_NUMBERS:
        if key not in _LIST_KEYS:
            _check_optional_number(data, key)
    scaling = data["radon_svd_scaling"]
    if not isinstance(scaling, list):
        raise ValueError(f"bench['radon_svd_scaling'] must be a list, got {type(scaling).__name__}")
    for i, row in enumerate(scaling):
        where = f"bench['radon_svd_scaling'][{i}]"
        if not isinstance(row, dict):
            raise ValueError(f"{where} must be an object, got {type(row).__name__}")
        for key in ("n", "blocked_s"):
            if key not in row:
                raise ValueError(f"{where} must have the key {key!r}")
        if isinstance(row["n"], bool) or not isinstance(row["n"], int) or row["n"] < 2:
            raise ValueError(f"{where}['n'] must be an integer of at least 2, got {row['n']!r}")
        for key in ("blocked_s", "dense_s", "peak_mb", "cpu_s", "dense_cpu_s"):
            _check_optional_number(row, key, where)
    notebooks = data["notebooks"]
    if not isinstance(notebooks, list):
        raise ValueError(f"bench['notebooks'] must be a list, got {type(notebooks).__name__}")
    for i, nb in enumerate(notebooks):
        where = f"bench['notebooks'][{i}]"
        if not isinstance(nb, dict):
            raise ValueError(f"{where} must be an object, got {type(nb).__name__}")
        for key in _NOTEBOOK_KEYS:
            if key not in nb:
                raise ValueError(f"{where} must have the key {key!r}")
        if not isinstance(nb["name"], str) or not nb["name"]:
            raise ValueError(f"{where}['name'] must be a non-empty string, got {nb['name']!r}")
        for key in ("seconds", "peak_mb", "widget_ms"):
            _check_optional_number(nb, key, where)
    return data


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if value == 0:
        return "0"
    a = abs(value)
    if 1e-2 <= a < 1e5:
        return f"{value:.{digits}g}" if a < 10 ** digits else f"{value:.0f}"
    return f"{value:.2e}"


def budget_rows(data) -> list[dict]:
    """Every budgeted measurement of a benchmark record with its budget and mark.

    Returns a list of dicts with keys ``item``, ``measured``, ``unit``,
    ``budget`` and ``status`` (``'pass'``, ``'MISS'`` or ``'not measured'``; a
    notebook that raised is marked ``'FAILED'``).
    For notebooks the measurement is the execution time, the peak memory and,
    for interactive notebooks, the median widget latency.
    """
    data = validate_bench(data)
    rows = []

    def add(item, measured, unit, budget):
        rows.append(
            {"item": item, "measured": measured, "unit": unit, "budget": budget,
             "status": budget_status(measured, budget)}
        )

    add("clean full build (all notebooks executed)", data["clean_build_s"], "s", BUDGETS["clean_build_s"])
    add("cached rebuild, nothing changed", data["cached_build_s"], "s", BUDGETS["cached_build_s"])
    svd_64 = data["svd_compute_s"] if data.get("svd_n", 64) == 64 else None  # --quick measures 32²
    add("Radon 64² SVD, computed (the book's path)", svd_64, "s", BUDGETS["svd_64_s"])
    add("Radon 128² SVD, computed", data["svd_128_compute_s"], "s", BUDGETS["svd_128_s"])
    add("Radon 128² SVD, peak memory", data["svd_128_peak_mb"], "MB", BUDGETS["svd_128_peak_mb"])
    add("chapter 1 with an empty SVD cache", data["ch1_cold_s"], "s", BUDGETS["ch1_cold_s"])
    for nb in data["notebooks"]:
        add(f"{nb['name']}: execution time", nb["seconds"], "s", notebook_time_budget(nb["name"]))
        if nb.get("error"):
            rows[-1]["status"] = "FAILED"
        add(f"{nb['name']}: peak memory", nb["peak_mb"], "MB", BUDGETS["peak_mb"])
        if "widget_ms" in nb:
            add(f"{nb['name']}: widget update (median)", nb["widget_ms"], "ms", BUDGETS["widget_ms"])
    return rows


def growth_exponent(rows, key: str, n_min: int = 32) -> float | None:
    r"""Least-squares exponent :math:`p` of :math:`t \approx C n^p` over the rows with ``n >= n_min``.

    Parameters
    ----------
    rows : list of dict
        Entries of ``radon_svd_scaling``.
    key : str
        ``'blocked_s'`` or ``'dense_s'``.
    n_min : int
        Smallest ``n`` in the fit (below it fixed costs dominate).

    Returns
    -------
    float or None
        None when fewer than two rows have a positive time for ``key``.
    """
    if key not in ("blocked_s", "dense_s"):
        raise ValueError(f"key must be 'blocked_s' or 'dense_s', got {key!r}")
    pts = [(r["n"], r[key]) for r in rows if r["n"] >= n_min and _is_number(r.get(key)) and r[key] > 0]
    if len({n for n, _ in pts}) < 2:
        return None
    x = [math.log(n) for n, _ in pts]
    y = [math.log(t) for _, t in pts]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)


def load_bench(path) -> dict | None:
    """Read and validate ``bench.json``; None if the file does not exist.

    Raises
    ------
    ValueError
        If the file exists but is not valid JSON or does not match the schema.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name} is not readable JSON: {exc}") from exc
    return validate_bench(data)


# ---------------------------------------------------------------------------
# Sphinx extension
# ---------------------------------------------------------------------------


def _bench_path(app) -> Path:
    env = os.environ.get("LEARNREG_BENCH_JSON")
    return Path(env) if env else Path(app.outdir).parent / "bench.json"


def _table(headers, rows, widths):
    return docutils_table(headers, rows, widths, classes=["learnreg-bench"])


def _mark(status: str):
    return nodes.strong(text=status) if status in ("MISS", "FAILED") else nodes.Text(status)


def _render(data: dict, path: Path) -> list:
    out = []
    machine = data.get("machine", {})
    desc = []
    if machine:
        desc.append(
            f"Measured on {machine.get('cpus', '?')} CPU core(s), {machine.get('platform', 'unknown platform')}, "
            f"Python {machine.get('python', '?')}, numpy {machine.get('numpy', '?')}"
        )
    if data.get("generated"):
        desc.append(f"at {data['generated']}")
    load = data.get("load_average")
    if isinstance(load, dict):
        desc.append(f"load average {_fmt(load.get('start'))} at the start and {_fmt(load.get('end'))} at the end")
    if data.get("toc"):
        desc.append(f"the builds used the table of contents {data['toc']}, not the book's")
    if data.get("quick"):
        desc.append("reduced run (--quick): smaller SVD, PGD and CNN sizes"
                    + ("; the builds were not measured" if data.get("clean_build_s") is None else ""))
    if desc:
        out.append(nodes.paragraph(text="; ".join(desc) + "."))

    rows = budget_rows(data)
    n_miss = sum(r["status"] == "MISS" for r in rows)
    n_pass = sum(r["status"] == "pass" for r in rows)
    out.append(nodes.paragraph(text=f"{n_pass} budgets hold, {n_miss} are missed, "
                                    f"{len(rows) - n_pass - n_miss} were not measured."))
    out.append(nodes.rubric(text="Budgets"))
    out.append(_table(
        ["measurement", "measured", "budget", "result"],
        [[r["item"], f"{_fmt(r['measured'])} {r['unit']}" if r["measured"] is not None else "n/a",
          f"≤ {_fmt(r['budget'])} {r['unit']}", _mark(r["status"])] for r in rows],
        [50, 15, 15, 12],
    ))

    comp = []
    fs = data.get("fit_speed") or {}
    if data.get("fit_speed_ratio") is not None:
        extra = ""
        if fs:
            extra = (f" (closed form {_fmt(1e3 * fs['closed_form_s'])} ms, Adam {_fmt(1e3 * fs['gradient_s'])} ms "
                     f"and {fs.get('adam_steps', '?')} steps; target reached: {fs.get('reached')})")
        comp.append(["learned spectral filter: Adam to the closed form's test risk (+1 %) vs closed form",
                     f"{_fmt(data['fit_speed_ratio'])} ×" + extra])
    if data.get("parallel_build_gain") is not None:
        parts = data.get("clean_build_parts") or {}

        def split(jobs):
            p = parts.get(f"jobs_{jobs}") or {}
            if "execute_s" in p and "sphinx_s" in p:
                return f": notebooks {_fmt(p['execute_s'])} s + Sphinx {_fmt(p['sphinx_s'])} s"
            return ""

        comp.append(["clean build: notebooks executed one at a time vs two at a time (make book runs two)",
                     f"{_fmt(data['parallel_build_gain'])} × (one at a time {_fmt(data.get('clean_build_serial_s'))} s"
                     f"{split(1)}; two at a time {_fmt(data.get('clean_build_s'))} s{split(2)})"])
    if data.get("svd_compute_s") is not None and data.get("svd_load_s"):
        n = data.get("svd_n", 64)
        comp.append([f"Radon {n}² SVD: computed vs loaded from the cache",
                     f"{_fmt(data['svd_compute_s'] / data['svd_load_s'])} × "
                     f"(compute {_fmt(data['svd_compute_s'])} s, load {_fmt(data['svd_load_s'])} s)"])
    for row in data.get("adversarial", []):
        comp.append([f"adversarial training ({row['adversary']}): PGD vs exact solver",
                     f"{_fmt(row['ratio'])} × (exact {_fmt(1e3 * row['exact_s'])} ms, PGD {_fmt(row['pgd_s'])} s, "
                     f"objective gap {_fmt(row['objective_gap'])})"])
    if comp:
        out.append(nodes.rubric(text="Comparisons (ratios of times measured in the same run)"))
        out.append(_table(["comparison", "ratio"], comp, [55, 45]))

    scaling = data.get("radon_svd_scaling") or []
    if scaling:
        out.append(nodes.rubric(text="The Radon SVD against the resolution n (n × n pixels)"))
        rows_ = []
        for r in sorted(scaling, key=lambda r: r["n"]):
            dense, blocked = r.get("dense_s"), r.get("blocked_s")
            ratio = f"{_fmt(dense / blocked)} ×" if _is_number(dense) and _is_number(blocked) and blocked > 0 else ""
            rows_.append([str(r["n"]), str(r["n"] ** 2), _fmt(blocked), _fmt(dense) if dense is not None else "not run",
                          ratio, _fmt(r.get("cpu_s")), _fmt(r.get("dense_cpu_s")) if dense is not None else "",
                          _fmt(r.get("peak_mb"))])
        out.append(_table(["n", "pixels N", "blocked (s)", "dense (s)", "dense / blocked", "CPU, blocked (s)",
                           "CPU, dense (s)", "blocked: peak (MB)"],
                          rows_, [6, 9, 11, 11, 12, 13, 13, 14]))
        fits = []
        for key, label in (("blocked_s", "blocked"), ("dense_s", "dense")):
            p = growth_exponent(scaling, key)
            if p is not None:
                used = sorted(r["n"] for r in scaling if r["n"] >= 32 and _is_number(r.get(key)))
                fits.append(f"{label}: time ∝ n^{_fmt(p)} (fitted over n = {', '.join(map(str, used))})")
        if fits:
            out.append(nodes.paragraph(text="Fitted growth: " + "; ".join(fits) + ". Both SVDs cost O(n⁶) "
                                            "(a dense SVD of an n² × n² matrix); the blocks divide the constant."))
    blocks = data.get("radon_svd_blocks") or []
    if blocks:
        n_b = data.get("radon_svd_blocks_n", "?")
        out.append(nodes.rubric(text=f"Symmetry blocks of the Radon transform at {n_b}² pixels"))
        out.append(_table(
            ["block", "irrep", "columns", "rows", "singular values", "share", "share of Σ s_k²", "of the leading 100"],
            [[b["block"], b["irrep"], str(b["dim_x"]), str(b["dim_y"]), str(b["n_values"]), _fmt(b["share"]),
              _fmt(b["energy_share"]), str(b["leading"])] for b in blocks],
            [8, 8, 10, 10, 14, 10, 14, 16],
        ))

    if data.get("cnn"):
        out.append(nodes.rubric(text="CNN regularizers: training time per experiment"))
        out.append(_table(["experiment", "Adam steps", "seconds"],
                          [[r["name"], r.get("steps", "?"), _fmt(r["seconds"])] for r in data["cnn"]], [60, 15, 15]))

    if data["notebooks"]:
        out.append(nodes.rubric(text="Notebooks"))
        out.append(_table(
            ["notebook", "seconds", "peak memory (MB)", "widget update, median (ms)", "panels timed"],
            [[nb["name"], _fmt(nb["seconds"]), _fmt(nb["peak_mb"]),
              _fmt(nb["widget_ms"]) if "widget_ms" in nb else "no widget",
              str(len(nb.get("widget_panels", []))) if "widget_ms" in nb else ""]
             for nb in data["notebooks"]],
            [30, 12, 18, 22, 14],
        ))
    return out


class _bench_placeholder(nodes.General, nodes.Element):
    """Replaced by the benchmark tables once the build knows its output folder."""


class BenchTableDirective(SphinxDirective):
    """``bench-table``: the benchmark tables of ``bench.json``, or a note if it is missing."""

    has_content = False

    def run(self):
        mark_rebuilt_every_time(self.env, "learnreg_bench_docs")
        return [_bench_placeholder()]


def _note(problem: str | None):
    """The paragraph shown when there is no usable ``bench.json``."""
    para = nodes.paragraph()
    if problem is not None:
        para += nodes.Text(f"The benchmark file could not be used ({problem}). Run ")
        para += nodes.literal(text="make bench")
        para += nodes.Text(" again, then ")
    else:
        para += nodes.Text("No benchmark has been run on the machine that built this book. Run ")
        para += nodes.literal(text="make bench")
        para += nodes.Text(" (several minutes on an idle machine), then ")
    para += nodes.literal(text="make book")
    para += nodes.Text(": this page then shows every measurement next to its budget.")
    return nodes.note("", para)


def _resolve(app, doctree, fromdocname):
    placeholders = list(doctree.findall(_bench_placeholder))
    if not placeholders:
        return
    path = _bench_path(app)
    try:
        data, problem = load_bench(path), None
    except ValueError as exc:
        data, problem = None, str(exc)
    for node in placeholders:
        if data is not None:
            node.replace_self(_render(data, path))
        else:
            node.replace_self(_note(problem))


def setup(app):
    """Register the ``bench-table`` directive (Sphinx entry point)."""
    app.add_node(_bench_placeholder)
    app.add_directive("bench-table", BenchTableDirective)
    app.connect("doctree-resolved", _resolve)
    connect_rebuilt_every_time(app, "learnreg_bench_docs")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
