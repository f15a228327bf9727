"""Chapter 2's experiments at small sizes, and claims that fail when the implementation is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from learnreg import make_rng
from learnreg.experiments import learned_spectral as ex
from learnreg.figures import learned_spectral as figures
from learnreg.spectral import empirical_filter

SMALL = ex.Setting(n=32)


def _ids(claims):
    return {c.id: c for c in claims}


def test_the_monte_carlo_risk_matches_the_decomposition():
    res = ex.risk_check(make_rng(1), SMALL, n_test=2000)
    assert res.data > 0 and res.noise > 0
    assert res.deviation < 4 and res.mc_se < 0.02 * res.exact
    assert _ids(res.claims())["ch2-risk-mc"].passed


def test_the_empirical_minimiser_converges_at_the_predicted_rate():
    res = ex.erm_convergence(make_rng(2), SMALL, Ks=(16, 64, 256, 1024, 4096), reps=20)
    np.testing.assert_allclose(res.predicted, res.optimal / (res.Ks - 2))
    assert abs(res.slope + 0.5) < 0.05
    assert all(c.passed for c in res.claims())


def test_a_filter_learned_with_a_missing_factor_fails_the_convergence_claims(monkeypatch):
    """Mutation: the empirical minimiser off by 10 %. Its excess risk stalls at a bias."""
    monkeypatch.setattr(ex, "empirical_filter", lambda cx, cy: 0.9 * empirical_filter(cx, cy))
    erm = _ids(ex.erm_convergence(make_rng(2), SMALL, Ks=(16, 64, 256, 1024, 4096), reps=20).claims())
    assert not erm["ch2-erm-excess"].passed and not erm["ch2-erm-slope"].passed
    alpha = _ids(ex.alpha_recovery(make_rng(3), SMALL, Ks=(256, 1024, 4096), reps=30, K_display=50).claims())
    assert not alpha["ch2-alpha-rate"].passed and not alpha["ch2-alpha-level"].passed


def test_adam_reaches_the_closed_form_minimiser_and_counts_its_steps():
    res = ex.gradient_training(make_rng(4), SMALL, K=200, n_steps=1500)
    assert res.risks.shape == (1500,) and 1 < res.steps_to_target < 1500
    assert res.risks[-1] <= 1.01 * res.risk_hat and res.risk_hat >= res.risk_mse
    assert all(c.passed for c in res.claims())
    assert "after" in res.table() and "ms" not in res.table()


def test_alpha_read_off_the_empirical_filter_converges_to_delta_over_pi():
    res = ex.alpha_recovery(make_rng(5), Ks=(256, 1024, 4096, 16384), reps=40, K_display=100)
    assert list(res.band) == list(range(4, 11))  # SNR_k in [0.1, 10] for n = 256, b = 2, delta = 1e-2
    np.testing.assert_allclose(res.rel_rmse, res.predicted, rtol=0.25)
    assert all(c.passed for c in res.claims())


def test_reading_alpha_without_the_square_fails_the_alpha_claims(monkeypatch):
    """Mutation: alpha_k = s_k/g_k - s_k instead of s_k/g_k - s_k^2."""
    monkeypatch.setattr(ex, "regularization_parameters", lambda s, g: s / g - s)
    claims = _ids(ex.alpha_recovery(make_rng(5), Ks=(256, 1024, 4096), reps=20, K_display=100).claims())
    assert not claims["ch2-alpha-rate"].passed and not claims["ch2-alpha-level"].passed


def test_the_learned_filter_passes_the_stability_bound_that_the_pseudo_inverse_fails():
    res = ex.stability(make_rng(6), integration_ns=(32, 64, 128), radon_ns=(8, 16), n_train=(100, 60),
                       n_test=(20, 10))
    assert np.all(np.diff(res.errors["integration"]["pseudo-inverse"]) > 0)  # grows like 1/s_min = O(n)
    np.testing.assert_allclose(res.errors["integration"]["pseudo-inverse"], res.eps / res.s_min["integration"],
                               rtol=1e-8)  # A^+ reconstructs Ax exactly, so only the noise remains
    # B is estimated from 100 training signals (sampling error about 15 %); it does not depend on n
    assert np.ptp(res.allowance["integration"]) < 0.3 * res.allowance["integration"].min()
    assert all(c.passed for c in res.claims())
    assert "eps*B" in res.table()


def test_stability_never_forms_the_dense_singular_vectors_of_the_radon_transform(monkeypatch):
    """At n = 128 the dense V of the Radon SVD would take 3 GB: the experiment must work on the factors."""
    from learnreg import operators

    monkeypatch.setattr(operators, "MAX_DENSE_BYTES", 0)  # any dense U or V of a factored SVD now raises
    res = ex.stability(make_rng(6), integration_ns=(32, 64), radon_ns=(8, 16), n_train=(40, 40), n_test=(5, 5))
    assert all(c.passed for c in res.claims())


def test_a_filter_trained_without_noise_is_the_pseudo_inverse_and_fails(monkeypatch):
    """Mutation: the training data carry no noise, so the learned filter is 1/s_k."""
    monkeypatch.setattr(ex, "white_noise", lambda w, delta, m, rng: np.zeros((m, len(w))))
    claims = _ids(ex.stability(make_rng(6), integration_ns=(32, 64, 128), radon_ns=(8, 16), n_train=(100, 60),
                               n_test=(20, 10)).claims())
    assert not claims["ch2-stab-integration-learned"].passed
    assert not claims["ch2-stab-radon-learned"].passed


def test_experiments_do_not_depend_on_earlier_draws():
    rng = make_rng(7)
    a = ex.risk_check(rng, SMALL, n_test=50)
    rng.standard_normal(100)
    b = ex.risk_check(rng, SMALL, n_test=50)
    assert a.mc_mean == b.mc_mean


def test_figures_draw():
    rng = make_rng(8)
    erm = ex.erm_convergence(rng, SMALL, Ks=(16, 64, 256), reps=3)
    adam = ex.gradient_training(rng, SMALL, K=50, n_steps=300)
    alpha = ex.alpha_recovery(rng, Ks=(256, 1024, 4096), reps=3, K_display=50)
    stab = ex.stability(rng, integration_ns=(16, 32), radon_ns=(8, 16), n_train=(20, 20), n_test=(5, 5))
    for fig, n_axes in ((figures.learned(erm, adam), 3), (figures.alpha(alpha), 3), (figures.stability(stab), 2)):
        assert isinstance(fig, Figure) and len(fig.axes) == n_axes


def test_the_panel_varies_delta_and_b_on_static_grids_fine_enough():
    panel = figures.filter_panel()
    params = {p.name: p for p in panel.params}
    deltas, bs = params["delta"].static_values(), params["b"].static_values()
    assert len(deltas) >= 9 and np.log10(max(deltas) / min(deltas)) >= 4
    assert len(bs) >= 7
    png, text = panel.render_with_caption(delta=1e-3, b=3.0)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "modes k < 11 are kept" in text
    assert set(figures.PANELS) == {"learned-filter"}


@pytest.mark.parametrize("call", [
    lambda: ex.Setting(n=2),
    lambda: ex.Setting(delta=0.0),
    lambda: ex.risk_check(None),
    lambda: ex.risk_check(make_rng(0), setting="integration"),
    lambda: ex.erm_convergence(make_rng(0), Ks=(64, 16, 256)),
    lambda: ex.erm_convergence(make_rng(0), Ks=(16, 64)),
    lambda: ex.gradient_training(make_rng(0), K=1),
    lambda: ex.alpha_recovery(make_rng(0), snr_band=(10.0, 0.1)),
    lambda: ex.alpha_recovery(make_rng(0), snr_band=(1e6, 1e7)),
    lambda: ex.stability(make_rng(0), radon_ns=(16,)),
    lambda: ex.stability(make_rng(0), integration_ns=(64, 32)),
    lambda: ex.stability(make_rng(0), eps=0.0),
    lambda: ex.stability(make_rng(0), n_train=(10,)),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
