r"""CNN-type variational regularizers: the regularizer, its minimiser, bilevel learning.

The regularizer (chapter 7) is a one-layer convolutional energy

.. math::
    J_\theta(x) = \sum_{j=1}^{C} \sum_i \varphi_j\big((w_j * x)_i\big), \qquad
    \varphi_j(t) = \lambda_j\Big(\sqrt{t^2 + \varepsilon_j^2} - \varepsilon_j\Big),

with small kernels :math:`w_j` (normalised, :math:`\|w_j\| = 1`, and optionally
projected to zero mean), and the Charbonnier function :math:`\varphi_j` with
learned strength :math:`\lambda_j > 0` and smoothing :math:`\varepsilon_j > 0`
(both learned on a log scale). For :math:`|t| \ll \varepsilon` the function
:math:`\varphi` is quadratic, :math:`\varphi(t)\approx \lambda t^2/(2\varepsilon)`;
for :math:`|t| \gg \varepsilon` it is :math:`\lambda(|t| - \varepsilon)`. So
:math:`\varepsilon \to 0` turns :math:`J_\theta` into a weighted
:math:`\ell^1` norm of filter responses: with :math:`w = (1,-1)/\sqrt2` it is
total variation with parameter :math:`\lambda/\sqrt2`.

The convolution uses *replicate* padding: response :math:`i` reads the pixels
:math:`x_{\operatorname{clamp}(i + t - c)}`, :math:`t = 0,\dots,k-1`, with
:math:`c = \lfloor (k-1)/2\rfloor`, so every pixel difference, including those
at the boundary, is regularized (an unpadded convolution would leave the
boundary free). The kernel is applied as a correlation; a flip of the kernel
changes nothing in the structure measures below, which are taken up to sign
and shift.

The reconstruction is the variational solution

.. math:: x_\theta(y) = \operatorname*{argmin}_x \tfrac12\|Ax-y\|^2 + J_\theta(x),

in the Euclidean norm of pixel values, computed by Nesterov's accelerated
gradient method with adaptive restart until
:math:`\|\nabla E(x)\| \le \mathrm{tol}\,\|\nabla E(0)\| = \mathrm{tol}\,\|A^\top y\|`
for every sample. Training is bilevel,
:math:`\min_\theta \frac1{KN}\sum_i \|x_\theta(y_i) - x_i\|^2`, with the
hypergradient from implicit differentiation (conjugate gradients on
Hessian-vector products at the computed minimiser) or by unrolling a fixed
number of Nesterov steps.

All computation runs in PyTorch (float64, CPU). This module is the only one of
the package that imports torch. Randomness comes from the project's numpy
generator, passed explicitly; torch's own generator is never used.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ._validate import as_array, check_choice, check_int, check_real, check_rng

__all__ = [
    "TORCH_THREADS",
    "CNNRegularizer",
    "SolverInfo",
    "TrainingResult",
    "solve",
    "train",
    "finite_difference_stencils",
    "stencil_similarity",
    "top2_energy",
    "kernel_sum",
    "tv_parameter",
    "response_quantile",
    "mse",
    "psnr",
    "hypergradient",
    "reconstruct",
    "unrolled_reconstruction",
    "Run",
    "train_seeds",
    "channel_summary",
    "benchmark",
]

#: Threads torch may use while this module computes (2-core machines: 1 keeps
#: the other core free and makes results bit-reproducible).
TORCH_THREADS = 1

_DT = torch.float64


@contextlib.contextmanager
def _torch_threads(n: int = TORCH_THREADS):
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _as_shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    try:
        shape = tuple(shape)
    except TypeError as exc:
        raise ValueError(f"shape must be an int or a tuple of 1 or 2 ints, got {shape!r}") from exc
    if len(shape) not in (1, 2):
        raise ValueError(f"shape must have 1 or 2 entries (1D signal or 2D image), got {shape!r}")
    return tuple(check_int(s, "shape", minimum=2) for s in shape)


def _as_kernel_size(kernel_size, ndim: int) -> tuple[int, ...]:
    if isinstance(kernel_size, (int, np.integer)) and not isinstance(kernel_size, bool):
        kernel_size = (int(kernel_size),) * ndim
    try:
        kernel_size = tuple(kernel_size)
    except TypeError as exc:
        raise ValueError(f"kernel_size must be an int or a tuple of {ndim} ints") from exc
    if len(kernel_size) != ndim:
        raise ValueError(f"kernel_size must have {ndim} entries for a {ndim}D signal, got {kernel_size!r}")
    return tuple(check_int(k, "kernel_size", minimum=2) for k in kernel_size)


def _patch_index(shape: tuple[int, ...], ksize: tuple[int, ...]) -> np.ndarray:
    """Index array (N, T): pixel read by tap t of response i (replicate padding)."""
    if len(shape) == 1:
        (n,), (k,) = shape, ksize
        c = (k - 1) // 2
        return np.clip(np.arange(n)[:, None] + np.arange(k)[None, :] - c, 0, n - 1)
    (n1, n2), (k1, k2) = shape, ksize
    c1, c2 = (k1 - 1) // 2, (k2 - 1) // 2
    i1, i2 = np.meshgrid(np.arange(n1), np.arange(n2), indexing="ij")
    t1, t2 = np.meshgrid(np.arange(k1), np.arange(k2), indexing="ij")
    r = np.clip(i1.reshape(-1, 1) + t1.reshape(1, -1) - c1, 0, n1 - 1)
    s = np.clip(i2.reshape(-1, 1) + t2.reshape(1, -1) - c2, 0, n2 - 1)
    return r * n2 + s


class CNNRegularizer(torch.nn.Module):
    r"""The convolutional regularizer :math:`J_\theta(x)=\sum_j\sum_i\varphi_j((w_j*x)_i)`.

    Parameters
    ----------
    shape : int or tuple of int
        Signal length ``n`` (1D) or image shape ``(n1, n2)`` (2D).
    kernel_size : int or tuple of int
        Kernel length (1D) or kernel shape (2D); each at least 2 and at most
        the signal size.
    channels : int
        Number of channels :math:`C`.
    rng : numpy.random.Generator, optional
        Draws the random initial kernels (standard normal). Required unless
        ``init_kernels`` is given.
    zero_mean : bool
        Project each kernel to zero mean (before normalising): the
        parametrisation :math:`w = Pv/\|Pv\|` with :math:`Pv = v - \bar v`.
    init_kernels : array_like, shape ``(C, *kernel_size)``, optional
        Initial kernels (normalised, and projected if ``zero_mean``).
    strength, smoothing : float
        Initial :math:`\lambda` and :math:`\varepsilon` (positive).
    learn_smoothing : bool
        Whether :math:`\varepsilon` is learned; if not it stays fixed.

    Examples
    --------
    >>> reg = CNNRegularizer(8, 2, init_kernels=[[1.0, -1.0]], strength=1.0, smoothing=1e-8)
    >>> x = torch.tensor([[0., 0., 0., 1., 1., 1., 1., 1.]], dtype=torch.float64)
    >>> round(reg.value(x)[0].item() * 2**0.5, 6)   # = TV(x) = 1
    1.0
    """

    def __init__(
        self,
        shape,
        kernel_size,
        channels: int = 1,
        *,
        rng: np.random.Generator | None = None,
        zero_mean: bool = True,
        init_kernels=None,
        strength: float = 0.1,
        smoothing: float = 0.1,
        learn_smoothing: bool = True,
    ):
        super().__init__()
        self.shape = _as_shape(shape)
        self.kernel_size = _as_kernel_size(kernel_size, len(self.shape))
        for k, n, name in zip(self.kernel_size, self.shape, ("first", "second")):
            if k > n:
                raise ValueError(
                    f"kernel_size {self.kernel_size} is larger than the signal {self.shape} "
                    f"(in the {name} dimension: {k} > {n})"
                )
        self.channels = check_int(channels, "channels", minimum=1)
        self.zero_mean = bool(zero_mean)
        strength = check_real(strength, "strength", positive=True)
        smoothing = check_real(smoothing, "smoothing", positive=True)
        taps = int(np.prod(self.kernel_size))
        if init_kernels is None:
            if rng is None:
                raise ValueError("rng is required when init_kernels is not given (random initial kernels)")
            check_rng(rng)
            v = rng.standard_normal((self.channels, taps))
        else:
            v = as_array(init_kernels, "init_kernels")
            if v.shape != (self.channels, *self.kernel_size):
                raise ValueError(
                    f"init_kernels must have shape {(self.channels, *self.kernel_size)}, got {v.shape}"
                )
            v = v.reshape(self.channels, taps)
        vv = v - v.mean(axis=1, keepdims=True) if self.zero_mean else v
        if np.any(np.linalg.norm(vv, axis=1) == 0):
            raise ValueError("init_kernels must not be zero (after the zero-mean projection)")
        self.v = torch.nn.Parameter(torch.tensor(v, dtype=_DT))
        self.log_strength = torch.nn.Parameter(torch.full((self.channels,), math.log(strength), dtype=_DT))
        self.log_smoothing = torch.nn.Parameter(
            torch.full((self.channels,), math.log(smoothing), dtype=_DT), requires_grad=learn_smoothing
        )
        idx = _patch_index(self.shape, self.kernel_size)
        self.register_buffer("idx", torch.tensor(idx, dtype=torch.long))
        self.register_buffer("idx_flat", torch.tensor(idx.reshape(-1), dtype=torch.long))

    # -- parameters --------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of pixels N."""
        return int(np.prod(self.shape))

    def kernels(self) -> torch.Tensor:
        r"""Kernels :math:`w_j`, shape (C, T) (flattened), unit norm (zero mean if projected)."""
        v = self.v - self.v.mean(dim=1, keepdim=True) if self.zero_mean else self.v
        return v / v.norm(dim=1, keepdim=True)

    def strength(self) -> torch.Tensor:
        r""":math:`\lambda_j`, shape (C,)."""
        return self.log_strength.exp()

    def smoothing(self) -> torch.Tensor:
        r""":math:`\varepsilon_j`, shape (C,)."""
        return self.log_smoothing.exp()

    def snapshot(self) -> dict:
        """Current parameters as numpy arrays: kernels ``(C, *kernel_size)``, strength, smoothing."""
        with torch.no_grad():
            return {
                "kernels": self.kernels().numpy().reshape(self.channels, *self.kernel_size).copy(),
                "strength": self.strength().numpy().copy(),
                "smoothing": self.smoothing().numpy().copy(),
            }

    # -- the energy and its derivatives --------------------------------------
    def _check_x(self, x) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(as_array(x, "x"), dtype=_DT)
        if x.dim() != 2 or x.shape[1] != self.size:
            raise ValueError(
                f"x must have shape (batch, {self.size}) (flattened {self.shape} signals), got {tuple(x.shape)}"
            )
        return x

    def responses(self, x) -> torch.Tensor:
        r"""Filter responses :math:`(w_j * x)_i`, shape (B, N, C)."""
        x = self._check_x(x)
        return x[:, self.idx] @ self.kernels().T

    def _adjoint(self, g: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Adjoint of x -> responses, applied to g (B, N, C)."""
        p = g @ w  # (B, N, T)
        out = torch.zeros(g.shape[0], self.size, dtype=_DT)
        return out.index_add(1, self.idx_flat, p.reshape(g.shape[0], -1))

    def value(self, x) -> torch.Tensor:
        r""":math:`J_\theta(x)` per sample, shape (B,)."""
        r = self.responses(x)
        eps = self.smoothing()
        return ((torch.sqrt(r**2 + eps**2) - eps) * self.strength()).sum(dim=(1, 2))

    def grad(self, x) -> torch.Tensor:
        r""":math:`\nabla J_\theta(x) = \sum_j K_j^\top \varphi_j'(K_j x)`, shape (B, N).

        Differentiable with respect to the parameters (used for the implicit
        hypergradient).
        """
        x = self._check_x(x)
        w = self.kernels()
        r = x[:, self.idx] @ w.T
        eps = self.smoothing()
        dphi = self.strength() * r / torch.sqrt(r**2 + eps**2)
        return self._adjoint(dphi, w)

    def hvp(self, x, d) -> torch.Tensor:
        r"""Hessian-vector product :math:`\nabla^2 J_\theta(x)\,d = \sum_j K_j^\top(\varphi_j''(K_jx)\odot K_j d)`."""
        x, d = self._check_x(x), self._check_x(d)
        w = self.kernels()
        r = x[:, self.idx] @ w.T
        rd = d[:, self.idx] @ w.T
        eps = self.smoothing()
        d2phi = self.strength() * eps**2 / (r**2 + eps**2) ** 1.5
        return self._adjoint(d2phi * rd, w)

    def lipschitz(self) -> float:
        r"""Upper bound on the Lipschitz constant of :math:`\nabla J_\theta`.

        :math:`\varphi_j'' \le \lambda_j/\varepsilon_j`, and
        :math:`\|K_j\|_2^2 \le \|K_j\|_1\|K_j\|_\infty` (largest column and
        row sums of :math:`|K_j|`, computed exactly from the padding pattern).
        """
        with torch.no_grad():
            w = self.kernels().abs()  # (C, T)
            row = w.sum(dim=1)
            cols = torch.zeros(self.channels, self.size, dtype=_DT)
            cols = cols.index_add(1, self.idx_flat, w.repeat(1, self.size))
            bound = row * cols.max(dim=1).values
            return float((self.strength() / self.smoothing() * bound).sum())

    def forward(self, x):  # noqa: D401 - torch convention
        """Same as :meth:`value`."""
        return self.value(x)


# ---------------------------------------------------------------------------
# Lower level: the variational reconstruction
# ---------------------------------------------------------------------------


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


class _Problem:
    """A, A^T A and the data term gradient, in torch."""

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
            self.A = torch.tensor(A, dtype=_DT)
            self.norm2 = float(np.linalg.norm(A, 2) ** 2)
        self.m = n if A is None else self.A.shape[0]

    def check_y(self, y) -> torch.Tensor:
        if not isinstance(y, torch.Tensor):
            y = torch.as_tensor(as_array(y, "y", ndim=2), dtype=_DT)
        if y.dim() != 2 or y.shape[1] != self.m:
            raise ValueError(f"y must have shape (batch, {self.m}) to match A, got {tuple(y.shape)}")
        return y

    def At(self, y):
        return y if self.A is None else y @ self.A

    def AtA(self, x):
        return x if self.A is None else (x @ self.A.T) @ self.A


def _rel_residual(reg, prob, x, aty, ref):
    g = prob.AtA(x) - aty + reg.grad(x)
    return g.norm(dim=1) / ref


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
    prob = A if isinstance(A, _Problem) else _Problem(reg, A)
    y = prob.check_y(y)
    tol = check_real(tol, "tol", positive=True)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    check_every = check_int(check_every, "check_every", minimum=1)
    with torch.no_grad(), _torch_threads():
        aty = prob.At(y)
        ref = aty.norm(dim=1).clamp_min(1e-300)
        x = aty.clone() if x0 is None else reg._check_x(x0).detach().clone()
        L = prob.norm2 + reg.lipschitz()
        z, t = x.clone(), torch.ones(y.shape[0], 1, dtype=_DT)
        it, res = 0, float("inf")
        while it < max_iter:
            g = prob.AtA(z) - aty + reg.grad(z)
            x_new = z - g / L
            restart = ((g * (x_new - x)).sum(dim=1, keepdim=True) > 0).to(_DT)
            t = torch.where(restart > 0, torch.ones_like(t), t)
            t_new = (1 + torch.sqrt(1 + 4 * t**2)) / 2
            z = x_new + ((t - 1) / t_new) * (x_new - x)
            z = torch.where(restart > 0, x_new, z)
            x, t = x_new, t_new
            it += 1
            if it % check_every == 0 or it == max_iter:
                res = float(_rel_residual(reg, prob, x, aty, ref).max())
                if res <= tol:
                    break
    return x, SolverInfo(iterations=it, residual=res, converged=res <= tol)


def _unrolled(reg, prob, y, steps, L=None):
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
    prob = _Problem(reg, A)
    y = prob.check_y(y)
    steps = check_int(steps, "steps", minimum=1)
    with torch.no_grad(), _torch_threads():
        return _unrolled(reg, prob, y, steps).numpy()


def _cg(hvp, b, tol, max_iter):
    """Batched conjugate gradients for H x = b (H SPD, block diagonal over the batch)."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rs = (r * r).sum(dim=1, keepdim=True)
    bnorm = b.norm(dim=1, keepdim=True)
    for i in range(max_iter):
        if bool((rs.sqrt() <= tol * bnorm).all()):
            return x, i
        Ap = hvp(p)
        pAp = (p * Ap).sum(dim=1, keepdim=True)
        alpha = torch.where(pAp > 0, rs / torch.where(pAp > 0, pAp, torch.ones_like(pAp)), torch.zeros_like(pAp))
        x = x + alpha * p
        r = r - alpha * Ap
        rs_new = (r * r).sum(dim=1, keepdim=True)
        beta = torch.where(rs > 0, rs_new / torch.where(rs > 0, rs, torch.ones_like(rs)), torch.zeros_like(rs))
        p = r + beta * p
        rs = rs_new
    return x, max_iter


def hypergradient(reg: CNNRegularizer, A, x_true, y, *, tol: float = 1e-8, cg_tol: float = 1e-10, max_iter: int = 20000):
    r"""Implicit hypergradient of :math:`\ell(\theta) = \frac1{BN}\sum_b\|x_\theta(y_b) - x_b\|^2`.

    At the minimiser :math:`\nabla_x E(x_\theta,\theta) = 0`, so
    :math:`\nabla_\theta \ell = -\big(\partial_\theta\nabla_x J_\theta(x_\theta)\big)^\top q`
    with :math:`H q = \nabla_x\ell`, :math:`H = A^\top A + \nabla^2 J_\theta(x_\theta)`
    (solved by conjugate gradients). The gradient is accumulated into the
    parameters' ``.grad``; the loss is returned.
    """
    prob = _Problem(reg, A)
    y = prob.check_y(y)
    x_true = reg._check_x(x_true)
    if x_true.shape[0] != y.shape[0]:
        raise ValueError(f"x_true and y must have the same batch size, got {x_true.shape[0]} and {y.shape[0]}")
    x, _ = solve(reg, prob, y, tol=tol, max_iter=max_iter)
    return _implicit_backward(reg, prob, x, x_true, cg_tol, 1000)


def _implicit_backward(reg, prob, x, x_true, cg_tol, cg_iter):
    B, N = x.shape
    with torch.no_grad():
        dl = 2 * (x - x_true) / (B * N)
        loss = float(((x - x_true) ** 2).mean())
        q, _ = _cg(lambda d: prob.AtA(d) + reg.hvp(x, d), dl, cg_tol, cg_iter)
    surrogate = -(reg.grad(x) * q).sum()
    surrogate.backward()
    return loss


# ---------------------------------------------------------------------------
# Upper level: bilevel training
# ---------------------------------------------------------------------------


def _progress_bar(total: int, desc: str):
    """A text progress bar whose final line is reproducible (fixed width, no rate)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        mininterval=1e9,
        bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]",
    )


@dataclass
class TrainingResult:
    """History of a bilevel training run.

    Attributes
    ----------
    losses : ndarray, shape (steps,)
        Mini-batch loss (MSE per pixel) at each step, before the update.
    kernels : ndarray, shape ``(steps + 1, C, *kernel_size)``
        Kernels before each step and after the last.
    strength, smoothing : ndarray, shape (steps + 1, C)
        :math:`\\lambda_j` and :math:`\\varepsilon_j` along training.
    seconds : float
        Wall-clock training time.
    method : str
    solver_iterations : float
        Mean lower-level iterations per step (implicit training).
    """

    losses: np.ndarray
    kernels: np.ndarray
    strength: np.ndarray
    smoothing: np.ndarray
    seconds: float
    method: str
    solver_iterations: float = float("nan")
    extra: dict = field(default_factory=dict)


def train(
    reg: CNNRegularizer,
    A,
    X,
    Y,
    rng: np.random.Generator,
    *,
    steps: int = 100,
    batch: int = 32,
    lr: float = 0.1,
    method: str = "implicit",
    unroll_steps: int = 100,
    tol: float = 1e-4,
    max_iter: int = 3000,
    cg_tol: float = 1e-6,
    cg_iter: int = 300,
    progress=True,
    desc: str | None = None,
) -> TrainingResult:
    r"""Bilevel training :math:`\min_\theta \frac1{KN}\sum_i\|x_\theta(y_i)-x_i\|^2` with Adam.

    Adam (learning rate ``lr``, cosine decay to 0 over ``steps``) on
    mini-batches of ``batch`` training pairs drawn by ``rng``. With
    ``method='implicit'`` the lower level is solved to relative gradient
    tolerance ``tol`` (warm-started from the previous solution of each
    training pair) and the hypergradient comes from implicit differentiation
    (:func:`hypergradient`); with ``method='unrolled'`` it is backpropagated
    through ``unroll_steps`` Nesterov iterations, whose output is then the
    reconstruction being trained.

    Parameters
    ----------
    reg : CNNRegularizer
        Trained in place.
    A : array_like (m, N) or None
        Forward operator (``None``: denoising).
    X : array_like, shape ``(K, *reg.shape)``
        Ground truths.
    Y : array_like, shape (K, m)
        Data.
    rng : numpy.random.Generator
        Draws the mini-batches.
    progress : bool or tqdm bar
        Show a progress bar (``True``), none (``False``), or advance a given bar.
    """
    if not isinstance(reg, CNNRegularizer):
        raise ValueError(f"reg must be a CNNRegularizer, got {type(reg).__name__}")
    check_rng(rng)
    method = check_choice(method, "method", ("implicit", "unrolled"))
    steps = check_int(steps, "steps", minimum=1)
    lr = check_real(lr, "lr", positive=True)
    unroll_steps = check_int(unroll_steps, "unroll_steps", minimum=1)
    prob = _Problem(reg, A)
    X = as_array(X, "X")
    if X.shape[1:] != reg.shape:
        raise ValueError(f"X must have shape (K, {', '.join(map(str, reg.shape))}), got {X.shape}")
    Xt = torch.tensor(X.reshape(X.shape[0], -1), dtype=_DT)
    Yt = prob.check_y(Y)
    K = Xt.shape[0]
    if Yt.shape[0] != K:
        raise ValueError(f"X and Y must hold the same number of samples, got {K} and {Yt.shape[0]}")
    batch = check_int(batch, "batch", minimum=1, maximum=K)
    params = [p for p in reg.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    warm = None
    losses, iters = [], []
    snaps = [reg.snapshot()]
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        tqdm = None
    own_bar = progress is True and tqdm is not None
    if own_bar:
        bar = _progress_bar(steps, desc or f"bilevel ({method})")
    elif progress is not None and progress is not False and hasattr(progress, "update"):
        bar = progress  # a bar shared by several runs (see train_seeds)
    else:
        bar = None
    t0 = time.perf_counter()
    with _torch_threads():
        if method == "implicit":
            with torch.no_grad():
                warm = prob.At(Yt).clone()
        for _ in range(steps):
            idx = torch.as_tensor(np.sort(rng.choice(K, size=batch, replace=False)))
            opt.zero_grad()
            if method == "implicit":
                x, info = solve(reg, prob, Yt[idx], tol=tol, max_iter=max_iter, x0=warm[idx])
                warm[idx] = x
                iters.append(info.iterations)
                loss = _implicit_backward(reg, prob, x, Xt[idx], cg_tol, cg_iter)
            else:
                x = _unrolled(reg, prob, Yt[idx], unroll_steps)
                lt = ((x - Xt[idx]) ** 2).mean()
                lt.backward()
                loss = float(lt.detach())
            opt.step()
            sched.step()
            losses.append(loss)
            snaps.append(reg.snapshot())
            if bar is not None:
                bar.update(1)
    seconds = time.perf_counter() - t0
    if own_bar:
        bar.close()
    return TrainingResult(
        losses=np.array(losses),
        kernels=np.stack([s["kernels"] for s in snaps]),
        strength=np.stack([s["strength"] for s in snaps]),
        smoothing=np.stack([s["smoothing"] for s in snaps]),
        seconds=seconds,
        method=method,
        solver_iterations=float(np.mean(iters)) if iters else float("nan"),
    )


def reconstruct(reg: CNNRegularizer, A, Y, *, tol: float = 1e-6, max_iter: int = 20000) -> tuple[np.ndarray, SolverInfo]:
    """Variational reconstructions :math:`x_\\theta(y)` of the rows of ``Y``, as numpy, shape ``(K, *reg.shape)``."""
    x, info = solve(reg, A, Y, tol=tol, max_iter=max_iter)
    return x.numpy().reshape(-1, *reg.shape), info


# ---------------------------------------------------------------------------
# Structure measures
# ---------------------------------------------------------------------------


def finite_difference_stencils(kernel_size, *, order: int = 1) -> dict[str, np.ndarray]:
    """All finite-difference stencils that fit in a kernel, at every shift.

    Parameters
    ----------
    kernel_size : int or tuple of 2 ints
    order : {1, 2}
        1: two-tap first differences (1D), or horizontal, vertical, diagonal,
        anti-diagonal differences and the 2x2 mixed derivative (2D).
        2: adds the second differences (1, -2, 1) (1D and along each axis in 2D).

    Returns
    -------
    dict
        Family name -> array ``(S, *kernel_size)`` of unit-norm stencils.
    """
    order = check_int(order, "order", minimum=1, maximum=2)
    one_d = isinstance(kernel_size, (int, np.integer)) or len(tuple(kernel_size)) == 1
    ks = _as_kernel_size(kernel_size, 1 if one_d else 2)

    def place(pattern):
        pattern = np.asarray(pattern, dtype=float)
        out = []
        if one_d:
            for s in range(ks[0] - pattern.size + 1):
                w = np.zeros(ks)
                w[s : s + pattern.size] = pattern
                out.append(w / np.linalg.norm(w))
        else:
            p1, p2 = pattern.shape
            for s1 in range(ks[0] - p1 + 1):
                for s2 in range(ks[1] - p2 + 1):
                    w = np.zeros(ks)
                    w[s1 : s1 + p1, s2 : s2 + p2] = pattern
                    out.append(w / np.linalg.norm(w))
        return np.array(out) if out else np.zeros((0, *ks))

    if one_d:
        fam = {"first difference": place([1.0, -1.0])}
        if order == 2:
            fam["second difference"] = place([1.0, -2.0, 1.0])
    else:
        fam = {
            "horizontal": place([[1.0, -1.0]]),
            "vertical": place([[1.0], [-1.0]]),
            "diagonal": place([[1.0, 0.0], [0.0, -1.0]]),
            "anti-diagonal": place([[0.0, 1.0], [-1.0, 0.0]]),
            "mixed": place([[1.0, -1.0], [-1.0, 1.0]]),
        }
        if order == 2:
            fam["horizontal second"] = place([[1.0, -2.0, 1.0]])
            fam["vertical second"] = place([[1.0], [-2.0], [1.0]])
    return {k: v for k, v in fam.items() if len(v)}


def stencil_similarity(kernel, *, order: int = 1) -> tuple[float, str]:
    r"""Cosine similarity to the nearest finite-difference stencil, up to sign and shift.

    :math:`\max_{d}\ |\langle w, d\rangle| / (\|w\|\,\|d\|)` over the stencils of
    :func:`finite_difference_stencils`.

    Returns
    -------
    cosine : float
    family : str
        Name of the nearest stencil's family.
    """
    w = as_array(kernel, "kernel", ndim=(1, 2))
    nw = np.linalg.norm(w)
    if nw == 0:
        raise ValueError("kernel must not be zero")
    best, name = -1.0, ""
    for fam, st in finite_difference_stencils(w.shape if w.ndim == 2 else w.shape[0], order=order).items():
        c = float(np.max(np.abs(st.reshape(len(st), -1) @ w.reshape(-1)))) / nw
        if c > best:
            best, name = c, fam
    return best, name


def top2_energy(kernel) -> float:
    r"""Share of the kernel's energy in its two largest taps, :math:`(w_{(1)}^2 + w_{(2)}^2)/\|w\|^2`."""
    w = as_array(kernel, "kernel").reshape(-1)
    if w.size < 2:
        raise ValueError("kernel must have at least 2 taps")
    e = np.sort(w**2)[::-1]
    if e.sum() == 0:
        raise ValueError("kernel must not be zero")
    return float((e[0] + e[1]) / e.sum())


def kernel_sum(kernel) -> float:
    r"""Normalised kernel sum :math:`\sum_t w_t / \|w\|_2` (0 for a difference stencil)."""
    w = as_array(kernel, "kernel").reshape(-1)
    n = np.linalg.norm(w)
    if n == 0:
        raise ValueError("kernel must not be zero")
    return float(w.sum() / n)


def tv_parameter(kernel, strength: float) -> float:
    r"""TV parameter equivalent to a channel close to a 1D first difference.

    If :math:`w \approx c\,d` with :math:`d` a two-tap difference (1, -1), then
    for :math:`\varepsilon\to0`, :math:`\lambda\sum_i|(w*x)_i| \approx \lambda|c|\,\mathrm{TV}(x)`,
    :math:`c = \langle w, d\rangle/\|d\|^2`. Returns :math:`\lambda |c|` for the nearest :math:`d`.
    """
    w = as_array(kernel, "kernel", ndim=1)
    strength = check_real(strength, "strength", positive=True)
    st = finite_difference_stencils(w.shape[0])["first difference"] * math.sqrt(2)  # entries +-1
    c = np.max(np.abs(st @ w)) / 2.0
    return float(strength * c)


def response_quantile(reg: CNNRegularizer, X, q: float = 0.99) -> np.ndarray:
    r"""Per channel, the ``q``-quantile of :math:`|(w_j*x)_i|/\varepsilon_j` over the signals ``X``.

    Large values (:math:`\gg 1`) mean the responses sit in the :math:`|t|` regime
    of :math:`\varphi` (TV-like); values :math:`\lesssim 1` mean the quadratic
    regime (Tikhonov/:math:`H^1`-like).
    """
    q = check_real(q, "q", minimum=0.0, maximum=1.0)
    X = as_array(X, "X")
    if X.shape[1:] != reg.shape:
        raise ValueError(f"X must have shape (K, {', '.join(map(str, reg.shape))}), got {X.shape}")
    with torch.no_grad():
        r = reg.responses(torch.tensor(X.reshape(X.shape[0], -1), dtype=_DT)).abs() / reg.smoothing()
        return np.quantile(r.reshape(-1, reg.channels).numpy(), q, axis=0)


def mse(x_hat, x) -> float:
    """Mean squared error per pixel."""
    x_hat, x = as_array(x_hat, "x_hat"), as_array(x, "x")
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat and x must have the same shape, got {x_hat.shape} and {x.shape}")
    return float(np.mean((x_hat - x) ** 2))


def psnr(x_hat, x, peak: float) -> float:
    r"""Peak signal-to-noise ratio :math:`10\log_{10}(\mathrm{peak}^2/\mathrm{MSE})` in dB."""
    peak = check_real(peak, "peak", positive=True)
    m = mse(x_hat, x)
    if m == 0:
        return float("inf")
    return float(10 * np.log10(peak**2 / m))


# ---------------------------------------------------------------------------
# Experiments: several seeds, per-channel summaries, timings
# ---------------------------------------------------------------------------


@dataclass
class Run:
    """One training run: its index, the trained regularizer and its history."""

    index: int
    reg: CNNRegularizer
    result: TrainingResult


def train_seeds(
    rngs,
    shape,
    kernel_size,
    channels: int,
    A,
    X,
    Y,
    *,
    zero_mean: bool = True,
    strength: float = 0.1,
    smoothing: float = 0.1,
    learn_smoothing: bool = True,
    desc: str = "train",
    **train_kw,
) -> list[Run]:
    """Train one regularizer per generator in ``rngs`` (random initial kernels and batches from it).

    Keyword arguments not listed are passed on to :func:`train`; one progress
    bar covers all runs.
    """
    rngs = list(rngs)
    if not rngs:
        raise ValueError("rngs must hold at least one numpy.random.Generator")
    for r in rngs:
        check_rng(r, "rngs[i]")
    progress = train_kw.pop("progress", True)
    steps = check_int(train_kw.get("steps", 100), "steps", minimum=1)
    bar = _progress_bar(len(rngs) * steps, f"{desc} ({len(rngs)} runs)") if progress else False
    runs = []
    try:
        for i, r in enumerate(rngs):
            reg = CNNRegularizer(
                shape, kernel_size, channels, rng=r, zero_mean=zero_mean, strength=strength,
                smoothing=smoothing, learn_smoothing=learn_smoothing,
            )
            res = train(reg, A, X, Y, r, desc=f"{desc} #{i}", progress=bar, **train_kw)
            runs.append(Run(i, reg, res))
    finally:
        if bar:
            bar.close()
    return runs


def channel_summary(runs: list[Run], noise: float, *, order: int = 1) -> list[dict]:
    r"""One row per run and channel: cosine to the nearest stencil, its family, top-2 energy,
    kernel sum, :math:`\varepsilon/\sigma`, :math:`\lambda`, and (1D) the equivalent TV parameter."""
    noise = check_real(noise, "noise", positive=True)
    rows = []
    for run in runs:
        snap = run.reg.snapshot()
        for j, w in enumerate(snap["kernels"]):
            cos, fam = stencil_similarity(w, order=order)
            row = {
                "run": run.index,
                "channel": j,
                "cosine": cos,
                "family": fam,
                "top2": top2_energy(w),
                "sum": kernel_sum(w),
                "eps/noise": float(snap["smoothing"][j] / noise),
                "strength": float(snap["strength"][j]),
                "seconds": run.result.seconds,
            }
            if w.ndim == 1:
                row["tv_alpha"] = tv_parameter(w, float(snap["strength"][j]))
            rows.append(row)
    return rows


def benchmark(*, steps: int = 100) -> list[dict]:
    """Training time of one run of each of the chapter's experiment types (for the benchmark table).

    Returns rows with ``name``, ``seconds`` (wall clock of :func:`train`) and
    ``steps``: 1D denoising (implicit), 1D deblurring (implicit, fixed
    :math:`\\varepsilon`), 1D deblurring unrolled (10 steps), 2D denoising
    (2x2 kernels, two channels).
    """
    from .data import cartoon_images, make_rng, piecewise_constant
    from .operators import PeriodicConvolution

    steps = check_int(steps, "steps", minimum=1)
    rng = make_rng(0)
    out = []
    X = piecewise_constant(128, 256, rng)
    Y = X + 0.15 * rng.standard_normal(X.shape)
    r = train_seeds([make_rng(1)], 128, 5, 1, None, X, Y, steps=steps, progress=False)[0]
    out.append({"name": "cnn 1D denoising (implicit)", "seconds": r.result.seconds, "steps": steps})
    A = PeriodicConvolution(64, sigma=0.02).matrix
    X = piecewise_constant(64, 128, rng)
    Y = X @ A.T + 0.05 * rng.standard_normal(X.shape)
    r = train_seeds([make_rng(2)], 64, 5, 1, A, X, Y, smoothing=0.01, learn_smoothing=False, steps=steps, progress=False)[0]
    out.append({"name": "cnn 1D deblurring (implicit)", "seconds": r.result.seconds, "steps": steps})
    r = train_seeds(
        [make_rng(3)], 64, 5, 1, A, X, Y, smoothing=0.01, learn_smoothing=False, steps=steps,
        method="unrolled", unroll_steps=10, progress=False,
    )[0]
    out.append({"name": "cnn 1D deblurring (unrolled, 10 steps)", "seconds": r.result.seconds, "steps": steps})
    X = cartoon_images(32, 128, rng)
    Y = (X + 0.15 * rng.standard_normal(X.shape)).reshape(128, -1)
    r = train_seeds([make_rng(4)], (32, 32), 2, 2, None, X, Y, steps=steps, batch=16, progress=False)[0]
    out.append({"name": "cnn 2D denoising (2x2, 2 channels)", "seconds": r.result.seconds, "steps": steps})
    return out
