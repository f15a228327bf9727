"""The benchmark script's pure helpers and the schema of ``_build/bench.json`` (no timing assertions)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import re
from pathlib import Path

import pytest

from learnreg.book.benchext import (
    BUDGETS,
    REQUIRED_KEYS,
    budget_rows,
    budget_status,
    growth_exponent,
    load_bench,
    notebook_time_budget,
    validate_bench,
)

ROOT = Path(__file__).resolve().parents[1]


def _load_bench_script():
    spec = importlib.util.spec_from_file_location("learnreg_bench_script", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench_script()


def _record(**overrides):
    data = {
        "clean_build_s": 200.0,
        "cached_build_s": 3.0,
        "fit_speed_ratio": 500.0,
        "svd_compute_s": 3.0,
        "svd_load_s": 0.05,
        "svd_128_compute_s": 70.0,
        "svd_128_peak_mb": 1300.0,
        "ch1_cold_s": 25.0,
        "radon_svd_scaling": [
            {"n": 16, "blocked_s": 0.02, "dense_s": 0.03},
            {"n": 32, "blocked_s": 0.15, "dense_s": 1.2},
            {"n": 64, "blocked_s": 3.0, "dense_s": 48.0, "cpu_s": 2.5, "dense_cpu_s": 47.0, "peak_mb": 180.0},
            {"n": 128, "blocked_s": 70.0, "dense_s": None, "peak_mb": 1300.0},
        ],
        "notebooks": [
            {"name": "01_operators", "seconds": 20.0, "peak_mb": 400.0, "widget_ms": 80.0},
            {"name": "07_cnn_regularizers", "seconds": 120.0, "peak_mb": 2100.0},
        ],
    }
    data.update(overrides)
    return data


# -- budgets -------------------------------------------------------------------------------


_UNITS = {"s": ("s", 1.0), "min": ("s", 60.0), "ms": ("ms", 1.0), "MB": ("MB", 1.0), "GB": ("MB", 1024.0)}


def stated_budgets(page: str) -> dict[str, float]:
    """The budgets the benchmarks page states in its table, in the units of :data:`BUDGETS`."""
    keys = {"clean full build": ["clean_build_s"], "cached rebuild": ["cached_build_s"],
            "execution of one notebook": ["notebook_s", "cnn_notebook_s"], "peak memory": ["peak_mb"],
            "interactive panel": ["widget_ms"], "Radon SVD at 64²": ["svd_64_s"],
            "Radon SVD at 128²": ["svd_128_s", "svd_128_peak_mb"], "empty SVD cache": ["ch1_cold_s"]}
    out = {}
    for row in re.findall(r"^\| ([^|]+) \| ([^|]+) \|$", page, flags=re.M):
        label, text = row[0].strip(), row[1]
        key = next((k for words, k in keys.items() if words in label), None)
        if key is None:
            continue
        values = [float(v) * _UNITS[u][1] for v, u in re.findall(r"≤ (\d+(?:\.\d+)?) (min|ms|s|GB|MB)\b", text)]
        assert len(values) == len(key), f"cannot read the budget of {label!r}: {text!r}"
        out.update(zip(key, values))
    return out


def test_the_benchmarks_page_states_the_budgets_the_table_checks():
    """book/benchmarks.md tells the reader the budgets; BUDGETS is what budget_rows checks against."""
    page = (ROOT / "book" / "benchmarks.md").read_text(encoding="utf-8")
    assert stated_budgets(page) == BUDGETS


def test_a_budget_changed_on_the_page_alone_is_noticed():
    page = (ROOT / "book" / "benchmarks.md").read_text(encoding="utf-8")
    assert "| ≤ 15 s |" in page
    assert stated_budgets(page.replace("| ≤ 15 s |", "| ≤ 20 s |"))["cached_build_s"] == 20.0 != BUDGETS[
        "cached_build_s"]


@pytest.mark.parametrize(
    "measured, budget, expected",
    [(0.0, 60.0, "pass"), (60.0, 60.0, "pass"), (60.000001, 60.0, "MISS"), (None, 60.0, "not measured")],
)
def test_budget_status_marks_pass_at_the_budget_and_miss_above(measured, budget, expected):
    assert budget_status(measured, budget) == expected


@pytest.mark.parametrize("measured", [-1.0, math.nan, math.inf, "3", True])
def test_budget_status_rejects_bad_measurements(measured):
    with pytest.raises(ValueError, match="measured"):
        budget_status(measured, 10.0)


@pytest.mark.parametrize("budget", [0.0, -5.0, math.nan, None, "60"])
def test_budget_status_rejects_bad_budgets(budget):
    with pytest.raises(ValueError, match="budget"):
        budget_status(1.0, budget)


def test_only_the_cnn_chapter_gets_three_minutes():
    assert notebook_time_budget("07_cnn_regularizers") == 180.0
    assert notebook_time_budget("01_operators") == 60.0
    with pytest.raises(ValueError, match="name"):
        notebook_time_budget("")


def test_budget_rows_mark_every_measurement():
    rows = {r["item"]: r for r in budget_rows(_record())}
    assert rows["clean full build (all notebooks executed)"]["status"] == "pass"
    assert rows["cached rebuild, nothing changed"]["status"] == "pass"
    assert rows["01_operators: widget update (median)"]["status"] == "MISS"       # 80 ms > 50 ms
    assert rows["07_cnn_regularizers: execution time"]["status"] == "pass"         # 120 s <= 180 s
    assert rows["07_cnn_regularizers: peak memory"]["status"] == "MISS"            # 2100 MB > 2048 MB
    assert "07_cnn_regularizers: widget update (median)" not in rows               # not interactive
    assert rows["Radon 64² SVD, computed (the book's path)"]["status"] == "pass"    # 3 s <= 5 s
    assert rows["Radon 128² SVD, computed"]["status"] == "pass"                    # 70 s <= 120 s
    assert rows["Radon 128² SVD, peak memory"]["status"] == "pass"                 # 1300 MB <= 2048 MB
    assert rows["chapter 1 with an empty SVD cache"]["status"] == "MISS"           # 25 s > 20 s
    assert len(rows) == 2 + 4 + 3 + 2


def test_the_64_pixel_svd_budget_applies_only_to_64_pixels():
    """--quick measures the 32² SVD: that is no measurement of the 64² budget."""
    rows = {r["item"]: r for r in budget_rows(_record(svd_n=32, svd_compute_s=9.0))}
    assert rows["Radon 64² SVD, computed (the book's path)"]["status"] == "not measured"
    rows = {r["item"]: r for r in budget_rows(_record(svd_n=64, svd_compute_s=9.0))}
    assert rows["Radon 64² SVD, computed (the book's path)"]["status"] == "MISS"


def test_a_failed_notebook_is_marked_failed_even_if_fast():
    data = _record(notebooks=[{"name": "03_rates", "seconds": 1.0, "peak_mb": 100.0, "error": "ValueError: x"}])
    rows = {r["item"]: r for r in budget_rows(data)}
    assert rows["03_rates: execution time"]["status"] == "FAILED"


def test_quick_runs_are_not_measured_rather_than_passed():
    rows = budget_rows(_record(clean_build_s=None, cached_build_s=None))
    assert [r["status"] for r in rows[:2]] == ["not measured", "not measured"]


# -- schema --------------------------------------------------------------------------------


def test_a_complete_record_validates():
    assert validate_bench(_record()) is not None


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_every_required_key_is_required(key):
    data = _record()
    del data[key]
    with pytest.raises(ValueError, match=repr(key)):
        validate_bench(data)


@pytest.mark.parametrize("key", ["cached_build_s", "svd_128_compute_s", "svd_128_peak_mb", "ch1_cold_s"])
@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf, "12 s", True, [1.0]])
def test_numbers_must_be_finite_non_negative_or_null(key, value):
    with pytest.raises(ValueError, match=key):
        validate_bench(_record(**{key: value}))
    assert validate_bench(_record(**{key: None}))[key] is None


@pytest.mark.parametrize(
    "scaling, match",
    [
        ({"n": 64}, "must be a list"),
        ([64], "must be an object"),
        ([{"blocked_s": 1.0}], "'n'"),
        ([{"n": 64}], "'blocked_s'"),
        ([{"n": 1, "blocked_s": 1.0}], "at least 2"),
        ([{"n": True, "blocked_s": 1.0}], "at least 2"),
        ([{"n": 64.0, "blocked_s": 1.0}], "at least 2"),
        ([{"n": 64, "blocked_s": -1.0}], "blocked_s"),
        ([{"n": 64, "blocked_s": 1.0, "dense_s": math.nan}], "dense_s"),
        ([{"n": 64, "blocked_s": 1.0, "peak_mb": "1 GB"}], "peak_mb"),
        ([{"n": 64, "blocked_s": 1.0, "dense_cpu_s": -2.0}], "dense_cpu_s"),
    ],
)
def test_bad_scaling_entries_are_named(scaling, match):
    with pytest.raises(ValueError, match=match):
        validate_bench(_record(radon_svd_scaling=scaling))


def test_growth_exponent_fits_the_power_law():
    rows = [{"n": n, "blocked_s": 2e-9 * n**6, "dense_s": 1e-7 * n**5.5 if n <= 64 else None} for n in (16, 32, 64, 128)]
    rows[0]["blocked_s"] = 0.5  # below n_min: fixed costs, ignored
    assert growth_exponent(rows, "blocked_s") == pytest.approx(6.0, abs=1e-12)
    assert growth_exponent(rows, "dense_s") == pytest.approx(5.5, abs=1e-12)   # from n = 32 and 64 only
    assert growth_exponent(rows, "dense_s", n_min=64) is None                    # one point
    assert growth_exponent([], "blocked_s") is None
    with pytest.raises(ValueError, match="key"):
        growth_exponent(rows, "seconds")


@pytest.mark.parametrize(
    "notebooks, match",
    [
        ({"name": "x"}, "must be a list"),
        (["01_operators"], "must be an object"),
        ([{"seconds": 1.0, "peak_mb": 1.0}], "'name'"),
        ([{"name": "", "seconds": 1.0, "peak_mb": 1.0}], "non-empty string"),
        ([{"name": "a", "peak_mb": 1.0}], "'seconds'"),
        ([{"name": "a", "seconds": 1.0}], "'peak_mb'"),
        ([{"name": "a", "seconds": 1.0, "peak_mb": 1.0, "widget_ms": math.nan}], "widget_ms"),
    ],
)
def test_bad_notebook_entries_are_named(notebooks, match):
    with pytest.raises(ValueError, match=match):
        validate_bench(_record(notebooks=notebooks))


def test_not_an_object():
    with pytest.raises(ValueError, match="JSON object"):
        validate_bench([1, 2])


def test_write_is_validated_and_round_trips(tmp_path):
    path = tmp_path / "sub" / "bench.json"
    bench.write_json_atomic(path, _record())
    assert load_bench(path) == _record()
    assert not list(path.parent.glob("*.tmp"))
    bad = _record()
    del bad["notebooks"]
    with pytest.raises(ValueError, match="notebooks"):
        bench.write_json_atomic(tmp_path / "bad.json", bad)
    assert not (tmp_path / "bad.json").exists()


def test_load_bench_missing_and_corrupt(tmp_path):
    assert load_bench(tmp_path / "none.json") is None
    (tmp_path / "b.json").write_text('{"clean_build_s": 1', encoding="utf-8")
    with pytest.raises(ValueError, match="not readable JSON"):
        load_bench(tmp_path / "b.json")


# -- probe and records -------------------------------------------------------------------


def test_parse_probe_output_takes_the_marked_line():
    text = "some noise\n" + bench.PROBE_MARK + json.dumps({"peak_mb": 512.5}) + "\nmore noise\n"
    assert bench.parse_probe_output(text) == {"peak_mb": 512.5}


@pytest.mark.parametrize(
    "text, match",
    [("nothing here", "no benchmark probe line"), ("__LEARNREG_BENCH__{oops", "not valid JSON"),
     ('__LEARNREG_BENCH__{"other": []}', "peak_mb"), (None, "string")],
)
def test_parse_probe_output_rejects_bad_text(text, match):
    with pytest.raises(ValueError, match=match):
        bench.parse_probe_output(text)


def test_notebook_record_uses_the_slowest_panels_median():
    panels = [{"panel": "a", "median_ms": 3.0}, {"panel": "b", "median_ms": 41.5}]
    rec = bench.notebook_record("03_rates", 12.3456, {"peak_mb": 300.04}, panels=panels)
    assert rec["widget_ms"] == 41.5 and rec["peak_mb"] == 300.0 and rec["seconds"] == 12.346
    assert rec["widget_panels"] == panels
    assert "widget_ms" not in bench.notebook_record("03_rates", 1.0, {"peak_mb": 1.0}, panels=[])


def test_bench_panels_times_every_panel_of_a_chapter():
    assert bench.chapter_module("03_rates") == "learnreg.figures.rates"
    assert bench.chapter_module("07_cnn_regularizers") == "learnreg.figures.cnn_regularizers"
    rows = bench.bench_panels("03_rates", n_updates=3)
    assert [r["panel"] for r in rows] == ["rates"]
    assert rows[0]["median_ms"] > 0 and rows[0]["updates"] == 3 and rows[0]["first_ms"] > 0
    assert bench.bench_panels("99_nothing") == []


def test_page_shows_every_budget_row_and_marks_misses():
    from docutils import nodes

    from learnreg.book import benchext

    data = _record(quick=False, machine={"cpus": 2, "platform": "Linux", "python": "3.11", "numpy": "2"},
                   adversarial=[{"adversary": "box", "exact_s": 0.01, "pgd_s": 0.3, "ratio": 30.0,
                                 "objective_gap": 1e-5}],
                   cnn=[{"name": "cnn 1D denoising (implicit)", "seconds": 2.0, "steps": 100}])
    out = benchext._render(data, Path("bench.json"))
    tables = [n for n in out if isinstance(n, nodes.table)]
    assert len(tables) == 5  # budgets, comparisons, SVD against n, CNN, notebooks
    budget_text = tables[0].astext()
    assert budget_text.count("MISS") == 3 and budget_text.count("pass") == 8
    assert "60 ×" in tables[1].astext()  # SVD: 3 s / 0.05 s, computed from the two times
    scaling = tables[2].astext()
    assert "16 ×" in scaling and "not run" in scaling  # 48 s / 3 s at n = 64; no dense SVD at 128
    text = " ".join(n.astext() for n in out if isinstance(n, nodes.paragraph))
    assert "blocked: time ∝ n^4.43 (fitted over n = 32, 64, 128)" in text
    assert "dense: time ∝ n^5.32 (fitted over n = 32, 64)" in text
    assert any(isinstance(n, nodes.strong) and n.astext() == "MISS" for n in tables[0].findall(nodes.strong))


def test_page_shows_the_gain_of_executing_two_notebooks_at_a_time():
    from docutils import nodes

    from learnreg.book import benchext

    data = _record(clean_build_s=200.0, clean_build_serial_s=300.0, parallel_build_gain=1.5,
                   clean_build_parts={"jobs_1": {"execute_s": 240.0, "sphinx_s": 60.0},
                                      "jobs_2": {"execute_s": 140.0, "sphinx_s": 60.0}})
    tables = [n for n in benchext._render(data, Path("bench.json")) if isinstance(n, nodes.table)]
    text = tables[1].astext()
    assert "two at a time" in text and "1.5 ×" in text and "notebooks 240 s + Sphinx 60 s" in text
    with pytest.raises(ValueError, match="parallel_build_gain"):
        validate_bench(_record(parallel_build_gain=-1.0))


def test_page_without_a_benchmark_says_how_to_make_one():
    from learnreg.book import benchext

    note = benchext._note(None).astext()
    assert "make bench" in note and "make book" in note
    assert "could not be used" in benchext._note("bad JSON").astext()


def test_text_table_shows_the_svd_scaling_and_the_blocks():
    from learnreg.operators import Radon
    from learnreg.symmetry import block_table

    blocks = block_table(Radon(8).svd(cache=False))
    text = bench.format_table(_record(radon_svd_blocks=blocks, radon_svd_blocks_n=8))
    assert "fitted growth (blocked, n >= 32): time ~ n^4.43" in text
    assert "fitted growth (dense, n >= 32): time ~ n^5.32" in text
    assert "   64          3         48     16.0        2.5         47       180" in text
    assert "E2     E         16     24      16  0.254" in text  # 16 of the 63 singular values of Radon(8)


def test_page_shows_the_block_table():
    from docutils import nodes

    from learnreg.book import benchext
    from learnreg.operators import Radon
    from learnreg.symmetry import block_table

    blocks = block_table(Radon(8).svd(cache=False))
    out = benchext._render(_record(radon_svd_blocks=blocks, radon_svd_blocks_n=8), Path("bench.json"))
    assert any(isinstance(n, nodes.rubric) and n.astext() == "Symmetry blocks of the Radon transform at 8² pixels"
               for n in out)
    table = [n for n in out if isinstance(n, nodes.table)][-2]  # before the notebooks
    assert "A1" in table.astext() and table.astext().count("E") >= 4
