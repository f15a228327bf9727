r"""Chapter 5: adversarial robustness, and adversarial training as a convergent regularization.

Experiments, in the order of the chapter:

* :func:`attacks`: worst-case attacks on a spectral reconstruction, the closed
  forms against numerical maximisation over the attack set;
* :func:`exact_training`: the exact solvers of adversarial training against a
  generic scalar minimiser, samples against the Gaussian closed form, convexity;
* :func:`stability`: bounded coefficients without training noise, for both
  adversaries, against the least-squares filter that training without an
  adversary learns;
* :func:`box_rules`: the box adversary under white noise for four parameter
  rules :math:`\varepsilon(\delta)` and three resolutions, exact risk and
  simulated errors;
* :func:`l2_rules`: the L2-ball adversary under deterministic and white noise;
* :func:`pareto`: clean risk against worst-case risk (integration, Radon);
* :func:`pgd_comparison`: generic PGD adversarial training against the exact solution;
* :func:`explain`: the component-wise Tikhonov parameters of the learned filters,
  and the three regimes of the box filter found by a generic minimiser;
* :func:`panel_filters`: the filters of the chapter's panel, precomputed on a grid.

The independent checks (a numerical maximiser over the attack set, a
golden-section minimiser that knows nothing of the closed forms, Monte-Carlo
errors with sampled noise) live here, beside the experiments, and not in
:mod:`learnreg.adversarial`, whose solvers they check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import zeta

from .. import adversarial as adv
from .._validate import as_array, check_int, check_real, check_rng
from ..book.claims import Check
from ..data import ellipse_phantoms, power_law_moments, substream, white_noise
from ..operators import Integration, Radon
from ..rates import fit_rate, power_law_model
from ..spectral import (
    empirical_filter,
    mse_filter,
    optimal_risk,
    regularization_parameters,
    risk,
    sample_coefficients,
)

__all__ = [
    "SEED",
    "C_ABS",
    "RULES",
    "rule_radius",
    "golden_section",
    "box_term",
    "box_filter_factors_numerical",
    "Attacks",
    "attacks",
    "ExactTraining",
    "exact_training",
    "Stability",
    "stability",
    "BoxRules",
    "box_rules",
    "L2Rules",
    "l2_rules",
    "Pareto",
    "pareto",
    "PGDComparison",
    "pgd_comparison",
    "Explain",
    "explain",
    "PanelFilters",
    "panel_filters",
]

#: Seed of the chapter's generator.
SEED = 20251208

#: :math:`c = E|Z| = \sqrt{2/\pi}` for a standard normal Z.
C_ABS = adv.GAUSS_ABS_MEAN

#: The parameter rules :math:`\varepsilon(\delta)` of the convergence experiments: key -> (label, exponent p
#: in :math:`\varepsilon = \delta^p`, or None for the fixed radius 0.1).
RULES = {
    "fixed": ("eps = 0.1 (fixed)", None),
    "sqrt": ("eps = delta^(1/2)", 0.5),
    "linear": ("eps = delta", 1.0),
    "square": ("eps = delta^2", 2.0),
}


def rule_radius(rule: str, delta: float) -> float:
    """The attack radius of ``rule`` (a key of :data:`RULES`) at noise level ``delta``."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    p = RULES[rule][1]
    return 0.1 if p is None else float(delta) ** p


# ---------------------------------------------------------------------------
# Independent checks: a generic minimiser and the per-mode objective from its definition
# ---------------------------------------------------------------------------


def golden_section(f, lo, hi, *, iters: int = 160) -> np.ndarray:
    r"""Minimise a function of one variable on :math:`[lo, hi]` by golden-section search, for many problems at once.

    ``f`` maps an array of points (one per problem) to the array of values; the
    search needs no derivative and no knowledge of the minimiser's form, and
    it converges to the global minimiser of a convex (or unimodal) function,
    including a minimiser at an end point or at a kink.

    Parameters
    ----------
    f : callable
    lo, hi : array_like, shape (m,)
        The brackets, one per problem.
    iters : int
        Iterations; each shrinks the bracket by 0.618 (160 reach rounding level).
    """
    lo = as_array(lo, "lo", ndim=1).copy()
    hi = as_array(hi, "hi", ndim=1).copy()
    if lo.shape != hi.shape or np.any(hi < lo):
        raise ValueError(f"lo and hi must have the same length and lo <= hi, got shapes {lo.shape} and {hi.shape}")
    iters = check_int(iters, "iters", minimum=1, maximum=10_000)
    inv = (np.sqrt(5.0) - 1) / 2
    a, b = lo + (1 - inv) * (hi - lo), lo + inv * (hi - lo)
    fa, fb = f(a), f(b)
    for _ in range(iters):
        left = fa <= fb  # the minimiser lies in [lo, b]
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
        a_new = np.where(left, lo + (1 - inv) * (hi - lo), b)
        b_new = np.where(left, a, lo + inv * (hi - lo))
        f_new = f(np.where(left, a_new, b_new))
        fa, fb = np.where(left, f_new, fb), np.where(left, fa, f_new)
        a, b = a_new, b_new
    x = 0.5 * (lo + hi)
    # the end points may be better than the last interior point (a minimiser at a bound)
    cands = np.stack([x, lo, hi])
    vals = np.stack([f(x), f(lo), f(hi)])
    return cands[np.argmin(vals, axis=0), np.arange(x.size)]


def box_term(t, rho, kappa) -> np.ndarray:
    r"""The k-th term of the Gaussian box-adversarial objective, in units of :math:`\Pi_k`, at filter factor t.

    With :math:`t = s_kg`, :math:`\rho = \varepsilon/\beta_k`, :math:`\kappa = \Delta_k/\beta_k^2`
    and :math:`\beta_k = s_k\sqrt{\Pi_k}`: the residual :math:`r_k` is
    :math:`N(0,\sigma^2)` with :math:`\sigma^2/\Pi_k = (1-t)^2 + \kappa t^2`, and

    .. math:: E(|r_k| + \varepsilon|g|)^2/\Pi_k = \sigma^2/\Pi_k + 2c\rho|t|\,\sigma/\sqrt{\Pi_k} + \rho^2t^2 .

    Written from the definition (not from :mod:`learnreg.adversarial`).
    """
    sig = np.sqrt((1 - t) ** 2 + kappa * t**2)
    return sig**2 + 2 * C_ABS * rho * np.abs(t) * sig + rho**2 * t**2


def box_filter_factors_numerical(s, Pi, Delta, eps) -> np.ndarray:
    r"""Filter factors :math:`s_kg_k` of the Gaussian box-adversarial filter, by golden-section search.

    Minimises each term :func:`box_term` over :math:`t\in[-1, 2]`, with no rule
    about where the minimiser lies or when a mode is switched off: an
    independent check of :func:`learnreg.adversarial.box_filter_gaussian` and
    :func:`~learnreg.adversarial.box_filter_noiseless`.
    """
    s = as_array(s, "s", ndim=1, positive=True)
    Pi = as_array(Pi, "Pi", ndim=1, positive=True)
    if Pi.shape != s.shape:
        raise ValueError(f"Pi must have the same length as s ({s.shape[0]}), got {Pi.shape[0]}")
    Delta = check_real(Delta, "Delta", nonnegative=True)
    eps = check_real(eps, "eps", nonnegative=True)
    beta = s * np.sqrt(Pi)
    rho, kappa = eps / beta, Delta / beta**2
    return golden_section(lambda t: box_term(t, rho, kappa), -np.ones_like(s), 2 * np.ones_like(s))


