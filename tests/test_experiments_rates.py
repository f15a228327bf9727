"""Chapter 3's experiments at small sizes, and claims that fail when the implementation is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from learnreg import make_rng
from learnreg.experiments import rates as ex


def test_matched_rates_fit_the_predicted_exponents():
    res = ex.matched_rates(pairs=((1.0, 2.0), (2.0, 3.0)), n_modes=10**5)
    np.testing.assert_allclose(res.predicted, [0.5, 4 / 7])
    assert np.all(np.abs(res.slopes - res.predicted) < 0.01)
    assert res.window_slopes.shape == (2, len(ex.ALTERNATIVE_WINDOWS))
    assert all(c.passed for c in res.claims())
    assert "fitted" in res.table() and "0.571" in res.table()


def test_mismatch_is_fastest_at_b_equal_c_and_separates_the_regimes():
    res = ex.mismatch_rates(a=1.0, c=2.0, bs=(1.5, 2.0, 3.0), n_modes=10**5)
    assert res.best_b == 2.0
    other = res.bs != res.c
    assert np.all(np.abs(res.rival - res.predicted)[other] > 2 * ex.RATE_TOLERANCE)
    assert all(c.passed for c in res.claims())


def test_noise_bound_holds_with_equality_somewhere():
    res = ex.noise_mismatch(n_modes=10**5, bound_modes=10**4)
    assert 0.999 < res.bound_ratio <= 1 + 1e-12  # AM-GM is attained where s_k^2 Pi_k = Delta_k
    white = res.names.index("white")
    assert abs(res.slopes[white] - 2 / 7) < 0.05  # rougher test noise halves the rate


def test_sampled_rates_at_a_small_size():
    res = ex.sampled_rates(make_rng(1), n=256, n_train=100, n_test=100, deltas=np.logspace(-4, -2, 5))
    assert res.errors.shape == (3, 5) and np.all(np.diff(res.errors, axis=1) > 0)
    assert np.all(np.abs(res.slopes - res.predicted) < 0.1)


def test_sampled_rates_do_not_depend_on_earlier_draws():
    rng = make_rng(5)
    a = ex.sampled_rates(rng, n=128, n_train=20, n_test=20, deltas=np.logspace(-3, -1, 3))
    rng.standard_normal(1000)
    b = ex.sampled_rates(rng, n=128, n_train=20, n_test=20, deltas=np.logspace(-3, -1, 3))
    assert np.array_equal(a.errors, b.errors)


def test_a_filter_with_a_missing_square_fails_the_rate_claims(monkeypatch):
    """Mutation: the MSE filter with s_k instead of s_k^2 in its denominator. The rate claims must catch it."""
    from learnreg import rates

    def wrong_errors(a, b, deltas, *, c=None, p=0.0, q=None, n_modes=10**6, tail=True):
        k = np.arange(1, n_modes + 1, dtype=float)
        s, Pi = k ** (-a), k ** (-b)
        out = []
        for d in np.asarray(deltas, dtype=float):
            g = s * Pi / (s * Pi + d**2)
            out.append(np.sum((1 - s * g) ** 2 * Pi + g**2 * d**2))
        return np.array(out)

    assert all(c.passed for c in ex.matched_rates(pairs=((1.0, 3.0),), n_modes=10**5).claims())
    monkeypatch.setattr(ex, "model_errors", wrong_errors)
    claims = ex.matched_rates(pairs=((1.0, 3.0),), n_modes=10**5).claims()
    assert not any(c.passed for c in claims)
    assert rates.model_errors is not wrong_errors


def test_a_filter_learned_with_a_missing_factor_fails_the_sampled_claims(monkeypatch):
    """Mutation: the empirical filter off by 10 %. Its error stalls at a bias, and the fitted rate collapses."""
    import learnreg.rates as rates_module

    original = rates_module.empirical_filter
    monkeypatch.setattr(rates_module, "empirical_filter", lambda cx, cy: 0.9 * original(cx, cy))
    res = ex.sampled_rates(make_rng(1), n=256, n_train=100, n_test=100)
    assert not any(c.passed for c in res.claims())


@pytest.mark.parametrize("call", [
    lambda: ex.matched_rates(pairs=()),
    lambda: ex.matched_rates(pairs=((1.0, 0.5),)),
    lambda: ex.matched_rates(deltas=[1e-3, 1e-2]),
    lambda: ex.mismatch_rates(c=1.0),
    lambda: ex.mismatch_rates(bs=(0.5, 2.0)),
    lambda: ex.noise_mismatch(test_noises=()),
    lambda: ex.sampled_rates(None),
    lambda: ex.sampled_rates(make_rng(0), n=10**6),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
