"""Tests of the CNN regularizer, its lower-level solver and the bilevel hypergradients."""

import math

import numpy as np
import pytest
import torch

from learnreg import cnn
from learnreg.cnn.solver import Problem, unrolled
from learnreg.data import make_rng

DT = torch.float64


def _reg(shape, ksize, channels=2, seed=0, **kw):
    kw.setdefault("strength", 0.7)
    kw.setdefault("smoothing", 0.3)
    return cnn.CNNRegularizer(shape, ksize, channels, rng=make_rng(seed), **kw)


def _brute_value(reg, x):
    """J by explicit replicate padding and correlation (independent of the gather code)."""
    snap = reg.snapshot()
    lam, eps = snap["strength"], snap["smoothing"]
    total = np.zeros(x.shape[0])
    for j, w in enumerate(snap["kernels"]):
        if w.ndim == 1:
            k = w.size
            c = (k - 1) // 2
            xp = np.pad(x, ((0, 0), (c, k - 1 - c)), mode="edge")
            r = np.stack([xp[:, i : i + k] @ w for i in range(x.shape[1])], axis=1)
        else:
            k1, k2 = w.shape
            c1, c2 = (k1 - 1) // 2, (k2 - 1) // 2
            n1, n2 = reg.shape
            img = x.reshape(-1, n1, n2)
            xp = np.pad(img, ((0, 0), (c1, k1 - 1 - c1), (c2, k2 - 1 - c2)), mode="edge")
            r = np.zeros_like(img)
            for a in range(k1):
                for b in range(k2):
                    r += w[a, b] * xp[:, a : a + n1, b : b + n2]
            r = r.reshape(x.shape[0], -1)
        total += lam[j] * np.sum(np.sqrt(r**2 + eps[j] ** 2) - eps[j], axis=1)
    return total


