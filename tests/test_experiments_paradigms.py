"""Chapter 4's experiments at small sizes, and claims that fail when the implementation is wrong."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from learnreg import make_rng  # noqa: E402
from learnreg import paradigms as P  # noqa: E402
from learnreg.experiments import paradigms as ex  # noqa: E402


def _passed(claims) -> dict:
    return {c.id: c.passed for c in claims}


SMALL_POST = dict(resolutions=(100, 1000, 10000, 100000), fit_window=(10000, 100000), n_mc=50, mc_max=1000)


@pytest.fixture(scope="module")
def small():
    rng = make_rng(3)
    den = ex.denoiser_prox(rng, n=32, n_train=800)
    return {
        "den": den,
        "pnp": ex.pnp(rng, den),
        "post": ex.post_processing(rng, **SMALL_POST),
        "pinv": ex.post_on_pinv(rng, n=32, n_train=800, n_test=800),
        "selfsup": ex.self_supervised(rng, n=32, Ks=(200, 600, 2000), reps=3, other_n=(16,)),
    }


# ---------------------------------------------------------------------------
# the independent check itself
# ---------------------------------------------------------------------------


def test_standardised_deviations_are_standard_normal():
    rng = make_rng(1)
    beta, m, K, r = np.array([0.3, -1.0, 2.0]), np.array([0.5, 2.0, 0.1]), 50, 3
    z = []
    for _ in range(2000):
        a = rng.standard_normal((K, r))
        t = beta * a + np.sqrt(m) * rng.standard_normal((K, r))
        est = np.sum(a * t, axis=0) / np.sum(a**2, axis=0)
        z.append(ex.standardised_regression_deviation(est, beta, a, m))
    z = np.array(z)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=0.08)
    np.testing.assert_allclose(z.var(axis=0), 1.0, atol=0.08)


# ---------------------------------------------------------------------------
# the experiments at small sizes
# ---------------------------------------------------------------------------


def test_denoiser_matches_the_mmse_denoiser_and_is_a_prox(small):
    den = small["den"]
    # mean of 32 squared N(0, 1): 1 +- 0.25, checked within four standard deviations
    assert den.z_max < ex.Z_MAX and np.mean(den.z**2) < 2.0
    assert den.prox_error < 1e-10
    np.testing.assert_allclose(den.w_true, den.tau / den.Pi)
    assert all(_passed(den.claims()).values())


def test_pnp_reaches_the_variational_solutions(small):
    res = small["pnp"]
    assert all(res.final[g] < 1e-10 for g in res.steps)
    assert all(res.observed_rate[g] <= res.rho[g] + 1e-6 for g in res.steps)
    assert res.dense_error < 1e-10
    assert res.limit_difference(np.full(res.grid.size, 1 / res.grid.size)) > 0.01  # the step changes the limit
    assert all(_passed(res.claims()).values())


def test_post_processing_grows_with_the_resolution_and_pnp_does_not(small):
    res = small["post"]
    slopes = res.slopes()
    assert abs(slopes[0] - 2.0) < 0.1 and abs(slopes[-1]) < 0.05
    assert res.gmax_post[0, -1] / res.gmax_post[0, 0] > 10 and np.ptp(res.gmax_var[0]) < 1e-9
    assert res.mc_z < 4 and res.var_increase <= res.tail_bound
    assert {c.id for c in res.claims()} >= {"ch4-post-growth-b1.5", "ch4-post-norm-b1.5", "ch4-post-bounded-b3",
                                            "ch4-post-montecarlo", "ch4-pnp-bounded-b1.5"}


def test_post_processing_on_the_pseudo_inverse_is_the_mse_filter(small):
    res = small["pinv"]
    assert np.max(np.abs(res.z)) < ex.Z_MAX and np.max(np.abs(res.z_package)) < ex.Z_MAX
    assert abs(res.z_pinv) < 4 and res.z_white > 20
    assert all(_passed(res.claims()).values())


def test_self_supervised_and_sure_reach_the_mse_filter(small):
    res = small["selfsup"]
    assert np.max(res.z_self) < ex.Z_MAX and np.max(res.z_sure) < ex.Z_MAX
    slopes = res.slopes()
    assert all(abs(v + 1) < 0.3 for v in slopes.values())
    assert res.constants["self-supervised"] > 10 * res.constants["supervised"]
    assert set(res.c_self_by_n) == {16, 32}


def test_all_filters_collects_six_paradigms(small):
    res = ex.all_filters(small["den"], small["pinv"], small["selfsup"])
    assert len(res.learned) == 6 and set(res.closed) == {"mse", "post-white"}
    risks = res.risks()
    assert risks["post-processing, white tau"] > 10 * risks["supervised"]
    assert "SURE" in res.table()
    other = ex.denoiser_prox(make_rng(4), n=16, n_train=100)
    with pytest.raises(ValueError, match="share n"):
        ex.all_filters(other, small["pinv"], small["selfsup"])


def test_explaining_alpha_keeps_only_tikhonov_coefficients():
    s = np.array([1.0, 0.5, 0.25])
    a = ex.explaining_alpha(s, np.array([0.5, -1.0, 5.0]))
    assert a[0] == pytest.approx(1.0) and np.isnan(a[1]) and np.isnan(a[2])


def test_experiments_do_not_depend_on_earlier_draws():
    rng = make_rng(9)
    a = ex.post_on_pinv(rng, n=16, n_train=50, n_test=50)
    rng.standard_normal(1000)
    b = ex.post_on_pinv(rng, n=16, n_train=50, n_test=50)
    assert np.array_equal(a.d_hat, b.d_hat) and a.sim_pinv == b.sim_pinv


# ---------------------------------------------------------------------------
# mutation tests: a wrong implementation fails the claims
# ---------------------------------------------------------------------------


def test_an_mmse_denoiser_with_a_wrong_factor_fails_the_variational_and_denoiser_claims(monkeypatch):
    """Mutation: d_k = Pi_k / (Pi_k + 2 tau_k)."""
    original = P.mmse_denoiser
    monkeypatch.setattr(P, "mmse_denoiser", lambda Pi, tau: original(Pi, 2 * np.asarray(tau)))
    rng = make_rng(3)
    den = ex.denoiser_prox(rng, n=32, n_train=800)
    assert not _passed(den.claims())["ch4-denoiser-samples"]
    assert not _passed(ex.pnp(rng, den).claims())["ch4-var-equals-mse"]


def test_a_wrong_variational_filter_fails_the_pnp_fixed_point_claim(monkeypatch):
    """Mutation: the closed-form limit s_k / (s_k^2 + 2 w_k) instead of s_k / (s_k^2 + w_k)."""
    original = P.variational_filter
    monkeypatch.setattr(P, "variational_filter", lambda s, w: original(s, 2 * np.asarray(w)))
    rng = make_rng(3)
    ok = _passed(ex.pnp(rng, ex.denoiser_prox(rng, n=32, n_train=800)).claims())
    assert not ok["ch4-pnp-fixed-point"] and not ok["ch4-pnp-step"]


def test_pseudo_inverse_noise_with_a_missing_square_fails_the_post_processing_claim(monkeypatch):
    """Mutation: tau_k = Delta_k / s_k instead of Delta_k / s_k^2."""
    monkeypatch.setattr(P, "pseudo_inverse_noise_moments", lambda s, Delta: np.asarray(Delta) / np.asarray(s))
    ok = _passed(ex.post_on_pinv(make_rng(3), n=32, n_train=800, n_test=200).claims())
    assert not ok["ch4-post-pinv-closed"]


def test_a_denoiser_learned_with_a_missing_factor_fails_the_held_out_claim(monkeypatch):
    """Mutation: the least-squares denoiser off by 10 %."""
    original = P.empirical_denoiser
    monkeypatch.setattr(P, "empirical_denoiser", lambda svd, X, Z, prox=False: 0.9 * original(svd, X, Z, prox=prox))
    ok = _passed(ex.post_on_pinv(make_rng(3), n=32, n_train=800, n_test=800).claims())
    assert not ok["ch4-post-pinv-samples"] and not ok["ch4-post-pinv-closed"]


def test_wrong_self_supervised_and_sure_closed_forms_fail_their_claims(monkeypatch):
    """Mutations: the self-supervised closed form with E[y_k^2] + Delta_k, SURE with 2 Delta_k subtracted."""
    monkeypatch.setattr(P, "self_supervised_filter",
                        lambda s, Pi, Delta: s * Pi / (s**2 * Pi + 2 * np.asarray(Delta)))
    monkeypatch.setattr(P, "sure_filter",
                        lambda s, Pi, Delta: (s**2 * Pi - np.asarray(Delta)) / (s * (s**2 * Pi + np.asarray(Delta))))
    ok = _passed(ex.self_supervised(make_rng(3), n=32, Ks=(200, 2000), reps=1, other_n=()).claims())
    assert not ok["ch4-self-closed"] and not ok["ch4-sure-closed"]


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("call, name", [
    (lambda: ex.denoiser_prox(None), "rng"),
    (lambda: ex.denoiser_prox(make_rng(0), tau=0.0), "tau"),
    (lambda: ex.denoiser_prox(make_rng(0), n_train=1), "n_train"),
    (lambda: ex.pnp(make_rng(0), "denoiser"), "denoiser"),
    (lambda: ex.post_processing(make_rng(0), bs=(0.5,)), "bs"),
    (lambda: ex.post_processing(make_rng(0), resolutions=(10, 100)), "resolutions"),
    (lambda: ex.post_processing(make_rng(0), fit_window=(10, 20)), "fit_window"),
    (lambda: ex.post_on_pinv(make_rng(0), delta=-1.0), "delta"),
    (lambda: ex.self_supervised(make_rng(0), Ks=(100,)), "Ks"),
    (lambda: ex.self_supervised(make_rng(0), reps=0), "reps"),
    (lambda: ex.standardised_regression_deviation([1.0], [1.0], [[1.0]], [0.0]), "residual_variance"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------------------
# figures and the panel
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, key", [("denoiser", "den"), ("pnp", "pnp"), ("post_processing", "post"),
                                       ("post_on_pinv", "pinv"), ("self_supervised", "selfsup")])
def test_figure_functions_draw(small, name, key):
    from learnreg.figures import paradigms as figures

    fig = getattr(figures, name)(small[key])
    assert isinstance(fig, Figure) and len(fig.axes) >= 2
    assert all(ax.lines for ax in fig.axes)


def test_the_side_by_side_figure_draws(small):
    from learnreg.figures import paradigms as figures

    fig = figures.all_filters(ex.all_filters(small["den"], small["pinv"], small["selfsup"]))
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 8


@pytest.mark.parametrize("key", ["den", "pnp", "post", "pinv", "selfsup"])
def test_tables_fit_the_text_column(small, key):
    """Printed tables stay within 76 characters, the width of the book's code column."""
    text = small[key].table()
    assert max(len(line) for line in text.splitlines()) <= 76, text


