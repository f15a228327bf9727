"""Tests of the TV baseline: optimality certificates, closed-form limits, tuning, bad input."""

import numpy as np
import pytest

from learnreg import tv
from learnreg.data import cartoon_images, make_rng, piecewise_constant


def test_difference_adjoint_dot_test():
    rng = make_rng(0)
    x = rng.standard_normal((3, 11))
    p = rng.standard_normal((3, 10))
    assert np.sum(tv.difference(x) * p) == pytest.approx(np.sum(x * tv.difference_adjoint(p, (11,))), rel=1e-13)
    x2 = rng.standard_normal((2, 5, 6))
    pv, ph = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 5))
    dv, dh = tv.difference(x2)
    lhs = np.sum(dv * pv) + np.sum(dh * ph)
    assert lhs == pytest.approx(np.sum(x2 * tv.difference_adjoint((pv, ph), (5, 6))), rel=1e-13)


def _kkt_1d(x, y, p, alpha):
    """Residuals of the optimality system x = y - D^T p, |p| <= alpha, p = alpha sign(Dx) where Dx != 0."""
    stat = np.max(np.abs(x - y + tv.difference_adjoint(p, (x.shape[1],))))
    feas = np.max(np.abs(p)) - alpha
    d = tv.difference(x)
    jump = np.abs(d) > 1e-4
    compl = np.max(np.abs(p[jump] - alpha * np.sign(d[jump]))) if jump.any() else 0.0
    return stat, feas, compl


def test_tv_denoise_1d_satisfies_optimality_conditions():
    rng = make_rng(1)
    X = piecewise_constant(64, 5, rng)
    Y = X + 0.1 * rng.standard_normal(X.shape)
    alpha = 0.2
    x, gap, p = tv.tv_denoise(Y, alpha, tol=1e-12, max_iter=200000, return_dual=True)
    assert np.all(gap <= 1e-12 * np.maximum(0.5 * np.sum(Y**2, axis=1), 1))
    stat, feas, compl = _kkt_1d(x, Y, p, alpha)
    assert stat < 1e-12
    assert feas <= 1e-15
    # the gap bounds ||x - x*||^2 / 2 <= gap, so jumps above 1e-4 have the optimal sign: complementarity
    assert compl < 1e-6


def test_tv_denoise_limits():
    rng = make_rng(2)
    Y = rng.standard_normal((4, 20))
    x0, _ = tv.tv_denoise(Y, 0.0)
    np.testing.assert_allclose(x0, Y, atol=1e-14)
    # alpha >= max |cumsum(y - mean)| gives the constant mean (the dual p = cumsum is feasible)
    big = np.max(np.abs(np.cumsum(Y - Y.mean(axis=1, keepdims=True), axis=1))) * 1.01
    xb, _ = tv.tv_denoise(Y, big, tol=1e-14, max_iter=100000)
    np.testing.assert_allclose(xb, np.repeat(Y.mean(axis=1, keepdims=True), 20, axis=1), atol=1e-6)
    Y2 = rng.standard_normal((2, 6, 7))
    big2 = 100.0
    xb2, _ = tv.tv_denoise(Y2, big2, tol=1e-14, max_iter=100000)
    np.testing.assert_allclose(xb2, np.broadcast_to(Y2.mean(axis=(1, 2), keepdims=True), Y2.shape), atol=1e-6)


def test_tv_denoise_2d_matches_1d_on_images_constant_along_rows():
    """An image constant along each row has no horizontal differences: 2D anisotropic TV reduces to 1D TV of a column."""
    rng = make_rng(3)
    col = piecewise_constant(16, 1, rng)[0] + 0.1 * rng.standard_normal(16)
    img = np.repeat(col[:, None], 5, axis=1)[None]
    alpha = 0.3
    x2, gap2 = tv.tv_denoise(img, alpha, tol=1e-13, max_iter=200000)
    # per column the vertical TV term is alpha*TV(col); 5 identical columns -> 1D problem with the same alpha
    x1, _ = tv.tv_denoise(col[None], alpha, tol=1e-13, max_iter=200000)
    np.testing.assert_allclose(x2[0], np.repeat(x1[0][:, None], 5, axis=1), atol=1e-5)


