r"""Chapter 4: learning paradigms in the spectral model.

Experiments, in the order of the chapter:

* :func:`denoiser_prox`: a spectral denoiser learned from pairs :math:`(x+\eta, x)`
  against the MMSE denoiser (standardised deviations that are exactly normal
  given the data), and the prox identity against a dense solve of the prox
  problem on the grid;
* :func:`pnp`: plug-and-play proximal gradient with the learned denoiser,
  iterated to its limit, against the closed-form variational solution; the
  denoiser's variational problem at :math:`\tau = \Delta` solved by a dense
  linear solve against the MSE filter;
* :func:`post_processing`: post-processing :math:`D\circ A^+` with a white-noise
  denoiser against the variational reconstruction with the same denoiser, in
  the diagonal model, over resolutions up to :math:`10^6` modes; exact risks
  beside Monte Carlo errors;
* :func:`post_on_pinv`: a denoiser learned on pseudo-inverse reconstructions
  (computed by solving with the operator's matrix, not from its SVD) against
  the MSE filter, and its held-out error against the MSE risk, beside the
  white-noise denoiser that must fail the same test;
* :func:`self_supervised`: supervised, self-supervised and SURE filters
  learned from :math:`K` samples: closed forms against the empirical
  minimisers, and the excess risk against :math:`C/K`;
* :func:`all_filters`: every paradigm's learned filter side by side.

The independent checks (standardised sampling deviations, dense solves on the
grid, iterated algorithms, simulated errors) live here, beside the experiments,
and not in :mod:`learnreg.paradigms`, whose formulas they check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import paradigms as P
from .._validate import as_array, check_int, check_real, check_rng
from ..book.claims import Check
from ..data import gaussian_random_field, power_law_moments, substream, white_noise
from ..fitting import fit_power_law
from ..operators import Integration
from ..spectral import apply_filter, empirical_filter, mse_filter, optimal_risk, regularization_parameters, risk

__all__ = [
    "SEED",
    "Z_MAX",
    "standardised_regression_deviation",
    "DenoiserProx",
    "denoiser_prox",
    "PnP",
    "pnp",
    "PostProcessing",
    "post_processing",
    "PostOnPinv",
    "post_on_pinv",
    "SelfSupervised",
    "self_supervised",
    "AllFilters",
    "all_filters",
    "explaining_alpha",
]

#: Seed of the chapter's generator.
SEED = 20251209

#: Bound on the largest of r standardised deviations that are N(0, 1): for r = 256 modes,
#: P(max |z_k| > 4.5) <= 256 * 6.8e-6 < 0.2 % (Bonferroni).
Z_MAX = 4.5


def _setting(n: int, b: float):
    op = Integration(n)
    svd = op.svd()
    return op, svd, power_law_moments(svd.rank, b)


def standardised_regression_deviation(estimate, truth, design, residual_variance) -> np.ndarray:
    r"""Standardised deviations of least-squares slopes from their true values, one per k.

    For a slope :math:`\hat\beta_k = \sum_i a_{ik}t_{ik}/\sum_i a_{ik}^2` of a target
    :math:`t_{ik} = \beta_ka_{ik} + \varepsilon_{ik}` whose residual is Gaussian with
    variance :math:`m_k` and independent of the design :math:`a_{ik}`,

    .. math:: z_k = (\hat\beta_k - \beta_k)\Big(\sum_i a_{ik}^2 / m_k\Big)^{1/2}

    is exactly standard normal given the design. A wrong :math:`\beta_k` shifts
    :math:`z_k` by :math:`(\beta_k' - \beta_k)(\sum_i a_{ik}^2/m_k)^{1/2}`, which grows like
    :math:`\sqrt K`.

    Parameters
    ----------
    estimate, truth : array_like, shape (r,)
    design : array_like, shape (K, r)
        The regressors :math:`a_{ik}`.
    residual_variance : array_like, shape (r,)
        :math:`m_k > 0`.
    """
    estimate = as_array(estimate, "estimate", ndim=1)
    truth = as_array(truth, "truth", shape=estimate.shape)
    design = as_array(design, "design", shape=(None, estimate.shape[0]))
    m = as_array(residual_variance, "residual_variance", shape=estimate.shape, positive=True)
    return (estimate - truth) * np.sqrt(np.sum(design**2, axis=0) / m)


def _mc(values) -> tuple[float, float]:
    """Mean and standard error of a sample."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def _slope(x, y) -> float:
    """Least-squares slope on log-log axes (NaN with fewer than two points)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2:
        return float("nan")
    if x.size == 2:
        return float(np.diff(np.log(y))[0] / np.diff(np.log(x))[0])
    return float(fit_power_law(x, y).slope)


# ---------------------------------------------------------------------------
# 1. The learned denoiser and its prox
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DenoiserProx:
    """A spectral denoiser learned from K pairs against the MMSE denoiser, and the prox identity.

    Attributes
    ----------
    n, n_train : int
    b, tau : float
        Smoothness of the training images (:math:`\\Pi_k = k^{-b}`) and image-noise variance.
    s, Pi : ndarray, shape (n,)
    d_true : ndarray
        The MMSE denoiser :math:`\\Pi_k/(\\Pi_k+\\tau)` (package).
    d_free, d_hat : ndarray
        Least-squares denoiser from the pairs, unconstrained and within :math:`0\\le d_k\\le1`.
    z, z_package : ndarray
        Standardised deviations of ``d_free`` from the proposition's :math:`\\Pi_k/(\\Pi_k+\\tau)` and from the
        package's closed form ``d_true`` (exactly N(0, 1) given the noisy images).
    prox_error : float
        :math:`\\|\\hat D z - \\arg\\min_x \\frac12\\|x-z\\|^2 + \\hat J(x)\\| / \\|z\\|`, the minimiser found by a
        dense linear solve in grid values.
    n_infinite : int
        Components with :math:`\\hat d_k = 0` (weight :math:`+\\infty`, left out of the solve).
    """

    n: int
    n_train: int
    b: float
    tau: float
    s: np.ndarray
    Pi: np.ndarray
    d_true: np.ndarray
    d_free: np.ndarray
    d_hat: np.ndarray
    z: np.ndarray
    z_package: np.ndarray
    prox_error: float
    n_infinite: int

    @property
    def z_max(self) -> float:
        """Largest |z_k| against either closed form."""
        return float(max(np.max(np.abs(self.z)), np.max(np.abs(self.z_package))))

    @property
    def w_true(self) -> np.ndarray:
        """Weights :math:`\\tau/\\Pi_k` of the MMSE denoiser's regularizer."""
        return P.prox_weights(self.d_true)

    @property
    def w_hat(self) -> np.ndarray:
        """Weights :math:`1/\\hat d_k - 1` of the learned denoiser's regularizer."""
        return P.prox_weights(self.d_hat)

    def table(self) -> str:
        return "\n".join([
            f"denoiser learned from K = {self.n_train} pairs (tau = {self.tau:g}), n = {self.n}:",
            f"  largest |z_k| = {self.z_max:.2f}, mean z_k^2 = {np.mean(self.z**2):.3f} (N(0,1): 1)",
            f"  coefficients outside [0, 1] before clipping: {int(np.sum(self.d_free > 1))} above 1, "
            f"{int(np.sum(self.d_free < 0))} below 0",
            f"prox identity against a dense solve: relative difference below 1e-10: {self.prox_error <= 1e-10}",
            f"  components with d_k = 0 (w_k = inf): {self.n_infinite}",
        ])

    def claims(self) -> list[Check]:
        return [
            Check("ch4-denoiser-samples",
                  f"The denoiser learned from $K={self.n_train}$ pairs agrees with the MMSE denoiser "
                  "$d_k=\\Pi_k/(\\Pi_k+\\tau)$ within sampling error: largest standardised deviation $|z_k|$ over "
                  "$k$ ($z_k$ exactly $N(0,1)$ given the noisy images)",
                  self.z_max, 0.0, Z_MAX, kind="max", figure="fig-ch4-denoiser"),
            Check("ch4-prox-bruteforce",
                  "The learned denoiser equals the prox of its explicit regularizer $\\hat J$: "
                  "$\\|\\hat Dz - \\arg\\min_x \\frac12\\|x-z\\|^2+\\hat J(x)\\|/\\|z\\|$, the minimiser found by a "
                  "dense linear solve on the grid",
                  self.prox_error, 0.0, 1e-10, kind="max", figure="fig-ch4-denoiser", verdict_only=True),
        ]


