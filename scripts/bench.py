"""Benchmark the book on this machine and write ``_build/bench.json`` (``make bench``).

Usage::

    .venv/bin/python scripts/bench.py                 # everything (several minutes on an idle 2-core machine)
    .venv/bin/python scripts/bench.py --quick         # no builds, smaller sizes: a smoke test of this script
    .venv/bin/python scripts/bench.py --only 01_operators 04_paradigms   # a subset of the notebooks
    .venv/bin/python scripts/bench.py --only-svd      # the Radon SVD budgets only (a few minutes)

Run it on an otherwise idle machine: the numbers are wall-clock times. Then run
``make book``; the appendix page "Benchmarks and budgets" shows the table next
to the budgets (see :mod:`learnreg.book.benchext`, which also defines the schema).

What is measured, and how
-------------------------
clean_build_s
    What ``make book`` does, into a fresh temporary folder with an empty SVD
    cache (``$LEARNREG_CACHE_DIR``) and a private claims folder, so the user's
    ``_build`` and caches are not touched: ``scripts/execute_book.py --jobs 2``
    (two kernels at a time) into that folder's execution cache, then
    ``jupyter-book build . --path-output <tmp> -W --keep-going``. This is what a
    fresh clone costs (the package install aside). ``clean_build_parts`` splits
    it into notebook execution and Sphinx.
clean_build_serial_s, parallel_build_gain
    The same clean build with one kernel at a time (``--jobs 1``), in another
    fresh folder, and the ratio serial / parallel (above 1: two at a time is
    faster). ``make book`` executes two at a time because of this gain.
cached_build_s
    ``make book``'s two commands again, nothing changed (jupyter-cache serves
    every notebook).
notebooks
    Every notebook of ``_toc.yml`` runs in a fresh kernel (nbclient), in its own
    folder, as the book runs it. ``seconds``: kernel start to the end of the last
    cell. After the last cell a probe cell runs in the same kernel:

    * ``peak_mb``: the kernel's own peak resident set size, ``VmHWM`` from
      ``/proc/self/status`` (``ru_maxrss`` on systems without /proc; on Linux it
      would include the peak of the process the kernel was forked from)
    * ``widget_ms`` (chapters with panels): every panel of the chapter (the
      ``PANELS`` of its figures module, :mod:`learnreg.figures`) is built as a
      reader's kernel builds it and updated at 40 random points of its
      parameters' continuous ranges (every structural combination drawn once
      first); one update is the kernel-side callback: compute, restore the
      background, draw the changed artists, encode the PNG. ``widget_ms`` is
      the median of the slowest panel; ``widget_panels`` lists every panel
      with its median, 90th percentile and first draw.

    The notebooks share one SVD cache folder for the whole run: after the clean
    build it is warm; with ``--quick`` it is the user's cache, in whatever state.
fit_speed_ratio
    :func:`learnreg.training.fit_speed_ratio` on the setting of chapter 2
    (integration, n = 256, Pi_k = k^-2, white noise 1e-2, K = 1000 pairs): time
    of Adam training until its test risk is within 1 % of the closed-form
    empirical minimiser's, divided by the time of the closed form. Both in this run.
svd_compute_s, svd_load_s
    Radon transform at 64x64 pixels (``--quick``: 32x32), the SVD the book uses
    (by symmetry blocks, :mod:`learnreg.symmetry`): computed with the cache off,
    then stored in a temporary cache and loaded by a fresh operator (median of 3
    loads, including the checksum verification and the rebuilt symmetry bases).
    The loaded factors must equal the computed ones bit for bit.
    ``radon_svd_blocks``: the per-block table (:func:`learnreg.symmetry.block_table`).
radon_svd_scaling, svd_128_compute_s, svd_128_peak_mb
    The Radon SVD at n = 16, 32, 64, 128 (``--quick``: 16, 32, 64), each in a
    fresh Python process with the cache off: ``blocked_s`` (the book's path),
    ``dense_s`` (dense LAPACK on the whole matrix, at n <= 64; ``--quick``: n <= 32),
    ``cpu_s`` and ``dense_cpu_s`` (the process's CPU time for each SVD, all threads:
    on a busy machine the wall-clock times grow, the CPU times much less; the
    blocked SVD decomposes two blocks at once on 2 cores, ``Radon.svd_threads``) and ``peak_mb``, the process's ``VmHWM`` after the blocked SVD (the
    interpreter and numpy included). The 128 row gives ``svd_128_*``. The book
    page fits the growth exponent of each against n.
ch1_cold_s
    Chapter 1 executed as in ``notebooks`` below, but with an empty SVD cache: what
    a reader's first run costs.
adversarial
    Exact adversarial training (:func:`learnreg.adversarial.box_filter`,
    :func:`~learnreg.adversarial.l2_filter`) against generic PGD training
    (:func:`~learnreg.adversarial.pgd_training`, 1500 outer steps of 10 inner
    steps) on the setting of chapter 5 (diagonal model s_k = 1/k, Pi_k = k^-2,
    n = 32, K = 300, delta = eps = 0.05), with the remaining objective gap of PGD.
cnn
    :func:`learnreg.experiments.cnn_regularizers.benchmark`: training time of one run of each CNN
    experiment type (100 Adam steps; ``--quick``: 10).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

# Single-threaded BLAS, as in the Makefile: bit-reproducible, and on a shared 2-core machine much faster
# than oversubscribed threads. It must be set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # a fresh clone without an editable install still works

import numpy as np  # noqa: E402

from learnreg._io import atomic_open  # noqa: E402
from learnreg.book.benchext import budget_rows, growth_exponent, validate_bench  # noqa: E402

PROBE_MARK = "__LEARNREG_BENCH__"

#: Runs in the notebook's kernel after its last cell; prints one JSON line.
PROBE = r'''
def __learnreg_bench_probe():
    import json, resource, sys
    # Linux: VmHWM is this process's own peak resident size. ru_maxrss is not: exec
    # carries over the peak of the parent it was forked from (here, the bench process).
    peak_mb = None
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    peak_mb = float(line.split()[1]) / 1024
    except OSError:
        pass
    if peak_mb is None:  # no /proc (macOS): ru_maxrss is in bytes there
        unit = 1.0 / (1024 * 1024) if sys.platform == "darwin" else 1.0 / 1024
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
    print("__LEARNREG_BENCH__" + json.dumps({"peak_mb": peak_mb}))

__learnreg_bench_probe()
del __learnreg_bench_probe
'''


# ---------------------------------------------------------------------------
# pure helpers (unit-tested in tests/test_bench.py)
# ---------------------------------------------------------------------------


def parse_probe_output(text: str) -> dict:
    """Return the JSON object printed by :data:`PROBE` in ``text`` (the probe cell's stdout).

    Raises
    ------
    ValueError
        If no probe line is found, or it is not valid JSON with a numeric ``peak_mb``.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    lines = [ln for ln in text.splitlines() if ln.startswith(PROBE_MARK)]
    if not lines:
        raise ValueError("text holds no benchmark probe line")
    try:
        data = json.loads(lines[-1][len(PROBE_MARK):])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the probe line is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("peak_mb"), (int, float)):
        raise ValueError("the probe line must hold an object with a numeric 'peak_mb'")
    return data