def test_tv_reconstruct_optimality_with_operator():
    rng = make_rng(4)
    n = 24
    A = np.eye(n) * 0.5 + np.tril(np.ones((n, n))) / n
    X = piecewise_constant(n, 3, rng)
    Y = X @ A.T + 0.02 * rng.standard_normal(X.shape)
    alpha = 0.01
    x, res, state = tv.tv_reconstruct(A, Y, alpha, tol=1e-9, max_iter=200000, return_state=True)
    assert res <= 1e-9
    _, z, u, rho = state
    p = rho * u
    assert np.max(np.abs(p)) <= alpha * (1 + 1e-12)
    r = x @ A.T @ A - Y @ A + tv.difference_adjoint(p, (n,))
    assert np.max(np.linalg.norm(r, axis=1) / np.linalg.norm(Y @ A, axis=1)) <= 1e-9
    # with A = I it agrees with the certified dual solver
    xi, _ = tv.tv_reconstruct(np.eye(n), X + 0.1, 0.05, tol=1e-10, max_iter=200000)
    xd, _ = tv.tv_denoise(X + 0.1, 0.05, tol=1e-14, max_iter=200000)
    np.testing.assert_allclose(xi, xd, atol=1e-6)


def test_tune_tv_finds_the_grid_minimum_and_refines_it():
    rng = make_rng(5)
    X = piecewise_constant(48, 20, rng)
    Y = X + 0.15 * rng.standard_normal(X.shape)
    res = tv.tune_tv(X, Y, alphas=np.logspace(-2, 0.5, 9), refine=10)
    assert res.mse <= res.grid_mse.min() + 1e-15
    # brute force on a fine grid around the optimum: the tuned MSE is within 0.5% of the best
    fine = np.exp(np.linspace(np.log(res.alpha) - 0.3, np.log(res.alpha) + 0.3, 13))
    best = min(np.mean((tv.tv_denoise(Y, a, tol=1e-8)[0] - X) ** 2) for a in fine)
    assert res.mse <= best * 1.005
    X2 = cartoon_images(12, 6, rng)
    res2 = tv.tune_tv(X2, X2 + 0.1 * rng.standard_normal(X2.shape), alphas=np.logspace(-2, 0, 5), refine=4)
    assert 0 < res2.alpha and res2.mse < 0.01  # below the noise variance


def test_bad_input():
    with pytest.raises(ValueError, match="alpha must be non-negative"):
        tv.tv_denoise(np.zeros((2, 5)), -1.0)
    with pytest.raises(ValueError, match="alpha must be a scalar or have one entry per sample"):
        tv.tv_denoise(np.zeros((2, 5)), np.ones(3))
    with pytest.raises(ValueError, match="y must have 2 or 3 dimension"):
        tv.tv_denoise(np.zeros(5), 1.0)
    with pytest.raises(ValueError, match="y must contain only finite"):
        tv.tv_denoise(np.full((2, 5), np.nan), 1.0)
    with pytest.raises(ValueError, match="y must have 4 columns to match A"):
        tv.tv_reconstruct(np.ones((4, 6)), np.zeros((2, 5)), 0.1)
    with pytest.raises(ValueError, match="does not match"):
        tv.tune_tv(np.zeros((3, 6)), np.zeros((3, 4)), A=np.ones((4, 5)))
    with pytest.raises(ValueError, match="Y must have the shape of X"):
        tv.tune_tv(np.zeros((3, 6)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="1D signals only"):
        tv.tune_tv(np.zeros((3, 4, 4)), np.zeros((3, 16)), A=np.eye(16))


def test_tv_reconstruct_accepts_an_operator_and_agrees_with_its_matrix():
    """An operator enters through apply and the Euclidean transpose of its weighted adjoint."""
    from learnreg.operators import PeriodicConvolution

    op = PeriodicConvolution(64, sigma=0.03)
    rng = make_rng(11)
    X = piecewise_constant(64, 3, rng)
    Y = op.apply(X) + 0.01 * rng.standard_normal(X.shape)
    a, res_a = tv.tv_reconstruct(op.matrix, Y, 0.01, max_iter=500)
    b, res_b = tv.tv_reconstruct(op, Y, 0.01, max_iter=500)
    assert res_b == pytest.approx(res_a, rel=1e-6)  # the same iterations, up to rounding
    np.testing.assert_allclose(b, a, atol=1e-10)
    t_op = tv.tune_tv(X, Y, op, alphas=[1e-3, 1e-2, 1e-1], refine=2)
    t_mat = tv.tune_tv(X, Y, op.matrix, alphas=[1e-3, 1e-2, 1e-1], refine=2)
    assert t_op.alpha == pytest.approx(t_mat.alpha, rel=1e-6)


def test_tv_reconstruct_refuses_an_operator_on_images():
    from learnreg.operators import Radon

    with pytest.raises(ValueError, match="1D"):
        tv.tv_reconstruct(Radon(4), np.zeros((1, Radon(4).shape[0])), 0.1)