def denoiser_prox(rng: np.random.Generator, *, n: int = 256, b: float = 2.0, tau: float = 1e-4,
                  n_train: int = 2000) -> DenoiserProx:
    r"""Learn a spectral denoiser from pairs :math:`(x + \eta, x)` and check it against theory.

    Parameters
    ----------
    rng : numpy.random.Generator
        Streams ``"denoiser"`` (training pairs) and ``"denoiser-prox"`` (the image of the prox check).
    n : int
        Resolution of the integration operator whose :math:`u_k` diagonalise the denoiser.
    b : float
        Smoothness of the Gaussian training images, :math:`\Pi_k = k^{-b}`.
    tau : float
        Variance of the white image noise, :math:`E\langle\eta,u_k\rangle^2 = \tau`.
    n_train : int
        Training pairs K.
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=4, maximum=4096)
    b = check_real(b, "b", positive=True)
    tau = check_real(tau, "tau", positive=True)
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**6)
    op, svd, Pi = _setting(n, b)
    r = substream(rng, "denoiser")
    X = gaussian_random_field(svd.U, Pi, n_train, r)
    Z = X + white_noise(op.weights_x, np.sqrt(tau), n_train, r)
    d_free = P.empirical_denoiser(svd, X, Z)
    d_hat = P.empirical_denoiser(svd, X, Z, prox=True)
    d_true = P.mmse_denoiser(Pi, tau)
    # the residual of regressing <x,u_k> on <z,u_k> has variance Pi_k tau / (Pi_k + tau); the learned
    # coefficients are compared with the proposition's d_k and with the package's closed form
    design, m = svd.coefficients_x(Z), Pi * tau / (Pi + tau)
    z = standardised_regression_deviation(d_free, Pi / (Pi + tau), design, m)
    z_pkg = standardised_regression_deviation(d_free, d_true, design, m)

    # brute force: argmin_x 1/2||x - z||^2 + J(x) in grid values, with the weighted inner product
    r2 = substream(rng, "denoiser-prox")
    z0 = gaussian_random_field(svd.U, Pi, 1, r2)[0] + white_noise(op.weights_x, np.sqrt(tau), 1, r2)[0]
    w = P.prox_weights(d_hat)
    W = np.diag(op.weights_x)
    UtW = svd.U.T @ W
    finite = np.isfinite(w)
    x_brute = np.linalg.solve(W + UtW[finite].T @ np.diag(w[finite]) @ UtW[finite], W @ z0)
    if not finite.all():  # components with w_k = inf are forced to 0
        x_brute = x_brute - svd.U[:, ~finite] @ (UtW[~finite] @ x_brute)
    D = P.SpectralDenoiser(svd, d_hat)
    prox_error = float(op.norm_x(D(z0) - x_brute) / op.norm_x(z0))
    return DenoiserProx(n=n, n_train=n_train, b=b, tau=tau, s=svd.s, Pi=Pi, d_true=d_true, d_free=d_free,
                        d_hat=d_hat, z=z, z_package=z_pkg, prox_error=prox_error, n_infinite=int(np.sum(~finite)))


# ---------------------------------------------------------------------------
# 2. Plug-and-play and the variational problem
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PnP:
    """PnP proximal gradient with the learned denoiser, against the closed-form variational solution.

    Attributes
    ----------
    delta : float
        Data noise level (white).
    steps : tuple of float
        Step sizes :math:`\\gamma`.
    rho, observed_rate : dict
        Guaranteed contraction :math:`\\max_k|\\hat d_k(1-\\gamma s_k^2)|` and the fitted rate of the distances.
    distances : dict
        :math:`\\|x^t - x^*_\\gamma\\|` per step size.
    final : dict
        :math:`\\|x^T - x^*_\\gamma\\|/\\|x^*_\\gamma\\|` after :math:`\\rho^T = 10^{-12}`.
    bound_ratio : dict
        :math:`\\max_t \\|x^t-x^*_\\gamma\\|/(\\rho^t\\|x^0-x^*_\\gamma\\|)` (at most 1 by the proposition).
    grid, x_test, x_mse : ndarray
        Grid, the test image and its MSE-filter reconstruction.
    limits : dict
        The PnP limits :math:`x^T` per step size.
    dense_error : float
        Relative distance of the dense minimiser of :math:`\\frac12\\|Ax-y\\|^2 + J_\\Delta(x)`, where
        :math:`J_\\Delta` is the regularizer of the MMSE denoiser trained at :math:`\\tau = \\Delta`, to the
        MSE-filter reconstruction.
    """

    delta: float
    steps: tuple
    rho: dict
    observed_rate: dict
    n_iter: dict
    distances: dict
    final: dict
    bound_ratio: dict
    grid: np.ndarray
    x_test: np.ndarray
    x_mse: np.ndarray
    limits: dict
    dense_error: float
    error_pnp: float
    error_mse: float
    norm_x: float

    def limit_difference(self, weights) -> float:
        """:math:`\\|x^*_{\\gamma_2}-x^*_{\\gamma_1}\\|/\\|x^*_{\\gamma_1}\\|` (discrete L2 with ``weights``)."""
        a, b = self.limits[self.steps[0]], self.limits[self.steps[-1]]
        return float(np.sqrt(np.sum(weights * (b - a) ** 2) / np.sum(weights * a**2)))

    def table(self) -> str:
        lines = []
        for g in self.steps:
            lines.append(f"step {g:g}: rho = {self.rho[g]:.5f}, observed rate {self.observed_rate[g]:.5f}, "
                         f"{self.n_iter[g]} iterations")
            lines.append(f"   ||x^T - x*|| / ||x*|| below 1e-10: {self.final[g] <= 1e-10}")
            lines.append(f"   ||x^t - x*|| <= rho^t ||x^0 - x*|| for all t: {self.bound_ratio[g] <= 1 + 1e-9}")
        h = np.full(self.grid.size, 1.0 / self.grid.size)
        lines.append(f"limit at step {self.steps[-1]:g} against step {self.steps[0]:g}: relative difference "
                     f"{self.limit_difference(h):.3f}")
        lines.append(f"error against the truth (||x|| = {self.norm_x:.4f}): PnP limit, step "
                     f"{self.steps[0]:g}, {self.error_pnp:.4f};")
        lines.append(f"   MSE filter (true moments) {self.error_mse:.4f}")
        lines.append("dense minimiser of 1/2||Ax - y||^2 + J (tau = Delta) against the MSE filter:")
        lines.append(f"   relative difference below 1e-10: {self.dense_error <= 1e-10}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        g1, g2 = self.steps[0], self.steps[-1]
        return [
            Check("ch4-var-equals-mse",
                  "With the denoiser trained at $\\tau=\\Delta$, the minimiser of $\\frac12\\|Ax-y\\|^2+J(x)$, found "
                  "by a dense linear solve of its normal equations with the operator's matrix, equals the MSE-filter "
                  "reconstruction $R_{g^{\\rm MSE}}y$ (relative distance)",
                  self.dense_error, 0.0, 1e-10, kind="max", figure="fig-ch4-pnp", verdict_only=True),
            Check("ch4-pnp-fixed-point",
                  f"PnP with the learned denoiser and step $\\gamma={g1:g}$, iterated until $\\rho^t=10^{{-12}}$, "
                  "reaches the closed-form minimiser of $\\frac12\\|Ax-y\\|^2+\\hat J(x)$ (relative distance)",
                  self.final[g1], 0.0, 1e-10, kind="max", figure="fig-ch4-pnp", verdict_only=True),
            Check("ch4-pnp-step",
                  f"PnP with step $\\gamma={g2:g}$ converges to the closed-form minimiser of "
                  f"$\\frac12\\|Ax-y\\|^2+\\hat J(x)/{g2:g}$ (relative distance)",
                  self.final[g2], 0.0, 1e-10, kind="max", figure="fig-ch4-pnp", verdict_only=True),
            Check("ch4-pnp-rate",
                  "PnP distances obey $\\|x^t-x^*\\|\\le\\rho^t\\|x^0-x^*\\|$ with $\\rho=\\max_k|d_k(1-\\gamma "
                  f"s_k^2)|$ (largest ratio over $t$, $\\gamma={g1:g}$)",
                  self.bound_ratio[g1], 1.0, 1e-9, kind="max", figure="fig-ch4-pnp"),
        ]


def pnp(rng: np.random.Generator, denoiser: DenoiserProx, *, delta: float = 1e-2, steps=(1.0, 3.0),
        target: float = 1e-12) -> PnP:
    r"""Run PnP proximal gradient with the learned denoiser on a test image, for each step size.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream ``"pnp-test"`` (the test image and its data).
    denoiser : DenoiserProx
        The learned denoiser (its :math:`\hat d` within :math:`[0, 1]`) and the setting.
    delta : float
        White data noise level.
    steps : sequence of float
        Step sizes, each below :math:`2/s_1^2`.
    target : float
        Iterate until :math:`\rho^t` reaches this.
    """
    check_rng(rng)
    if not isinstance(denoiser, DenoiserProx):
        raise ValueError(f"denoiser must be a DenoiserProx (from denoiser_prox), got {type(denoiser).__name__}")
    delta = check_real(delta, "delta", positive=True)
    steps = tuple(check_real(g, "steps", positive=True) for g in steps)
    if not steps:
        raise ValueError("steps must hold at least one step size")
    target = check_real(target, "target", positive=True, maximum=0.5)
    op, svd, Pi = _setting(denoiser.n, denoiser.b)
    s, Delta = svd.s, np.full(svd.rank, delta**2)
    r = substream(rng, "pnp-test")
    x_test = gaussian_random_field(svd.U, Pi, 1, r)[0]
    y = op.apply(x_test) + white_noise(op.weights_y, delta, 1, r)[0]
    cy = svd.coefficients_y(y)
    D = P.SpectralDenoiser(svd, denoiser.d_hat)
    w_hat = P.prox_weights(denoiser.d_hat)
    rho, observed, n_iter, distances, final, bound, limits = {}, {}, {}, {}, {}, {}, {}
    for g in steps:
        x_star = svd.synthesis_x(P.variational_filter(s, w_hat / g) * cy)  # argmin 1/2||Ax-y||^2 + J/g
        rho[g] = float(np.max(P.pnp_contraction(s, denoiser.d_hat, g)))
        n_iter[g] = int(np.ceil(np.log(target) / np.log(rho[g])))
        res = P.pnp_proximal_gradient(op, D, y, g, n_iter[g], reference=x_star)
        d = res.distances
        distances[g] = d
        final[g] = float(d[-1] / op.norm_x(x_star))
        bound[g] = float(np.max(d / (rho[g] ** np.arange(d.size) * d[0])))
        mid = np.flatnonzero((d < 1e-3 * d[0]) & (d > 1e-9 * d[0]))
        observed[g] = float(np.exp(np.polyfit(mid, np.log(d[mid]), 1)[0])) if mid.size > 1 else float("nan")
        limits[g] = res.x
    x_mse = apply_filter(svd, mse_filter(s, Pi, Delta), y)
    # the variational problem of the denoiser trained at tau = Delta, solved densely on the grid:
    # (A^T W_y A + W_x U diag(w) U^T W_x) x = A^T W_y y
    w = P.prox_weights(P.mmse_denoiser(Pi, Delta))
    A, Wx, Wy = op.matrix, np.diag(op.weights_x), np.diag(op.weights_y)
    WU = Wx @ svd.U
    x_dense = np.linalg.solve(A.T @ Wy @ A + WU @ np.diag(w) @ WU.T, A.T @ Wy @ y)
    dense_error = float(op.norm_x(x_dense - x_mse) / op.norm_x(x_mse))
    return PnP(delta=delta, steps=steps, rho=rho, observed_rate=observed, n_iter=n_iter, distances=distances,
               final=final, bound_ratio=bound, grid=op.grid, x_test=x_test, x_mse=x_mse, limits=limits,
               dense_error=dense_error, error_pnp=float(op.norm_x(limits[steps[0]] - x_test)),
               error_mse=float(op.norm_x(x_mse - x_test)), norm_x=float(op.norm_x(x_test)))


# ---------------------------------------------------------------------------
# 3. Post-processing with a white-noise denoiser, in the diagonal model
# ---------------------------------------------------------------------------

#: Resolutions (modes) of the post-processing experiment, and its fit window, fixed by the theory:
#: the growth exponents are asymptotic in r, so the fit uses the two largest decades.
RESOLUTIONS = (10**2, 10**3, 10**4, 10**5, 10**6)
POST_FIT_WINDOW = (10**4, 10**6)
POST_ALTERNATIVE_WINDOWS = ((10**2, 10**4), (10**3, 10**5))


def _decades(window) -> str:
    lo, hi = (int(round(np.log10(v))) for v in window)
    return f"$r=10^{lo}\\dots10^{hi}$"


@dataclass(frozen=True)
class PostProcessing:
    """Risks of :math:`D\\circ A^+` and of the variational reconstruction with the same denoiser.

    Attributes
    ----------
    a, delta, tau : float
    bs : tuple of float
        Training smoothness values.
    resolutions : ndarray
        Modes r.
    risk_post, risk_var, gmax_post, gmax_var : ndarray, shape (len(bs), len(resolutions))
        Exact risks and :math:`\\max_k g_k` of post-processing and of the variational (PnP, step 1) filter.
    risk_pinv : ndarray
        Risk of :math:`A^+`, :math:`\\sum_k \\Delta/s_k^2`.
    mc_resolutions : ndarray
        Resolutions of the Monte Carlo check (``bs[0]``).
    mc_post, mc_var : ndarray, shape (len(mc_resolutions), 2)
        Simulated mean error and standard error.
    n_mc : int
    fit_window : tuple of int
        The resolutions between which growth exponents are fitted.
    """

    a: float
    delta: float
    tau: float
    bs: tuple
    resolutions: np.ndarray
    risk_post: np.ndarray
    risk_var: np.ndarray
    gmax_post: np.ndarray
    gmax_var: np.ndarray
    risk_pinv: np.ndarray
    mc_resolutions: np.ndarray
    mc_post: np.ndarray
    mc_var: np.ndarray
    n_mc: int
    fit_window: tuple = POST_FIT_WINDOW

    def _window_slope(self, values, window) -> float:
        sel = (self.resolutions >= window[0]) & (self.resolutions <= window[1])
        return _slope(self.resolutions[sel], values[sel])

    def slopes(self, window=None) -> np.ndarray:
        """Fitted growth exponent of the risk of :math:`D\\circ A^+` for each b (default: the fit window)."""
        window = self.fit_window if window is None else window
        return np.array([self._window_slope(r, window) for r in self.risk_post])

    def gmax_slope(self, window=None) -> float:
        """Fitted growth exponent of :math:`\\max_k g_k` of :math:`D\\circ A^+` for ``bs[0]``."""
        return self._window_slope(self.gmax_post[0], self.fit_window if window is None else window)

    @property
    def predicted(self) -> np.ndarray:
        """:math:`\\max(2(a-b)+1, 0)` for each b."""
        return np.array([max(2 * (self.a - b) + 1, 0.0) for b in self.bs])

    @property
    def var_increase(self) -> float:
        """Increase of the variational risk over the fit window, for ``bs[0]``."""
        i, j = (int(np.flatnonzero(self.resolutions == r)[0]) for r in self.fit_window)
        return float(self.risk_var[0, j] - self.risk_var[0, i])

    @property
    def tail_bound(self) -> float:
        """:math:`\\sum_{r_0<k\\le r_1}\\Pi_k(1+\\delta^2/(4\\tau))` over the fit window: the proposition's bound on
        that increase."""
        k = np.arange(self.fit_window[0] + 1, self.fit_window[1] + 1, dtype=float)
        return float(np.sum(k ** -self.bs[0]) * (1 + self.delta**2 / (4 * self.tau)))

    @property
    def mc_z(self) -> float:
        """Largest absolute difference, simulated minus exact, over its standard error, over the checked resolutions and both methods."""
        i = [int(np.flatnonzero(self.resolutions == r)[0]) for r in self.mc_resolutions]
        z_post = np.abs(self.mc_post[:, 0] - self.risk_post[0, i]) / self.mc_post[:, 1]
        z_var = np.abs(self.mc_var[:, 0] - self.risk_var[0, i]) / self.mc_var[:, 1]
        return float(max(z_post.max(), z_var.max()))

    def alternative_windows(self) -> tuple:
        """The windows shown beside the fit window: the same number of decades at smaller r."""
        return tuple(w for w in POST_ALTERNATIVE_WINDOWS if w[0] in self.resolutions and w[1] in self.resolutions)

    def table(self) -> str:
        lines = [f"s_k = k^-{self.a:g}, denoiser at tau = {self.tau:g}, white noise delta = {self.delta:g}",
                 f"{'b':>5} {'r':>8} {'risk D o A^+':>13} {'risk PnP':>9} {'max g, D o A^+':>15} {'max g, PnP':>11}"]
        for i, b in enumerate(self.bs):
            for j, r in enumerate(self.resolutions):
                lines.append(f"{b:5.2f} {r:8d} {self.risk_post[i, j]:13.4e} {self.risk_var[i, j]:9.5f} "
                             f"{self.gmax_post[i, j]:15.4e} {self.gmax_var[i, j]:11.4f}")
        lines.append(f"simulated, b = {self.bs[0]:g}, {self.n_mc} samples, r <= {self.mc_resolutions[-1]}:")
        lines.append(f"   largest |simulated - exact| / standard error {self.mc_z:.2f}")
        fmt = lambda w: f"[{w[0]:.0e}, {w[1]:.0e}]".replace("+0", "")  # noqa: E731
        alt = self.alternative_windows()
        lines.append(f"growth exponent over r in {fmt(self.fit_window)}"
                     + (" (over " + ", ".join(fmt(w) for w in alt) + "):" if alt else ":"))
        alt_slopes = [self.slopes(w) for w in alt]
        for i, (b, v, p) in enumerate(zip(self.bs, self.slopes(), self.predicted)):
            lines.append(f"   risk of D o A^+, b = {b:g}: {v:.3f}, theory {p:.2f}"
                         + (" (" + ", ".join(f"{a[i]:.3f}" for a in alt_slopes) + ")" if alt else ""))
        lines.append(f"   max_k g_k of D o A^+, b = {self.bs[0]:g}: {self.gmax_slope():.4f}, "
                     f"theory a - b = {self.a - self.bs[0]:g}")
        lines.append(f"PnP risk, b = {self.bs[0]:g}: increase over the window {self.var_increase:.3e} "
                     f"<= bound {self.tail_bound:.3e}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        window = _decades(self.fit_window)
        b0 = self.bs[0]
        out = []
        for b, v, p in zip(self.bs, self.slopes(), self.predicted):
            if p > 0:
                out.append(Check(f"ch4-post-growth-b{b:g}",
                                 f"$D\\circ A^+$ (white-noise denoiser), $a={self.a:g}$, $b={b:g}$: the risk grows "
                                 f"like $r^{{2(a-b)+1}}=r^{{{p:g}}}$ (fitted exponent over {window})",
                                 v, p, 0.05, figure="fig-ch4-post"))
            else:
                out.append(Check(f"ch4-post-bounded-b{b:g}",
                                 f"$D\\circ A^+$, $a={self.a:g}$, $b={b:g}>a+\\frac12$: the risk stays bounded "
                                 f"(fitted growth exponent over {window} near 0)",
                                 v, 0.0, 0.01, kind="max", figure="fig-ch4-post"))
            if b == b0:
                out.append(Check(f"ch4-post-norm-b{b0:g}",
                                 f"$D\\circ A^+$, $a={self.a:g}$, $b={b0:g}$: $\\max_kg_k$ grows like $r^{{a-b}}$ "
                                 f"(fitted exponent over {window})",
                                 self.gmax_slope(), self.a - b0, 0.02, figure="fig-ch4-post"))
        out.append(Check(f"ch4-pnp-bounded-b{b0:g}",
                         f"PnP/variational with the same denoiser, $b={b0:g}$: the risk increase over {window} is "
                         "within the bound $\\sum_k\\Pi_k(1+\\delta^2/(4\\tau))$ over the added modes",
                         self.var_increase, self.tail_bound, 0.0, kind="max", figure="fig-ch4-post"))
        out.append(Check("ch4-post-montecarlo",
                         f"$b={b0:g}$: simulated errors ({self.n_mc} samples) of $D\\circ A^+$ and of the variational "
                         f"reconstruction agree with their exact risks at every $r\\le{self.mc_resolutions[-1]}$ "
                         "(largest |difference| / standard error)",
                         self.mc_z, 0.0, 4.0, kind="max", figure="fig-ch4-post"))
        return out


def post_processing(rng: np.random.Generator, *, a: float = 2.0, bs=(1.5, 2.25, 3.0), delta: float = 1e-2,
                    tau: float = 1e-4, resolutions=RESOLUTIONS, fit_window=POST_FIT_WINDOW, n_mc: int = 100,
                    mc_max: int = 10**5) -> PostProcessing:
    r"""Risk of :math:`D\circ A^+` and of the variational reconstruction against the resolution.

    Diagonal model :math:`s_k = k^{-a}`, :math:`\Pi_k = k^{-b}`, white noise, a denoiser trained on
    white image noise of variance :math:`\tau`, truncated at r modes.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream ``"post-mc"`` (the Monte Carlo samples).
    a : float
        Operator order.
    bs : sequence of float
        Training smoothness values; the first is simulated and checked for the growth of the norm.
    delta, tau : float
        Data noise level and the denoiser's image-noise variance.
    resolutions : sequence of int
        Numbers of modes r (increasing).
    fit_window : (int, int)
        Two of the resolutions between which exponents are fitted.
    n_mc, mc_max : int
        Monte Carlo samples, and the largest r simulated.
    """
    check_rng(rng)
    a = check_real(a, "a", positive=True)
    bs = tuple(check_real(b, "bs", positive=True) for b in bs)
    if not bs or any(b <= 1 for b in bs):
        raise ValueError("bs must be a non-empty sequence of smoothness values > 1")
    delta = check_real(delta, "delta", positive=True)
    tau = check_real(tau, "tau", positive=True)
    resolutions = np.array([check_int(r, "resolutions", minimum=2, maximum=10**7) for r in resolutions])
    if resolutions.size < 3 or np.any(np.diff(resolutions) <= 0):
        raise ValueError("resolutions must hold at least 3 increasing numbers of modes")
    fit_window = tuple(int(v) for v in fit_window)
    if len(fit_window) != 2 or not set(fit_window) <= set(resolutions.tolist()) or fit_window[0] >= fit_window[1]:
        raise ValueError(f"fit_window must be two increasing values of resolutions, got {fit_window}")
    n_mc = check_int(n_mc, "n_mc", minimum=2, maximum=10**5)
    mc_max = check_int(mc_max, "mc_max", minimum=int(resolutions[0]))
    shape = (len(bs), resolutions.size)
    risk_post, risk_var, gmax_post, gmax_var = (np.zeros(shape) for _ in range(4))
    risk_pinv = np.zeros(resolutions.size)
    mc_res = resolutions[resolutions <= mc_max]
    mc_post, mc_var = np.zeros((mc_res.size, 2)), np.zeros((mc_res.size, 2))
    r_mc = substream(rng, "post-mc")
    for j, r in enumerate(resolutions):
        k = np.arange(1, r + 1, dtype=float)
        s, Delta = k**-a, np.full(r, delta**2)
        risk_pinv[j] = float(np.sum(Delta / s**2))
        for i, b in enumerate(bs):
            Pi = k**-b
            d = P.mmse_denoiser(Pi, tau)
            g_post = P.post_processing_filter(s, d)
            g_var = P.variational_filter(s, P.prox_weights(d))  # = the PnP limit with step 1
            risk_post[i, j] = risk(s, g_post, Pi, Delta).total
            risk_var[i, j] = risk(s, g_var, Pi, Delta).total
            gmax_post[i, j], gmax_var[i, j] = float(g_post.max()), float(g_var.max())
            if i == 0 and r <= mc_max:
                m = int(np.flatnonzero(mc_res == r)[0])
                mc_post[m] = P.monte_carlo_risk(s, g_post, Pi, Delta, n_mc, r_mc)
                mc_var[m] = P.monte_carlo_risk(s, g_var, Pi, Delta, n_mc, r_mc)
    return PostProcessing(a=a, delta=delta, tau=tau, bs=bs, resolutions=resolutions, risk_post=risk_post,
                          risk_var=risk_var, gmax_post=gmax_post, gmax_var=gmax_var, risk_pinv=risk_pinv,
                          mc_resolutions=mc_res, mc_post=mc_post, mc_var=mc_var, n_mc=n_mc, fit_window=fit_window)


# ---------------------------------------------------------------------------
# 4. Post-processing trained on pseudo-inverse reconstructions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PostOnPinv:
    """A denoiser learned on :math:`A^+` reconstructions, against the MSE filter and the white-noise denoiser.

    Attributes
    ----------
    n, n_train, n_test : int
    delta : float
    s, Pi : ndarray
    d_hat : ndarray
        Denoiser learned from pairs :math:`(A^+y_i, x_i)`, :math:`A^+y_i` computed by solving with the
        operator's matrix.
    z : ndarray
        Standardised deviations of ``d_hat`` from the proposition's :math:`s_kg^{\\rm MSE}_k`; ``z_package`` the
        same from the package's closed form :math:`d_k` for :math:`\\tau_k = \\Delta_k/s_k^2`.
    optimal : float
        The MSE filter's risk :math:`R^*`.
    excess : float
        Leading-order excess risk of supervised learning from ``n_train`` samples, :math:`C_{\\rm sup}/K`.
    sim_pinv, sim_white : tuple of float
        Held-out simulated error (mean, standard error) of :math:`\\hat D\\circ A^+` and of :math:`D_\\tau\\circ A^+`
        with the MMSE denoiser for white image noise of variance :math:`\\delta^2`.
    risk_white : float
        Exact risk of the latter.
    """

    n: int
    n_train: int
    n_test: int
    delta: float
    s: np.ndarray
    Pi: np.ndarray
    d_hat: np.ndarray
    z: np.ndarray
    z_package: np.ndarray
    optimal: float
    excess: float
    sim_pinv: tuple
    sim_white: tuple
    risk_white: float

    @property
    def g_hat(self) -> np.ndarray:
        """Filter :math:`\\hat d_k/s_k` of the learned :math:`\\hat D\\circ A^+`."""
        return P.post_processing_filter(self.s, self.d_hat)

    @property
    def z_pinv(self) -> float:
        """(simulated error of :math:`\\hat D\\circ A^+` - :math:`R^*` - :math:`C/K`) / standard error."""
        return (self.sim_pinv[0] - self.optimal - self.excess) / self.sim_pinv[1]

    @property
    def z_white(self) -> float:
        """The same test for the white-noise denoiser (it must fail)."""
        return (self.sim_white[0] - self.optimal - self.excess) / self.sim_white[1]

    def table(self) -> str:
        zmax = max(np.max(np.abs(self.z)), np.max(np.abs(self.z_package)))
        return "\n".join([
            f"integration, n = {self.n}, delta = {self.delta:g};",
            f"denoiser learned from {self.n_train} pairs (A^+ y, x):",
            f"  largest |z_k| against s_k g_k^MSE and the package's closed form: {zmax:.2f}",
            f"held-out error ({self.n_test} samples), R* = {self.optimal:.4f}, C/K = {self.excess:.1e}:",
            f"  D o A^+, D learned on A^+ output: {self.sim_pinv[0]:.4f} +- {self.sim_pinv[1]:.4f} "
            f"(z = {self.z_pinv:.2f})",
            f"  D o A^+, white-noise denoiser:    {self.sim_white[0]:.4g} +- {self.sim_white[1]:.2g} "
            f"(z = {self.z_white:.3g})",
            f"     (its exact risk {self.risk_white:.4g})",
        ])

    def claims(self) -> list[Check]:
        zmax = float(max(np.max(np.abs(self.z)), np.max(np.abs(self.z_package))))
        return [
            Check("ch4-post-pinv-closed",
                  f"The denoiser learned from $K={self.n_train}$ pairs $(A^+y_i,x_i)$, with $A^+y_i$ computed by "
                  "solving with the operator's matrix, agrees with $d_k=s_kg^{\\rm MSE}_k$ and with the package's "
                  "closed form for $\\tau_k=\\Delta_k/s_k^2$ within sampling error (largest standardised deviation "
                  "$|z_k|$, exactly $N(0,1)$ given the data)",
                  zmax, 0.0, Z_MAX, kind="max", figure="fig-ch4-post-pinv"),
            Check("ch4-post-pinv-samples",
                  f"$\\hat D\\circ A^+$ with the denoiser learned on $A^+$ output reaches the MSE filter's risk: "
                  f"held-out simulated error ({self.n_test} samples) minus $R^*+C_{{\\rm sup}}/K$, in standard errors",
                  self.z_pinv, 0.0, 4.0, figure="fig-ch4-post-pinv"),
            Check("ch4-post-white-misses",
                  "The same test fails for $D\\circ A^+$ with the denoiser trained on white image noise "
                  "$\\tau=\\delta^2$: its simulated error exceeds $R^*+C_{\\rm sup}/K$ by at least 4 standard errors",
                  self.z_white, 4.0, 0.0, kind="min", figure="fig-ch4-post-pinv"),
        ]


def post_on_pinv(rng: np.random.Generator, *, n: int = 256, b: float = 2.0, delta: float = 1e-2,
                 n_train: int = 2000, n_test: int = 2000) -> PostOnPinv:
    r"""Learn a post-processing denoiser on pseudo-inverse reconstructions; test it on held-out data.

    Parameters
    ----------
    rng : numpy.random.Generator
        Streams ``"post-pinv"`` (training pairs) and ``"post-pinv-test"`` (held-out pairs).
    n : int
        Resolution of the integration operator.
    b : float
        Smoothness of the Gaussian images, :math:`\Pi_k = k^{-b}`.
    delta : float
        White data noise level.
    n_train, n_test : int
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=4, maximum=4096)
    b = check_real(b, "b", positive=True)
    delta = check_real(delta, "delta", positive=True)
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**6)
    n_test = check_int(n_test, "n_test", minimum=2, maximum=10**6)
    op, svd, Pi = _setting(n, b)
    s, Delta = svd.s, np.full(svd.rank, delta**2)

    def pinv(Y):  # A^+ y without the SVD: the operator's matrix is invertible
        return np.linalg.solve(op.matrix, Y.T).T

    r = substream(rng, "post-pinv")
    X = gaussian_random_field(svd.U, Pi, n_train, r)
    Xp = pinv(op.apply(X) + white_noise(op.weights_y, delta, n_train, r))
    d_hat = P.empirical_denoiser(svd, X, Xp)
    tau = Delta / s**2  # image noise of A^+ y - x
    m = Pi * tau / (Pi + tau)
    design = svd.coefficients_x(Xp)
    z = standardised_regression_deviation(d_hat, s * mse_filter(s, Pi, Delta), design, m)
    d_pkg = P.mmse_denoiser(Pi, P.pseudo_inverse_noise_moments(s, Delta))
    z_pkg = standardised_regression_deviation(d_hat, d_pkg, design, m)

    rt = substream(rng, "post-pinv-test")
    Xt = gaussian_random_field(svd.U, Pi, n_test, rt)
    Xpt = pinv(op.apply(Xt) + white_noise(op.weights_y, delta, n_test, rt))
    d_white = P.mmse_denoiser(Pi, delta**2)
    sims = {}
    for name, d in (("pinv", d_hat), ("white", d_white)):
        sims[name] = _mc(op.norm_x(P.SpectralDenoiser(svd, d)(Xpt) - Xt) ** 2)
    return PostOnPinv(n=n, n_train=n_train, n_test=n_test, delta=delta, s=s, Pi=Pi, d_hat=d_hat, z=z,
                      z_package=z_pkg, optimal=optimal_risk(s, Pi, Delta),
                      excess=P.asymptotic_excess_risk(s, Pi, Delta, n_train, "supervised"),
                      sim_pinv=sims["pinv"], sim_white=sims["white"],
                      risk_white=risk(s, P.post_processing_filter(s, d_white), Pi, Delta).total)


