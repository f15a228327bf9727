r"""The convolutional regularizer :math:`J_\theta(x)=\sum_j\sum_i\varphi_j((w_j*x)_i)` (see :mod:`learnreg.cnn`)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validate import as_array, check_int, check_real, check_rng
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
    def _check_x(self, x) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(as_array(x, "x"), dtype=DTYPE)
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
        out = torch.zeros(g.shape[0], self.size, dtype=DTYPE)
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
            cols = torch.zeros(self.channels, self.size, dtype=DTYPE)
            cols = cols.index_add(1, self.idx_flat, w.repeat(1, self.size))
            bound = row * cols.max(dim=1).values
            return float((self.strength() / self.smoothing() * bound).sum())

    def forward(self, x):  # noqa: D401 - torch convention
        """Same as :meth:`value`."""
        return self.value(x)

