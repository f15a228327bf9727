"""Tests of the wavelet–vaguelette DFD and the learned frame filters (learnreg.frames), and of the
frames chapter's data generator, error measures and filter comparison."""

from __future__ import annotations

import numpy as np
import pytest

from learnreg.data import gaussian_random_field, make_rng, periodic_piecewise_constant, power_law_moments, white_noise
from learnreg.frames import (
    BOOK_WAVELETS,
    WaveletVaguelette,
    frame_moments,
    learn_soft_thresholds,
    optimal_soft_threshold,
    soft_threshold,
    wavelet_basis,
)
from learnreg.metrics import mean_squared_error
from learnreg.operators import PeriodicIntegration
from learnreg.spectral import apply_filter, pseudo_inverse_filter, risk


# ---------------------------------------------------------------------------
# the wavelet basis
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("wavelet", BOOK_WAVELETS)
@pytest.mark.parametrize("n", [8, 64, 256])
def test_basis_is_orthonormal_and_starts_with_the_constant(wavelet, n):
    B = wavelet_basis(n, wavelet)
    G = B.functions.T @ B.functions / n
    # sym6's tabulated filter taps are accurate to about 1e-12
    assert np.abs(G - np.eye(n)).max() < 1e-11
    assert np.allclose(B.functions[:, 0], 1.0, atol=1e-11)
    assert not B.is_wavelet[0] and B.is_wavelet[1:].all()
    # scale j has 2^j translates
    for j in range(int(np.log2(n))):
        assert np.sum(B.scale[B.is_wavelet] == j) == 2**j


def test_partial_depth_keeps_the_finest_scales():
    B = wavelet_basis(64, "db4", level=3)
    assert np.sum(~B.is_wavelet) == 8  # scaling functions at scale 3
    assert set(B.scale[B.is_wavelet]) == {3, 4, 5}


# ---------------------------------------------------------------------------
# the DFD identity, kappa and perfect reconstruction
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("wavelet", BOOK_WAVELETS)
@pytest.mark.parametrize("n", [16, 128, 1024])
def test_dfd_identity_to_machine_precision(wavelet, n):
    dfd = WaveletVaguelette(n, wavelet)
    assert dfd.identity_error() < 1e-12
    # ||v_l|| = 1
    assert np.allclose(dfd.h * np.sum(dfd.V**2, axis=0), 1.0, atol=1e-13)
    # <A x, v_l> = kappa_l <x, u_l> for random x
    x = make_rng(3).standard_normal((2, n))
    lhs = dfd.analysis_y(dfd.operator.apply(x))
    rhs = dfd.kappa * dfd.analysis_x(x)
    assert np.abs(lhs - rhs).max() < 1e-12 * np.abs(rhs).max()


