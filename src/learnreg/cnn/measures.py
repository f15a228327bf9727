r"""Structure measures of learned kernels: how close a channel is to a finite difference, or to TV."""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validate import as_array, check_bytes, check_int, check_real, finite_result
from ._common import DTYPE, as_kernel_size
from .regularizer import CNNRegularizer

__all__ = [
    "finite_difference_stencils",
    "stencil_similarity",
    "top2_energy",
    "kernel_sum",
    "tv_parameter",
    "response_quantile",
]


@finite_result
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
    if isinstance(kernel_size, (int, np.integer)) and not isinstance(kernel_size, (bool, np.bool_)):
        one_d = True
    elif isinstance(kernel_size, (tuple, list)) and len(kernel_size) in (1, 2):
        one_d = len(kernel_size) == 1
    else:
        raise ValueError(f"kernel_size must be an int or a tuple of 1 or 2 ints, got {kernel_size!r}")
    ks = as_kernel_size(kernel_size, 1 if one_d else 2)
    taps = int(np.prod(ks))
    check_bytes(8.0 * 8 * taps * taps, f"the finite-difference stencils of kernel_size = {ks}")

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


@finite_result
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
    if min(w.shape) < 2:
        raise ValueError(f"kernel must have at least 2 taps in each dimension, got shape {w.shape}")
    nw = np.linalg.norm(w)
    if nw == 0:
        raise ValueError("kernel must not be zero")
    best, name = -1.0, ""
    for fam, st in finite_difference_stencils(w.shape if w.ndim == 2 else w.shape[0], order=order).items():
        c = float(np.max(np.abs(st.reshape(len(st), -1) @ w.reshape(-1)))) / nw
        if c > best:
            best, name = c, fam
    return best, name


@finite_result
def top2_energy(kernel) -> float:
    r"""Share of the kernel's energy in its two largest taps, :math:`(w_{(1)}^2 + w_{(2)}^2)/\|w\|^2`."""
    w = as_array(kernel, "kernel").reshape(-1)
    if w.size < 2:
        raise ValueError("kernel must have at least 2 taps")
    e = np.sort(w**2)[::-1]
    if e.sum() == 0:
        raise ValueError("kernel must not be zero")
    return float((e[0] + e[1]) / e.sum())


@finite_result
def kernel_sum(kernel) -> float:
    r"""Normalised kernel sum :math:`\sum_t w_t / \|w\|_2` (0 for a difference stencil)."""
    w = as_array(kernel, "kernel").reshape(-1)
    n = np.linalg.norm(w)
    if n == 0:
        raise ValueError("kernel must not be zero")
    return float(w.sum() / n)


@finite_result
def tv_parameter(kernel, strength: float) -> float:
    r"""TV parameter equivalent to a channel close to a 1D first difference.

    If :math:`w \approx c\,d` with :math:`d` a two-tap difference (1, -1), then
    for :math:`\varepsilon\to0`, :math:`\lambda\sum_i|(w*x)_i| \approx \lambda|c|\,\mathrm{TV}(x)`,
    :math:`c = \langle w, d\rangle/\|d\|^2`. Returns :math:`\lambda |c|` for the nearest :math:`d`.
    """
    w = as_array(kernel, "kernel", ndim=1)
    if w.shape[0] < 2:
        raise ValueError(f"kernel must have at least 2 taps, got {w.shape[0]}")
    strength = check_real(strength, "strength", positive=True)
    st = finite_difference_stencils(w.shape[0])["first difference"] * math.sqrt(2)  # entries +-1
    c = np.max(np.abs(st @ w)) / 2.0
    return float(strength * c)


@finite_result
def response_quantile(reg: CNNRegularizer, X, q: float = 0.99) -> np.ndarray:
    r"""Per channel, the ``q``-quantile of :math:`|(w_j*x)_i|/\varepsilon_j` over the signals ``X``.

    Large values (:math:`\gg 1`) mean the responses sit in the :math:`|t|` regime
    of :math:`\varphi` (TV-like); values :math:`\lesssim 1` mean the quadratic
    regime (Tikhonov/:math:`H^1`-like).
    """
    if not isinstance(reg, CNNRegularizer):
        raise ValueError(f"reg must be a CNNRegularizer, got {type(reg).__name__}")
    q = check_real(q, "q", minimum=0.0, maximum=1.0)
    X = as_array(X, "X")
    if X.shape[1:] != reg.shape:
        raise ValueError(f"X must have shape (K, {', '.join(map(str, reg.shape))}), got {X.shape}")
    with torch.no_grad():
        r = reg.responses(torch.tensor(X.reshape(X.shape[0], -1), dtype=DTYPE)).abs() / reg.smoothing()
        return np.quantile(r.reshape(-1, reg.channels).numpy(), q, axis=0)
