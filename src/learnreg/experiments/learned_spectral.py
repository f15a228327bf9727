r"""Chapter 2: learned spectral regularization, trained in the supervised way.

The book's setting: the integration operator at :math:`n = 256`, Gaussian
random fields with :math:`\Pi_k = k^{-2}` in its singular basis, white noise of
level :math:`\delta = 10^{-2}`. Five experiments:

* :func:`risk_check`: the risk decomposition against a Monte-Carlo average on
  samples drawn on the grid;
* :func:`erm_convergence`: the empirical risk minimiser from K samples and its
  excess risk :math:`\mathcal R(g)/(K-2)`;
* :func:`gradient_training`: Adam on the same loss reaches the closed-form
  minimiser; the number of steps (passes over the data) it needs;
* :func:`alpha_recovery`: the component-wise Tikhonov parameters read off the
  *empirical* filter converge to :math:`\Delta_k/\Pi_k`, at the rate and with
  the constant the delta method predicts;
* :func:`stability`: noise of fixed norm on the last singular vector, at
  several resolutions of integration and of the Radon transform; the learned
  filter stays within a resolution-independent bound that the pseudo-inverse
  exceeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_int, check_real, check_rng
from ..book.claims import Check
from ..data import ellipse_phantoms, gaussian_random_field, power_law_moments, substream, white_noise
from ..fitting import fit_power_law
from ..operators import Integration, LinearOperator
from ..spectral import (
    apply_filter,
    empirical_filter,
    mse_filter,
    optimal_risk,
    pseudo_inverse_filter,
    regularization_parameters,
    risk,
    sample_coefficients,
    tikhonov_bound,
    tikhonov_filter,
)
from ..training import train_filter_adam
from .operators import RADON_RESOLUTIONS, radon

__all__ = [
    "SEED",
    "Setting",
    "RiskCheck",
    "risk_check",
    "ErmConvergence",
    "erm_convergence",
    "GradientTraining",
    "gradient_training",
    "AlphaRecovery",
    "alpha_recovery",
    "Stability",
    "stability",
    "INTEGRATION_RESOLUTIONS",
]

#: Seed of the chapter's generator.
SEED = 20251209

#: Resolutions of the integration operator in the stability experiment.
INTEGRATION_RESOLUTIONS = (64, 256, 1024)

#: Tolerance of the fitted K^(-1/2) rates (the fits span at least three decades of K).
RATE_TOLERANCE = 0.05


@dataclass(frozen=True)
class Setting:
    r"""The chapter's model: integration at resolution n, :math:`\Pi_k = k^{-b}`, white noise of level delta."""

    n: int = 256
    b: float = 2.0
    delta: float = 1e-2

    def __post_init__(self):
        object.__setattr__(self, "n", check_int(self.n, "n", minimum=4, maximum=2**14))
        object.__setattr__(self, "b", check_real(self.b, "b", positive=True))
        object.__setattr__(self, "delta", check_real(self.delta, "delta", positive=True))

    @property
    def operator(self) -> Integration:
        return Integration(self.n)

    @property
    def s(self) -> np.ndarray:
        return self.operator.svd().s

    @property
    def Pi(self) -> np.ndarray:
        return power_law_moments(self.n, self.b)

    @property
    def Delta(self) -> np.ndarray:
        return np.full(self.n, self.delta**2)

    def describe(self) -> str:
        return f"integration, n = {self.n}; Pi_k = k^-{self.b:g}; white noise, delta = {self.delta:g}"


def _setting(setting) -> Setting:
    if setting is None:
        return Setting()
    if not isinstance(setting, Setting):
        raise ValueError(f"setting must be a learned_spectral.Setting, got {type(setting).__name__}")
    return setting