def notebook_record(name: str, seconds: float, probe: dict, error: str | None = None,
                    panels: list[dict] | None = None) -> dict:
    """One entry of ``notebooks``: name, seconds, peak_mb and, for a chapter with panels, widget_ms.

    ``widget_ms`` is the median update time of the chapter's slowest panel
    (see :func:`bench_panels`); ``widget_panels`` lists every panel timed.
    """
    rec = {"name": name, "seconds": round(float(seconds), 3), "peak_mb": round(float(probe["peak_mb"]), 1)}
    if panels:
        rec["widget_ms"] = round(max(float(p["median_ms"]) for p in panels), 2)
        rec["widget_panels"] = panels
    if error:
        rec["error"] = error
    return rec


def chapter_module(name: str) -> str:
    """The figures module of a notebook: ``03_rates`` -> ``learnreg.figures.rates``."""
    stem = name.split("_", 1)[1] if "_" in name and name.split("_", 1)[0].isdigit() else name
    return f"learnreg.figures.{stem}"


def bench_panels(name: str, n_updates: int = 40) -> list[dict]:
    """Time every panel of a chapter (its figures module's ``PANELS``) as a live panel updates.

    Each panel is built as a reader's kernel builds it; :meth:`learnreg.book.panels.Panel.benchmark`
    draws every structural combination once, then renders ``n_updates`` random points of the
    parameters' continuous ranges and reports the median (callback plus rendering, in the kernel).
    A chapter without ``PANELS`` gives an empty list.
    """
    import importlib

    from learnreg.book.style import use_book_style
    from learnreg.data import make_rng

    try:
        module = importlib.import_module(chapter_module(name))
    except ModuleNotFoundError:
        return []
    use_book_style()
    out = []
    for key, factory in getattr(module, "PANELS", {}).items():
        res = factory().benchmark(make_rng(0), n_updates=n_updates)
        out.append({"panel": key, "median_ms": round(res["median_ms"], 2), "p90_ms": round(res["p90_ms"], 2),
                    "first_ms": round(res["first_ms"], 1), "updates": res["n_updates"]})
    return out


