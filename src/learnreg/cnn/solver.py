r"""The lower level: the variational reconstruction :math:`x_\theta(y)` and the solvers behind it.

:func:`solve` runs Nesterov's accelerated gradient with adaptive restart;
:func:`unrolled` is the same iteration for a fixed number of steps,
differentiable in the parameters. The inner loops run with the parameters
frozen, in :mod:`learnreg.cnn._fast`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .._validate import as_array, check_int, check_real
from ._common import DTYPE, torch_threads
from ._fast import FrozenEnergy, nesterov
from .regularizer import CNNRegularizer

__all__ = ["SolverInfo", "solve", "reconstruct", "unrolled_reconstruction"]


@dataclass(frozen=True)
class SolverInfo:
    """Outcome of :func:`solve`.

    Attributes
    ----------
    iterations : int
        Nesterov iterations used.
    residual : float
        Largest relative gradient norm :math:`\\|\\nabla E(x)\\|/\\|A^\\top y\\|` over the batch.
    converged : bool
        Whether ``residual <= tol``.
    """

    iterations: int
    residual: float
    converged: bool


class Problem:
    """A, A^T A and the data term gradient, in torch (used by the solvers and by bilevel training)."""

    def __init__(self, reg: CNNRegularizer, A):
        n = reg.size
        if A is None:
            self.A = None
            self.norm2 = 1.0
        else:
            A = as_array(A, "A", ndim=2)
            if A.shape[1] != n:
                raise ValueError(
                    f"A must have {n} columns to act on signals of shape {reg.shape}, got shape {A.shape}"
                )
            self.A = torch.tensor(A, dtype=DTYPE)
            self.norm2 = float(np.linalg.norm(A, 2) ** 2)
        self.m = n if A is None else self.A.shape[0]

    def check_y(self, y) -> torch.Tensor:
        if not isinstance(y, torch.Tensor):
            y = torch.as_tensor(as_array(y, "y", ndim=2), dtype=DTYPE)
        if y.dim() != 2 or y.shape[1] != self.m:
            raise ValueError(f"y must have shape (batch, {self.m}) to match A, got {tuple(y.shape)}")
        return y

    def At(self, y):
        return y if self.A is None else y @ self.A

    def AtA(self, x):
        return x if self.A is None else (x @ self.A.T) @ self.A


def solve(reg: CNNRegularizer, A, y, *, tol: float = 1e-4, max_iter: int = 5000, x0=None, check_every: int = 10):
    r"""Minimise :math:`E(x) = \tfrac12\|Ax-y\|^2 + J_\theta(x)` for each row of ``y``.

    Nesterov's accelerated gradient with step :math:`1/L`,
    :math:`L = \|A\|^2 + \sum_j (\lambda_j/\varepsilon_j)\|K_j\|^2`, and
    gradient-based adaptive restart, until the relative gradient
    :math:`\|\nabla E(x)\|/\|A^\top y\| \le` ``tol`` for every sample (checked
    every ``check_every`` iterations) or ``max_iter`` iterations.

    Parameters
    ----------
    reg : CNNRegularizer
    A : array_like, shape (m, N), or None
        Forward operator as a matrix on flattened signals; ``None`` is the identity (denoising).
    y : array_like or tensor, shape (B, m)
    tol : float
        Relative gradient tolerance.
    x0 : tensor, shape (B, N), optional
        Starting point (warm start); default :math:`A^\top y`.

    Returns
    -------
    x : torch.Tensor, shape (B, N)
    info : SolverInfo
    """
    if not isinstance(reg, CNNRegularizer):
        raise ValueError(f"reg must be a CNNRegularizer, got {type(reg).__name__}")
    prob = A if isinstance(A, Problem) else Problem(reg, A)
    y = prob.check_y(y)
    tol = check_real(tol, "tol", positive=True)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    check_every = check_int(check_every, "check_every", minimum=1)
    with torch.no_grad(), torch_threads():
        aty = prob.At(y)
        x = aty if x0 is None else reg._check_x(x0).detach()
        L = prob.norm2 + reg.lipschitz()
        energy = FrozenEnergy(reg, None if prob.A is None else prob.AtA)
        x, it, res = nesterov(energy, aty.T.contiguous(), x.T.contiguous(), L, tol, max_iter, check_every)
        x = x.T.contiguous()
    return x, SolverInfo(iterations=it, residual=res, converged=res <= tol)


def unrolled(reg, prob, y, steps, L=None):
    """``steps`` Nesterov iterations from A^T y, differentiable in the parameters.

    The step size 1/L is treated as a constant (not differentiated).
    """
    aty = prob.At(y)
    if L is None:
        with torch.no_grad():
            L = prob.norm2 + reg.lipschitz()
    x = aty
    z = aty
    for k in range(steps):
        x_new = z - (prob.AtA(z) - aty + reg.grad(z)) / L
        z = x_new + (k / (k + 3)) * (x_new - x)
        x = x_new
    return x


def unrolled_reconstruction(reg: CNNRegularizer, A, y, steps: int) -> np.ndarray:
    """The truncated solver: ``steps`` Nesterov iterations from :math:`A^\\top y` (as used in unrolled training)."""
    prob = Problem(reg, A)
    y = prob.check_y(y)
    steps = check_int(steps, "steps", minimum=1)
    with torch.no_grad(), torch_threads():
        return unrolled(reg, prob, y, steps).numpy()


def reconstruct(reg: CNNRegularizer, A, Y, *, tol: float = 1e-6, max_iter: int = 20000) -> tuple[np.ndarray, SolverInfo]:
    """Variational reconstructions :math:`x_\\theta(y)` of the rows of ``Y``, as numpy, shape ``(K, *reg.shape)``."""
    x, info = solve(reg, A, Y, tol=tol, max_iter=max_iter)
    return x.numpy().reshape(-1, *reg.shape), info

