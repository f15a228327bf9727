"""Tests of learnreg.training: Adam reaches the closed-form empirical minimiser."""

from __future__ import annotations

import numpy as np
import pytest

from learnreg.data import make_rng
from learnreg.spectral import empirical_filter, empirical_risk, risk, sample_coefficients
from learnreg.training import fit_speed_ratio, train_filter_adam


def _data(K=400, r=40, seed=0):
    k = np.arange(1, r + 1, dtype=float)
    s, Pi, Delta = 1 / k, k**-2.0, np.full(r, 1e-3)
    return (s, Pi, Delta), sample_coefficients(s, Pi, Delta, K, make_rng(seed))


def test_full_batch_adam_converges_to_the_empirical_minimiser():
    _, (cx, cy) = _data()
    g_cf = empirical_filter(cx, cy)
    res = train_filter_adam(cx, cy, n_steps=5000, lr=0.1, lr_decay=1e-2)
    np.testing.assert_allclose(res.g, g_cf, rtol=1e-6, atol=1e-8)
    assert res.losses[-1] == pytest.approx(empirical_risk(g_cf, cx, cy), rel=1e-6)
    assert res.losses[0] == pytest.approx(np.mean(np.sum(cx**2, axis=1)))  # g0 = 0
    assert not res.stopped_early and res.n_steps == 5000


def test_minibatch_adam_gets_close_and_is_reproducible():
    (s, Pi, Delta), (cx, cy) = _data()
    g_cf = empirical_filter(cx, cy)
    a = train_filter_adam(cx, cy, n_steps=3000, lr=0.05, lr_decay=1e-2, batch_size=32, rng=make_rng(1))
    b = train_filter_adam(cx, cy, n_steps=3000, lr=0.05, lr_decay=1e-2, batch_size=32, rng=make_rng(1))
    np.testing.assert_array_equal(a.g, b.g)
    assert risk(s, a.g, Pi, Delta).total < 1.05 * risk(s, g_cf, Pi, Delta).total


def test_stop_criterion_ends_training():
    _, (cx, cy) = _data()
    res = train_filter_adam(cx, cy, n_steps=5000, stop=lambda g: True, check_every=7)
    assert res.stopped_early and res.n_steps == 7 and res.losses.shape == (7,)


def test_fit_speed_ratio_trains_adam_to_the_target_risk():
    """What is compared is fixed by numbers: Adam reaches the closed form's test risk + 1 %.
    The times themselves are measured by `make bench`, not asserted here."""
    (s, Pi, Delta), _ = _data()
    t = fit_speed_ratio(s, Pi, Delta, 300, make_rng(2), repeats=1)
    assert t.reached and 1 < t.n_steps < 20000
    assert t.risk_gradient <= 1.01 * t.risk_closed_form


def test_bad_input_raises():
    _, (cx, cy) = _data(K=10, r=3)
    with pytest.raises(ValueError, match="cx and cy must have the same shape"):
        train_filter_adam(cx, cy[:5])
    with pytest.raises(ValueError, match="lr must be positive"):
        train_filter_adam(cx, cy, lr=0.0)
    with pytest.raises(ValueError, match="rng must be"):
        train_filter_adam(cx, cy, batch_size=4)
    with pytest.raises(ValueError, match="batch_size must be at most"):
        train_filter_adam(cx, cy, batch_size=11, rng=make_rng(0))
    with pytest.raises(ValueError, match="g0 must have shape"):
        train_filter_adam(cx, cy, g0=[1.0])
    with pytest.raises(ValueError, match="stop must be a callable"):
        train_filter_adam(cx, cy, stop=3)
    with pytest.raises(ValueError, match="Delta must be non-negative"):
        fit_speed_ratio([1.0], [1.0], [-1.0], 10, make_rng(0))


def test_adam_moments_match_the_textbook_recursion():
    from learnreg.training import AdamMoments

    grads = [np.array([1.0, -2.0]), np.array([0.5, 4.0]), np.array([-3.0, 0.0])]
    adam = AdamMoments(2, beta1=0.8, beta2=0.9)
    m = v = np.zeros(2)
    for t, grad in enumerate(grads, start=1):
        m = 0.8 * m + 0.2 * grad
        v = 0.9 * v + 0.1 * grad**2
        mhat, vhat = adam.update(grad)
        np.testing.assert_allclose(mhat, m / (1 - 0.8**t), rtol=1e-15)
        np.testing.assert_allclose(vhat, v / (1 - 0.9**t), rtol=1e-15)
    assert adam.t == 3
