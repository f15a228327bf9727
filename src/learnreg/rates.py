r"""Convergence rates of learned spectral filters and the role of training-data smoothness.

The diagonal model problem
--------------------------
Singular values :math:`s_k = k^{-a}` (:math:`a > 0`: the operator smooths with
order a), training signals with :math:`\Pi_k = k^{-b}` (:math:`b > 1`; larger b
means smoother data), training noise :math:`\Delta_k(\mu) = \delta^2 k^{-p}`
(:math:`p = 0` is white noise). The MSE-optimal filter trained on this data is

.. math:: g_k = \frac{s_k\Pi_k}{s_k^2\Pi_k + \Delta_k(\mu)} .

It is tested on signals with :math:`E\langle x,u_k\rangle^2 = k^{-c}` and noise
:math:`\Delta_k(\nu) = \delta^2 k^{-q}`; its test error is

.. math:: \mathcal E(\delta) = \sum_k (1-s_kg_k)^2 k^{-c} + g_k^2\Delta_k(\nu) .

With the cut-off :math:`N = \delta^{-2/(2a+b-p)}` (where :math:`s_N^2\Pi_N = \Delta_N(\mu)`)
the bias is of order :math:`N^{1-c}` and the variance of order
:math:`\delta^2 N^{2a+1-q}` (or :math:`\delta^2` if :math:`2a+1 < q`), so

.. math:: \mathcal E(\delta) \sim \delta^{\gamma},\qquad
    \gamma = \min\Big(\frac{2(c-1)}{2a+b-p},\ \frac{2(b-1+q-p)}{2a+b-p},\ 2\Big)
    \quad (q < 2a+1),

which for matched data (:math:`c = b`, :math:`q = p = 0`) is the optimal rate
:math:`2(b-1)/(2a+b)`, and for mismatched smoothness (:math:`q = p = 0`) is
:math:`2(\min(b,c)-1)/(2a+b)`. These are asymptotic statements as
:math:`\delta \to 0`; :func:`model_errors` evaluates the error exactly
(with :math:`10^6` modes and the tail beyond them added in closed form).
"""

from __future__ import annotations

import numpy as np
from scipy.special import zeta

from ._validate import (
    as_array,
    check_bool,
    check_bytes,
    check_int,
    check_real,
    check_work,
    finite_result,
)
from .data import power_law, reversed_brownian_motion
from .fitting import PowerLawFit, fit_power_law
from .spectral import empirical_filter

__all__ = [
    "power_law_model",
    "power_noise",
    "rate_exponent",
    "noise_rate_exponent",
    "model_filter",
    "model_errors",
    "fit_rate",
    "sampled_rate_errors",
    "reversed_brownian_motion",
]


def _check_model(a, b, name_b="b"):
    a = check_real(a, "a", positive=True)
    b = check_real(b, name_b)
    if b <= 1:
        raise ValueError(f"{name_b} must be > 1 (so that E||x||^2 = sum_k k^-{name_b} is finite), got {b}")
    return a, b


