"""Fitting power laws on log-log axes (decay exponents and convergence rates)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_array

__all__ = ["PowerLawFit", "fit_power_law"]


@dataclass(frozen=True)
class PowerLawFit:
    r"""Least-squares fit of :math:`\log y = \log C + p \log x`.

    Attributes
    ----------
    slope : float
        The exponent :math:`p` (for :math:`s_k \sim k^{-a}` the slope is :math:`-a`).
    prefactor : float
        :math:`C`.
    decades : float
        :math:`\log_{10}(\max x / \min x)`, the range the fit covers.
    """

    slope: float
    prefactor: float
    decades: float

    def __call__(self, x):
        """Evaluate the fitted power law at ``x``."""
        return self.prefactor * np.asarray(x, dtype=float) ** self.slope


def fit_power_law(x, y) -> PowerLawFit:
    r"""Fit :math:`y \approx C x^p` by least squares on log-log axes.

    Parameters
    ----------
    x, y : array_like, shape (m,)
        Positive, finite values; at least 3 points with distinct ``x``.

    Examples
    --------
    >>> fit = fit_power_law([1, 10, 100], [2, 0.2, 0.02])
    >>> round(fit.slope, 6), round(fit.prefactor, 6)
    (-1.0, 2.0)
    """
    x = as_array(x, "x", ndim=1, positive=True)
    y = as_array(y, "y", ndim=1, positive=True)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape[0]} and {y.shape[0]}")
    if x.size < 3:
        raise ValueError(f"a power-law fit needs at least 3 points, got {x.size}")
    lx, ly = np.log(x), np.log(y)
    if np.ptp(lx) == 0:
        raise ValueError("x must contain at least two distinct values")
    slope, intercept = np.polyfit(lx, ly, 1)
    return PowerLawFit(float(slope), float(np.exp(intercept)), float(np.ptp(lx) / np.log(10)))
