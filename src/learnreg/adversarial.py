r"""Adversarial robustness and adversarial training of spectral reconstructions.

The spectral reconstruction operator :math:`R_g y = \sum_k g_k\langle y, v_k\rangle u_k`
is attacked by a perturbation :math:`\eta` of the data taken from one of two sets:

``'l2'``
    the ball :math:`B_\varepsilon = \{\eta : \|\eta\|_Y \le \varepsilon\}` in data space;
``'box'``
    the infinity-norm box on the singular coefficients,
    :math:`B_\varepsilon = \{\eta = \sum_k c_k v_k : |c_k| \le \varepsilon \text{ for every } k\}`.

Worst-case amplification (exact):

.. math::
    \sup_{\eta\in B_\varepsilon}\|R_g\eta\| = \varepsilon\max_k|g_k| \ (\text{'l2'}), \qquad
    \sup_{\eta\in B_\varepsilon}\|R_g\eta\|^2 = \varepsilon^2\sum_k g_k^2 \ (\text{'box'}).

Adversarial training solves

.. math:: \min_g\; E_{x,e}\max_{\eta\in B_\varepsilon}\|R_g(Ax+e+\eta) - x\|^2 .

In coefficients :math:`x_k = \langle x,u_k\rangle`, :math:`y_k = \langle Ax+e, v_k\rangle`,
:math:`c_k = \langle\eta, v_k\rangle` the error is
:math:`\sum_k (r_k + g_kc_k)^2 + \|P_{\mathcal N}x\|^2` with the residual
:math:`r_k = g_ky_k - x_k = (s_kg_k-1)x_k + g_ke_k`. The null-space term does
not depend on :math:`g` or :math:`\eta`; every objective in this module leaves it out.

* For the box the inner maximum is :math:`\sum_k(|r_k| + \varepsilon|g_k|)^2`, so training
  separates into one convex 1D problem per k (:func:`box_filter`,
  :func:`box_filter_gaussian`, and the closed form :func:`box_filter_noiseless`).
* For the ball the inner maximum is a trust-region problem in the coefficients, solved
  exactly by :func:`l2_inner_max`; the outer problem is convex and smooth for
  continuous data and is solved by L-BFGS (:func:`l2_filter`).
* :func:`pgd_attack` and :func:`pgd_training` are the generic projected-gradient
  methods that practitioners run, for comparison with the exact solutions.

All data are given as coefficient arrays of shape (K, r), one sample per row,
e.g. ``cx = svd.coefficients_x(X)`` and ``cy = svd.coefficients_y(Y)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from ._validate import as_array, check_choice, check_int, check_real, check_rng, check_spectrum
from .operators import SVD
from .training import AdamMoments

__all__ = [
    "ADVERSARIES",
    "GAUSS_ABS_MEAN",
    "amplification",
    "attack_perturbation",
    "reconstructor_matrix",
    "l2_inner_max",
    "worst_case_errors",
    "pgd_attack",
    "box_objective",
    "box_objective_gaussian",
    "box_filter",
    "box_filter_gaussian",
    "box_filter_noiseless",
    "l2_objective",
    "l2_filter",
    "PGDTrainingResult",
    "pgd_training",
]

#: The two adversaries: the data-space L2 ball and the coefficient box.
ADVERSARIES = ("l2", "box")

#: :math:`E|Z| = \sqrt{2/\pi}` for a standard normal Z.
GAUSS_ABS_MEAN = math.sqrt(2.0 / math.pi)


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------


def _eps(eps) -> float:
    return check_real(eps, "eps", nonnegative=True)


def _adversary(adversary) -> str:
    return check_choice(adversary, "adversary", ADVERSARIES)


def _filter(g, r: int | None = None) -> np.ndarray:
    g = as_array(g, "g", ndim=1)
    if r is not None and g.shape[0] != r:
        raise ValueError(f"g must have one coefficient per singular value ({r}), got {g.shape[0]}")
    return g


def _pairs(cx, cy, g=None):
    cx = as_array(cx, "cx", ndim=2)
    cy = as_array(cy, "cy", ndim=2)
    if cx.shape != cy.shape:
        raise ValueError(f"cx and cy must have the same shape (K, r), got {cx.shape} and {cy.shape}")
    if g is not None:
        g = _filter(g, cx.shape[1])
        return cx, cy, g
    return cx, cy


# ---------------------------------------------------------------------------
# worst-case attacks on a spectral reconstructor
# ---------------------------------------------------------------------------


def amplification(g, eps, adversary: str) -> float:
    r"""Exact worst-case amplification :math:`\sup_{\eta\in B_\varepsilon}\|R_g\eta\|`.

    .. math::
        \text{'l2'}: \ \varepsilon\max_k|g_k| \quad(\text{for } A^+:\ \varepsilon/s_{\min}),
        \qquad \text{'box'}: \ \varepsilon\Big(\sum_k g_k^2\Big)^{1/2}.

    Parameters
    ----------
    g : array_like, shape (r,)
        Filter coefficients.
    eps : float
        Radius of the attack set, non-negative.
    adversary : {'l2', 'box'}

    Examples
    --------
    >>> amplification([1.0, -3.0, 2.0], 0.5, "l2"), amplification([3.0, 4.0], 1.0, "box")
    (1.5, 5.0)
    """
    g = _filter(g)
    eps = _eps(eps)
    if _adversary(adversary) == "l2":
        return float(eps * np.max(np.abs(g)))
    return float(eps * np.sqrt(np.sum(g**2)))


def attack_perturbation(svd: SVD, g, eps, adversary: str) -> np.ndarray:
    r"""A perturbation :math:`\eta\in B_\varepsilon` that attains :func:`amplification`.

    'l2': :math:`\eta = \varepsilon v_{k^*}` with :math:`k^* = \arg\max_k|g_k|`;
    'box': :math:`\eta = \varepsilon\sum_k \operatorname{sign}(g_k) v_k`.

    Returns
    -------
    ndarray, shape (m,)
        Grid values of :math:`\eta` in data space.
    """
    if not isinstance(svd, SVD):
        raise ValueError(f"svd must be a learnreg.operators.SVD, got {type(svd).__name__}")
    g = _filter(g, svd.rank)
    eps = _eps(eps)
    if _adversary(adversary) == "l2":
        c = np.zeros(svd.rank)
        c[int(np.argmax(np.abs(g)))] = eps
    else:
        c = eps * np.where(g >= 0, 1.0, -1.0)
    return svd.synthesis_y(c)


def reconstructor_matrix(svd: SVD, g) -> np.ndarray:
    r"""Matrix of :math:`R_g` acting on grid values: :math:`U\operatorname{diag}(g)V^\top W_Y`, shape (N, m)."""
    if not isinstance(svd, SVD):
        raise ValueError(f"svd must be a learnreg.operators.SVD, got {type(svd).__name__}")
    g = _filter(g, svd.rank)
    return (svd.U * g) @ (svd.V * svd.weights_y[:, None]).T


def l2_inner_max(r, g, eps, *, tol: float = 1e-13, max_iter: int = 200):
    r"""Exact inner maximisation for the L2 ball (a trust-region problem).

    For each row :math:`r` of residuals solves

    .. math:: \max_{\|c\|\le\varepsilon}\ \sum_k (r_k + g_kc_k)^2 .

    The maximiser lies on the sphere and satisfies
    :math:`c_k = g_kr_k/(\lambda - g_k^2)` with :math:`\lambda > \max_k g_k^2`
    chosen so that :math:`\|c\| = \varepsilon` (secular equation, solved by a
    safeguarded Newton iteration on :math:`1/\|c(\lambda)\|`); the value is
    :math:`\sum_k r_k^2\lambda^2/(\lambda - g_k^2)^2`. In the *hard case* (the
    residual vanishes on the maximising components and :math:`\|c(\lambda)\|<\varepsilon`
    as :math:`\lambda\downarrow\max g_k^2`) the remainder of the radius goes
    into :math:`c_{k^*}` with :math:`k^* = \arg\max g_k^2`.

    Parameters
    ----------
    r : array_like, shape (K, r) or (r,)
        Residuals :math:`r_k = g_ky_k - x_k`.
    g : array_like, shape (r,)
    eps : float
    tol : float
        Relative tolerance on :math:`\|c\| = \varepsilon`.

    Returns
    -------
    value : ndarray, shape (K,)
        The maximum of each row.
    c : ndarray, shape (K, r)
        The maximisers.
    """
    R = as_array(r, "r", ndim=(1, 2))
    single = R.ndim == 1
    R = np.atleast_2d(R)
    g = _filter(g, R.shape[1])
    eps = _eps(eps)
    tol = check_real(tol, "tol", positive=True)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    K = R.shape[0]
    d = g**2
    dmax = float(np.max(d))
    if eps == 0.0 or dmax == 0.0:
        c = np.zeros_like(R)
        val = np.sum(R**2, axis=1)
        return (val[0], c[0]) if single else (val, c)
    a = g * R  # (K, r): numerators
    na = np.sqrt(np.sum(a**2, axis=1))
    # lambda = dmax + t, t > 0. ||c(t)|| <= ||a||/t, so t_hi = ||a||/eps gives ||c|| <= eps.
    t_hi = np.maximum(na / eps, 1e-300)
    t_lo = np.zeros(K)
    t = t_hi.copy()
    gap = dmax - d  # >= 0

    def cnorm(tt):
        return np.sqrt(np.sum((a / (gap[None, :] + tt[:, None])) ** 2, axis=1))

    converged = np.zeros(K, dtype=bool)
    for _ in range(max_iter):
        den = gap[None, :] + t[:, None]
        q = a / den
        nc = np.sqrt(np.sum(q**2, axis=1))
        # psi(t) = 1/||c|| - 1/eps is increasing and concave in t
        too_big = nc > eps
        t_lo = np.where(too_big, t, t_lo)
        t_hi = np.where(too_big, t_hi, t)
        converged = np.abs(nc - eps) <= tol * eps
        if np.all(converged | (t_hi <= 1e-300)):
            break
        dn = np.sum(q**2 / den, axis=1) / np.maximum(nc, 1e-300)  # -d||c||/dt
        psi = 1.0 / np.maximum(nc, 1e-300) - 1.0 / eps
        with np.errstate(divide="ignore", invalid="ignore"):
            dpsi = dn / np.maximum(nc, 1e-300) ** 2
            t_new = t - psi / dpsi
        bad = ~np.isfinite(t_new) | (t_new <= t_lo) | (t_new >= t_hi)
        mid = np.where(t_lo > 0, np.sqrt(t_lo * t_hi), 0.5 * t_hi)
        # a row whose bracket has shrunk to t = 1e-300 (a residual that vanishes on the largest g_k) stays
        # there: halving further would underflow to t = 0 and divide 0 by 0; the hard case below finishes it
        t = np.where(converged | (t_hi <= 1e-300), t, np.where(bad, mid, t_new))
    den = gap[None, :] + t[:, None]
    c = a / den
    nc = cnorm(t)
    # hard case: ||c|| stays below eps as t -> 0; fill the rest into the top component
    hard = nc < eps * (1 - 1e-8)
    if np.any(hard):
        top = np.flatnonzero(d == dmax)
        rest = np.ones(d.shape[0], dtype=bool)
        rest[top] = False
        c_h = np.zeros((int(hard.sum()), d.shape[0]))
        c_h[:, rest] = a[hard][:, rest] / gap[rest]
        fill = np.sqrt(np.maximum(eps**2 - np.sum(c_h**2, axis=1), 0.0))
        k0 = top[0]
        sgn = np.where(R[hard, k0] * g[k0] >= 0, 1.0, -1.0)
        c_h[:, k0] = sgn * fill
        c[hard] = c_h
    val = np.sum((R + g * c) ** 2, axis=1)
    return (val[0], c[0]) if single else (val, c)


def worst_case_errors(g, cx, cy, eps, adversary: str, *, return_perturbation: bool = False):
    r"""Exact :math:`\max_{\eta\in B_\varepsilon}\|R_g(y_i+\eta)-x_i\|^2` for every sample i.

    'box': :math:`\sum_k(|r_{ik}| + \varepsilon|g_k|)^2`; 'l2': :func:`l2_inner_max`.
    The null-space part of :math:`x_i` is left out.

    Parameters
    ----------
    g : array_like, shape (r,)
    cx, cy : array_like, shape (K, r)
        Coefficients :math:`\langle x_i,u_k\rangle` and :math:`\langle y_i,v_k\rangle`.
    eps : float
    adversary : {'l2', 'box'}
    return_perturbation : bool
        Also return the maximising coefficients :math:`c_{ik} = \langle\eta_i, v_k\rangle`.
    """
    cx, cy, g = _pairs(cx, cy, g)
    eps = _eps(eps)
    res = g * cy - cx
    if _adversary(adversary) == "box":
        c = eps * np.where(res * g >= 0, 1.0, -1.0) * np.where(g == 0, 0.0, 1.0)
        val = np.sum((np.abs(res) + eps * np.abs(g)) ** 2, axis=1)
    else:
        val, c = l2_inner_max(res, g, eps)
    return (val, c) if return_perturbation else val


def pgd_attack(
    R,
    x,
    y,
    eps,
    adversary: str,
    svd: SVD,
    *,
    steps: int = 50,
    step_size: float = 0.25,
    rng: np.random.Generator,
    random_start: bool = False,
):
    r"""Projected gradient ascent on :math:`\|R(y+\eta) - x\|_X^2` over :math:`\eta\in B_\varepsilon`.

    A generic attack for any linear reconstructor given as a matrix on grid
    values. Gradients are taken in the data-space inner product,
    :math:`\nabla_\eta = 2R^*(R(y+\eta)-x)` with :math:`R^* = W_Y^{-1}R^\top W_X`.
    'l2' takes normalised steps :math:`\eta \leftarrow P(\eta + \tau\varepsilon\nabla/\|\nabla\|)`;
    'box' works in the coefficients :math:`c_k = \langle\eta, v_k\rangle` with signed
    steps :math:`c \leftarrow \operatorname{clip}(c + \tau\varepsilon\operatorname{sign}\nabla_c)`
    (the usual :math:`\ell^\infty` PGD). Both start at :math:`\eta = 0` (or at a random
    point of the set). Ascent maximises a *convex* function, so it can end in a local,
    non-global maximiser: for the box and a spectral reconstructor every coordinate has
    two (:math:`c_k=\pm\varepsilon`), and from :math:`\eta=0` the first step picks the
    right one, :math:`\operatorname{sign}(g_kr_k)`; a random start may not.

    Parameters
    ----------
    R : array_like, shape (N, m)
        The reconstructor acting on grid values (e.g. :func:`reconstructor_matrix`).
    x : array_like, shape (K, N)
        Ground truths.
    y : array_like, shape (K, m)
        Data.
    eps : float
    adversary : {'l2', 'box'}
    svd : SVD
        Supplies the inner products (and the :math:`v_k` of the box).
    steps : int
    step_size : float
        :math:`\tau`, as a fraction of :math:`\varepsilon`.
    rng : numpy.random.Generator
        For the random start.
    random_start : bool
        Start at a uniformly random point of the set instead of 0.

    Returns
    -------
    errors : ndarray, shape (K,)
        :math:`\|R(y+\eta)-x\|_X^2` at the final perturbations.
    eta : ndarray, shape (K, m)
    """
    if not isinstance(svd, SVD):
        raise ValueError(f"svd must be a learnreg.operators.SVD, got {type(svd).__name__}")
    N, m = svd.dim_x, svd.dim_y
    R = as_array(R, "R", ndim=2)
    if R.shape != (N, m):
        raise ValueError(f"R must have shape (N, m) = ({N}, {m}) to match the operator, got {R.shape}")
    x = as_array(x, "x", ndim=2)
    y = as_array(y, "y", ndim=2)
    if x.shape[1] != N or y.shape[1] != m or x.shape[0] != y.shape[0]:
        raise ValueError(f"x must have shape (K, {N}) and y shape (K, {m}), got {x.shape} and {y.shape}")
    eps = _eps(eps)
    adversary = _adversary(adversary)
    steps = check_int(steps, "steps", minimum=1)
    step_size = check_real(step_size, "step_size", positive=True)
    check_rng(rng)
    wx, wy = svd.weights_x, svd.weights_y
    K = x.shape[0]

    def norm_y(v):
        return np.sqrt(np.sum(v**2 * wy, axis=-1))

    def grad(eta):
        res = (y + eta) @ R.T - x
        return 2.0 * ((res * wx) @ R) / wy  # R^* res in the Y inner product

    if adversary == "l2":
        eta = rng.standard_normal((K, m)) / np.sqrt(wy)
        eta *= (eps * rng.uniform(size=(K, 1))) / np.maximum(norm_y(eta)[:, None], 1e-300)
        eta = eta if random_start else np.zeros((K, m))
        for _ in range(steps):
            gr = grad(eta)
            eta = eta + step_size * eps * gr / np.maximum(norm_y(gr)[:, None], 1e-300)
            nrm = norm_y(eta)[:, None]
            eta = np.where(nrm > eps, eta * eps / np.maximum(nrm, 1e-300), eta)
    else:
        c = rng.uniform(-eps, eps, size=(K, svd.rank))
        c = c if random_start else np.zeros((K, svd.rank))
        for _ in range(steps):
            gc = svd.coefficients_y(grad(svd.synthesis_y(c)))
            c = np.clip(c + step_size * eps * np.sign(gc), -eps, eps)
        eta = svd.synthesis_y(c)
    res = (y + eta) @ R.T - x
    return np.sum(res**2 * wx, axis=1), eta


# ---------------------------------------------------------------------------
# exact adversarial training for the coefficient box
# ---------------------------------------------------------------------------


def box_objective(g, cx, cy, eps) -> float:
    r"""Empirical box-adversarial objective :math:`\frac1K\sum_i\sum_k(|g_ky_{ik}-x_{ik}| + \varepsilon|g_k|)^2`."""
    return float(np.mean(worst_case_errors(g, cx, cy, eps, "box")))


def _box_terms(g, s, Pi, Delta, eps):
    sigma = np.sqrt((s * g - 1) ** 2 * Pi + g**2 * Delta)
    return sigma**2 + 2 * eps * GAUSS_ABS_MEAN * np.abs(g) * sigma + eps**2 * g**2


def box_objective_gaussian(s, g, Pi, Delta, eps) -> float:
    r"""Box-adversarial risk for Gaussian coefficients (worst-case risk, null term left out).

    With :math:`x_k\sim N(0,\Pi_k)`, :math:`e_k\sim N(0,\Delta_k)` the residual
    :math:`r_k` is :math:`N(0,\sigma_k^2)`, :math:`\sigma_k^2 = (1-s_kg_k)^2\Pi_k + g_k^2\Delta_k`,
    and :math:`E|r_k| = \sqrt{2/\pi}\,\sigma_k`, so

    .. math::
        E\max_{\eta\in B_\varepsilon}\|R_g(Ax+e+\eta)-x\|^2
        = \sum_k\Big[\sigma_k^2 + 2\sqrt{2/\pi}\,\varepsilon|g_k|\sigma_k + \varepsilon^2g_k^2\Big].

    For ``eps = 0`` this is the risk of :func:`learnreg.spectral.risk`.
    """
    s, Pi, Delta = check_spectrum(s, Pi=Pi, Delta=Delta)
    g = _filter(g, s.shape[0])
    eps = _eps(eps)
    return float(np.sum(_box_terms(g, s, Pi, Delta, eps)))


def box_filter_noiseless(s, Pi, eps) -> np.ndarray:
    r"""Closed-form box-adversarial filter without training noise (:math:`\Delta = 0`).

    With :math:`\beta_k = s_k\sqrt{\Pi_k}` (signal strength in the data) and
    :math:`c = \sqrt{2/\pi}`, the per-k objective on :math:`0\le g\le 1/s_k` is the
    quadratic :math:`\Pi_k(1-s_kg)^2 + 2c\varepsilon\sqrt{\Pi_k}\,g(1-s_kg) + \varepsilon^2g^2`,
    and it has a kink at :math:`g = 1/s_k`. Its minimiser has three regimes:

    .. math::
        g_k = \begin{cases}
        1/s_k, & \beta_k \ge \varepsilon/c \quad(\text{exact inversion}),\\[2pt]
        \dfrac{\sqrt{\Pi_k}\,(\beta_k - c\varepsilon)}{(\beta_k - c\varepsilon)^2 + (1-c^2)\varepsilon^2},
        & c\varepsilon < \beta_k < \varepsilon/c,\\[2pt]
        0, & \beta_k \le c\varepsilon \quad(\text{switched off}).
        \end{cases}

    The middle formula equals :math:`1/s_k` at :math:`\beta_k=\varepsilon/c` and 0 at
    :math:`\beta_k = c\varepsilon`, so the filter is continuous in :math:`\beta_k`.
    For ``eps = 0``, :math:`g_k = 1/s_k` where :math:`\Pi_k > 0`.
    """
    s, Pi, _ = check_spectrum(s, Pi=Pi, Delta=0.0)
    eps = _eps(eps)
    c = GAUSS_ABS_MEAN
    beta = s * np.sqrt(Pi)
    d = beta - c * eps
    den = d**2 + (1 - c**2) * eps**2
    with np.errstate(invalid="ignore", divide="ignore"):
        mid = np.sqrt(Pi) * np.maximum(d, 0) / np.where(den > 0, den, 1.0)
    g = np.where(d > 0, np.minimum(mid, 1.0 / s), 0.0)
    return np.where(beta * c >= eps, 1.0 / s, g) * (Pi > 0)


def _bisect_derivative(deriv, lo, hi, iters: int = 200):
    """Vectorised bisection for the root of an increasing derivative on [lo, hi]."""
    lo = lo.astype(float).copy()
    hi = hi.astype(float).copy()
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        pos = deriv(mid) > 0
        hi = np.where(pos, mid, hi)
        lo = np.where(pos, lo, mid)
        if np.all(hi - lo <= 4 * np.finfo(float).eps * np.maximum(np.abs(hi), 1e-300)):
            break
    return 0.5 * (lo + hi)


def box_filter_gaussian(s, Pi, Delta, eps) -> np.ndarray:
    r"""Exact box-adversarial filter for Gaussian coefficients.

    Minimises each term of :func:`box_objective_gaussian` over :math:`g_k`.
    Each term is convex (it is :math:`E(|r_k|+\varepsilon|g_k|)^2`), and it is
    larger at :math:`-g` than at :math:`g\ge0` and increasing for :math:`g\ge 1/s_k`,
    so its minimiser lies in :math:`[0, 1/s_k]`; it is found by bisection on the
    derivative to machine precision. As in the noiseless case, mode k is
    switched off (:math:`g_k = 0`) exactly when :math:`s_k\sqrt{\Pi_k}\le\sqrt{2/\pi}\,\varepsilon`,
    whatever the training noise: the right derivative at 0 is
    :math:`2\sqrt{\Pi_k}(\sqrt{2/\pi}\,\varepsilon - s_k\sqrt{\Pi_k})`. For ``Delta = 0`` it agrees
    with :func:`box_filter_noiseless`; for ``eps = 0`` with the MSE filter.
    """
    s, Pi, Delta = check_spectrum(s, Pi=Pi, Delta=Delta)
    eps = _eps(eps)
    c = GAUSS_ABS_MEAN

    def deriv(g):
        sig2 = (s * g - 1) ** 2 * Pi + g**2 * Delta
        sig = np.sqrt(np.maximum(sig2, 1e-300))
        dsig = ((s * g - 1) * s * Pi + g * Delta) / sig
        return 2 * sig * dsig + 2 * eps * c * (sig + g * dsig) + 2 * eps**2 * g

    g = _bisect_derivative(deriv, np.zeros_like(s), 1.0 / s)
    # the right derivative at 0 is 2 sqrt(Pi_k) (c eps - s_k sqrt(Pi_k)): where it is >= 0 the
    # convex objective is increasing on g >= 0 and the mode is switched off exactly
    return np.where(s * np.sqrt(Pi) > c * eps, g, 0.0)


def box_filter(cx, cy, eps) -> np.ndarray:
    r"""Exact box-adversarial filter from K training pairs.

    Solves, for every k separately, the convex piecewise-quadratic problem

    .. math:: \min_{g}\ \frac1K\sum_i\big(|g\,y_{ik} - x_{ik}| + \varepsilon|g|\big)^2 .

    Its minimiser lies in :math:`|g|\le G_k = \min\big(2\|x_{\cdot k}\|/\|y_{\cdot k}\|,\
    \|x_{\cdot k}\|/(\sqrt K\varepsilon)\big)` (the objective at 0 is
    :math:`\frac1K\|x_{\cdot k}\|^2`). Bisection on the right derivative narrows the
    bracket; the quadratic piece that holds the minimiser is then minimised in
    closed form. Cost :math:`O(Kr)` per bisection step. For ``eps = 0`` this is
    :func:`learnreg.spectral.empirical_filter`.

    Parameters
    ----------
    cx, cy : array_like, shape (K, r)
    eps : float

    Returns
    -------
    ndarray, shape (r,)
    """
    cx, cy = _pairs(cx, cy)
    eps = _eps(eps)
    mx = np.sqrt(np.mean(cx**2, axis=0))
    my = np.sqrt(np.mean(cy**2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.where(my > 0, 2 * mx / np.where(my > 0, my, 1.0), np.inf)
        if eps > 0:
            G = np.minimum(G, mx / eps)
    G = np.where(np.isfinite(G), G, 0.0)  # my = 0 and eps = 0: objective constant, take 0

    def right_deriv(g):
        res = g * cy - cx
        sr = np.where(res != 0, np.sign(res), np.sign(cy) * 1.0)  # right derivative of |g y - x|
        sg = np.where(g != 0, np.sign(g), 1.0)
        return np.mean((np.abs(res) + eps * np.abs(g)) * (sr * cy + eps * sg), axis=0)

    lo, hi = -G.copy(), G.copy()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        pos = right_deriv(mid) > 0
        hi = np.where(pos, mid, hi)
        lo = np.where(pos, lo, mid)
        if np.all(hi - lo <= 1e-13 * np.maximum(G, 1e-300)):
            break
    # polish: on the piece containing mid the objective is A g^2 + B g + C;
    # if the minimiser is a kink (g = 0 or g = x_ik/y_ik) take the kink
    mid = 0.5 * (lo + hi)
    res = mid * cy - cx
    sr = np.where(res != 0, np.sign(res), 1.0)
    sg = np.where(mid != 0, np.sign(mid), 1.0)
    A = np.mean(cy**2, axis=0) + 2 * eps * sg * np.mean(sr * cy, axis=0) + eps**2
    B = -2 * np.mean(cx * cy, axis=0) - 2 * eps * sg * np.mean(sr * cx, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_q = -B / (2 * A)
        kinks = np.where(cy != 0, cx / np.where(cy != 0, cy, 1.0), np.inf)
    nearest = kinks[np.argmin(np.abs(kinks - mid), axis=0), np.arange(mid.shape[0])]

    def per_k(g):
        return np.mean((np.abs(g * cy - cx) + eps * np.abs(g)) ** 2, axis=0)

    best, fbest = mid, per_k(mid)
    for cand in (g_q, np.zeros_like(mid), nearest):
        ok = np.isfinite(cand) & (cand >= lo) & (cand <= hi)
        cand = np.where(ok, cand, mid)
        f = per_k(cand)
        better = ok & (f < fbest)
        best = np.where(better, cand, best)
        fbest = np.where(better, f, fbest)
    return best


# ---------------------------------------------------------------------------
# adversarial training for the L2 ball
# ---------------------------------------------------------------------------


def l2_objective(g, cx, cy, eps, *, return_gradient: bool = False):
    r"""Empirical L2-adversarial objective and its gradient.

    .. math:: F(g) = \frac1K\sum_i\max_{\|c\|\le\varepsilon}\sum_k\big(g_k(y_{ik}+c_k) - x_{ik}\big)^2 .

    :math:`F` is convex (a maximum of convex functions of g). Where the inner
    maximiser :math:`c^{(i)}` is unique, Danskin's theorem gives
    :math:`\partial_kF = \frac2K\sum_i (g_k(y_{ik}+c^{(i)}_k) - x_{ik})(y_{ik}+c^{(i)}_k)`.
    """
    cx, cy, g = _pairs(cx, cy, g)
    eps = _eps(eps)
    val, c = l2_inner_max(g * cy - cx, g, eps)
    F = float(np.mean(val))
    if not return_gradient:
        return F
    z = cy + c
    grad = 2.0 * np.mean((g * z - cx) * z, axis=0)
    return F, grad


def l2_filter(cx, cy, eps, *, g0=None, gtol: float = 1e-10, max_iter: int = 5000) -> np.ndarray:
    r"""L2-adversarial filter from K training pairs: exact inner maximum, convex outer solve.

    Minimises :func:`l2_objective` with L-BFGS-B, using the exact trust-region
    inner maximum and Danskin's gradient. The start is the box-adversarial
    filter of the same radius (or ``g0``).

    Parameters
    ----------
    cx, cy : array_like, shape (K, r)
    eps : float
    g0 : array_like, shape (r,), optional
    gtol : float
        Projected-gradient tolerance of L-BFGS-B, relative to :math:`F(0)`.
    """
    cx, cy = _pairs(cx, cy)
    eps = _eps(eps)
    gtol = check_real(gtol, "gtol", positive=True)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    g0 = box_filter(cx, cy, eps) if g0 is None else _filter(g0, cx.shape[1])
    scale = float(np.mean(np.sum(cx**2, axis=1))) or 1.0
    # diagonal preconditioning: optimise z_k = d_k g_k, d_k^2 ~ curvature of F in g_k
    d = np.sqrt(np.mean(cy**2, axis=0) + eps**2)
    d = np.where(d > 0, d, 1.0)

    def fun(z):
        F, gr = l2_objective(z / d, cx, cy, eps, return_gradient=True)
        return F / scale, gr / (d * scale)

    out = scipy.optimize.minimize(
        fun,
        g0 * d,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": gtol, "ftol": 1e-15, "maxiter": max_iter, "maxcor": 10},
    )
    return np.asarray(out.x) / d


# ---------------------------------------------------------------------------
# PGD adversarial training, as practitioners run it
# ---------------------------------------------------------------------------


@dataclass
class PGDTrainingResult:
    r"""Outcome of :func:`pgd_training`.

    Attributes
    ----------
    g : ndarray, shape (r,)
        Learned filter.
    objective : list of float
        The exact adversarial objective of the iterates, every ``record_every`` steps.
    steps : list of int
        Outer steps at which ``objective`` was recorded.
    gradient_evaluations : int
        Number of (inner + outer) gradient evaluations on a full batch.
    """

    g: np.ndarray
    objective: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    gradient_evaluations: int = 0


def pgd_training(
    cx,
    cy,
    eps,
    adversary: str,
    *,
    rng: np.random.Generator,
    outer_steps: int = 2000,
    inner_steps: int = 10,
    lr: float = 0.1,
    lr_final: float = 1e-4,
    inner_step_size: float = 0.25,
    g0=None,
    record_every: int = 0,
    random_start: bool = False,
) -> PGDTrainingResult:
    r"""Generic PGD adversarial training: inner projected gradient ascent, outer Adam steps.

    Each outer step attacks every training pair with ``inner_steps`` steps of
    projected gradient ascent on :math:`\sum_k(g_k(y_{ik}+c_k)-x_{ik})^2` over
    the attack set, from 0 or a random start ('box': signed steps and clipping;
    'l2': normalised steps and projection onto the ball), then takes one Adam
    step on g with the gradient at the attacked data (Danskin). The learning
    rate decays geometrically from ``lr`` to ``lr_final``, both relative to
    the scale of the least-squares filter.

    Parameters
    ----------
    cx, cy : array_like, shape (K, r)
    eps : float
    adversary : {'l2', 'box'}
    rng : numpy.random.Generator
    outer_steps, inner_steps : int
    lr, lr_final : float
    inner_step_size : float
        Inner step as a fraction of eps.
    g0 : array_like, optional
        Start (default: zeros).
    record_every : int
        Record the exact objective every that many steps (0: never).
    random_start : bool
        Start each inner attack at a random point of the set instead of 0.
    """
    cx, cy = _pairs(cx, cy)
    eps = _eps(eps)
    adversary = _adversary(adversary)
    check_rng(rng)
    outer_steps = check_int(outer_steps, "outer_steps", minimum=1)
    inner_steps = check_int(inner_steps, "inner_steps", minimum=1)
    lr = check_real(lr, "lr", positive=True)
    lr_final = check_real(lr_final, "lr_final", positive=True)
    inner_step_size = check_real(inner_step_size, "inner_step_size", positive=True)
    record_every = check_int(record_every, "record_every", minimum=0)
    K, r = cx.shape
    g = np.zeros(r) if g0 is None else _filter(g0, r).copy()
    my2 = np.mean(cy**2, axis=0)
    scale = np.abs(np.mean(cx * cy, axis=0)) / np.where(my2 > 0, my2, 1.0)
    scale = np.where(scale > 0, scale, 1.0)
    adam = AdamMoments(r)
    tiny = 1e-12
    decay = (lr_final / lr) ** (1.0 / max(outer_steps - 1, 1))
    out = PGDTrainingResult(g=g)
    evals = 0
    for step in range(outer_steps):
        # inner attack
        if adversary == "box":
            c = rng.uniform(-eps, eps, size=(K, r))
        else:
            c = rng.standard_normal((K, r))
            c *= eps * rng.uniform(size=(K, 1)) / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-300)
        if not random_start:
            c = np.zeros((K, r))
        for _ in range(inner_steps):
            gc = 2 * g * (g * (cy + c) - cx)
            evals += 1
            if adversary == "box":
                c = np.clip(c + inner_step_size * eps * np.sign(gc), -eps, eps)
            else:
                nrm = np.maximum(np.linalg.norm(gc, axis=1, keepdims=True), 1e-300)
                c = c + inner_step_size * eps * gc / nrm
                cn = np.linalg.norm(c, axis=1, keepdims=True)
                c = np.where(cn > eps, c * eps / np.maximum(cn, 1e-300), c)
        # outer Adam step
        z = cy + c
        grad = 2.0 * np.mean((g * z - cx) * z, axis=0)
        evals += 1
        mh, vh = adam.update(grad)
        g = g - lr * decay**step * scale * mh / (np.sqrt(vh) + tiny)
        if record_every and (step % record_every == 0 or step == outer_steps - 1):
            out.objective.append(float(np.mean(worst_case_errors(g, cx, cy, eps, adversary))))
            out.steps.append(step + 1)
    out.g = g
    out.gradient_evaluations = evals
    return out