def test_haar_kappa_has_its_closed_form():
    # Haar at scale j >= 1: D^T u has jumps 1, -2, 1 times 2^{j/2}/h; at j = 0 the wrap gives 2, -2.
    n = 256
    dfd = WaveletVaguelette(n, "haar")
    kj = dfd.kappa_per_scale()
    j = dfd.scales
    expected = np.where(j == 0, (8.0 * n) ** -0.5, (6.0 * 2.0**j * n) ** -0.5)
    assert np.allclose(kj, expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("wavelet", ["db4", "sym6"])
def test_kappa_scales_like_two_to_minus_j(wavelet):
    dfd = WaveletVaguelette(1024, wavelet)
    j = dfd.scales
    slope = np.polyfit(j, np.log2(dfd.kappa_per_scale()), 1)[0]
    assert abs(slope + 1) < 0.1
    # kappa is the same for every translate of a scale
    for jj in j:
        k = dfd.kappa[dfd.scale == jj]
        assert np.ptp(k) < 1e-12 * k.max()


@pytest.mark.parametrize("wavelet", BOOK_WAVELETS)
def test_perfect_reconstruction_and_pseudo_inverse(wavelet):
    n = 256
    dfd = WaveletVaguelette(n, wavelet)
    rng = make_rng(11)
    x = rng.standard_normal((3, n))
    x -= x.mean(axis=1, keepdims=True)  # N(A)^perp
    assert np.abs(dfd.synthesis_x(dfd.analysis_x(x)) - x).max() < 1e-10
    # A^+ y through the DFD equals A^+ y through the closed-form SVD, for any y
    y = rng.standard_normal((3, n))
    op = PeriodicIntegration(n)
    S = op.svd()
    ref = apply_filter(S, pseudo_inverse_filter(S.s), y)
    assert np.abs(dfd.pseudo_inverse(y) - ref).max() < 1e-10 * np.abs(ref).max()
    # and A^+ A x = x on N(A)^perp
    assert np.abs(dfd.pseudo_inverse(op.apply(x)) - x).max() < 1e-10


# ---------------------------------------------------------------------------
# frame bounds
# ---------------------------------------------------------------------------


def test_frame_bounds_are_the_tight_constants():
    dfd = WaveletVaguelette(64, "db2")
    fb = dfd.frame_bounds()
    rng = make_rng(5)
    y = rng.standard_normal((500, 64))
    y -= y.mean(axis=1, keepdims=True)
    ratio = np.sum(dfd.analysis_y(y) ** 2, axis=1) / (dfd.h * np.sum(y**2, axis=1))
    assert ratio.min() >= fb.lower * (1 - 1e-12)
    assert ratio.max() <= fb.upper * (1 + 1e-12)
    # attained by the extreme eigenvectors of the frame operator sum_l <., v_l> v_l
    w, Q = np.linalg.eigh(dfd.gram())
    for idx, bound in ((0, fb.lower), (-1, fb.upper)):
        yv = dfd.V @ Q[:, idx]
        r = np.sum(dfd.analysis_y(yv) ** 2) / (dfd.h * np.sum(yv**2))
        assert r == pytest.approx(bound, rel=1e-10)


def test_frame_bounds_bounded_for_smooth_wavelets_and_not_for_haar():
    ratios = {w: [WaveletVaguelette(n, w).frame_bounds().ratio for n in (64, 256, 1024)] for w in BOOK_WAVELETS}
    for w in ("db4", "sym6"):
        r = ratios[w]
        assert r[2] / r[1] < 1.2 and r[2] < 10
    # Haar is not in H^1: the ratio grows roughly like n
    assert ratios["haar"][2] / ratios["haar"][0] > 8
    # db2 grows, but much more slowly than Haar
    assert 1.5 < ratios["db2"][2] / ratios["db2"][0] < ratios["haar"][2] / ratios["haar"][0]


# ---------------------------------------------------------------------------
# learned linear DFD filter
# ---------------------------------------------------------------------------


def test_closed_form_linear_filter_is_the_risk_minimiser():
    n = 32
    dfd = WaveletVaguelette(n, "db2")
    S = dfd.operator.svd()
    Pi_k = power_law_moments(n - 1, 2.0)
    Pi = frame_moments(dfd, S.U, Pi_k)
    delta = 0.05
    Delta = np.full(dfd.size, delta**2)
    g = dfd.mse_filter(Pi, Delta)
    assert np.allclose(g, dfd.kappa * Pi / (dfd.kappa**2 * Pi + Delta))
    # brute force: the exact risk E||R_g(Ax+e) - x||^2 from the covariance, perturbed in every coordinate
    C = S.U @ np.diag(Pi_k) @ S.U.T  # covariance of x (grid values)
    A = dfd.operator.matrix
    h = dfd.h

    def exact_risk(gv):
        R = dfd.U @ np.diag(gv) @ (h * dfd.V.T)  # matrix of R_g
        M = R @ A - np.eye(n)
        noise = delta**2 / h * np.sum(R**2)  # white noise: entries N(0, delta^2/h)
        return h * np.trace(M @ C @ M.T) + h * noise

    r0 = exact_risk(g)
    assert r0 == pytest.approx(risk(dfd.kappa, g, Pi, Delta).total, rel=1e-10)
    rng = make_rng(2)
    for _ in range(5):
        assert exact_risk(g + 1e-3 * rng.standard_normal(g.shape)) > r0


def test_empirical_linear_filter_converges_to_closed_form():
    # For jointly Gaussian (<x,u_l>, <y,v_l>) the least-squares estimate satisfies, given the data,
    # g_emp - g ~ N(0, m_l / sum_i <y_i,v_l>^2) with m_l = Pi Delta / (kappa^2 Pi + Delta): z is N(0,1).
    n, K, delta = 64, 4000, 0.02
    dfd = WaveletVaguelette(n, "db4")
    S = dfd.operator.svd()
    Pi_k = power_law_moments(n - 1, 2.0)
    rng = make_rng(7)
    X = gaussian_random_field(S.U, Pi_k, K, rng)
    Y = dfd.operator.apply(X) + white_noise(dfd.operator.weights_y, delta, K, rng)
    g_emp = dfd.empirical_filter(X, Y)
    Pi = frame_moments(dfd, S.U, Pi_k)
    g = dfd.mse_filter(Pi, delta**2)
    m = Pi * delta**2 / (dfd.kappa**2 * Pi + delta**2)
    z = (g_emp - g) * np.sqrt(np.sum(dfd.analysis_y(Y) ** 2, axis=0) / m)
    # Bonferroni over 63 coefficients: P(max |z| > 4.5) < 63 * 6.8e-6
    assert np.abs(z).max() < 4.5
    assert 0.5 < np.mean(z**2) < 2.0


def test_frame_moments_match_sample_moments():
    n, K = 32, 20000
    dfd = WaveletVaguelette(n, "haar")
    S = dfd.operator.svd()
    Pi_k = power_law_moments(n - 1, 1.5)
    X = gaussian_random_field(S.U, Pi_k, K, make_rng(4))
    Pi = frame_moments(dfd, S.U, Pi_k)
    emp = np.mean(dfd.analysis_x(X) ** 2, axis=0)
    # relative standard error of a Gaussian second moment: sqrt(2/K) = 0.01
    assert np.abs(emp / Pi - 1).max() < 6 * np.sqrt(2 / K)


# ---------------------------------------------------------------------------
# learned soft thresholds
# ---------------------------------------------------------------------------


def test_soft_threshold():
    assert soft_threshold([-3.0, -0.5, 0.0, 0.5, 3.0], 1.0).tolist() == [-2.0, 0.0, 0.0, 0.0, 2.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_optimal_soft_threshold_against_brute_force(seed):
    rng = make_rng(seed)
    a = rng.standard_normal(300) * rng.choice([0.1, 3.0], 300)
    b = np.where(np.abs(a) > 1, a, 0) + 0.2 * rng.standard_normal(300)
    t, value = optimal_soft_threshold(a, b)
    grid = np.linspace(0, np.abs(a).max() * 1.1, 40001)
    F = np.array([np.sum((soft_threshold(a, s) - b) ** 2) for s in grid])
    assert value == pytest.approx(np.sum((soft_threshold(a, t) - b) ** 2), rel=1e-12)
    assert value <= F.min() + 1e-12
    # the grid minimum is within one grid step of the exact one
    assert value >= F.min() - 2 * (grid[1] - grid[0]) * np.sum(np.abs(a) > t) * np.abs(a).max()


def test_optimal_soft_threshold_edge_cases():
    # pure noise targets: kill everything
    t, v = optimal_soft_threshold([1.0, -2.0, 0.5], [0.0, 0.0, 0.0])
    assert t >= 2.0 and v == 0.0
    # noiseless: keep everything
    t, v = optimal_soft_threshold([1.0, -2.0, 0.5], [1.0, -2.0, 0.5])
    assert t == 0.0 and v == 0.0
    # zeros in a count as b^2 at t = 0
    t, v = optimal_soft_threshold([0.0, 3.0], [1.0, 3.0])
    assert t == 0.0 and v == pytest.approx(1.0)


def test_learned_thresholds_minimise_the_empirical_risk():
    n, K, delta = 64, 200, 0.01
    dfd = WaveletVaguelette(n, "db2")
    rng = make_rng(9)
    X = periodic_piecewise_constant(n, K, rng)
    Y = dfd.operator.apply(X) + white_noise(dfd.operator.weights_y, delta, K, rng)
    tau = learn_soft_thresholds(dfd, X, Y)
    assert tau.shape == (int(np.log2(n)),) and (tau >= 0).all()
    base = mean_squared_error(dfd.apply_soft(tau, Y), X, dfd.h)
    for i in range(tau.size):
        for f in (0.0, 0.5, 0.9, 1.1, 2.0):
            t2 = tau.copy()
            t2[i] = tau[i] * f if tau[i] > 0 else f * delta
            assert mean_squared_error(dfd.apply_soft(t2, Y), X, dfd.h) >= base - 1e-12
    # zero thresholds give the pseudo-inverse
    assert np.allclose(dfd.apply_soft(np.zeros_like(tau), Y), dfd.pseudo_inverse(Y))


def test_jump_split_error():
    from learnreg.metrics import jump_split_error

    X = np.zeros((1, 20))
    X[0, 5:12] = 1.0  # jumps between 4|5 and 11|12
    E = np.zeros_like(X)
    E[0, 3] = 1.0  # near the first jump for width >= 1
    E[0, 8] = 2.0  # away for width <= 2
    E[0, 15] = 3.0  # away for width <= 2
    near, away = jump_split_error(X + E, X, 0.5, 1)
    assert near == pytest.approx(0.5) and away == pytest.approx(0.5 * (4 + 9))
    near0, away0 = jump_split_error(X + E, X, 0.5, 0)
    assert near0 == 0.0 and near0 + away0 == pytest.approx(mean_squared_error(X + E, X, 0.5))
    # wrap-around: a jump between the last and the first point
    Y = np.zeros((1, 10))
    Y[0, 0] = 1.0
    near, away = jump_split_error(Y + 1.0, Y, 1.0, 0)
    assert near == pytest.approx(3.0) and away == pytest.approx(7.0)
    with pytest.raises(ValueError, match="width must be at least 0"):
        jump_split_error(X, X, 0.5, -1)


def test_periodic_piecewise_constant_is_mean_zero_and_seeded():
    a = periodic_piecewise_constant(64, 5, make_rng(1))
    b = periodic_piecewise_constant(64, 5, make_rng(1))
    assert np.array_equal(a, b)
    assert np.abs(a.mean(axis=1)).max() < 1e-14
    # piecewise constant: few distinct jumps per signal
    assert (np.sum(np.abs(np.diff(a, axis=1)) > 1e-12, axis=1) < 30).all()


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 100}, "n must be a power of 2"),
        ({"n": 64, "wavelet": "db99"}, "wavelet must be"),
        ({"n": 64, "wavelet": "bior2.2"}, "wavelet must be orthogonal"),
        ({"n": 64, "wavelet": 4}, "wavelet must be the name"),
        ({"n": 1}, "n must be at least 2"),
        ({"n": 64.0}, "n must be an integer"),
    ],
)
def test_bad_input_raises_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WaveletVaguelette(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 64, "level": 7}, "level must be at most log2"),
        ({"n": 96, "level": 6}, "level must be at most log2|n must be divisible"),
        ({"n": 48, "level": 5}, "n must be divisible by 2\\*\\*level"),
        ({"n": 64, "level": 0}, "level must be at least 1"),
    ],
)
def test_bad_depth_of_the_wavelet_basis(kwargs, match):
    with pytest.raises(ValueError, match=match):
        wavelet_basis(wavelet="db4", **kwargs)