def _mc(values) -> tuple[float, float]:
    """Mean and standard error of a sample."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


# ---------------------------------------------------------------------------
# 1. Worst-case attacks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Attacks:
    """Worst-case attacks on the pseudo-inverse and the MSE filter of the integration operator.

    Attributes
    ----------
    n, eps, delta : int, float, float
    filters : tuple of str
        ``("pseudo-inverse", "MSE filter")``.
    closed : ndarray, shape (2, 2)
        Closed-form :math:`\\sup_{\\eta\\in B_\\varepsilon}\\|R_g\\eta\\|` (rows: filters; columns: L2 ball, box).
    numerical : ndarray, shape (2, 2)
        The same supremum found numerically on grid values: for the ball the largest singular value
        of the reconstructor's matrix in the weighted norms (for the pseudo-inverse, of :math:`A^{-1}`
        formed by solving with the operator's matrix, without its SVD); for the box the best of
        projected gradient ascent from ``starts`` random points of the box.
    pgd_errors, exact_errors : ndarray, shape (2, 2)
        Mean attacked error :math:`\\|R_g(y+\\eta)-x\\|^2` on ``n_samples`` noisy samples: PGD from
        :math:`\\eta = 0` on the reconstructor's matrix, and the exact worst case.
    pgd_deviation : float
        Largest relative deviation of a PGD worst case from the exact one, over samples, filters and sets.
    """

    n: int
    eps: float
    delta: float
    filters: tuple
    closed: np.ndarray
    numerical: np.ndarray
    pgd_errors: np.ndarray
    exact_errors: np.ndarray
    pgd_deviation: float
    s_min: float

    def table(self) -> str:
        lines = [f"integration, n = {self.n}, eps = {self.eps:g}; sup of ||R_g eta|| over the set:",
                 f"{'filter':>16}{'set':>6}{'closed form':>13}{'numerical':>11}"]
        for i, name in enumerate(self.filters):
            for j, which in enumerate(adv.ADVERSARIES):
                lines.append(f"{name:>16}{which:>6}{self.closed[i, j]:13.4g}{self.numerical[i, j]:11.4g}")
        lines.append(f"eps / s_min = {self.eps / self.s_min:.4g}")
        lines.append(f"mean attacked error ||R_g(y + eta) - x||^2, noisy samples (delta = {self.delta:g}):")
        lines.append(f"{'filter':>16}{'set':>6}{'PGD attack':>13}{'exact':>11}")
        for i, name in enumerate(self.filters):
            for j, which in enumerate(adv.ADVERSARIES):
                lines.append(f"{name:>16}{which:>6}{self.pgd_errors[i, j]:13.4g}{self.exact_errors[i, j]:11.4g}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        rel = np.abs(self.numerical / self.closed - 1)
        return [
            Check("ch5-attack-l2-pinv",
                  "L2-ball attack on the pseudo-inverse: the largest amplification, found numerically on "
                  "$A^{-1}$ formed from the operator's matrix (not from its SVD), equals $\\varepsilon/s_{\\min}$ "
                  "(relative difference)",
                  rel[0, 0], 0.0, 1e-9, kind="max", verdict_only=True),
            Check("ch5-attack-attained",
                  "The closed-form suprema $\\varepsilon\\max_k|g_k|$ (L2 ball) and "
                  "$\\varepsilon(\\sum_kg_k^2)^{1/2}$ (box) equal the numerical maximum over the set on the "
                  "reconstructor's grid matrix (largest relative difference; pseudo-inverse on the box, MSE filter "
                  "on both sets)",
                  max(rel[0, 1], rel[1, 0], rel[1, 1]), 0.0, 1e-9, kind="max", verdict_only=True),
            Check("ch5-attack-pgd",
                  "A generic PGD attack on the reconstructor's matrix (300 steps from $\\eta=0$) reaches the exact "
                  "worst-case errors of noisy samples (largest relative deviation, both sets, both filters)",
                  self.pgd_deviation, 0.0, 1e-6, kind="max", verdict_only=True),
        ]


def attacks(rng: np.random.Generator, *, n: int = 128, b: float = 2.0, delta: float = 1e-2, eps: float = 1e-2,
            n_samples: int = 8, starts: int = 20, steps: int = 300) -> Attacks:
    r"""Attack the pseudo-inverse and the MSE filter of the integration operator with both sets.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the samples and the random starts (streams ``"attacks-samples"``, ``"attacks-starts"``).
    n : int
        Resolution of the integration operator.
    b : float
        Smoothness of the signals, :math:`\Pi_k = k^{-b}` in the singular basis.
    delta, eps : float
        Noise level of the samples and attack radius.
    n_samples, starts, steps : int
        Noisy samples attacked, random starts of the box maximisation, PGD steps.
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=4, maximum=1024)
    b = check_real(b, "b", positive=True)
    delta = check_real(delta, "delta", positive=True)
    eps = check_real(eps, "eps", positive=True)
    n_samples = check_int(n_samples, "n_samples", minimum=1, maximum=1000)
    starts = check_int(starts, "starts", minimum=1, maximum=1000)
    steps = check_int(steps, "steps", minimum=1, maximum=100_000)
    op = Integration(n)
    svd = op.svd()
    s = svd.s
    Pi = power_law_moments(svd.rank, b)
    filters = {"pseudo-inverse": 1.0 / s, "MSE filter": mse_filter(s, Pi, delta**2)}
    wx, wy = np.sqrt(op.weights_x), np.sqrt(op.weights_y)
    a_inv = np.linalg.solve(op.matrix, np.eye(n))  # A^{-1} without the SVD

    r_samples = substream(rng, "attacks-samples")
    X = (r_samples.standard_normal((n_samples, n)) * np.sqrt(Pi)) @ svd.U.T
    Y = op.apply(X) + white_noise(op.weights_y, delta, n_samples, r_samples)
    cx, cy = svd.coefficients_x(X), svd.coefficients_y(Y)
    outside = np.sum(X**2 * op.weights_x, axis=1) - np.sum(cx**2, axis=1)  # part of x outside the u_k

    closed, numerical = np.zeros((2, 2)), np.zeros((2, 2))
    pgd_err, exact_err = np.zeros((2, 2)), np.zeros((2, 2))
    deviation = 0.0
    r_starts = substream(rng, "attacks-starts")
    zeros_x, zeros_y = np.zeros((starts, n)), np.zeros((starts, n))
    for i, (name, g) in enumerate(filters.items()):
        R = adv.reconstructor_matrix(svd, g)
        for j, which in enumerate(adv.ADVERSARIES):
            closed[i, j] = adv.amplification(g, eps, which)
            if which == "l2":
                M = a_inv if name == "pseudo-inverse" else R
                numerical[i, j] = eps * np.linalg.norm(wx[:, None] * M / wy[None, :], 2)
            else:
                val, _ = adv.pgd_attack(R, zeros_x, zeros_y, eps, which, svd, steps=50, step_size=0.25,
                                        rng=r_starts, random_start=True)
                numerical[i, j] = float(np.sqrt(val.max()))
            pgd, _ = adv.pgd_attack(R, X, Y, eps, which, svd, steps=steps, step_size=0.1, rng=r_starts)
            exact = adv.worst_case_errors(g, cx, cy, eps, which) + outside
            pgd_err[i, j], exact_err[i, j] = pgd.mean(), exact.mean()
            deviation = max(deviation, float(np.max(np.abs(pgd / exact - 1))))
    return Attacks(n=n, eps=eps, delta=delta, filters=tuple(filters), closed=closed, numerical=numerical,
                   pgd_errors=pgd_err, exact_errors=exact_err, pgd_deviation=deviation, s_min=float(s[-1]))


# ---------------------------------------------------------------------------
# 2. The exact solvers of adversarial training
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExactTraining:
    """The package's solvers for the box against a generic minimiser; samples; convexity.

    Attributes
    ----------
    n_modes : int
    eps : tuple
        Radii of the comparison with the generic minimiser.
    solver_deviation : float
        Largest :math:`|s_k(g_k - g_k^{\\rm num})|` between the package's box filters (the three-regime
        closed form without training noise, the Gaussian solver with it) and golden-section search.
    n_samples : int
    sample_excess : float
        Gaussian objective of the filter trained on ``n_samples`` samples, over the optimum, minus 1.
    convexity : float
        Smallest second difference of the empirical objectives along random lines, relative to their size.
    """

    n_modes: int
    eps: tuple
    delta: float
    solver_deviation: float
    n_samples: int
    sample_excess: float
    convexity: float

    def table(self) -> str:
        return "\n".join([
            f"box filters, s_k = 1/k, Pi_k = k^-2, {self.n_modes} modes, eps = "
            + ", ".join(f"{e:g}" for e in self.eps) + ",",
            f"training noise 0 and delta = {self.delta:g}:",
            f"  package vs golden-section search, largest |s_k (g_k - g_k')| < 1e-6: "
            f"{self.solver_deviation <= 1e-6}",
            f"  K = {self.n_samples} samples: Gaussian objective / optimum - 1 = {self.sample_excess:.2g}",
            f"  smallest relative second difference along 40 random lines: {self.convexity:.3g}",
        ])

    def claims(self) -> list[Check]:
        return [
            Check("ch5-box-closed-form",
                  "The box filter of the package (three-regime closed form without training noise, Gaussian "
                  "solver with it) equals the minimiser found by golden-section search on each mode's objective "
                  "(largest $s_k|g_k-g_k'|$)",
                  self.solver_deviation, 0.0, 1e-6, kind="max", verdict_only=True),
            Check("ch5-box-samples",
                  f"Box training on $K={self.n_samples}$ Gaussian samples is optimal for the Gaussian objective up "
                  "to $O(r/K)$ (relative excess $\\le 10^{-3}$)",
                  self.sample_excess, 0.0, 1e-3, kind="max"),
            Check("ch5-convex-lines",
                  "The adversarial objectives (box and L2 ball) are convex along random lines (smallest relative "
                  "second difference)",
                  self.convexity, 0.0, 1e-10, kind="min"),
        ]


