r"""Learned spectral regularization: filters in the singular basis of the operator.

The spectral reconstruction operator with filter coefficients :math:`g` is

.. math:: R_g y = \sum_k g_k \langle y, v_k\rangle u_k .

For a signal :math:`x` and noise :math:`e`, independent with zero mean and
second moments :math:`\Pi_k = E\langle x,u_k\rangle^2`,
:math:`\Delta_k = E\langle e,v_k\rangle^2`, its risk decomposes as

.. math::
    E\|R_g(Ax+e) - x\|^2 = \sum_k \big[(1-s_kg_k)^2\Pi_k + g_k^2\Delta_k\big]
    + E\|P_{\mathcal N}x\|^2 ,

which each :math:`g_k` minimises separately: the MSE-optimal filter is
:math:`g_k = s_k\Pi_k/(s_k^2\Pi_k+\Delta_k)`, i.e. Tikhonov regularization with
the component-wise parameter :math:`\alpha_k = \Delta_k/\Pi_k`.

All functions take sequences indexed by k (one entry per singular value) and
work for any operator through its :class:`~learnreg.operators.SVD`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_array, check_int, check_real, check_rng, check_singular_values, check_spectrum
from .data import white_noise
from .operators import SVD, LinearOperator

__all__ = [
    "RiskTerms",
    "apply_filter",
    "risk",
    "mse_filter",
    "optimal_risk",
    "tikhonov_filter",
    "pseudo_inverse_filter",
    "regularization_parameters",
    "empirical_filter",
    "empirical_risk",
    "sample_coefficients",
    "tikhonov_bound",
    "StabilityResult",
    "resolution_stability",
]


@dataclass(frozen=True)
class RiskTerms:
    r"""The terms of the risk decomposition of a spectral filter.

    Attributes
    ----------
    data : float
        Approximation (bias) term :math:`\sum_k (1-s_kg_k)^2\Pi_k`.
    noise : float
        Noise (variance) term :math:`\sum_k g_k^2\Delta_k`.
    null : float
        Null-space term :math:`E\|P_{\mathcal N}x\|^2` (given, not computed).
    """

    data: float
    noise: float
    null: float = 0.0

    @property
    def total(self) -> float:
        """The risk: data + noise + null."""
        return self.data + self.noise + self.null


def apply_filter(svd: SVD, g, y) -> np.ndarray:
    r"""Return :math:`R_g y = \sum_k g_k\langle y, v_k\rangle u_k`.

    Parameters
    ----------
    svd : SVD
        Singular system of the operator.
    g : array_like, shape (r,)
        Filter coefficients.
    y : array_like, shape (..., m)
        Data (one sample per row).
    """
    if not isinstance(svd, SVD):
        raise ValueError(f"svd must be a learnreg.operators.SVD, got {type(svd).__name__}")
    g = as_array(g, "g", ndim=1)
    if g.shape[0] != svd.rank:
        raise ValueError(f"g must have one coefficient per singular value ({svd.rank}), got {g.shape[0]}")
    return svd.synthesis_x(g * svd.coefficients_y(y))


def risk(s, g, Pi, Delta, null: float = 0.0) -> RiskTerms:
    r"""Exact risk :math:`E\|R_g(Ax+e)-x\|^2` of a spectral filter, term by term.

    Parameters
    ----------
    s : array_like, shape (r,)
        Singular values (positive).
    g : array_like, shape (r,)
        Filter coefficients.
    Pi, Delta : array_like, shape (r,) or scalar
        Second moments of signal and noise (non-negative).
    null : float
        :math:`E\|P_{\mathcal N}x\|^2`, added as it is.
    """
    s, Pi, Delta = check_spectrum(s, Pi=Pi, Delta=Delta)
    g = as_array(g, "g", ndim=1)
    if g.shape != s.shape:
        raise ValueError(f"g must have the same length as s ({s.shape[0]}), got {g.shape[0]}")
    null = check_real(null, "null", nonnegative=True)
    return RiskTerms(
        data=float(np.sum((1 - s * g) ** 2 * Pi)), noise=float(np.sum(g**2 * Delta)), null=null
    )


def mse_filter(s, Pi, Delta) -> np.ndarray:
    r"""MSE-optimal filter :math:`g_k = s_k\Pi_k / (s_k^2\Pi_k + \Delta_k)`.

    Where :math:`\Pi_k = \Delta_k = 0` the risk does not depend on
    :math:`g_k`; the filter is then set to 0.

    Examples
    --------
    >>> mse_filter([1.0, 0.5], [1.0, 1.0], [0.0, 0.25]).tolist()
    [1.0, 1.0]
    """
    s, Pi, Delta = check_spectrum(s, Pi=Pi, Delta=Delta)
    den = s**2 * Pi + Delta
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(den > 0, s * Pi / np.where(den > 0, den, 1.0), 0.0)
    return g


def optimal_risk(s, Pi, Delta) -> float:
    r"""Risk of the MSE filter: :math:`\sum_k \Pi_k\Delta_k / (s_k^2\Pi_k + \Delta_k)` (null term excluded)."""
    s, Pi, Delta = check_spectrum(s, Pi=Pi, Delta=Delta)
    den = s**2 * Pi + Delta
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(den > 0, Pi * Delta / np.where(den > 0, den, 1.0), 0.0)
    return float(np.sum(terms))


def tikhonov_filter(s, alpha) -> np.ndarray:
    r"""Tikhonov filter :math:`g_k = s_k/(s_k^2 + \alpha_k)`; ``alpha`` scalar or per k, non-negative."""
    s, alpha = check_spectrum(s, alpha=alpha)
    return s / (s**2 + alpha)


def pseudo_inverse_filter(s) -> np.ndarray:
    r"""Filter of the pseudo-inverse :math:`A^+`: :math:`g_k = 1/s_k`."""
    s = check_singular_values(s)
    return 1.0 / s


def regularization_parameters(s, g) -> np.ndarray:
    r"""Component-wise Tikhonov parameters that explain a filter.

    Every filter with :math:`0 < g_k \le 1/s_k` is Tikhonov regularization with
    a component-wise parameter: :math:`g_k = s_k/(s_k^2+\alpha_k)` for

    .. math:: \alpha_k = s_k/g_k - s_k^2 \;\ge 0 .

    For the MSE filter this gives :math:`\alpha_k = \Delta_k/\Pi_k`. Where
    :math:`g_k = 0` the parameter is :math:`+\infty`.
    """
    s = check_singular_values(s)
    g = as_array(g, "g", ndim=1)
    if g.shape != s.shape:
        raise ValueError(f"g must have the same length as s ({s.shape[0]}), got {g.shape[0]}")
    if np.any(g < 0):
        raise ValueError("g must be non-negative to be read as a Tikhonov filter")
    with np.errstate(divide="ignore"):
        return np.where(g > 0, s / np.where(g > 0, g, 1.0) - s**2, np.inf)


def empirical_filter(cx, cy) -> np.ndarray:
    r"""Empirical risk minimiser from K training pairs, one least-squares fit per k.

    .. math:: g_k = \frac{\sum_i \langle y_i, v_k\rangle\langle x_i, u_k\rangle}{\sum_i \langle y_i, v_k\rangle^2}

    Parameters
    ----------
    cx : array_like, shape (K, r)
        Coefficients :math:`\langle x_i, u_k\rangle` (``svd.coefficients_x(X)``).
    cy : array_like, shape (K, r)
        Coefficients :math:`\langle y_i, v_k\rangle` (``svd.coefficients_y(Y)``).
        Where every :math:`\langle y_i, v_k\rangle = 0` the coefficient is set to 0.
    """
    cx = as_array(cx, "cx", ndim=2)
    cy = as_array(cy, "cy", ndim=2)
    if cx.shape != cy.shape:
        raise ValueError(f"cx and cy must have the same shape, got {cx.shape} and {cy.shape}")
    num = np.sum(cx * cy, axis=0)
    den = np.sum(cy**2, axis=0)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def empirical_risk(g, cx, cy) -> float:
    r"""Empirical risk of the filter ``g`` on K training pairs (null-space part excluded).

    .. math:: \widehat{\mathcal R}(g) = \frac1K\sum_{i=1}^K \sum_k
        \big(g_k\langle y_i, v_k\rangle - \langle x_i, u_k\rangle\big)^2 ,

    which equals :math:`\frac1K\sum_i\|R_g y_i - x_i\|^2` minus the part of
    :math:`x_i` in the null space of :math:`A` (it does not depend on g).
    :func:`empirical_filter` minimises it.

    Parameters
    ----------
    g : array_like, shape (r,)
    cx, cy : array_like, shape (K, r)
        Coefficients :math:`\langle x_i,u_k\rangle` and :math:`\langle y_i,v_k\rangle`.
    """
    cx = as_array(cx, "cx", ndim=2)
    cy = as_array(cy, "cy", ndim=2)
    if cx.shape != cy.shape:
        raise ValueError(f"cx and cy must have the same shape, got {cx.shape} and {cy.shape}")
    g = as_array(g, "g", ndim=1)
    if g.shape[0] != cx.shape[1]:
        raise ValueError(f"g must have one entry per column of cx ({cx.shape[1]}), got {g.shape[0]}")
    return float(np.sum((cy * g - cx) ** 2) / cx.shape[0])


def sample_coefficients(s, Pi, Delta, n_samples: int, rng: np.random.Generator):
    r"""Draw K Gaussian training pairs directly in the singular basis.

    :math:`\langle x_i,u_k\rangle = \sqrt{\Pi_k}\,\xi_{ik}` and
    :math:`\langle y_i,v_k\rangle = s_k\langle x_i,u_k\rangle + \sqrt{\Delta_k}\,\eta_{ik}`
    with independent standard normal :math:`\xi, \eta`. By orthonormality of
    :math:`(u_k)` and :math:`(v_k)` this is exactly what projecting Gaussian
    samples :math:`x_i` and :math:`y_i = Ax_i + e_i` gives, without forming them
    on a grid.

    Returns
    -------
    cx, cy : ndarray, shape (K, r)
    """
    s, Pi, Delta = check_spectrum(s, Pi=Pi, Delta=Delta)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    check_rng(rng)
    cx = rng.standard_normal((n_samples, s.shape[0])) * np.sqrt(Pi)
    cy = s * cx + rng.standard_normal((n_samples, s.shape[0])) * np.sqrt(Delta)
    return cx, cy


def tikhonov_bound(Pi, Delta) -> np.ndarray:
    r"""Resolution-independent bound on the MSE filter: :math:`g_k \le \tfrac12\sqrt{\Pi_k/\Delta_k}`.

    From :math:`s_k^2\Pi_k + \Delta_k \ge 2 s_k\sqrt{\Pi_k\Delta_k}`, for every
    :math:`s_k > 0`. Hence noise of norm :math:`\varepsilon` on a single
    :math:`v_k` is amplified to at most :math:`\tfrac\varepsilon2\sqrt{\Pi_k/\Delta_k}`,
    however small :math:`s_k` is. Entries with :math:`\Delta_k = 0` give
    :math:`+\infty` (no bound).
    """
    Pi = as_array(Pi, "Pi", ndim=1, nonnegative=True)
    Delta = as_array(Delta, "Delta", ndim=1, nonnegative=True)
    if Pi.shape != Delta.shape:
        raise ValueError(f"Pi and Delta must have the same length, got {Pi.shape[0]} and {Delta.shape[0]}")
    with np.errstate(divide="ignore"):
        return np.where(Delta > 0, 0.5 * np.sqrt(Pi / np.where(Delta > 0, Delta, 1.0)), np.inf)


@dataclass(frozen=True)
class StabilityResult:
    r"""Errors of three reconstructions when noise of norm :math:`\varepsilon` sits on the last :math:`v_r`.

    Attributes
    ----------
    n : int
        Resolution.
    s_min : float
        Smallest singular value :math:`s_r`.
    errors : dict
        Root-mean-square error :math:`(\frac1{K'}\sum_i\|R_g(Ax_i+\varepsilon v_r) - x_i\|^2)^{1/2}`
        for ``'pseudo-inverse'``, ``'tikhonov'`` and ``'mse'`` (learned).
    clean_errors : dict
        The same without the noise.
    g_last : dict
        Each filter's last coefficient :math:`g_r`; the noise contributes
        :math:`\varepsilon g_r` to each reconstruction.
    """

    n: int
    s_min: float
    errors: dict
    clean_errors: dict
    g_last: dict


def resolution_stability(
    op: LinearOperator, X_train, X_test, *, delta: float, eps: float, alpha: float, rng: np.random.Generator
) -> StabilityResult:
    r"""Put noise of fixed norm on the last singular vector and compare three reconstructions.

    * :math:`A^+` (:math:`g_k = 1/s_k`): the noise is amplified by :math:`1/s_r`.
    * Classical Tikhonov with the fixed parameter ``alpha``: :math:`g_k = s_k/(s_k^2+\alpha)`.
    * The learned MSE filter: the empirical risk minimiser (:func:`empirical_filter`)
      from the training pairs :math:`(x_i, Ax_i + e_i)` with white noise of level
      ``delta``. Its last coefficient obeys :math:`g_r \lesssim \tfrac12\sqrt{\Pi_r}/\delta`
      (:func:`tikhonov_bound`), whatever :math:`s_r` is.

    The test data are :math:`y = Ax + \varepsilon v_r` with :math:`\|\varepsilon v_r\|_Y = \varepsilon`,
    computed on the grid (operator applied, reconstruction synthesised, error
    measured in the discrete :math:`L^2` norm).

    Parameters
    ----------
    op : LinearOperator
    X_train, X_test : array_like, shape (K, N) and (K', N)
        Training and test signals (rows; flattened grid values).
    delta, eps, alpha : float
        Training noise level, test noise norm (positive), Tikhonov parameter (positive).
    rng : numpy.random.Generator
        For the training noise.
    """
    if not isinstance(op, LinearOperator):
        raise ValueError(f"op must be a learnreg LinearOperator, got {type(op).__name__}")
    N = op.shape[1]
    X_train = as_array(X_train, "X_train", shape=(None, N))
    X_test = as_array(X_test, "X_test", shape=(None, N))
    delta = check_real(delta, "delta", positive=True)
    eps = check_real(eps, "eps", positive=True)
    alpha = check_real(alpha, "alpha", positive=True)
    check_rng(rng)
    svd = op.svd()
    Y_train = op.apply(X_train) + white_noise(op.weights_y, delta, X_train.shape[0], rng)
    filters = {
        "pseudo-inverse": pseudo_inverse_filter(svd.s),
        "tikhonov": tikhonov_filter(svd.s, alpha),
        "mse": empirical_filter(svd.coefficients_x(X_train), svd.coefficients_y(Y_train)),
    }
    AX = op.apply(X_test)
    noise = eps * svd.vectors_y(-1)[:, 0]
    errors, clean = {}, {}
    for name, g in filters.items():
        clean[name] = float(np.sqrt(np.mean(op.norm_x(apply_filter(svd, g, AX) - X_test) ** 2)))
        errors[name] = float(np.sqrt(np.mean(op.norm_x(apply_filter(svd, g, AX + noise) - X_test) ** 2)))
    return StabilityResult(
        n=op.n, s_min=float(svd.s[-1]), errors=errors, clean_errors=clean,
        g_last={k: float(g[-1]) for k, g in filters.items()},
    )
