"""The solvers' inner loops (learnreg.cnn._fast) agree with the differentiable regularizer they stand in for."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from learnreg import make_rng
from learnreg.cnn import CNNRegularizer, solve
from learnreg.cnn._fast import DENSE_UP_TO, FrozenEnergy, conjugate_gradients_columns
from learnreg.cnn.bilevel import _Adam
from learnreg.operators import PeriodicConvolution

CASES = [((16,), 5, 1), ((40,), 3, 2), ((128,), 5, 1), ((9, 11), 2, 2), ((12, 12), 3, 1)]


@pytest.mark.parametrize("shape, ksize, channels", CASES)
def test_frozen_gradient_and_hessian_match_the_regularizer(shape, ksize, channels):
    """Both filter-matrix paths (dense for small signals, CSR for large ones) against the gather/scatter code."""
    rng = make_rng(3)
    reg = CNNRegularizer(shape, ksize, channels, rng=rng, strength=0.7, smoothing=0.05)
    n = reg.size
    x = torch.tensor(rng.standard_normal((4, n)))
    d = torch.tensor(rng.standard_normal((4, n)))
    y = torch.tensor(rng.standard_normal((4, n)))
    E = FrozenEnergy(reg)
    assert E.K.is_sparse_csr == (n > DENSE_UP_TO)
    with torch.no_grad():
        g = E.grad(x.T.contiguous(), y.T.contiguous()).T
        h = E.hessian(E.curvature(x.T.contiguous()), d.T.contiguous()).T
        torch.testing.assert_close(g, x - y + reg.grad(x), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(h, d + reg.hvp(x, d), rtol=1e-12, atol=1e-12)


def test_frozen_energy_with_an_operator_and_cg_solves_the_hessian_system():
    rng = make_rng(4)
    A = PeriodicConvolution(32, sigma=0.05).matrix
    reg = CNNRegularizer(32, 5, 1, rng=rng, smoothing=0.01)
    At = torch.tensor(A)
    E = FrozenEnergy(reg, lambda z: (z @ At.T) @ At)
    x = torch.tensor(rng.standard_normal((32, 3)))
    b = torch.tensor(rng.standard_normal((32, 3)))
    curv = E.curvature(x)
    q, iters = conjugate_gradients_columns(lambda v: E.hessian(curv, v), b, 1e-12, 500)
    H = At.T @ At + E.Kt @ torch.diag_embed(curv.T) @ E.K  # one dense Hessian per column
    for j in range(3):
        np.testing.assert_allclose((H[j] @ q[:, j]).numpy(), b[:, j].numpy(), atol=1e-9)
    assert 0 < iters < 500


def test_solve_reaches_its_tolerance_and_keeps_the_iteration_count_per_batch():
    rng = make_rng(5)
    reg = CNNRegularizer((16, 16), 2, 2, rng=rng, smoothing=0.02)
    y = torch.tensor(rng.standard_normal((6, 256)))
    x, info = solve(reg, None, y, tol=1e-8)
    assert info.converged and info.residual <= 1e-8 and info.iterations % 10 == 0
    with torch.no_grad():
        grad = x - y + reg.grad(x)
    assert float((grad.norm(dim=1) / y.norm(dim=1)).max()) <= 1e-8


def test_adam_matches_torch_adam_with_cosine_decay():
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(4, 4, dtype=torch.float64, generator=gen)
    A = A @ A.T + torch.eye(4, dtype=torch.float64)

    def run(mine: bool):
        p = torch.nn.Parameter(torch.linspace(-1, 1, 4, dtype=torch.float64))
        if mine:
            opt, sched = _Adam([p], 0.1, 30), None
        else:
            opt = torch.optim.Adam([p], lr=0.1)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)
        for _ in range(30):
            opt.zero_grad()
            (p @ A @ p + p.sum()).backward()
            opt.step()
            if sched is not None:
                sched.step()
        return p.detach()

    torch.testing.assert_close(run(True), run(False), rtol=0, atol=1e-12)
    assert math.isfinite(float(run(True).sum()))
