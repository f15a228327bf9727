r"""The convolutional regularizer :math:`J_\theta(x)=\sum_j\sum_i\varphi_j((w_j*x)_i)` (see :mod:`learnreg.cnn`)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validate import (
    MAX_MAGNITUDE,
    MIN_POSITIVE,
    as_array,
    check_bool,
    check_bytes,
    check_int,
    check_real,
    check_rng,
)
from ._common import DTYPE, as_kernel_size, as_shape

__all__ = ["CNNRegularizer"]


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
        self.shape = as_shape(shape)
        self.kernel_size = as_kernel_size(kernel_size, len(self.shape))
        for k, n, name in zip(self.kernel_size, self.shape, ("first", "second")):
            if k > n:
                raise ValueError(
                    f"kernel_size {self.kernel_size} is larger than the signal {self.shape} "
                    f"(in the {name} dimension: {k} > {n})"
                )
        self.channels = check_int(channels, "channels", minimum=1)
        self.zero_mean = check_bool(zero_mean, "zero_mean")
        learn_smoothing = check_bool(learn_smoothing, "learn_smoothing")
        strength = check_real(strength, "strength", positive=True)
        smoothing = check_real(smoothing, "smoothing", positive=True)
        taps = int(np.prod(self.kernel_size))
        N = int(np.prod(self.shape))
        check_bytes(
            8.0 * (3 * N * taps + 8 * self.channels * taps + 4 * self.channels * N),
            f"a CNN regularizer with shape = {self.shape}, channels = {self.channels}, kernel_size = {self.kernel_size}",
        )
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
        self.v = torch.nn.Parameter(torch.tensor(v, dtype=DTYPE))
        self.log_strength = torch.nn.Parameter(torch.full((self.channels,), math.log(strength), dtype=DTYPE))
        self.log_smoothing = torch.nn.Parameter(
            torch.full((self.channels,), math.log(smoothing), dtype=DTYPE), requires_grad=learn_smoothing
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
    def check_signals(self, x, name: str = "x") -> torch.Tensor:
        """A batch of flattened signals as a float64 tensor of shape (batch, N).

        Arrays follow the package's input policy (:mod:`learnreg._validate`);
        tensors must be real, floating point, finite and within the same
        magnitudes. ``name`` is the argument name used in error messages.
        """
        if isinstance(x, torch.Tensor):
            if x.dtype.is_complex or not x.dtype.is_floating_point:
                raise ValueError(f"{name} must be a real floating-point tensor, got dtype {x.dtype}")
            if x.dtype != DTYPE:
                x = x.to(DTYPE)
            a = x.detach().abs()
            if not bool(torch.isfinite(a).all()):
                raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
            if a.numel() and (float(a.max()) > MAX_MAGNITUDE or bool(((a > 0) & (a < MIN_POSITIVE)).any())):
                raise ValueError(
                    f"{name} must have magnitudes between {MIN_POSITIVE:.3g} and {MAX_MAGNITUDE:.0e} (or 0)"
                )
        else:
            x = torch.as_tensor(as_array(x, name), dtype=DTYPE)
        if x.dim() != 2 or x.shape[1] != self.size:
            raise ValueError(
                f"{name} must have shape (batch, {self.size}) (flattened {self.shape} signals), got {tuple(x.shape)}"
            )
        if x.shape[0] == 0:
            raise ValueError(f"{name} must hold at least one signal")
        return x

    def _signals(self, x, check, name="x"):
        return self.check_signals(x, name) if check_bool(check, "check") else x

    def responses(self, x, *, check: bool = True) -> torch.Tensor:
        r"""Filter responses :math:`(w_j * x)_i`, shape (B, N, C).

        ``check=False`` skips the input checks (for tensors already checked, as
        the solvers pass them); the same holds for :meth:`value`, :meth:`grad`
        and :meth:`hvp`.
        """
        x = self._signals(x, check)
        return x[:, self.idx] @ self.kernels().T

    def _adjoint(self, g: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Adjoint of x -> responses, applied to g (B, N, C)."""
        p = g @ w  # (B, N, T)
        out = torch.zeros(g.shape[0], self.size, dtype=DTYPE)
        return out.index_add(1, self.idx_flat, p.reshape(g.shape[0], -1))

    def value(self, x, *, check: bool = True) -> torch.Tensor:
        r""":math:`J_\theta(x)` per sample, shape (B,)."""
        r = self.responses(x, check=check)
        eps = self.smoothing()
        return ((torch.sqrt(r**2 + eps**2) - eps) * self.strength()).sum(dim=(1, 2))

    def grad(self, x, *, check: bool = True) -> torch.Tensor:
        r""":math:`\nabla J_\theta(x) = \sum_j K_j^\top \varphi_j'(K_j x)`, shape (B, N).

        Differentiable with respect to the parameters (used for the implicit
        hypergradient).
        """
        x = self._signals(x, check)
        w = self.kernels()
        r = x[:, self.idx] @ w.T
        eps = self.smoothing()
        dphi = self.strength() * r / torch.sqrt(r**2 + eps**2)
        return self._adjoint(dphi, w)

    def hvp(self, x, d, *, check: bool = True) -> torch.Tensor:
        r"""Hessian-vector product :math:`\nabla^2 J_\theta(x)\,d = \sum_j K_j^\top(\varphi_j''(K_jx)\odot K_j d)`."""
        x, d = self._signals(x, check), self._signals(d, check, "d")
        if check and d.shape != x.shape:
            raise ValueError(f"d must have the shape of x {tuple(x.shape)}, got {tuple(d.shape)}")
        w = self.kernels()
        r = x[:, self.idx] @ w.T
        rd = d[:, self.idx] @ w.T
        eps = self.smoothing()
        d2phi = self.strength() * eps**2 / (r**2 + eps**2) ** 1.5
        return self._adjoint(d2phi * rd, w)

    def convolution_operator(self):
        r"""The convolution :math:`x \mapsto ((w_j * x)_i)_{i,j}` for the current kernels, as a linear map.

        A :class:`~learnreg.operators.LinearMap` from flattened signals
        :math:`\mathbb R^N` to the responses :math:`\mathbb R^{N C}` (pixel-major,
        as :meth:`responses` returns them, flattened), with the replicate padding
        and its exact adjoint, in Euclidean inner products; it passes
        :func:`learnreg.operators.dot_test`.
        """
        from ..operators import LinearMap

        with torch.no_grad():
            w = self.kernels().detach().clone()

        def forward(x):
            with torch.no_grad():
                xt = torch.as_tensor(x, dtype=DTYPE)
                return (xt[:, self.idx] @ w.T).reshape(len(x), -1).numpy()

        def adjoint(r):
            with torch.no_grad():
                rt = torch.as_tensor(r, dtype=DTYPE).reshape(len(r), self.size, self.channels)
                return self._adjoint(rt, w).numpy()

        return LinearMap(forward, adjoint, (self.size * self.channels, self.size),
                         name=f"CNN convolution ({self.channels} channels, kernel {self.kernel_size})")

    def lipschitz(self) -> float:
        r"""Upper bound on the Lipschitz constant of :math:`\nabla J_\theta`.

        :math:`\varphi_j'' \le \lambda_j/\varepsilon_j`, and
        :math:`\|K_j\|_2^2 \le \|K_j\|_1\|K_j\|_\infty` (largest column and
        row sums of :math:`|K_j|`, computed exactly from the padding pattern).
        """
        with torch.no_grad():
            w = self.kernels().abs()  # (C, T)
            row = w.sum(dim=1)
            cols = torch.zeros(self.channels, self.size, dtype=DTYPE)
            cols = cols.index_add(1, self.idx_flat, w.repeat(1, self.size))
            bound = row * cols.max(dim=1).values
            return float((self.strength() / self.smoothing() * bound).sum())

    def forward(self, x):  # noqa: D401 - torch convention
        """Same as :meth:`value`."""
        return self.value(x)

