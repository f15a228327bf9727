r"""Learning paradigms in the spectral model: plug-and-play, post-processing, self-supervised.

Every paradigm below learns a *spectral* object, so each has explicit optimal
coefficients and each ends up as a spectral reconstruction
:math:`R_g y = \sum_k g_k\langle y, v_k\rangle u_k` whose filter can be read as
Tikhonov regularization with a component-wise parameter
:math:`\alpha_k = s_k/g_k - s_k^2` (:func:`learnreg.spectral.regularization_parameters`).

**Denoiser and prox.** The MMSE spectral denoiser learned from pairs
:math:`(x+\eta, x)` with image noise moments :math:`\tau_k = E\langle\eta,u_k\rangle^2` is
:math:`D z = \sum_k d_k\langle z,u_k\rangle u_k` with :math:`d_k = \Pi_k/(\Pi_k+\tau_k)`.
It is the proximal map of the explicit quadratic regularizer

.. math:: J(x) = \tfrac12\sum_k w_k\langle x,u_k\rangle^2, \qquad w_k = \frac1{d_k} - 1 = \frac{\tau_k}{\Pi_k},

and plugging it into proximal-gradient iterations (plug-and-play, PnP) solves
:math:`\min_x \tfrac12\|Ax-y\|^2 + J(x)/\gamma` for step :math:`\gamma`; its filter is
:math:`g_k = s_k/(s_k^2 + w_k/\gamma)`.

**Post-processing** :math:`D\circ A^+` has :math:`g_k = d_k/s_k`.

**Self-supervised** learning from two independent measurements :math:`y, y'` of
the same :math:`x` minimises :math:`E\|AR_gy - y'\|^2`; **SURE** uses one
measurement and the known noise moments :math:`\Delta_k`. Both give back the
MSE filter :math:`g_k = s_k\Pi_k/(s_k^2\Pi_k+\Delta_k)` on every k with :math:`s_k>0`.

Conventions: sequences indexed by k have one entry per singular value; samples
are rows; image noise of "level" :math:`\tau` means the variance
:math:`\tau_k = \tau` (standard deviation :math:`\sqrt\tau`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import (
    as_array,
    check_choice,
    check_int,
    check_real,
    check_rng,
    check_sequence,
    check_singular_values,
)
from .operators import SVD, LinearOperator
from .spectral import empirical_filter

__all__ = [
    "mmse_denoiser",
    "empirical_denoiser",
    "SpectralDenoiser",
    "prox_weights",
    "explicit_regularizer",
    "spectral_prox",
    "variational_filter",
    "pnp_contraction",
    "pnp_fixed_point_filter",
    "PnPResult",
    "pnp_proximal_gradient",
    "post_processing_filter",
    "pseudo_inverse_noise_moments",
    "self_supervised_filter",
    "self_supervised_loss",
    "empirical_self_supervised_filter",
    "empirical_self_supervised_loss",
    "sure_filter",
    "sure_loss",
    "empirical_sure_filter",
    "excess_risk",
    "asymptotic_excess_risk",
    "monte_carlo_risk",
]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _check_svd(svd):
    if not isinstance(svd, SVD):
        raise ValueError(f"svd must be a learnreg.operators.SVD, got {type(svd).__name__}")
    return svd


def _check_denoiser_coefficients(d, name="d"):
    d = as_array(d, name, ndim=1)
    if np.any(d < 0) or np.any(d > 1):
        bad = d[(d < 0) | (d > 1)][0]
        raise ValueError(
            f"{name} must lie in [0, 1] to be the prox of a convex quadratic regularizer "
            f"(w_k = 1/d_k - 1 >= 0); got a coefficient {bad:.6g}"
        )
    return d


def _samples(value, name, width, width_name):
    arr = as_array(value, name, ndim=2)
    if arr.shape[1] != width:
        raise ValueError(f"{name} must have shape (K, {width}) ({width_name}), got {arr.shape}")
    return arr


def _pair(svd, Y, Y_prime, names=("Y", "Y_prime")):
    """Validate two sample arrays of measurements with identical shapes."""
    m = svd.dim_y
    Y = _samples(Y, names[0], m, "one measurement per row")
    Y_prime = as_array(Y_prime, names[1], ndim=2)
    if Y_prime.shape != Y.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must be pairs of measurements with the same shape, "
            f"got {Y.shape} and {Y_prime.shape}"
        )
    return Y, Y_prime


# ---------------------------------------------------------------------------
# the learned denoiser and its explicit regularizer
# ---------------------------------------------------------------------------


def mmse_denoiser(Pi, tau) -> np.ndarray:
    r"""MMSE spectral denoiser :math:`d_k = \Pi_k/(\Pi_k+\tau_k)`.

    It minimises :math:`E\|D(x+\eta)-x\|^2` over spectral denoisers
    :math:`Dz=\sum_k d_k\langle z,u_k\rangle u_k`, for :math:`x` and image noise
    :math:`\eta` independent with :math:`E\langle x,u_k\rangle^2=\Pi_k`,
    :math:`E\langle\eta,u_k\rangle^2=\tau_k`. Where :math:`\Pi_k=\tau_k=0` the
    coefficient is set to 0.

    Parameters
    ----------
    Pi : array_like, shape (r,)
        Signal moments, non-negative.
    tau : array_like, shape (r,) or scalar
        Image-noise moments (variances), non-negative.

    Examples
    --------
    >>> mmse_denoiser([1.0, 0.25], 0.25).tolist()
    [0.8, 0.5]
    """
    Pi = check_sequence(Pi, "Pi", nonnegative=True)
    tau = check_sequence(tau, "tau", Pi.shape[0], nonnegative=True)
    den = Pi + tau
    return np.where(den > 0, Pi / np.where(den > 0, den, 1.0), 0.0)


def empirical_denoiser(svd: SVD, X, Z, *, prox: bool = False) -> np.ndarray:
    r"""Spectral denoiser learned from K pairs :math:`(z_i, x_i)`, :math:`z_i = x_i+\eta_i`.

    The empirical risk :math:`\frac1K\sum_i\|Dz_i-x_i\|^2` separates over k; its minimiser is

    .. math:: d_k = \frac{\sum_i\langle z_i,u_k\rangle\langle x_i,u_k\rangle}{\sum_i\langle z_i,u_k\rangle^2}.

    Sampling error can put a coefficient slightly above 1 (where :math:`d_k\approx1`)
    or below 0 (where :math:`d_k\approx0`); such a denoiser is not a prox. With
    ``prox=True`` the risk is minimised over :math:`d_k\in[0,1]` instead; the
    risk is a convex quadratic in each :math:`d_k`, so the constrained minimiser
    is the unconstrained one clipped to :math:`[0,1]`.

    Parameters
    ----------
    svd : SVD
        Gives the basis :math:`u_k` and the inner product.
    X, Z : array_like, shape (K, N)
        Clean images and their noisy versions, one per row.
    prox : bool
        Learn within the denoisers that are proximal maps (:math:`0\le d_k\le1`).
    """
    _check_svd(svd)
    N = svd.dim_x
    X = _samples(X, "X", N, "one image per row")
    Z = _samples(Z, "Z", N, "one image per row")
    if X.shape != Z.shape:
        raise ValueError(f"X and Z must have the same shape, got {X.shape} and {Z.shape}")
    d = empirical_filter(svd.coefficients_x(X), svd.coefficients_x(Z))
    return np.clip(d, 0.0, 1.0) if prox else d


@dataclass(frozen=True)
class SpectralDenoiser:
    r"""The denoiser :math:`Dz = \sum_k d_k\langle z,u_k\rangle u_k + P^\perp z`.

    :math:`P^\perp` is the projection onto the orthogonal complement of the
    :math:`u_k` (zero when they span the image space); there the denoiser is the
    identity, i.e. :math:`J = 0`.

    Parameters
    ----------
    svd : SVD
        The singular system whose :math:`u_k` diagonalise the denoiser.
    d : array_like, shape (r,)
        Coefficients.
    """

    svd: SVD
    d: np.ndarray

    def __post_init__(self):
        _check_svd(self.svd)
        d = as_array(self.d, "d", ndim=1)
        if d.shape[0] != self.svd.rank:
            raise ValueError(f"d must have one coefficient per singular value ({self.svd.rank}), got {d.shape[0]}")
        object.__setattr__(self, "d", d)

    def __call__(self, z) -> np.ndarray:
        c = self.svd.coefficients_x(z)
        return z + self.svd.synthesis_x((self.d - 1.0) * c)


def prox_weights(d) -> np.ndarray:
    r"""Weights :math:`w_k = 1/d_k - 1` of the regularizer whose prox is the denoiser.

    A spectral denoiser with :math:`0\le d_k\le 1` is the proximal map of
    :math:`J(x)=\frac12\sum_k w_k\langle x,u_k\rangle^2`. For the MMSE denoiser
    :math:`w_k = \tau_k/\Pi_k`. :math:`d_k = 1` gives :math:`w_k = 0` (no
    regularization of that component); :math:`d_k = 0` gives :math:`w_k=+\infty`
    (the component is forced to 0).

    Raises
    ------
    ValueError
        If some :math:`d_k` lies outside :math:`[0, 1]`: such a linear map is not
        the prox of any convex function (a prox is firmly non-expansive).
    """
    d = _check_denoiser_coefficients(d)
    with np.errstate(divide="ignore"):
        return np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0) - 1.0, np.inf)


def explicit_regularizer(d, cx) -> np.ndarray:
    r"""Evaluate :math:`J(x) = \frac12\sum_k w_k\langle x,u_k\rangle^2`, :math:`w_k = 1/d_k - 1`.

    Parameters
    ----------
    d : array_like, shape (r,)
        Denoiser coefficients in [0, 1].
    cx : array_like, shape (..., r)
        Coefficients :math:`\langle x,u_k\rangle`.

    Returns
    -------
    ndarray, shape (...)
        :math:`J(x)`; :math:`+\infty` if a component with :math:`d_k=0` is non-zero.
    """
    w = prox_weights(d)
    cx = as_array(cx, "cx", ndim=(1, 2))
    if cx.shape[-1] != w.shape[0]:
        raise ValueError(f"cx must have last dimension {w.shape[0]}, got shape {cx.shape}")
    with np.errstate(invalid="ignore"):
        terms = np.where(cx == 0, 0.0, w * cx**2)
    return 0.5 * np.sum(terms, axis=-1)


def spectral_prox(d, cz, step: float = 1.0) -> np.ndarray:
    r"""Coefficients of :math:`\operatorname{prox}_{\gamma J}(z) = \arg\min_x \frac12\|x-z\|^2 + \gamma J(x)`.

    With :math:`J` the regularizer of :func:`prox_weights`,
    :math:`\langle \operatorname{prox}_{\gamma J}(z), u_k\rangle = \langle z,u_k\rangle/(1+\gamma w_k)`;
    for :math:`\gamma=1` this is :math:`d_k\langle z,u_k\rangle`, i.e. the denoiser itself.
    """
    w = prox_weights(d)
    step = check_real(step, "step", positive=True)
    cz = as_array(cz, "cz", ndim=(1, 2))
    if cz.shape[-1] != w.shape[0]:
        raise ValueError(f"cz must have last dimension {w.shape[0]}, got shape {cz.shape}")
    factor = np.where(np.isinf(w), 0.0, 1.0 / (1.0 + step * np.where(np.isinf(w), 0.0, w)))
    return factor * cz


# ---------------------------------------------------------------------------
# variational reconstruction and plug-and-play
# ---------------------------------------------------------------------------


def variational_filter(s, w) -> np.ndarray:
    r"""Filter of :math:`\min_x \frac12\|Ax-y\|^2 + \frac12\sum_k w_k\langle x,u_k\rangle^2`.

    .. math:: g_k = \frac{s_k}{s_k^2 + w_k}, \qquad g_k = 0 \text{ where } w_k = +\infty .

    With :math:`w_k=\tau_k/\Pi_k` (the denoiser's :math:`J`) and :math:`\tau=\Delta`
    this is the MSE filter.

    Parameters
    ----------
    s : array_like, shape (r,)
        Singular values, positive.
    w : array_like, shape (r,) or scalar
        Weights, non-negative, :math:`+\infty` allowed.
    """
    s = check_singular_values(s)
    w = check_sequence(w, "w", s.shape[0], nonnegative=True, allow_inf=True)
    return np.where(np.isinf(w), 0.0, s / (s**2 + np.where(np.isinf(w), 0.0, w)))


def pnp_contraction(s, d, step: float) -> np.ndarray:
    r"""Per-component contraction factors :math:`\rho_k = |d_k(1-\gamma s_k^2)|` of spectral PnP.

    One PnP proximal-gradient step :math:`x\mapsto D(x-\gamma A^*(Ax-y))` acts on the
    k-th coefficient as the affine map :math:`c\mapsto d_k(1-\gamma s_k^2)c + \gamma d_k s_k\langle y,v_k\rangle`,
    so the iteration converges for every start and every y if and only if
    :math:`\max_k\rho_k<1`, and then :math:`\|x^t-x^*\|\le(\max_k\rho_k)^t\|x^0-x^*\|`.
    """
    s = check_singular_values(s)
    d = as_array(d, "d", ndim=1)
    if d.shape != s.shape:
        raise ValueError(f"d must have the same length as s ({s.shape[0]}), got {d.shape[0]}")
    step = check_real(step, "step", positive=True)
    return np.abs(d * (1.0 - step * s**2))


def pnp_fixed_point_filter(s, d, step: float = 1.0) -> np.ndarray:
    r"""Filter of the limit of PnP proximal-gradient iterations with a spectral denoiser.

    Solving the fixed-point equation :math:`c_k = d_k\big((1-\gamma s_k^2)c_k + \gamma s_k y_k\big)` gives

    .. math:: g_k = \frac{\gamma d_k s_k}{1 - d_k + \gamma d_k s_k^2}
              = \frac{s_k}{s_k^2 + w_k/\gamma}, \quad w_k = \frac1{d_k}-1,

    the variational filter for :math:`J/\gamma`: with :math:`\gamma = 1` PnP solves
    :math:`\min \frac12\|Ax-y\|^2 + J(x)`.

    Raises
    ------
    ValueError
        If ``step`` is not positive or breaks convergence (:math:`\max_k\rho_k\ge1`,
        see :func:`pnp_contraction`).
    """
    rho = pnp_contraction(s, d, step)
    _check_pnp_step(rho, step)
    s, d = check_singular_values(s), as_array(d, "d", ndim=1)
    return step * d * s / (1.0 - d + step * d * s**2)


def _check_pnp_step(rho, step):
    worst = float(np.max(rho))
    if worst >= 1.0:
        raise ValueError(
            f"step={step:.6g} breaks PnP convergence: the contraction factor max_k |d_k (1 - step s_k^2)| "
            f"is {worst:.6g} >= 1; choose a smaller step (0 < step < 2/s_1^2 always works for d_k in [0, 1])"
        )


@dataclass(frozen=True)
class PnPResult:
    """Outcome of :func:`pnp_proximal_gradient`.

    Attributes
    ----------
    x : ndarray, shape (N,)
        The last iterate.
    distances : ndarray, shape (n_iter + 1,) or None
        :math:`\\|x^t - x_{\\rm ref}\\|_X` for :math:`t = 0, \\dots, n_{\\rm iter}` if a reference was given.
    steps : ndarray, shape (n_iter,)
        :math:`\\|x^{t+1}-x^t\\|_X`.
    contraction : float or None
        :math:`\\max_k\\rho_k` for a spectral denoiser (the guaranteed linear rate), else None.
    """

    x: np.ndarray
    distances: np.ndarray | None
    steps: np.ndarray
    contraction: float | None


def pnp_proximal_gradient(
    op, denoiser, y, step: float, n_iter: int, x0=None, reference=None
) -> PnPResult:
    r"""Plug-and-play proximal gradient :math:`x^{t+1} = D\big(x^t - \gamma A^*(Ax^t - y)\big)`.

    Parameters
    ----------
    op : LinearOperator or SVD
        The forward operator (an :class:`SVD` acts as :math:`A = \sum_k s_k v_k\langle\cdot,u_k\rangle`).
    denoiser : SpectralDenoiser or callable
        Any denoiser mapping an image of shape (N,) to an image of shape (N,).
    y : array_like, shape (m,)
        Data.
    step : float
        Step size :math:`\gamma`. For a :class:`SpectralDenoiser` with the
        operator's singular values it must give :math:`\max_k|d_k(1-\gamma s_k^2)|<1`
        (exact condition); for any other denoiser :math:`0<\gamma<2/\|A\|^2`
        (the classical condition for a firmly non-expansive denoiser).
    n_iter : int
        Number of iterations.
    x0 : array_like, shape (N,), optional
        Start (default 0).
    reference : array_like, shape (N,), optional
        Point to which distances are recorded, e.g. the variational solution.
    """
    if isinstance(op, LinearOperator):
        forward, adjoint, wx = op.apply, op.adjoint, op.weights_x
        N, m = op.shape[1], op.shape[0]
        s1 = op.norm()
        s_op = op.svd().s if isinstance(denoiser, SpectralDenoiser) else None
    elif isinstance(op, SVD):
        svd = op
        forward = lambda x: svd.synthesis_y(svd.s * svd.coefficients_x(x))  # noqa: E731
        adjoint = lambda r: svd.synthesis_x(svd.s * svd.coefficients_y(r))  # noqa: E731
        wx, N, m, s1, s_op = svd.weights_x, svd.dim_x, svd.dim_y, float(svd.s[0]), svd.s
    else:
        raise ValueError(f"op must be a LinearOperator or an SVD, got {type(op).__name__}")
    if not callable(denoiser):
        raise ValueError(f"denoiser must be callable (image -> image), got {type(denoiser).__name__}")
    step = check_real(step, "step", positive=True)
    n_iter = check_int(n_iter, "n_iter", minimum=1)
    y = as_array(y, "y", shape=(m,))
    contraction = None
    if isinstance(denoiser, SpectralDenoiser):
        if s_op is None or denoiser.svd.rank != s_op.shape[0] or not np.allclose(denoiser.svd.s, s_op, rtol=1e-10):
            raise ValueError("a SpectralDenoiser for PnP must be built on the operator's own SVD")
        rho = pnp_contraction(s_op, denoiser.d, step)
        _check_pnp_step(rho, step)
        contraction = float(np.max(rho))
    elif not step < 2.0 / s1**2:
        raise ValueError(
            f"step must satisfy 0 < step < 2/||A||^2 = {2.0 / s1**2:.6g} for PnP to converge, got {step:.6g}"
        )
    x = np.zeros(N) if x0 is None else as_array(x0, "x0", shape=(N,)).copy()
    ref = None if reference is None else as_array(reference, "reference", shape=(N,))

    def norm(v):
        return float(np.sqrt(np.sum(wx * v**2)))

    distances = None if ref is None else np.empty(n_iter + 1)
    steps = np.empty(n_iter)
    if ref is not None:
        distances[0] = norm(x - ref)
    for t in range(n_iter):
        x_new = np.asarray(denoiser(x - step * adjoint(forward(x) - y)), dtype=float)
        if x_new.shape != (N,) or not np.all(np.isfinite(x_new)):
            raise ValueError(f"denoiser must return a finite image of shape ({N},), got shape {x_new.shape}")
        steps[t] = norm(x_new - x)
        x = x_new
        if ref is not None:
            distances[t + 1] = norm(x - ref)
    return PnPResult(x=x, distances=distances, steps=steps, contraction=contraction)


# ---------------------------------------------------------------------------
# post-processing
# ---------------------------------------------------------------------------


def post_processing_filter(s, d) -> np.ndarray:
    r"""Filter of post-processing :math:`D\circ A^+`: :math:`g_k = d_k/s_k`.

    With a denoiser trained on white image noise of level :math:`\tau`,
    :math:`g_k = \Pi_k/(s_k(\Pi_k+\tau))`: bounded in k only if
    :math:`\Pi_k/s_k` is. With a denoiser trained on :math:`A^+` reconstructions,
    :math:`\tau_k=\Delta_k/s_k^2` (:func:`pseudo_inverse_noise_moments`), it is the MSE filter.
    """
    s = check_singular_values(s)
    d = as_array(d, "d", ndim=1)
    if d.shape != s.shape:
        raise ValueError(f"d must have the same length as s ({s.shape[0]}), got {d.shape[0]}")
    return d / s


def pseudo_inverse_noise_moments(s, Delta) -> np.ndarray:
    r"""Image-noise moments of :math:`A^+y - x = \sum_k s_k^{-1}\langle e,v_k\rangle u_k`: :math:`\tau_k=\Delta_k/s_k^2`."""
    s = check_singular_values(s)
    Delta = check_sequence(Delta, "Delta", s.shape[0], nonnegative=True)
    return Delta / s**2


# ---------------------------------------------------------------------------
# self-supervised learning and SURE
# ---------------------------------------------------------------------------


def self_supervised_loss(s, g, Pi, Delta, Delta_prime=None, outside: float = 0.0) -> float:
    r"""Expected measurement-space loss :math:`E\|AR_gy - y'\|^2` of a spectral filter.

    For :math:`y = Ax+e`, :math:`y' = Ax+e'` with :math:`x, e, e'` independent and zero-mean,

    .. math::
        E\|AR_gy-y'\|^2 = \sum_k\Big[s_k^2g_k^2(s_k^2\Pi_k+\Delta_k) - 2s_k^3g_k\Pi_k
        + s_k^2\Pi_k + \Delta'_k\Big] + E\|P^\perp e'\|^2 .

    Parameters
    ----------
    s, g : array_like, shape (r,)
        Singular values (positive) and filter.
    Pi, Delta : array_like, shape (r,) or scalar
        Moments of :math:`x` and of the noise :math:`e` of the input measurement.
    Delta_prime : array_like, optional
        Moments of the target's noise :math:`e'` (default: ``Delta``).
    outside : float
        :math:`E\|P^\perp e'\|^2`, the target noise outside the span of the
        :math:`v_k` (does not depend on g).
    """
    s = check_singular_values(s)
    r = s.shape[0]
    g = check_sequence(g, "g", r)
    Pi = check_sequence(Pi, "Pi", r, nonnegative=True)
    Delta = check_sequence(Delta, "Delta", r, nonnegative=True)
    Dp = Delta if Delta_prime is None else check_sequence(Delta_prime, "Delta_prime", r, nonnegative=True)
    outside = check_real(outside, "outside", nonnegative=True)
    terms = s**2 * g**2 * (s**2 * Pi + Delta) - 2 * s**3 * g * Pi + s**2 * Pi + Dp
    return float(np.sum(terms) + outside)


def self_supervised_filter(s, Pi, Delta) -> np.ndarray:
    r"""Minimiser of :math:`E\|AR_gy-y'\|^2`: :math:`g_k = E[y_ky'_k]/(s_kE[y_k^2])`.

    With :math:`y_k=\langle y,v_k\rangle`: :math:`E[y_ky'_k]=s_k^2\Pi_k` and
    :math:`E[y_k^2]=s_k^2\Pi_k+\Delta_k`, so :math:`g_k = s_k\Pi_k/(s_k^2\Pi_k+\Delta_k)`,
    the supervised MSE filter, for every k with :math:`s_k>0`. The target noise
    :math:`e'` does not enter. Where :math:`E[y_k^2]=0` the coefficient is 0.
    """
    s = check_singular_values(s)
    Pi = check_sequence(Pi, "Pi", s.shape[0], nonnegative=True)
    Delta = check_sequence(Delta, "Delta", s.shape[0], nonnegative=True)
    cross = s**2 * Pi
    second = s**2 * Pi + Delta
    return np.where(second > 0, cross / (s * np.where(second > 0, second, 1.0)), 0.0)


def empirical_self_supervised_filter(svd: SVD, Y, Y_prime) -> np.ndarray:
    r"""Empirical minimiser of :math:`\frac1K\sum_i\|AR_gy_i-y_i'\|^2` (no ground truth).

    The loss separates over k (components of :math:`y'` outside the span of
    the :math:`v_k` do not depend on g):

    .. math:: g_k = \frac{\sum_i\langle y_i,v_k\rangle\langle y_i',v_k\rangle}{s_k\sum_i\langle y_i,v_k\rangle^2}.

    Parameters
    ----------
    svd : SVD
    Y, Y_prime : array_like, shape (K, m)
        Pairs of independent noisy measurements of the same images, row by row.
    """
    _check_svd(svd)
    Y, Y_prime = _pair(svd, Y, Y_prime)
    cy, cyp = svd.coefficients_y(Y), svd.coefficients_y(Y_prime)
    num = np.sum(cy * cyp, axis=0)
    den = svd.s * np.sum(cy**2, axis=0)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def empirical_self_supervised_loss(svd: SVD, g, Y, Y_prime) -> float:
    r"""The empirical loss :math:`\frac1K\sum_i\|AR_gy_i-y_i'\|_Y^2`, computed in data space."""
    _check_svd(svd)
    g = check_sequence(g, "g", svd.rank)
    Y, Y_prime = _pair(svd, Y, Y_prime)
    pred = svd.synthesis_y(svd.s * g * svd.coefficients_y(Y))
    return float(np.mean(np.sum(svd.weights_y * (pred - Y_prime) ** 2, axis=1)))


def sure_filter(s, Pi, Delta) -> np.ndarray:
    r"""Minimiser of the expected SURE loss: :math:`g_k = (E[y_k^2]-\Delta_k)/(s_kE[y_k^2])`.

    Equal to the MSE filter :math:`s_k\Pi_k/(s_k^2\Pi_k+\Delta_k)`. Where
    :math:`E[y_k^2]=0` the coefficient is 0.
    """
    s = check_singular_values(s)
    Pi = check_sequence(Pi, "Pi", s.shape[0], nonnegative=True)
    Delta = check_sequence(Delta, "Delta", s.shape[0], nonnegative=True)
    second = s**2 * Pi + Delta
    return np.where(second > 0, (second - Delta) / (s * np.where(second > 0, second, 1.0)), 0.0)


def sure_loss(svd: SVD, g, Y, Delta) -> float:
    r"""Stein's unbiased estimate of the measurement-space risk :math:`E\|A(R_gy - x)\|^2`.

    For Gaussian noise with known moments :math:`\Delta_k` and one measurement per image,

    .. math::
        \mathrm{SURE}(g) = \frac1K\sum_i\sum_k (s_kg_k-1)^2\langle y_i,v_k\rangle^2
        + \sum_k \Delta_k(2s_kg_k - 1),

    whose expectation is :math:`\sum_k s_k^2\big[(1-s_kg_k)^2\Pi_k + g_k^2\Delta_k\big]`:
    the image-space risk with weight :math:`s_k^2` on each k, hence the same minimiser.
    """
    _check_svd(svd)
    g = check_sequence(g, "g", svd.rank)
    Y = _samples(Y, "Y", svd.dim_y, "one measurement per row")
    Delta = check_sequence(Delta, "Delta", svd.rank, nonnegative=True)
    cy = svd.coefficients_y(Y)
    s = svd.s
    return float(np.mean(np.sum((s * g - 1) ** 2 * cy**2, axis=1)) + np.sum(Delta * (2 * s * g - 1)))


def empirical_sure_filter(svd: SVD, Y, Delta) -> np.ndarray:
    r"""Minimiser of :func:`sure_loss`: :math:`g_k = (m_k-\Delta_k)/(s_km_k)`, :math:`m_k=\frac1K\sum_i\langle y_i,v_k\rangle^2`.

    Unconstrained: when a sampled :math:`m_k` falls below :math:`\Delta_k` the
    coefficient is negative. Where :math:`m_k=0` the coefficient is 0.
    """
    _check_svd(svd)
    Y = _samples(Y, "Y", svd.dim_y, "one measurement per row")
    Delta = check_sequence(Delta, "Delta", svd.rank, nonnegative=True)
    m = np.mean(svd.coefficients_y(Y) ** 2, axis=0)
    return np.where(m > 0, (m - Delta) / (svd.s * np.where(m > 0, m, 1.0)), 0.0)


# ---------------------------------------------------------------------------
# risks
# ---------------------------------------------------------------------------


def excess_risk(s, g, Pi, Delta) -> float:
    r"""Excess risk over the MSE filter :math:`g^*`: :math:`\sum_k(s_k^2\Pi_k+\Delta_k)(g_k-g_k^*)^2`.

    The risk is quadratic in each :math:`g_k` with curvature
    :math:`s_k^2\Pi_k+\Delta_k`, so this equals :math:`\mathrm{risk}(g)-\mathrm{risk}(g^*)`
    without the cancellation of subtracting two close numbers.
    """
    s = check_singular_values(s)
    r = s.shape[0]
    g = check_sequence(g, "g", r)
    Pi = check_sequence(Pi, "Pi", r, nonnegative=True)
    Delta = check_sequence(Delta, "Delta", r, nonnegative=True)
    second = s**2 * Pi + Delta
    g_star = np.where(second > 0, s * Pi / np.where(second > 0, second, 1.0), 0.0)
    return float(np.sum(second * (g - g_star) ** 2))


def asymptotic_excess_risk(s, Pi, Delta, n_samples: int, method: str, Delta_prime=None) -> float:
    r"""Leading-order expected excess risk of a filter learned from K Gaussian samples.

    Each learned :math:`\hat g_k` is a ratio of sample means; the delta method gives
    :math:`E(\hat g_k-g_k^*)^2\approx V_k/K` and the excess risk
    :math:`E\sum_k(s_k^2\Pi_k+\Delta_k)(\hat g_k-g^*_k)^2 \approx \frac1K\sum_k c_k` with

    * ``'supervised'`` (pairs :math:`(y,x)`): :math:`c_k = R^*_k = \Pi_k\Delta_k/(s_k^2\Pi_k+\Delta_k)`;
    * ``'self-supervised'`` (pairs :math:`(y,y')`): :math:`c_k = R^*_k + \Delta'_k/s_k^2`;
    * ``'sure'`` (one :math:`y`, known :math:`\Delta`): :math:`c_k = 2\Delta_k^2/(s_k^2(s_k^2\Pi_k+\Delta_k))`.

    The residual of regressing the target on :math:`y_k` has variance
    :math:`R^*_k` (target :math:`x_k`) or :math:`s_k^2R^*_k+\Delta'_k` (target
    :math:`y_k'`, divided by :math:`s_k`); SURE inverts
    :math:`m_k\mapsto(m_k-\Delta_k)/(s_km_k)` at a sample mean of
    :math:`y_k^2`, whose variance is :math:`2m_k^2/K` for Gaussian data.
    Corrections are :math:`O(K^{-2})`.
    """
    s = check_singular_values(s)
    r = s.shape[0]
    Pi = check_sequence(Pi, "Pi", r, nonnegative=True)
    Delta = check_sequence(Delta, "Delta", r, nonnegative=True)
    K = check_int(n_samples, "n_samples", minimum=1)
    check_choice(method, "method", ("supervised", "self-supervised", "sure"))
    second = s**2 * Pi + Delta
    if np.any(second <= 0):
        raise ValueError("Pi and Delta must not both vanish on any k (E y_k^2 > 0 is needed)")
    r_star = Pi * Delta / second
    if method == "supervised":
        c = r_star
    elif method == "self-supervised":
        Dp = Delta if Delta_prime is None else check_sequence(Delta_prime, "Delta_prime", r, nonnegative=True)
        c = r_star + Dp / s**2
    else:
        c = 2 * Delta**2 / (s**2 * second)
    return float(np.sum(c) / K)


def monte_carlo_risk(s, g, Pi, Delta, n_samples: int, rng: np.random.Generator):
    r"""Monte Carlo estimate of :math:`E\|R_g(Ax+e)-x\|^2` for Gaussian coefficients.

    Draws :math:`x_k\sim N(0,\Pi_k)`, :math:`e_k\sim N(0,\Delta_k)` independently and
    averages :math:`\sum_k((s_kg_k-1)x_k + g_ke_k)^2` over ``n_samples`` draws (in
    chunks, so that millions of modes fit in memory).

    Returns
    -------
    mean : float
        The estimate.
    std_error : float
        Its standard error (sample standard deviation / sqrt(K)).
    """
    s = check_singular_values(s)
    r = s.shape[0]
    g = check_sequence(g, "g", r)
    Pi = check_sequence(Pi, "Pi", r, nonnegative=True)
    Delta = check_sequence(Delta, "Delta", r, nonnegative=True)
    K = check_int(n_samples, "n_samples", minimum=2)
    check_rng(rng)
    chunk = max(1, 2_000_000 // r)  # samples per chunk: about 2e6 numbers in memory
    a, b = (s * g - 1) * np.sqrt(Pi), g * np.sqrt(Delta)
    vals = []
    done = 0
    while done < K:
        k = min(chunk, K - done)
        err = a * rng.standard_normal((k, r)) + b * rng.standard_normal((k, r))
        vals.append(np.sum(err**2, axis=1))
        done += k
    vals = np.concatenate(vals)
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(K))
