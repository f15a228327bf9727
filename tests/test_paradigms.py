"""Tests of learnreg.paradigms: closed forms against brute force, identities to tight tolerances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from learnreg import paradigms as P
from learnreg.data import gaussian_random_field, make_rng, power_law_moments, white_noise
from learnreg.operators import SVD, Integration
from learnreg.spectral import empirical_filter, mse_filter, risk


def diagonal_svd(s):
    s = np.asarray(s, dtype=float)
    r = s.shape[0]
    return SVD(s, np.eye(r), np.eye(r), np.ones(r), np.ones(r))


@pytest.fixture(scope="module")
def setting():
    op = Integration(32)
    svd = op.svd()
    Pi = power_law_moments(svd.rank, 2.0)
    return op, svd, Pi


def weighted_solve(op, svd, w, z=None, y=None, step=1.0):
    """Brute force: minimise in grid values with dense linear algebra (weighted L2 norms).

    Objective 1/2||x - z||^2 + J(x)/step (prox) or 1/2||Ax - y||^2 + J(x)/step (variational),
    J(x) = 1/2 sum_k w_k <x, u_k>^2, written with matrices: <x,u_k> = (U^T W x)_k.
    """
    N = op.shape[1]
    W = np.diag(op.weights_x)
    UtW = svd.U.T @ W
    hessJ = UtW.T @ np.diag(w / step) @ UtW  # Euclidean Hessian of J/step in grid values
    if z is not None:
        return np.linalg.solve(W + hessJ, W @ z)
    M = op.matrix
    Wy = np.diag(op.weights_y)
    return np.linalg.solve(M.T @ Wy @ M + hessJ, M.T @ Wy @ y)


# --------------------------------------------------------------------- denoiser


def test_mmse_denoiser_matches_brute_force_minimisation():
    Pi = np.array([1.0, 0.3, 1e-3, 0.0])
    tau = np.array([0.1, 0.3, 1.0, 0.5])
    d = P.mmse_denoiser(Pi, tau)
    for k in range(4):
        res = minimize_scalar(lambda t: (1 - t) ** 2 * Pi[k] + t**2 * tau[k], bounds=(-1, 2), method="bounded",
                              options={"xatol": 1e-12})
        assert abs(res.x - d[k]) < 1e-7
    assert P.mmse_denoiser([0.0], [0.0]).tolist() == [0.0]


def test_empirical_denoiser_converges_within_sampling_error(setting):
    op, svd, Pi = setting
    rng = make_rng(11)
    K, tau = 20000, 1e-2
    X = gaussian_random_field(svd.U, Pi, K, rng)
    Z = X + white_noise(op.weights_x, np.sqrt(tau), K, rng)
    d_hat = P.empirical_denoiser(svd, X, Z)
    d = P.mmse_denoiser(Pi, tau)
    # std of the regression coefficient is sqrt(d(1-d)/K) <= 0.5/sqrt(K); 5 std over 32 modes
    assert np.max(np.abs(d_hat - d)) < 5 * 0.5 / np.sqrt(K)
    # and exactly the least-squares formula
    np.testing.assert_allclose(d_hat, empirical_filter(svd.coefficients_x(X), svd.coefficients_x(Z)), rtol=1e-13)


def test_prox_identity_against_dense_solve(setting):
    op, svd, Pi = setting
    rng = make_rng(1)
    d = P.mmse_denoiser(Pi, 3e-3)
    w = P.prox_weights(d)
    np.testing.assert_allclose(w, 3e-3 / Pi, rtol=1e-12)
    D = P.SpectralDenoiser(svd, d)
    z = rng.standard_normal(op.shape[1])
    brute = weighted_solve(op, svd, w, z=z)
    assert np.max(np.abs(D(z) - brute)) <= 1e-12 * np.max(np.abs(z))
    for step in (0.5, 4.0):
        brute = weighted_solve(op, svd, w, z=z, step=1.0 / step)  # prox of step * J
        via = svd.synthesis_x(P.spectral_prox(d, svd.coefficients_x(z), step=step))
        assert np.max(np.abs(via - brute)) <= 1e-12 * np.max(np.abs(z))


def test_prox_minimises_explicit_regularizer_objective(setting):
    op, svd, Pi = setting
    rng = make_rng(2)
    d = P.mmse_denoiser(Pi, 1e-2)
    cz = rng.standard_normal(svd.rank)
    cp = P.spectral_prox(d, cz)

    def objective(c):
        return 0.5 * np.sum((c - cz) ** 2) + P.explicit_regularizer(d, c)

    best = objective(cp)
    for _ in range(20):
        assert objective(cp + 1e-3 * rng.standard_normal(svd.rank)) > best


def test_prox_weights_edge_values():
    w = P.prox_weights([0.0, 0.5, 1.0])
    assert np.isinf(w[0]) and w[1] == 1.0 and w[2] == 0.0
    assert P.explicit_regularizer([0.0, 0.5], [0.0, 2.0]) == 2.0  # 1/2 * w * c^2 = 1/2 * 1 * 4
    assert np.isinf(P.explicit_regularizer([0.0, 0.5], [1.0, 2.0]))
    np.testing.assert_array_equal(P.spectral_prox([0.0, 1.0], [3.0, 3.0]), [0.0, 3.0])


# --------------------------------------------------------------------- variational and PnP


def test_variational_filter_is_mse_filter_when_tau_equals_delta(setting):
    _, svd, Pi = setting
    Delta = 1e-4
    g = P.variational_filter(svd.s, P.prox_weights(P.mmse_denoiser(Pi, Delta)))
    np.testing.assert_allclose(g, mse_filter(svd.s, Pi, Delta), rtol=1e-12)
    assert P.variational_filter([1.0], [np.inf]).tolist() == [0.0]


def test_pnp_fixed_point_filter_equals_variational_filter_for_j_over_step(setting):
    _, svd, Pi = setting
    d = P.mmse_denoiser(Pi, 1e-3)
    for step in (0.3, 1.0, 3.0):
        np.testing.assert_allclose(
            P.pnp_fixed_point_filter(svd.s, d, step), P.variational_filter(svd.s, P.prox_weights(d) / step), rtol=1e-12
        )


@pytest.mark.parametrize("step", [1.0, 3.0])
def test_pnp_iterations_converge_to_variational_solution(setting, step):
    op, svd, Pi = setting
    rng = make_rng(3)
    Delta = 1e-3
    d = P.mmse_denoiser(Pi, Delta)
    x = gaussian_random_field(svd.U, Pi, 1, rng)[0]
    y = op.apply(x) + white_noise(op.weights_y, np.sqrt(Delta), 1, rng)[0]
    x_var = weighted_solve(op, svd, P.prox_weights(d), y=y, step=step)  # brute force
    rho = float(np.max(P.pnp_contraction(svd.s, d, step)))
    n_iter = int(np.ceil(np.log(1e-13) / np.log(rho)))
    res = P.pnp_proximal_gradient(op, P.SpectralDenoiser(svd, d), y, step, n_iter, reference=x_var)
    assert res.contraction == pytest.approx(rho)
    scale = np.sqrt(np.sum(op.weights_x * x_var**2))
    assert res.distances[-1] <= 1e-11 * scale
    t = np.arange(n_iter + 1)
    assert np.all(res.distances <= rho**t * res.distances[0] * (1 + 1e-9) + 1e-14 * scale)
    # the fixed point is also the closed-form filter applied to y
    x_fp = svd.synthesis_x(P.pnp_fixed_point_filter(svd.s, d, step) * svd.coefficients_y(y))
    assert np.sqrt(np.sum(op.weights_x * (x_fp - x_var) ** 2)) <= 1e-11 * scale


def test_pnp_with_a_generic_callable_matches_spectral_denoiser(setting):
    op, svd, Pi = setting
    rng = make_rng(4)
    d = P.mmse_denoiser(Pi, 1e-2)
    D = P.SpectralDenoiser(svd, d)
    y = rng.standard_normal(op.shape[0])
    a = P.pnp_proximal_gradient(op, D, y, 1.0, 50)
    b = P.pnp_proximal_gradient(op, lambda z: D(z), y, 1.0, 50)
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=1e-14)
    assert b.contraction is None and a.contraction is not None
    # an SVD can stand in for the operator
    c = P.pnp_proximal_gradient(svd, D, y, 1.0, 50)
    np.testing.assert_allclose(a.x, c.x, rtol=0, atol=1e-12)


# --------------------------------------------------------------------- post-processing


def test_post_processing_filters(setting):
    _, svd, Pi = setting
    s, tau, Delta = svd.s, 1e-3, 1e-4
    g = P.post_processing_filter(s, P.mmse_denoiser(Pi, tau))
    np.testing.assert_allclose(g, Pi / (s * (Pi + tau)), rtol=1e-13)
    g_ap = P.post_processing_filter(s, P.mmse_denoiser(Pi, P.pseudo_inverse_noise_moments(s, Delta)))
    np.testing.assert_allclose(g_ap, mse_filter(s, Pi, Delta), rtol=1e-12)


def test_post_processing_trained_on_pseudo_inverse_samples_is_supervised_filter(setting):
    op, svd, Pi = setting
    rng = make_rng(5)
    K = 300
    X = gaussian_random_field(svd.U, Pi, K, rng)
    Y = op.apply(X) + white_noise(op.weights_y, 1e-2, K, rng)
    X_pinv = svd.synthesis_x(svd.coefficients_y(Y) / svd.s)  # A^+ y in image space
    d_hat = P.empirical_denoiser(svd, X, X_pinv)
    g_sup = empirical_filter(svd.coefficients_x(X), svd.coefficients_y(Y))
    np.testing.assert_allclose(P.post_processing_filter(svd.s, d_hat), g_sup, rtol=1e-9)


# --------------------------------------------------------------------- self-supervised and SURE


def test_self_supervised_and_sure_closed_forms_equal_mse_filter(setting):
    _, svd, Pi = setting
    Delta = 1e-3 * np.linspace(0.5, 2.0, svd.rank)
    g = mse_filter(svd.s, Pi, Delta)
    np.testing.assert_allclose(P.self_supervised_filter(svd.s, Pi, Delta), g, rtol=1e-13)
    np.testing.assert_allclose(P.sure_filter(svd.s, Pi, Delta), g, rtol=1e-12)


def test_self_supervised_closed_form_minimises_expected_loss_brute_force():
    s = np.array([1.0, 0.5, 0.1, 0.01])
    Pi = np.array([1.0, 0.2, 0.05, 0.01])
    Delta, Dp = np.array([0.01, 0.02, 0.01, 0.03]), np.array([0.5, 0.1, 0.2, 0.1])
    g = P.self_supervised_filter(s, Pi, Delta)
    base = P.self_supervised_loss(s, g, Pi, Delta, Dp)
    for k in range(4):
        def f(t):
            gg = g.copy()
            gg[k] = t
            return P.self_supervised_loss(s, gg, Pi, Delta, Dp)

        res = minimize_scalar(f, bracket=(g[k] - 1, g[k] + 1), tol=1e-12)
        assert abs(res.x - g[k]) <= 1e-6 * max(1.0, abs(g[k]))
        assert f(g[k] + 1e-3) > base and f(g[k] - 1e-3) > base


def test_expected_self_supervised_loss_matches_monte_carlo():
    rng = make_rng(6)
    s, Pi = np.array([1.0, 0.5, 0.2]), np.array([1.0, 0.5, 0.25])
    Delta, Dp = np.array([0.1, 0.1, 0.1]), np.array([0.2, 0.05, 0.3])
    g = np.array([0.8, 1.1, 2.0])
    K = 200000
    x = rng.standard_normal((K, 3)) * np.sqrt(Pi)
    y = s * x + rng.standard_normal((K, 3)) * np.sqrt(Delta)
    yp = s * x + rng.standard_normal((K, 3)) * np.sqrt(Dp)
    vals = np.sum((s * g * y - yp) ** 2, axis=1)
    se = vals.std() / np.sqrt(K)
    assert abs(vals.mean() - P.self_supervised_loss(s, g, Pi, Delta, Dp)) < 5 * se


def test_empirical_self_supervised_filter_is_data_space_least_squares(setting):
    op, svd, Pi = setting
    rng = make_rng(7)
    K = 50
    X = gaussian_random_field(svd.U, Pi, K, rng)
    Y = op.apply(X) + white_noise(op.weights_y, 0.05, K, rng)
    Yp = op.apply(X) + white_noise(op.weights_y, 0.05, K, rng)
    g = P.empirical_self_supervised_filter(svd, Y, Yp)
    # brute force: the loss is linear least squares in g; columns = A R_{e_k} y_i in weighted data space
    sw = np.sqrt(op.weights_y)
    cy = svd.coefficients_y(Y)
    cols = [((svd.s[k] * cy[:, k])[:, None] * svd.V[:, k][None, :] * sw).ravel() for k in range(svd.rank)]
    g_ls = np.linalg.lstsq(np.stack(cols, axis=1), (Yp * sw).ravel(), rcond=None)[0]
    np.testing.assert_allclose(g, g_ls, rtol=1e-8, atol=1e-10 * np.max(np.abs(g)))
    loss = P.empirical_self_supervised_loss(svd, g, Y, Yp)
    for k in (0, 5, 31):
        e = np.zeros(svd.rank)
        e[k] = 1e-3 * max(1.0, abs(g[k]))
        assert P.empirical_self_supervised_loss(svd, g + e, Y, Yp) > loss
        assert P.empirical_self_supervised_loss(svd, g - e, Y, Yp) > loss


def test_empirical_sure_filter_minimises_sure_and_sure_is_unbiased():
    rng = make_rng(8)
    s, Pi, Delta = np.array([1.0, 0.3, 0.1]), np.array([1.0, 0.3, 0.1]), np.array([0.05, 0.02, 0.01])
    svd = diagonal_svd(s)
    K = 100
    Y = s * rng.standard_normal((K, 3)) * np.sqrt(Pi) + rng.standard_normal((K, 3)) * np.sqrt(Delta)
    g = P.empirical_sure_filter(svd, Y, Delta)
    base = P.sure_loss(svd, g, Y, Delta)
    for k in range(3):
        e = np.zeros(3)
        e[k] = 1e-4
        assert P.sure_loss(svd, g + e, Y, Delta) > base and P.sure_loss(svd, g - e, Y, Delta) > base
    # unbiasedness: average SURE over many independent data sets vs the measurement-space risk
    gfix = np.array([0.9, 2.0, 3.0])
    target = np.sum(s**2 * ((1 - s * gfix) ** 2 * Pi + gfix**2 * Delta))
    vals = []
    for _ in range(4000):
        Yi = s * rng.standard_normal((1, 3)) * np.sqrt(Pi) + rng.standard_normal((1, 3)) * np.sqrt(Delta)
        vals.append(P.sure_loss(svd, gfix, Yi, Delta))
    vals = np.array(vals)
    assert abs(vals.mean() - target) < 5 * vals.std() / np.sqrt(len(vals))


@pytest.mark.parametrize("method", ["supervised", "self-supervised", "sure"])
def test_asymptotic_excess_risk_matches_monte_carlo(method):
    rng = make_rng(9)
    r, K, reps = 8, 400, 400
    s = np.arange(1, r + 1) ** -1.0
    Pi = np.arange(1, r + 1) ** -2.0
    Delta = np.full(r, 1e-2)
    svd = diagonal_svd(s)
    out = []
    for _ in range(reps):
        x = rng.standard_normal((K, r)) * np.sqrt(Pi)
        Y = s * x + rng.standard_normal((K, r)) * np.sqrt(Delta)
        if method == "supervised":
            g = empirical_filter(x, Y)
        elif method == "self-supervised":
            g = P.empirical_self_supervised_filter(svd, Y, s * x + rng.standard_normal((K, r)) * np.sqrt(Delta))
        else:
            g = P.empirical_sure_filter(svd, Y, Delta)
        out.append(P.excess_risk(s, g, Pi, Delta))
    measured = np.mean(out)
    predicted = P.asymptotic_excess_risk(s, Pi, Delta, K, method)
    # Monte Carlo standard error plus O(1/K) corrections of the delta method
    se = np.std(out) / np.sqrt(reps)
    assert abs(measured - predicted) < 4 * se + 0.05 * predicted


def test_excess_risk_equals_risk_difference(setting):
    _, svd, Pi = setting
    g = mse_filter(svd.s, Pi, 1e-3) * 1.1
    diff = risk(svd.s, g, Pi, 1e-3).total - risk(svd.s, mse_filter(svd.s, Pi, 1e-3), Pi, 1e-3).total
    assert P.excess_risk(svd.s, g, Pi, 1e-3) == pytest.approx(diff, rel=1e-9)


def test_monte_carlo_risk_agrees_with_risk_decomposition():
    rng = make_rng(10)
    s = np.arange(1, 3001) ** -2.0
    Pi = np.arange(1, 3001) ** -1.5
    g = P.post_processing_filter(s, P.mmse_denoiser(Pi, 1e-4))
    mean, se = P.monte_carlo_risk(s, g, Pi, 1e-4, 200, rng)
    assert abs(mean - risk(s, g, Pi, 1e-4).total) < 5 * se


# --------------------------------------------------------------------- bad input


@pytest.mark.parametrize("d", [[0.5, 1.2], [-0.1, 0.5]])
def test_denoiser_outside_unit_interval_is_not_a_prox(d):
    with pytest.raises(ValueError, match=r"d must lie in \[0, 1\]"):
        P.prox_weights(d)
    with pytest.raises(ValueError, match=r"d must lie in \[0, 1\]"):
        P.spectral_prox(d, [1.0, 1.0])
    with pytest.raises(ValueError, match=r"d must lie in \[0, 1\]"):
        P.explicit_regularizer(d, [1.0, 1.0])


def test_step_breaking_pnp_convergence_raises(setting):
    op, svd, Pi = setting
    d = np.ones(svd.rank) * 0.999
    bad = 2.5 / svd.s[0] ** 2  # |d_1 (1 - step s_1^2)| = 1.4985 > 1
    with pytest.raises(ValueError, match="breaks PnP convergence"):
        P.pnp_fixed_point_filter(svd.s, d, bad)
    with pytest.raises(ValueError, match="breaks PnP convergence"):
        P.pnp_proximal_gradient(op, P.SpectralDenoiser(svd, d), np.zeros(32), bad, 5)
    with pytest.raises(ValueError, match=r"step must satisfy 0 < step < 2/\|\|A\|\|\^2"):
        P.pnp_proximal_gradient(op, lambda z: z, np.zeros(32), 2.0 / svd.s[0] ** 2, 5)
    with pytest.raises(ValueError, match="step must be positive"):
        P.pnp_proximal_gradient(op, lambda z: z, np.zeros(32), 0.0, 5)
    # a small denoiser coefficient can make a large step converge: the exact condition decides
    d_small = np.full(svd.rank, 0.2)
    P.pnp_fixed_point_filter(svd.s, d_small, 2.5 / svd.s[0] ** 2)


def test_pnp_bad_arguments(setting):
    op, svd, Pi = setting
    D = P.SpectralDenoiser(svd, P.mmse_denoiser(Pi, 1e-2))
    with pytest.raises(ValueError, match="y must have shape"):
        P.pnp_proximal_gradient(op, D, np.zeros(31), 1.0, 5)
    with pytest.raises(ValueError, match="denoiser must be callable"):
        P.pnp_proximal_gradient(op, 3.0, np.zeros(32), 1.0, 5)
    with pytest.raises(ValueError, match="denoiser must return a finite image"):
        P.pnp_proximal_gradient(op, lambda z: z[:-1], np.zeros(32), 1.0, 5)
    with pytest.raises(ValueError, match="op must be a LinearOperator or an SVD"):
        P.pnp_proximal_gradient(np.eye(32), D, np.zeros(32), 1.0, 5)
    with pytest.raises(ValueError, match="n_iter must be at least 1"):
        P.pnp_proximal_gradient(op, D, np.zeros(32), 1.0, 0)
    other = P.SpectralDenoiser(Integration(16).svd(), np.full(16, 0.5))
    with pytest.raises(ValueError, match="built on the operator's own SVD"):
        P.pnp_proximal_gradient(op, other, np.zeros(32), 1.0, 5)
    with pytest.raises(ValueError, match="d must have one coefficient per singular value"):
        P.SpectralDenoiser(svd, np.ones(5))


def test_measurement_pairs_with_different_shapes_raise(setting):
    _, svd, _ = setting
    Y = np.zeros((10, 32))
    with pytest.raises(ValueError, match="pairs of measurements with the same shape"):
        P.empirical_self_supervised_filter(svd, Y, np.zeros((9, 32)))
    with pytest.raises(ValueError, match="pairs of measurements with the same shape"):
        P.empirical_self_supervised_loss(svd, np.ones(32), Y, np.zeros((10, 31)))
    with pytest.raises(ValueError, match=r"Y must have shape \(K, 32\)"):
        P.empirical_self_supervised_filter(svd, np.zeros((10, 31)), np.zeros((10, 31)))
    with pytest.raises(ValueError, match="X and Z must have the same shape"):
        P.empirical_denoiser(svd, np.zeros((10, 32)), np.zeros((11, 32)))


def test_other_bad_input():
    with pytest.raises(ValueError, match="Pi must be non-negative"):
        P.mmse_denoiser([-1.0], 0.1)
    with pytest.raises(ValueError, match="tau must have one entry per singular value"):
        P.mmse_denoiser([1.0, 0.5], [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="must contain only finite values"):
        P.mmse_denoiser([np.nan], 0.1)
    with pytest.raises(ValueError, match="s must be strictly positive"):
        P.self_supervised_filter([1.0, 0.0], 1.0, 0.1)
    with pytest.raises(ValueError, match="w must not contain NaN"):
        P.variational_filter([1.0], [np.nan])
    with pytest.raises(ValueError, match="method must be one of"):
        P.asymptotic_excess_risk([1.0], [1.0], [0.1], 10, "adversarial")
    with pytest.raises(ValueError, match="Pi and Delta must not both vanish"):
        P.asymptotic_excess_risk([1.0], [0.0], [0.0], 10, "supervised")
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        P.monte_carlo_risk([1.0], [1.0], [1.0], 0.1, 10, rng=None)
    with pytest.raises(ValueError, match="svd must be a learnreg.operators.SVD"):
        P.empirical_sure_filter(np.eye(3), np.zeros((2, 3)), 0.1)


def test_empirical_denoiser_within_prox_class_is_constrained_minimiser(setting):
    op, svd, Pi = setting
    rng = make_rng(12)
    K = 30
    tau = 1e-6 * np.arange(1, svd.rank + 1) ** 6.0  # d_k near 1 for small k, near 0 for large k
    X = gaussian_random_field(svd.U, Pi, K, rng)
    Z = X + gaussian_random_field(svd.U, tau, K, rng)
    d_free = P.empirical_denoiser(svd, X, Z)
    d_prox = P.empirical_denoiser(svd, X, Z, prox=True)
    assert np.any(d_free > 1) and np.any(d_free < 0)  # small K: sampling error leaves [0, 1]
    cx, cz = svd.coefficients_x(X), svd.coefficients_x(Z)
    for k in range(svd.rank):
        res = minimize_scalar(lambda t: np.sum((t * cz[:, k] - cx[:, k]) ** 2), bounds=(0.0, 1.0),
                              method="bounded", options={"xatol": 1e-12})
        assert abs(res.x - d_prox[k]) < 1e-6
    P.prox_weights(d_prox)  # a valid prox