def test_bad_arguments_of_methods():
    dfd = WaveletVaguelette(16, "haar")
    with pytest.raises(ValueError, match="y must have last dimension n = 16"):
        dfd.analysis_y(np.zeros(15))
    with pytest.raises(ValueError, match="c must have last dimension L = 15"):
        dfd.synthesis_x(np.zeros(16))
    with pytest.raises(ValueError, match="g must have shape"):
        dfd.apply_linear(np.zeros(3), np.zeros(16))
    with pytest.raises(ValueError, match="tau must have one threshold per scale"):
        dfd.apply_soft(np.zeros(3), np.zeros(16))
    with pytest.raises(ValueError, match="tau must be non-negative"):
        dfd.apply_soft(-np.ones(4), np.zeros(16))
    with pytest.raises(ValueError, match="finite"):
        dfd.analysis_y(np.full(16, np.nan))
    with pytest.raises(ValueError, match="X and Y must be 2D arrays of the same shape"):
        dfd.empirical_filter(np.zeros((3, 16)), np.zeros((4, 16)))
    with pytest.raises(ValueError, match="a and b must have the same number"):
        optimal_soft_threshold([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="dfd must be a WaveletVaguelette"):
        frame_moments("db4", np.eye(16), np.ones(16))
    with pytest.raises(ValueError, match="basis must have n = 16 rows"):
        frame_moments(dfd, np.eye(8), np.ones(8))
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        periodic_piecewise_constant(16, 2, np.random.default_rng)
    with pytest.raises(ValueError, match="h must be positive"):
        mean_squared_error(np.zeros((2, 4)), np.zeros((2, 4)), 0)


def test_compare_learned_filters_matches_direct_computation():
    from learnreg.experiments.frames import compare_learned_filters
    from learnreg.spectral import empirical_filter

    n, K, Kt, delta = 64, 120, 40, 3e-3
    dfd = WaveletVaguelette(n, "db2")
    op = dfd.operator
    S = op.svd()
    rng = make_rng(21)
    X = periodic_piecewise_constant(n, K + Kt, rng) + 0.3  # a mean: the null-space part counts for everyone
    E = white_noise(op.weights_y, 1.0, K + Kt, rng)
    res = compare_learned_filters(dfd, X[:K], E[:K], X[K:], E[K:], [0.1, delta])
    res2 = compare_learned_filters(dfd, X[:K], E[:K], X[K:], E[K:], [0.1, delta], svd=S)
    assert np.array_equal(res.errors["svd"], res2.errors["svd"])
    Y = op.apply(X) + delta * E
    Xtr, Ytr, Xte, Yte = X[:K], Y[:K], X[K:], Y[K:]
    gs = empirical_filter(S.coefficients_x(Xtr), S.coefficients_y(Ytr))
    gl = dfd.empirical_filter(Xtr, Ytr)
    tau = dfd.learn_soft_thresholds(Xtr, Ytr)
    assert np.allclose(res.g_svd[1], gs) and np.allclose(res.g_linear[1], gl)
    assert np.allclose(res.tau[1], tau, rtol=1e-10, atol=1e-14)
    direct = {
        "svd": apply_filter(S, gs, Yte),
        "linear": dfd.apply_linear(gl, Yte),
        "soft": dfd.apply_soft(tau, Yte),
    }
    for method, Xhat in direct.items():
        err = dfd.h * np.sum((Xhat - Xte) ** 2, axis=1)
        assert np.allclose(res.errors[method][1], err, rtol=1e-9)
        assert res.mse(method)[1] == pytest.approx(mean_squared_error(Xhat, Xte, dfd.h), rel=1e-9)
    assert res.standard_error("soft").shape == (2,)
    with pytest.raises(ValueError, match="method must be one of"):
        res.mse("tv")
    with pytest.raises(ValueError, match="svd must be the SVD of PeriodicIntegration"):
        compare_learned_filters(dfd, X[:K], E[:K], X[K:], E[K:], [0.1], svd=PeriodicIntegration(32).svd())
    with pytest.raises(ValueError, match="deltas must be strictly positive"):
        compare_learned_filters(dfd, X[:K], E[:K], X[K:], E[K:], [0.0])