def _sizes(Ks, name: str, minimum: int) -> np.ndarray:
    if isinstance(Ks, (str, bytes)) or not hasattr(Ks, "__len__") or len(Ks) < 3:
        raise ValueError(f"{name} must be a sequence of at least 3 sample sizes")
    out = np.array([check_int(K, f"{name}: K", minimum=minimum, maximum=10**7) for K in Ks])
    if np.any(np.diff(out) <= 0):
        raise ValueError(f"{name} must be strictly increasing, got {out.tolist()}")
    return out


def _grid_pairs(setting: Setting, count: int, rng: np.random.Generator):
    """Pairs on the grid: x a Gaussian random field, y = Ax + white noise (A applied on the grid)."""
    op = setting.operator
    X = gaussian_random_field(op.svd().U, setting.Pi, count, rng)
    return X, op.apply(X) + white_noise(op.weights_y, setting.delta, count, rng)


# ---------------------------------------------------------------------------
# The risk decomposition
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskCheck:
    """Exact risk of the MSE filter against its Monte-Carlo average on grid samples.

    Attributes
    ----------
    setting : Setting
    data, noise : float
        The two terms of the risk decomposition (the null space of integration is trivial).
    mc_mean, mc_se : float
        Mean of :math:`\\|R_gy_i - x_i\\|^2` over the test pairs and its standard error.
    n_test : int
    """

    setting: Setting
    data: float
    noise: float
    mc_mean: float
    mc_se: float
    n_test: int

    @property
    def exact(self) -> float:
        return self.data + self.noise

    @property
    def deviation(self) -> float:
        """Absolute difference, Monte Carlo minus exact, in standard errors."""
        return abs(self.mc_mean - self.exact) / self.mc_se

    def table(self) -> str:
        return "\n".join([
            self.setting.describe(),
            f"exact risk {self.exact:.5f} = data term {self.data:.5f} + noise term {self.noise:.5f}",
            f"Monte-Carlo mean over {self.n_test} test pairs: {self.mc_mean:.5f} +- {self.mc_se:.5f} "
            f"({self.deviation:.2f} standard errors)",
        ])

    def claims(self) -> list[Check]:
        return [Check("ch2-risk-mc", "The Monte-Carlo risk of the MSE filter on samples drawn on the grid matches the "
                      "risk decomposition (deviation in standard errors)", self.deviation, 0.0, 4.0, kind="max")]


def risk_check(rng: np.random.Generator, setting: Setting | None = None, *, n_test: int = 4000) -> RiskCheck:
    """Monte-Carlo average of the MSE filter's error on pairs drawn on the grid, against the risk decomposition."""
    check_rng(rng)
    st = _setting(setting)
    n_test = check_int(n_test, "n_test", minimum=10, maximum=10**6)
    op, s, Pi, Delta = st.operator, st.s, st.Pi, st.Delta
    g = mse_filter(s, Pi, Delta)
    X, Y = _grid_pairs(st, n_test, substream(rng, "risk-check"))
    err = op.norm_x(apply_filter(op.svd(), g, Y) - X) ** 2
    exact = risk(s, g, Pi, Delta)
    return RiskCheck(setting=st, data=exact.data, noise=exact.noise, mc_mean=float(err.mean()),
                     mc_se=float(err.std(ddof=1) / np.sqrt(n_test)), n_test=n_test)


