"""Chapter 6's experiments at small sizes, and claims that fail when the implementation is wrong."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from learnreg import make_rng  # noqa: E402
from learnreg.data import periodic_piecewise_constant, white_noise  # noqa: E402
from learnreg.experiments import frames as ex  # noqa: E402
from learnreg.frames import WaveletVaguelette  # noqa: E402

SMALL_STRUCTURE = dict(wavelets=("haar", "db4"), n_train=120, n_test=80, n_gaussian=128, n_piecewise=256,
                       gaussian_deltas=np.logspace(-4, -1, 4), piecewise_deltas=np.logspace(-5, -2, 7),
                       window=(1e-5, 1e-3), replicates=2)


def _passed(claims) -> dict:
    return {c.id: c.passed for c in claims}


@pytest.fixture(scope="module")
def small():
    rng = make_rng(5)
    st = ex.structure(rng, **SMALL_STRUCTURE)
    return {
        "dfd": ex.dfd_checks(rng, n=128, n_small=64),
        "bounds": ex.frame_bounds(ns=(32, 64, 128, 256), wavelets=("haar", "db2", "db4")),
        "linear": ex.linear_dfd(rng, n=128, n_train=600, wavelets=("haar", "db4")),
        "structure": st,
        "rates": ex.rates(st),
        "recon": ex.reconstructions(st, deltas=(1e-3, 1e-5)),
    }


# ---------------------------------------------------------------------------
# the experiments at small sizes
# ---------------------------------------------------------------------------


def test_the_dfd_is_exact_and_kappa_scales_like_the_singular_values(small):
    res = small["dfd"]
    assert max(res.identity_error.values()) < 1e-12 and max(res.pinv_error.values()) < 1e-10
    assert res.haar_kappa_error < 1e-12
    assert abs(res.kappa_slope("haar") + 0.5) < 0.05 and abs(res.kappa_slope("db4", interior=True) + 1) < 0.1
    assert set(res.examples) == {"haar", "db4"} and res.examples["db4"][0].shape == (64, 2)
    ok = _passed(res.claims())
    assert ok["ch6-identity"] and ok["ch6-pinv"] and ok["ch6-haar-kappa"] and ok["ch6-kappa-slope-haar"]


def test_frame_bounds_separate_smooth_wavelets_from_haar(small):
    res = small["bounds"]
    assert res.ratio_slope("haar") > 0.8 and res.ratio_slope("db4") < 0.2
    assert np.all(res.lower[0] * res.ns <= 6.0)
    types = {c.id: c.type for c in res.claims()}
    assert types["ch6-frame-db2-slower"] == "expectation" and types["ch6-frame-haar-bound"] == "theory"
    assert _passed(res.claims())["ch6-frame-haar-bound"]


def test_the_linear_dfd_filter_matches_its_closed_form_and_loses_to_the_svd(small):
    res = small["linear"]
    for w in res.wavelets:
        assert np.max(np.abs(res.z[w])) < ex.Z_MAX
        assert res.risk_dfd[w] >= res.risk_svd
    assert all(_passed(res.claims()).values())


def test_structure_at_a_small_size(small):
    res = small["structure"]
    assert set(res.results) == {(c, w) for c in ex.CLASSES for w in ("haar", "db4")}
    assert res.results["piecewise", "db4"].errors["soft"].shape == (7, 80)
    sp = res.sparsity
    assert np.all(np.diff(sp.fraction[-4:]) < 0)  # finer scales are sparser
    assert sp.delta_sparse > 0 and sp.active_scale(sp.delta_sparse / 2) >= sp.active_scale(sp.delta_sparse * 2)
    assert res.replicate_slopes["soft"].shape == (2,)
    ok = _passed(res.claims())
    assert ok["ch6-gauss-nothing-beats-svd"] and ok["ch6-pwc-linear-not-better"]
    assert {c.id: c.type for c in res.claims()}["ch6-pwc-soft-clear"] == "expectation"


def test_rates_use_a_tolerance_that_separates_the_rival_rates(small):
    res = small["rates"]
    assert ex.RATE_TOLERANCE < (2 / 3 - 1 / 2) / 2 + 1e-12
    assert res.runs["soft"].size == 3 and np.isfinite(res.spread("soft"))
    claims = {c.id: c for c in res.claims()}
    assert claims["ch6-rate-piecewise-soft"].type == "expectation"
    assert claims["ch6-rate-piecewise-linear"].type == "theory"
    assert abs(res.slopes["piecewise", "linear"] - 0.5) < 0.15


def test_reconstructions_split_the_error_at_jumps(small):
    res = small["recon"]
    assert set(res.recs) == {(d, m) for d in (1e-3, 1e-5) for m in ex.METHODS}
    near, away = res.split["svd"]
    assert near > 0 and away > 0
    with pytest.raises(ValueError, match="deltas must be noise levels"):
        ex.reconstructions(small["structure"], deltas=(2e-3,))


def test_the_trainer_gives_the_errors_of_its_reconstructions():
    n, K = 64, 40
    rng = make_rng(2)
    dfd = WaveletVaguelette(n, "db4")
    X = periodic_piecewise_constant(n, 2 * K, rng)
    E = white_noise(dfd.operator.weights_y, 1.0, 2 * K, rng)
    trainer = ex.FilterTrainer(dfd, X[:K], E[:K], X[K:], E[K:])
    learned = trainer.at(1e-3)
    recs = trainer.reconstruct(learned, dfd.operator.apply(X[K:]) + 1e-3 * E[K:])
    for m in ex.METHODS:
        err = dfd.h * np.sum((recs[m] - X[K:]) ** 2, axis=1)
        np.testing.assert_allclose(learned["errors"][m], err, rtol=1e-8, atol=1e-14)


def test_paired_z_of_a_method_against_itself_is_zero_and_against_a_worse_one_positive():
    errors = {"svd": np.array([[1.0, 2.0, 3.0, 4.0]]), "linear": np.array([[1.5, 2.4, 3.6, 4.5]]),
              "soft": np.array([[1.0, 2.0, 3.0, 4.0]])}
    res = ex.FilterComparison(deltas=np.array([0.1]), errors=errors, g_svd=None, g_linear=None, tau=None)
    assert ex.paired_z(res, "linear", "svd")[0] > 3
    with np.errstate(invalid="ignore"):
        assert np.isnan(ex.paired_z(res, "soft", "svd")[0])


def test_panel_data_on_a_small_grid():
    data = ex.panel_data(make_rng(3), n=64, n_train=30, n_test=20, wavelets=("haar", "db4"), deltas=(1e-3, 1e-2, 1e-1))
    recs, mse = data.at("piecewise", "db4", 1e-2)
    assert set(recs) == set(ex.METHODS) and recs["soft"].shape == (64,)
    assert mse["svd"] == data.mse["piecewise", "db4"]["svd"][1]
    with pytest.raises(ValueError, match="grid values"):
        data.at("piecewise", "db4", 0.5)
    with pytest.raises(ValueError, match="cls"):
        data.at("sparse", "db4", 1e-2)


def test_experiments_do_not_depend_on_earlier_draws():
    rng = make_rng(9)
    a = ex.linear_dfd(rng, n=32, n_train=50, wavelets=("db4",))
    rng.standard_normal(1000)
    b = ex.linear_dfd(rng, n=32, n_train=50, wavelets=("db4",))
    assert np.array_equal(a.g_emp["db4"], b.g_emp["db4"])


# ---------------------------------------------------------------------------
# mutation tests: a wrong implementation fails the claims
# ---------------------------------------------------------------------------


def test_frame_moments_without_the_square_fail_the_linear_dfd_claim(monkeypatch):
    """Mutation: Pi_l = sum_k Pi_k |<u_l, w_k>| instead of sum_k Pi_k <u_l, w_k>^2."""
    def wrong(dfd, basis, moments):
        return np.abs(dfd.h * dfd.U.T @ basis) @ moments

    kwargs = dict(n=128, n_train=600, wavelets=("db4",))
    assert _passed(ex.linear_dfd(make_rng(5), **kwargs).claims())["ch6-linear-empirical"]
    monkeypatch.setattr(ex, "frame_moments", wrong)
    assert not _passed(ex.linear_dfd(make_rng(5), **kwargs).claims())["ch6-linear-empirical"]


def test_a_pseudo_inverse_with_kappa_squared_fails_the_pinv_claim(monkeypatch):
    """Mutation: A^+ y = sum_l kappa_l^-2 <y, v_l> u_l."""
    monkeypatch.setattr(WaveletVaguelette, "pseudo_inverse",
                        lambda self, y: self.synthesis_x(self.analysis_y(y) / self.kappa**2))
    assert not _passed(ex.dfd_checks(make_rng(1), n=64, n_small=64).claims())["ch6-pinv"]


def test_a_gram_matrix_without_the_grid_weight_fails_the_haar_bound(monkeypatch):
    """Mutation: G_lm = sum_i v_l(t_i) v_m(t_i), without the weight h = 1/n of the inner product."""
    kwargs = dict(ns=(32, 64, 128, 256), wavelets=("haar", "db4"))
    assert _passed(ex.frame_bounds(**kwargs).claims())["ch6-frame-haar-bound"]
    monkeypatch.setattr(WaveletVaguelette, "gram", lambda self: self.V.T @ self.V)
    assert not _passed(ex.frame_bounds(**kwargs).claims())["ch6-frame-haar-bound"]


def test_learned_linear_filters_off_by_ten_percent_fail_the_structure_claim(monkeypatch):
    """Mutation: the least-squares filters (SVD and linear DFD) learned 10 % too small: on Gaussian data the
    soft-threshold filter, which the mutation does not touch, then beats the SVD filter."""
    assert _passed(ex.structure(make_rng(5), **SMALL_STRUCTURE).claims())["ch6-gauss-nothing-beats-svd"]
    original = ex.empirical_filter
    monkeypatch.setattr(ex, "empirical_filter", lambda cx, cy: 0.9 * original(cx, cy))
    assert not _passed(ex.structure(make_rng(5), **SMALL_STRUCTURE).claims())["ch6-gauss-nothing-beats-svd"]


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("call, name", [
    (lambda: ex.dfd_checks(None), "rng"),
    (lambda: ex.dfd_checks(make_rng(0), n=8), "n"),
    (lambda: ex.dfd_checks(make_rng(0), wavelets=()), "wavelets"),
    (lambda: ex.frame_bounds(ns=(32, 64)), "ns"),
    (lambda: ex.linear_dfd(make_rng(0), delta=0.0), "delta"),
    (lambda: ex.structure(make_rng(0), wavelets=("haar",)), "wavelets"),
    (lambda: ex.structure(make_rng(0), window=(1e-2, 1e-3)), "window"),
    (lambda: ex.structure(make_rng(0), replicates=-1), "replicates"),
    (lambda: ex.rates("structure"), "res"),
    (lambda: ex.reconstructions("structure"), "res"),
    (lambda: ex.panel_data(make_rng(0), n_test=1), "n_test"),
    (lambda: ex.sparsity("dfd", np.zeros((2, 8))), "dfd"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------------------
# figures and the panel
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, key", [("dfd", "dfd"), ("frame_bounds", "bounds"), ("linear_dfd", "linear"),
                                       ("structure", "structure"), ("rates", "rates"),
                                       ("reconstructions", "recon")])
def test_figure_functions_draw(small, name, key):
    from learnreg.figures import frames as figures

    fig = getattr(figures, name)(small[key])
    assert isinstance(fig, Figure) and len(fig.axes) >= 2
    assert any(ax.lines or ax.patches for ax in fig.axes)


@pytest.mark.parametrize("key", ["dfd", "bounds", "linear", "structure", "rates", "recon"])
def test_tables_fit_the_text_column(small, key):
    """Printed tables stay within 76 characters, the width of the book's code column."""
    text = small[key].table()
    assert max(len(line) for line in text.splitlines()) <= 76, text


def test_the_panel_renders_every_grid_point_and_is_registered(monkeypatch):
    from learnreg.figures import frames as figures

    small = ex.panel_data(make_rng(8), n=64, n_train=30, n_test=20, deltas=np.logspace(-5, -1, 9))
    monkeypatch.setattr(figures, "_panel_data", lambda: small)
    panel = figures.frame_panel()
    names = {p.name: p for p in panel.params}
    assert set(names) == {"delta", "wavelet", "data"} and set(panel.static) == {"delta", "wavelet"}
    deltas = names["delta"].static_values()
    assert len(deltas) >= 9 and deltas[-1] / deltas[0] >= 1e4  # at least 9 noise levels over 4 decades
    png, caption = panel.render_with_caption(delta=deltas[3], wavelet="haar", data="gaussian")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and caption.startswith("test MSE: SVD")
    assert "learned in advance" in panel.note
    assert figures.PANELS["frames"] is figures.frame_panel
