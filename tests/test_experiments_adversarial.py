"""Chapter 5's experiments at small sizes, and claims that fail when the implementation is wrong."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.optimize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from learnreg import adversarial as adv  # noqa: E402
from learnreg import make_rng  # noqa: E402
from learnreg.experiments import adversarial as ex  # noqa: E402
from learnreg.rates import power_law_model  # noqa: E402


def _passed(claims) -> dict:
    return {c.id: c.passed for c in claims}


# ---------------------------------------------------------------------------
# the independent checks themselves
# ---------------------------------------------------------------------------


def test_golden_section_finds_interior_boundary_and_kink_minimisers():
    f = lambda t: np.array([(t[0] - 0.3) ** 2, (t[1] + 2.0) ** 2, abs(t[2] - 1.0) + 0.1 * t[2] ** 2])  # noqa: E731
    x = ex.golden_section(lambda t: f(t), [-1.0, -1.0, -1.0], [2.0, 2.0, 2.0])
    assert abs(x[0] - 0.3) < 1e-7        # smooth minimum: ~sqrt(rounding) accuracy
    assert x[1] == -1.0                  # minimiser outside the bracket: the bound
    assert abs(x[2] - 1.0) < 1e-12       # a kink is found to rounding level


def test_golden_section_agrees_with_scipy_on_the_box_objective():
    for rho, kappa in ((0.3, 0.0), (0.9, 0.0), (2.0, 0.0), (0.5, 0.2), (1.5, 1.0)):
        ref = scipy.optimize.minimize_scalar(lambda t: float(ex.box_term(t, rho, kappa)), bounds=(-1, 2),
                                             method="bounded", options={"xatol": 1e-12}).x
        ours = ex.golden_section(lambda t: ex.box_term(t, rho, kappa), [-1.0], [2.0])[0]
        assert abs(ours - ref) < 1e-6, (rho, kappa)


def test_numerical_box_factors_show_the_three_regimes():
    s, Pi = power_law_model(1.0, 2.0, 200)
    eps = 1e-2
    t = ex.box_filter_factors_numerical(s, Pi, 0.0, eps)
    beta = s * np.sqrt(Pi)
    np.testing.assert_allclose(t[beta >= eps / ex.C_ABS], 1.0, atol=1e-9)
    assert np.all(np.abs(t[beta <= ex.C_ABS * eps]) < 1e-9)
    middle = (beta > ex.C_ABS * eps) & (beta < eps / ex.C_ABS)
    assert middle.any() and np.all((t[middle] > 1e-4) & (t[middle] < 1 - 1e-4))
    np.testing.assert_allclose(t, s * adv.box_filter_noiseless(s, Pi, eps), atol=1e-6)


def test_l2_inner_max_with_a_residual_that_vanishes_on_the_largest_coefficient():
    """A zero residual (noise-free data, g_k = 1/s_k) is the hard case: all of the budget on the largest g_k."""
    g = np.array([1.0, 2.0, 3.0])
    r = np.zeros((2, 3))
    r[1] = [0.1, 0.2, 0.0]
    val, c = adv.l2_inner_max(r, g, 0.5)
    assert np.all(np.isfinite(val)) and np.all(np.isfinite(c))
    assert val[0] == 0.5**2 * 9 and np.allclose(c[0], [0, 0, 0.5])
    assert np.isclose(np.linalg.norm(c[1]), 0.5)


# ---------------------------------------------------------------------------
# the experiments at small sizes
# ---------------------------------------------------------------------------


def test_attacks_reach_the_closed_forms():
    res = ex.attacks(make_rng(1), n=32, n_samples=3, starts=5, steps=200)
    assert np.isclose(res.closed[0, 0], res.eps / res.s_min)
    np.testing.assert_allclose(res.numerical, res.closed, rtol=1e-9)
    np.testing.assert_allclose(res.pgd_errors, res.exact_errors, rtol=1e-6)
    assert all(_passed(res.claims()).values())
    assert "pseudo-inverse" in res.table() and "e-1" not in res.table()


def test_exact_training_agrees_with_the_generic_minimiser():
    res = ex.exact_training(make_rng(1), n_modes=60, n_samples=5000)
    assert res.solver_deviation < 1e-6
    assert 0 <= res.sample_excess < 1e-2
    assert res.convexity > -1e-10
    assert "golden-section" in res.table()


def test_stability_holds_for_the_adversaries_and_fails_for_least_squares():
    res = ex.stability(make_rng(2), eps_box=[1e-3, 1e-1], n_box=(50, 200), eps_l2=[1e-2, 1e-1], n_l2=(5, 10),
                       n_train=10, eps_res=(1e-2, 1e-1), n_res=(50, 500), n_train_res=5)
    assert res.ratio_box <= 1 and res.ratio_l2 <= 1 + 1e-9 and res.ratio_res.max() <= 1
    # least squares on noise-free samples is the pseudo-inverse: max_k g_k = n
    np.testing.assert_allclose(res.gmax_ls, res.n_res, rtol=1e-9)
    assert res.ratio_ls[-1, 0] / res.ratio_ls[0, 0] == pytest.approx(10.0, rel=0.01)  # mean ||x||^2 hardly moves
    ok = _passed(res.claims())
    assert ok["ch5-stability-box"] and ok["ch5-stability-resolution"] and ok["ch5-stability-ls-fails"]


def test_box_rules_match_the_bound_and_the_simulation():
    res = ex.box_rules(make_rng(3), deltas=np.logspace(-5, -1, 9), n_res=(50, 200), n_test=60)
    assert res.bound_ratio <= 1 + 1e-12
    assert res.largest_z < 5
    assert res.resolution_increase <= 0.02
    assert res.growth("square", 1e-3) > 5
    assert abs(res.slope_fixed) < 0.05
    # at delta = 1e-5 the cut-off (about 350) lies beyond n = 50: refining must lower the error
    assert res.simulated[200, "linear"][0] < res.simulated[50, "linear"][0]


def test_l2_rules_obey_the_bound_and_grow_against_white_noise():
    res = ex.l2_rules(make_rng(4), deltas=np.logspace(-3, -1, 3), n_res=(25, 100), n_train=20, n_test=30)
    assert res.bound_ratio <= 1 + 1e-9
    assert res.white[100, "linear"][0] > res.white[25, "linear"][0]
    assert res.white_box[100][0] <= res.white_box[25][0]
    assert set(res.slopes) == set(ex.RULES)


def test_pareto_closed_form_matches_monte_carlo_and_margins_are_nonnegative():
    res = ex.pareto(make_rng(5), n=32, n_mc=3000, radon_n=8, n_train=40, n_test=20)
    assert res.largest_z < 4
    for P in (res.integration, res.radon_train):
        a, b = res.margins(P)
        assert a >= -1e-12 and b >= -1e-12
    assert res.eps_train[0] == 0 and res.eps_train[res.matched] == pytest.approx(res.eps_test)
    types = {c.id: c.type for c in res.claims()}
    assert types["ch5-pareto-radon-test"] == "expectation" and types["ch5-pareto-int-simulated"] == "theory"


def test_pgd_training_reaches_the_exact_filters_at_a_small_size():
    res = ex.pgd_comparison(make_rng(6), n=6, n_train=60, outer_steps=400, record_every=50)
    for which in adv.ADVERSARIES:
        assert res.gap[which] < 1e-2 and res.gap[which] >= -1e-9
        assert res.pgd[which].gradient_evaluations == 400 * 11
    assert "16500" not in res.table() and "4400 gradients" in res.table()


def test_explain_finds_the_regimes_without_a_rule():
    res = ex.explain(make_rng(7), n=32, n_l2=30, eps_sweep=[1e-3, 1e-2, 1e-1])
    assert res.cutoff_mismatches == 0 and res.inversion_mismatches == 0
    assert res.box_margin >= 0
    assert res.numerical_noisy.shape == (3, 32)
    assert all(_passed(res.claims()).values())


def test_panel_filters_on_a_small_grid():
    res = ex.panel_filters(make_rng(8), n=8, eps=(1e-2, 1e-1), deltas=(1e-3, 1e-2, 1e-1), n_samples=20)
    assert res.box.shape == res.l2.shape == (2, 3, 8)
    g, g_mse = res.filters(1e-1, 1e-2, "box")
    np.testing.assert_allclose(g, adv.box_filter_gaussian(res.s, res.Pi, 1e-4, 1e-1))
    assert np.all(g <= g_mse + 1e-12)
    with pytest.raises(ValueError, match="grid values"):
        res.filters(0.5, 1e-2, "box")
    with pytest.raises(ValueError, match="adversary"):
        res.filters(1e-1, 1e-2, "linf")


def test_experiments_do_not_depend_on_earlier_draws():
    rng = make_rng(9)
    a = ex.box_rules(rng, deltas=np.logspace(-3, -1, 3), n_res=(20, 40), n_test=10)
    rng.standard_normal(1000)
    b = ex.box_rules(rng, deltas=np.logspace(-3, -1, 3), n_res=(20, 40), n_test=10)
    assert np.array_equal(a.simulated[40, "linear"], b.simulated[40, "linear"])


# ---------------------------------------------------------------------------
# mutation tests: a wrong implementation fails the claims
# ---------------------------------------------------------------------------


def test_an_l1_amplification_for_the_box_fails_the_attack_claim(monkeypatch):
    """Mutation: the box supremum written as eps * sum |g_k| (the l1 norm instead of the l2 norm)."""
    original = adv.amplification

    def wrong(g, eps, adversary):
        return float(eps * np.sum(np.abs(g))) if adversary == "box" else original(g, eps, adversary)

    monkeypatch.setattr(adv, "amplification", wrong)
    ok = _passed(ex.attacks(make_rng(1), n=32, n_samples=2, starts=3, steps=50).claims())
    assert not ok["ch5-attack-attained"]


def test_a_pseudo_inverse_amplification_at_the_largest_singular_value_fails(monkeypatch):
    """Mutation: sup over the ball taken at the largest |g_k| of the wrong end (eps * min |g_k|)."""
    original = adv.amplification
    monkeypatch.setattr(adv, "amplification", lambda g, eps, a: float(eps * np.min(np.abs(g))) if a == "l2"
                        else original(g, eps, a))
    ok = _passed(ex.attacks(make_rng(1), n=32, n_samples=2, starts=3, steps=50).claims())
    assert not ok["ch5-attack-l2-pinv"] and not ok["ch5-attack-attained"]


def test_a_wrong_cut_off_in_the_gaussian_solver_fails_the_solver_claim(monkeypatch):
    """Mutation: the Gaussian box solver switches modes off below s_k sqrt(Pi_k) = 1.5 c eps instead of c eps."""
    original = adv.box_filter_gaussian

    def wrong(s, Pi, Delta, eps):
        g = original(s, Pi, Delta, eps)
        return np.where(np.asarray(s) * np.sqrt(Pi) > 1.5 * ex.C_ABS * eps, g, 0.0)

    assert _passed(ex.exact_training(make_rng(1), n_modes=60, n_samples=2000).claims())["ch5-box-closed-form"]
    monkeypatch.setattr(adv, "box_filter_gaussian", wrong)
    assert not _passed(ex.exact_training(make_rng(1), n_modes=60, n_samples=2000).claims())["ch5-box-closed-form"]


def test_a_box_filter_that_never_switches_off_fails_the_resolution_claims(monkeypatch):
    """Mutation: the noiseless box filter keeps the weak modes at 1/s_k instead of switching them off."""
    original = adv.box_filter_noiseless

    def wrong(s, Pi, eps):
        g = original(s, Pi, eps)
        return np.where(g == 0, 1.0 / np.asarray(s), g)

    kwargs = dict(deltas=np.logspace(-5, -1, 9), n_res=(50, 200), n_test=40)
    assert _passed(ex.box_rules(make_rng(3), **kwargs).claims())["ch5-box-resolution"]
    monkeypatch.setattr(adv, "box_filter_noiseless", wrong)
    ok = _passed(ex.box_rules(make_rng(3), **kwargs).claims())
    assert not ok["ch5-box-resolution"] and not ok["ch5-box-bound"]


def test_a_sample_solver_that_ignores_the_adversary_fails_the_stability_claim(monkeypatch):
    """Mutation: the box sample solver returns the least-squares filter (eps dropped)."""
    from learnreg.spectral import empirical_filter

    monkeypatch.setattr(adv, "box_filter", lambda cx, cy, eps: empirical_filter(cx, cy))
    res = ex.stability(make_rng(2), eps_box=[1e-2], n_box=(50,), eps_l2=[1e-1], n_l2=(5,), n_train=5,
                       eps_res=(1e-2, 1e-1), n_res=(50, 500), n_train_res=5)
    assert not _passed(res.claims())["ch5-stability-resolution"]


def test_a_gaussian_objective_without_the_sqrt_2_over_pi_fails_the_monte_carlo_claim(monkeypatch):
    """Mutation: E|r_k| taken as sigma_k (c = 1) in the Gaussian worst-case risk."""

    def wrong(s, g, Pi, Delta, eps):
        s, g = np.asarray(s, float), np.asarray(g, float)
        sigma = np.sqrt((s * g - 1) ** 2 * Pi + g**2 * Delta)
        return float(np.sum(sigma**2 + 2 * eps * np.abs(g) * sigma + eps**2 * g**2))

    kwargs = dict(n=32, n_mc=3000, radon_n=8, n_train=20, n_test=10)
    assert _passed(ex.pareto(make_rng(5), **kwargs).claims())["ch5-pareto-int-simulated"]
    monkeypatch.setattr(adv, "box_objective_gaussian", wrong)
    assert not _passed(ex.pareto(make_rng(5), **kwargs).claims())["ch5-pareto-int-simulated"]


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("call, name", [
    (lambda: ex.attacks(None), "rng"),
    (lambda: ex.attacks(make_rng(0), n=2), "n"),
    (lambda: ex.attacks(make_rng(0), eps=-1.0), "eps"),
    (lambda: ex.exact_training(make_rng(0), eps=[0.1, -0.1]), "eps"),
    (lambda: ex.exact_training(make_rng(0), n_samples=3), "n_samples"),
    (lambda: ex.stability(make_rng(0), n_box=(1,)), "n_box"),
    (lambda: ex.stability(make_rng(0), eps_res=[]), "eps_res"),
    (lambda: ex.box_rules(make_rng(0), b=1.0), "b"),
    (lambda: ex.box_rules(make_rng(0), deltas=[1e-3, 1e-2]), "deltas"),
    (lambda: ex.l2_rules(make_rng(0), n_res=(1, 10)), "n_res"),
    (lambda: ex.pareto(make_rng(0), eps_test=0.0), "eps_test"),
    (lambda: ex.pareto(make_rng(0), radon_n=100), "radon_n"),
    (lambda: ex.pgd_comparison(make_rng(0), outer_steps=0), "outer_steps"),
    (lambda: ex.explain(make_rng(0), eps_sweep=[np.nan]), "eps_sweep"),
    (lambda: ex.panel_filters(make_rng(0), eps=(0.1, -1.0)), "eps"),
    (lambda: ex.rule_radius("cubic", 0.1), "rule"),
    (lambda: ex.golden_section(np.abs, [1.0], [0.0]), "lo and hi"),
    (lambda: ex.box_filter_factors_numerical([1.0, 0.5], [1.0], 0.0, 0.1), "Pi"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------------------
# figures and the panel
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_results():
    rng = make_rng(11)
    return {
        "stability": ex.stability(rng, eps_box=[1e-2, 1e-1], n_box=(20,), eps_l2=[1e-1, 1.0], n_l2=(5,), n_train=5,
                                  eps_res=(1e-2, 1e-1, 1.0), n_res=(20, 40), n_train_res=5),
        "box_rules": ex.box_rules(rng, deltas=np.logspace(-3, -1, 3), n_res=(20, 40), n_test=10),
        "l2_rules": ex.l2_rules(rng, deltas=np.logspace(-3, -1, 3), n_res=(5, 10), n_train=5, n_test=5),
        "pareto": ex.pareto(rng, n=16, n_mc=100, radon_n=6, n_train=20, n_test=10),
        "pgd_comparison": ex.pgd_comparison(rng, n=4, n_train=10, outer_steps=20, record_every=5),
        "explain": ex.explain(rng, n=16, n_l2=10, eps_sweep=[1e-2, 1e-1]),
    }


@pytest.mark.parametrize("name", ["stability", "box_rules", "l2_rules", "pareto", "pgd_comparison", "explain"])
def test_figure_functions_draw(small_results, name):
    from learnreg.figures import adversarial as figures

    fig = getattr(figures, name)(small_results[name])
    assert isinstance(fig, Figure) and len(fig.axes) >= 2
    assert any(ax.lines or ax.collections for ax in fig.axes)


def test_the_panel_renders_every_grid_point_and_is_registered(monkeypatch):
    from learnreg.figures import adversarial as figures

    small = ex.panel_filters(make_rng(8), n=8, eps=(1e-2, 1e-1), deltas=tuple(np.logspace(-4, 0, 9)), n_samples=10)
    monkeypatch.setattr(figures, "_panel_data", lambda: small)
    panel = figures.adversarial_panel()
    names = {p.name: p for p in panel.params}
    assert set(names) == {"eps", "delta", "adversary"}
    deltas = names["delta"].static_values()
    assert len(deltas) >= 9 and deltas[-1] / deltas[0] >= 1e4  # at least 9 noise levels over 4 decades
    png, caption = panel.render_with_caption(eps=1e-1, delta=deltas[2], adversary="l2")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and caption.startswith("L2 ball (10 samples)")
    assert "precomputed" in panel.note
    assert figures.PANELS["adversarial"] is figures.adversarial_panel


def test_a_wrong_cut_off_in_the_package_fails_the_regime_claim(monkeypatch):
    """Mutation: the package switches modes off below s_k sqrt(Pi_k) = 1.5 c eps (with and without noise)."""
    gaussian, noiseless = adv.box_filter_gaussian, adv.box_filter_noiseless
    cut = lambda s, Pi, eps, g: np.where(np.asarray(s) * np.sqrt(Pi) > 1.5 * ex.C_ABS * eps, g, 0.0)  # noqa: E731
    kwargs = dict(n=32, n_l2=10, eps_sweep=[1e-3, 1e-2, 1e-1])
    assert ex.explain(make_rng(7), **kwargs).cutoff_mismatches == 0
    monkeypatch.setattr(adv, "box_filter_gaussian", lambda s, Pi, D, eps: cut(s, Pi, eps, gaussian(s, Pi, D, eps)))
    monkeypatch.setattr(adv, "box_filter_noiseless", lambda s, Pi, eps: cut(s, Pi, eps, noiseless(s, Pi, eps)))
    assert not _passed(ex.explain(make_rng(7), **kwargs).claims())["ch5-alpha-cutoff"]


@pytest.mark.parametrize("name", ["stability", "box_rules", "l2_rules", "pareto", "pgd_comparison", "explain"])
def test_tables_fit_the_text_column(small_results, name):
    """Printed tables stay within 76 characters, the width of the book's code column."""
    text = small_results[name].table()
    assert max(len(line) for line in text.splitlines()) <= 76, text
