r"""Chapter 8 (this book's extension): does the smoothness theory explain learning on real images?

Five experiments on the photographs and scans shipped inside scikit-image's
wheel (:mod:`learnreg.images`):

* :func:`smoothness`: the moments :math:`\hat\Pi_k` of image rows (integration
  and periodic blur, :math:`n = 256`) and patches (Radon transform at
  :math:`32^2` and :math:`64^2`) in each operator's singular basis, the fitted
  exponent :math:`b` with a bootstrap interval over images;
* :func:`rates`: spectral filters learned from real training images at many
  noise levels, their error on held-out images measured by simulation, and the
  fitted rate next to the prediction :math:`2(b-1)/(2a+b)` from the estimated
  :math:`a` and :math:`b`;
* :func:`transfer`: trained on one class, tested on another, against chapter
  3's mismatch proposition :math:`2(\min(b,c)-1)/(2a+b)`, and the rate lost
  against the filter trained on the test class;
* :func:`paradigms`: closed-form, empirical, gradient-trained, self-supervised
  and box-adversarial filters learned from real patches, and Radon
  reconstructions of held-out patches next to a truncated SVD (a filtered
  pseudo-inverse) and Tikhonov, with PSNR;
* :func:`radon_peer_check`: the book's Radon matrix and scikit-image's
  ``radon`` against the analytic Radon transform of a Gaussian.

Rules fixed before looking (every experiment states them):

* **Fit range** of the exponents: :math:`k\in[4, r/8]` (:func:`fit_range`), with
  ``r`` the number of singular values. The rate theory needs the cut-off
  :math:`N` far above 1 (as in chapter 3, :math:`N\ge4`) and far below the
  resolved modes, and it is the modes around :math:`N` that set the rate; so
  the exponents are fitted over the modes the cut-off visits. The exponents
  over :math:`[2, r/16]` and :math:`[8, r/4]` are shown beside
  (:func:`alternative_ranges`).
* **The** :math:`\delta` **window**: the noise levels at which the estimated
  cut-off :math:`N(\delta)`, defined by :math:`\hat s_N^2\hat\Pi_N = \delta^2`
  with the fitted power laws, lies in the fit range (:func:`delta_window`).
  The rate is fitted at 8 noise levels spread evenly (in log) over the window.
* **Tolerance** of a rate expectation: 0.05 (chapter 3's tolerance for an
  asymptotic slope) plus half the width of the 90 % bootstrap interval of the
  prediction.

Simulation: the noise is white, of level :math:`\delta` in the discrete
:math:`L^2` sense of the data space. Its coefficients
:math:`\langle e,v_k\rangle` in the orthonormal basis :math:`(v_k)` are then
independent :math:`N(0,\delta^2)`, and :math:`\langle Ax,v_k\rangle = s_k\langle x,u_k\rangle`;
the rate and transfer experiments draw the noise coefficients directly (frozen
across noise levels), learn the filter from the training images and measure
:math:`\|R_gy-x\|^2` on held-out images with fresh noise. The paradigm
experiment builds its data on the grid (:math:`y = Ax + \delta e` with
:math:`e` sampled on the grid) and reconstructs there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import images
from .._validate import as_array, check_choice, check_int, check_real, check_rng
from ..adversarial import box_filter, worst_case_errors
from ..book.claims import Check
from ..data import ellipse_phantoms, substream, white_noise
from ..fitting import fit_power_law
from ..operators import Radon, make_operator, pixel_grid
from ..paradigms import asymptotic_excess_risk, empirical_self_supervised_filter
from ..rates import sampled_rate_errors
from ..spectral import apply_filter, empirical_filter, empirical_risk, mse_filter, tikhonov_filter
from ..training import train_filter_adam

__all__ = [
    "SEED",
    "Setting",
    "SETTINGS",
    "SHORT_SETTING",
    "RATE_CLASSES",
    "TRANSFER_PAIRS",
    "METHODS",
    "RATE_TOLERANCE",
    "DELTAS",
    "fit_range",
    "alternative_ranges",
    "operator",
    "class_coefficients",
    "operator_order",
    "delta_window",
    "Smoothness",
    "smoothness",
    "RatePrediction",
    "RateRow",
    "RatePlan",
    "rate_plan",
    "RealRates",
    "rates",
    "TransferRow",
    "Transfer",
    "transfer",
    "Paradigms",
    "paradigms",
    "RadonPeerCheck",
    "radon_peer_check",
    "gaussian_image",
    "gaussian_radon",
    "skimage_detector_positions",
]

#: Seed of the chapter's generator.
SEED = 20260108

#: Chapter 3's tolerance of an asymptotic slope; a rate expectation adds the prediction's bootstrap half-width.
RATE_TOLERANCE = 0.05

#: Noise levels of the measured error curves (four per decade).
DELTAS = np.logspace(-7.0, 0.0, 29)

#: Noise levels at which a rate is fitted inside its window.
N_FIT = 8

#: Coverage of the bootstrap intervals.
LEVEL = 0.9


@dataclass(frozen=True)
class Setting:
    """An operator and the kind of samples it acts on."""

    key: str
    operator: str
    n: int
    kind: str
    label: str


#: The operators of the chapter: rows for the 1D operators, patches for the Radon transform.
SETTINGS: dict[str, Setting] = {
    "integration": Setting("integration", "integration", 256, "rows", "integration, rows of 256"),
    "blur": Setting("blur", "convolution", 256, "rows", "periodic blur, rows of 256"),
    "radon32": Setting("radon32", "radon", 32, "patches", "Radon, patches of 32²"),
    "radon64": Setting("radon64", "radon", 64, "patches", "Radon, patches of 64²"),
}

#: The three classes of the rate experiments (the documents have a single training image).
RATE_CLASSES = ("photographs", "scans", "textures")


def _setting(key) -> Setting:
    if key not in SETTINGS:
        raise ValueError(f"setting must be one of {', '.join(map(repr, SETTINGS))}, got {key!r}")
    return SETTINGS[key]


def fit_range(r: int) -> tuple[int, int]:
    """The fit range of the exponents, :math:`[4, r/8]`, for ``r`` singular values."""
    r = check_int(r, "r", minimum=48)
    return 4, r // 8


def alternative_ranges(r: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The fit ranges shown beside the rule: :math:`[2, r/16]` and :math:`[8, r/4]`."""
    r = check_int(r, "r", minimum=48)
    return (2, r // 16), (8, r // 4)


@lru_cache(maxsize=None)
def operator(key: str):
    """The operator of a setting (one instance per setting, so its SVD is loaded once)."""
    s = _setting(key)
    return make_operator(s.operator, s.n)


@lru_cache(maxsize=None)
def _coefficients(key: str, cls: str, split: str) -> tuple:
    s = _setting(key)
    svd = operator(key).svd()
    out = []
    for name, X in images.class_samples(cls, s.kind, s.n, split).items():
        c = svd.coefficients_x(X)
        c.setflags(write=False)
        out.append((name, c))
    return tuple(out)


def class_coefficients(key: str, cls: str, split: str = "all") -> dict[str, np.ndarray]:
    r"""Singular coefficients :math:`\langle x_i,u_k\rangle` of the samples of each image of a class.

    Computed once per (setting, class, split) and kept (read-only).
    """
    return dict(_coefficients(key, cls, split))


def operator_order(s, k_range) -> tuple[float, float]:
    r"""Fit :math:`s_k \approx C_sk^{-a}` over ``k_range``; returns :math:`(a, C_s)`."""
    s = as_array(s, "s", ndim=1, positive=True)
    k1, k2 = images.check_fit_range(k_range, s.shape[0])
    fit = fit_power_law(np.arange(k1, k2 + 1, dtype=float), s[k1 - 1:k2])
    return -fit.slope, fit.prefactor


def delta_window(a: float, C_s: float, b: float, C_pi: float, k_range) -> tuple[float, float]:
    r"""The noise levels at which the estimated cut-off lies in ``k_range``.

    With :math:`s_k = C_sk^{-a}` and :math:`\Pi_k = C_\Pi k^{-b}` the cut-off
    :math:`s_N^2\Pi_N = \delta^2` is :math:`N(\delta) = (C_s^2C_\Pi/\delta^2)^{1/(2a+b)}`,
    so :math:`N\in[k_1,k_2]` for :math:`\delta\in[\sqrt{C_s^2C_\Pi}\,k_2^{-(2a+b)/2},\ \sqrt{C_s^2C_\Pi}\,k_1^{-(2a+b)/2}]`.

    Examples
    --------
    >>> lo, hi = delta_window(1.0, 1.0, 2.0, 1.0, (4, 32))
    >>> round(hi, 6), round(lo, 8)
    (0.0625, 0.00097656)
    """
    a = check_real(a, "a", positive=True)
    C_s = check_real(C_s, "C_s", positive=True)
    b = check_real(b, "b")
    C_pi = check_real(C_pi, "C_pi", positive=True)
    if 2 * a + b <= 0:
        raise ValueError(f"need 2a + b > 0 for a cut-off, got a = {a}, b = {b}")
    if isinstance(k_range, (str, bytes)) or not hasattr(k_range, "__len__") or len(k_range) != 2:
        raise ValueError(f"k_range must be a pair (k1, k2), got {k_range!r}")
    k1, k2 = (check_int(v, "k_range", minimum=1) for v in k_range)
    if k2 <= k1:
        raise ValueError(f"k_range must have k1 < k2, got ({k1}, {k2})")
    amp = math.sqrt(C_s**2 * C_pi)
    e = (2 * a + b) / 2
    return amp * k2 ** (-e), amp * k1 ** (-e)


def _rate(a, b, c=None):
    """2(min(b,c)-1)/(2a+b), also for b, c <= 1 (then no convergence is predicted)."""
    c = b if c is None else c
    return 2 * (np.minimum(b, c) - 1) / (2 * a + b)


def _model_errors(s, Pi_train, Pi_test, deltas):
    """Test error of the MSE filter of Pi_train on moments Pi_test, white noise, at each delta (all r modes)."""
    out = []
    for d in deltas:
        g = s * Pi_train / (s**2 * Pi_train + d**2)
        out.append(np.sum((1 - s * g) ** 2 * Pi_test + g**2 * d**2))
    return np.array(out)


def _interval(values, level=LEVEL):
    q = (1 - level) / 2
    return float(np.quantile(values, q)), float(np.quantile(values, 1 - q))


def _fmt_int(iv, digits=2):
    return f"[{iv[0]:.{digits}f}, {iv[1]:.{digits}f}]"


# ---------------------------------------------------------------------------
# 1. Smoothness of real images
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Smoothness:
    """Estimated moments and exponents of every class in every setting.

    Attributes
    ----------
    settings, classes : tuple of str
    s : dict
        Singular values per setting.
    a : dict
        Fitted operator order per setting (over the fit range).
    moments : dict
        ``moments[setting][cls]``: pooled :math:`\\hat\\Pi_k` over all images of the class.
    fits : dict
        ``fits[setting][cls]``: :class:`~learnreg.images.SmoothnessFit` over the fit range.
    alternative : dict
        ``alternative[setting][cls]``: the exponents over :func:`alternative_ranges`.
    n_samples : dict
        ``n_samples[setting][cls]``: number of rows or patches pooled.
    """

    settings: tuple
    classes: tuple
    s: dict
    a: dict
    moments: dict
    fits: dict
    alternative: dict
    n_samples: dict

    def table(self) -> str:
        lines = []
        for key in self.settings:
            r = self.s[key].shape[0]
            (l1, h1), (l2, h2) = alternative_ranges(r)
            k1, k2 = fit_range(r)
            order = "no order a" if math.isnan(self.a[key]) else f"a = {self.a[key]:.3f}"
            lines.append(f"{SETTINGS[key].label} ({order}): b fitted over k in [{k1}, {k2}]")
            lines.append(f"  {'class':<12}{'images':>7}{'samples':>8}{'b':>7}{'90% interval':>15}"
                         f"{f'[{l1}, {h1}]':>11}{f'[{l2}, {h2}]':>11}")
            for cls in self.classes:
                f = self.fits[key][cls]
                alt = self.alternative[key][cls]
                lines.append(f"  {cls:<12}{f.n_images:>7}{self.n_samples[key][cls]:>8}{f.b:>7.2f}"
                             f"{_fmt_int(f.interval):>15}{alt[0]:>11.2f}{alt[1]:>11.2f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        out = []
        for key in self.settings:
            if "photographs" in self.classes and "textures" in self.classes:
                gap = self.fits[key]["photographs"].interval[0] - self.fits[key]["textures"].interval[1]
                out.append(Check(
                    f"ch8-smooth-textures-rougher-{key}",
                    f"{SETTINGS[key].label}: the textures are rougher than the photographs, with their 90 % intervals "
                    "of $b$ apart (the gap between the intervals)",
                    gap, 0.0, 0.0, kind="min", type="expectation", figure="fig-ch8-smoothness"))
        for key in self.settings:
            if SETTINGS[key].operator == "radon":
                out.append(Check(
                    f"ch8-smooth-radon-order-{key}",
                    f"{SETTINGS[key].label}: the singular values decay like $k^{{-a}}$ with the disc's order "
                    "$a = 1/4$ (fitted over the fit range; tolerance 10 %)",
                    self.a[key], 0.25, 0.025, figure="fig-ch8-smoothness"))
        return out


def smoothness(rng: np.random.Generator, settings=("integration", "blur", "radon32", "radon64"),
               classes=tuple(images.CLASSES), *, n_boot: int = 1000) -> Smoothness:
    r"""Estimate :math:`\hat\Pi_k` and fit :math:`b` for every class (all its images) in every setting.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the bootstrap resamples (stream ``"smoothness-<setting>-<class>"``).
    settings : sequence of str
        Keys of :data:`SETTINGS`.
    classes : sequence of str
        Classes of :data:`learnreg.images.CLASSES`.
    n_boot : int
        Bootstrap resamples of the images.
    """
    check_rng(rng)
    settings = _keys(settings, "settings", SETTINGS)
    classes = _keys(classes, "classes", images.CLASSES)
    n_boot = check_int(n_boot, "n_boot", minimum=10, maximum=100_000)
    s_d, a_d, mom, fits, alt, counts = {}, {}, {}, {}, {}, {}
    for key in settings:
        s = operator(key).svd().s
        r = s.shape[0]
        s_d[key] = s
        # the blur's singular values decay like exp(-2 pi^2 sigma^2 k^2): no order a
        a_d[key] = operator_order(s, fit_range(r))[0] if SETTINGS[key].operator != "convolution" else math.nan
        mom[key], fits[key], alt[key], counts[key] = {}, {}, {}, {}
        for cls in classes:
            per_image = list(class_coefficients(key, cls).values())
            fit = images.fit_smoothness(per_image, fit_range(r), substream(rng, f"smoothness-{key}-{cls}"),
                                        n_boot=n_boot, level=LEVEL)
            fits[key][cls] = fit
            pooled = np.concatenate(per_image)
            mom[key][cls] = images.second_moments(pooled)
            counts[key][cls] = pooled.shape[0]
            alt[key][cls] = tuple(
                -fit_power_law(np.arange(k1, k2 + 1, dtype=float), mom[key][cls][k1 - 1:k2]).slope
                for k1, k2 in alternative_ranges(r))
    return Smoothness(settings=settings, classes=classes, s=s_d, a=a_d, moments=mom, fits=fits, alternative=alt,
                      n_samples=counts)


def _keys(values, name, allowed) -> tuple:
    if isinstance(values, str) or not hasattr(values, "__len__") or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of names from {', '.join(map(repr, allowed))}")
    for v in values:
        if v not in allowed:
            raise ValueError(f"{name} must hold names from {', '.join(map(repr, allowed))}, got {v!r}")
    return tuple(values)


# ---------------------------------------------------------------------------
# 2. Predicted against measured rate
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RatePrediction:
    """What is stated before any error is measured, for one (setting, class) or one transfer pair.

    Attributes
    ----------
    setting, train, test : str
        Setting key, training class and test class.
    k_train, k_test : int
        Number of training and held-out samples.
    a : float
        Fitted operator order.
    b, b_interval : float, tuple
        Smoothness of the training samples and its 90 % bootstrap interval.
    c, c_interval : float, tuple
        Smoothness of the held-out samples.
    predicted, predicted_interval : float, tuple
        :math:`2(b-1)/(2a+b)` (same class) or :math:`2(\\min(b,c)-1)/(2a+b)` (transfer) and its interval.
    model : float
        The slope of the power-law model of the experiment at finite resolution: the MSE filter of the
        fitted training moments :math:`C_bk^{-b}`, its error on the fitted held-out moments
        :math:`C_ck^{-c}`, with the operator's own singular values and all ``r`` modes (no tail), over
        ``fit_deltas``.
    window : tuple
        The :math:`\\delta` window (:func:`delta_window`).
    fit_deltas : ndarray
        The noise levels of the fit, spread evenly (in log) over the window.
    b_boot, c_boot : ndarray
        The bootstrap exponents of the training and of the held-out samples.
    """

    setting: str
    train: str
    test: str
    k_train: int
    k_test: int
    a: float
    b: float
    b_interval: tuple
    c: float
    c_interval: tuple
    predicted: float
    predicted_interval: tuple
    model: float
    window: tuple
    fit_deltas: np.ndarray
    b_boot: np.ndarray = field(repr=False, default=None)
    c_boot: np.ndarray = field(repr=False, default=None)

    @property
    def tolerance(self) -> float:
        """0.05 plus half the width of the prediction's bootstrap interval."""
        lo, hi = self.predicted_interval
        return RATE_TOLERANCE + (hi - lo) / 2


@dataclass(frozen=True)
class RateRow:
    """A measured rate: the :class:`RatePrediction` and what was then measured.

    The prediction's attributes (``setting``, ``b``, ``predicted``, ``window``, ...) are
    available on the row itself.

    Attributes
    ----------
    prediction : RatePrediction
    fit_errors : ndarray
        The measured held-out errors at ``fit_deltas``.
    measured : float
        The slope fitted to them.
    deltas, errors : ndarray
        The whole measured error curve (:data:`DELTAS`).
    """

    prediction: RatePrediction
    fit_errors: np.ndarray
    measured: float
    deltas: np.ndarray
    errors: np.ndarray

    def __getattr__(self, name):
        if name == "prediction":  # not set yet (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.prediction, name)

    @property
    def local_slopes(self) -> np.ndarray:
        """Slopes between neighbouring points of the error curve (at the geometric midpoints)."""
        return np.diff(np.log(self.errors)) / np.diff(np.log(self.deltas))


def _learn_and_measure(s, train, test, rng, deltas, train_noise="train-noise"):
    """Errors on the held-out samples of filters learned from the training samples, at each delta.

    The noise coefficients are frozen across noise levels; the held-out samples' noise comes from the
    stream ``"test-noise"`` of ``rng``, so filters compared on the same held-out set see the same noise.
    """
    cx = np.concatenate(train)
    tx = np.concatenate(test)
    ce = substream(rng, train_noise).standard_normal(cx.shape)
    te = substream(rng, "test-noise").standard_normal(tx.shape)
    errors, _ = sampled_rate_errors(cx, s * cx, ce, tx, s * tx, te, deltas)
    return errors


def _predict(key, train_name, train, test_name, test, rng, *, transfer: bool) -> RatePrediction:
    """Fit a, b, c and state the window and the predictions (nothing is measured here)."""
    s = operator(key).svd().s
    r = s.shape[0]
    kr = fit_range(r)
    a, C_s = operator_order(s, kr)
    fb = images.fit_smoothness(train, kr, substream(rng, "bootstrap-train"), level=LEVEL)
    fc = images.fit_smoothness(test, kr, substream(rng, "bootstrap-test"), level=LEVEL)
    if transfer:
        pred, boot = _rate(a, fb.b, fc.b), _rate(a, fb.boot, fc.boot)
    else:
        pred, boot = _rate(a, fb.b), _rate(a, fb.boot)
    window = delta_window(a, C_s, fb.b, fb.prefactor, kr)
    fit_deltas = np.geomspace(window[0], window[1], N_FIT)
    k = np.arange(1, r + 1, dtype=float)
    model = fit_power_law(fit_deltas, _model_errors(s, fb(k), fc(k), fit_deltas)).slope
    return RatePrediction(
        setting=key, train=train_name, test=test_name, k_train=int(sum(t.shape[0] for t in train)),
        k_test=int(sum(t.shape[0] for t in test)), a=a, b=fb.b, b_interval=fb.interval, c=fc.b,
        c_interval=fc.interval, predicted=float(pred), predicted_interval=_interval(boot), model=float(model),
        window=window, fit_deltas=fit_deltas, b_boot=fb.boot, c_boot=fc.boot,
    )


def _measure(pred: RatePrediction, train, test, rng) -> RateRow:
    """Learn at every noise level of :data:`DELTAS` and of the window; fit the slope over the window."""
    s = operator(pred.setting).svd().s
    errs = _learn_and_measure(s, train, test, rng, np.concatenate([DELTAS, pred.fit_deltas]))
    errors, fit_errors = errs[:DELTAS.size], errs[DELTAS.size:]
    return RateRow(prediction=pred, fit_errors=fit_errors, measured=fit_power_law(pred.fit_deltas, fit_errors).slope,
                   deltas=DELTAS.copy(), errors=errors)


def _sci(x: float) -> str:
    """1.2e-4 rather than 1.2e-04."""
    mant, exp = f"{x:.1e}".split("e")
    return f"{mant}e{int(exp)}"


def _rate_table(rows, measured: bool) -> str:
    """One block per setting: exponents, window, predictions (and the measured slope)."""
    lines = []
    for key in dict.fromkeys(r.setting for r in rows):
        block = [r for r in rows if r.setting == key]
        lines.append(f"{SETTINGS[key].label} (a = {block[0].a:.2f})")
        lines.append(f"  {'class':<12}{'b':>6}{'c':>6}{'delta window':>17}{'predicted':>15}{'finite-n':>9}"
                     + (f"{'measured':>9}" if measured else ""))
        for r in block:
            win = f"{_sci(r.window[0])}..{_sci(r.window[1])}"
            pred = f"{r.predicted:.3f} ± {r.tolerance:.3f}"
            lines.append(f"  {r.train:<12}{r.b:>6.2f}{r.c:>6.2f}{win:>17}{pred:>15}{r.model:>9.3f}"
                         + (f"{r.measured:>9.3f}" if measured else ""))
        lines.append("  samples (training/held-out): " + ", ".join(f"{r.k_train}/{r.k_test}" for r in block))
    return "\n".join(lines)


@dataclass(frozen=True)
class RatePlan:
    """The predictions and the windows of :func:`rates`, stated before any error is measured."""

    predictions: tuple

    def table(self) -> str:
        return _rate_table(self.predictions, measured=False)


def rate_plan(rng: np.random.Generator, settings=("integration", "radon32", "radon64"),
              classes=RATE_CLASSES) -> RatePlan:
    r"""State, for each setting and class, the estimated :math:`a`, :math:`b`, :math:`c`, the window and the predictions.

    :math:`a` is fitted to the singular values and :math:`b` to the training
    images' moments over :func:`fit_range` (with a bootstrap interval over the
    training images); :math:`c` likewise from the held-out images. The window
    follows from the estimated cut-off (:func:`delta_window`). Nothing is
    measured here: :func:`rates` then measures at exactly these noise levels.
    """
    check_rng(rng)
    settings = _keys(settings, "settings", SETTINGS)
    classes = _keys(classes, "classes", images.CLASSES)
    preds = []
    for key in settings:
        for cls in classes:
            train = list(class_coefficients(key, cls, "train").values())
            test = list(class_coefficients(key, cls, "test").values())
            preds.append(_predict(key, cls, train, cls, test, substream(rng, f"rates-{key}-{cls}"), transfer=False))
    return RatePlan(predictions=tuple(preds))


@dataclass(frozen=True)
class RealRates:
    """Predicted against measured rates of filters learned from real images (one row per setting and class)."""

    rows: tuple

    def row(self, setting: str, cls: str) -> RateRow:
        for r in self.rows:
            if r.setting == setting and r.train == cls:
                return r
        raise ValueError(f"no row for setting {setting!r} and class {cls!r}")

    def table(self) -> str:
        return _rate_table(self.rows, measured=True)

    def claims(self) -> list[Check]:
        out = []
        for r in self.rows:
            label = SETTINGS[r.setting].label
            out.append(Check(
                f"ch8-rate-{r.setting}-{r.train}",
                f"{label}, {r.train}: the held-out error's slope over the stated $\\delta$ window is "
                "$2(b-1)/(2a+b)$ with the estimated $a$, $b$ (tolerance: 0.05 + bootstrap half-width)",
                r.measured, r.predicted, r.tolerance, type="expectation", figure="fig-ch8-rates"))
            out.append(Check(
                f"ch8-rate-model-{r.setting}-{r.train}",
                f"{label}, {r.train}: the slope is that of the power-law model at finite resolution "
                "(same window and tolerance)",
                r.measured, r.model, r.tolerance, type="expectation", figure="fig-ch8-rates"))
        return out


def rates(rng: np.random.Generator, plan: RatePlan | None = None) -> RealRates:
    r"""Learn the filter from the training images of each class; measure its rate on the held-out images.

    For each row of the ``plan`` (default: :func:`rate_plan` of ``rng``), the
    filter is the empirical risk minimiser learned from the training samples at
    each noise level (noise frozen across levels), and its error is measured on
    the held-out samples with their own noise, at :data:`DELTAS` and at the
    plan's noise levels; the slope is fitted over the latter.
    """
    check_rng(rng)
    if plan is None:
        plan = rate_plan(rng)
    if not isinstance(plan, RatePlan):
        raise ValueError(f"plan must be a RatePlan from rate_plan, got {type(plan).__name__}")
    rows = []
    for p in plan.predictions:
        train = list(class_coefficients(p.setting, p.train, "train").values())
        test = list(class_coefficients(p.setting, p.test, "test").values())
        rows.append(_measure(p, train, test, substream(rng, f"rates-{p.setting}-{p.train}")))
    return RealRates(rows=tuple(rows))


# ---------------------------------------------------------------------------
# 3. Transfer between classes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferRow:
    """A transfer pair: the filter trained on ``transfer.train`` and tested on ``transfer.test``.

    ``matched`` is the filter trained on the test class's own training images, measured over the
    same noise levels; ``ratio`` the smallest ratio of the transferred filter's error to the matched
    one's over those noise levels. The *rate loss* is the matched filter's slope minus the transferred
    filter's; the mismatch proposition predicts it as
    :math:`2(\\min(b',c)-1)/(2a+b') - 2(\\min(b,c)-1)/(2a+b)`, with :math:`b'` the exponent of the test
    class's training samples (``loss_predicted``, with its bootstrap interval ``loss_interval``).
    """

    transfer: RateRow
    matched_errors: np.ndarray
    matched_measured: float
    ratio: float
    loss_predicted: float
    loss_interval: tuple

    @property
    def loss_measured(self) -> float:
        """The measured rate loss: the matched filter's slope minus the transferred filter's."""
        return self.matched_measured - self.transfer.measured

    @property
    def loss_tolerance(self) -> float:
        """0.05 plus half the width of the predicted loss's bootstrap interval."""
        return RATE_TOLERANCE + (self.loss_interval[1] - self.loss_interval[0]) / 2


@dataclass(frozen=True)
class Transfer:
    """Filters trained on one class and tested on another, against the mismatch proposition."""

    rows: tuple

    def table(self) -> str:
        lines = []
        for key in dict.fromkeys(t.transfer.setting for t in self.rows):
            block = [t for t in self.rows if t.transfer.setting == key]
            lines.append(f"{SETTINGS[key].label} (a = {block[0].transfer.a:.2f})")
            lines.append(f"  {'trained -> tested':<23}{'b':>6}{'c':>6}{'predicted':>15}{'finite-n':>9}"
                         f"{'measured':>9}{'ratio':>7}")
            for t in block:
                r = t.transfer
                pred = f"{r.predicted:.3f} ± {r.tolerance:.3f}"
                lines.append(f"  {r.train + ' -> ' + r.test:<23}{r.b:>6.2f}{r.c:>6.2f}{pred:>15}{r.model:>9.3f}"
                             f"{r.measured:>9.3f}{t.ratio:>7.2f}")
        lines.append("ratio: the smallest ratio, over the window, of the error to the error of the")
        lines.append("filter trained on the test class's own training images")
        lines.append("rate loss: that filter's slope minus the transferred filter's, same window")
        lines.append(f"  {'pair':<31}{'predicted':>16}{'measured':>10}")
        for t in self.rows:
            r = t.transfer
            pair = f"{SHORT_SETTING[r.setting]}: {r.train} -> {r.test}"
            pred = f"{t.loss_predicted:.3f} ± {t.loss_tolerance:.3f}"
            lines.append(f"  {pair:<31}{pred:>16}{t.loss_measured:>10.3f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        out = []
        for t in self.rows:
            r = t.transfer
            tag = f"{r.setting}-{r.train}-{r.test}"
            pair = f"{SETTINGS[r.setting].label}, {r.train} → {r.test}"
            out.append(Check(
                f"ch8-transfer-{tag}",
                f"{pair}: the held-out error's slope is $2(\\min(b,c)-1)/(2a+b)$ with both classes' estimated "
                "exponents (the mismatch proposition; tolerance: 0.05 + bootstrap half-width)",
                r.measured, r.predicted, r.tolerance, type="expectation", figure="fig-ch8-transfer"))
            out.append(Check(
                f"ch8-transfer-model-{tag}",
                f"{pair}: the slope is that of the power-law model at finite resolution (same window and tolerance)",
                r.measured, r.model, r.tolerance, type="expectation", figure="fig-ch8-transfer"))
            out.append(Check(
                f"ch8-transfer-loss-{tag}",
                f"{pair}: the rate lost against the filter trained on the {r.test} is the mismatch proposition's "
                "$2(\\min(b',c)-1)/(2a+b') - 2(\\min(b,c)-1)/(2a+b)$ (tolerance: 0.05 + bootstrap half-width)",
                t.loss_measured, t.loss_predicted, t.loss_tolerance, type="expectation", figure="fig-ch8-transfer"))
            out.append(Check(
                f"ch8-transfer-worse-{tag}",
                f"{pair}: the error is larger than that of the filter trained on the {r.test} at every $\\delta$ "
                "of the window (smallest ratio of the errors)",
                t.ratio, 1.0, 0.0, kind="min", type="expectation", figure="fig-ch8-transfer"))
        return out


#: Short names of the settings (tables and figure labels).
SHORT_SETTING = {"integration": "rows", "blur": "rows, blur", "radon32": "32²", "radon64": "64²"}

#: The transfer pairs of the chapter: (setting, training class, test class).
TRANSFER_PAIRS = (
    ("integration", "photographs", "textures"),
    ("integration", "textures", "photographs"),
    ("radon32", "photographs", "textures"),
    ("radon32", "textures", "photographs"),
    ("radon32", "ellipses", "photographs"),
    ("radon64", "ellipses", "photographs"),
)


def _ellipse_coefficients(key: str, count: int, rng) -> list[np.ndarray]:
    s = _setting(key)
    if s.kind != "patches":
        raise ValueError(f"ellipse phantoms are images: the setting must be a Radon setting, got {key!r}")
    X = ellipse_phantoms(s.n, count, rng).reshape(count, -1)
    c = operator(key).svd().coefficients_x(X)
    return [c[i:i + 1] for i in range(count)]  # one phantom = one image of the bootstrap


def transfer(rng: np.random.Generator, pairs=TRANSFER_PAIRS) -> Transfer:
    r"""Train on one class, test on the held-out images of another; compare with the mismatch proposition.

    The training class may be ``"ellipses"``: random ellipse phantoms
    (:func:`learnreg.data.ellipse_phantoms`), as many as the test class has
    training samples, each its own image in the bootstrap. The window is the
    training class's (the cut-off is set by the training data). The prediction
    is :math:`2(\min(b,c)-1)/(2a+b)` with :math:`b` from the training samples
    and :math:`c` from the held-out samples; its interval comes from
    bootstrapping both.
    """
    check_rng(rng)
    if isinstance(pairs, str) or not hasattr(pairs, "__len__") or len(pairs) == 0:
        raise ValueError("pairs must be a non-empty sequence of (setting, training class, test class)")
    rows = []
    for p in pairs:
        if not hasattr(p, "__len__") or len(p) != 3:
            raise ValueError(f"pairs must hold (setting, training class, test class) triples, got {p!r}")
        key, tr, te = p
        _setting(key)
        _keys((te,), "test class", images.CLASSES)
        test = list(class_coefficients(key, te, "test").values())
        matched_train = list(class_coefficients(key, te, "train").values())
        stream = substream(rng, f"transfer-{key}-{tr}-{te}")
        if tr == "ellipses":
            count = int(sum(c.shape[0] for c in matched_train))
            train = _ellipse_coefficients(key, count, substream(stream, "phantoms"))
        else:
            _keys((tr,), "training class", images.CLASSES)
            train = list(class_coefficients(key, tr, "train").values())
        row = _measure(_predict(key, tr, train, te, test, stream, transfer=True), train, test, stream)
        s = operator(key).svd().s
        fm = images.fit_smoothness(matched_train, fit_range(s.shape[0]), substream(stream, "bootstrap-matched"),
                                   level=LEVEL)
        loss = _rate(row.a, fm.b, row.c) - row.predicted
        loss_boot = _rate(row.a, fm.boot, row.c_boot) - _rate(row.a, row.b_boot, row.c_boot)
        matched = _learn_and_measure(s, matched_train, test, stream, row.fit_deltas, train_noise="matched-train-noise")
        rows.append(TransferRow(
            transfer=row, matched_errors=matched, matched_measured=fit_power_law(row.fit_deltas, matched).slope,
            ratio=float(np.min(row.fit_errors / matched)), loss_predicted=float(loss),
            loss_interval=_interval(loss_boot),
        ))
    return Transfer(rows=tuple(rows))


# ---------------------------------------------------------------------------
# 4. The paradigms on real data: Radon reconstructions
# ---------------------------------------------------------------------------

#: The methods of :func:`paradigms`, in the order of the figure and the table.
METHODS = ("tsvd", "tikhonov", "closed-form", "empirical", "gradient", "self-supervised", "box")

#: Short names of the methods (tables).
METHOD_SHORT = {
    "tsvd": "truncated SVD",
    "tikhonov": "Tikhonov",
    "closed-form": "MSE filter (moments)",
    "empirical": "empirical risk min.",
    "gradient": "Adam",
    "self-supervised": "self-supervised",
    "box": "box-adversarial",
}

#: What each method is, in words.
METHOD_NAMES = {
    "tsvd": "truncated SVD (filtered pseudo-inverse)",
    "tikhonov": "Tikhonov",
    "closed-form": "MSE filter from the moments",
    "empirical": "empirical risk minimiser",
    "gradient": "trained with Adam",
    "self-supervised": "self-supervised (pairs y, y')",
    "box": "adversarial (box)",
}


@dataclass(frozen=True)
class Paradigms:
    """Filters learned from real patches by each paradigm, and Radon reconstructions of held-out patches.

    Attributes
    ----------
    n, cls, delta, eps : setting, class, noise level, box radius
    k_train, k_test : int
    filters : dict
        Method -> filter coefficients.
    psnr : dict
        Method -> mean PSNR (dB) over the held-out patches.
    psnr_shown : dict
        Method -> PSNR of the shown patch.
    shown : ndarray, shape (n, n)
        The shown held-out patch.
    shown_name : str
    reconstructions : dict
        Method -> reconstruction of the shown patch from its noisy sinogram.
    sinogram : ndarray
        The shown patch's noisy data.
    relative_noise : float
        Mean of :math:`\\|\\delta e\\|/\\|Ax\\|` over the held-out patches.
    train_risk : dict
        Method -> empirical risk on the training pairs.
    worst_box : dict
        Method -> mean worst-case error under the box adversary of radius eps on the held-out pairs.
    family_best : float
        The smallest training risk over the Tikhonov grid and every truncation index (brute force).
    tikhonov_alpha : float
    tsvd_index : int
    ss_excess, ss_predicted, ss_tolerance : float
        Self-supervised filter: measured excess held-out error over the empirical risk minimiser, chapter
        4's leading-order prediction :math:`\\frac1K\\sum_k\\Delta_k/s_k^2`, and the relative tolerance
        :math:`3\\sqrt{2/n_{\\rm eff}}`.
    """

    n: int
    cls: str
    delta: float
    eps: float
    k_train: int
    k_test: int
    filters: dict
    psnr: dict
    psnr_shown: dict
    shown: np.ndarray
    shown_name: str
    reconstructions: dict
    sinogram: np.ndarray
    relative_noise: float
    train_risk: dict
    worst_box: dict
    family_best: float
    tikhonov_alpha: float
    tsvd_index: int
    ss_excess: float
    ss_predicted: float
    ss_tolerance: float

    def table(self) -> str:
        lines = [f"Radon, patches of {self.n}²: {self.k_train} training patches of the {self.cls}, "
                 f"{self.k_test} held out",
                 f"delta = {self.delta:g} (relative noise {100 * self.relative_noise:.1f} %), box radius eps = {self.eps:g}",
                 f"{'method':<24}{'mean PSNR':>10}{f'{self.shown_name} patch':>14}{'box worst case':>16}"]
        for m in METHODS:
            lines.append(f"{METHOD_SHORT[m]:<24}{self.psnr[m]:>10.2f}{self.psnr_shown[m]:>14.2f}"
                         f"{self.worst_box[m]:>16.4g}")
        lines.append(f"tuned on the training pairs: Tikhonov alpha = {self.tikhonov_alpha:.2g}, "
                     f"SVD truncated after {self.tsvd_index}")
        lines.append(f"self-supervised: excess held-out error {self.ss_excess:.3g}, predicted {self.ss_predicted:.3g}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        erm = self.train_risk["empirical"]
        return [
            Check("ch8-paradigms-erm-beats-families",
                  "The empirical risk minimiser's training risk is no larger than that of any Tikhonov filter of the "
                  "grid or any truncated SVD (brute force; relative margin)",
                  (self.family_best - erm) / erm, 0.0, 0.0, kind="min", figure="fig-ch8-paradigms"),
            Check("ch8-paradigms-adam",
                  "Adam, started at $g = 0$, reaches the training risk of the closed-form empirical risk minimiser "
                  "(relative excess)",
                  (self.train_risk["gradient"] - erm) / erm, 0.0, 1e-6, kind="max", verdict_only=True,
                  figure="fig-ch8-paradigms"),
            Check("ch8-paradigms-selfsup-excess",
                  "The self-supervised filter's excess held-out error over the empirical risk minimiser is "
                  "$\\frac1K\\sum_k \\delta^2/s_k^2$ (chapter 4; relative tolerance $3\\sqrt{2/n_{\\mathrm{eff}}}$)",
                  self.ss_excess, self.ss_predicted, self.ss_tolerance, kind="rel", figure="fig-ch8-paradigms"),
            Check("ch8-paradigms-learned-beats-baselines",
                  "On held-out patches the empirical risk minimiser has a higher mean PSNR than the truncated SVD and "
                  "Tikhonov tuned on the same pairs (margin in dB)",
                  self.psnr["empirical"] - max(self.psnr["tsvd"], self.psnr["tikhonov"]), 0.0, 0.0, kind="min",
                  type="expectation", figure="fig-ch8-paradigms"),
            Check("ch8-paradigms-box-robust",
                  "On held-out patches the box-adversarial filter has a smaller worst-case error under its adversary "
                  "than the empirical risk minimiser (ratio of the mean worst-case errors)",
                  self.worst_box["empirical"] / self.worst_box["box"], 1.0, 0.0, kind="min", type="expectation",
                  figure="fig-ch8-paradigms"),
        ]


def _psnr(err_l2sq, area):
    """PSNR (peak 1) of a reconstruction with squared L2 error err over a domain of the given area."""
    return 10 * np.log10(area / err_l2sq)


def paradigms(rng: np.random.Generator, *, n: int = 64, cls: str = "photographs", delta: float = 0.003,
              eps: float | None = None, shown: tuple = ("camera", 5), adam_steps: int = 300) -> Paradigms:
    r"""Learn a Radon filter from real training patches with each paradigm; reconstruct held-out patches.

    Data are built on the grid: :math:`y = Ax + \delta e` with white noise
    :math:`e` sampled on the data grid, and a second, independent measurement
    :math:`y' = Ax + \delta e'` for the self-supervised filter. The baselines
    are tuned on the training pairs too: Tikhonov's :math:`\alpha` on a grid of
    91 values in :math:`[10^{-8}, 10]`, the truncation index of the SVD over all
    indices. PSNR uses the peak value 1 and the mean squared error per pixel.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : {32, 64}
        Patch size.
    cls : str
        The class: training images for training, held-out images for testing.
    delta : float
        Noise level.
    eps : float, optional
        Box radius of the adversarial filter and of the held-out worst case (default ``delta``).
    shown : (str, int)
        A held-out image of the class and the index of its patch shown in the figure.
    adam_steps : int
        Full-batch Adam steps of the gradient-trained filter.
    """
    check_rng(rng)
    n = check_int(n, "n")
    if n not in (32, 64):
        raise ValueError(f"n must be 32 or 64 (the Radon settings), got {n}")
    key = f"radon{n}"
    cls = check_choice(cls, "cls", tuple(images.CLASSES))
    delta = check_real(delta, "delta", positive=True)
    eps = delta if eps is None else check_real(eps, "eps", nonnegative=True)
    if isinstance(shown, str) or not hasattr(shown, "__len__") or len(shown) != 2:
        raise ValueError(f"shown must be a pair (held-out image name, patch index), got {shown!r}")
    if shown[0] not in images.class_images(cls, "test"):
        raise ValueError(f"shown must name a held-out image of {cls!r} {images.class_images(cls, 'test')}, "
                         f"got {shown[0]!r}")
    adam_steps = check_int(adam_steps, "adam_steps", minimum=1, maximum=100_000)
    op = operator(key)
    svd = op.svd()
    s, r = svd.s, svd.rank
    train_x = images.class_samples(cls, "patches", n, "train")
    test_x = images.class_samples(cls, "patches", n, "test")
    shown_index = check_int(shown[1], "shown[1]", minimum=0, maximum=test_x[shown[0]].shape[0] - 1)
    X = np.concatenate(list(train_x.values()))
    Xt = np.concatenate(list(test_x.values()))
    cx = np.concatenate(list(class_coefficients(key, cls, "train").values()))
    tx = np.concatenate(list(class_coefficients(key, cls, "test").values()))
    noise = substream(rng, "paradigms-noise")
    AX, AXt = op.apply(X), op.apply(Xt)
    Y = AX + white_noise(op.weights_y, delta, X.shape[0], noise)
    Y2 = AX + white_noise(op.weights_y, delta, X.shape[0], noise)
    Yt = AXt + white_noise(op.weights_y, delta, Xt.shape[0], noise)
    cy, cyt = svd.coefficients_y(Y), svd.coefficients_y(Yt)

    filters = {}
    alphas = np.logspace(-8, 1, 91)
    tik_risk = [empirical_risk(tikhonov_filter(s, al), cx, cy) for al in alphas]
    alpha = float(alphas[int(np.argmin(tik_risk))])
    # truncated SVD: the training risk after keeping m singular values, for every m at once
    kept = np.cumsum(np.sum((cy / s - cx) ** 2, axis=0))
    dropped = np.cumsum(np.sum(cx**2, axis=0)[::-1])[::-1]
    tsvd_risk = (kept + np.append(dropped[1:], 0.0)) / cx.shape[0]
    m = int(np.argmin(tsvd_risk)) + 1
    filters["tsvd"] = np.where(np.arange(r) < m, 1.0 / s, 0.0)
    filters["tikhonov"] = tikhonov_filter(s, alpha)
    filters["closed-form"] = mse_filter(s, images.second_moments(cx), delta**2)
    filters["empirical"] = empirical_filter(cx, cy)
    filters["gradient"] = train_filter_adam(cx, cy, n_steps=adam_steps).g
    filters["self-supervised"] = empirical_self_supervised_filter(svd, Y, Y2)
    filters["box"] = box_filter(cx, cy, eps)

    area = float(np.sum(op.weights_x))
    psnr, worst, train_risk = {}, {}, {}
    errs = {}
    for name, g in filters.items():
        e = np.sum((g * cyt - tx) ** 2, axis=1)  # Parseval: ||R_g y - x||^2 (the Radon matrix has full rank)
        errs[name] = e
        psnr[name] = float(np.mean(_psnr(e, area)))
        worst[name] = float(np.mean(worst_case_errors(g, tx, cyt, eps, "box")))
        train_risk[name] = empirical_risk(g, cx, cy)
    family_best = float(min(min(tik_risk), tsvd_risk[m - 1]))

    # the shown patch, reconstructed on the grid
    names = list(test_x)
    offset = sum(test_x[nm].shape[0] for nm in names[:names.index(shown[0])]) + shown_index
    x_shown = Xt[offset]
    y_shown = Yt[offset]
    recon = {name: apply_filter(svd, g, y_shown).reshape(n, n) for name, g in filters.items()}
    psnr_shown = {name: float(_psnr(np.sum(op.weights_x * (recon[name].ravel() - x_shown) ** 2), area))
                  for name in filters}

    # self-supervised: measured excess against chapter 4's delta-method prediction
    Pi = images.second_moments(cx)
    K = cx.shape[0]
    excess = float(np.mean(errs["self-supervised"]) - np.mean(errs["empirical"]))
    predicted = (asymptotic_excess_risk(s, Pi, delta**2, K, "self-supervised")
                 - asymptotic_excess_risk(s, Pi, delta**2, K, "supervised"))
    w = delta**2 / s**2
    n_eff = float(np.sum(w) ** 2 / np.sum(w**2))
    rel_noise = float(np.mean(np.sqrt(np.sum(op.weights_y * (Yt - AXt) ** 2, axis=1)
                                      / np.sum(op.weights_y * AXt**2, axis=1))))
    return Paradigms(
        n=n, cls=cls, delta=delta, eps=eps, k_train=int(K), k_test=int(tx.shape[0]), filters=filters, psnr=psnr,
        psnr_shown=psnr_shown, shown=x_shown.reshape(n, n), shown_name=shown[0], reconstructions=recon,
        sinogram=y_shown.reshape(op.range_shape), relative_noise=rel_noise, train_risk=train_risk, worst_box=worst,
        family_best=family_best, tikhonov_alpha=alpha, tsvd_index=m, ss_excess=excess, ss_predicted=float(predicted),
        ss_tolerance=3 * math.sqrt(2 / n_eff),
    )


# ---------------------------------------------------------------------------
# 5. The Radon transform against a peer and the analytic transform
# ---------------------------------------------------------------------------

#: The test function: an anisotropic Gaussian off the centre (centre, standard deviations, angle in degrees).
GAUSSIAN = ((0.2, -0.1), (0.15, 0.08), 30.0)


def _gaussian_cov():
    (_, _), (s1, s2), phi = GAUSSIAN
    c, s = math.cos(math.radians(phi)), math.sin(math.radians(phi))
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag([s1**2, s2**2]) @ R.T


def gaussian_image(n: int) -> np.ndarray:
    r"""The test Gaussian :math:`\exp(-\frac12(p-p_0)^\top\Sigma^{-1}(p-p_0))` at the pixel centres of an n x n grid."""
    n = check_int(n, "n", minimum=2)
    X, Y = pixel_grid(n)
    p0 = np.array(GAUSSIAN[0])
    Si = np.linalg.inv(_gaussian_cov())
    dx, dy = X - p0[0], Y - p0[1]
    return np.exp(-0.5 * (Si[0, 0] * dx**2 + 2 * Si[0, 1] * dx * dy + Si[1, 1] * dy**2))


def gaussian_radon(theta, t) -> np.ndarray:
    r"""Analytic Radon transform of the test Gaussian.

    The line integral of :math:`\exp(-\frac12(p-p_0)^\top\Sigma^{-1}(p-p_0))` over
    :math:`\{p : p\cdot\nu_\theta = t\}`, :math:`\nu_\theta = (\cos\theta,\sin\theta)`, is

    .. math:: \frac{2\pi\sqrt{\det\Sigma}}{\sqrt{2\pi\sigma_\theta^2}}
        \exp\Big(-\frac{(t-p_0\cdot\nu_\theta)^2}{2\sigma_\theta^2}\Big),\qquad
        \sigma_\theta^2 = \nu_\theta^\top\Sigma\nu_\theta ,

    the projection of a Gaussian of total mass :math:`2\pi\sqrt{\det\Sigma}` on the
    direction :math:`\nu_\theta`. ``theta`` and ``t`` broadcast.
    """
    theta = np.asarray(theta, dtype=float)
    t = np.asarray(t, dtype=float)
    S = _gaussian_cov()
    p0 = np.array(GAUSSIAN[0])
    c, s = np.cos(theta), np.sin(theta)
    var = S[0, 0] * c**2 + 2 * S[0, 1] * c * s + S[1, 1] * s**2
    mass = 2 * math.pi * math.sqrt(np.linalg.det(S))
    return mass / np.sqrt(2 * math.pi * var) * np.exp(-((t - (p0[0] * c + p0[1] * s)) ** 2) / (2 * var))


def skimage_detector_positions(n: int, theta) -> np.ndarray:
    r"""Where scikit-image's ``radon`` samples, in the book's coordinates on :math:`[-1,1]^2`.

    ``skimage.transform.radon(image, theta=degrees(theta), circle=True)`` rotates
    about the pixel ``(n//2, n//2)`` and sums the rotated image's columns. With
    the book's pixel grid (row 0 at the top, :func:`learnreg.operators.pixel_grid`)
    its angle is the book's angle (same origin and direction), and row ``i`` of
    the sinogram is the line integral over :math:`p\cdot\nu_\theta = t_{i}` with

    .. math:: t_i = (i - \lfloor n/2\rfloor)\,h + \tfrac h2(\cos\theta - \sin\theta)\qquad(n \text{ even}),

    divided by the pixel size :math:`h = 2/n`: the rotation centre is half a pixel
    off the centre of the square, and the sum counts pixels, not lengths.
    Returns ``t`` of shape (n, len(theta)).
    """
    n = check_int(n, "n", minimum=2)
    if n % 2:
        raise ValueError(f"n must be even (the half-pixel offset is derived for even n), got {n}")
    theta = as_array(theta, "theta", ndim=1)
    h = 2.0 / n
    i = np.arange(n) - n // 2
    return i[:, None] * h + (h / 2) * (np.cos(theta) - np.sin(theta))[None, :]


@dataclass(frozen=True)
class RadonPeerCheck:
    """Relative errors against the analytic transform, and their decay with n.

    Attributes
    ----------
    ns : ndarray
    ours, skimage, skimage_unshifted : ndarray
        Relative discrete-L2 errors of :class:`~learnreg.operators.Radon`, of
        ``skimage.transform.radon`` (times h, at its own detector positions),
        and of ``skimage`` read as if its detectors were centred (the
        half-pixel offset ignored).
    fit_ns : ndarray
        Resolutions of the order fits (pixel finer than the Gaussian's narrowest width).
    orders : dict
        Fitted convergence order of each.
    example : tuple
        ``(n, angles, our detector positions, our sinogram, scikit-image's detector positions (n, angles),
        scikit-image's sinogram times h)`` at ``example_n``.
    """

    ns: np.ndarray
    ours: np.ndarray
    skimage: np.ndarray
    skimage_unshifted: np.ndarray
    fit_ns: np.ndarray
    orders: dict
    example: tuple

    def table(self) -> str:
        lines = [f"{'n':>5}{'h':>9}{'ours':>11}{'scikit-image':>14}{'unshifted':>11}"]
        for n, e1, e2, e3 in zip(self.ns, self.ours, self.skimage, self.skimage_unshifted):
            lines.append(f"{n:>5}{2 / n:>9.4f}{e1:>11.2e}{e2:>14.2e}{e3:>11.2e}")
        lines.append(f"order over n = {', '.join(map(str, self.fit_ns))}: ours {self.orders['ours']:.2f}, "
                     f"scikit-image {self.orders['skimage']:.2f}, unshifted {self.orders['skimage_unshifted']:.2f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        o = self.orders
        return [
            Check("ch8-radon-order-ours",
                  "The ray-length Radon matrix converges to the closed-form transform with order at least 1 "
                  "(fitted order of the relative error)",
                  o["ours"], 1.0, 0.0, kind="min", figure="fig-ch8-radon-peer"),
            Check("ch8-radon-order-unshifted",
                  "scikit-image's sinogram read at centred detectors (its half-pixel rotation centre ignored) "
                  "converges with order 1 (fitted order)",
                  o["skimage_unshifted"], 1.0, 0.15, figure="fig-ch8-radon-peer"),
            Check("ch8-radon-order-ours-cancel",
                  "The ray-length matrix converges with order about 3/2, faster than its bound (fitted order; "
                  "tolerance 0.25)",
                  o["ours"], 1.5, 0.25, type="expectation", figure="fig-ch8-radon-peer"),
            Check("ch8-radon-order-skimage",
                  "scikit-image's radon at its own detector positions converges with order 2 (fitted order; "
                  "tolerance 0.25)",
                  o["skimage"], 2.0, 0.25, type="expectation", figure="fig-ch8-radon-peer"),
        ]


def radon_peer_check(ns=(16, 32, 64, 128), *, example_n: int = 32) -> RadonPeerCheck:
    r"""Compare :class:`~learnreg.operators.Radon` and ``skimage.transform.radon`` with the analytic transform.

    Both get the same image: the test Gaussian (:data:`GAUSSIAN`) sampled at the
    pixel centres, set to 0 outside scikit-image's reconstruction circle (which
    it assumes; the Gaussian is below :math:`10^{-7}` there). Both use the
    book's angles :math:`\theta_j = j\pi/n`. Each sinogram is compared with the
    analytic transform (:func:`gaussian_radon`) at its own sample points: the
    book's detector centres, and scikit-image's (:func:`skimage_detector_positions`,
    values times :math:`h`). The angles and detector centres of the reference
    are those the operator documents (:class:`~learnreg.operators.Radon`),
    computed here, not read from the operator, so that a wrong convention in the
    operator makes the check fail. The orders are fitted over the resolutions with
    :math:`h = 2/n` below the Gaussian's narrowest standard deviation 0.08.
    """
    from skimage.transform import radon as sk_radon

    ns = as_array(ns, "ns", ndim=1, positive=True)
    if ns.shape[0] < 3 or np.any(ns != np.round(ns)) or np.any(ns % 2) or np.any(ns > 128) or np.any(np.diff(ns) <= 0):
        raise ValueError(f"ns must hold at least 3 increasing even resolutions up to 128, got {ns.tolist()}")
    ns = ns.astype(int)
    example_n = check_int(example_n, "example_n")
    if example_n not in ns:
        raise ValueError(f"example_n must be one of ns {ns.tolist()}, got {example_n}")
    ours, sk, sk0 = [], [], []
    example = None
    for n in ns:
        op = Radon(int(n))
        img = gaussian_image(int(n))
        rows, cols = np.ogrid[:n, :n]
        img[(rows - n // 2) ** 2 + (cols - n // 2) ** 2 > (n // 2) ** 2] = 0.0  # skimage's circle
        # the geometry as documented (not read from the operator, so that a wrong convention there shows)
        h = 2.0 / n
        th = np.arange(n) * np.pi / n
        nd = math.ceil(1.5 * n)
        t = (np.arange(nd) - (nd - 1) / 2) * h
        sino = op.apply(img.ravel()).reshape(op.range_shape)
        ref = gaussian_radon(th[:, None], t[None, :])
        ours.append(np.linalg.norm(sino - ref) / np.linalg.norm(ref))
        s_sk = h * sk_radon(img, theta=np.rad2deg(th), circle=True, preserve_range=True)
        ref_sk = gaussian_radon(th[None, :], skimage_detector_positions(int(n), th))
        sk.append(np.linalg.norm(s_sk - ref_sk) / np.linalg.norm(ref_sk))
        ref0 = gaussian_radon(th[None, :], ((np.arange(n) - n // 2) * h)[:, None])
        sk0.append(np.linalg.norm(s_sk - ref0) / np.linalg.norm(ref0))
        if n == example_n:
            example = (int(n), th, t, sino, skimage_detector_positions(int(n), th), s_sk)
    ours, sk, sk0 = np.array(ours), np.array(sk), np.array(sk0)
    sel = 2.0 / ns < GAUSSIAN[1][1]
    if sel.sum() < 3:
        raise ValueError(f"ns must hold at least 3 resolutions with 2/n < {GAUSSIAN[1][1]} (n > 25) for the order fit")
    order = {name: -fit_power_law(ns[sel].astype(float), e[sel]).slope
             for name, e in (("ours", ours), ("skimage", sk), ("skimage_unshifted", sk0))}
    return RadonPeerCheck(ns=ns, ours=ours, skimage=sk, skimage_unshifted=sk0, fit_ns=ns[sel], orders=order,
                          example=example)