# ---------------------------------------------------------------------------
# Learning from samples
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ErmConvergence:
    r"""Excess risk of the empirical risk minimiser against the number of training pairs K.

    Attributes
    ----------
    Ks : ndarray
    reps : int
        Independent training sets per K.
    optimal : float
        :math:`\mathcal R(g)` of the MSE filter.
    excess : ndarray, shape (len(Ks), reps)
        :math:`\mathcal R(\hat g) - \mathcal R(g)` for each training set (exact risks).
    predicted : ndarray
        :math:`\mathcal R(g)/(K-2)`.
    slope : float
        Fitted exponent of the coefficient error :math:`(\text{mean excess})^{1/2}` against K.
    """

    setting: Setting
    Ks: np.ndarray
    reps: int
    optimal: float
    excess: np.ndarray
    predicted: np.ndarray
    slope: float

    @property
    def mean(self) -> np.ndarray:
        return self.excess.mean(axis=1)

    @property
    def se(self) -> np.ndarray:
        return self.excess.std(axis=1, ddof=1) / np.sqrt(self.reps)

    @property
    def deviations(self) -> np.ndarray:
        return np.abs(self.mean - self.predicted) / self.se

    @property
    def coefficient_error(self) -> np.ndarray:
        r""":math:`\|\hat g - g\|_\sigma`, the square root of the mean excess risk."""
        return np.sqrt(self.mean)

    def table(self) -> str:
        lines = [f"optimal risk R(g) = {self.optimal:.5f}; {self.reps} training sets per K",
                 f"{'K':>6} {'mean excess':>12} {'R/(K-2)':>10} {'dev/se':>7}"]
        for K, m, p, d in zip(self.Ks, self.mean, self.predicted, self.deviations):
            lines.append(f"{K:6d} {m:12.3e} {p:10.3e} {d:7.2f}")
        lines.append(f"fitted slope of ||g_hat - g||_sigma against K: {self.slope:.3f} (theory -1/2)")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        return [
            Check("ch2-erm-excess", "The mean excess risk of the empirical minimiser equals $\\mathcal R(g)/(K-2)$ at "
                  "every $K$ (largest deviation, in standard errors)", float(self.deviations.max()), 0.0, 4.0,
                  kind="max", figure="fig-ch2-learned"),
            Check("ch2-erm-slope", "The coefficient error $\\|\\hat g - g\\|_\\sigma$ of the empirical minimiser "
                  "decays like $K^{-1/2}$ (fitted slope)", self.slope, -0.5, RATE_TOLERANCE, figure="fig-ch2-learned"),
        ]


def erm_convergence(rng: np.random.Generator, setting: Setting | None = None, *,
                    Ks=(16, 64, 256, 1024, 4096, 16384), reps: int = 20) -> ErmConvergence:
    """Learn the empirical minimiser from ``reps`` independent training sets of each size K.

    The pairs are drawn directly in the singular basis
    (:func:`learnreg.spectral.sample_coefficients`), which by orthonormality is
    the same as drawing on the grid and projecting; the risks are exact.
    """
    check_rng(rng)
    st = _setting(setting)
    Ks = _sizes(Ks, "Ks", minimum=3)
    reps = check_int(reps, "reps", minimum=2, maximum=10**4)
    s, Pi, Delta = st.s, st.Pi, st.Delta
    r = substream(rng, "erm-convergence")
    r_opt = optimal_risk(s, Pi, Delta)

    def excess_risk(K):
        g_hat = empirical_filter(*sample_coefficients(s, Pi, Delta, int(K), r))
        return risk(s, g_hat, Pi, Delta).total - r_opt

    excess = np.array([[excess_risk(K) for _ in range(reps)] for K in Ks])
    slope = fit_power_law(Ks, np.sqrt(excess.mean(axis=1))).slope
    return ErmConvergence(setting=st, Ks=Ks, reps=reps, optimal=r_opt, excess=excess, predicted=r_opt / (Ks - 2),
                          slope=float(slope))