def exact_training(rng: np.random.Generator, *, n_modes: int = 400, eps=(1e-4, 1e-2, 0.3), delta: float = 1e-2,
                   n_samples: int = 100_000) -> ExactTraining:
    r"""Check the exact box solvers, sample training and convexity on the diagonal model :math:`s_k=1/k`, :math:`\Pi_k=k^{-2}`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Streams ``"exact-training-samples"`` and ``"exact-training-lines"``.
    n_modes : int
        Modes of the comparison with the generic minimiser.
    eps : sequence of float
        Radii of that comparison.
    delta : float
        Training noise of the comparison with noise.
    n_samples : int
        Training samples of the sample solver (8 modes, noise and radius 0.05).
    """
    check_rng(rng)
    n_modes = check_int(n_modes, "n_modes", minimum=2, maximum=10**5)
    eps_arr = as_array(eps, "eps", ndim=1, positive=True)
    delta = check_real(delta, "delta", positive=True)
    n_samples = check_int(n_samples, "n_samples", minimum=10, maximum=10**6)
    s, Pi = power_law_model(1.0, 2.0, n_modes)
    dev = 0.0
    for e in eps_arr:
        for Delta, g in ((0.0, adv.box_filter_noiseless(s, Pi, e)), (delta**2, adv.box_filter_gaussian(s, Pi, delta**2, e))):
            dev = max(dev, float(np.max(np.abs(s * g - box_filter_factors_numerical(s, Pi, Delta, e)))))

    s8, Pi8 = power_law_model(1.0, 2.0, 8)
    cx, cy = sample_coefficients(s8, Pi8, 0.05**2, n_samples, substream(rng, "exact-training-samples"))
    g_emp = adv.box_filter(cx, cy, 0.05)
    g_gauss = adv.box_filter_gaussian(s8, Pi8, 0.05**2, 0.05)
    excess = (adv.box_objective_gaussian(s8, g_emp, Pi8, 0.05**2, 0.05)
              / adv.box_objective_gaussian(s8, g_gauss, Pi8, 0.05**2, 0.05) - 1)

    r_lines = substream(rng, "exact-training-lines")
    s6, Pi6 = power_law_model(1.0, 2.0, 6)
    cx6, cy6 = sample_coefficients(s6, Pi6, 0.05**2, 40, r_lines)
    ts = np.linspace(-2, 2, 41)
    worst = np.inf
    for which in adv.ADVERSARIES:
        for _ in range(20):
            g0, d = 2 * r_lines.standard_normal(6), r_lines.standard_normal(6)
            f = np.array([np.mean(adv.worst_case_errors(g0 + t * d, cx6, cy6, 0.2, which)) for t in ts])
            worst = min(worst, float(np.min(f[:-2] - 2 * f[1:-1] + f[2:]) / np.max(f)))
    return ExactTraining(n_modes=n_modes, eps=tuple(float(e) for e in eps_arr), delta=delta, solver_deviation=dev,
                         n_samples=n_samples, sample_excess=float(excess), convexity=worst)


# ---------------------------------------------------------------------------
# 3. Stability without training noise
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stability:
    """Largest coefficient of adversarially trained filters without training noise.

    Attributes
    ----------
    eps_box, n_box : ndarray
        Radii and resolutions of the box (Gaussian closed form).
    gmax_box : ndarray, shape (len(n_box), len(eps_box))
    ratio_box : float
        Largest :math:`\\varepsilon\\|g\\|_2/\\sqrt{E\\|x\\|^2}` (at most 1 by the proposition).
    eps_l2, n_l2 : ndarray
        Radii and resolutions of the L2 ball (exact training on noise-free samples).
    gmax_l2 : ndarray, shape (len(n_l2), len(eps_l2))
    ratio_l2 : float
        Largest :math:`\\varepsilon\\max_kg_k` over the root of the mean :math:`\\|x\\|^2` of the samples.
    eps_res, n_res : ndarray
        Radii and resolutions of the sample solver for the box.
    gmax_res, gmax_ls : ndarray, shape (len(n_res), len(eps_res)) and (len(n_res),)
        Largest coefficient of the box filter trained on noise-free samples, and of the least-squares
        filter (no adversary) on the same samples.
    ratio_res, ratio_ls : ndarray, shape (len(n_res), len(eps_res))
        :math:`\\varepsilon\\max_kg_k/\\sqrt{\\text{mean}\\|x\\|^2}` for the two.
    """

    eps_box: np.ndarray
    n_box: np.ndarray
    gmax_box: np.ndarray
    ratio_box: float
    eps_l2: np.ndarray
    n_l2: np.ndarray
    gmax_l2: np.ndarray
    ratio_l2: float
    n_train: int
    n_train_res: int
    eps_res: np.ndarray
    n_res: np.ndarray
    gmax_res: np.ndarray
    gmax_ls: np.ndarray
    ratio_res: np.ndarray
    ratio_ls: np.ndarray
    sqrt_energy: float

    def table(self) -> str:
        lines = [f"no training noise; max_k g_k for eps = {self.eps_box[0]:g} ... {self.eps_box[-1]:g} (box), "
                 f"{self.eps_l2[0]:g} ... {self.eps_l2[-1]:g} (L2):"]
        for n, row in zip(self.n_box, self.gmax_box):
            lines.append(f"  box (Gaussian), n = {n:5d}: " + ", ".join(f"{v:.3g}" for v in row))
        for n, row in zip(self.n_l2, self.gmax_l2):
            lines.append(f"  L2 ({self.n_train} samples), n = {n:3d}: " + ", ".join(f"{v:.3g}" for v in row))
        lines.append(f"largest eps ||g||_2 / sqrt(E||x||^2), box: {self.ratio_box:.3f} (at most 1)")
        lines.append(f"largest eps max_k g_k / sqrt(mean ||x||^2), L2: {self.ratio_l2:.3f} (at most 1)")
        mid = len(self.eps_res) // 2
        lines.append(f"eps max_k g_k / sqrt(mean ||x||^2), {self.n_train_res} noise-free samples:")
        lines.append(f"{'':>8}{'box, eps =':>10}" + " " * (10 * (len(self.eps_res) - 1)) + f"{'least squares,':>17}")
        lines.append(f"{'n':>8}" + "".join(f"{e:>10g}" for e in self.eps_res)
                     + f"{'eps = ' + format(self.eps_res[mid], 'g'):>17}")
        for n, row, ls in zip(self.n_res, self.ratio_res, self.ratio_ls[:, mid]):
            lines.append(f"{n:8d}" + "".join(f"{v:10.3f}" for v in row) + f"{ls:17.3g}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        mid = len(self.eps_res) // 2
        return [
            Check("ch5-stability-box",
                  "Box, no training noise: $\\varepsilon\\|g^\\varepsilon\\|_2 \\le (E\\|x\\|^2)^{1/2}$ (largest ratio "
                  f"over $\\varepsilon\\in[{self.eps_box[0]:g}, {self.eps_box[-1]:g}]$ and $n$ up to "
                  f"{int(self.n_box[-1])})",
                  self.ratio_box, 1.0, 0.0, kind="max", figure="fig-ch5-stability"),
            Check("ch5-stability-l2",
                  "L2 ball, no training noise: $\\varepsilon\\max_kg^\\varepsilon_k \\le (E\\|x\\|^2)^{1/2}$ on the "
                  "training samples (largest ratio)",
                  self.ratio_l2, 1.0, 1e-9, kind="max", figure="fig-ch5-stability"),
            Check("ch5-stability-resolution",
                  f"Box trained on {self.n_train_res} noise-free samples (sample solver): "
                  "$\\varepsilon\\max_kg_k \\le (\\text{mean}\\,\\|x\\|^2)^{1/2}$ at every resolution up to "
                  f"$n={int(self.n_res[-1])}$ (largest ratio)",
                  float(self.ratio_res.max()), 1.0, 1e-9, kind="max", figure="fig-ch5-stability"),
            Check("ch5-stability-ls-fails",
                  "Without the adversary, training on the same noise-free samples (least squares, the "
                  "pseudo-inverse) breaks that bound: $\\varepsilon\\max_kg_k/(\\text{mean}\\,\\|x\\|^2)^{1/2}$ at "
                  f"$n={int(self.n_res[-1])}$, $\\varepsilon={self.eps_res[mid]:g}$ exceeds 1",
                  float(self.ratio_ls[-1, mid]), 1.0, 0.0, kind="min", figure="fig-ch5-stability"),
        ]


def stability(rng: np.random.Generator, *, eps_box=None, n_box=(100, 1000, 10000), eps_l2=None, n_l2=(25, 50, 100),
              n_train: int = 50, eps_res=(1e-3, 1e-2, 1e-1), n_res=(100, 1000, 10000),
              n_train_res: int = 20) -> Stability:
    r"""Train without training noise on :math:`s_k=1/k`, :math:`\Pi_k=k^{-2}` and record :math:`\max_kg_k`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Streams ``"stability-l2"`` and ``"stability-resolution"``.
    eps_box, n_box : radii (default 1e-4 ... 1, 9 values) and resolutions of the Gaussian box filter.
    eps_l2, n_l2 : radii (default 1e-3 ... 1, 7 values) and resolutions of the L2 ball; the samples at
        a smaller n are the first modes of those at the largest.
    n_train : int
        Noise-free training samples of the L2 ball.
    eps_res, n_res : radii and resolutions of the box sample solver (nested samples).
    n_train_res : int
        Noise-free training samples of the box sample solver.
    """
    check_rng(rng)
    eps_box = np.logspace(-4, 0, 9) if eps_box is None else as_array(eps_box, "eps_box", ndim=1, positive=True)
    eps_l2 = np.logspace(-3, 0, 7) if eps_l2 is None else as_array(eps_l2, "eps_l2", ndim=1, positive=True)
    eps_res = as_array(eps_res, "eps_res", ndim=1, positive=True)
    n_box = np.array([check_int(n, "n_box", minimum=2, maximum=10**6) for n in n_box])
    n_l2 = np.array([check_int(n, "n_l2", minimum=2, maximum=2000) for n in n_l2])
    n_res = np.array([check_int(n, "n_res", minimum=2, maximum=10**5) for n in n_res])
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**4)
    n_train_res = check_int(n_train_res, "n_train_res", minimum=2, maximum=10**4)

    gmax_box = np.array([[adv.box_filter_noiseless(*power_law_model(1.0, 2.0, n), e).max() for e in eps_box]
                         for n in n_box])
    ratio_box = max(e * np.linalg.norm(adv.box_filter_noiseless(*power_law_model(1.0, 2.0, n), e))
                    / np.sqrt(np.sum(power_law_moments(n, 2.0))) for n in n_box for e in eps_box)

    s, Pi = power_law_model(1.0, 2.0, int(n_l2.max()))
    cx, cy = sample_coefficients(s, Pi, 0.0, n_train, substream(rng, "stability-l2"))
    gmax_l2, ratio_l2 = np.zeros((len(n_l2), len(eps_l2))), 0.0
    for i, n in enumerate(n_l2):
        root = np.sqrt(np.mean(np.sum(cx[:, :n] ** 2, axis=1)))
        for j, e in enumerate(eps_l2):
            gmax_l2[i, j] = adv.l2_filter(cx[:, :n], cy[:, :n], e).max()
            ratio_l2 = max(ratio_l2, e * gmax_l2[i, j] / root)

    s, Pi = power_law_model(1.0, 2.0, int(n_res.max()))
    cx, cy = sample_coefficients(s, Pi, 0.0, n_train_res, substream(rng, "stability-resolution"))
    gmax_res, gmax_ls = np.zeros((len(n_res), len(eps_res))), np.zeros(len(n_res))
    ratio_res, ratio_ls = np.zeros_like(gmax_res), np.zeros_like(gmax_res)
    for i, n in enumerate(n_res):
        root = np.sqrt(np.mean(np.sum(cx[:, :n] ** 2, axis=1)))
        gmax_ls[i] = empirical_filter(cx[:, :n], cy[:, :n]).max()
        for j, e in enumerate(eps_res):
            gmax_res[i, j] = adv.box_filter(cx[:, :n], cy[:, :n], e).max()
            ratio_res[i, j], ratio_ls[i, j] = e * gmax_res[i, j] / root, e * gmax_ls[i] / root
    return Stability(eps_box=eps_box, n_box=n_box, gmax_box=gmax_box, ratio_box=float(ratio_box), eps_l2=eps_l2,
                     n_l2=n_l2, gmax_l2=gmax_l2, ratio_l2=float(ratio_l2), n_train=n_train, n_train_res=n_train_res, eps_res=eps_res,
                     n_res=n_res, gmax_res=gmax_res, gmax_ls=gmax_ls, ratio_res=ratio_res, ratio_ls=ratio_ls,
                     sqrt_energy=float(np.sqrt(zeta(2.0, 1))))


