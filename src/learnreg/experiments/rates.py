r"""Chapter 3: convergence rates and the role of training-data smoothness.

Four experiments:

* :func:`matched_rates`: the risk of the MSE filter in the diagonal model
  :math:`s_k = k^{-a}`, :math:`\Pi_k = k^{-b}`, white noise, against
  :math:`\delta`; fitted slope against :math:`2(b-1)/(2a+b)`;
* :func:`mismatch_rates`: trained with smoothness :math:`b`, tested with
  :math:`c`; fitted slope against :math:`2(\min(b,c)-1)/(2a+b)`;
* :func:`noise_mismatch`: trained with noise :math:`\delta^2k^{-p}`, tested
  with :math:`\delta^2k^{-q}`;
* :func:`sampled_rates`: filters learned from sample sets for the integration
  operator, with the error measured on held-out samples.

The fit window of the model experiments, :math:`\delta\in[10^{-8},10^{-4}]`,
is fixed by the theory before looking: the rates are asymptotic and need the
cut-off :math:`N = \delta^{-2/(2a+b)}` far inside the :math:`10^6` summed modes
and far above 1. Each result also reports the slopes over the two windows at
larger :math:`\delta` (:data:`ALTERNATIVE_WINDOWS`), so a reader sees how much
the fitted value depends on the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_array, check_int, check_real, check_rng
from ..book.claims import Check
from ..data import gaussian_random_field, power_law_moments, reversed_brownian_motion, substream, white_noise
from ..operators import Integration
from ..rates import (
    fit_rate,
    model_errors,
    model_filter,
    noise_rate_exponent,
    power_law_model,
    power_noise,
    rate_exponent,
    sampled_rate_errors,
)

__all__ = [
    "SEED",
    "FIT_WINDOW",
    "ALTERNATIVE_WINDOWS",
    "MatchedRates",
    "matched_rates",
    "MismatchRates",
    "mismatch_rates",
    "NoiseMismatch",
    "noise_mismatch",
    "SampledRates",
    "sampled_rates",
]

#: Seed of the chapter's generator.
SEED = 20251210

#: The fit window of the model experiments (decades of delta), fixed by the theory.
FIT_WINDOW = (-8.0, -4.0)

#: Windows shown beside it: the same four decades shifted towards larger noise.
ALTERNATIVE_WINDOWS = ((-6.0, -2.0), (-4.0, 0.0))

#: The tolerance of every fitted rate: asymptotic slopes within 0.05 over four decades.
RATE_TOLERANCE = 0.05


def _deltas(window, per_decade: int = 2) -> np.ndarray:
    lo, hi = window
    return np.logspace(lo, hi, int(round((hi - lo) * per_decade)) + 1)


def _window_slopes(errors_of, windows) -> tuple[float, ...]:
    """Fitted slope over each window; ``errors_of(deltas)`` evaluates the error curve."""
    out = []
    for w in windows:
        d = _deltas(w)
        out.append(fit_rate(d, errors_of(d)).slope)
    return tuple(out)


def _pairs(pairs, name: str) -> tuple[tuple[float, float], ...]:
    if isinstance(pairs, (str, bytes)) or not hasattr(pairs, "__len__") or len(pairs) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of (a, b) pairs")
    out = []
    for p in pairs:
        if not hasattr(p, "__len__") or len(p) != 2:
            raise ValueError(f"{name} must hold (a, b) pairs, got {p!r}")
        a = check_real(p[0], f"{name}: a", positive=True)
        b = check_real(p[1], f"{name}: b")
        if b <= 1:
            raise ValueError(f"{name}: b must be > 1, got {b}")
        out.append((a, b))
    return tuple(out)


def _window(deltas, name: str = "deltas") -> np.ndarray:
    deltas = as_array(deltas, name, ndim=1, positive=True)
    if deltas.shape[0] < 3:
        raise ValueError(f"{name} must hold at least 3 noise levels, got {deltas.shape[0]}")
    return np.sort(deltas)


# ---------------------------------------------------------------------------
# Matched rates
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchedRates:
    """Risk of the MSE filter against delta in the diagonal model, for several (a, b).

    Attributes
    ----------
    pairs : tuple of (a, b)
    deltas : ndarray, shape (m,)
    errors : ndarray, shape (len(pairs), m)
        Exact risk (summed over ``n_modes`` modes plus the closed-form tail).
    slopes : ndarray, shape (len(pairs),)
        Fitted exponents over ``deltas``.
    predicted : ndarray
        :math:`2(b-1)/(2a+b)`.
    window_slopes : ndarray, shape (len(pairs), len(ALTERNATIVE_WINDOWS))
        Fitted exponents over the alternative windows.
    cutoffs : ndarray
        :math:`N = \\delta^{-2/(2a+b)}` at the smallest delta.
    """

    pairs: tuple
    deltas: np.ndarray
    errors: np.ndarray
    slopes: np.ndarray
    predicted: np.ndarray
    window_slopes: np.ndarray
    cutoffs: np.ndarray

    def table(self) -> str:
        """Fitted and predicted slopes, and the slopes over the alternative windows."""
        heads = "".join(f"{f'[1e{lo:g}, 1e{hi:g}]':>15}" for lo, hi in ALTERNATIVE_WINDOWS)
        lines = [f"{'a':>4} {'b':>4} {'fitted':>8} {'theory':>8}   slope over other windows:",
                 f"{'':>4} {'':>4} {'':>8} {'':>8}   {heads}"]
        for (a, b), s, p, w in zip(self.pairs, self.slopes, self.predicted, self.window_slopes):
            lines.append(f"{a:4g} {b:4g} {s:8.3f} {p:8.3f}   " + "".join(f"{v:15.3f}" for v in w))
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        return [
            Check(f"ch3-rate-a{a:g}-b{b:g}",
                  f"Risk of the MSE filter scales as $\\delta^{{2(b-1)/(2a+b)}}$ for $a={a:g}$, $b={b:g}$ "
                  "(fitted slope over $\\delta\\in[10^{-8},10^{-4}]$)",
                  s, p, RATE_TOLERANCE, figure="fig-ch3-rate")
            for (a, b), s, p in zip(self.pairs, self.slopes, self.predicted)
        ]


def matched_rates(
    pairs=((1.0, 2.0), (1.0, 3.0), (2.0, 2.0), (0.5, 3.0), (1.5, 1.5)),
    deltas=None,
    *,
    n_modes: int = 10**6,
) -> MatchedRates:
    r"""Fit the rate of the MSE filter's risk in the diagonal model for each (a, b).

    Parameters
    ----------
    pairs : sequence of (a, b)
        Operator order :math:`a > 0` and smoothness :math:`b > 1`.
    deltas : array_like, optional
        Noise levels of the fit (default: :data:`FIT_WINDOW`, two per decade).
    n_modes : int
        Modes summed explicitly (the tail is added in closed form).
    """
    pairs = _pairs(pairs, "pairs")
    deltas = _deltas(FIT_WINDOW) if deltas is None else _window(deltas)
    n_modes = check_int(n_modes, "n_modes", minimum=10, maximum=10**7)
    errors = np.array([model_errors(a, b, deltas, n_modes=n_modes) for a, b in pairs])
    slopes = np.array([fit_rate(deltas, e).slope for e in errors])
    windows = np.array([_window_slopes(lambda d, a=a, b=b: model_errors(a, b, d, n_modes=n_modes), ALTERNATIVE_WINDOWS)
                        for a, b in pairs])
    return MatchedRates(
        pairs=pairs, deltas=deltas, errors=errors, slopes=slopes,
        predicted=np.array([rate_exponent(a, b) for a, b in pairs]), window_slopes=windows,
        cutoffs=np.array([deltas[0] ** (-2 / (2 * a + b)) for a, b in pairs]),
    )


# ---------------------------------------------------------------------------
# Smoothness mismatch
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MismatchRates:
    """Test error of filters trained with smoothness b on data of smoothness c.

    Attributes
    ----------
    a, c : float
    bs : ndarray
        Training smoothness values.
    deltas : ndarray
    errors : ndarray, shape (len(bs), m)
    slopes, predicted : ndarray, shape (len(bs),)
        Fitted and predicted :math:`2(\\min(b,c)-1)/(2a+b)` exponents.
    rival : ndarray
        The exponent of the *other* regime, :math:`2(\\max(b,c)-1)/(2a+b)`,
        which a correct fit must be far from.
    """

    a: float
    c: float
    bs: np.ndarray
    deltas: np.ndarray
    errors: np.ndarray
    slopes: np.ndarray
    predicted: np.ndarray
    rival: np.ndarray

    @property
    def best_b(self) -> float:
        """The training smoothness with the largest fitted slope."""
        return float(self.bs[int(np.argmax(self.slopes))])

    def table(self) -> str:
        lines = [f"a = {self.a:g}, c = {self.c:g}",
                 f"{'b':>5} {'fitted':>8} {'theory':>8} {'other regime':>13}"]
        for b, s, p, r in zip(self.bs, self.slopes, self.predicted, self.rival):
            lines.append(f"{b:5g} {s:8.3f} {p:8.3f} {r:13.3f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        out = [
            Check(f"ch3-mismatch-b{b:g}",
                  f"Trained with $b={b:g}$, tested with $c={self.c:g}$ ($a={self.a:g}$): the error scales as "
                  "$\\delta^{2(\\min(b,c)-1)/(2a+b)}$ (fitted slope)",
                  s, p, RATE_TOLERANCE, figure="fig-ch3-mismatch")
            for b, s, p in zip(self.bs, self.slopes, self.predicted)
        ]
        out.append(Check("ch3-mismatch-best",
                         f"The fastest measured rate for test smoothness $c={self.c:g}$ is attained by training "
                         "smoothness $b=c$ (the $b$ with the largest fitted slope)",
                         self.best_b, self.c, 0.0, figure="fig-ch3-mismatch"))
        return out


def mismatch_rates(a: float = 1.0, c: float = 2.0, bs=(1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0), deltas=None, *,
                   n_modes: int = 10**6) -> MismatchRates:
    r"""Fit the test-error rate of filters trained with each ``b`` and tested on smoothness ``c``."""
    a = check_real(a, "a", positive=True)
    c = check_real(c, "c")
    if c <= 1:
        raise ValueError(f"c must be > 1, got {c}")
    bs = as_array(bs, "bs", ndim=1)
    if np.any(bs <= 1):
        raise ValueError("bs must all be > 1")
    deltas = _deltas(FIT_WINDOW) if deltas is None else _window(deltas)
    n_modes = check_int(n_modes, "n_modes", minimum=10, maximum=10**7)
    errors = np.array([model_errors(a, b, deltas, c=c, n_modes=n_modes) for b in bs])
    return MismatchRates(
        a=a, c=c, bs=bs, deltas=deltas, errors=errors,
        slopes=np.array([fit_rate(deltas, e).slope for e in errors]),
        predicted=np.array([rate_exponent(a, b, c=c) for b in bs]),
        rival=np.array([2 * (max(b, c) - 1) / (2 * a + b) for b in bs]),
    )


# ---------------------------------------------------------------------------
# Training noise against test noise
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseMismatch:
    """Test error for training noise delta^2 k^-p and several test noises delta^2 k^-q.

    Attributes
    ----------
    a, b, p : float
    names : tuple of str
    qs : ndarray
    deltas : ndarray
    errors : ndarray, shape (len(qs), m)
    slopes, predicted : ndarray
    bound_ratio : float
        Largest ratio :math:`g_k^2\\Delta_k(\\nu) / \\big(\\tfrac{\\Pi_k}{4}\\Delta_k(\\nu)/\\Delta_k(\\mu)\\big)`
        over :math:`k \\le 10^5`, every delta and every test noise (at most 1 by the proposition).
    """

    a: float
    b: float
    p: float
    names: tuple
    qs: np.ndarray
    deltas: np.ndarray
    errors: np.ndarray
    slopes: np.ndarray
    predicted: np.ndarray
    bound_ratio: float

    def table(self) -> str:
        lines = [f"training noise delta^2 k^-{self.p:g}; a = {self.a:g}, b = {self.b:g}",
                 f"{'test noise':>10} {'q':>4} {'fitted':>8} {'theory':>8}"]
        for name, q, s, g in zip(self.names, self.qs, self.slopes, self.predicted):
            lines.append(f"{name:>10} {q:4g} {s:8.3f} {g:8.3f}")
        lines.append(f"largest ratio of the two sides of the noise bound: {self.bound_ratio:.4f} (at most 1)")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        out = [
            Check(f"ch3-noise-{name}",
                  f"Training noise $\\delta^2/\\sqrt{{k}}$, {name} test noise ($q={q:g}$): the error scales as "
                  "$\\delta^\\gamma$ with the predicted $\\gamma$ (fitted slope)",
                  s, g, RATE_TOLERANCE, figure="fig-ch3-noise")
            for name, q, s, g in zip(self.names, self.qs, self.slopes, self.predicted)
        ]
        out.append(Check("ch3-noise-bound",
                         "$g_k^2\\Delta_k(\\nu) \\le \\frac{\\Pi_k}{4}\\Delta_k(\\nu)/\\Delta_k(\\mu)$ for every $k$, "
                         "$\\delta$ and test noise (largest ratio of the two sides)",
                         self.bound_ratio, 1.0, 1e-12, kind="max", figure="fig-ch3-noise"))
        return out


def noise_mismatch(a: float = 1.0, b: float = 2.0, p: float = 0.5,
                   test_noises=(("white", 0.0), ("matched", 0.5), ("smoother", 4.0)), deltas=None, *,
                   n_modes: int = 10**6, bound_modes: int = 10**5) -> NoiseMismatch:
    r"""Train with noise :math:`\delta^2k^{-p}`, test with each :math:`\delta^2k^{-q}`; fit the rates."""
    a = check_real(a, "a", positive=True)
    b = check_real(b, "b")
    p = check_real(p, "p")
    if isinstance(test_noises, (str, bytes)) or not hasattr(test_noises, "__len__") or len(test_noises) == 0:
        raise ValueError("test_noises must be a non-empty sequence of (name, q) pairs")
    names = tuple(str(n) for n, _ in test_noises)
    qs = np.array([check_real(q, "test_noises: q") for _, q in test_noises])
    deltas = _deltas(FIT_WINDOW) if deltas is None else _window(deltas)
    n_modes = check_int(n_modes, "n_modes", minimum=10, maximum=10**7)
    bound_modes = check_int(bound_modes, "bound_modes", minimum=10, maximum=10**7)
    errors = np.array([model_errors(a, b, deltas, p=p, q=q, n_modes=n_modes) for q in qs])
    s, Pi = power_law_model(a, b, bound_modes)
    worst = 0.0
    for d in deltas:
        g = model_filter(a, b, d, bound_modes, p=p)
        train = power_noise(d, bound_modes, p)
        for q in qs:
            test = power_noise(d, bound_modes, q)
            worst = max(worst, float(np.max(g**2 * test / (Pi / 4 * test / train))))
    return NoiseMismatch(
        a=a, b=b, p=p, names=names, qs=qs, deltas=deltas, errors=errors,
        slopes=np.array([fit_rate(deltas, e).slope for e in errors]),
        predicted=np.array([noise_rate_exponent(a, b, p, q) for q in qs]), bound_ratio=worst,
    )


# ---------------------------------------------------------------------------
# Sample sets: the integration operator
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SampledRates:
    """Test errors of filters learned from K samples for the integration operator.

    Attributes
    ----------
    n, n_train, n_test : int
    deltas : ndarray
    names : tuple of str
        The data sets.
    smoothness : ndarray
        Their smoothness b (the exponent of :math:`\\Pi_k`).
    errors : ndarray, shape (len(names), m)
        Mean :math:`\\|R_{\\hat g}y - x\\|^2` over the held-out samples.
    slopes, predicted : ndarray
    cutoffs : ndarray, shape (2,)
        :math:`N = \\delta^{-2/(2+b)}` at the window's ends for b = 2.
    """

    n: int
    n_train: int
    n_test: int
    deltas: np.ndarray
    names: tuple
    smoothness: np.ndarray
    errors: np.ndarray
    slopes: np.ndarray
    predicted: np.ndarray
    cutoffs: np.ndarray

    def table(self) -> str:
        lines = [f"integration, n = {self.n}, {self.n_train} training and {self.n_test} test samples",
                 f"{'data set':>30} {'fitted':>8} {'theory':>8}"]
        for name, s, p in zip(self.names, self.slopes, self.predicted):
            lines.append(f"{name:>30} {s:8.3f} {p:8.3f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        out = []
        for name, b, s, p in zip(self.names, self.smoothness, self.slopes, self.predicted):
            tag = name.split(",")[0].split()[0].lower()
            out.append(Check(
                f"ch3-int-{tag}-b{b:g}",
                f"Integration, filter learned from {self.n_train} samples ({name}): the test error scales as "
                "$\\delta^{2(b-1)/(2a+b)}$ with $a=1$ (fitted slope over three decades)",
                s, p, RATE_TOLERANCE, figure="fig-ch3-integration"))
        return out


def sampled_rates(rng: np.random.Generator, *, n: int = 2048, n_train: int = 200, n_test: int = 200,
                  deltas=None) -> SampledRates:
    r"""Learn the filter from samples at each noise level and measure its error on held-out samples.

    Data sets: Gaussian random fields with :math:`\Pi_k = k^{-2}` and :math:`k^{-3}`
    in the singular basis of integration, and time-reversed Brownian motion
    :math:`x(t) = W(1-t)`, whose Karhunen–Loève basis is that singular basis
    with :math:`\Pi_k = ((k-\frac12)\pi)^{-2}` (smoothness 2) although it is
    not built from the SVD. The noise samples are frozen across noise levels.
    The default window :math:`\delta\in[10^{-4.5},10^{-1.5}]` keeps the
    cut-off :math:`N` between about 4 and 180, far below ``n``.
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=16, maximum=2**14)
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**5)
    n_test = check_int(n_test, "n_test", minimum=1, maximum=10**5)
    deltas = np.logspace(-4.5, -1.5, 7) if deltas is None else _window(deltas)
    op = Integration(n)
    svd = op.svd()
    noise_rng = substream(rng, "sampled-rates-noise")
    ce_train = svd.coefficients_y(white_noise(op.weights_y, 1.0, n_train, noise_rng))
    ce_test = svd.coefficients_y(white_noise(op.weights_y, 1.0, n_test, noise_rng))
    sets = {
        "GRF, b=2": (2.0, lambda m, r: gaussian_random_field(svd.U, power_law_moments(n, 2.0), m, r)),
        "GRF, b=3": (3.0, lambda m, r: gaussian_random_field(svd.U, power_law_moments(n, 3.0), m, r)),
        "Brownian motion W(1-t), b=2": (2.0, lambda m, r: reversed_brownian_motion(n, m, r)),
    }
    errors, slopes = [], []
    for name, (_, draw) in sets.items():
        r = substream(rng, f"sampled-rates-{name}")
        X_train, X_test = draw(n_train, r), draw(n_test, r)
        errs, _ = sampled_rate_errors(
            svd.coefficients_x(X_train), svd.coefficients_y(op.apply(X_train)), ce_train,
            svd.coefficients_x(X_test), svd.coefficients_y(op.apply(X_test)), ce_test, deltas)
        errors.append(errs)
        slopes.append(fit_rate(deltas, errs).slope)
    smooth = np.array([b for b, _ in sets.values()])
    return SampledRates(
        n=n, n_train=n_train, n_test=n_test, deltas=deltas, names=tuple(sets), smoothness=smooth,
        errors=np.array(errors), slopes=np.array(slopes), predicted=np.array([rate_exponent(1.0, b) for b in smooth]),
        cutoffs=np.array([deltas[-1] ** (-2 / 4), deltas[0] ** (-2 / 4)]),
    )
