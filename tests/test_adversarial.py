"""Adversarial attacks and adversarial training: exact solutions against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.optimize

from learnreg import adversarial as adv
from learnreg.data import make_rng, power_law_moments
from learnreg.operators import Integration, Radon
from learnreg.spectral import empirical_filter, mse_filter, risk


def _diag_samples(rng, n=6, K=40, a=1.0, b=2.0, delta=0.05):
    s = np.arange(1, n + 1.0) ** -a
    Pi = power_law_moments(n, b)
    cx = rng.standard_normal((K, n)) * np.sqrt(Pi)
    cy = s * cx + delta * rng.standard_normal((K, n))
    return s, Pi, cx, cy


# ---------------------------------------------------------------------------
# attacks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("adversary", adv.ADVERSARIES)
def test_attack_perturbation_attains_the_exact_amplification(adversary):
    op = Integration(40)
    svd = op.svd()
    rng = make_rng(1)
    g = rng.standard_normal(svd.rank) * np.linspace(1, 5, svd.rank)
    eta = adv.attack_perturbation(svd, g, 0.3, adversary)
    R = adv.reconstructor_matrix(svd, g)
    out = R @ eta
    got = float(np.sqrt(np.sum(out**2 * svd.weights_x)))
    assert got == pytest.approx(adv.amplification(g, 0.3, adversary), rel=1e-12)
    # eta lies in the attack set
    c = svd.coefficients_y(eta)
    if adversary == "l2":
        assert np.sqrt(np.sum(eta**2 * svd.weights_y)) == pytest.approx(0.3, rel=1e-12)
    else:
        assert np.max(np.abs(c)) == pytest.approx(0.3, rel=1e-12)


def test_amplification_of_the_pseudo_inverse_is_eps_over_smin():
    s = Integration(50).svd().s
    assert adv.amplification(1 / s, 0.01, "l2") == pytest.approx(0.01 / s[-1], rel=1e-14)


@pytest.mark.parametrize("adversary", adv.ADVERSARIES)
def test_amplification_is_a_supremum_over_random_points_of_the_set(adversary):
    # brute force: no point of the set does better, and random vertices / sphere points come close
    rng = make_rng(2)
    g = rng.standard_normal(5)
    eps = 0.7
    best = 0.0
    for signs in itertools.product([-1.0, 1.0], repeat=5):
        if adversary == "box":
            best = max(best, np.linalg.norm(g * eps * np.array(signs)))
    if adversary == "l2":
        c = rng.standard_normal((20000, 5))
        c *= eps / np.linalg.norm(c, axis=1, keepdims=True)
        vals = np.linalg.norm(g * c, axis=1)
        best = vals.max()
        assert best <= adv.amplification(g, eps, adversary) * (1 + 1e-12)
        assert best >= 0.97 * adv.amplification(g, eps, adversary)
    else:
        assert best == pytest.approx(adv.amplification(g, eps, adversary), rel=1e-12)


def _brute_force_trust_region(r, g, eps, rng, starts=60, iters=300):
    best = -np.inf
    for _ in range(starts):
        z = rng.standard_normal(r.shape[0])
        z *= eps / np.linalg.norm(z)
        for _ in range(iters):
            z = z + 0.2 * 2 * g * (r + g * z)
            z *= eps / np.linalg.norm(z)
        best = max(best, float(np.sum((r + g * z) ** 2)))
    return best


def test_l2_inner_max_matches_brute_force_and_lies_on_the_sphere():
    rng = make_rng(3)
    R = rng.standard_normal((6, 5))
    g = rng.standard_normal(5)
    val, c = adv.l2_inner_max(R, g, 0.8)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 0.8, rtol=1e-10)
    np.testing.assert_allclose(val, np.sum((R + g * c) ** 2, axis=1), rtol=1e-13)
    for i in range(R.shape[0]):
        assert val[i] == pytest.approx(_brute_force_trust_region(R[i], g, 0.8, rng), rel=1e-9)
    # no random point of the ball beats it
    z = rng.standard_normal((5000, 5))
    z *= 0.8 * rng.uniform(size=(5000, 1)) ** 0.2 / np.linalg.norm(z, axis=1, keepdims=True)
    assert np.max(np.sum((R[0] + g * z) ** 2, axis=1)) <= val[0] * (1 + 1e-12)


def test_l2_inner_max_hard_case():
    # residual vanishes on the component of largest |g|: the maximiser must use it anyway
    g = np.array([3.0, 1.0, 0.5])
    r = np.array([0.0, 0.1, -0.2])
    val, c = adv.l2_inner_max(r, g, 1.0)
    assert np.linalg.norm(c) == pytest.approx(1.0, rel=1e-10)
    rng = make_rng(4)
    assert val == pytest.approx(_brute_force_trust_region(r, g, 1.0, rng), rel=1e-9)
    assert val > 9.0  # at least eps^2 max g^2


@pytest.mark.parametrize("adversary", adv.ADVERSARIES)
def test_pgd_attack_reaches_the_exact_worst_case_on_a_spectral_reconstructor(adversary):
    op = Radon(8)
    svd = op.svd()
    rng = make_rng(5)
    g = 1.0 / (svd.s + 0.5)
    X = rng.standard_normal((4, op.shape[1]))
    Y = op.apply(X) + 0.1 * rng.standard_normal((4, op.shape[0]))
    R = adv.reconstructor_matrix(svd, g)
    errs, eta = adv.pgd_attack(R, X, Y, 0.2, adversary, svd, steps=300, step_size=0.1, rng=rng)
    # exact: range part from the coefficients, plus the part of x that R cannot touch
    cx, cy = svd.coefficients_x(X), svd.coefficients_y(Y)
    exact = adv.worst_case_errors(g, cx, cy, 0.2, adversary)
    outside = np.sum(X**2 * svd.weights_x, axis=1) - np.sum(cx**2, axis=1)
    np.testing.assert_allclose(errs, exact + outside, rtol=1e-6)


def test_pgd_attack_on_a_non_spectral_reconstructor_is_bounded_by_the_operator_norm():
    # generic R: the L2 attack cannot exceed (||R y - x|| + eps ||R||)^2 and reaches near it for y = x = 0
    op = Integration(12)
    svd = op.svd()
    rng = make_rng(6)
    R = rng.standard_normal(op.shape[::-1])
    zero_x, zero_y = np.zeros((1, op.shape[1])), np.zeros((1, op.shape[0]))
    errs, _ = adv.pgd_attack(R, zero_x, zero_y, 0.5, "l2", svd, steps=500, rng=rng, random_start=True)
    sx, sy = np.sqrt(svd.weights_x), np.sqrt(svd.weights_y)
    opnorm = np.linalg.norm(sx[:, None] * R / sy[None, :], 2)
    assert np.sqrt(errs[0]) == pytest.approx(0.5 * opnorm, rel=1e-6)


# ---------------------------------------------------------------------------
# exact box training
# ---------------------------------------------------------------------------


def test_box_filter_matches_a_generic_scalar_solver():
    rng = make_rng(7)
    s, Pi, cx, cy = _diag_samples(rng)
    eps = 0.1
    g = adv.box_filter(cx, cy, eps)
    for k in range(s.shape[0]):
        f = lambda t, k=k: np.mean((np.abs(t * cy[:, k] - cx[:, k]) + eps * abs(t)) ** 2)  # noqa: E731
        ref = scipy.optimize.minimize_scalar(f, bounds=(-50, 50), method="bounded", options={"xatol": 1e-12})
        assert f(g[k]) <= f(ref.x) + 1e-13
        assert g[k] == pytest.approx(ref.x, abs=1e-6)


def test_box_filter_matches_generic_multivariate_solver_on_the_joint_objective():
    rng = make_rng(8)
    s, Pi, cx, cy = _diag_samples(rng, n=4, K=30)
    eps = 0.05
    g = adv.box_filter(cx, cy, eps)
    ref = scipy.optimize.minimize(lambda t: adv.box_objective(t, cx, cy, eps), np.zeros(4), method="Powell",
                                  options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 100000})
    assert adv.box_objective(g, cx, cy, eps) <= ref.fun + 1e-12
    np.testing.assert_allclose(g, ref.x, atol=1e-5)


def test_box_filter_at_eps_zero_is_the_empirical_filter():
    rng = make_rng(9)
    _, _, cx, cy = _diag_samples(rng)
    np.testing.assert_allclose(adv.box_filter(cx, cy, 0.0), empirical_filter(cx, cy), rtol=1e-12)


def test_box_objective_gaussian_matches_monte_carlo():
    rng = make_rng(10)
    n, K = 5, 400_000
    s = np.arange(1, n + 1.0) ** -1
    Pi, Delta = power_law_moments(n, 2), np.full(n, 0.01)
    g = np.array([0.9, 1.5, 2.0, 1.0, 0.3])
    cx = rng.standard_normal((K, n)) * np.sqrt(Pi)
    cy = s * cx + rng.standard_normal((K, n)) * np.sqrt(Delta)
    mc = adv.box_objective(g, cx, cy, 0.1)
    # standard error of a mean of K samples of a sum of squares: a few times 1e-3 relative at most
    assert mc == pytest.approx(adv.box_objective_gaussian(s, g, Pi, Delta, 0.1), rel=5e-3)


def test_box_filter_gaussian_agrees_with_closed_form_and_limits():
    n = 2000
    s = np.arange(1, n + 1.0) ** -1
    Pi = power_law_moments(n, 2)
    for eps in (1e-4, 1e-2, 0.3):
        np.testing.assert_allclose(
            adv.box_filter_gaussian(s, Pi, 0.0, eps) * s, adv.box_filter_noiseless(s, Pi, eps) * s, atol=1e-12
        )
    Delta = np.full(n, 1e-4)
    np.testing.assert_allclose(adv.box_filter_gaussian(s, Pi, Delta, 0.0), mse_filter(s, Pi, Delta), rtol=1e-12)


def test_box_filter_gaussian_minimises_each_term():
    n = 30
    s = np.arange(1, n + 1.0) ** -1.5
    Pi, Delta = power_law_moments(n, 1.5), np.full(n, 1e-3)
    g = adv.box_filter_gaussian(s, Pi, Delta, 0.05)
    base = adv.box_objective_gaussian(s, g, Pi, Delta, 0.05)
    for k in range(n):
        for t in (-1e-4, 1e-4):
            h = g.copy()
            h[k] += t * g[k] + t
            assert adv.box_objective_gaussian(s, h, Pi, Delta, 0.05) >= base - 1e-15


def test_box_adversarial_filter_shrinks_the_mse_filter():
    # Proposition: g_adv <= g_mse componentwise, i.e. alpha_adv >= Delta/Pi
    n = 500
    s = np.arange(1, n + 1.0) ** -1
    Pi, Delta = power_law_moments(n, 2), np.full(n, 1e-4)
    g = adv.box_filter_gaussian(s, Pi, Delta, 0.01)
    assert np.all(g <= mse_filter(s, Pi, Delta) * (1 + 1e-12))


def test_sample_box_filter_converges_to_gaussian_closed_form():
    # the empirical minimiser's Gaussian objective exceeds the optimum by O(r/K) (r = 8, K = 1e5: ~1e-4)
    rng = make_rng(11)
    n, K = 8, 100_000
    s = np.arange(1, n + 1.0) ** -1
    Pi, delta = power_law_moments(n, 2), 0.05
    exact = adv.box_filter_gaussian(s, Pi, delta**2, 0.05)
    cx = rng.standard_normal((K, n)) * np.sqrt(Pi)
    cy = s * cx + delta * rng.standard_normal((K, n))
    g = adv.box_filter(cx, cy, 0.05)
    F_opt = adv.box_objective_gaussian(s, exact, Pi, delta**2, 0.05)
    F_emp = adv.box_objective_gaussian(s, g, Pi, delta**2, 0.05)
    assert F_opt <= F_emp
    assert F_emp - F_opt <= 1e-3 * F_opt


@pytest.mark.parametrize("adversary", adv.ADVERSARIES)
def test_adversarial_objective_is_convex_along_random_lines(adversary):
    rng = make_rng(12)
    _, _, cx, cy = _diag_samples(rng, n=6, K=25)
    for _ in range(20):
        g0, d = rng.standard_normal(6) * 2, rng.standard_normal(6)
        t = np.linspace(-2, 2, 41)
        f = np.array([np.mean(adv.worst_case_errors(g0 + ti * d, cx, cy, 0.3, adversary)) for ti in t])
        second = f[:-2] - 2 * f[1:-1] + f[2:]
        assert np.all(second >= -1e-10 * np.max(np.abs(f)))


# ---------------------------------------------------------------------------
# L2 training and PGD training
# ---------------------------------------------------------------------------


def test_l2_filter_matches_a_generic_derivative_free_solver():
    rng = make_rng(13)
    _, _, cx, cy = _diag_samples(rng, n=3, K=20)
    eps = 0.1
    g = adv.l2_filter(cx, cy, eps)
    f = lambda t: adv.l2_objective(t, cx, cy, eps)  # noqa: E731
    ref = scipy.optimize.minimize(f, np.zeros(3), method="Nelder-Mead",
                                  options={"xatol": 1e-10, "fatol": 1e-15, "maxfev": 20000})
    assert f(g) <= ref.fun + 1e-12
    np.testing.assert_allclose(g, ref.x, atol=1e-5)


def test_l2_gradient_matches_finite_differences():
    rng = make_rng(14)
    _, _, cx, cy = _diag_samples(rng, n=5, K=10)
    g = rng.uniform(0.5, 3, 5)
    F, grad = adv.l2_objective(g, cx, cy, 0.2, return_gradient=True)
    h = 1e-6
    fd = [(adv.l2_objective(g + h * e, cx, cy, 0.2) - adv.l2_objective(g - h * e, cx, cy, 0.2)) / (2 * h)
          for e in np.eye(5)]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("adversary", adv.ADVERSARIES)
def test_stability_bound_without_training_noise(adversary):
    # eps^2 max g^2 <= F(g*) <= F(0) = mean ||x||^2, even with Delta = 0
    rng = make_rng(15)
    s, Pi, cx, _ = _diag_samples(rng, n=20, K=30)
    cy = s * cx
    for eps in (0.3, 0.03):
        g = adv.box_filter(cx, cy, eps) if adversary == "box" else adv.l2_filter(cx, cy, eps)
        assert eps * np.max(np.abs(g)) <= np.sqrt(np.mean(np.sum(cx**2, axis=1))) * (1 + 1e-9)


@pytest.mark.parametrize("adversary", adv.ADVERSARIES)
def test_pgd_training_reaches_the_exact_solution(adversary):
    rng = make_rng(16)
    _, _, cx, cy = _diag_samples(rng, n=5, K=60)
    eps = 0.05
    exact = adv.box_filter(cx, cy, eps) if adversary == "box" else adv.l2_filter(cx, cy, eps)
    res = adv.pgd_training(cx, cy, eps, adversary, rng=rng, outer_steps=1500, inner_steps=10)
    F_exact = np.mean(adv.worst_case_errors(exact, cx, cy, eps, adversary))
    F_pgd = np.mean(adv.worst_case_errors(res.g, cx, cy, eps, adversary))
    assert F_exact <= F_pgd * (1 + 1e-12)  # the exact solution is optimal
    assert F_pgd <= F_exact * (1 + 1e-3)
    assert np.linalg.norm(res.g - exact) <= 3e-2 * np.linalg.norm(exact)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [-0.1, np.nan, np.inf, "0.1"])
def test_bad_eps_is_rejected(eps):
    with pytest.raises(ValueError, match="eps"):
        adv.amplification([1.0, 2.0], eps, "l2")
    with pytest.raises(ValueError, match="eps"):
        adv.box_filter(np.ones((3, 2)), np.ones((3, 2)), eps)


def test_unknown_adversary_is_rejected():
    with pytest.raises(ValueError, match="adversary"):
        adv.amplification([1.0], 0.1, "linf")
    with pytest.raises(ValueError, match="adversary"):
        adv.pgd_training(np.ones((3, 2)), np.ones((3, 2)), 0.1, "L2", rng=make_rng(0))


def test_mismatched_shapes_are_rejected():
    op = Integration(10)
    svd = op.svd()
    with pytest.raises(ValueError, match="g must have one coefficient"):
        adv.attack_perturbation(svd, np.ones(9), 0.1, "l2")
    with pytest.raises(ValueError, match="R must have shape"):
        adv.pgd_attack(np.ones((10, 11)), np.ones((1, 10)), np.ones((1, 10)), 0.1, "l2", svd, rng=make_rng(0))
    with pytest.raises(ValueError, match="x must have shape"):
        adv.pgd_attack(np.ones((10, 10)), np.ones((1, 9)), np.ones((1, 10)), 0.1, "box", svd, rng=make_rng(0))
    with pytest.raises(ValueError, match="cx and cy"):
        adv.box_filter(np.ones((3, 2)), np.ones((3, 3)), 0.1)
    with pytest.raises(ValueError, match="g must have one coefficient"):
        adv.worst_case_errors(np.ones(3), np.ones((2, 2)), np.ones((2, 2)), 0.1, "box")
    with pytest.raises(ValueError, match="Pi"):
        adv.box_filter_gaussian(np.ones(3), np.ones(2), 0.0, 0.1)
    with pytest.raises(ValueError, match="svd"):
        adv.reconstructor_matrix(np.ones((3, 3)), np.ones(3))


def test_non_finite_data_is_rejected():
    cx = np.ones((3, 2))
    cy = cx.copy()
    cy[0, 0] = np.nan
    with pytest.raises(ValueError, match="cy"):
        adv.l2_filter(cx, cy, 0.1)
    with pytest.raises(ValueError, match="rng"):
        adv.pgd_training(cx, cx, 0.1, "box", rng=np.random.default_rng(0).bit_generator)


def test_worst_case_errors_are_consistent_with_risk_at_eps_zero():
    rng = make_rng(17)
    s, Pi, cx, cy = _diag_samples(rng, n=4, K=10)
    g = rng.uniform(0, 2, 4)
    for adversary in adv.ADVERSARIES:
        np.testing.assert_allclose(adv.worst_case_errors(g, cx, cy, 0.0, adversary),
                                   np.sum((g * cy - cx) ** 2, axis=1), rtol=1e-13)
    assert adv.box_objective_gaussian(s, g, Pi, 0.01, 0.0) == pytest.approx(risk(s, g, Pi, 0.01).total, rel=1e-13)
