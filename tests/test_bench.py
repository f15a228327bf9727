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
        "svd_compute_s": 30.0,
        "svd_load_s": 0.5,
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
            "interactive panel": ["widget_ms"]}
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
    assert len(rows) == 2 + 3 + 2


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


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf, "12 s", True, [1.0]])
def test_numbers_must_be_finite_non_negative_or_null(value):
    with pytest.raises(ValueError, match="cached_build_s"):
        validate_bench(_record(cached_build_s=value))


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
    text = "some noise\n" + bench.PROBE_MARK + json.dumps({"peak_mb": 512.5, "controls": []}) + "\nmore noise\n"
    assert bench.parse_probe_output(text) == {"peak_mb": 512.5, "controls": []}


@pytest.mark.parametrize(
    "text, match",
    [("nothing here", "no benchmark probe line"), ("__LEARNREG_BENCH__{oops", "not valid JSON"),
     ('__LEARNREG_BENCH__{"controls": []}', "peak_mb"), (None, "string")],
)
def test_parse_probe_output_rejects_bad_text(text, match):
    with pytest.raises(ValueError, match=match):
        bench.parse_probe_output(text)


def test_notebook_record_uses_the_slowest_controls_median():
    probe = {"peak_mb": 300.04, "controls": [{"control": "a", "median_ms": 3.0}, {"control": "b", "median_ms": 41.5}]}
    rec = bench.notebook_record("02_learned_spectral", 12.3456, probe)
    assert rec["widget_ms"] == 41.5 and rec["peak_mb"] == 300.0 and rec["seconds"] == 12.346
    assert "widget_ms" not in bench.notebook_record("03_rates", 1.0, {"peak_mb": 1.0, "controls": []})
    validate_bench(_record(notebooks=[rec]))


def test_toc_notebooks_lists_existing_notebooks_in_order():
    names = bench.toc_notebooks(ROOT / "_toc.yml")
    assert names == sorted(names) and names
    for name in names:
        assert (ROOT / "notebooks" / f"{name}.ipynb").is_file()


def test_the_probe_times_controls_with_callbacks_and_restores_them():
    """The widget convention: a control with an attached callback is moved through its range and timed."""
    widgets = pytest.importorskip("ipywidgets")
    seen = []
    slider = widgets.IntSlider(value=6, min=0, max=40, step=2, description="k")
    dropdown = widgets.Dropdown(options=[("one", 1), ("two", 2), ("three", 3)], value=2, description="n")
    idle = widgets.FloatSlider(value=0.5, min=0, max=1, description="unused")  # no callback: not timed
    widgets.interactive_output(lambda k, n: seen.append((k, n)), {"k": slider, "n": dropdown})
    seen.clear()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(bench.PROBE, {})
    probe = bench.parse_probe_output(buf.getvalue())
    timed = {c["control"]: c for c in probe["controls"]}
    assert "IntSlider k" in timed and "Dropdown n" in timed
    assert not any(name.endswith("unused") for name in timed)
    assert timed["IntSlider k"]["updates"] >= 10          # 12 values over [0, 40] on the step grid, minus the current
    assert timed["Dropdown n"]["updates"] == 3            # from 2: to 1, back to 2, to 3
    ks = {k for k, _ in seen}
    assert ks <= set(range(0, 41, 2)) and 0 in ks and 40 in ks
    assert slider.value == 6 and dropdown.value == 2 and idle.value == 0.5
    assert probe["peak_mb"] > 10
    for w in (slider, dropdown, idle):
        w.close()


# -- the book page ---------------------------------------------------------------------------


def test_page_shows_every_budget_row_and_marks_misses():
    from docutils import nodes

    from learnreg.book import benchext

    data = _record(quick=False, machine={"cpus": 2, "platform": "Linux", "python": "3.11", "numpy": "2"},
                   adversarial=[{"adversary": "box", "exact_s": 0.01, "pgd_s": 0.3, "ratio": 30.0,
                                 "objective_gap": 1e-5}],
                   cnn=[{"name": "cnn 1D denoising (implicit)", "seconds": 2.0, "steps": 100}])
    out = benchext._render(data, Path("bench.json"))
    tables = [n for n in out if isinstance(n, nodes.table)]
    assert len(tables) == 4  # budgets, comparisons, CNN, notebooks
    budget_text = tables[0].astext()
    assert budget_text.count("MISS") == 2 and budget_text.count("pass") == 5
    assert "60 ×" in tables[1].astext()  # SVD: 30 s / 0.5 s, computed from the two times
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