# ---------------------------------------------------------------------------
# Gradient training
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GradientTraining:
    r"""Adam against the closed-form empirical minimiser on the same K training pairs.

    Attributes
    ----------
    K : int
    s, g_mse, g_hat, g_adam : ndarray
        Singular values, the MSE filter, the closed-form empirical minimiser and Adam's filter.
    risks : ndarray, shape (n_steps,)
        Exact test risk of Adam's filter after each step.
    risk_mse, risk_hat : float
        Exact test risks of the MSE filter and of the empirical minimiser.
    coefficient_gap : float
        :math:`\max_k|g^{\rm Adam}_k - \hat g_k| / \max_k|\hat g_k|` at the end.
    steps_to_target : int
        The first step after which Adam's test risk is within 1 % of the empirical minimiser's
        (0 if never).
    """

    setting: Setting
    K: int
    s: np.ndarray
    g_mse: np.ndarray
    g_hat: np.ndarray
    g_adam: np.ndarray
    risks: np.ndarray
    risk_mse: float
    risk_hat: float
    coefficient_gap: float
    steps_to_target: int
    lr: float
    lr_decay: float

    @property
    def n_steps(self) -> int:
        return int(self.risks.size)

    def table(self) -> str:
        reached = (f"after {self.steps_to_target} steps" if self.steps_to_target else
                   f"not within {self.n_steps} steps")
        gap = "below 1e-6" if self.coefficient_gap < 1e-6 else f"{self.coefficient_gap:.2g}"
        return "\n".join([
            f"K = {self.K} training pairs drawn on the grid; test risks (exact):",
            f"  {'MSE filter (closed form, knows Pi and Delta)':<48} {self.risk_mse:.5f}",
            f"  {'empirical minimiser (closed form, one pass)':<48} {self.risk_hat:.5f}",
            f"  {f'Adam, {self.n_steps} steps (one pass per step)':<48} {self.risks[-1]:.5f}",
            f"Adam within 1 % of the empirical minimiser's risk: {reached}",
            f"largest |g_adam - g_hat| / max|g_hat|: {gap}",
        ])

    def claims(self) -> list[Check]:
        return [
            Check("ch2-adam-risk", f"Adam ({self.n_steps} steps) reaches the test risk of the closed-form empirical "
                  "minimiser (ratio of test risks)", float(self.risks[-1] / self.risk_hat), 1.0, 0.01, kind="max",
                  figure="fig-ch2-learned"),
            Check("ch2-adam-coef", "Adam's coefficients agree with the closed-form empirical minimiser (largest "
                  "difference relative to $\\max_k|\\hat g_k|$)", self.coefficient_gap, 0.0, 1e-2, kind="max",
                  figure="fig-ch2-learned"),
        ]


def gradient_training(rng: np.random.Generator, setting: Setting | None = None, *, K: int = 1000,
                      n_steps: int = 3000, lr: float = 0.1, lr_decay: float = 1e-2) -> GradientTraining:
    """Train the filter with full-batch Adam from g = 0 on K grid pairs; compare with the closed form."""
    check_rng(rng)
    st = _setting(setting)
    K = check_int(K, "K", minimum=2, maximum=10**6)
    n_steps = check_int(n_steps, "n_steps", minimum=1, maximum=10**6)
    s, Pi, Delta = st.s, st.Pi, st.Delta
    svd = st.operator.svd()
    X, Y = _grid_pairs(st, K, substream(rng, "gradient-training"))
    cx, cy = svd.coefficients_x(X), svd.coefficients_y(Y)
    g_hat = empirical_filter(cx, cy)
    risks = []

    def record(g):  # evaluated after every step; never stops the training
        risks.append(float(np.sum((1 - s * g) ** 2 * Pi + g**2 * Delta)))
        return False

    adam = train_filter_adam(cx, cy, n_steps=n_steps, lr=lr, lr_decay=lr_decay, stop=record, check_every=1)
    risks = np.array(risks)
    risk_hat = risk(s, g_hat, Pi, Delta).total
    within = np.nonzero(risks <= 1.01 * risk_hat)[0]
    return GradientTraining(
        setting=st, K=K, s=s, g_mse=mse_filter(s, Pi, Delta), g_hat=g_hat, g_adam=adam.g, risks=risks,
        risk_mse=optimal_risk(s, Pi, Delta), risk_hat=risk_hat,
        coefficient_gap=float(np.max(np.abs(adam.g - g_hat)) / np.max(np.abs(g_hat))),
        steps_to_target=int(within[0] + 1) if within.size else 0, lr=lr, lr_decay=lr_decay,
    )


