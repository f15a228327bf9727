"""The claims ledger: checks, storage, and the failure modes it must report."""

from __future__ import annotations

import json
import math

import pytest

from learnreg.book.claims import Check, ClaimLedger, check_claims, claims_dir, load_claims


@pytest.mark.parametrize(
    "kind,measured,expected,tol,ok",
    [
        ("abs", 1.04, 1.0, 0.05, True),
        ("abs", 1.06, 1.0, 0.05, False),
        ("rel", 2.09, 2.0, 0.05, True),
        ("rel", 2.11, 2.0, 0.05, False),
        ("max", 0.9, 1.0, 0.0, True),
        ("max", 1.1, 1.0, 0.0, False),
        ("max", 1.1, 1.0, 0.2, True),
        ("min", 0.995, 0.99, 0.0, True),
        ("min", 0.98, 0.99, 0.0, False),
        ("abs", math.nan, 1.0, 10.0, False),
        ("min", math.inf, 1.0, 0.0, False),
    ],
)
def test_relations(tmp_path, kind, measured, expected, tol, ok):
    ledger = ClaimLedger(chapter=1, notebook="nb", directory=tmp_path)
    claim = ledger.record("c-1", "a claim", measured, expected, tol, kind=kind)
    assert claim.passed is ok
    assert ("PASS" if ok else "FAIL") in repr(claim)


def test_records_are_written_and_a_new_ledger_starts_afresh(tmp_path):
    ledger = ClaimLedger(chapter=2, notebook="02_x", directory=tmp_path)
    assert json.loads((tmp_path / "02_x.json").read_text()) == []
    ledger.record("ch2-a", "first", 1.0, 1.0, 0.0)
    ledger.record("ch2-b", "second", float("nan"), 1.0, 0.0)
    records = load_claims(tmp_path)
    assert [r["id"] for r in records] == ["ch2-a", "ch2-b"]
    assert records[1]["measured"] == "nan" and records[1]["passed"] is False
    assert [r["id"] for r in check_claims(records)] == ["ch2-b"]
    # a new ledger for the same notebook starts from scratch (a re-executed notebook)
    ClaimLedger(chapter=2, notebook="02_x", directory=tmp_path)
    assert load_claims(tmp_path) == []


def test_a_claim_is_recorded_once(tmp_path):
    """Recording an id again would let a passing claim replace a failed one without a trace."""
    ledger = ClaimLedger(chapter=2, notebook="02_x", directory=tmp_path)
    ledger.record("ch2-a", "first", 2.0, 1.0, 0.0)  # fails
    with pytest.raises(ValueError, match="already recorded"):
        ledger.record("ch2-a", "first, again", 1.0, 1.0, 0.0)
    (r,) = load_claims(tmp_path)
    assert r["passed"] is False and r["statement"] == "first"


def test_expectations_may_fail_without_failing_the_ledger(tmp_path):
    ledger = ClaimLedger(chapter=7, notebook="07_x", directory=tmp_path)
    held = ledger.record(Check("ch7-a", "ratio at most 1.05", 1.01, 1.05, kind="max", type="expectation"))
    not_held = ledger.record(Check("ch7-b", "ratio at most 1.05", 1.052, 1.05, kind="max", type="expectation"))
    theory = ledger.record(Check("ch7-c", "a slope", 0.9, 1.0, 0.05))
    assert held.status == "held" and not_held.status == "not held" and theory.status == "fail"
    assert "NOT HELD" in repr(not_held) and "expectation" in not_held._repr_html_()
    records = load_claims(tmp_path)
    assert [r["type"] for r in records] == ["expectation", "expectation", "theory"]
    assert [r["id"] for r in check_claims(records)] == ["ch7-c"]  # only the theory claim fails the run
    assert ledger.summary() == "chapter 7: 0 of 1 theory claims pass; 1 of 2 expectations held"


