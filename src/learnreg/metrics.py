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

from ._validate import as_array, check_int, check_real, check_work, finite_result

__all__ = ["mse", "psnr", "mean_squared_error", "jump_split_error"]


def _same_shape(x_hat, x, names=("x_hat", "x")):
    x_hat, x = as_array(x_hat, names[0]), as_array(x, names[1])
    if x_hat.shape != x.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {x_hat.shape} and {x.shape}")
    return x_hat, x


@finite_result
def mse(x_hat, x) -> float:
    """Mean squared error per pixel."""
    x_hat, x = _same_shape(x_hat, x)
    return float(np.mean((x_hat - x) ** 2))


@finite_result(allow_inf=True)
def psnr(x_hat, x, peak: float) -> float:
    r"""Peak signal-to-noise ratio :math:`10\log_{10}(\mathrm{peak}^2/\mathrm{MSE})` in dB.

    For identical inputs the MSE is 0 and the PSNR is :math:`+\infty`: that
    is the exact answer, and the only case in which the result is not finite.
    Where the MSE of different inputs underflows, or the ratio overflows, the
    PSNR is computed from logarithms of rescaled errors (still finite).

    Examples
    --------
    >>> psnr([0.0, 1.0], [0.0, 1.0], 1.0)
    inf
    """
    peak = check_real(peak, "peak", positive=True)
    x_hat, x = _same_shape(x_hat, x)
    if np.array_equal(x_hat, x):
        return float("inf")
    m = mse(x_hat, x)
    ratio = peak**2 / m if m > 0 else float("inf")
    if np.isfinite(ratio):
        return float(10 * np.log10(ratio))
    d = np.abs(x_hat - x)
    dmax = float(d.max())
    log_mse = 2 * np.log10(dmax) + np.log10(np.mean((d / dmax) ** 2))
    return float(20 * np.log10(peak) - 10 * log_mse)


@finite_result
def mean_squared_error(X_hat, X, h: float) -> float:
    r"""Mean over samples of the discrete :math:`L^2` error :math:`h\sum_i(\hat x_i - x_i)^2`."""
    X_hat = as_array(X_hat, "X_hat", ndim=2)
    X = as_array(X, "X", ndim=2)
    if X_hat.shape != X.shape:
        raise ValueError(f"X_hat and X must have the same shape, got {X_hat.shape} and {X.shape}")
    h = check_real(h, "h", positive=True)
    return float(h * np.mean(np.sum((X_hat - X) ** 2, axis=1)))


@finite_result
def jump_split_error(X_hat, X, h: float, width: int) -> tuple[float, float]:
    r"""Split the mean squared error into the part near jumps of ``X`` and the rest.

    A grid point counts as *near a jump* if it lies within ``width`` cells
    (circularly) of a jump of the (piecewise-constant) truth, i.e. of an index
    with :math:`x_{i+1} \ne x_i` (a ``width`` of at least n marks every point).
    Returns ``(near, away)``, both means over the samples of
    :math:`h\sum_i(\hat x_i - x_i)^2` restricted to those points; their sum is
    :func:`mean_squared_error`.
    """
    X_hat = as_array(X_hat, "X_hat", ndim=2)
    X = as_array(X, "X", ndim=2)
    if X_hat.shape != X.shape:
        raise ValueError(f"X_hat and X must have the same shape, got {X_hat.shape} and {X.shape}")
    h = check_real(h, "h", positive=True)
    width = check_int(width, "width", minimum=0)
    n = X.shape[1]
    width = min(width, n)  # a width of n already marks every point as near a jump
    check_work(3.0 * (2 * width + 2) * X.size, f"jump_split_error with width = {width}")
    jumps = np.abs(np.roll(X, -1, axis=1) - X) > 1e-12  # jump between i and i + 1
    near = np.zeros_like(jumps)
    for shift in range(-width, width + 2):  # points i - width .. i + 1 + width around a jump at (i, i + 1)
        near |= np.roll(jumps, shift, axis=1)
    sq = h * (X_hat - X) ** 2
    return float(np.mean(np.sum(sq * near, axis=1))), float(np.mean(np.sum(sq * ~near, axis=1)))
