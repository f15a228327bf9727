r"""The lower level: the variational reconstruction :math:`x_\theta(y)` and the solvers behind it.

:func:`solve` runs Nesterov's accelerated gradient with adaptive restart;
:func:`unrolled` is the same iteration for a fixed number of steps,
differentiable in the parameters. The inner loops run with the parameters
frozen, in :mod:`learnreg.cnn._fast`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .._validate import as_array, check_bytes, check_iterations, check_real
from ..operators import euclidean_transpose, is_operator
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


def _gram(op, x: torch.Tensor) -> torch.Tensor:
    r""":math:`M^\top M x` for a batch of flattened signals, through the operator's apply and adjoint."""
    xn = x.detach().numpy()
    return torch.as_tensor(euclidean_transpose(op, op.apply(xn)), dtype=DTYPE)


class _OperatorGram(torch.autograd.Function):
    r""":math:`x \mapsto M^\top M x` with an operator, differentiable (the map is symmetric)."""

    @staticmethod
    def forward(ctx, x, op):
        ctx.op = op
        return _gram(op, x)

    @staticmethod
    def backward(ctx, grad):
        return _gram(ctx.op, grad), None


def _euclidean_norm2(op, max_iter: int = 1000, rtol: float = 1e-12) -> float:
    r""":math:`\|M\|_2^2` (largest eigenvalue of :math:`M^\top M`) by power iteration from a fixed start."""
    v = np.random.Generator(np.random.PCG64(20251208)).standard_normal(op.shape[1])
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(max_iter):
        w = euclidean_transpose(op, op.apply(v))
        lam_new = float(np.linalg.norm(w))
        if lam_new == 0.0:
            return 0.0
        v = w / lam_new
        if abs(lam_new - lam) <= rtol * lam_new:
            break
        lam = lam_new
    return lam_new


class Problem:
    r"""A, A^T A and the data term gradient, in torch (used by the solvers and by bilevel training).

    ``A`` is None (the identity), a matrix on flattened signals, or an operator
    (:class:`~learnreg.operators.LinearOperator` or
    :class:`~learnreg.operators.LinearMap`) used through ``apply`` and the
    Euclidean transpose of its matrix of grid values,
    :math:`M^\top = W_X A^* W_Y^{-1}` (:func:`~learnreg.operators.euclidean_transpose`):
    the energy is Euclidean in grid values either way, so an operator and its
    matrix give the same reconstruction.
    """

    def __init__(self, reg: CNNRegularizer, A):
        if not isinstance(reg, CNNRegularizer):
            raise ValueError(f"reg must be a CNNRegularizer, got {type(reg).__name__}")
        self.reg = reg
        self.op = None
        n = reg.size
        if A is None:
            self.A = None
            self.norm2 = 1.0
        elif is_operator(A):
            if A.shape[1] != n:
                raise ValueError(
                    f"A must act on signals of {n} values (shape {reg.shape}), got an operator of shape {A.shape}"
                )
            self.A = None
            self.op = A
            self.norm2 = _euclidean_norm2(A)
        else:
            A = as_array(A, "A", ndim=2)
            check_bytes(8.0 * 4 * A.size, f"the forward operator A of shape {A.shape}")
            if A.shape[1] != n:
                raise ValueError(
                    f"A must have {n} columns to act on signals of shape {reg.shape}, got shape {A.shape}"
                )
            self.A = torch.tensor(A, dtype=DTYPE)
            self.norm2 = float(np.linalg.norm(A, 2) ** 2)
        self.m = n if A is None else (self.op.shape[0] if self.op is not None else self.A.shape[0])

    def check_y(self, y, name: str = "y") -> torch.Tensor:
        """Data, one sample per row, as a float64 tensor of shape (batch, m); ``name`` is used in errors."""
        if isinstance(y, torch.Tensor):
            y = _check_tensor(y, name)
        else:
            y = torch.as_tensor(as_array(y, name, ndim=2), dtype=DTYPE)
        if y.dim() != 2 or y.shape[1] != self.m:
            raise ValueError(f"{name} must have shape (batch, {self.m}) to match A, got {tuple(y.shape)}")
        if y.shape[0] == 0:
            raise ValueError(f"{name} must hold at least one sample")
        return y

    @property
    def identity(self) -> bool:
        """Whether the forward operator is the identity (denoising)."""
        return self.A is None and self.op is None

    def At(self, y):
        if self.op is not None:
            return torch.as_tensor(euclidean_transpose(self.op, y.detach().numpy()), dtype=DTYPE)
        return y if self.A is None else y @ self.A

    def AtA(self, x):
        if self.op is not None:
            return _OperatorGram.apply(x, self.op)
        return x if self.A is None else (x @ self.A.T) @ self.A