def test_verdict_only_claims_show_no_rounding_digits(tmp_path):
    ledger = ClaimLedger(chapter=1, notebook="nb", directory=tmp_path)
    c = ledger.record(Check("ch1-dot", "dot test", 4.155e-17, 0.0, 1e-12, kind="max", verdict_only=True))
    assert c.passed and c.to_record()["measured"] is None
    assert "4.155" not in repr(c) and "4.155" not in c._repr_html_() and "below 1e-12" in repr(c)
    bad = ledger.record(Check("ch1-dot2", "dot test", 1e-9, 0.0, 1e-12, kind="max", verdict_only=True))
    assert not bad.passed and "above the bound" in repr(bad)


def test_record_all_returns_one_displayable_block(tmp_path):
    ledger = ClaimLedger(chapter=1, notebook="nb", directory=tmp_path)
    block = ledger.record_all([Check("a-1", "s", 1, 1), Check("a-2", "t $x^2$", 1, 1)])
    assert [c.id for c in block] == ["a-1", "a-2"]
    assert block._repr_html_().count('class="learnreg-claim') == 2
    assert r"\(x^2\)" in block._repr_html_()
    for bad in ([1, 2], Check("a-3", "s", 1, 1), None):
        with pytest.raises(ValueError):
            ledger.record_all(bad)


@pytest.mark.parametrize("records", [
    [{"id": "a", "chapter": 1, "notebook": "n", "statement": "s", "kind": "abs", "type": "theory", "passed": "no"}],
    [{"id": "a", "chapter": 1, "notebook": "n", "statement": "s", "kind": "abs", "passed": True}],
    [{"id": "a\n", "chapter": 1, "notebook": "n", "statement": "s", "kind": "abs", "type": "theory", "passed": True}],
    [{"id": "a", "chapter": True, "notebook": "n", "statement": "s", "kind": "abs", "type": "theory", "passed": True}],
    ["not a record"],
])
def test_malformed_records_are_refused(tmp_path, records):
    with pytest.raises(ValueError):
        check_claims(records)
    (tmp_path / "x.json").write_text(json.dumps(records))
    with pytest.raises(ValueError):
        load_claims(tmp_path)


@pytest.mark.parametrize("content", ["{not json", "{}", "\xff\xfe"])
def test_malformed_claims_files_are_refused(tmp_path, content):
    (tmp_path / "x.json").write_bytes(content.encode("latin-1"))
    with pytest.raises(ValueError):
        load_claims(tmp_path)


@pytest.mark.parametrize("directory", ["", "  ", 3, None])
def test_a_claims_folder_must_be_a_path(tmp_path, directory):
    with pytest.raises(ValueError):
        load_claims(directory)
    if directory is not None:
        with pytest.raises(ValueError):
            ClaimLedger(chapter=1, notebook="nb", directory=directory)


def test_required_fields(tmp_path):
    ledger = ClaimLedger(chapter=3, notebook="03_x", directory=tmp_path)
    ledger.record("ch3-a", "s", 0.5, 0.5, 0.01, kind="abs", figure="fig-rates")
    (r,) = load_claims(tmp_path)
    for field in ("id", "chapter", "statement", "measured", "expected", "tolerance", "passed"):
        assert field in r
    assert isinstance(r["chapter"], int) and isinstance(r["passed"], bool)


def test_duplicate_ids_across_notebooks_are_rejected(tmp_path):
    ClaimLedger(chapter=1, notebook="a", directory=tmp_path).record("same", "s", 1, 1)
    ClaimLedger(chapter=2, notebook="b", directory=tmp_path).record("same", "s", 1, 1)
    with pytest.raises(ValueError, match="not unique"):
        load_claims(tmp_path)


def test_html_output_carries_the_anchor(tmp_path):
    claim = ClaimLedger(chapter=1, notebook="a", directory=tmp_path).record("ch1-x", "s <b>", 1, 1)
    html = claim._repr_html_()
    assert 'id="claim-ch1-x"' in html and "&lt;b&gt;" in html