# ---------------------------------------------------------------------------
# What the learned filter explains: alpha_k
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaRecovery:
    r"""Component-wise Tikhonov parameters read off empirical filters, against :math:`\Delta_k/\Pi_k`.

    Attributes
    ----------
    band : ndarray
        The indices k (one-based) whose signal-to-noise ratio
        :math:`\mathrm{SNR}_k = s_k^2\Pi_k/\Delta_k` lies in ``snr_band``.
    Ks : ndarray
    reps : int
    rel_rmse : ndarray
        RMS over the band and the training sets of :math:`\hat\alpha_k/\alpha_k - 1`.
    predicted : ndarray
        The delta method's :math:`\big(\mathrm{mean}_k\,c_k^2/K\big)^{1/2}`,
        :math:`c_k = \mathrm{SNR}_k^{1/2} + \mathrm{SNR}_k^{-1/2}`.
    z2_mean, z2_se : ndarray
        Mean of :math:`((\hat\alpha_k/\alpha_k - 1)\sqrt K/c_k)^2` (1 by the delta method) and its
        standard error, per K.
    slope : float
        Fitted exponent of ``rel_rmse`` against K.
    K_display : int
        Size of the training set of the displayed filter ``g_display`` (all modes).
    """

    setting: Setting
    snr_band: tuple
    band: np.ndarray
    Ks: np.ndarray
    reps: int
    rel_rmse: np.ndarray
    predicted: np.ndarray
    z2_mean: np.ndarray
    z2_se: np.ndarray
    slope: float
    K_display: int
    g_display: np.ndarray
    alpha_fixed: float

    @property
    def s(self) -> np.ndarray:
        return self.setting.s

    @property
    def alpha(self) -> np.ndarray:
        r""":math:`\Delta_k/\Pi_k` for every k."""
        return self.setting.Delta / self.setting.Pi

    @property
    def level_deviation(self) -> float:
        """Largest absolute value of (mean z^2) - 1 in standard errors, over the K of the level check (K >= 1024)."""
        use = self.Ks >= 1024
        return float(np.max(np.abs(self.z2_mean[use] - 1) / self.z2_se[use]))

    def table(self) -> str:
        lo, hi = self.snr_band
        lines = [f"modes with SNR_k = s_k^2 Pi_k / Delta_k in [{lo:g}, {hi:g}]: k = {self.band[0]}..{self.band[-1]}",
                 f"{self.reps} training sets per K; relative error of alpha_k = s_k/g_k - s_k^2",
                 "read off the empirical filter g_hat:",
                 f"{'K':>7} {'RMS rel. error':>15} {'delta method':>13} {'mean z^2':>9} {'+-':>6}"]
        for K, e, p, z, se in zip(self.Ks, self.rel_rmse, self.predicted, self.z2_mean, self.z2_se):
            lines.append(f"{K:7d} {e:15.4f} {p:13.4f} {z:9.3f} {se:6.3f}")
        lines.append(f"fitted slope of the RMS relative error against K: {self.slope:.3f} (theory -1/2)")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        lo, hi = self.snr_band
        return [
            Check("ch2-alpha-rate", "The component-wise Tikhonov parameters $\\hat\\alpha_k = s_k/\\hat g_k - s_k^2$ "
                  "read off the empirical filter converge to $\\Delta_k/\\Pi_k$ like $K^{-1/2}$ (fitted slope of "
                  f"the RMS relative error over the modes with $\\mathrm{{SNR}}_k \\in [{lo:g}, {hi:g}]$)",
                  self.slope, -0.5, RATE_TOLERANCE, figure="fig-ch2-alpha"),
            Check("ch2-alpha-level", "The relative error of $\\hat\\alpha_k$ has the size the delta method predicts, "
                  "$(\\mathrm{SNR}_k^{1/2} + \\mathrm{SNR}_k^{-1/2})/\\sqrt K$ (largest deviation of the mean squared "
                  "standardised error from 1, in standard errors, $K \\ge 1024$)", self.level_deviation, 0.0, 4.0,
                  kind="max", figure="fig-ch2-alpha"),
        ]