def toc_notebooks(toc_path: Path) -> list[str]:
    """Stems of the notebooks listed in ``_toc.yml``, in reading order."""
    import yaml

    toc = yaml.safe_load(Path(toc_path).read_text(encoding="utf-8"))
    files = [toc.get("root", "")]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return [Path(f).name for f in files if f.startswith("notebooks/")]


def write_json_atomic(path: Path, data: dict) -> None:
    """Validate ``data`` against the schema and write it to ``path`` atomically."""
    validate_bench(data)
    with atomic_open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


def format_table(data: dict) -> str:
    """The budget table as plain text (printed at the end of a run)."""
    rows = budget_rows(data)
    width = max((len(r["item"]) for r in rows), default=10)
    lines = [f"{'measurement':<{width}}  {'measured':>12}  {'budget':>10}  result"]
    for r in rows:
        m = "n/a" if r["measured"] is None else f"{r['measured']:.4g} {r['unit']}"
        lines.append(f"{r['item']:<{width}}  {m:>12}  {'<= ' + format(r['budget'], 'g') + ' ' + r['unit']:>10}  "
                     f"{r['status']}")
    scaling = sorted(data.get("radon_svd_scaling") or [], key=lambda r: r["n"])
    if scaling:
        lines += ["", "Radon SVD against n (wall-clock and CPU seconds; peak MB of the blocked run)",
                  f"{'n':>5}  {'blocked':>9}  {'dense':>9}  {'ratio':>7}  {'CPU bl.':>9}  {'CPU de.':>9}  {'peak MB':>8}"]
        for r in scaling:
            dense, blocked = r.get("dense_s"), r["blocked_s"]
            ratio = f"{dense / blocked:.1f}" if dense is not None and blocked else "-"
            lines.append(f"{r['n']:>5}  {_num(blocked):>9}  {_num(dense):>9}  {ratio:>7}  {_num(r.get('cpu_s')):>9}  "
                         f"{_num(r.get('dense_cpu_s')):>9}  {_num(r.get('peak_mb')):>8}")
        for key in ("blocked_s", "dense_s"):
            p = growth_exponent(scaling, key)
            if p is not None:
                lines.append(f"fitted growth ({key[:-2]}, n >= 32): time ~ n^{p:.2f}")
    for b in data.get("radon_svd_blocks") or []:
        if b is (data.get("radon_svd_blocks") or [None])[0]:
            lines += ["", f"symmetry blocks at n = {data.get('radon_svd_blocks_n', '?')}",
                      f"{'block':<6} {'irrep':<5} {'cols':>6} {'rows':>6} {'values':>7} {'share':>6} {'Σs² share':>9}"]
        lines.append(f"{b['block']:<6} {b['irrep']:<5} {b['dim_x']:>6} {b['dim_y']:>6} {b['n_values']:>7} "
                     f"{b['share']:>6.3f} {b['energy_share']:>9.3f}")
    return "\n".join(lines)