# ---------------------------------------------------------------------------
# 5. Learning without ground truth: self-supervised and SURE
# ---------------------------------------------------------------------------

METHODS = ("supervised", "self-supervised", "sure")


@dataclass(frozen=True)
class SelfSupervised:
    """Filters learned from K samples by three paradigms, against the MSE filter.

    Attributes
    ----------
    n : int
    delta : float
    Ks : ndarray
        Sample sizes.
    reps : int
        Independent repetitions per K.
    s, Pi : ndarray
    excess : dict of ndarray, shape (len(Ks), reps)
        Exact excess risk of each learned filter over the MSE filter.
    constants : dict of float
        Predicted :math:`C` with excess :math:`\\approx C/K`.
    learned : dict of ndarray
        The filters of the first repetition at the largest K.
    z_self, z_sure : ndarray
        Standardised deviations of those self-supervised and SURE filters from the closed forms
        (the largest over the package's closed form and the MSE filter).
    c_self_by_n : dict
        :math:`C_{\\rm self}` at other resolutions.
    """

    n: int
    delta: float
    Ks: np.ndarray
    reps: int
    s: np.ndarray
    Pi: np.ndarray
    excess: dict
    constants: dict
    learned: dict
    z_self: np.ndarray
    z_sure: np.ndarray
    c_self_by_n: dict

    @property
    def mean_excess(self) -> dict:
        return {m: v.mean(axis=1) for m, v in self.excess.items()}

    def slopes(self, k_min: int = 0) -> dict:
        """Fitted exponent of the mean excess risk against K (over K >= ``k_min``)."""
        sel = self.Ks >= k_min
        return {m: _slope(self.Ks[sel], v[sel]) for m, v in self.mean_excess.items()}

    @property
    def constant_ratio(self) -> dict:
        """Mean of K * excess / C over K >= 1000."""
        sel = self.Ks >= 1000
        return {m: float(np.mean(v[sel] * self.Ks[sel, None]) / self.constants[m]) for m, v in self.excess.items()}

    def table(self) -> str:
        lines = ["mean excess risk over the MSE filter:",
                 f"{'K':>6} " + " ".join(f"{m:>16}" for m in METHODS)]
        for i, K in enumerate(self.Ks):
            lines.append(f"{K:6d} " + " ".join(f"{self.mean_excess[m][i]:16.3e}" for m in METHODS))
        slopes, late, ratio = self.slopes(), self.slopes(1000), self.constant_ratio
        lines.append("fitted slope over all K (theory -1; over K >= 1e3), K * excess / C:")
        for m in METHODS:
            lines.append(f"{m:>16}: {slopes[m]:.3f} ({late[m]:.3f}), {ratio[m]:.3f}, C = {self.constants[m]:.4g}")
        lines.append(f"K = {self.Ks[-1]}, closed form against the learned filter, largest |z_k|:")
        lines.append(f"   self-supervised {np.max(np.abs(self.z_self)):.2f}, "
                     f"SURE {np.max(np.abs(self.z_sure)):.2f}")
        lines.append("C_self at n = " + ", ".join(f"{k}" for k in self.c_self_by_n) + ": "
                     + ", ".join(f"{v:.3g}" for v in self.c_self_by_n.values()))
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        slopes, ratio, K = self.slopes(), self.constant_ratio, int(self.Ks[-1])
        return [
            Check("ch4-self-closed",
                  "Self-supervised: the closed-form minimiser (the MSE filter) agrees with the empirical minimiser "
                  f"from $K={K}$ pairs $(y,y')$ within sampling error (largest standardised deviation $|z_k|$, exactly "
                  "$N(0,1)$ given the data)",
                  float(np.max(np.abs(self.z_self))), 0.0, Z_MAX, kind="max", figure="fig-ch4-self"),
            Check("ch4-sure-closed",
                  f"SURE: the closed-form minimiser (the MSE filter) agrees with the empirical minimiser from $K={K}$ "
                  "measurements within sampling error (largest standardised deviation $|z_k|$, normal to leading "
                  "order in $1/K$)",
                  float(np.max(np.abs(self.z_sure))), 0.0, Z_MAX, kind="max", figure="fig-ch4-self"),
            Check("ch4-sup-rate",
                  "Supervised: the excess risk of the empirical filter decays like $1/K$ (fitted slope, "
                  "$K=10^2\\dots10^4$)",
                  slopes["supervised"], -1.0, 0.2, figure="fig-ch4-self"),
            Check("ch4-self-rate",
                  "Self-supervised: the excess risk of the empirical filter decays like $1/K$ (fitted slope)",
                  slopes["self-supervised"], -1.0, 0.1, figure="fig-ch4-self"),
            Check("ch4-sure-rate", "SURE: the excess risk of the empirical filter decays like $1/K$ (fitted slope)",
                  slopes["sure"], -1.0, 0.1, figure="fig-ch4-self"),
            Check("ch4-self-constant",
                  "Self-supervised: $K\\cdot$excess risk matches $C_{\\rm self}=\\sum_k(R^*_k+\\Delta_k/s_k^2)$ "
                  "(ratio, $K\\ge10^3$)",
                  ratio["self-supervised"], 1.0, 0.15, figure="fig-ch4-self"),
            Check("ch4-sure-constant", "SURE: $K\\cdot$excess risk matches $C_{\\rm SURE}$ (ratio, $K\\ge10^3$)",
                  ratio["sure"], 1.0, 0.15, figure="fig-ch4-self"),
        ]


