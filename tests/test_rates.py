"""Tests of learnreg.rates: the error against a direct sum, slopes against theory, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from learnreg.data import make_rng
from learnreg.rates import (
    fit_rate,
    model_errors,
    model_filter,
    noise_rate_exponent,
    power_law_model,
    power_noise,
    rate_exponent,
    sampled_rate_errors,
)
from learnreg.spectral import mse_filter, optimal_risk, risk, sample_coefficients


def test_model_errors_equal_a_direct_sum():
    a, b, c, p, q, n = 1.0, 2.5, 2.0, 0.5, 0.0, 3000
    deltas = np.array([1e-3, 1e-2])
    got = model_errors(a, b, deltas, c=c, p=p, q=q, n_modes=n, tail=False)
    k = np.arange(1, n + 1)
    for d, e in zip(deltas, got):
        direct = 0.0
        for kk in range(1, n + 1):  # a plain loop, no vectorised shortcut
            s, Pi, Pic = kk**-a, kk**-b, kk**-c
            g = s * Pi / (s * s * Pi + d * d * kk**-p)
            direct += (1 - s * g) ** 2 * Pic + g * g * d * d * kk**-q
        assert e == pytest.approx(direct, rel=1e-12)
    # matched case equals the optimal risk of the spectral module
    s, Pi = power_law_model(a, b, n)
    assert model_errors(a, b, [1e-2], n_modes=n, tail=False)[0] == pytest.approx(
        optimal_risk(s, Pi, 1e-4), rel=1e-12
    )
    np.testing.assert_allclose(model_filter(a, b, 1e-2, n, p=p), mse_filter(s, Pi, power_noise(1e-2, n, p)))


def test_tail_term_is_the_hurwitz_zeta_tail():
    n = 1000
    with_tail = model_errors(1.0, 2.0, [1e-3], n_modes=n)[0]
    without = model_errors(1.0, 2.0, [1e-3], n_modes=n, tail=False)[0]
    direct_tail = np.sum(np.arange(n + 1, 10**7, dtype=float) ** -2.0) + 1 / (10**7 - 0.5)
    assert with_tail - without == pytest.approx(direct_tail, rel=1e-6)


@pytest.mark.parametrize("a,b", [(1.0, 2.0), (1.0, 3.0), (2.0, 2.0), (0.5, 3.0)])
def test_matched_slope_equals_rate_formula(a, b):
    d = np.logspace(-8, -4, 9)
    fit = fit_rate(d, model_errors(a, b, d))
    assert fit.slope == pytest.approx(rate_exponent(a, b), abs=0.01)


@pytest.mark.parametrize("b", [1.5, 3.0, 4.0])
def test_mismatch_slope_equals_min_formula(b):
    d = np.logspace(-8, -4, 9)
    fit = fit_rate(d, model_errors(1.0, b, d, c=2.0))
    assert fit.slope == pytest.approx(rate_exponent(1.0, b, c=2.0), abs=0.05)


def test_rate_formulas():
    assert rate_exponent(1, 2) == pytest.approx(0.5)
    assert rate_exponent(1, 3, c=2) == pytest.approx(2 / 5)
    assert rate_exponent(1, 1.5, c=2) == pytest.approx(1 / 3.5)
    # matched noise reduces to the white-noise rate with p shifted
    assert noise_rate_exponent(1, 2, 0, 0) == pytest.approx(rate_exponent(1, 2))
    assert noise_rate_exponent(1, 2, 0.5, 0.5) == pytest.approx(2 / 3.5)
    assert noise_rate_exponent(1, 2, 0.5, 0.0) == pytest.approx(1 / 3.5)
    assert noise_rate_exponent(1, 2, 0.5, 4.0) == pytest.approx(2 / 3.5)


def test_sampled_rate_errors_match_exact_risk_for_many_samples():
    rng = make_rng(4)
    s, Pi = power_law_model(1.0, 2.0, 30)
    cx, cax = sample_coefficients(s, Pi, 0.0, 20000, rng)
    ce = rng.standard_normal(cx.shape)
    tx, tax = sample_coefficients(s, Pi, 0.0, 20000, rng)
    te = rng.standard_normal(tx.shape)
    d = np.array([1e-2, 1e-1])
    err, filt = sampled_rate_errors(cx, cax, ce, tx, tax, te, d)
    for i, dd in enumerate(d):
        # standard deviation of the 1D least-squares fit per k (Gaussian data)
        sd = np.sqrt(Pi * dd**2 / (cx.shape[0] * (s**2 * Pi + dd**2) ** 2))
        assert np.all(np.abs(filt[i] - mse_filter(s, Pi, dd**2)) < 5 * sd)
        assert err[i] == pytest.approx(risk(s, filt[i], Pi, dd**2).total, rel=0.03)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: fit_rate([1e-3, 1e-2], [1.0, 2.0]), "at least 3 points"),
        (lambda: fit_rate([1e-3, 1e-2, 1e-1], [1.0, 0.0, 2.0]), "errors must be strictly positive"),
        (lambda: fit_rate([1e-3, -1e-2, 1e-1], [1.0, 1.0, 2.0]), "deltas must be strictly positive"),
        (lambda: fit_rate([1e-3, 1e-2, 1e-1], [1.0, 2.0]), "same length"),
        (lambda: fit_rate([1e-3, 1e-2, np.nan], [1.0, 2.0, 3.0]), "finite"),
        (lambda: power_law_model(1.0, 1.0, 10), "b must be > 1"),
        (lambda: power_law_model(-1.0, 2.0, 10), "a must be positive"),
        (lambda: model_errors(1.0, 2.0, [1e-2], c=0.5), "c must be > 1"),
        (lambda: model_errors(1.0, 2.0, [0.0]), "deltas must be strictly positive"),
        (lambda: rate_exponent(1.0, np.inf), "b must be finite"),
        (lambda: noise_rate_exponent(0.1, 1.1, 2.0, 0.0), "2a \\+ b - p > 0"),
        (lambda: sampled_rate_errors(np.ones((3, 2)), np.ones((3, 2)), np.ones((2, 2)),
                                     np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 2)), [0.1]),
         "ce_train must have the shape"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_reversed_brownian_motion_has_the_predicted_spectrum():
    from learnreg.operators import Integration
    from learnreg.rates import reversed_brownian_motion

    n, K = 256, 20000
    svd = Integration(n).svd()
    X = reversed_brownian_motion(n, K, make_rng(11))
    Pi_hat = np.mean(svd.coefficients_x(X) ** 2, axis=0)
    k = np.arange(1, 11)
    # sampling error of a second moment from K Gaussian samples: relative sd sqrt(2/K) ~ 0.01;
    # discretisation error O(k/n) for the leading modes
    np.testing.assert_allclose(Pi_hat[:10], ((k - 0.5) * np.pi) ** -2.0, rtol=0.05)
    with pytest.raises(ValueError, match="rng must be"):
        reversed_brownian_motion(8, 2, rng=None)