@pytest.mark.parametrize("shape,ksize", [(16, 5), (9, 2), ((6, 7), 3), ((5, 4), (2, 2))])
def test_value_matches_explicit_padded_convolution(shape, ksize):
    reg = _reg(shape, ksize)
    x = make_rng(1).standard_normal((3, reg.size))
    got = reg.value(torch.tensor(x, dtype=DT)).detach().numpy()
    np.testing.assert_allclose(got, _brute_value(reg, x), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("shape,ksize", [(16, 5), ((6, 7), 3)])
def test_gradient_of_J_matches_finite_differences(shape, ksize):
    reg = _reg(shape, ksize)
    rng = make_rng(2)
    x = torch.tensor(rng.standard_normal((2, reg.size)), dtype=DT)
    g = reg.grad(x).detach()
    h = 1e-5
    for i in range(reg.size):
        e = torch.zeros_like(x)
        e[:, i] = h
        fd = (reg.value(x + e) - reg.value(x - e)).detach() / (2 * h)
        # central differences: error O(h^2 |J'''|) ~ 1e-10 here
        np.testing.assert_allclose(g[:, i].numpy(), fd.numpy(), rtol=1e-6, atol=1e-8)


def test_hessian_vector_product_matches_finite_differences_of_gradient():
    reg = _reg(12, 5)
    rng = make_rng(3)
    x = torch.tensor(rng.standard_normal((2, 12)), dtype=DT)
    d = torch.tensor(rng.standard_normal((2, 12)), dtype=DT)
    h = 1e-5
    fd = (reg.grad(x + h * d) - reg.grad(x - h * d)).detach() / (2 * h)
    np.testing.assert_allclose(reg.hvp(x, d).detach().numpy(), fd.numpy(), rtol=1e-6, atol=1e-8)


def test_charbonnier_with_difference_kernel_is_tv():
    """w = (1,-1)/sqrt2 and eps -> 0 give J = lambda/sqrt2 * TV (replicate padding adds no boundary jump)."""
    lam = 0.8
    reg = cnn.CNNRegularizer(20, 2, 1, init_kernels=[[1.0, -1.0]], strength=lam, smoothing=1e-10)
    x = make_rng(4).standard_normal((3, 20))
    tv = np.abs(np.diff(x, axis=1)).sum(axis=1)
    got = reg.value(torch.tensor(x, dtype=DT)).detach().numpy()
    np.testing.assert_allclose(got, lam / math.sqrt(2) * tv, rtol=1e-8)
    assert cnn.tv_parameter(reg.snapshot()["kernels"][0], lam) == pytest.approx(lam / math.sqrt(2), rel=1e-12)


@pytest.mark.parametrize("shape,ksize", [(10, 5), ((5, 6), 3)])
def test_lipschitz_bound_dominates_true_hessian_norm(shape, ksize):
    reg = _reg(shape, ksize, channels=2)
    # the largest possible curvature: phi'' = lambda/eps at zero response
    N = reg.size
    H = torch.stack([reg.hvp(torch.zeros(1, N, dtype=DT), torch.eye(N, dtype=DT)[i : i + 1])[0] for i in range(N)])
    true = float(np.linalg.eigvalsh(H.detach().numpy()).max())
    bound = reg.lipschitz()
    assert true <= bound * (1 + 1e-12)
    assert bound <= 20 * true  # the bound is not vacuous


def test_zero_mean_projection_and_normalisation():
    reg = _reg(32, 5, channels=3, zero_mean=True)
    w = reg.kernels().detach().numpy()
    np.testing.assert_allclose(w.sum(axis=1), 0.0, atol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1.0, rtol=1e-14)
    reg2 = _reg(32, 5, channels=3, zero_mean=False)
    assert np.all(np.abs(reg2.kernels().detach().numpy().sum(axis=1)) > 1e-6)


def _energy(reg, A, x, y):
    return 0.5 * ((x @ A.T - y) ** 2).sum(dim=1) + reg.value(x)


@pytest.mark.parametrize("shape,ksize,use_A", [(24, 5, True), (24, 5, False), ((6, 6), 2, False)])
def test_lower_level_optimality_residual(shape, ksize, use_A):
    reg = _reg(shape, ksize, channels=2, smoothing=0.05)
    rng = make_rng(5)
    N = reg.size
    A = np.eye(N) + 0.3 * rng.standard_normal((N, N)) / np.sqrt(N) if use_A else None
    y = rng.standard_normal((4, N))
    x, info = cnn.solve(reg, A, y, tol=1e-10, max_iter=50000)
    assert info.converged
    # independent residual: gradient of E by autograd
    xa = x.clone().requires_grad_(True)
    At = torch.tensor(np.eye(N) if A is None else A, dtype=DT)
    yt = torch.tensor(y, dtype=DT)
    _energy(reg, At, xa, yt).sum().backward()
    rel = xa.grad.norm(dim=1) / (yt @ At).norm(dim=1)
    assert float(rel.max()) <= 1e-10 * (1 + 1e-6)
    # strongly convex: any other point has a larger energy
    with torch.no_grad():
        e0 = _energy(reg, At, x, yt)
        e1 = _energy(reg, At, x + 1e-3 * torch.tensor(rng.standard_normal((4, N)), dtype=DT), yt)
    assert bool((e1 > e0).all())


def _loss(reg, A, X, Y):
    x, info = cnn.solve(reg, A, Y, tol=1e-13, max_iter=200000)
    assert info.converged
    return float(((x.numpy() - X) ** 2).mean())


def test_implicit_hypergradient_matches_finite_differences():
    rng = make_rng(6)
    n = 10
    reg = cnn.CNNRegularizer(n, 3, 2, rng=rng, strength=0.3, smoothing=0.2)
    A = np.eye(n) + 0.2 * rng.standard_normal((n, n)) / np.sqrt(n)
    X = np.cumsum(rng.standard_normal((3, n)), axis=1) * 0.3
    Y = X @ A.T + 0.1 * rng.standard_normal((3, n))
    reg.zero_grad()
    loss = cnn.hypergradient(reg, A, X, Y, tol=1e-13, cg_tol=1e-13, max_iter=200000)
    assert loss == pytest.approx(_loss(reg, A, X, Y), rel=1e-10)
    h = 1e-6
    for p in (reg.v, reg.log_strength, reg.log_smoothing):
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += h
            lp = _loss(reg, A, X, Y)
            with torch.no_grad():
                p.view(-1)[i] -= 2 * h
            lm = _loss(reg, A, X, Y)
            with torch.no_grad():
                p.view(-1)[i] += h
            fd = (lp - lm) / (2 * h)
            g = float(p.grad.view(-1)[i])
            # solver tolerance 1e-13 and h = 1e-6: the difference quotient is accurate to ~1e-7 relative
            assert g == pytest.approx(fd, rel=1e-5, abs=1e-9), (p.shape, i, g, fd)


def test_unrolled_gradient_matches_finite_differences():
    rng = make_rng(7)
    n = 10
    reg = cnn.CNNRegularizer(n, 3, 1, rng=rng, strength=0.3, smoothing=0.2)
    X = np.cumsum(rng.standard_normal((2, n)), axis=1) * 0.3
    Y = X + 0.1 * rng.standard_normal((2, n))
    prob = Problem(reg, None)
    Yt = torch.tensor(Y, dtype=DT)

    L = prob.norm2 + reg.lipschitz()  # the step size is a constant of the unrolled map

    def loss():
        return ((unrolled(reg, prob, Yt, 15, L) - torch.tensor(X, dtype=DT)) ** 2).mean()

    reg.zero_grad()
    loss().backward()
    h = 1e-6
    for p in (reg.v, reg.log_strength, reg.log_smoothing):
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += h
                lp = float(loss())
                p.view(-1)[i] -= 2 * h
                lm = float(loss())
                p.view(-1)[i] += h
            assert float(p.grad.view(-1)[i]) == pytest.approx((lp - lm) / (2 * h), rel=1e-5, abs=1e-10)


def test_training_is_reproducible_and_reduces_the_loss():
    def run():
        rng = make_rng(8)
        X = np.repeat(rng.uniform(-1, 1, (40, 4)), 8, axis=1)  # piecewise constant, length 32
        Y = X + 0.15 * rng.standard_normal(X.shape)
        reg = cnn.CNNRegularizer(32, 5, 1, rng=rng)
        res = cnn.train(reg, None, X, Y, rng, steps=25, batch=16, progress=False)
        return res, reg

    r1, reg1 = run()
    r2, _ = run()
    np.testing.assert_array_equal(r1.losses, r2.losses)
    np.testing.assert_array_equal(r1.kernels, r2.kernels)
    assert r1.kernels.shape == (26, 1, 5)
    assert r1.losses[-5:].mean() < r1.losses[:3].mean()


def test_structure_measures():
    d = np.array([0.0, 1.0, -1.0, 0.0, 0.0])
    assert cnn.stencil_similarity(d) == (pytest.approx(1.0, abs=1e-15), "first difference")
    assert cnn.stencil_similarity(-d[::-1])[0] == pytest.approx(1.0, abs=1e-15)
    sec = np.array([1.0, -2.0, 1.0, 0.0, 0.0])
    assert cnn.stencil_similarity(sec)[0] == pytest.approx(3 / math.sqrt(12), abs=1e-12)  # <(1,-2,1),(1,-1,0)>
    assert cnn.stencil_similarity(sec, order=2) == (pytest.approx(1.0), "second difference")
    assert cnn.top2_energy(d) == pytest.approx(1.0)
    assert cnn.top2_energy(np.ones(4)) == pytest.approx(0.5)
    assert cnn.kernel_sum(d) == 0.0
    assert cnn.kernel_sum(np.ones(4)) == pytest.approx(2.0)
    h = np.array([[0.0, 0.0], [1.0, -1.0]])
    v = np.array([[1.0, 0.0], [-1.0, 0.0]])
    m = np.array([[1.0, -1.0], [-1.0, 1.0]])
    assert cnn.stencil_similarity(h) == (pytest.approx(1.0), "horizontal")
    assert cnn.stencil_similarity(v) == (pytest.approx(1.0), "vertical")
    assert cnn.stencil_similarity(m) == (pytest.approx(1.0), "mixed")
    assert cnn.stencil_similarity(m)[0] > cnn.stencil_similarity(h + 0.1 * m)[0] - 1  # sanity of types
    assert cnn.stencil_similarity(np.array([1.0, 1.0, 1.0]))[0] == pytest.approx(0.0, abs=1e-15)
    assert cnn.tv_parameter(d / math.sqrt(2), 2.0) == pytest.approx(math.sqrt(2))


def test_response_quantile_and_metrics():
    reg = cnn.CNNRegularizer(8, 2, 1, init_kernels=[[1.0, -1.0]], strength=1.0, smoothing=0.5)
    X = np.array([[0, 0, 0, 0, 1, 1, 1, 1.0]])
    # responses: one jump of 1/sqrt2, the rest 0
    q = cnn.response_quantile(reg, X, q=1.0)
    assert q[0] == pytest.approx((1 / math.sqrt(2)) / 0.5)
    assert cnn.mse(X + 0.1, X) == pytest.approx(0.01)
    assert cnn.psnr(X + 0.1, X, peak=1.0) == pytest.approx(20.0)


def test_bad_input_raises_clear_errors():
    rng = make_rng(0)
    with pytest.raises(ValueError, match="kernel_size .* larger than the signal"):
        cnn.CNNRegularizer(4, 5, rng=rng)
    with pytest.raises(ValueError, match="larger than the signal"):
        cnn.CNNRegularizer((8, 3), (3, 4), rng=rng)
    with pytest.raises(ValueError, match="strength must be positive"):
        cnn.CNNRegularizer(16, 3, rng=rng, strength=0.0)
    with pytest.raises(ValueError, match="smoothing must be positive"):
        cnn.CNNRegularizer(16, 3, rng=rng, smoothing=-1.0)
    with pytest.raises(ValueError, match="rng is required"):
        cnn.CNNRegularizer(16, 3)
    with pytest.raises(ValueError, match="init_kernels must have shape"):
        cnn.CNNRegularizer(16, 3, init_kernels=[[1.0, -1.0]])
    with pytest.raises(ValueError, match="kernel_size must have 2 entries"):
        cnn.CNNRegularizer((8, 8), (3,), rng=rng)
    with pytest.raises(ValueError, match="shape must have 1 or 2 entries"):
        cnn.CNNRegularizer((4, 4, 4), 2, rng=rng)
    reg = cnn.CNNRegularizer(16, 3, rng=rng)
    with pytest.raises(ValueError, match="A must have 16 columns"):
        cnn.solve(reg, np.eye(12), np.zeros((2, 12)))
    with pytest.raises(ValueError, match=r"y must have shape \(batch, 16\)"):
        cnn.solve(reg, None, np.zeros((2, 15)))
    with pytest.raises(ValueError, match="y must contain only finite"):
        cnn.solve(reg, None, np.full((2, 16), np.nan))
    with pytest.raises(ValueError, match="tol must be positive"):
        cnn.solve(reg, None, np.zeros((2, 16)), tol=0.0)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 16\)"):
        reg.value(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X must have shape"):
        cnn.train(reg, None, np.zeros((4, 15)), np.zeros((4, 16)), rng, progress=False)
    with pytest.raises(ValueError, match="same number of samples"):
        cnn.train(reg, None, np.zeros((4, 16)), np.zeros((5, 16)), rng, progress=False)
    with pytest.raises(ValueError, match="method must be one of"):
        cnn.train(reg, None, np.zeros((4, 16)), np.zeros((4, 16)), rng, method="magic", progress=False)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        cnn.train(reg, None, np.zeros((4, 16)), np.zeros((4, 16)), 3, progress=False)
    with pytest.raises(ValueError, match="kernel must not be zero"):
        cnn.stencil_similarity(np.zeros(3))
    with pytest.raises(ValueError, match="strength must be positive"):
        cnn.tv_parameter(np.array([1.0, -1.0]), 0.0)
    with pytest.raises(ValueError, match="x_hat and x must have the same shape"):
        cnn.mse(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize("position,missed", [(0, "last"), (1, None), (2, None), (3, "first")])
def test_off_centre_difference_misses_one_boundary_difference(position, missed):
    """Proposition prop-charbonnier-regimes: a two-tap pair off the centre of a length-5 kernel misses one end."""
    w = np.zeros(5)
    w[position], w[position + 1] = 1.0, -1.0
    reg = cnn.CNNRegularizer(12, 5, 1, init_kernels=[w], strength=1.0, smoothing=1e-12)
    x = make_rng(9).standard_normal((2, 12))
    d = np.abs(np.diff(x, axis=1))
    tv_w = d.sum(axis=1) - {"last": d[:, -1], "first": d[:, 0], None: 0.0}[missed]
    got = reg.value(torch.tensor(x, dtype=DT)).detach().numpy()
    np.testing.assert_allclose(got, tv_w / math.sqrt(2), rtol=1e-9)


def test_solvers_and_training_accept_an_operator_and_agree_with_its_matrix():
    """An operator is used through apply and the Euclidean transpose of its weighted adjoint,
    so that it gives the reconstruction (and the training) of its matrix of grid values."""
    from learnreg.data import piecewise_constant
    from learnreg.operators import PeriodicConvolution, Radon

    op = PeriodicConvolution(64, sigma=0.03)
    rng = make_rng(21)
    X = piecewise_constant(64, 3, rng)
    Y = op.apply(X) + 0.01 * rng.standard_normal(X.shape)
    reg = cnn.CNNRegularizer(64, 3, 1, rng=make_rng(22), strength=0.02, smoothing=0.05)
    xa, ia = cnn.solve(reg, op.matrix, Y, tol=1e-10, max_iter=20000)
    xb, ib = cnn.solve(reg, op, Y, tol=1e-10, max_iter=20000)
    assert ia.converged and ib.converged
    assert float((xa - xb).abs().max()) < 1e-9
    np.testing.assert_allclose(cnn.unrolled_reconstruction(reg, op, Y, 20),
                               cnn.unrolled_reconstruction(reg, op.matrix, Y, 20), atol=1e-10)
    for method in ("implicit", "unrolled"):
        runs = [cnn.train(cnn.CNNRegularizer(64, 3, 1, rng=make_rng(23)), A, X, Y, make_rng(24), steps=3, batch=2,
                          method=method, unroll_steps=5, progress=False) for A in (op.matrix, op)]
        np.testing.assert_allclose(runs[1].losses, runs[0].losses, rtol=1e-9)
        np.testing.assert_allclose(runs[1].kernels, runs[0].kernels, atol=1e-10)
    # a 2D operator with weights that differ between X and Y: the transpose is not the adjoint
    R = Radon(8)
    reg2 = cnn.CNNRegularizer((8, 8), 2, 1, rng=make_rng(25))
    Yr = R.apply(make_rng(26).standard_normal((2, 64)))
    xa, _ = cnn.solve(reg2, R.matrix, Yr, tol=1e-10, max_iter=50000)
    xb, _ = cnn.solve(reg2, R, Yr, tol=1e-10, max_iter=50000)
    assert float((xa - xb).abs().max()) < 1e-9
    with pytest.raises(ValueError, match="A must act on signals of 64"):
        cnn.solve(reg, PeriodicConvolution(32), np.zeros((1, 32)))
