"""Determinism: same numbers every time.

* The SVD sign convention: singular vectors do not flip between computations,
  between the cache and a fresh computation, or between LAPACK drivers.
* The SVD cache under concurrency: several processes building the same entry at
  once leave one valid entry and all get the same arrays; a parameter change
  never reuses an entry.
* A notebook executed twice gives identical text outputs (after the same
  sanitising as nbval). The full ``pytest --nbval`` run re-executes every
  notebook against its stored outputs; here the cheapest notebook is run twice
  in a row, independently of the stored outputs.
"""

from __future__ import annotations

import configparser
import multiprocessing as mp
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from learnreg.cache import CacheWarning, cached_arrays
from learnreg.data import make_rng
from learnreg.operators import Integration, Radon, _canonicalize, _fix_signs

ROOT = Path(__file__).resolve().parents[1]

#: The cheapest notebook (measured with scripts/bench.py); executed twice by the last test.
CHEAP_NOTEBOOK = ROOT / "notebooks" / "02_learned_spectral.ipynb"


# ---------------------------------------------------------------------------
# SVD sign convention
# ---------------------------------------------------------------------------


def _first_significant_entries(U):
    mag = np.abs(U)
    first = np.argmax(mag >= 1e-3 * mag.max(axis=0, keepdims=True), axis=0)
    return U[first, np.arange(U.shape[1])]


@pytest.mark.parametrize("op", [Integration(48), Radon(10)], ids=["integration", "radon"])
def test_sign_convention_holds_and_v_follows_u(op):
    S = op.svd(method="numerical", cache=False)
    assert np.all(_first_significant_entries(S.U) > 0)
    # v_k = A u_k / s_k, so the pair (u_k, v_k) flips together
    np.testing.assert_allclose(op.apply(S.U.T).T / S.s, S.V, atol=1e-10 * np.abs(S.V).max())


def test_sign_convention_undoes_any_flip():
    """Whatever signs a LAPACK build returns, the convention maps them to the same vectors, bit for bit."""
    S = Radon(10).svd(method="numerical", cache=False)
    flips = make_rng(7).choice([-1.0, 1.0], size=S.rank)
    U, V = _fix_signs(S.U * flips, S.V * flips)
    assert np.array_equal(U, S.U) and np.array_equal(V, S.V)


def test_two_computations_give_identical_singular_vectors():
    first = Radon(12).svd(cache=False)
    second = Radon(12).svd(cache=False)  # a fresh operator: nothing memoised
    for a in "sUV":
        np.testing.assert_allclose(getattr(first, a), getattr(second, a), rtol=0, atol=1e-12)


def test_cache_and_fresh_computation_are_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path))
    stored = Radon(12).svd()                         # computed and written
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        loaded = Radon(12).svd()                     # read back and verified
    fresh = Radon(12).svd(cache=False)
    assert len(list(tmp_path.glob("radon-*.npz"))) == 1
    for a in "sUV":
        assert np.array_equal(getattr(loaded, a), getattr(stored, a))
        np.testing.assert_allclose(getattr(loaded, a), getattr(fresh, a), rtol=0, atol=1e-12)


def _svd_other_driver(op):
    """The weighted SVD through LAPACK's gesvd instead of numpy's gesdd, then the book's sign convention."""
    sx, sy = np.sqrt(op.weights_x), np.sqrt(op.weights_y)
    Vt, s, Wt = scipy.linalg.svd((sy[:, None] * op.matrix) / sx[None, :], full_matrices=False,
                                 lapack_driver="gesvd")
    r = op.svd(method="numerical", cache=False).rank
    return s[:r], *_canonicalize(s[:r], Wt[:r].T / sx[:, None], Vt[:, :r] / sy[:, None], op.weights_x)


def test_another_lapack_driver_gives_the_same_vectors_for_distinct_singular_values():
    """A stand-in for another machine: gesvd instead of gesdd. Integration has distinct s_k."""
    op = Integration(64)
    s, U, V = _svd_other_driver(op)
    S = op.svd(method="numerical", cache=False)
    np.testing.assert_allclose(s, S.s, rtol=1e-12)
    np.testing.assert_allclose(U, S.U, atol=1e-9 * np.abs(S.U).max())
    np.testing.assert_allclose(V, S.V, atol=1e-9 * np.abs(S.V).max())
    # and with the closed form, an entirely different computation
    C = op.svd(method="closed_form")
    np.testing.assert_allclose(C.U, S.U, atol=1e-9 * np.abs(S.U).max())


def _clusters(s, rtol=1e-8):
    """Groups of indices of (numerically) equal singular values."""
    groups, start = [], 0
    for i in range(1, s.size + 1):
        if i == s.size or abs(s[i] - s[i - 1]) > rtol * s[0]:
            groups.append(np.arange(start, i))
            start = i
    return groups