def _num(value) -> str:
    return "-" if value is None else f"{value:.4g}"


# ---------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_notebook(path: Path, timeout: int | None = None) -> dict:
    """Execute one notebook in a fresh kernel (as ``make book`` does), then the probe; return its record."""
    import nbformat
    from nbclient.exceptions import CellExecutionError

    from learnreg.book.execution import book_timeout, notebook_client

    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, path.parent, timeout or book_timeout(ROOT))
    client.reset_execution_trackers()
    error = None
    t0 = time.perf_counter()
    with client.setup_kernel():
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except CellExecutionError as exc:
            error = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else "cell execution error"
        seconds = time.perf_counter() - t0
        probe_cell = nbformat.v4.new_code_cell(PROBE)
        nb.cells.append(probe_cell)
        client.execute_cell(probe_cell, len(nb.cells) - 1)
    text = "".join(o.get("text", "") for o in probe_cell.outputs if o.get("output_type") == "stream")
    return notebook_record(path.stem, seconds, parse_probe_output(text), error, bench_panels(path.stem))


def bench_builds(tmp: Path, toc: Path | None = None) -> dict:
    """Clean builds as ``make book`` runs them, two kernels at a time and one at a time, then a cached rebuild."""
    jb = Path(sys.executable).parent / "jupyter-book"
    out: dict = {"clean_build_parts": {}}
    # two at a time first: whatever the first build warms up (the OS file cache) then favours the serial one
    for jobs, label in ((2, "clean"), (1, "serial")):
        folder = tmp / f"build-{jobs}"
        folder.mkdir(parents=True, exist_ok=True)
        execute = [sys.executable, str(ROOT / "scripts" / "execute_book.py"), "--jobs", str(jobs),
                   "--cache", str(folder / "_build" / ".jupyter_cache")]
        build = [str(jb if jb.exists() else "jupyter-book"), "build", str(ROOT), "--path-output", str(folder),
                 "-W", "--keep-going"]
        if toc is not None:
            execute += ["--toc", str(toc)]
            build += ["--toc", str(toc)]
        env = dict(os.environ, LEARNREG_CLAIMS_DIR=str(folder / "_build" / "claims"),
                   LEARNREG_CACHE_DIR=str(folder / "svd-cache"))
        env.pop("LEARNREG_BENCH_JSON", None)
        runs = [(label, jobs)] + ([("cached", jobs)] if jobs == 2 else [])
        for what, _ in runs:
            log(f"{what} book build ({jobs} kernel(s) at a time) into a temporary folder")
            parts, ok, logs = {}, True, []
            for name, cmd in (("execute_s", execute), ("sphinx_s", build)):
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True)
                parts[name] = round(time.perf_counter() - t0, 2)
                logs.append(proc.stdout)
                if proc.returncode != 0:
                    ok = False
                    print("\n".join(proc.stdout.splitlines()[-25:]))
                    break
            (tmp / f"build-{what}.log").write_text("\n".join(logs), encoding="utf-8")
            total = round(sum(parts.values()), 2)
            key = {"serial": "clean_build_serial_s", "clean": "clean_build_s", "cached": "cached_build_s"}[what]
            out[key] = total
            out[key[:-2] + "_ok"] = ok
            if what != "cached":
                out["clean_build_parts"][f"jobs_{jobs}"] = parts
            log(f"{what} build: {total:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in parts.items())}), "
                f"{'ok' if ok else 'FAILED'}")
    if out.get("clean_build_serial_s") and out.get("clean_build_s") and out.get("clean_build_ok") \
            and out.get("clean_build_serial_ok"):
        out["parallel_build_gain"] = round(out["clean_build_serial_s"] / out["clean_build_s"], 2)
    os.environ["LEARNREG_CACHE_DIR"] = str(tmp / "build-2" / "svd-cache")  # warm after the clean build
    return out


