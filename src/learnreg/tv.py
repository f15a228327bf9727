r"""Total-variation reconstruction, the classical baseline of chapter 7.

For signals :math:`x \in \mathbb{R}^n` (1D) or images :math:`x \in \mathbb{R}^{n_1\times n_2}`
(anisotropic 2D TV), with :math:`D` the forward differences (no difference
across the boundary),

.. math::
    x_\alpha(y) = \operatorname*{argmin}_x \tfrac12\|Ax - y\|^2 + \alpha\|Dx\|_1,
    \qquad \|Dx\|_1 = \sum_i |x_{i+1}-x_i| \ \text{(1D)}, \quad
    \sum_{i,j} |x_{i+1,j}-x_{i,j}| + |x_{i,j+1}-x_{i,j}| \ \text{(2D)} .

Denoising (:math:`A = I`) is solved through its dual,
:math:`\min_{\|p\|_\infty\le\alpha} \tfrac12\|y - D^\top p\|^2`, by accelerated
projected gradients, :math:`x = y - D^\top p`, until the duality gap is below
``tol`` times :math:`\tfrac12\|y\|^2` (a certificate of optimality). A general
operator (1D) uses ADMM on the splitting :math:`z = Dx`, stopped on the
optimality residual. The parameter :math:`\alpha` is tuned on
training pairs by a log-grid search refined by golden-section search.

Everything is numpy; no torch needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_array, check_bool, check_bytes, check_int, check_iterations, check_real, finite_result
from .operators import LinearMap, euclidean_transpose, is_operator

__all__ = [
    "difference",
    "difference_adjoint",
    "difference_operator",
    "tv_value",
    "tv_denoise",
    "tv_reconstruct",
    "tune_tv",
    "TVTuning",
]


def _check_x(x, name, shape=None):
    x = as_array(x, name, ndim=(2, 3))
    if shape is not None and x.shape[1:] != tuple(shape):
        raise ValueError(f"{name} must have shape (K, {', '.join(map(str, shape))}), got {x.shape}")
    return x


def _difference(x: np.ndarray):
    """Forward differences without argument checks (for the solvers' inner loops)."""
    if x.ndim == 2:
        return np.diff(x, axis=1)
    return np.diff(x, axis=1), np.diff(x, axis=2)


def _difference_adjoint(p, shape) -> np.ndarray:
    """Adjoint of :func:`_difference` without argument checks."""
    if len(shape) == 1:
        out = np.zeros((p.shape[0], shape[0]))
        out[:, :-1] -= p
        out[:, 1:] += p
        return out
    pv, ph = p
    out = np.zeros((pv.shape[0], *shape))
    out[:, :-1, :] -= pv
    out[:, 1:, :] += pv
    out[:, :, :-1] -= ph
    out[:, :, 1:] += ph
    return out


def _check_shape(shape) -> tuple[int, ...]:
    if not isinstance(shape, (tuple, list)) or len(shape) not in (1, 2):
        raise ValueError(f"shape must be (n,) or (n1, n2), got {shape!r}")
    shape = tuple(check_int(v, "shape", minimum=2) for v in shape)
    check_bytes(8.0 * 4 * float(np.prod(shape, dtype=float)), f"signals of shape = {shape}")
    return shape


def _check_dual(p, K: int, shape: tuple[int, ...], name: str):
    """A dual variable (output of :func:`difference`) for K signals of the given shape."""
    if len(shape) == 1:
        return as_array(p, name, shape=(K, shape[0] - 1))
    if not isinstance(p, (tuple, list)) or len(p) != 2:
        raise ValueError(f"{name} must be a pair (vertical, horizontal) of difference arrays for 2D signals")
    return (
        as_array(p[0], name, shape=(K, shape[0] - 1, shape[1])),
        as_array(p[1], name, shape=(K, shape[0], shape[1] - 1)),
    )


@finite_result
def difference(x) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Forward differences :math:`Dx` of a batch: (K, n) -> (K, n-1); (K, n1, n2) -> (vertical, horizontal)."""
    return _difference(_check_x(x, "x"))


@finite_result
def difference_adjoint(p, shape) -> np.ndarray:
    r""":math:`D^\top p` for the output of :func:`difference`; ``shape`` is the signal shape (without batch)."""
    shape = _check_shape(shape)
    if len(shape) == 1:
        p = as_array(p, "p", shape=(None, shape[0] - 1))
        return _difference_adjoint(p, shape)
    if not isinstance(p, (tuple, list)) or len(p) != 2:
        raise ValueError("p must be a pair (vertical, horizontal) of difference arrays for a 2D shape")
    pv = as_array(p[0], "p", shape=(None, shape[0] - 1, shape[1]))
    ph = as_array(p[1], "p", shape=(pv.shape[0], shape[0], shape[1] - 1))
    return _difference_adjoint((pv, ph), shape)


def difference_operator(shape) -> LinearMap:
    r"""The forward differences :math:`D` as a :class:`~learnreg.operators.LinearMap` on flattened signals.

    For ``shape = (n,)`` it maps :math:`\mathbb R^n \to \mathbb R^{n-1}`; for
    ``(n1, n2)`` it maps the flattened image to the vertical differences followed by
    the horizontal ones (both flattened). The adjoint is :func:`difference_adjoint`,
    in the Euclidean inner products, so :func:`learnreg.operators.dot_test` applies.
    """
    shape = _check_shape(shape)
    N = int(np.prod(shape))
    if len(shape) == 1:
        return LinearMap(
            lambda x: _difference(x),
            lambda p: _difference_adjoint(p, shape),
            (shape[0] - 1, N),
            name=f"TV difference on {shape}",
        )
    n1, n2 = shape
    nv = (n1 - 1) * n2

    def forward(x):
        dv, dh = _difference(x.reshape(-1, n1, n2))
        return np.concatenate([dv.reshape(len(x), -1), dh.reshape(len(x), -1)], axis=1)

    def adjoint(p):
        pv = p[:, :nv].reshape(-1, n1 - 1, n2)
        ph = p[:, nv:].reshape(-1, n1, n2 - 1)
        return _difference_adjoint((pv, ph), shape).reshape(len(p), -1)

    return LinearMap(forward, adjoint, (nv + n1 * (n2 - 1), N), name=f"TV difference on {shape}")


@finite_result
def tv_value(x) -> np.ndarray:
    r""":math:`\|Dx\|_1` per sample (anisotropic in 2D)."""
    x = _check_x(x, "x")
    d = _difference(x)
    if x.ndim == 2:
        return np.abs(d).sum(axis=1)
    return np.abs(d[0]).sum(axis=(1, 2)) + np.abs(d[1]).sum(axis=(1, 2))


@finite_result
def tv_denoise(y, alpha, *, tol: float = 1e-9, max_iter: int = 20000, p0=None, return_dual: bool = False):
    r"""TV denoising :math:`\operatorname{argmin}_x \tfrac12\|x-y\|^2 + \alpha\|Dx\|_1` of each sample.

    Parameters
    ----------
    y : array_like, shape (K, n) or (K, n1, n2)
    alpha : float or array_like, shape (K,)
        Non-negative TV parameter(s).
    tol : float
        Stop when the duality gap is at most ``tol * max(1/2||y||^2, 1)`` for every sample.
    p0 : optional
        Warm start for the dual variable.

    Returns
    -------
    x : ndarray, same shape as ``y``
    gap : ndarray, shape (K,)
        Final duality gaps (certified suboptimality).
    p : dual variable (only if ``return_dual``)
    """
    y = _check_x(y, "y")
    K, shape = y.shape[0], y.shape[1:]
    alpha = as_array(alpha, "alpha", ndim=(0, 1), nonnegative=True)
    if alpha.ndim == 1 and alpha.shape[0] != K:
        raise ValueError(f"alpha must be a scalar or have one entry per sample ({K}), got {alpha.shape[0]}")
    tol = check_real(tol, "tol", positive=True)
    max_iter = check_iterations(max_iter, "max_iter")
    return_dual = check_bool(return_dual, "return_dual")
    a = np.broadcast_to(alpha, (K,)).reshape((K,) + (1,) * len(shape))
    L = 4.0 * len(shape)  # ||D||^2 <= 4 per axis
    if p0 is None:
        p = np.zeros((K, shape[0] - 1)) if len(shape) == 1 else (
            np.zeros((K, shape[0] - 1, shape[1])),
            np.zeros((K, shape[0], shape[1] - 1)),
        )
    else:
        p = _check_dual(p0, K, shape, "p0")
    ysq = 0.5 * np.sum(y.reshape(K, -1) ** 2, axis=1)
    scale = np.maximum(ysq, 1.0)

    def clip(q):
        if len(shape) == 1:
            return np.clip(q, -a, a)
        return (np.clip(q[0], -a, a), np.clip(q[1], -a, a))

    def gap_of(p):
        x = y - _difference_adjoint(p, shape)
        primal = 0.5 * np.sum((x - y).reshape(K, -1) ** 2, axis=1) + a.reshape(K) * tv_value(x)
        dual = ysq - 0.5 * np.sum(x.reshape(K, -1) ** 2, axis=1)
        return x, primal - dual

    q, t = p, 1.0
    x, gap = gap_of(p)
    for it in range(1, max_iter + 1):
        xq = y - _difference_adjoint(q, shape)
        d = _difference(xq)  # gradient of the dual objective is -D x
        if len(shape) == 1:
            p_new = clip(q + d / L)
        else:
            p_new = clip((q[0] + d[0] / L, q[1] + d[1] / L))
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        c = (t - 1) / t_new
        if len(shape) == 1:
            q = p_new + c * (p_new - p)
        else:
            q = (p_new[0] + c * (p_new[0] - p[0]), p_new[1] + c * (p_new[1] - p[1]))
        p, t = p_new, t_new
        if it % 20 == 0:
            x, gap = gap_of(p)
            if np.all(gap <= tol * scale):
                break
            if it % 200 == 0:  # restart the momentum now and then (robust linear convergence)
                q, t = p, 1.0
    x, gap = gap_of(p)
    return (x, gap, p) if return_dual else (x, gap)


def _forward_shape(A) -> tuple[int, int]:
    """The shape (m, n) of a forward operator: a matrix or a (1D) operator."""
    if is_operator(A):
        if len(getattr(A, "domain_shape", (A.shape[1],))) != 1:
            raise ValueError(f"A must act on 1D signals for TV reconstruction, got {A!r}")
        return A.shape
    return as_array(A, "A", ndim=2).shape


def _normal_equations(A, y):
    r""":math:`A^\top A` and the rows of :math:`A^\top y`, for a matrix or an operator (Euclidean transpose)."""
    if is_operator(A):
        n = A.shape[1]
        AtA = euclidean_transpose(A, A.apply(np.eye(n)))  # row j is A^T A e_j; A^T A is symmetric
        return AtA, euclidean_transpose(A, y)
    A = as_array(A, "A", ndim=2)
    return A.T @ A, y @ A


def _dtd(n: int) -> np.ndarray:
    """The matrix D^T D of 1D forward differences (path-graph Laplacian)."""
    L = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    L[0, 0] = L[-1, -1] = 1.0
    return L


@finite_result
def tv_reconstruct(A, y, alpha, *, tol: float = 1e-5, max_iter: int = 5000, rho: float | None = None, state=None, return_state: bool = False):
    r"""1D TV reconstruction :math:`\operatorname{argmin}_x \tfrac12\|Ax-y\|^2 + \alpha\|Dx\|_1` (ADMM).

    ADMM on the splitting :math:`z = Dx` with penalty :math:`\rho`:
    :math:`x \leftarrow (A^\top A + \rho D^\top D)^{-1}(A^\top y + \rho D^\top(z-u))`,
    :math:`z \leftarrow \operatorname{shrink}(Dx+u, \alpha/\rho)`,
    :math:`u \leftarrow u + Dx - z`. The dual variable :math:`p = \rho u` lies
    in :math:`\alpha\,\partial\|\cdot\|_1(z)`, so the iteration stops when the
    optimality residual :math:`\|A^\top(Ax-y) + D^\top p\|/\|A^\top y\|` and
    the constraint residual :math:`\|Dx - z\|/\|x\|` are both below ``tol``
    for every sample (or after ``max_iter`` iterations).

    Parameters
    ----------
    A : array_like, shape (m, n), LinearOperator, LinearMap, or None
        Forward operator on grid values: a matrix, or an operator (1D domain)
        used through its ``apply`` and ``adjoint``, with
        :math:`A^\top = W_X A^* W_Y^{-1}` in the weighted inner products (see
        :func:`learnreg.operators.euclidean_transpose`), so that an operator and
        its matrix of grid values give the same reconstruction. ``None`` for
        denoising (then :func:`tv_denoise` is used).
    y : array_like, shape (K, m)
    alpha : float
        Non-negative TV parameter.
    rho : float, optional
        ADMM penalty; default :math:`\alpha/5` (any :math:`\rho>0` converges;
        this choice is fast on the book's problems).
    state : tuple, optional
        Warm start ``(x, z, u)`` from a previous call with ``return_state=True``.

    Returns
    -------
    x : ndarray, shape (K, n)
    residual : float
        Final largest relative residual.
    state : tuple (only if ``return_state``)
    """
    y = as_array(y, "y", ndim=2)
    alpha = check_real(alpha, "alpha", nonnegative=True)
    tol = check_real(tol, "tol", positive=True)
    max_iter = check_iterations(max_iter, "max_iter")
    return_state = check_bool(return_state, "return_state")
    if A is None:
        x, gap = tv_denoise(y, alpha, tol=tol * 1e-2)
        res = float(np.max(gap / np.maximum(0.5 * np.sum(y**2, axis=1), 1.0)))
        return (x, res, None) if return_state else (x, res)
    shape = _forward_shape(A)
    if shape[0] != y.shape[1]:
        raise ValueError(f"y must have {shape[0]} columns to match A of shape {shape}, got {y.shape[1]}")
    n = shape[1]
    if n < 2:
        raise ValueError(f"A must have at least 2 columns (signals of length n >= 2), got shape {shape}")
    check_bytes(8.0 * 4 * n * n, f"the ADMM system matrix for A with {n} columns")
    rho = check_real(rho, "rho", positive=True) if rho is not None else max(alpha, 1e-4) / 5
    AtA, Aty = _normal_equations(A, y)
    M = np.linalg.inv(AtA + rho * _dtd(n))
    ref = np.maximum(np.linalg.norm(Aty, axis=1), 1e-300)
    if state is None:
        x = Aty @ M
        z = np.diff(x, axis=1)
        u = np.zeros_like(z)
    else:
        if not isinstance(state, (tuple, list)) or len(state) != 4:
            raise ValueError("state must be the (x, z, u, rho) tuple returned with return_state=True")
        x = as_array(state[0], "state", shape=y.shape[:1] + (n,)).copy()
        z = as_array(state[1], "state", shape=y.shape[:1] + (n - 1,)).copy()
        u = as_array(state[2], "state", shape=y.shape[:1] + (n - 1,)).copy()
        u = u * (check_real(state[3], "state", positive=True) / rho)  # keep the dual variable p = rho u when rho changes
    res = np.inf
    for it in range(1, max_iter + 1):
        x = (Aty + rho * _difference_adjoint(z - u, (n,))) @ M
        dx = np.diff(x, axis=1)
        v = dx + u
        z = np.sign(v) * np.maximum(np.abs(v) - alpha / rho, 0.0)
        u = v - z
        if it % 25 == 0 or it == max_iter:
            r = x @ AtA - Aty + _difference_adjoint(rho * u, (n,))
            res_opt = np.linalg.norm(r, axis=1) / ref
            res_con = np.linalg.norm(dx - z, axis=1) / np.maximum(np.linalg.norm(x, axis=1), 1e-300)
            res = float(max(res_opt.max(), res_con.max()))
            if res <= tol:
                break
    return (x, res, (x, z, u, rho)) if return_state else (x, res)


@dataclass(frozen=True)
class TVTuning:
    """Result of :func:`tune_tv`.

    Attributes
    ----------
    alpha : float
        The best parameter found.
    mse : float
        Its training MSE per pixel.
    grid, grid_mse : ndarray
        The log grid searched and the MSE at each point.
    """

    alpha: float
    mse: float
    grid: np.ndarray
    grid_mse: np.ndarray


def _recon(A, Y, alpha, shape, tol):
    if A is None:
        return tv_denoise(Y.reshape(Y.shape[0], *shape), alpha, tol=tol)[0]
    return tv_reconstruct(A, Y, alpha, tol=tol)[0]


@finite_result
def tune_tv(X, Y, A=None, *, alphas=None, refine: int = 10, tol: float | None = None) -> TVTuning:
    r"""Tune :math:`\alpha` to minimise the training MSE :math:`\frac1{KN}\sum_i\|x_\alpha(y_i)-x_i\|^2`.

    A log grid (default 17 values from 1e-3 to 10), then ``refine`` steps of
    golden-section search in log :math:`\alpha` around the best grid point.

    Parameters
    ----------
    X : array_like, shape (K, n) or (K, n1, n2)
        Ground truths.
    Y : array_like
        Data: shape (K, m) for an operator ``A``; the shape of ``X`` for denoising.
    A : array_like (m, n), LinearOperator, LinearMap or None
        Forward operator (1D only; see :func:`tv_reconstruct`) or ``None`` (denoising, 1D or 2D).
    alphas : array_like, optional
        The search grid.
    refine : int
        Golden-section steps.
    tol : float, optional
        Solver tolerance (default 1e-8 duality gap for denoising, 1e-4 residual otherwise).
    """
    X = _check_x(X, "X")
    shape = X.shape[1:]
    Y = as_array(Y, "Y")
    if A is None:
        if Y.shape != X.shape:
            raise ValueError(f"Y must have the shape of X {X.shape} for denoising, got {Y.shape}")
    else:
        if len(shape) != 1:
            raise ValueError("an operator A is supported for 1D signals only")
        if not is_operator(A):
            A = as_array(A, "A", ndim=2)
        a_shape = _forward_shape(A)
        if a_shape[1] != shape[0] or Y.shape != (X.shape[0], a_shape[0]):
            raise ValueError(
                f"A of shape {a_shape} does not match X {X.shape} and Y {Y.shape} "
                "(need A.shape[1] == signal length and Y of shape (K, A.shape[0]))"
            )
    refine = check_iterations(refine, "refine", minimum=0)
    tol = (1e-8 if A is None else 1e-4) if tol is None else check_real(tol, "tol", positive=True)
    grid = np.logspace(-3, 1, 17) if alphas is None else as_array(alphas, "alphas", ndim=1, positive=True)

    def err(a):
        return float(np.mean((_recon(A, Y, a, shape, tol) - X) ** 2))

    grid_mse = np.array([err(a) for a in grid])
    i = int(np.argmin(grid_mse))
    lo = np.log(grid[max(i - 1, 0)])
    hi = np.log(grid[min(i + 1, len(grid) - 1)])
    best_a, best_m = float(grid[i]), float(grid_mse[i])
    g = (np.sqrt(5) - 1) / 2
    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    fc, fd = err(np.exp(c)), err(np.exp(d))
    for _ in range(refine):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - g * (hi - lo)
            fc = err(np.exp(c))
        else:
            lo, c, fc = c, d, fd
            d = lo + g * (hi - lo)
            fd = err(np.exp(d))
    for a, m in ((np.exp(c), fc), (np.exp(d), fd)):
        if m < best_m:
            best_a, best_m = float(a), float(m)
    return TVTuning(alpha=best_a, mse=best_m, grid=grid, grid_mse=grid_mse)