# ---------------------------------------------------------------------------
# 4. Convergence: the box adversary under white noise
# ---------------------------------------------------------------------------

#: Fit window of the box rate (decades of delta), fixed by the theory: the cut-off
#: N = (c delta)^(-1/2) from about 10 to about n/10 at n = 3200.
BOX_FIT_WINDOW = (-5.0, -2.0)
#: Windows shown beside it: three decades shifted by one decade either way.
BOX_ALTERNATIVE_WINDOWS = ((-6.0, -3.0), (-4.0, -1.0))


def _in_window(deltas, window):
    lo, hi = 10.0 ** window[0], 10.0 ** window[1]
    return (deltas >= lo * (1 - 1e-9)) & (deltas <= hi * (1 + 1e-9))


@dataclass(frozen=True)
class BoxRules:
    """Box adversary, no training noise, tested under white noise: four rules, three resolutions.

    Attributes
    ----------
    a, b : float
    deltas : ndarray, shape (m,)
        Ascending noise levels.
    n_res : ndarray
        Resolutions.
    errors : dict
        ``(n, rule) -> ndarray (m,)``: the exact risk, plus the part of x beyond the n modes.
    simulated, stderr : dict
        ``(n, rule) -> ndarray (m,)``: mean squared error on ``n_test`` sampled signals and noises (the same
        draws at every resolution, rule and delta), and its standard error.
    bounds : dict
        ``(n, rule) -> ndarray (m,)``: :math:`\\max(1,\\delta^2/\\varepsilon^2)M_n(\\varepsilon)`.
    mse : ndarray
        Risk of the MSE filter at the largest resolution.
    slope, window_slopes, slope_fixed : float, tuple, float
    """

    a: float
    b: float
    deltas: np.ndarray
    n_res: np.ndarray
    n_test: int
    errors: dict
    simulated: dict
    stderr: dict
    bounds: dict
    mse: np.ndarray
    slope: float
    window_slopes: tuple
    slope_fixed: float

    @property
    def bound_ratio(self) -> float:
        """Largest error over the bound, over rules, resolutions and delta."""
        return float(max(np.max(self.errors[k] / self.bounds[k]) for k in self.errors))

    @property
    def largest_z(self) -> float:
        """Largest absolute difference, simulated minus exact, in standard errors."""
        return float(max(np.max(np.abs(self.simulated[k] - self.errors[k]) / self.stderr[k]) for k in self.errors))

    @property
    def resolution_increase(self) -> float:
        """Rule eps = delta, simulated: largest relative increase of the error from one resolution to the next."""
        out = -np.inf
        for n0, n1 in zip(self.n_res[:-1], self.n_res[1:]):
            out = max(out, float(np.max(self.simulated[n1, "linear"] / self.simulated[n0, "linear"] - 1)))
        return out

    def growth(self, rule: str, delta: float) -> float:
        """Simulated error at the largest resolution over that at the smallest, at ``delta``."""
        i = int(np.argmin(np.abs(np.log(self.deltas / delta))))
        return float(self.simulated[self.n_res[-1], rule][i] / self.simulated[self.n_res[0], rule][i])

    def table(self) -> str:
        shown = [i for i, d in enumerate(self.deltas) if abs(np.log10(d) - round(np.log10(d))) < 1e-9][::-1][:5]
        n = self.n_res[-1]
        lines = [f"s_k = k^-{self.a:g}, Pi_k = k^-{self.b:g}, no training noise; white-noise error, n = {n}:",
                 f"{'delta':>18}" + "".join(f"{self.deltas[i]:>11g}" for i in shown)]
        for what, table in (("exact risk", self.errors), (f"simulated ({self.n_test} samples)", self.simulated)):
            lines.append(f"  {what}:")
            for rule, (label, _) in RULES.items():
                lines.append(f"{label:>18}" + "".join(f"{table[n, rule][i]:11.3g}" for i in shown))
        lines.append(f"eps = delta: fitted slope {self.slope:.3f} over delta in [1e{BOX_FIT_WINDOW[0]:g}, "
                     f"1e{BOX_FIT_WINDOW[1]:g}] (theory {2 * (self.b - 1) / (2 * self.a + self.b):.3f})")
        lines.append("  other windows: " + ", ".join(f"{s:.3f} over [1e{lo:g}, 1e{hi:g}]"
                                                    for (lo, hi), s in zip(BOX_ALTERNATIVE_WINDOWS, self.window_slopes)))
        lines.append(f"eps fixed: fitted slope {self.slope_fixed:.3f}")
        res = ", ".join(str(int(k)) for k in self.n_res)
        lines.append(f"simulated error at n = {res}:")
        i_small = 0
        lines.append(f"  eps = delta,   delta = {self.deltas[i_small]:g}: " + ", ".join(
            f"{self.simulated[k, 'linear'][i_small]:.3g}" for k in self.n_res))
        j = int(np.argmin(np.abs(np.log(self.deltas / 1e-3))))
        lines.append(f"  eps = delta^2, delta = {self.deltas[j]:g}: " + ", ".join(
            f"{self.simulated[k, 'square'][j]:.3g}" for k in self.n_res))
        lines.append(f"largest error / bound of the proposition: {self.bound_ratio:.3f}")
        lines.append(f"largest |simulated - exact| in standard errors: {self.largest_z:.2f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        rate = 2 * (self.b - 1) / (2 * self.a + self.b)
        return [
            Check("ch5-box-rate",
                  "Box, $\\varepsilon=\\delta$, no training noise: fitted slope of the white-noise error "
                  f"($n={int(self.n_res[-1])}$, $\\delta\\in[10^{{{BOX_FIT_WINDOW[0]:g}}}, 10^{{{BOX_FIT_WINDOW[1]:g}}}]$) "
                  "is $2(b-1)/(2a+b)$",
                  self.slope, rate, 0.05, figure="fig-ch5-box-rules"),
            Check("ch5-box-resolution",
                  "Box, $\\varepsilon=\\delta$: the simulated white-noise error does not grow when the resolution is "
                  f"refined ($n = {', '.join(str(int(k)) for k in self.n_res)}$, every $\\delta$; largest relative "
                  "increase)",
                  self.resolution_increase, 0.0, 0.02, kind="max", figure="fig-ch5-box-rules"),
            Check("ch5-box-bound",
                  "Box: error $\\le\\max(1,\\delta^2/\\varepsilon^2)\\,M_n(\\varepsilon)$ for every rule, resolution "
                  "and $\\delta$ (largest ratio)",
                  self.bound_ratio, 1.0, 1e-12, kind="max", figure="fig-ch5-box-rules"),
            Check("ch5-box-simulated",
                  "The simulated errors (sampled signals and white noise) agree with the exact risk for every rule, "
                  "resolution and $\\delta$ (largest difference in standard errors)",
                  self.largest_z, 4.0, 0.0, kind="max", figure="fig-ch5-box-rules"),
            Check("ch5-box-fixed-stalls",
                  "Box, $\\varepsilon$ fixed: the error stalls (fitted slope over the same window is 0; the "
                  "converging rule's slope is 0.5)",
                  self.slope_fixed, 0.0, 0.05, figure="fig-ch5-box-rules"),
            Check("ch5-box-eps-delta2",
                  "Box, $\\varepsilon=\\delta^2$: at $\\delta=10^{-3}$ the simulated error grows with the resolution, "
                  f"$n={int(self.n_res[-1])}$ over $n={int(self.n_res[0])}$ (at least 10-fold)",
                  self.growth("square", 1e-3), 10.0, 0.0, kind="min", figure="fig-ch5-box-rules"),
        ]


def box_rules(rng: np.random.Generator, *, a: float = 1.0, b: float = 2.0, deltas=None, n_res=(200, 800, 3200),
              n_test: int = 200) -> BoxRules:
    r"""Train the box adversary without noise under four rules :math:`\varepsilon(\delta)`; test under white noise.

    At resolution n the filter has n coefficients; the error counts the part of x
    beyond them, :math:`\sum_{k>n}\Pi_k`, so that every resolution measures the same
    quantity. The simulation draws ``n_test`` signals and white noises at the largest
    resolution (stream ``"box-rules-test"``), the same for every rule, resolution and
    delta; the part beyond the largest resolution is added in closed form.

    Parameters
    ----------
    rng : numpy.random.Generator
    a, b : float
        :math:`s_k = k^{-a}`, :math:`\Pi_k = k^{-b}`.
    deltas : array_like, optional
        Noise levels (default :math:`10^{-6}\dots10^{-1}`, two per decade).
    n_res : sequence of int
        Resolutions.
    n_test : int
        Simulated samples.
    """
    check_rng(rng)
    a = check_real(a, "a", positive=True)
    b = check_real(b, "b", minimum=1.0 + 1e-9)
    deltas = np.logspace(-6, -1, 11) if deltas is None else np.sort(as_array(deltas, "deltas", ndim=1, positive=True))
    if deltas.shape[0] < 3:
        raise ValueError(f"deltas must hold at least 3 noise levels, got {deltas.shape[0]}")
    n_res = np.array(sorted(check_int(n, "n_res", minimum=2, maximum=10**5) for n in n_res))
    n_test = check_int(n_test, "n_test", minimum=2, maximum=10**5)
    n_max = int(n_res[-1])
    s, Pi = power_law_model(a, b, n_max)
    k = np.arange(1, n_max + 1, dtype=float)
    tail_T = zeta(b, k + 1)  # T_N = sum_{k > N} Pi_k, N = 1..n_max
    inv_s2 = np.cumsum(s**-2.0)

    r = substream(rng, "box-rules-test")
    cx = r.standard_normal((n_test, n_max)) * np.sqrt(Pi)
    noise = r.standard_normal((n_test, n_max))
    beyond = np.cumsum((cx**2)[:, ::-1], axis=1)[:, ::-1]  # beyond[:, j] = sum_{k > j} x_k^2 (0-based, from j)
    far = float(zeta(b, n_max + 1))

    errors, simulated, stderr, bounds = {}, {}, {}, {}
    for n in n_res:
        tail_n = float(zeta(b, n + 1))
        rest = beyond[:, n] if n < n_max else np.zeros(n_test)
        for rule in RULES:
            e_list, s_list, se_list, b_list = [], [], [], []
            for d in deltas:
                eps = rule_radius(rule, d)
                g = adv.box_filter_noiseless(s[:n], Pi[:n], eps)
                e_list.append(risk(s[:n], g, Pi[:n], d**2).total + tail_n)
                res = g * (s[:n] * cx[:, :n] + d * noise[:, :n]) - cx[:, :n]
                m, se = _mc(np.sum(res**2, axis=1) + rest)
                s_list.append(m + far)
                se_list.append(se)
                b_list.append(max(1.0, d**2 / eps**2) * np.min((tail_T + eps**2 * inv_s2)[:n]))
            errors[n, rule], simulated[n, rule] = np.array(e_list), np.array(s_list)
            stderr[n, rule], bounds[n, rule] = np.array(se_list), np.array(b_list)
    mse = np.array([optimal_risk(s, Pi, d**2) + far for d in deltas])

    def slope(rule, window):  # NaN (a failed claim) where the noise levels do not cover the window
        sel = _in_window(deltas, window)
        return fit_rate(deltas[sel], errors[n_max, rule][sel]).slope if sel.sum() >= 3 else float("nan")

    return BoxRules(a=a, b=b, deltas=deltas, n_res=n_res, n_test=n_test, errors=errors, simulated=simulated,
                    stderr=stderr, bounds=bounds, mse=mse, slope=slope("linear", BOX_FIT_WINDOW),
                    window_slopes=tuple(slope("linear", w) for w in BOX_ALTERNATIVE_WINDOWS),
                    slope_fixed=slope("fixed", BOX_FIT_WINDOW))


# ---------------------------------------------------------------------------
# 5. The L2-ball adversary: deterministic and white noise
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class L2Rules:
    """L2-ball adversary, no training noise, tested against worst-case deterministic noise and white noise.

    Attributes
    ----------
    deltas : ndarray
        Ascending noise levels.
    n_res : ndarray
    det_test, det_train, bounds, white : dict
        ``(n, rule) -> ndarray``: mean worst-case error over :math:`\\|e\\|\\le\\delta` on held-out and
        training samples, the bound :math:`((1+\\delta/\\varepsilon)m(\\varepsilon))^2` on the training
        samples, and the white-noise risk (plus the part of x beyond n).
    white_box : dict
        ``n -> ndarray``: white-noise risk of the box filter with the same rule :math:`\\varepsilon=\\delta`.
    slopes : dict
        ``rule -> fitted slope`` of the held-out worst-case error at the largest n.
    """

    b: float
    deltas: np.ndarray
    n_res: np.ndarray
    n_train: int
    n_test: int
    det_test: dict
    det_train: dict
    bounds: dict
    white: dict
    white_box: dict
    slopes: dict

    @property
    def bound_ratio(self) -> float:
        return float(max(np.max(self.det_train[k] / self.bounds[k]) for k in self.det_train))

    def _ratio(self, table, rule=None):
        lo, hi = self.n_res[0], self.n_res[-1]
        if rule is None:
            return float(table[hi][0] / table[lo][0])
        return float(table[hi, rule][0] / table[lo, rule][0])

    def table(self) -> str:
        n = self.n_res[-1]
        lines = [f"L2 ball trained on {self.n_train} noise-free samples; worst case over",
                 f"||e|| <= delta, mean over {self.n_test} held-out samples, n = {n}:",
                 f"{'delta':>18}" + "".join(f"{d:>10.3g}" for d in self.deltas[::-1]) + f"{'slope':>7}"]
        for rule, (label, _) in RULES.items():
            lines.append(f"{label:>18}" + "".join(f"{v:10.3g}" for v in self.det_test[n, rule][::-1])
                         + f"{self.slopes[rule]:7.2f}")
        d0, ns = self.deltas[0], ", ".join(str(int(k)) for k in self.n_res)
        lines.append(f"eps = delta^2, delta = {d0:g}, n = {ns}: "
                     + ", ".join(f"{self.det_test[k, 'square'][0]:.3g}" for k in self.n_res))
        lines.append(f"white noise, eps = delta = {d0:g}, n = {ns}:")
        lines.append("  L2-trained error " + ", ".join(f"{self.white[k, 'linear'][0]:.3g}" for k in self.n_res)
                     + "; box-trained " + ", ".join(f"{self.white_box[k][0]:.3g}" for k in self.n_res))
        lines.append(f"largest (training) worst-case error / bound: {self.bound_ratio:.3f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        lo, hi, d0 = int(self.n_res[0]), int(self.n_res[-1]), self.deltas[0]
        rate = 2 * (self.b - 1) / (2 + self.b - 1)
        return [
            Check("ch5-l2-det-bound",
                  "L2 ball, deterministic noise: the root worst-case error is at most "
                  "$(1+\\delta/\\varepsilon)\\,m(\\varepsilon)$ on the training samples (largest ratio of squares)",
                  self.bound_ratio, 1.0, 1e-9, kind="max", figure="fig-ch5-l2-rules"),
            Check("ch5-l2-det-converges",
                  "L2 ball, $\\varepsilon=\\delta$: the held-out worst-case error decreases at least like the bound's "
                  f"rate $\\delta^{{2(b-1)/(2a+b-1)}}$ (fitted slope, $n={hi}$)",
                  self.slopes["linear"], rate, 0.05, kind="min", figure="fig-ch5-l2-rules"),
            Check("ch5-l2-det-eps-delta2",
                  f"L2 ball, $\\varepsilon=\\delta^2$: at $\\delta={d0:g}$ the worst-case error grows with the "
                  f"resolution, $n={hi}$ over $n={lo}$ (at least 4-fold)",
                  self._ratio(self.det_test, "square"), 4.0, 0.0, kind="min", figure="fig-ch5-l2-rules"),
            Check("ch5-l2-white-grows",
                  f"L2 ball against white noise, $\\varepsilon=\\delta={d0:g}$: the error grows with the resolution, "
                  f"$n={hi}$ over $n={lo}$ (at least 2-fold)",
                  self._ratio(self.white, "linear"), 2.0, 0.0, kind="min", figure="fig-ch5-l2-rules"),
            Check("ch5-box-white-flat",
                  f"Box against white noise, $\\varepsilon=\\delta={d0:g}$: resolving more modes does not increase "
                  f"the error, $n={hi}$ over $n={lo}$ (ratio $\\le 1$)",
                  self._ratio(self.white_box), 1.0, 0.0, kind="max", figure="fig-ch5-l2-rules"),
        ]


def l2_rules(rng: np.random.Generator, *, b: float = 2.0, deltas=None, n_res=(25, 50, 100), n_train: int = 50,
             n_test: int = 400) -> L2Rules:
    r"""Train the L2 ball exactly on noise-free samples of :math:`s_k=1/k`, :math:`\Pi_k=k^{-b}`, for four rules.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream ``"l2-rules"`` (training and held-out samples, nested across resolutions).
    b : float
    deltas : array_like, optional
        Noise levels (default :math:`10^{-3}\dots10^{-1}`, five values).
    n_res : sequence of int
    n_train, n_test : int
    """
    check_rng(rng)
    b = check_real(b, "b", minimum=1.0 + 1e-9)
    deltas = np.logspace(-3, -1, 5) if deltas is None else np.sort(as_array(deltas, "deltas", ndim=1, positive=True))
    if deltas.shape[0] < 3:
        raise ValueError(f"deltas must hold at least 3 noise levels, got {deltas.shape[0]}")
    n_res = np.array(sorted(check_int(n, "n_res", minimum=2, maximum=2000) for n in n_res))
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**4)
    n_test = check_int(n_test, "n_test", minimum=1, maximum=10**5)
    s_all, Pi_all = power_law_model(1.0, b, int(n_res[-1]))
    r = substream(rng, "l2-rules")
    cx_all, _ = sample_coefficients(s_all, Pi_all, 0.0, n_train, r)
    cxt_all, _ = sample_coefficients(s_all, Pi_all, 0.0, n_test, r)
    det_test, det_train, bounds, white, white_box = {}, {}, {}, {}, {}
    for n in n_res:
        s, Pi, cx, cxt = s_all[:n], Pi_all[:n], cx_all[:, :n], cxt_all[:, :n]
        cy, cyt = s * cx, s * cxt
        tail = float(zeta(b, n + 1))
        T_hat = np.concatenate([np.cumsum(np.mean(cx**2, axis=0)[::-1])[::-1][1:], [0.0]])  # mean sum_{k>N} x_k^2
        fitted = {}
        for rule in RULES:
            te, tr, bd, wn = [], [], [], []
            for d in deltas:
                e = rule_radius(rule, d)
                key = float(f"{e:.12g}")
                if key not in fitted:
                    fitted[key] = adv.l2_filter(cx, cy, e)
                g = fitted[key]
                te.append(np.mean(adv.worst_case_errors(g, cxt, cyt, d, "l2")))
                tr.append(np.mean(adv.worst_case_errors(g, cx, cy, d, "l2")))
                bd.append(((1 + d / e) * np.min(np.sqrt(T_hat) + e / s)) ** 2)
                wn.append(risk(s, g, Pi, d**2).total + tail)
            det_test[n, rule], det_train[n, rule] = np.array(te), np.array(tr)
            bounds[n, rule], white[n, rule] = np.array(bd), np.array(wn)
        white_box[n] = np.array([risk(s, adv.box_filter_noiseless(s, Pi, d), Pi, d**2).total + tail for d in deltas])
    slopes = {rule: fit_rate(deltas, det_test[n_res[-1], rule]).slope for rule in RULES}
    return L2Rules(b=b, deltas=deltas, n_res=n_res, n_train=n_train, n_test=n_test, det_test=det_test,
                   det_train=det_train, bounds=bounds, white=white, white_box=white_box, slopes=slopes)


# ---------------------------------------------------------------------------
# 6. Robustness against accuracy
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pareto:
    """Clean risk against worst-case risk along box-adversarial filters trained with several radii.

    Attributes
    ----------
    eps_test : float
    eps_train : ndarray
        Training radii (the first is 0: the MSE filter).
    n, n_mc : int
        Resolution of the integration operator and Monte-Carlo samples.
    integration : ndarray, shape (len(eps_train), 2)
        Gaussian closed form: clean risk and worst-case risk at ``eps_test``.
    integration_mc, integration_se : ndarray, shape (len(eps_train), 2)
        The same by Monte Carlo on ``n_mc`` sampled pairs (worst case per sample), and standard errors.
    radon_train, radon_test : ndarray, shape (len(eps_train), 2)
        Radon: clean and worst-case risk on the training phantoms and on held-out phantoms.
    """

    eps_test: float
    eps_train: np.ndarray
    n: int
    n_mc: int
    integration: np.ndarray
    integration_mc: np.ndarray
    integration_se: np.ndarray
    radon_n: int
    radon_sizes: tuple
    radon_train: np.ndarray
    radon_test: np.ndarray

    @property
    def matched(self) -> int:
        """Index of the filter trained with the test radius."""
        return int(np.argmin(np.abs(self.eps_train - self.eps_test)))

    @property
    def largest_z(self) -> float:
        return float(np.max(np.abs(self.integration_mc - self.integration) / self.integration_se))

    def margins(self, P) -> tuple[float, float]:
        """Relative margins by which the MSE filter has the least clean risk and the matched filter the least worst case."""
        others = np.arange(len(P)) != 0
        others_m = np.arange(len(P)) != self.matched
        return (float(np.min(P[others, 0] / P[0, 0] - 1)), float(np.min(P[others_m, 1] / P[self.matched, 1] - 1)))

    def table(self) -> str:
        i = self.matched
        lines = [f"{'box attack, eps_test = ' + format(self.eps_test, 'g'):<32}{'MSE filter':>18}"
                 f"{'trained at eps_test':>22}",
                 f"{'':>32}{'clean':>9}{'worst':>9}{'clean':>13}{'worst':>9}"]
        for name, P in (("integration, closed form", self.integration),
                        (f"integration, Monte Carlo ({self.n_mc})", self.integration_mc),
                        (f"Radon, {self.radon_sizes[0]} training phantoms", self.radon_train),
                        (f"Radon, {self.radon_sizes[1]} held-out phantoms", self.radon_test)):
            lines.append(f"{name:>32}{P[0, 0]:9.4g}{P[0, 1]:9.4g}{P[i, 0]:13.4g}{P[i, 1]:9.4g}")
        (a, b), (c, d) = self.margins(self.integration), self.margins(self.radon_train)
        lines.append("relative margins on the training distribution (>= 0 by construction),")
        lines.append(f"clean and worst case: integration {a:.3g}, {b:.3g}; Radon {c:.3g}, {d:.3g}")
        lines.append(f"largest |Monte Carlo - closed form|, in standard errors: {self.largest_z:.2f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        i = self.matched
        return [
            Check("ch5-pareto-int-simulated",
                  "Integration: the Gaussian closed forms of the clean and the worst-case risk agree with Monte "
                  f"Carlo on {self.n_mc} sampled pairs along the whole curve (largest difference in standard errors)",
                  self.largest_z, 4.0, 0.0, kind="max", figure="fig-ch5-pareto"),
            Check("ch5-pareto-radon-test",
                  "Radon, held-out phantoms: the filter trained at $\\varepsilon_{\\rm test}$ has the smaller "
                  "worst-case risk than the MSE filter (ratio below 1)",
                  self.radon_test[i, 1] / self.radon_test[0, 1], 1.0, 0.0, kind="max", type="expectation",
                  figure="fig-ch5-pareto"),
            Check("ch5-pareto-radon-test-clean",
                  "Radon, held-out phantoms: the MSE filter keeps the smaller clean risk (clean risk of the filter "
                  "trained at $\\varepsilon_{\\rm test}$ over the MSE filter's, above 1)",
                  self.radon_test[i, 0] / self.radon_test[0, 0], 1.0, 0.0, kind="min", type="expectation",
                  figure="fig-ch5-pareto"),
        ]


def pareto(rng: np.random.Generator, *, eps_test: float = 1e-2, n: int = 128, delta: float = 1e-2,
           n_mc: int = 20_000, radon_n: int = 16, n_train: int = 600, n_test: int = 300) -> Pareto:
    r"""Trace clean risk against worst-case risk (box, radius ``eps_test``) for training radii 0 to 4 ``eps_test``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Streams ``"pareto-integration"``, ``"pareto-radon-train"``, ``"pareto-radon-test"``.
    eps_test : float
        Radius of the test attack.
    n, delta : int, float
        Integration operator (:math:`\Pi_k = k^{-2}`) and its training and test noise.
    n_mc : int
        Monte-Carlo samples of the integration check.
    radon_n, n_train, n_test : int
        Radon image size and the numbers of training and held-out ellipse phantoms (noise ``delta``).
    """
    check_rng(rng)
    eps_test = check_real(eps_test, "eps_test", positive=True)
    n = check_int(n, "n", minimum=4, maximum=4096)
    delta = check_real(delta, "delta", positive=True)
    n_mc = check_int(n_mc, "n_mc", minimum=10, maximum=10**6)
    radon_n = check_int(radon_n, "radon_n", minimum=4, maximum=32)
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**5)
    n_test = check_int(n_test, "n_test", minimum=1, maximum=10**5)
    eps_train = np.concatenate([[0.0], np.linspace(0.25, 4, 16) * eps_test])

    svd = Integration(n).svd()
    s, Pi = svd.s, power_law_moments(svd.rank, 2.0)
    cx, cy = sample_coefficients(s, Pi, delta**2, n_mc, substream(rng, "pareto-integration"))
    closed, mc, se = np.zeros((len(eps_train), 2)), np.zeros((len(eps_train), 2)), np.zeros((len(eps_train), 2))
    for i, e in enumerate(eps_train):
        g = adv.box_filter_gaussian(s, Pi, delta**2, e)
        closed[i] = risk(s, g, Pi, delta**2).total, adv.box_objective_gaussian(s, g, Pi, delta**2, eps_test)
        (mc[i, 0], se[i, 0]), (mc[i, 1], se[i, 1]) = (
            _mc(np.sum((g * cy - cx) ** 2, axis=1)), _mc(adv.worst_case_errors(g, cx, cy, eps_test, "box")))

    op = Radon(radon_n)
    rsvd = op.svd()

    def coefficients(K, name):
        r = substream(rng, name)
        X = ellipse_phantoms(radon_n, K, r).reshape(K, -1)
        Y = op.apply(X) + white_noise(op.weights_y, delta, K, r)
        return rsvd.coefficients_x(X), rsvd.coefficients_y(Y)

    train, test = coefficients(n_train, "pareto-radon-train"), coefficients(n_test, "pareto-radon-test")
    out = {"train": np.zeros((len(eps_train), 2)), "test": np.zeros((len(eps_train), 2))}
    for i, e in enumerate(eps_train):
        g = adv.box_filter(*train, e)
        for key, (cx_, cy_) in (("train", train), ("test", test)):
            out[key][i] = (np.mean(np.sum((g * cy_ - cx_) ** 2, axis=1)),
                           np.mean(adv.worst_case_errors(g, cx_, cy_, eps_test, "box")))
    return Pareto(eps_test=eps_test, eps_train=eps_train, n=n, n_mc=n_mc, integration=closed, integration_mc=mc,
                  integration_se=se, radon_n=radon_n, radon_sizes=(n_train, n_test), radon_train=out["train"],
                  radon_test=out["test"])


# ---------------------------------------------------------------------------
# 7. PGD adversarial training against the exact solution
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PGDComparison:
    """Generic PGD adversarial training against the exact solvers, for both adversaries.

    Attributes
    ----------
    s : ndarray
    eps, delta : float
    exact : dict
        ``adversary -> exact filter``.
    pgd : dict
        ``adversary -> learnreg.adversarial.PGDTrainingResult``.
    optimum : dict
        ``adversary -> exact optimum of the empirical objective``.
    gap, coefficient_error : dict
        Relative objective gap and relative coefficient error of PGD.
    """

    s: np.ndarray
    eps: float
    delta: float
    n_train: int
    outer_steps: int
    inner_steps: int
    exact: dict
    pgd: dict
    optimum: dict
    gap: dict
    coefficient_error: dict

    def table(self) -> str:
        lines = [f"{len(self.s)} modes, {self.n_train} samples, eps = delta = {self.eps:g};",
                 f"PGD: {self.outer_steps} outer steps of {self.inner_steps} inner steps"]
        for which in adv.ADVERSARIES:
            lines.append(f"{which:>5}: objective gap {self.gap[which]:.1e}, coefficient error "
                         f"{self.coefficient_error[which]:.1e}, {self.pgd[which].gradient_evaluations} gradients")
        lines.append("(gradients: evaluations on the full batch)")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        out = []
        for which in adv.ADVERSARIES:
            out.append(Check(f"ch5-pgd-{which}-objective",
                             f"PGD adversarial training ({which}) reaches the exact optimum within $10^{{-3}}$ "
                             "(relative objective gap)",
                             self.gap[which], 0.0, 1e-3, kind="max", type="expectation", figure="fig-ch5-pgd",
                             precision=2))
        for which in adv.ADVERSARIES:
            out.append(Check(f"ch5-pgd-{which}-coefficients",
                             f"PGD adversarial training ({which}) reaches the exact coefficients within "
                             "$3\\cdot10^{-2}$ (relative error)",
                             self.coefficient_error[which], 0.0, 3e-2, kind="max", type="expectation",
                             figure="fig-ch5-pgd", precision=2))
        return out


def pgd_comparison(rng: np.random.Generator, *, n: int = 32, n_train: int = 300, eps: float = 0.05,
                   delta: float = 0.05, outer_steps: int = 1500, inner_steps: int = 10,
                   record_every: int = 25) -> PGDComparison:
    r"""Train with PGD (inner projected gradient ascent, outer Adam steps) and exactly, on the same samples.

    Parameters
    ----------
    rng : numpy.random.Generator
        Streams ``"pgd-samples"`` and ``"pgd-training"``.
    n, n_train : int
        Modes of :math:`s_k=1/k`, :math:`\Pi_k=k^{-2}`, and training samples.
    eps, delta : float
        Attack radius and training noise.
    outer_steps, inner_steps, record_every : int
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=1, maximum=4096)
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**5)
    eps = check_real(eps, "eps", positive=True)
    delta = check_real(delta, "delta", nonnegative=True)
    outer_steps = check_int(outer_steps, "outer_steps", minimum=1, maximum=10**6)
    inner_steps = check_int(inner_steps, "inner_steps", minimum=1, maximum=1000)
    record_every = check_int(record_every, "record_every", minimum=1, maximum=10**6)
    s, Pi = power_law_model(1.0, 2.0, n)
    cx, cy = sample_coefficients(s, Pi, delta**2, n_train, substream(rng, "pgd-samples"))
    r = substream(rng, "pgd-training")
    exact, pgd, optimum, gap, coef = {}, {}, {}, {}, {}
    for which in adv.ADVERSARIES:
        exact[which] = adv.box_filter(cx, cy, eps) if which == "box" else adv.l2_filter(cx, cy, eps)
        pgd[which] = adv.pgd_training(cx, cy, eps, which, rng=r, outer_steps=outer_steps, inner_steps=inner_steps,
                                      record_every=record_every)
        optimum[which] = float(np.mean(adv.worst_case_errors(exact[which], cx, cy, eps, which)))
        gap[which] = float(np.mean(adv.worst_case_errors(pgd[which].g, cx, cy, eps, which)) / optimum[which] - 1)
        coef[which] = float(np.linalg.norm(pgd[which].g - exact[which]) / np.linalg.norm(exact[which]))
    return PGDComparison(s=s, eps=eps, delta=delta, n_train=n_train, outer_steps=outer_steps, inner_steps=inner_steps,
                         exact=exact, pgd=pgd, optimum=optimum, gap=gap, coefficient_error=coef)


# ---------------------------------------------------------------------------
# 8. Explainability: the component-wise Tikhonov parameters
# ---------------------------------------------------------------------------

#: A mode counts as switched off (inverted exactly) when the minimiser's filter factor is within this of 0 (of 1).
REGIME_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Explain:
    """Explaining Tikhonov parameters :math:`\\alpha_k = s_k/g_k - s_k^2` of the learned filters (integration).

    Attributes
    ----------
    s, Pi : ndarray
    delta, eps : float
    alpha_mse, alpha_box, alpha_box0, alpha_l2 : ndarray
        MSE filter; box (Gaussian, training noise delta); box without training noise; L2 ball (samples).
    factors_box0 : ndarray
        Filter factors :math:`s_kg_k` of the box filter without training noise.
    eps_sweep : ndarray
        Radii of the regime check.
    numerical_noisy, numerical_noiseless : ndarray, shape (len(eps_sweep), r)
        Filter factors minimising each mode's objective, found by golden-section search (no rule imposed),
        with training noise delta and without.
    package_noisy, package_noiseless : ndarray, shape (len(eps_sweep), r)
        The same from the package's solvers (:func:`learnreg.adversarial.box_filter_gaussian`,
        :func:`~learnreg.adversarial.box_filter_noiseless`).
    """

    s: np.ndarray
    Pi: np.ndarray
    delta: float
    eps: float
    n_l2: int
    alpha_mse: np.ndarray
    alpha_box: np.ndarray
    alpha_box0: np.ndarray
    alpha_l2: np.ndarray
    factors_box0: np.ndarray
    eps_sweep: np.ndarray
    numerical_noisy: np.ndarray
    numerical_noiseless: np.ndarray
    package_noisy: np.ndarray
    package_noiseless: np.ndarray

    @property
    def beta(self) -> np.ndarray:
        """Signal strength in the data, :math:`\\beta_k = s_k\\sqrt{\\Pi_k}`."""
        return self.s * np.sqrt(self.Pi)

    @property
    def margin(self) -> float:
        """Smallest absolute value of log(beta_k / threshold) over modes, radii and both thresholds (how clear each case is)."""
        e = self.eps_sweep[:, None]
        return float(min(np.min(np.abs(np.log(self.beta / (C_ABS * e)))), np.min(np.abs(np.log(self.beta * C_ABS / e)))))

    def _mismatch(self, numerical, target, predicted) -> int:
        return int(np.sum((np.abs(numerical - target) <= REGIME_TOLERANCE) != predicted))

    @property
    def cutoff_mismatches(self) -> int:
        """Cases (radii x modes, with and without training noise) where the numerical minimiser's switch-off
        disagrees with the rule or with the package's filter."""
        off = self.beta[None, :] <= C_ABS * self.eps_sweep[:, None]
        out = 0
        for num, pkg in ((self.numerical_noisy, self.package_noisy), (self.numerical_noiseless, self.package_noiseless)):
            out += self._mismatch(num, 0.0, off) + self._mismatch(num, 0.0, pkg == 0)
        return out

    @property
    def inversion_mismatches(self) -> int:
        """Cases (radii x modes, no training noise) where the numerical minimiser's exact inversion disagrees
        with the rule or with the package's filter."""
        strong = self.beta[None, :] >= self.eps_sweep[:, None] / C_ABS
        inverted = np.abs(self.package_noiseless - 1) <= REGIME_TOLERANCE
        return self._mismatch(self.numerical_noiseless, 1.0, strong) + self._mismatch(self.numerical_noiseless, 1.0,
                                                                                       inverted)

    @property
    def box_margin(self) -> float:
        """Smallest relative excess of the box's alpha over the MSE filter's (where both are finite)."""
        fin = np.isfinite(self.alpha_box)
        return float(np.min((self.alpha_box[fin] - self.alpha_mse[fin]) / self.alpha_mse[fin]))

    def table(self) -> str:
        off = int(np.sum(~np.isfinite(self.alpha_box)))
        n_off = np.sum(np.abs(self.numerical_noisy) <= REGIME_TOLERANCE, axis=1)
        n_inv = np.sum(np.abs(self.numerical_noiseless - 1) <= REGIME_TOLERANCE, axis=1)
        on = self.beta[None, :] > C_ABS * self.eps_sweep[:, None]
        partial = self.beta[None, :] < self.eps_sweep[:, None] / C_ABS
        finite = self.alpha_l2[np.isfinite(self.alpha_l2)]
        lines = [
            f"integration, n = {len(self.s)}, Pi_k = k^-2, delta = {self.delta:g}, eps = {self.eps:g}:",
            f"  box: min_k (alpha_adv - alpha_MSE) / alpha_MSE = {self.box_margin:.3f},",
            f"       {off} modes switched off",
            f"  L2 ball ({self.n_l2} samples): alpha_k from {finite.min():.2e} to {finite.max():.2e}",
            "golden-section minimiser of each mode's objective, no rule imposed:",
            f"{'eps':>10}{'off (noisy)':>13}{'rule':>6}{'inverted (no noise)':>21}{'rule':>6}",
        ]
        for j, ej in enumerate(self.eps_sweep):
            lines.append(f"{ej:10.3g}{int(n_off[j]):13d}{int(np.sum(self.beta <= C_ABS * ej)):6d}"
                         f"{int(n_inv[j]):21d}{int(np.sum(self.beta >= ej / C_ABS)):6d}")
        lines.append(f"closest beta_k to a threshold: {100 * (np.exp(self.margin) - 1):.2g} % away")
        lines.append("smallest filter factor of a mode the rule keeps on: "
                     f"{np.min(np.abs(self.numerical_noisy[on])):.2g} (noisy),")
        lines.append(f"  {np.min(np.abs(self.numerical_noiseless[on])):.2g} (no noise); smallest 1 - s_k g_k "
                     f"below eps/c: {np.min(np.abs(1 - self.numerical_noiseless[partial])):.2g}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        n_cases = self.numerical_noisy.size
        return [
            Check("ch5-alpha-box-ge-mse",
                  "Box adversary regularizes more: $\\min_k(\\alpha^{\\rm adv}_k-\\alpha^{\\rm MSE}_k)/\\alpha^{\\rm MSE}_k \\ge 0$",
                  self.box_margin, 0.0, 1e-12, kind="min", figure="fig-ch5-alpha"),
            Check("ch5-alpha-cutoff",
                  "The minimiser of each mode's box objective, found by golden-section search with no rule imposed, "
                  "is 0 exactly where $s_k\\sqrt{\\Pi_k}\\le c\\varepsilon$ and where the package's filter is 0, "
                  f"with and without training noise ({len(self.eps_sweep)} radii × {self.numerical_noisy.shape[1]} "
                  "modes × 2; cases in disagreement)",
                  self.cutoff_mismatches, 0.0, 0.0, figure="fig-ch5-alpha"),
            Check("ch5-alpha-noiseless-zero",
                  "Without training noise, that minimiser is $1/s_k$ ($\\alpha_k=0$) exactly where "
                  f"$s_k\\sqrt{{\\Pi_k}}\\ge\\varepsilon/c$ and where the package's filter is $1/s_k$ ({n_cases} "
                  "cases; cases in disagreement)",
                  self.inversion_mismatches, 0.0, 0.0, figure="fig-ch5-alpha"),
        ]


def explain(rng: np.random.Generator, *, n: int = 128, delta: float = 1e-2, eps: float = 1e-2, n_l2: int = 300,
            eps_sweep=None) -> Explain:
    r"""Explaining parameters of the MSE, box and L2 filters for the integration operator; the box's regimes.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream ``"explain-l2"`` (the L2 ball's training samples).
    n : int
    delta, eps : float
        Training noise and attack radius.
    n_l2 : int
        Training samples of the L2 ball.
    eps_sweep : array_like, optional
        Radii of the regime check (default :math:`10^{-3}\dots10^{-1}`, nine values).
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=2, maximum=4096)
    delta = check_real(delta, "delta", positive=True)
    eps = check_real(eps, "eps", positive=True)
    n_l2 = check_int(n_l2, "n_l2", minimum=2, maximum=10**5)
    eps_sweep = np.logspace(-3, -1, 9) if eps_sweep is None else as_array(eps_sweep, "eps_sweep", ndim=1, positive=True)
    svd = Integration(n).svd()
    s, Pi = svd.s, power_law_moments(svd.rank, 2.0)
    g_mse = mse_filter(s, Pi, delta**2)
    g_box = adv.box_filter_gaussian(s, Pi, delta**2, eps)
    g_box0 = adv.box_filter_noiseless(s, Pi, eps)
    cx, cy = sample_coefficients(s, Pi, delta**2, n_l2, substream(rng, "explain-l2"))
    g_l2 = adv.l2_filter(cx, cy, eps)
    noisy = np.array([box_filter_factors_numerical(s, Pi, delta**2, e) for e in eps_sweep])
    noiseless = np.array([box_filter_factors_numerical(s, Pi, 0.0, e) for e in eps_sweep])
    pkg_noisy = np.array([s * adv.box_filter_gaussian(s, Pi, delta**2, e) for e in eps_sweep])
    pkg_noiseless = np.array([s * adv.box_filter_noiseless(s, Pi, e) for e in eps_sweep])
    return Explain(s=s, Pi=Pi, delta=delta, eps=eps, n_l2=n_l2, alpha_mse=regularization_parameters(s, g_mse),
                   alpha_box=regularization_parameters(s, g_box), alpha_box0=regularization_parameters(s, g_box0),
                   alpha_l2=regularization_parameters(s, np.maximum(g_l2, 0.0)), factors_box0=s * g_box0,
                   eps_sweep=eps_sweep, numerical_noisy=noisy, numerical_noiseless=noiseless,
                   package_noisy=pkg_noisy, package_noiseless=pkg_noiseless)


# ---------------------------------------------------------------------------
# 9. The panel's filters, precomputed on a grid
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelFilters:
    """Adversarially trained filters on a grid of radii and training noise levels (diagonal model).

    Attributes
    ----------
    s, Pi : ndarray, shape (n,)
    eps, deltas : tuple of float
    mse : ndarray, shape (len(deltas), n)
    box, l2 : ndarray, shape (len(eps), len(deltas), n)
        Box (Gaussian, exact) and L2 ball (exact training on ``n_samples`` samples).
    """

    s: np.ndarray
    Pi: np.ndarray
    eps: tuple
    deltas: tuple
    n_samples: int
    mse: np.ndarray
    box: np.ndarray
    l2: np.ndarray

    def filters(self, eps, delta, adversary: str) -> tuple[np.ndarray, np.ndarray]:
        """(adversarial filter, MSE filter) at grid values ``eps``, ``delta``."""
        if adversary not in adv.ADVERSARIES:
            raise ValueError(f"adversary must be one of {adv.ADVERSARIES}, got {adversary!r}")
        try:
            i, j = self.eps.index(eps), self.deltas.index(delta)
        except ValueError:
            raise ValueError(f"eps and delta must be grid values {self.eps} and {self.deltas}, got {eps}, {delta}")
        return (self.box if adversary == "box" else self.l2)[i, j], self.mse[j]


def panel_filters(rng: np.random.Generator, *, n: int = 64, eps=(1e-3, 1e-2, 1e-1, 1.0), deltas=None,
                  n_samples: int = 100) -> PanelFilters:
    r"""Precompute the panel's filters: box (Gaussian) and L2 ball (samples) for every radius and noise level.

    The L2 training samples are frozen across noise levels (stream ``"panel-samples"``):
    :math:`y = s\,x + \delta\zeta` with the same :math:`x, \zeta` at every delta.
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=2, maximum=1024)
    eps = tuple(float(check_real(e, "eps", positive=True)) for e in eps)
    deltas = tuple(float(f"{d:.6g}") for d in (np.logspace(-4, 0, 9) if deltas is None
                                                else as_array(deltas, "deltas", ndim=1, positive=True)))
    n_samples = check_int(n_samples, "n_samples", minimum=2, maximum=10**5)
    s, Pi = power_law_model(1.0, 2.0, n)
    r = substream(rng, "panel-samples")
    cx = r.standard_normal((n_samples, n)) * np.sqrt(Pi)
    zeta_ = r.standard_normal((n_samples, n))
    mse = np.array([mse_filter(s, Pi, d**2) for d in deltas])
    box = np.array([[adv.box_filter_gaussian(s, Pi, d**2, e) for d in deltas] for e in eps])
    l2 = np.zeros_like(box)
    for i, e in enumerate(eps):
        g0 = None
        for j, d in enumerate(deltas):
            l2[i, j] = g0 = adv.l2_filter(cx, s * cx + d * zeta_, e, g0=g0)
    return PanelFilters(s=s, Pi=Pi, eps=eps, deltas=deltas, n_samples=n_samples, mse=mse, box=box, l2=l2)