#: Runs in a fresh interpreter: one Radon SVD with the cache off; prints time, CPU time and VmHWM as JSON.
SVD_PROBE = r"""
import json, os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, sys.argv[3])
from learnreg.operators import Radon
op = Radon(int(sys.argv[1]))
t0, c0 = time.perf_counter(), time.process_time()
svd = op.svd(method=sys.argv[2], cache=False)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = None
with open("/proc/self/status") as fh:
    for line in fh:
        if line.startswith("VmHWM:"):
            peak = float(line.split()[1]) / 1024
print("__SVD__" + json.dumps({"seconds": seconds, "cpu_s": cpu, "peak_mb": peak, "rank": svd.rank}))
"""


def svd_in_subprocess(n: int, method: str) -> dict:
    """Time one Radon n x n SVD (``method`` 'symmetry' or 'numerical') in a fresh process; its VmHWM too."""
    proc = subprocess.run([sys.executable, "-c", SVD_PROBE, str(n), method, str(ROOT / "src")],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1")))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("__SVD__")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the Radon {n}x{n} SVD ({method}) failed:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1][len("__SVD__"):])


def bench_svd_scaling(ns: list[int], dense_ns: list[int]) -> dict:
    """The Radon SVD against n: blocked everywhere, dense where asked; each in its own process."""
    rows = []
    for n in ns:
        log(f"Radon {n}x{n} SVD by symmetry blocks (fresh process)")
        b = svd_in_subprocess(n, "symmetry")
        row = {"n": n, "blocked_s": round(b["seconds"], 3), "cpu_s": round(b["cpu_s"], 3),
               "peak_mb": round(b["peak_mb"], 1) if b["peak_mb"] is not None else None}
        if n in dense_ns:
            log(f"Radon {n}x{n} dense SVD (fresh process)")
            d = svd_in_subprocess(n, "numerical")
            row["dense_s"], row["dense_cpu_s"] = round(d["seconds"], 3), round(d["cpu_s"], 3)
        log("  " + ", ".join(f"{k} {v}" for k, v in row.items()))
        rows.append(row)
    out = {"radon_svd_scaling": rows, "svd_128_compute_s": None, "svd_128_peak_mb": None}
    for row in rows:
        if row["n"] == 128:
            out["svd_128_compute_s"], out["svd_128_peak_mb"] = row["blocked_s"], row["peak_mb"]
    return out


def bench_ch1_cold(tmp: Path) -> dict:
    """Chapter 1 in a fresh kernel with an empty SVD cache."""
    old = os.environ.get("LEARNREG_CACHE_DIR")
    os.environ["LEARNREG_CACHE_DIR"] = str(tmp / "svd-cache-cold")
    try:
        rec = run_notebook(ROOT / "notebooks" / "01_operators.ipynb")
    finally:
        if old is None:
            os.environ.pop("LEARNREG_CACHE_DIR", None)
        else:
            os.environ["LEARNREG_CACHE_DIR"] = old
    return {"ch1_cold_s": None if rec.get("error") else rec["seconds"], "ch1_cold": rec}


def bench_svd(n: int) -> dict:
    """Radon n x n: the book's SVD computed (cache off) vs loaded from a cache entry (median of 3)."""
    from learnreg.cache import CacheWarning, cached_arrays
    from learnreg.operators import FactoredSVD, Radon
    from learnreg.symmetry import block_table

    op = Radon(n)
    t0 = time.perf_counter()
    svd = op.svd(cache=False)
    compute = time.perf_counter() - t0
    if not isinstance(svd, FactoredSVD):
        raise RuntimeError(f"Radon({n}).svd() did not use the symmetry blocks")
    arrays = svd.to_arrays()
    old = os.environ.get("LEARNREG_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="learnreg-bench-svd-") as d:
        os.environ["LEARNREG_CACHE_DIR"] = d
        try:
            cached_arrays(op.svd_cache_key("symmetry"), lambda: arrays)
            loads = []
            with warnings.catch_warnings():
                warnings.simplefilter("error", CacheWarning)  # a load must not fall back to computing
                for _ in range(3):
                    t0 = time.perf_counter()
                    loaded = Radon(n).svd()
                    loads.append(time.perf_counter() - t0)
            if len(list(Path(d).glob("*.npz"))) != 1:
                raise RuntimeError("the SVD was recomputed instead of loaded: the cache key of Radon.svd changed")
            again = loaded.to_arrays()
            identical = set(again) == set(arrays) and all(np.array_equal(arrays[k], again[k]) for k in arrays)
        finally:
            if old is None:
                os.environ.pop("LEARNREG_CACHE_DIR", None)
            else:
                os.environ["LEARNREG_CACHE_DIR"] = old
    load = statistics.median(loads)
    return {"svd_n": n, "svd_method": "symmetry", "svd_compute_s": round(compute, 3), "svd_load_s": round(load, 4),
            "svd_speedup": round(compute / load, 1), "svd_cache_identical": identical,
            "radon_svd_blocks_n": n, "radon_svd_blocks": block_table(svd)}


def bench_fit_speed(quick: bool) -> dict:
    """Closed-form fit vs Adam to the same test risk (chapter 2's setting)."""
    from learnreg.data import make_rng, power_law_moments
    from learnreg.operators import Integration
    from learnreg.training import fit_speed_ratio

    n = 256
    s = Integration(n).svd().s
    res = fit_speed_ratio(s, power_law_moments(n, 2.0), np.full(n, 1e-4), 1000, make_rng(2025),
                          repeats=1 if quick else 3)
    return {"fit_speed_ratio": round(res.ratio, 1),
            "fit_speed": {"closed_form_s": res.closed_form_seconds, "gradient_s": res.gradient_seconds,
                          "adam_steps": res.n_steps, "reached": res.reached,
                          "risk_closed_form": res.risk_closed_form, "risk_gradient": res.risk_gradient}}


def bench_adversarial(quick: bool) -> list[dict]:
    """Exact adversarial training vs PGD training (chapter 5's setting)."""
    from learnreg import adversarial as adv
    from learnreg.data import make_rng, power_law_moments

    rng = make_rng(2026)
    n, K, delta, eps = 32, 300, 0.05, 0.05
    s = np.arange(1, n + 1.0) ** -1.0
    cx = rng.standard_normal((K, n)) * np.sqrt(power_law_moments(n, 2.0))
    cy = s * cx + delta * rng.standard_normal((K, n))
    outer = 300 if quick else 1500
    rows = []
    for which in adv.ADVERSARIES:
        t0 = time.perf_counter()
        g_exact = adv.box_filter(cx, cy, eps) if which == "box" else adv.l2_filter(cx, cy, eps)
        t_exact = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = adv.pgd_training(cx, cy, eps, which, rng=rng, outer_steps=outer, inner_steps=10)
        t_pgd = time.perf_counter() - t0
        f_ex = float(np.mean(adv.worst_case_errors(g_exact, cx, cy, eps, which)))
        f_pg = float(np.mean(adv.worst_case_errors(res.g, cx, cy, eps, which)))
        rows.append({"adversary": which, "exact_s": t_exact, "pgd_s": t_pgd, "ratio": round(t_pgd / t_exact, 1),
                     "pgd_outer_steps": outer, "objective_gap": f_pg / f_ex - 1})
    return rows


def machine_info() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(terse=True), "python": platform.python_version(),
            "numpy": np.__version__, "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the two builds; smaller SVD, PGD and CNN sizes")
    ap.add_argument("--with-builds", action="store_true", help="measure the builds even with --quick")
    ap.add_argument("--toc", type=Path, help="build with this table of contents instead of _toc.yml (for testing)")
    ap.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="bench only these notebooks (stems)")
    ap.add_argument("--no-notebooks", action="store_true", help="do not execute the notebooks")
    ap.add_argument("--output", type=Path, default=ROOT / "_build" / "bench.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary build folder")
    ap.add_argument("--only-svd", action="store_true",
                    help="measure only the Radon SVD (64², the scaling against n with 128²) and chapter 1 with an "
                         "empty SVD cache; no builds, other notebooks, fits, PGD or CNN (their keys stay null)")
    args = ap.parse_args(argv)

    load_start = os.getloadavg()[0]
    if load_start > 0.5 * (os.cpu_count() or 1):
        log(f"warning: load average {load_start:.2f}; the machine is busy, so the timings will be pessimistic")
    data: dict = {"generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "quick": args.quick,
                  "machine": machine_info(), "clean_build_s": None, "cached_build_s": None,
                  "fit_speed_ratio": None, "ch1_cold_s": None, "notebooks": []}
    tmp = Path(tempfile.mkdtemp(prefix="learnreg-bench-"))
    try:
        if not args.only_svd and (not args.quick or args.with_builds):
            data.update(bench_builds(tmp, args.toc))
            if args.toc is not None:
                data["toc"] = args.toc.name

        if not args.only_svd:
            log("closed-form fit vs Adam")
            data.update(bench_fit_speed(args.quick))
            log(f"fit speed ratio {data['fit_speed_ratio']}")

        n_svd = 32 if args.quick else 64
        log(f"Radon {n_svd}x{n_svd} SVD: compute vs cache load")
        data.update(bench_svd(n_svd))
        log(f"SVD compute {data['svd_compute_s']} s, load {data['svd_load_s']} s")
        data.update(bench_svd_scaling([16, 32, 64] + ([] if args.quick else [128]),
                                      [16, 32] + ([] if args.quick else [64])))

        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures render, as in the book
        os.environ["LEARNREG_CLAIMS_DIR"] = str(tmp / "notebook-claims")
        if not args.no_notebooks and (not args.only or "01_operators" in args.only):
            log("notebook 01_operators with an empty SVD cache")
            data.update(bench_ch1_cold(tmp))
            log(f"  {data['ch1_cold']['seconds']:.1f} s" + (f", FAILED: {data['ch1_cold']['error']}"
                                                             if "error" in data["ch1_cold"] else ""))

        if not args.only_svd:
            log("exact vs PGD adversarial training")
            data["adversarial"] = bench_adversarial(args.quick)

            log("CNN training per experiment")
            from learnreg.experiments.cnn_regularizers import benchmark as cnn_benchmark

            data["cnn"] = cnn_benchmark(steps=10 if args.quick else 100)

        if not args.no_notebooks and not args.only_svd:
            names = toc_notebooks(ROOT / "_toc.yml")
            if args.only:
                unknown = sorted(set(args.only) - {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")})
                if unknown:
                    raise SystemExit(f"--only: no such notebook(s): {', '.join(unknown)}")
                names = list(args.only)
            for name in names:
                log(f"notebook {name}")
                rec = run_notebook(ROOT / "notebooks" / f"{name}.ipynb")
                log(f"  {rec['seconds']:.1f} s, peak {rec['peak_mb']:.0f} MB"
                    + (f", widget {rec['widget_ms']:.1f} ms" if "widget_ms" in rec else "")
                    + (f", FAILED: {rec['error']}" if "error" in rec else ""))
                data["notebooks"].append(rec)
    finally:
        if args.keep:
            log(f"temporary folder kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    data["load_average"] = {"start": round(load_start, 2), "end": round(os.getloadavg()[0], 2)}
    write_json_atomic(args.output, data)
    print(format_table(data))
    log(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}; "
        "run `make book` to show it in the book's appendix")
    return 0


if __name__ == "__main__":
    sys.exit(main())