def test_radon_singular_subspaces_agree_across_lapack_drivers():
    """What the SVD determines, the subspace of each cluster of equal s_k, agrees across drivers."""
    op = Radon(12)
    s, U, _ = _svd_other_driver(op)
    S = op.svd(method="numerical", cache=False)
    w = op.weights_x
    for idx in _clusters(S.s):
        P1 = S.U[:, idx] @ (S.U[:, idx].T * w)
        P2 = U[:, idx] @ (U[:, idx].T * w)
        assert np.abs(P1 - P2).max() < 1e-7, f"cluster {idx.tolist()}"


def test_radon_singular_vectors_agree_across_lapack_drivers():
    """Radon has exactly repeated s_k (quarter-turn symmetry); the canonical basis of each
    repeated singular value makes the vectors independent of the LAPACK routine."""
    op = Radon(12)
    _, U, _ = _svd_other_driver(op)
    S = op.svd(method="numerical", cache=False)
    np.testing.assert_allclose(U, S.U, atol=1e-6 * np.abs(S.U).max())


# ---------------------------------------------------------------------------
# the cache under concurrent processes
# ---------------------------------------------------------------------------


def _cache_worker(directory, barrier, queue):
    import time

    def compute():
        time.sleep(0.2)  # keep the writers overlapping
        return {"x": np.arange(400_000, dtype=float), "y": np.eye(50)}

    barrier.wait()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheWarning)  # a torn or foreign file would warn
            out = cached_arrays({"name": "race", "n": 400_000}, compute, directory=directory)
        queue.put(("ok", float(out["x"].sum()), float(out["y"].trace())))
    except Exception as exc:  # pragma: no cover - reported by the test
        queue.put(("error", repr(exc), 0.0))


def test_processes_building_the_same_entry_at_once_leave_one_valid_entry(tmp_path):
    ctx = mp.get_context("spawn")
    n = 4
    barrier, queue = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_cache_worker, args=(str(tmp_path), barrier, queue)) for _ in range(n)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in range(n)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    expected = float(np.arange(400_000, dtype=float).sum())
    assert all(r == ("ok", expected, 50.0) for r in results), results
    assert not list(tmp_path.glob("*.tmp")), "a temporary file was left behind"
    assert len(list(tmp_path.glob("*.npz"))) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        out = cached_arrays({"name": "race", "n": 400_000}, lambda: pytest.fail("must be read from the cache"),
                            directory=tmp_path)
    assert float(out["x"].sum()) == expected


def test_operator_parameter_change_never_reuses_an_svd(tmp_path, monkeypatch):
    """Entries written for other parameters are in the same folder; each load matches its own parameters."""
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path))
    variants = [{}, {"n_angles": 5}, {"n_detectors": 9}, {"n_angles": 5, "n_detectors": 9}]
    for kw in variants:
        Radon(8, **kw).svd()
    assert len(list(tmp_path.glob("radon-*.npz"))) == len(variants)
    for kw in variants:
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheWarning)
            loaded = Radon(8, **kw).svd()
        fresh = Radon(8, **kw).svd(cache=False)
        assert loaded.V.shape == fresh.V.shape
        np.testing.assert_allclose(loaded.s, fresh.s, rtol=1e-12)


# ---------------------------------------------------------------------------
# a notebook executed twice
# ---------------------------------------------------------------------------

_TEXT_MIME = ("text/plain", "text/html", "text/latex", "text/markdown")


def _sanitizers():
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def _text_outputs(nb, sanitizers):
    """Sanitised text outputs of every cell that nbval compares."""
    texts = []
    for i, cell in enumerate(nb.cells):
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or tags & {"nbval-ignore-output", "nbval-skip"}:
            continue
        for out in cell.get("outputs", []):
            parts = [out.get("text", "")] if out.get("output_type") == "stream" else [
                out.get("data", {}).get(m, "") for m in _TEXT_MIME]
            if out.get("output_type") == "error":
                parts = [out.get("ename", ""), out.get("evalue", "")]
            for text in parts:
                text = "".join(text) if isinstance(text, list) else text
                for rx, rep in sanitizers:
                    text = rx.sub(rep, text)
                texts.append((i, out.get("output_type"), text))
    return texts


def test_cheapest_notebook_twice_gives_identical_text_outputs(tmp_path, monkeypatch):
    pytest.importorskip("nbclient")
    from learnreg.book.execution import book_timeout, execute_notebooks

    monkeypatch.setenv("LEARNREG_CLAIMS_DIR", str(tmp_path / "claims"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    sanitizers = _sanitizers()
    runs = []
    for _ in range(2):
        (result,) = execute_notebooks([CHEAP_NOTEBOOK], timeout=book_timeout(ROOT))   # as `make book` runs it
        assert result.ok, result.error
        runs.append(_text_outputs(result.nb, sanitizers))
    assert len(runs[0]) > 10, "the notebook should print its key numbers"
    for a, b in zip(runs[0], runs[1]):
        assert a == b, f"cell {a[0]} differs between two executions"
    assert len(runs[0]) == len(runs[1])