def test_the_panel_renders_and_is_registered():
    from learnreg.figures import paradigms as figures

    panel = figures.paradigm_panel()
    names = {p.name: p for p in panel.params}
    assert set(names) == {"delta", "b", "tau_ratio"} and set(panel.static) == {"delta", "b"}
    deltas, bs = names["delta"].static_values(), names["b"].static_values()
    assert len(deltas) >= 9 and deltas[-1] / deltas[0] >= 1e4  # at least 9 noise levels over 4 decades
    assert len(bs) >= 7
    png, caption = panel.render_with_caption(delta=1e-3, b=1.5, tau_ratio=3.0)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and caption.startswith("risk: MSE filter")
    assert figures.PANELS["paradigms"] is figures.paradigm_panel


def test_the_panel_filters_are_the_package_filters():
    from learnreg import spectral
    from learnreg.figures import paradigms as figures

    fig = figures.ParadigmPanel()
    fig.s = figures._panel_s()
    fig.k = np.arange(1, fig.s.size + 1, dtype=float)
    f = fig.filters(1e-2, 2.0, 4.0)
    Pi = fig.k**-2.0
    np.testing.assert_allclose(f["mse"], spectral.mse_filter(fig.s, Pi, 1e-4))
    np.testing.assert_allclose(f["pnp"], P.variational_filter(fig.s, 4e-4 / Pi))
    np.testing.assert_allclose(f["post"], P.post_processing_filter(fig.s, P.mmse_denoiser(Pi, 4e-4)))