def self_supervised(rng: np.random.Generator, *, n: int = 256, b: float = 2.0, delta: float = 1e-2,
                    Ks=(100, 300, 1000, 3000, 10000), reps: int = 8, other_n=(64, 1024)) -> SelfSupervised:
    r"""Learn supervised, self-supervised and SURE filters from K samples; measure their excess risk.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream ``"self-supervised"``.
    n, b, delta : int, float, float
        Integration at resolution n, :math:`\Pi_k = k^{-b}`, white noise.
    Ks : sequence of int
        Sample sizes (increasing).
    reps : int
        Repetitions per sample size.
    other_n : sequence of int
        Resolutions at which :math:`C_{\rm self}` is also reported.
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=4, maximum=4096)
    b = check_real(b, "b", positive=True)
    delta = check_real(delta, "delta", positive=True)
    Ks = np.array([check_int(K, "Ks", minimum=2, maximum=10**6) for K in Ks])
    if Ks.size < 2 or np.any(np.diff(Ks) <= 0):
        raise ValueError("Ks must hold at least 2 increasing sample sizes")
    reps = check_int(reps, "reps", minimum=1, maximum=1000)
    other_n = tuple(check_int(m, "other_n", minimum=4, maximum=4096) for m in other_n)
    op, svd, Pi = _setting(n, b)
    s, Delta = svd.s, np.full(svd.rank, delta**2)
    r = substream(rng, "self-supervised")
    excess = {m: np.zeros((Ks.size, reps)) for m in METHODS}
    learned, data = {}, None
    for i, K in enumerate(Ks):
        for j in range(reps):
            X = gaussian_random_field(svd.U, Pi, K, r)
            AX = op.apply(X)
            Y = AX + white_noise(op.weights_y, delta, K, r)
            Y2 = AX + white_noise(op.weights_y, delta, K, r)  # second, independent measurement
            g = {"supervised": empirical_filter(svd.coefficients_x(X), svd.coefficients_y(Y)),
                 "self-supervised": P.empirical_self_supervised_filter(svd, Y, Y2),  # no x
                 "sure": P.empirical_sure_filter(svd, Y, Delta)}  # no x, no y'
            for m in METHODS:
                excess[m][i, j] = P.excess_risk(s, g[m], Pi, Delta)
            if i == Ks.size - 1 and j == 0:
                learned, data = g, svd.coefficients_y(Y)
    second = s**2 * Pi + Delta
    r_star = Pi * Delta / second
    g_mse = mse_filter(s, Pi, Delta)
    # self-supervised: regress y'_k on y_k; slope s_k g_k, residual variance s_k^2 R*_k + Delta'_k
    z_self = np.maximum(*(np.abs(standardised_regression_deviation(s * learned["self-supervised"], s * g, data,
                                                                       s**2 * r_star + Delta))
                          for g in (g_mse, P.self_supervised_filter(s, Pi, Delta))))
    # SURE: g = (m - Delta)/(s m) at m = mean y_k^2, whose variance is 2 E[y_k^2]^2 / K (delta method)
    sd = Delta / (s * second) * np.sqrt(2.0 / Ks[-1])
    z_sure = np.maximum(*(np.abs(learned["sure"] - g) / sd for g in (g_mse, P.sure_filter(s, Pi, Delta))))
    constants = {m: P.asymptotic_excess_risk(s, Pi, Delta, 1, m) for m in METHODS}
    c_self = {}
    for m in sorted({*other_n, n}):
        S = Integration(m).svd()
        c_self[m] = P.asymptotic_excess_risk(S.s, power_law_moments(S.rank, b), delta**2, 1, "self-supervised")
    return SelfSupervised(n=n, delta=delta, Ks=Ks, reps=reps, s=s, Pi=Pi, excess=excess, constants=constants,
                          learned=learned, z_self=z_self, z_sure=z_sure, c_self_by_n=c_self)


# ---------------------------------------------------------------------------
# 6. All learned filters side by side
# ---------------------------------------------------------------------------


def explaining_alpha(s, g, g_closed=None) -> np.ndarray:
    r"""Explaining parameters :math:`\alpha_k = s_k/g_k - s_k^2` where they are meaningful, NaN elsewhere.

    Kept where :math:`0 < s_kg_k \le 1` (a Tikhonov filter) and, if ``g_closed``
    is given, where the closed form is resolved (:math:`s_kg^{\rm closed}_k \ge 0.05`);
    a learned coefficient far below that is sampling noise.
    """
    s = as_array(s, "s", ndim=1, positive=True)
    g = as_array(g, "g", shape=s.shape)
    ok = (g > 0) & (s * g <= 1)
    if g_closed is not None:
        ok &= s * as_array(g_closed, "g_closed", shape=s.shape) >= 0.05
    return np.where(ok, regularization_parameters(s, np.where(ok, g, 1 / s)), np.nan)


@dataclass(frozen=True)
class AllFilters:
    """Every paradigm's learned filter, the two closed forms they reduce to, and their risks.

    Attributes
    ----------
    s, Pi : ndarray
    delta : float
    learned : dict of ndarray
        Learned filters by paradigm.
    closed : dict of ndarray
        ``"mse"`` (supervised, matched PnP, post-processing on :math:`A^+`, self-supervised, SURE) and
        ``"post-white"`` (post-processing with a white-noise denoiser).
    reduces_to : dict of str
        For each paradigm, the closed form it reduces to.
    """

    s: np.ndarray
    Pi: np.ndarray
    delta: float
    learned: dict
    closed: dict
    reduces_to: dict

    def risks(self) -> dict:
        Delta = self.delta**2
        return {name: risk(self.s, g, self.Pi, Delta).total for name, g in self.learned.items()}

    def alpha_ratio(self) -> dict:
        """Median over k <= 10 of alpha_k / (Delta / Pi_k) for each learned filter."""
        ref = self.delta**2 / self.Pi[:10]
        return {name: float(np.nanmedian(explaining_alpha(self.s, g)[:10] / ref)) for name, g in self.learned.items()}

    def table(self) -> str:
        risks, ratios = self.risks(), self.alpha_ratio()
        Delta = self.delta**2
        lines = ["risk of each learned filter; median over k <= 10 of alpha_k / (Delta/Pi_k):",
                 f"{'paradigm':<30} {'risk':>9} {'excess':>9} {'alpha ratio':>12}"]
        for name, g in self.learned.items():
            lines.append(f"{name:<30} {risks[name]:9.4f} {P.excess_risk(self.s, g, self.Pi, Delta):9.2e} "
                         f"{ratios[name]:12.3f}")
        lines.append(f"{'MSE filter (closed form)':<30} {optimal_risk(self.s, self.Pi, Delta):9.4f}")
        return "\n".join(lines)


def all_filters(denoiser: DenoiserProx, post: PostOnPinv, selfsup: SelfSupervised) -> AllFilters:
    r"""Collect the filters that each paradigm learned in the chapter's experiments (same setting).

    Parameters
    ----------
    denoiser : DenoiserProx
        Its denoiser learned within :math:`[0,1]` gives PnP (step 1); the unconstrained one, trained on
        white image noise of variance :math:`\delta^2`, gives post-processing.
    post : PostOnPinv
        The denoiser learned on :math:`A^+` output.
    selfsup : SelfSupervised
        Supervised, self-supervised and SURE filters at its largest K.
    """
    for name, obj, cls in (("denoiser", denoiser, DenoiserProx), ("post", post, PostOnPinv),
                           ("selfsup", selfsup, SelfSupervised)):
        if not isinstance(obj, cls):
            raise ValueError(f"{name} must be a {cls.__name__}, got {type(obj).__name__}")
    if not (denoiser.n == post.n == selfsup.n) or not np.allclose(denoiser.Pi, selfsup.Pi) \
            or post.delta != selfsup.delta or not np.isclose(denoiser.tau, selfsup.delta**2):
        raise ValueError("denoiser, post and selfsup must share n, b and the noise level (tau = delta^2)")
    s, Pi, delta = selfsup.s, selfsup.Pi, selfsup.delta
    learned = {
        "supervised": selfsup.learned["supervised"],
        "PnP (tau = Delta)": P.pnp_fixed_point_filter(s, denoiser.d_hat, 1.0),
        "post-processing, white tau": P.post_processing_filter(s, denoiser.d_free),
        "post-processing on A^+ output": post.g_hat,
        "self-supervised": selfsup.learned["self-supervised"],
        "SURE": selfsup.learned["sure"],
    }
    closed = {"mse": mse_filter(s, Pi, delta**2),
              "post-white": P.post_processing_filter(s, P.mmse_denoiser(Pi, denoiser.tau))}
    reduces_to = {name: ("post-white" if "white" in name else "mse") for name in learned}
    return AllFilters(s=s, Pi=Pi, delta=delta, learned=learned, closed=closed, reduces_to=reduces_to)