def _check_tensor(y: torch.Tensor, name: str) -> torch.Tensor:
    """A real, finite float64 tensor (the input policy for tensors)."""
    if y.dtype.is_complex or not y.dtype.is_floating_point:
        raise ValueError(f"{name} must be a real floating-point tensor, got dtype {y.dtype}")
    y = y.to(DTYPE)
    as_array(y.detach().numpy(), name, allow_empty=True)
    return y


def solve(
    reg: CNNRegularizer,
    A,
    y,
    *,
    tol: float = 1e-4,
    max_iter: int = 5000,
    x0=None,
    check_every: int = 10,
    data_name: str = "y",
):
    r"""Minimise :math:`E(x) = \tfrac12\|Ax-y\|^2 + J_\theta(x)` for each row of ``y``.

    Nesterov's accelerated gradient with step :math:`1/L`,
    :math:`L = \|A\|^2 + \sum_j (\lambda_j/\varepsilon_j)\|K_j\|^2`, and
    gradient-based adaptive restart, until the relative gradient
    :math:`\|\nabla E(x)\|/\|A^\top y\| \le` ``tol`` for every sample (checked
    every ``check_every`` iterations) or ``max_iter`` iterations.

    Parameters
    ----------
    reg : CNNRegularizer
    A : array_like, shape (m, N), LinearOperator, LinearMap or None
        Forward operator: a matrix on flattened signals, or an operator used
        through ``apply`` and ``adjoint`` (see :class:`Problem`); ``None`` is the
        identity (denoising).
    y : array_like or tensor, shape (B, m)
    tol : float
        Relative gradient tolerance.
    x0 : tensor, shape (B, N), optional
        Starting point (warm start); default :math:`A^\top y`.
    data_name : str
        The name of ``y`` in error messages (for callers that pass their own
        argument on, e.g. ``'Y'``).

    Returns
    -------
    x : torch.Tensor, shape (B, N)
    info : SolverInfo
    """
    if not isinstance(reg, CNNRegularizer):
        raise ValueError(f"reg must be a CNNRegularizer, got {type(reg).__name__}")
    prob = A if isinstance(A, Problem) else Problem(reg, A)
    y = prob.check_y(y, data_name)
    tol = check_real(tol, "tol", positive=True)
    max_iter = check_iterations(max_iter, "max_iter")
    check_every = check_iterations(check_every, "check_every")
    if x0 is not None:
        x0 = reg.check_signals(x0, "x0")
        if x0.shape[0] != y.shape[0]:
            raise ValueError(f"x0 must hold one start per sample of {data_name} ({y.shape[0]}), got {x0.shape[0]}")
    with torch.no_grad(), torch_threads():
        aty = prob.At(y)
        x = aty if x0 is None else x0.detach()
        L = prob.norm2 + reg.lipschitz()
        if not math.isfinite(L):
            raise ValueError(
                f"the step size of the solver is not representable: strength / smoothing of reg is too large "
                f"(Lipschitz bound {L:.3g})"
            )
        energy = FrozenEnergy(reg, None if prob.identity else prob.AtA)
        x, it, res = nesterov(energy, aty.T.contiguous(), x.T.contiguous(), L, tol, max_iter, check_every)
        x = x.T.contiguous()
    if not bool(torch.isfinite(x).all()):
        raise ValueError(
            f"the reconstruction is not finite: {data_name} or the parameters of reg are too large in magnitude "
            f"(largest |{data_name}| = {float(y.abs().max()):.3g}, Lipschitz bound {L:.3g})"
        )
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
        x_new = z - (prob.AtA(z) - aty + reg.grad(z, check=False)) / L
        z = x_new + (k / (k + 3)) * (x_new - x)
        x = x_new
    return x


def unrolled_reconstruction(reg: CNNRegularizer, A, y, steps: int) -> np.ndarray:
    """The truncated solver: ``steps`` Nesterov iterations from :math:`A^\\top y` (as used in unrolled training)."""
    prob = Problem(reg, A)
    y = prob.check_y(y)
    steps = check_iterations(steps, "steps")
    with torch.no_grad(), torch_threads():
        out = unrolled(reg, prob, y, steps).numpy()
    if not np.all(np.isfinite(out)):
        raise ValueError("the unrolled reconstruction is not finite: y or the parameters of reg are too large")
    return out


def reconstruct(reg: CNNRegularizer, A, Y, *, tol: float = 1e-6, max_iter: int = 20000) -> tuple[np.ndarray, SolverInfo]:
    """Variational reconstructions :math:`x_\\theta(y)` of the rows of ``Y``, as numpy, shape ``(K, *reg.shape)``."""
    x, info = solve(reg, A, Y, tol=tol, max_iter=max_iter, data_name="Y")
    return x.numpy().reshape(-1, *reg.shape), info

