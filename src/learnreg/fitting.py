"""Fitting power laws on log-log axes (decay exponents and convergence rates)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_array, finite_result

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

    @finite_result
    def __call__(self, x):
        """Evaluate the fitted power law at ``x``."""
        return self.prefactor * as_array(x, "x", allow_empty=True) ** self.slope


@finite_result
def fit_power_law(x, y, *, names: tuple[str, str] = ("x", "y")) -> PowerLawFit:
    r"""Fit :math:`y \approx C x^p` by least squares on log-log axes.

    Parameters
    ----------
    x, y : array_like, shape (m,)
        Positive, finite values; at least 3 points with distinct ``x``.
    names : pair of str
        The names used for ``x`` and ``y`` in error messages (a caller that
        passes its own arguments on gives their names).

    Examples
    --------
    >>> fit = fit_power_law([1, 10, 100], [2, 0.2, 0.02])
    >>> round(fit.slope, 6), round(fit.prefactor, 6)
    (-1.0, 2.0)
    """
    nx, ny = names
    x = as_array(x, nx, ndim=1, positive=True)
    y = as_array(y, ny, ndim=1, positive=True)
    if x.shape != y.shape:
        raise ValueError(f"{nx} and {ny} must have the same length, got {x.shape[0]} and {y.shape[0]}")
    if x.size < 3:
        raise ValueError(f"a power-law fit needs at least 3 points ({nx}, {ny}), got {x.size}")
    lx, ly = np.log(x), np.log(y)
    if np.ptp(lx) == 0:
        raise ValueError(f"{nx} must contain at least two distinct values")
    slope, intercept = np.polyfit(lx, ly, 1)
    return PowerLawFit(float(slope), float(np.exp(intercept)), float(np.ptp(lx) / np.log(10)))
