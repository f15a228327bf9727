"""Sweeps: the same numbers serially, on local cores, and on a (local, in-process) Dask cluster."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from learnreg import sweeps
from learnreg.data import make_rng, spawn
from learnreg.sweeps import check_n_jobs, sweep


def _tikhonov_risk(delta, alpha, n, rng):
    """A small experiment: Monte-Carlo risk of Tikhonov on a diagonal model s_k = 1/k, with its own noise."""
    s = 1.0 / np.arange(1, n + 1)
    x = rng.standard_normal((200, n)) * s
    y = s * x + delta * rng.standard_normal((200, n))
    g = s / (s**2 + alpha)
    return {"delta": delta, "alpha": alpha, "risk": float(np.mean(np.sum((g * y - x) ** 2, axis=1))),
            "first_draw": x[0, 0]}


PARAMS = [{"delta": d, "alpha": a, "n": 64} for d in (1e-3, 1e-2, 1e-1) for a in (1e-4, 1e-2)]


def test_parallel_and_serial_results_are_identical_bit_for_bit():
    serial = sweep(_tikhonov_risk, PARAMS, make_rng(11))
    parallel = sweep(_tikhonov_risk, PARAMS, make_rng(11), n_jobs=2)
    all_cores = sweep(_tikhonov_risk, PARAMS, make_rng(11), n_jobs=-1)
    assert serial == parallel == all_cores  # floats compared exactly
    assert [(r["delta"], r["alpha"]) for r in serial] == [(p["delta"], p["alpha"]) for p in PARAMS]  # task order


def test_each_task_draws_from_its_own_spawned_generator():
    results = sweep(_tikhonov_risk, PARAMS, make_rng(11), n_jobs=2)
    children = spawn(make_rng(11), len(PARAMS))
    for r, p, g in zip(results, PARAMS, children):
        assert r == _tikhonov_risk(**p, rng=g)
    firsts = [r["first_draw"] for r in results]
    assert len(set(firsts)) == len(firsts)  # never a shared stream
    other = sweep(_tikhonov_risk, PARAMS, make_rng(12))
    assert all(a["risk"] != b["risk"] for a, b in zip(results, other))


def test_a_second_sweep_from_the_same_generator_draws_new_streams():
    rng = make_rng(3)
    first = sweep(_tikhonov_risk, PARAMS[:2], rng)
    second = sweep(_tikhonov_risk, PARAMS[:2], rng)
    assert first[0]["first_draw"] != second[0]["first_draw"]


def _risk_on_worker(rng, **params):
    """The experiment, plus the address of the Dask worker that ran it (ValueError outside a worker)."""
    from distributed import get_worker

    return _tikhonov_risk(**params, rng=rng), get_worker().address


def test_the_dask_backend_on_a_local_cluster_gives_the_same_results():
    joblib = pytest.importorskip("joblib")
    distributed = pytest.importorskip("distributed")
    serial = sweep(_tikhonov_risk, PARAMS, make_rng(11))
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        workers = set(client.scheduler_info()["workers"])
        with joblib.parallel_config(backend="dask"):
            on_cluster = sweep(_risk_on_worker, PARAMS, make_rng(11), n_jobs=-1)
    assert [r for r, _ in on_cluster] == serial
    assert {addr for _, addr in on_cluster} <= workers  # every task ran on the cluster's workers


@pytest.mark.parametrize("n_jobs", [0, 1.5, 2.0, "2", True, False, [2]])
def test_bad_n_jobs_is_named(n_jobs):
    with pytest.raises(ValueError, match="n_jobs"):
        sweep(_tikhonov_risk, PARAMS, make_rng(0), n_jobs=n_jobs)
    with pytest.raises(ValueError, match="n_jobs"):
        check_n_jobs(n_jobs)


@pytest.mark.parametrize("n_jobs, expected", [(None, None), (1, 1), (-1, -1), (4, 4), (np.int64(2), 2)])
def test_good_n_jobs(n_jobs, expected):
    assert check_n_jobs(n_jobs) == expected


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sweep(42, PARAMS, make_rng(0)), "experiment"),
        (lambda: sweep(_tikhonov_risk, {"delta": 1.0}, make_rng(0)), "params must be a sequence"),
        (lambda: sweep(_tikhonov_risk, [1, 2], make_rng(0)), r"params\[0\]"),
        (lambda: sweep(_tikhonov_risk, [{"rng": 1}], make_rng(0)), "must not contain 'rng'"),
        (lambda: sweep(_tikhonov_risk, PARAMS, 0), "rng"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_an_empty_sweep_returns_an_empty_list():
    assert sweep(_tikhonov_risk, [], make_rng(0), n_jobs=2) == []


def test_the_docstring_example_runs():
    result = doctest.testmod(sweeps, raise_on_error=False, verbose=False)
    assert result.attempted >= 5 and result.failed == 0