def alpha_recovery(rng: np.random.Generator, setting: Setting | None = None, *,
                   Ks=(256, 1024, 4096, 16384, 65536), reps: int = 100, snr_band=(0.1, 10.0),
                   K_display: int = 1000, alpha_fixed: float = 1e-3) -> AlphaRecovery:
    r"""Read :math:`\hat\alpha_k` off empirical filters learned from K pairs and compare with :math:`\Delta_k/\Pi_k`.

    Only the modes of the band are sampled (the modes are independent, so
    this is the same as sampling all and keeping these). The band is fixed by
    the delta method before looking: the relative error of :math:`\hat\alpha_k`
    is about :math:`(\mathrm{SNR}_k^{1/2} + \mathrm{SNR}_k^{-1/2})/\sqrt K`,
    smallest where signal and noise are comparable; outside the band the
    reading is dominated by cancellation (large SNR) or by the sign of a noisy
    :math:`\hat g_k` (small SNR).
    """
    check_rng(rng)
    st = _setting(setting)
    Ks = _sizes(Ks, "Ks", minimum=16)
    reps = check_int(reps, "reps", minimum=2, maximum=10**5)
    if isinstance(snr_band, (str, bytes)) or not hasattr(snr_band, "__len__") or len(snr_band) != 2:
        raise ValueError("snr_band must be a pair (low, high)")
    lo = check_real(snr_band[0], "snr_band[0]", positive=True)
    hi = check_real(snr_band[1], "snr_band[1]", positive=True)
    if not lo < hi:
        raise ValueError(f"snr_band must be increasing, got {snr_band}")
    K_display = check_int(K_display, "K_display", minimum=2, maximum=10**6)
    alpha_fixed = check_real(alpha_fixed, "alpha_fixed", positive=True)
    s, Pi, Delta = st.s, st.Pi, st.Delta
    snr = s**2 * Pi / Delta
    idx = np.nonzero((snr >= lo) & (snr <= hi))[0]
    if idx.size == 0:
        raise ValueError(f"no mode has a signal-to-noise ratio in snr_band {snr_band}")
    sb, Pb, Db = s[idx], Pi[idx], Delta[idx]
    alpha_b = Db / Pb
    c2 = (np.sqrt(snr[idx]) + 1 / np.sqrt(snr[idx])) ** 2
    r = substream(rng, "alpha-recovery")
    rel, z2m, z2se = [], [], []
    for K in Ks:
        errs = np.array([regularization_parameters(sb, empirical_filter(*sample_coefficients(sb, Pb, Db, int(K), r)))
                         / alpha_b - 1 for _ in range(reps)])
        z2 = (errs**2 * K / c2).ravel()
        rel.append(np.sqrt(np.mean(errs**2)))
        z2m.append(z2.mean())
        z2se.append(z2.std(ddof=1) / np.sqrt(z2.size))
    rel = np.array(rel)
    g_display = empirical_filter(*sample_coefficients(s, Pi, Delta, K_display, substream(rng, "alpha-display")))
    return AlphaRecovery(
        setting=st, snr_band=(lo, hi), band=idx + 1, Ks=Ks, reps=reps, rel_rmse=rel,
        predicted=np.sqrt(np.mean(c2) / Ks), z2_mean=np.array(z2m), z2_se=np.array(z2se),
        slope=float(fit_power_law(Ks, rel).slope), K_display=K_display, g_display=g_display, alpha_fixed=alpha_fixed,
    )


# ---------------------------------------------------------------------------
# Stability across resolutions
# ---------------------------------------------------------------------------

_METHODS = ("pseudo-inverse", "tikhonov", "learned")