@finite_result
def power_law_model(a: float, b: float, n_modes: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The diagonal model: :math:`s_k = k^{-a}`, :math:`\Pi_k = k^{-b}` for :math:`k=1..n`.

    Returns
    -------
    s, Pi : ndarray, shape (n_modes,)

    Examples
    --------
    >>> s, Pi = power_law_model(1.0, 2.0, 3)
    >>> s.tolist(), Pi.tolist()
    ([1.0, 0.5, 0.3333333333333333], [1.0, 0.25, 0.1111111111111111])
    """
    a, b = _check_model(a, b)
    n_modes = _check_modes(n_modes, 3)
    return power_law(n_modes, a, "a", "n_modes"), power_law(n_modes, b, "b", "n_modes")


def _check_modes(n_modes, arrays: int) -> int:
    """A number of modes, with ``arrays`` arrays of that length held at once (memory estimate)."""
    n_modes = check_int(n_modes, "n_modes", minimum=1)
    check_bytes(8.0 * arrays * n_modes, f"{arrays} arrays of n_modes = {n_modes} values")
    return n_modes


@finite_result
def power_noise(delta: float, n_modes: int, p: float = 0.0) -> np.ndarray:
    r"""Noise moments :math:`\Delta_k = \delta^2 k^{-p}` (``p = 0``: white noise of level delta)."""
    delta = check_real(delta, "delta", positive=True)
    n_modes = _check_modes(n_modes, 3)
    p = check_real(p, "p")
    return delta**2 * np.arange(1, n_modes + 1, dtype=float) ** (-p)


@finite_result
def rate_exponent(a: float, b: float, c: float | None = None) -> float:
    r"""Predicted exponent of the squared error: :math:`2(\min(b,c)-1)/(2a+b)`.

    ``b`` is the smoothness of the training data, ``c`` that of the test data
    (default ``c = b``, the matched case :math:`2(b-1)/(2a+b)`).

    Examples
    --------
    >>> rate_exponent(1, 2), rate_exponent(1, 4, c=2)
    (0.5, 0.3333333333333333)
    """
    a, b = _check_model(a, b)
    c = b if c is None else _check_model(a, c, "c")[1]
    return 2 * (min(b, c) - 1) / (2 * a + b)


@finite_result
def noise_rate_exponent(a: float, b: float, p: float, q: float) -> float:
    r"""Predicted exponent for training noise :math:`\delta^2k^{-p}` and test noise :math:`\delta^2k^{-q}`.

    .. math:: \gamma = \min\Big(\frac{2(b-1)}{2a+b-p},\ v\Big),\quad
        v = \frac{2(b-1+q-p)}{2a+b-p} \text{ if } q < 2a+1,\ \text{else } v = 2 ,

    for test data of the training smoothness b. A value :math:`\gamma \le 0`
    means the error does not go to zero. (At :math:`q = 2a+1` a logarithmic
    factor appears, which this formula ignores.)
    """
    a, b = _check_model(a, b)
    p = check_real(p, "p")
    q = check_real(q, "q")
    den = 2 * a + b - p
    if den <= 0:
        raise ValueError(f"need 2a + b - p > 0 for a finite cut-off, got {den}")
    variance = 2 * (b - 1 + q - p) / den if q < 2 * a + 1 else 2.0
    return min(2 * (b - 1) / den, variance)


@finite_result
def model_filter(a: float, b: float, delta: float, n_modes: int, p: float = 0.0) -> np.ndarray:
    r"""MSE filter of the diagonal model, :math:`g_k = s_k\Pi_k/(s_k^2\Pi_k + \delta^2k^{-p})`."""
    s, Pi = power_law_model(a, b, n_modes)
    Delta = power_noise(delta, n_modes, p)
    return s * Pi / (s**2 * Pi + Delta)


@finite_result
def model_errors(
    a: float,
    b: float,
    deltas,
    *,
    c: float | None = None,
    p: float = 0.0,
    q: float | None = None,
    n_modes: int = 10**6,
    tail: bool = True,
) -> np.ndarray:
    r"""Exact test error :math:`\mathcal E(\delta)` of the trained MSE filter in the diagonal model.

    Parameters
    ----------
    a, b : float
        Operator order and training smoothness (:math:`a>0`, :math:`b>1`).
    deltas : array_like, shape (m,)
        Noise levels (positive).
    c : float, optional
        Test smoothness (default b).
    p, q : float
        Training and test noise exponents (default white, and ``q = p``).
    n_modes : int
        Number of modes summed explicitly.
    tail : bool
        Add :math:`\sum_{k>n} k^{-c}` (Hurwitz zeta) for the modes beyond
        ``n_modes``, where :math:`g_k \approx 0` and the error is the signal
        itself. This is an upper bound for the neglected part up to the
        (negligible) noise term there.

    Returns
    -------
    ndarray, shape (m,)
    """
    a, b = _check_model(a, b)
    c = b if c is None else _check_model(a, c, "c")[1]
    p = check_real(p, "p")
    q = p if q is None else check_real(q, "q")
    deltas = as_array(deltas, "deltas", ndim=1, positive=True)
    n_modes = _check_modes(n_modes, 12)
    check_work(10.0 * n_modes * deltas.shape[0], f"model_errors with {deltas.shape[0]} deltas x n_modes = {n_modes}")
    tail = check_bool(tail, "tail")
    k = np.arange(1, n_modes + 1, dtype=float)
    s, Pi, Pi_test = k ** (-a), k ** (-b), k ** (-c)
    kp, kq = k ** (-p), k ** (-q)
    s2Pi = s**2 * Pi
    out = np.empty(deltas.shape[0])
    for i, d in enumerate(deltas):
        den = s2Pi + d**2 * kp
        bias = (d**2 * kp / den) ** 2 * Pi_test
        g = s * Pi / den
        out[i] = np.sum(bias) + d**2 * np.sum(g**2 * kq)
    if tail:
        out += float(zeta(c, n_modes + 1))
    return out


@finite_result
def fit_rate(deltas, errors) -> PowerLawFit:
    r"""Fit :math:`\mathcal E(\delta) \approx C\delta^{\gamma}` on log-log axes; the slope is :math:`\gamma`.

    Parameters
    ----------
    deltas, errors : array_like, shape (m,)
        At least 3 positive, finite values each, of the same length.
    """
    deltas = as_array(deltas, "deltas", ndim=1, positive=True)
    errors = as_array(errors, "errors", ndim=1, positive=True)
    if deltas.shape != errors.shape:
        raise ValueError(
            f"deltas and errors must have the same length, got {deltas.shape[0]} and {errors.shape[0]}"
        )
    if deltas.shape[0] < 3:
        raise ValueError(f"a rate fit needs at least 3 points, got {deltas.shape[0]}")
    return fit_power_law(deltas, errors, names=("deltas", "errors"))


@finite_result
def sampled_rate_errors(cx_train, cax_train, ce_train, cx_test, cax_test, ce_test, deltas, *, null_test=0.0):
    r"""Test errors of filters learned from sample sets, at several noise levels.

    For each :math:`\delta` the training data are :math:`y_i = Ax_i + \delta e_i`
    with frozen unit-level noise samples :math:`e_i`; in coefficients
    :math:`\langle y_i,v_k\rangle = \langle Ax_i,v_k\rangle + \delta\langle e_i,v_k\rangle`.
    The filter is the empirical risk minimiser
    (:func:`~learnreg.spectral.empirical_filter`); its error is the average of
    :math:`\|R_g y - x\|^2` over the held-out test pairs (built the same way).

    Parameters
    ----------
    cx_train, cax_train, ce_train : array_like, shape (K, r)
        :math:`\langle x_i,u_k\rangle`, :math:`\langle Ax_i,v_k\rangle`, :math:`\langle e_i,v_k\rangle`.
    cx_test, cax_test, ce_test : array_like, shape (K', r)
        The same for the test set.
    deltas : array_like, shape (m,)
    null_test : float
        Mean squared norm of the test signals' null-space part (added as is).

    Returns
    -------
    errors : ndarray, shape (m,)
    filters : ndarray, shape (m, r)
    """
    names = ("cx_train", "cax_train", "ce_train", "cx_test", "cax_test", "ce_test")
    arrs = [as_array(v, n, ndim=2) for v, n in zip((cx_train, cax_train, ce_train, cx_test, cax_test, ce_test), names)]
    for arr, name in zip(arrs[1:3], names[1:3]):
        if arr.shape != arrs[0].shape:
            raise ValueError(f"{name} must have the shape of cx_train {arrs[0].shape}, got {arr.shape}")
    for arr, name in zip(arrs[3:], names[3:]):
        if arr.shape[1] != arrs[0].shape[1] or arr.shape != arrs[3].shape:
            raise ValueError(f"{name} must have shape (K', {arrs[0].shape[1]}) like cx_test, got {arr.shape}")
    cx, cax, ce, tx, tax, te = arrs
    deltas = as_array(deltas, "deltas", ndim=1, positive=True)
    null_test = check_real(null_test, "null_test", nonnegative=True)
    check_work(10.0 * deltas.shape[0] * (cx.size + tx.size), f"sampled_rate_errors with {deltas.shape[0]} deltas")
    errors = np.empty(deltas.shape[0])
    filters = np.empty((deltas.shape[0], cx.shape[1]))
    for i, d in enumerate(deltas):
        g = empirical_filter(cx, cax + d * ce)
        errors[i] = np.mean(np.sum((g * (tax + d * te) - tx) ** 2, axis=1)) + null_test
        filters[i] = g
    return errors, filters