def test_claims_dir_finds_the_book_root(tmp_path, monkeypatch):
    monkeypatch.delenv("LEARNREG_CLAIMS_DIR", raising=False)
    (tmp_path / "_config.yml").write_text("")
    (tmp_path / "_toc.yml").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert claims_dir() == tmp_path.resolve() / "_build" / "claims"
    monkeypatch.setenv("LEARNREG_CLAIMS_DIR", str(tmp_path / "elsewhere"))
    assert claims_dir() == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(id="Bad Id", statement="s", measured=1, expected=1),
        dict(id="ok", statement="", measured=1, expected=1),
        dict(id="ok", statement="s", measured="one", expected=1),
        dict(id="ok", statement="s", measured=1, expected=float("nan")),
        dict(id="ok", statement="s", measured=1, expected=1, tolerance=-1),
        dict(id="ok", statement="s", measured=1, expected=1, kind="approx"),
        dict(id="ok", statement="s", measured=True, expected=1),
        dict(id="ok", statement="s", measured="1.0", expected=1),
        dict(id="ok\n", statement="s", measured=1, expected=1),
        dict(id="ok", statement="s", measured=1, expected=1, type="hope"),
        dict(id="ok", statement="costs $5", measured=1, expected=1),
        dict(id="ok", statement="s", measured=1, expected=1, verdict_only="no"),
        dict(id="ok", statement="s", measured=1, expected=1, figure="a figure"),
        dict(id="ok", statement="s", measured=1, expected=1, unknown=2),
    ],
)
def test_bad_input_raises_value_error(tmp_path, kwargs):
    ledger = ClaimLedger(chapter=1, notebook="nb", directory=tmp_path)
    with pytest.raises(ValueError):
        ledger.record(**kwargs)


@pytest.mark.parametrize("chapter,notebook", [(-1, "nb"), (1.5, "nb"), (1, "../escape"), (1, "")])
def test_bad_ledger_arguments(tmp_path, chapter, notebook):
    with pytest.raises(ValueError):
        ClaimLedger(chapter=chapter, notebook=notebook, directory=tmp_path)


def test_sphinx_extension_collects_claims_from_rendered_html(tmp_path):
    """The ledger is read from the claims' HTML as the pages show it, failures included."""
    from types import SimpleNamespace

    from docutils import nodes

    from learnreg.book import sphinxext

    ledger = ClaimLedger(chapter=3, notebook="03_x", directory=tmp_path)
    good = ledger.record("ch3-a", 'quotes " and <tags>', 0.5, 0.5, 0.01)
    bad = ledger.record("ch3-b", "fails", float("nan"), 1.0, 0.1)
    doc = nodes.document(None, None)
    doc += nodes.raw("", good._repr_html_(), format="html")
    doc += nodes.raw("", "<p>unrelated</p>" + bad._repr_html_(), format="html")
    doc += nodes.raw("", good._repr_html_(), format="latex")  # ignored: not HTML
    env = SimpleNamespace(docname="notebooks/03_x")
    sphinxext._collect(SimpleNamespace(env=env), doc)
    records = sphinxext._records(env)
    assert [r["id"] for r in records] == ["ch3-a", "ch3-b"]
    assert records[0]["statement"] == 'quotes " and <tags>' and records[0]["passed"] is True
    assert records[1]["passed"] is False and records[1]["measured"] == "nan"
    assert all(r["docname"] == "notebooks/03_x" for r in records)
    # re-reading the page without claims removes them
    sphinxext._collect(SimpleNamespace(env=env), nodes.document(None, None))
    assert sphinxext._records(env) == []


def test_records_round_noise_digits_but_keep_the_full_precision_verdict(tmp_path):
    ledger = ClaimLedger(chapter=1, notebook="nb", directory=tmp_path)
    a = ledger.record("c-a", "s", 0.1 + 0.2, 0.3, 0.0, kind="max")  # 0.30000000000000004 > 0.3
    assert a.passed is False
    assert a.to_record()["measured"] == 0.3 and a.to_record()["passed"] is False
    b = ledger.record("c-b", "s", 1 / 3, 0.0, 1.0, kind="max")
    assert b.to_record()["measured"] == 0.333333
    assert 'data-claim="' in b._repr_html_() and "0.333333," in b._repr_html_()
