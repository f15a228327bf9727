r"""The lower level's inner loops with the parameters frozen: sparse filter matrices, signals as columns.

:class:`~learnreg.cnn.regularizer.CNNRegularizer` applies its filters by
gathering patches (``x[:, idx] @ w.T``) and scattering them back
(``index_add``), which keeps them differentiable in the parameters. Inside the
solvers the parameters do not change, so the filter bank is assembled once as
a matrix :math:`K` (one block of rows per channel, replicate padding folded
in) and applied as a matrix product, with the signals stored as the columns of
an ``(N, B)`` tensor; the curvature :math:`\varphi''(Kx)` of a Hessian is
computed once per conjugate-gradient solve instead of once per product. The
iterations are the same as before (same step size, same restarts, same
stopping rule); only the arithmetic is cheaper.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import torch

from ._common import DTYPE

__all__ = ["FrozenEnergy", "nesterov", "conjugate_gradients_columns"]

#: Signals up to this many pixels use a dense filter matrix, larger ones a sparse (CSR) one.
DENSE_UP_TO = 64


@functools.lru_cache(maxsize=16)
def _pattern(shape: tuple[int, ...], kernel_size: tuple[int, ...], channels: int):
    """Sparsity pattern of K (rows c*N + i, columns = pixels) and where each (c, i, t) entry lands."""
    from .regularizer import _patch_index

    idx = _patch_index(shape, kernel_size)  # (N, T)
    n, taps = idx.shape
    rows = (np.arange(channels)[:, None, None] * n + np.arange(n)[None, :, None]) + np.zeros((1, 1, taps), int)
    cols = np.broadcast_to(idx[None], (channels, n, taps))
    tap = np.broadcast_to(np.arange(channels)[:, None, None] * taps + np.arange(taps)[None, None, :], rows.shape)
    key = rows.reshape(-1) * n + cols.reshape(-1)
    uniq, slot = np.unique(key, return_inverse=True)  # sorted by row, then column: CSR order
    u_rows, u_cols = uniq // n, uniq % n
    crow = np.zeros(channels * n + 1, dtype=np.int64)
    np.add.at(crow, u_rows + 1, 1)
    crow = np.cumsum(crow)
    perm_t = np.lexsort((u_rows, u_cols))  # the transposed matrix's CSR order
    crow_t = np.zeros(n + 1, dtype=np.int64)
    np.add.at(crow_t, u_cols + 1, 1)
    crow_t = np.cumsum(crow_t)
    as_long = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.long)  # noqa: E731
    return {
        "n": n, "nnz": len(uniq), "slot": as_long(slot), "tap": as_long(tap.reshape(-1)),
        "rows": as_long(u_rows), "cols": as_long(u_cols), "crow": as_long(crow), "crow_t": as_long(crow_t),
        "cols_t": as_long(u_rows[perm_t]), "perm_t": as_long(perm_t),
    }


class FrozenEnergy:
    r"""Gradient and Hessian of :math:`E(x)=\tfrac12\|Ax-y\|^2+J_\theta(x)` at fixed :math:`\theta`, on columns.

    Parameters
    ----------
    reg : CNNRegularizer
        Its current parameters are copied (detached).
    AtA : callable or None
        :math:`x \mapsto A^\top A x` on row-layout ``(B, N)`` tensors, or None for :math:`A = I`.
    """

    def __init__(self, reg, AtA=None):
        with torch.no_grad():
            w = reg.kernels().detach()
            lam = reg.strength().detach()
            eps = reg.smoothing().detach()
        p = _pattern(reg.shape, reg.kernel_size, reg.channels)
        n, c = p["n"], reg.channels
        values = torch.zeros(p["nnz"], dtype=DTYPE).index_add_(0, p["slot"], w.reshape(-1)[p["tap"]])
        # lambda is folded into K^T: grad J(x) = K^T diag(lambda) r/sqrt(r^2 + eps^2), r = Kx
        lam_rows = lam.repeat_interleave(n)
        if n <= DENSE_UP_TO:
            K = torch.zeros(c * n, n, dtype=DTYPE)
            K[p["rows"], p["cols"]] = values
            self.K, self.Kt = K, (K * lam_rows[:, None]).T.contiguous()
        else:
            values_t = values[p["perm_t"]] * lam_rows[p["cols_t"]]
            with warnings.catch_warnings():  # "sparse CSR support is in beta": CSR times dense is all we use
                warnings.simplefilter("ignore", UserWarning)
                self.K = torch.sparse_csr_tensor(p["crow"], p["cols"], values, size=(c * n, n),
                                                 check_invariants=False)
                self.Kt = torch.sparse_csr_tensor(p["crow_t"], p["cols_t"], values_t, size=(n, c * n),
                                                  check_invariants=False)
        self.eps2 = (eps**2).repeat_interleave(n)[:, None]
        if AtA is None:
            self.M = None
        else:
            with torch.no_grad():
                self.M = AtA(torch.eye(n, dtype=DTYPE)).T.contiguous()  # A^T A as a matrix (symmetric)

    def _data(self, xc):
        return xc if self.M is None else self.M @ xc

    def grad(self, xc, atyc):
        r""":math:`\nabla E(x) = A^\top A x - A^\top y + K^\top\varphi'(Kx)` for the columns of ``xc``."""
        r = self.K @ xc
        s = torch.addcmul(self.eps2, r, r).sqrt_()
        return (self.Kt @ torch.div(r, s, out=s)).add_(self._data(xc)).sub_(atyc)

    def curvature(self, xc):
        r""":math:`\varphi''(Kx)/\lambda = \varepsilon^2/(r^2+\varepsilon^2)^{3/2}` at the columns of ``xc``."""
        r = self.K @ xc
        s = torch.addcmul(self.eps2, r, r)
        return self.eps2 / s.mul_(s.sqrt())

    def hessian(self, curv, dc):
        r""":math:`\nabla^2E(x)\,d = A^\top A d + K^\top(\varphi''(Kx)\odot Kd)`, with ``curv`` from :meth:`curvature`."""
        return (self.Kt @ (curv * (self.K @ dc))).add_(self._data(dc))


def nesterov(energy: FrozenEnergy, atyc, xc, L: float, tol: float, max_iter: int, check_every: int):
    """Nesterov's accelerated gradient with gradient-based adaptive restart, per column.

    Returns ``(x, iterations, residual)`` with the largest relative gradient
    norm ``||grad E(x)|| / ||A^T y||`` over the columns, checked every
    ``check_every`` iterations (the loop stops once it is at most ``tol``).
    """
    ref = atyc.norm(dim=0).clamp_min(1e-300)
    z, t = xc.clone(), torch.ones(1, xc.shape[1], dtype=DTYPE)
    one, zero = torch.ones((), dtype=DTYPE), torch.zeros((), dtype=DTYPE)
    it, res = 0, float("inf")
    while it < max_iter:
        g = energy.grad(z, atyc)
        x_new = torch.add(z, g, alpha=-1.0 / L)
        step = x_new - xc
        restart = (g * step).sum(dim=0, keepdim=True) > 0
        t = torch.where(restart, one, t)
        t_new = (1 + torch.sqrt(1 + 4 * t * t)) / 2
        beta = torch.where(restart, zero, (t - 1) / t_new)
        z = torch.addcmul(x_new, beta, step)
        xc, t = x_new, t_new
        it += 1
        if it % check_every == 0 or it == max_iter:
            res = float((energy.grad(xc, atyc).norm(dim=0) / ref).max())
            if res <= tol:
                break
    return xc, it, res


def conjugate_gradients_columns(hvp, b, tol: float, max_iter: int):
    """Conjugate gradients for ``H x = b`` column by column (H symmetric positive definite per column).

    Stops when every column's residual is at most ``tol`` times its right-hand side's norm.
    Returns ``(x, iterations)``.
    """
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rs = (r * r).sum(dim=0, keepdim=True)
    bound = (tol * b.norm(dim=0, keepdim=True)) ** 2
    zero = torch.zeros((), dtype=b.dtype)
    for i in range(max_iter):
        if bool((rs <= bound).all()):
            return x, i
        Ap = hvp(p)
        pAp = (p * Ap).sum(dim=0, keepdim=True)
        alpha = torch.where(pAp > 0, rs / torch.where(pAp > 0, pAp, torch.ones_like(pAp)), zero)
        x.addcmul_(alpha, p)
        r.addcmul_(alpha, Ap, value=-1.0)
        rs_new = (r * r).sum(dim=0, keepdim=True)
        beta = torch.where(rs > 0, rs_new / torch.where(rs > 0, rs, torch.ones_like(rs)), zero)
        p = torch.addcmul(r, beta, p)
        rs = rs_new
    return x, max_iter
