"""Tests of learnreg.spectral: closed forms against brute force, identities, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from learnreg.data import gaussian_random_field, make_rng, white_noise
from learnreg.operators import Integration
from learnreg.spectral import (
    apply_filter,
    empirical_filter,
    empirical_risk,
    mse_filter,
    optimal_risk,
    pseudo_inverse_filter,
    regularization_parameters,
    risk,
    sample_coefficients,
    tikhonov_bound,
    tikhonov_filter,
)


def _moments(r=30, b=2.0, delta=0.05):
    k = np.arange(1, r + 1, dtype=float)
    return k**-1.0, k**-b, np.full(r, delta**2)


def test_mse_filter_matches_brute_force_minimisation_of_the_risk():
    s, Pi, Delta = _moments()
    g = mse_filter(s, Pi, Delta)
    for k in range(s.size):
        f = lambda gk: (1 - s[k] * gk) ** 2 * Pi[k] + gk**2 * Delta[k]
        res = minimize_scalar(f, bracket=(0.0, 1.0 / s[k]), tol=1e-14)
        assert g[k] == pytest.approx(res.x, rel=1e-6, abs=1e-12)
    # and no perturbation lowers the total risk
    base = risk(s, g, Pi, Delta).total
    rng = make_rng(1)
    for _ in range(20):
        assert risk(s, g + 1e-3 * rng.standard_normal(s.size), Pi, Delta).total > base


def test_optimal_risk_is_the_risk_of_the_mse_filter():
    s, Pi, Delta = _moments()
    g = mse_filter(s, Pi, Delta)
    assert optimal_risk(s, Pi, Delta) == pytest.approx(risk(s, g, Pi, Delta).total, rel=1e-12)


def test_risk_decomposition_matches_monte_carlo_on_grid_samples():
    op = Integration(64)
    svd = op.svd()
    rng = make_rng(3)
    k = np.arange(1, svd.rank + 1)
    Pi, delta = k**-2.0, 0.03
    g = tikhonov_filter(svd.s, 1e-3)
    X = gaussian_random_field(svd.U, Pi, 20000, rng)
    Y = op.apply(X) + white_noise(op.weights_y, delta, 20000, rng)
    err = op.norm_x(apply_filter(svd, g, Y) - X) ** 2
    exact = risk(svd.s, g, Pi, delta**2).total
    se = err.std() / np.sqrt(err.size)
    assert abs(err.mean() - exact) < 4 * se


def test_empirical_filter_matches_numpy_least_squares_per_k():
    rng = make_rng(0)
    cx, cy = sample_coefficients(*_moments(r=8), 50, rng)
    g = empirical_filter(cx, cy)
    for k in range(8):
        ref = np.linalg.lstsq(cy[:, k : k + 1], cx[:, k], rcond=None)[0][0]
        assert g[k] == pytest.approx(ref, rel=1e-12)
    # it minimises the empirical risk
    base = empirical_risk(g, cx, cy)
    for _ in range(10):
        assert empirical_risk(g + 1e-4 * rng.standard_normal(8), cx, cy) > base


def test_empirical_risk_equals_mean_reconstruction_error():
    op = Integration(32)
    svd = op.svd()
    rng = make_rng(2)
    X = gaussian_random_field(svd.U, np.arange(1, 33) ** -2.0, 10, rng)
    Y = op.apply(X) + white_noise(op.weights_y, 0.1, 10, rng)
    g = mse_filter(svd.s, np.arange(1, 33) ** -2.0, 0.01)
    direct = np.mean(op.norm_x(apply_filter(svd, g, Y) - X) ** 2)
    assert empirical_risk(g, svd.coefficients_x(X), svd.coefficients_y(Y)) == pytest.approx(direct, rel=1e-10)


def test_empirical_excess_risk_is_optimal_risk_over_k_minus_2():
    # For Gaussian data E[excess risk of the ERM] = R*/(K-2) exactly.
    s, Pi, Delta = _moments(r=20)
    rng = make_rng(5)
    K, M = 12, 4000
    rstar = optimal_risk(s, Pi, Delta)
    ex = np.empty(M)
    for m in range(M):
        g = empirical_filter(*sample_coefficients(s, Pi, Delta, K, rng))
        ex[m] = risk(s, g, Pi, Delta).total - rstar
    assert abs(ex.mean() - rstar / (K - 2)) < 4 * ex.std() / np.sqrt(M)


def test_sample_coefficients_moments():
    s, Pi, Delta = _moments(r=5)
    cx, cy = sample_coefficients(s, Pi, Delta, 200000, make_rng(7))
    np.testing.assert_allclose(np.mean(cx**2, axis=0), Pi, rtol=0.02)
    np.testing.assert_allclose(np.mean(cy**2, axis=0), s**2 * Pi + Delta, rtol=0.02)


def test_regularization_parameters_explain_mse_filter():
    s, Pi, Delta = _moments()
    alpha = regularization_parameters(s, mse_filter(s, Pi, Delta))
    np.testing.assert_allclose(alpha, Delta / Pi, rtol=1e-10)
    np.testing.assert_allclose(tikhonov_filter(s, alpha), mse_filter(s, Pi, Delta), rtol=1e-12)


def test_tikhonov_bound_holds_for_every_singular_value():
    _, Pi, Delta = _moments()
    for s in np.logspace(-6, 2, 50):
        g = mse_filter(np.full(Pi.size, s), Pi, Delta)
        assert np.all(g <= tikhonov_bound(Pi, Delta) * (1 + 1e-12))
    # attained at s^2 Pi = Delta
    sk = np.sqrt(Delta / Pi)
    np.testing.assert_allclose(mse_filter(sk, Pi, Delta), tikhonov_bound(Pi, Delta), rtol=1e-12)


def test_pseudo_inverse_filter_inverts():
    s = np.array([2.0, 0.5])
    np.testing.assert_allclose(pseudo_inverse_filter(s) * s, 1.0)


@pytest.mark.parametrize(
    "args,match",
    [
        (([1.0, 0.5], [1.0], [0.1, 0.1]), "Pi must have one entry per singular value"),
        (([1.0, 0.5], [1.0, 1.0], [0.1, 0.1, 0.1]), "Delta must have one entry per singular value"),
        (([1.0, 0.5], [1.0, -1.0], [0.1, 0.1]), "Pi must be non-negative"),
        (([1.0, 0.5], [1.0, 1.0], [0.1, np.nan]), "Delta must contain only finite"),
        (([1.0, 0.5], [1.0, np.inf], [0.1, 0.1]), "Pi must contain only finite"),
        (([1.0, 0.0], [1.0, 1.0], [0.1, 0.1]), "s must be strictly positive"),
    ],
)
def test_bad_moments_raise(args, match):
    with pytest.raises(ValueError, match=match):
        mse_filter(*args)
    with pytest.raises(ValueError, match=match):
        optimal_risk(*args)


def test_bad_input_other_functions():
    with pytest.raises(ValueError, match="g must have the same length"):
        risk([1.0, 0.5], [1.0], [1.0, 1.0], [0.1, 0.1])
    with pytest.raises(ValueError, match="cx and cy must have the same shape"):
        empirical_risk([1.0], np.ones((3, 1)), np.ones((4, 1)))
    with pytest.raises(ValueError, match="g must have one entry"):
        empirical_risk([1.0, 2.0], np.ones((3, 1)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="rng must be"):
        sample_coefficients([1.0], [1.0], [1.0], 3, rng=np.random)
    with pytest.raises(ValueError, match="Pi and Delta must have the same length"):
        tikhonov_bound([1.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="g must be non-negative"):
        regularization_parameters([1.0], [-1.0])


def test_resolution_stability_pinv_error_is_eps_over_smin_and_mse_is_bounded():
    from learnreg.spectral import resolution_stability

    rng = make_rng(8)
    out = []
    for n in (32, 128):
        op = Integration(n)
        svd = op.svd()
        Pi = np.arange(1, n + 1) ** -2.0
        Xtr = gaussian_random_field(svd.U, Pi, 300, rng)
        Xte = gaussian_random_field(svd.U, Pi, 50, rng)
        r = resolution_stability(op, Xtr, Xte, delta=1e-2, eps=1e-2, alpha=1e-3, rng=rng)
        # A^+ reconstructs Ax exactly (A injective), so the error is exactly eps/s_min
        assert r.errors["pseudo-inverse"] == pytest.approx(1e-2 / r.s_min, rel=1e-8)
        assert r.clean_errors["pseudo-inverse"] < 1e-9
        assert r.g_last["tikhonov"] == pytest.approx(r.s_min / (r.s_min**2 + 1e-3))
        out.append(r)
    assert out[1].errors["pseudo-inverse"] / out[0].errors["pseudo-inverse"] == pytest.approx(
        out[0].s_min / out[1].s_min, rel=1e-8
    )
    assert out[1].errors["mse"] < 1.2 * out[0].errors["mse"]
    with pytest.raises(ValueError, match="eps must be positive"):
        resolution_stability(Integration(8), np.ones((2, 8)), np.ones((2, 8)), delta=0.1, eps=0.0,
                             alpha=1.0, rng=rng)
    with pytest.raises(ValueError, match="op must be"):
        resolution_stability("A", np.ones((2, 8)), np.ones((2, 8)), delta=0.1, eps=0.1, alpha=1.0, rng=rng)