@dataclass(frozen=True)
class Stability:
    r"""Noise :math:`\varepsilon v_r` on the last singular vector, at several resolutions of two operators.

    For each operator (``'integration'``, ``'radon'``) and resolution, the
    held-out RMS errors of :math:`A^+`, Tikhonov with a fixed :math:`\alpha` and
    the learned filter (the empirical minimiser from training pairs with white
    noise of level :math:`\delta`), with and without the noise.

    Attributes
    ----------
    ns : dict
        Resolutions per operator.
    errors, clean : dict
        ``errors[op][method]``: ndarray over the resolutions.
    s_min : dict
        Smallest singular value per resolution.
    allowance : dict
        Per resolution, :math:`B = \max_k \tfrac12\sqrt{\hat\Pi_k/\delta^2}` from the training
        signals' empirical moments (:func:`learnreg.spectral.tikhonov_bound`): no MSE filter
        amplifies noise on a single singular vector by more than B. It is a property of the data,
        so it hardly changes with the resolution.
    """

    delta: float
    eps: float
    alpha: float
    ns: dict
    s_min: dict
    errors: dict
    clean: dict
    allowance: dict
    n_train: dict
    n_test: dict

    def noise_ratio(self, op: str, method: str) -> np.ndarray:
        r"""(error - clean error) / (eps B) per resolution: at most 1 for a filter within the bound."""
        return (self.errors[op][method] - self.clean[op][method]) / (self.eps * self.allowance[op])

    def table(self) -> str:
        lines = [f"noise eps*v_r with eps = {self.eps:g}; learned filter trained with white noise,",
                 f"delta = {self.delta:g}; Tikhonov with alpha = {self.alpha:g}. RMS held-out errors (the learned",
                 "filter's noise-free error in brackets) and the bound eps*B on its noise part:"]
        for op in self.ns:
            lines.append(f"{op}: {self.n_train[op]} training, {self.n_test[op]} test signals")
            lines.append(f"  {'n':>5} {'s_min':>9} {'A^+':>9} {'Tikhonov':>9} {'learned':>17} {'eps*B':>7}")
            for i, n in enumerate(self.ns[op]):
                e = self.errors[op]
                learned = f"{e['learned'][i]:.3f} ({self.clean[op]['learned'][i]:.3f})"
                lines.append(f"  {n:5d} {self.s_min[op][i]:9.2e} {e['pseudo-inverse'][i]:9.3f} "
                             f"{e['tikhonov'][i]:9.3f} {learned:>17} {self.eps * self.allowance[op][i]:7.3f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        out = []
        for op in self.ns:
            lo, hi = self.ns[op][0], self.ns[op][-1]
            out.append(Check(
                f"ch2-stab-{op}-learned", f"{op.capitalize()}, $n = {lo}, \\dots, {hi}$: at every resolution the "
                "learned filter's held-out error with noise $\\varepsilon v_r$ exceeds its noise-free error by at most "
                "$\\varepsilon B$, where $B = \\max_k \\frac12\\sqrt{\\hat\\Pi_k/\\Delta_k}$ is a property of the "
                "training data, not of $n$ (largest ratio of the excess to $\\varepsilon B$)",
                float(self.noise_ratio(op, "learned").max()), 1.0, 0.0, kind="max", figure="fig-ch2-stability"))
            out.append(Check(
                f"ch2-stab-{op}-pinv", f"{op.capitalize()}: the pseudo-inverse fails the same bound at the finest "
                f"resolution $n = {hi}$ (ratio of its excess error to $\\varepsilon B$)",
                float(self.noise_ratio(op, "pseudo-inverse")[-1]), 1.0, 0.0, kind="min", figure="fig-ch2-stability"))
        return out


def _stability_one(op: LinearOperator, X_train, X_test, delta, eps, alpha, rng):
    svd = op.svd()
    Y_train = op.apply(X_train) + white_noise(op.weights_y, delta, X_train.shape[0], rng)
    cx = svd.coefficients_x(X_train)
    filters = {
        "pseudo-inverse": pseudo_inverse_filter(svd.s),
        "tikhonov": tikhonov_filter(svd.s, alpha),
        "learned": empirical_filter(cx, svd.coefficients_y(Y_train)),
    }
    AX = op.apply(X_test)
    noise = eps * svd.vectors_y(-1)[:, 0]  # v_r, without forming the dense V (factored at Radon n = 128)
    err, clean = {}, {}
    for name, g in filters.items():
        clean[name] = float(np.sqrt(np.mean(op.norm_x(apply_filter(svd, g, AX) - X_test) ** 2)))
        err[name] = float(np.sqrt(np.mean(op.norm_x(apply_filter(svd, g, AX + noise) - X_test) ** 2)))
    Pi_hat = np.mean(cx**2, axis=0)
    return float(svd.s[-1]), err, clean, Pi_hat


def stability(rng: np.random.Generator, *, integration_ns=INTEGRATION_RESOLUTIONS, radon_ns=RADON_RESOLUTIONS,
              delta: float = 1e-2, eps: float = 1e-2, alpha: float = 1e-3, b: float = 2.0,
              n_train=(500, 400), n_test=(100, 50)) -> Stability:
    r"""Errors of :math:`A^+`, Tikhonov and the learned filter when noise :math:`\varepsilon v_r` sits on the last
    singular vector, for integration (Gaussian random fields, :math:`\Pi_k = k^{-b}`) and the Radon transform
    (random ellipse phantoms), at each resolution.

    The bound :math:`B` is :func:`learnreg.spectral.tikhonov_bound` of the
    training signals' empirical moments :math:`\hat\Pi_k` (at the finest
    resolution) and :math:`\Delta_k = \delta^2`, maximised over k. By the
    triangle inequality, a filter whose last coefficient obeys
    :math:`|g_r| \le B` has an error with noise at most its noise-free error
    plus :math:`\varepsilon B`.
    """
    check_rng(rng)
    delta = check_real(delta, "delta", positive=True)
    eps = check_real(eps, "eps", positive=True)
    alpha = check_real(alpha, "alpha", positive=True)
    b = check_real(b, "b", positive=True)
    ns = {}
    for name, value, lo in (("integration", integration_ns, 8), ("radon", radon_ns, 4)):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) < 2:
            raise ValueError(f"{name}_ns must be a sequence of at least two resolutions")
        ns[name] = tuple(check_int(n, f"{name}_ns: n", minimum=lo, maximum=2**14) for n in value)
        if list(ns[name]) != sorted(set(ns[name])):
            raise ValueError(f"{name}_ns must be strictly increasing, got {list(value)}")
    sizes = {}
    for label, pair in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ValueError(f"{label} must be a pair (integration, radon)")
        sizes[label] = dict(zip(ns, (check_int(v, label, minimum=2, maximum=10**5) for v in pair)))
    s_min, errors, clean, allowance = {}, {}, {}, {}
    for name in ns:
        r = substream(rng, f"stability-{name}")
        rows = []
        for n in ns[name]:
            if name == "integration":
                op = Integration(n)
                U, Pi = op.svd().U, power_law_moments(n, b)
                X_tr = gaussian_random_field(U, Pi, sizes["n_train"][name], r)
                X_te = gaussian_random_field(U, Pi, sizes["n_test"][name], r)
            else:
                op = radon(n)
                X_tr = ellipse_phantoms(n, sizes["n_train"][name], r).reshape(sizes["n_train"][name], -1)
                X_te = ellipse_phantoms(n, sizes["n_test"][name], r).reshape(sizes["n_test"][name], -1)
            rows.append(_stability_one(op, X_tr, X_te, delta, eps, alpha, r))
        s_min[name] = np.array([row[0] for row in rows])
        errors[name] = {m: np.array([row[1][m] for row in rows]) for m in _METHODS}
        clean[name] = {m: np.array([row[2][m] for row in rows]) for m in _METHODS}
        allowance[name] = np.array([np.max(tikhonov_bound(row[3], np.full(row[3].size, delta**2))) for row in rows])
    return Stability(delta=delta, eps=eps, alpha=alpha, ns=ns, s_min=s_min, errors=errors, clean=clean,
                     allowance=allowance, n_train=sizes["n_train"], n_test=sizes["n_test"])
