r"""Error measures shared by the chapters: mean squared errors, PSNR, and the error near jumps.

Two conventions, named apart:

* :func:`mse` and :func:`psnr` average over pixels (the Euclidean convention of
  the CNN chapter, whose signals are pixel values);
* :func:`mean_squared_error` and :func:`jump_split_error` average over samples
  the discrete :math:`L^2` error :math:`h\sum_i(\hat x_i - x_i)^2` (the convention
  of the operator chapters, whose signals are grid values with cell size h).
"""

from __future__ import annotations

import numpy as np

from ._validate import as_array, check_int, check_real

__all__ = ["mse", "psnr", "mean_squared_error", "jump_split_error"]


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


def mean_squared_error(X_hat, X, h: float) -> float:
    r"""Mean over samples of the discrete :math:`L^2` error :math:`h\sum_i(\hat x_i - x_i)^2`."""
    X_hat = as_array(X_hat, "X_hat", ndim=2)
    X = as_array(X, "X", ndim=2)
    if X_hat.shape != X.shape:
        raise ValueError(f"X_hat and X must have the same shape, got {X_hat.shape} and {X.shape}")
    h = check_real(h, "h", positive=True)
    return float(h * np.mean(np.sum((X_hat - X) ** 2, axis=1)))


def jump_split_error(X_hat, X, h: float, width: int) -> tuple[float, float]:
    r"""Split the mean squared error into the part near jumps of ``X`` and the rest.

    A grid point counts as *near a jump* if it lies within ``width`` cells
    (circularly) of a jump of the (piecewise-constant) truth, i.e. of an index
    with :math:`x_{i+1} \ne x_i`. Returns ``(near, away)``, both means over the
    samples of :math:`h\sum_i(\hat x_i - x_i)^2` restricted to those points; their
    sum is :func:`mean_squared_error`.
    """
    X_hat = as_array(X_hat, "X_hat", ndim=2)
    X = as_array(X, "X", ndim=2)
    if X_hat.shape != X.shape:
        raise ValueError(f"X_hat and X must have the same shape, got {X_hat.shape} and {X.shape}")
    h = check_real(h, "h", positive=True)
    width = check_int(width, "width", minimum=0)
    n = X.shape[1]
    jumps = np.abs(np.roll(X, -1, axis=1) - X) > 1e-12  # jump between i and i + 1
    near = np.zeros_like(jumps)
    for shift in range(-width, width + 2):  # points i - width .. i + 1 + width around a jump at (i, i + 1)
        near |= np.roll(jumps, shift, axis=1)
    sq = h * (X_hat - X) ** 2
    return float(np.mean(np.sum(sq * near, axis=1))), float(np.mean(np.sum(sq * ~near, axis=1)))
