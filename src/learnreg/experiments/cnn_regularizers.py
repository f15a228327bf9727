r"""Chapter 7: CNN-type variational regularizers and what they learn.

The experiments of the chapter, each a function of explicit parameters (the
defaults are the book's setting) and a generator, returning a frozen result
with ``table()`` (key numbers as text, rounded so that every machine prints the
same) and ``claims()`` (the ledger's :class:`~learnreg.book.claims.Check`\ s):

* :func:`steps_denoising`: 1D piecewise-constant signals, one zero-mean
  length-5 kernel: the learned regularizer against tuned TV;
* :func:`no_projection`: the same without the zero-mean projection;
* :func:`deblurring`: the same for a Gaussian blur, with fixed smoothing;
* :func:`controls`: smooth and rough Gaussian signals, where the learned
  smoothing sits above the responses (quadratic, :math:`H^1`-like);
* :func:`cartoons`: 2D rectangles, two :math:`2\times2` channels, against
  anisotropic TV, and one run started at the mixed-derivative family;
* :func:`unrolled`: training through 10 unrolled solver steps, and the error of
  the true minimiser of what it learns;
* :func:`comparison`: learned regularizer, tuned TV and the learned spectral
  filter on held-out data.

Every experiment draws its data and its runs from named streams of the
chapter's generator (:func:`learnreg.data.substream`), so experiments that use
the same data (denoising with and without projection; implicit and unrolled
deblurring) regenerate the same signals, whatever ran before.

Training results at the last printed digits are not reproducible across CPUs
(float64 rounding in PyTorch differs between processors and is amplified by
100 Adam steps), so the tables print cosines to 2 decimals (3 where they are 1.000)
and errors and ratios to 2 significant digits, and the claims record 2 significant
digits.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np

from .._progress import progress_bar
from .._validate import check_bool, check_int, check_iterations, check_real, check_rng, check_work
from .. import cnn as _cnn
from ..book.claims import Check
from ..cnn import (
    CNNRegularizer,
    CNNTrainingResult,
    kernel_sum,
    reconstruct,
    response_quantile,
    stencil_similarity,
    top2_energy,
    train,
    tv_parameter,
    unrolled_reconstruction,
)
from ..data import (
    cartoon_images,
    gaussian_random_field,
    ornstein_uhlenbeck,
    piecewise_constant,
    power_law_moments,
    spawn,
    substream,
)
from ..metrics import mse

__all__ = [
    "MAX_RUNS",
    "SEED",
    "STENCIL_COSINE",
    "FAMILY_COSINE",
    "Run",
    "train_seeds",
    "channel_summary",
    "StepsDenoising",
    "steps_denoising",
    "NoProjection",
    "no_projection",
    "Deblurring",
    "deblurring",
    "Controls",
    "controls",
    "Cartoons",
    "cartoons",
    "Unrolled",
    "unrolled",
    "Comparison",
    "comparison",
    "benchmark",
]

#: Largest number of training runs :func:`train_seeds` starts in one call.
MAX_RUNS = 1000

#: Largest signal length (1D) or side (2D), and largest number of training or test samples, of one experiment.
MAX_SIGNAL = 4096
MAX_SAMPLES = 100_000

#: Seed of the chapter's generator.
SEED = 20251207

#: A 1D kernel "is" a two-tap difference if its cosine to one is at least this (fixed before the runs).
STENCIL_COSINE = 0.99

#: A 2D channel is named after a stencil family if its cosine to it is at least this (fixed before the runs).
FAMILY_COSINE = 0.95

#: Significant digits of every recorded claim (training results differ between CPUs beyond them).
PRECISION = 2


@dataclass
class Run:
    """One training run: its index, the trained regularizer and its history."""

    index: int
    reg: CNNRegularizer
    result: CNNTrainingResult


def train_seeds(
    rngs,
    shape,
    kernel_size,
    channels: int,
    A,
    X,
    Y,
    *,
    zero_mean: bool = True,
    strength: float = 0.1,
    smoothing: float = 0.1,
    learn_smoothing: bool = True,
    desc: str = "train",
    **train_kw,
) -> list[Run]:
    """Train one regularizer per generator in ``rngs`` (random initial kernels and batches from it).

    Keyword arguments not listed are passed on to :func:`train`; one progress
    bar covers all runs (silent in the book build, see :mod:`learnreg._progress`).
    """
    if isinstance(rngs, (np.random.Generator, str, bytes)) or not hasattr(rngs, "__iter__"):
        raise ValueError(
            f"rngs must be a sequence of numpy.random.Generator (e.g. learnreg.data.spawn(rng, k)), "
            f"got {type(rngs).__name__}"
        )
    rngs = list(rngs)
    if not rngs:
        raise ValueError("rngs must hold at least one numpy.random.Generator")
    if len(rngs) > MAX_RUNS:
        raise ValueError(f"rngs must hold at most {MAX_RUNS} generators (one training run each), got {len(rngs)}")
    for i, r in enumerate(rngs):
        check_rng(r, f"rngs[{i}]")
    accepted = set(inspect.signature(_cnn.train).parameters) - {"reg", "A", "X", "Y", "rng", "desc"}
    unknown = sorted(set(train_kw) - accepted)
    if unknown:
        raise ValueError(
            f"train_seeds takes no argument {', '.join(map(repr, unknown))}; further keyword arguments "
            f"go to learnreg.cnn.train: {', '.join(sorted(accepted))}"
        )
    if not isinstance(desc, str):
        raise ValueError(f"desc must be a string, got {type(desc).__name__}")
    progress = check_bool(train_kw.pop("progress", True), "progress")
    steps = check_iterations(train_kw.get("steps", 100), "steps")
    bar = progress_bar(len(rngs) * steps, f"{desc} ({len(rngs)} runs)") if progress else False
    runs = []
    try:
        for i, r in enumerate(rngs):
            reg = CNNRegularizer(
                shape, kernel_size, channels, rng=r, zero_mean=zero_mean, strength=strength,
                smoothing=smoothing, learn_smoothing=learn_smoothing,
            )
            res = train(reg, A, X, Y, r, desc=f"{desc} #{i}", progress=bar, **train_kw)
            runs.append(Run(i, reg, res))
    finally:
        if bar:
            bar.close()
    return runs


def channel_summary(runs: list[Run], noise: float, *, order: int = 1) -> list[dict]:
    r"""One row per run and channel: cosine to the nearest stencil, its family, top-2 energy,
    kernel sum, :math:`\varepsilon/\sigma`, :math:`\lambda`, and (1D) the equivalent TV parameter."""
    noise = check_real(noise, "noise", positive=True)
    if isinstance(runs, Run) or not isinstance(runs, (list, tuple)) or not all(isinstance(r, Run) for r in runs):
        raise ValueError("runs must be a list of Run (as returned by train_seeds)")
    rows = []
    for run in runs:
        snap = run.reg.snapshot()
        for j, w in enumerate(snap["kernels"]):
            cos, fam = stencil_similarity(w, order=order)
            row = {
                "run": run.index,
                "channel": j,
                "cosine": cos,
                "family": fam,
                "top2": top2_energy(w),
                "sum": kernel_sum(w),
                "eps/noise": float(snap["smoothing"][j] / noise),
                "strength": float(snap["strength"][j]),
            }
            if w.ndim == 1:
                row["tv_alpha"] = tv_parameter(w, float(snap["strength"][j]))
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _check(n, n_train, n_test, noise, runs, steps, *, min_n=16):
    out = (
        check_int(n, "n", minimum=min_n, maximum=MAX_SIGNAL),
        check_int(n_train, "n_train", minimum=4, maximum=MAX_SAMPLES),
        check_int(n_test, "n_test", minimum=1, maximum=MAX_SAMPLES),
        check_real(noise, "noise", positive=True),
        check_int(runs, "runs", minimum=1, maximum=MAX_RUNS),
        check_iterations(steps, "steps"),
    )
    check_work(float(out[0]) * (out[1] + out[2]) * out[4] * out[5],
               f"n = {out[0]}, n_train = {out[1]}, n_test = {out[2]}, runs = {out[4]}, steps = {out[5]}")
    return out


def _fmt_row(values, fmt: str) -> str:
    return " ".join(format(float(v), fmt) for v in values)


def _steps_data(rng, n, n_train, n_test, noise):
    """Training and held-out piecewise-constant signals with white noise (stream ``"steps-data"``)."""
    r = substream(rng, "steps-data")
    X = piecewise_constant(n, n_train, r)
    Y = X + noise * r.standard_normal(X.shape)
    Xt = piecewise_constant(n, n_test, r)
    Yt = Xt + noise * r.standard_normal(Xt.shape)
    return X, Y, Xt, Yt


def _blur(n: int, width: float) -> np.ndarray:
    from ..operators import PeriodicConvolution

    return PeriodicConvolution(n, sigma=width).matrix


def _deblur_data(rng, n, n_train, n_test, noise, width):
    """Blurred piecewise-constant signals with white noise (stream ``"deblur-data"``)."""
    A = _blur(n, width)
    r = substream(rng, "deblur-data")
    X = piecewise_constant(n, n_train, r)
    Y = X @ A.T + noise * r.standard_normal(X.shape)
    Xt = piecewise_constant(n, n_test, r)
    Yt = Xt @ A.T + noise * r.standard_normal(Xt.shape)
    return A, X, Y, Xt, Yt


def _spectral_mse(svd, X, Y, Xt, Yt) -> float:
    """Held-out MSE of the empirical-risk spectral filter learned from (X, Y)."""
    from ..spectral import apply_filter, empirical_filter

    g = empirical_filter(svd.coefficients_x(X), svd.coefficients_y(Y))
    return mse(apply_filter(svd, g, Yt), Xt)


def _fourier_identity_svd(n: int):
    """The identity as an SVD in the Fourier basis (denoising is diagonal in any orthonormal basis)."""
    from ..operators import SVD, PeriodicConvolution

    U = PeriodicConvolution(n).svd().U
    w = np.full(n, 1.0 / n)
    return SVD(np.ones(n), U, U, w, w)


def _cos_history(res: CNNTrainingResult, channel: int = 0) -> np.ndarray:
    return np.array([stencil_similarity(k[channel])[0] for k in res.kernels])


# ---------------------------------------------------------------------------
# Experiment 1: piecewise-constant signals, denoising
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepsDenoising:
    r"""Learned 1D regularizers on piecewise-constant signals against tuned TV.

    Attributes
    ----------
    noise : float
    cosines, top2, sums, eps_ratio, strength, tv_alphas : ndarray, shape (runs,)
        Per run: cosine to the nearest two-tap difference, share of kernel
        energy in the two largest taps, kernel sum, :math:`\varepsilon/\sigma`,
        :math:`\lambda` and the equivalent TV parameter :math:`\lambda|c|`.
    tuned_alpha, tuned_train_mse : float
        TV parameter tuned on the training set, and its training MSE.
    mse_learned : ndarray, shape (runs,)
        Held-out MSE of each learned regularizer's minimiser.
    mse_tv, mse_noisy, mse_spectral : float
        Held-out MSE of tuned TV, of the noisy data, of the learned spectral filter.
    losses : ndarray, shape (runs, steps)
    kernels, strength_hist, smoothing_hist : ndarray
        Parameter histories, shapes (runs, steps + 1, 5) and (runs, steps + 1).
    example : dict
        One held-out signal: ``truth``, ``noisy``, ``learned`` (run 0), ``tv``.
    peak : float
        Peak-to-peak range of the held-out ground truths (for PSNR).
    """

    noise: float
    n_train: int
    steps: int
    cosines: np.ndarray
    top2: np.ndarray
    sums: np.ndarray
    eps_ratio: np.ndarray
    strength: np.ndarray
    tv_alphas: np.ndarray
    tuned_alpha: float
    tuned_train_mse: float
    mse_learned: np.ndarray
    mse_tv: float
    mse_noisy: float
    mse_spectral: float
    losses: np.ndarray
    kernels: np.ndarray
    strength_hist: np.ndarray
    smoothing_hist: np.ndarray
    example: dict
    peak: float
    p99: np.ndarray
    log_responses: np.ndarray = field(repr=False)

    @property
    def alpha_ratio(self) -> np.ndarray:
        """Equivalent TV parameter of each run over the tuned one."""
        return self.tv_alphas / self.tuned_alpha

    @property
    def mse_ratio(self) -> float:
        """Mean held-out MSE of the learned regularizers over tuned TV's."""
        return float(self.mse_learned.mean() / self.mse_tv)

    def table(self) -> str:
        lines = [f"tuned TV: alpha = {self.tuned_alpha:.2f}",
                 f"{'run':>3} {'cosine':>7} {'top-2 energy':>13} {'eps/sigma':>10} {'TV alpha / tuned':>17} {'held-out MSE':>13}"]
        for i in range(len(self.cosines)):
            lines.append(f"{i:>3} {self.cosines[i]:7.3f} {self.top2[i]:13.3f} {self.eps_ratio[i]:10.2f} "
                         f"{self.alpha_ratio[i]:17.2f} {self.mse_learned[i]:13.1e}")
        lines.append(f"held-out MSE: tuned TV {self.mse_tv:.1e}, noisy data {self.mse_noisy:.1e}")
        lines.append(f"learned J (mean) over tuned TV: {self.mse_ratio:.2f} (expected: at most 1.05)")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        R = len(self.cosines)
        return [
            Check("ch7-1d-cosine", f"1D steps, zero-mean kernel: cosine to the nearest two-tap difference, minimum over {R} runs",
                  float(self.cosines.min()), STENCIL_COSINE, kind="min", figure="fig-ch7-steps", precision=PRECISION),
            Check("ch7-1d-eps", f"1D steps: learned smoothing far below the noise level (maximum of $\\varepsilon/\\sigma$ over {R} runs)",
                  float(self.eps_ratio.max()), 0.1, kind="max", figure="fig-ch7-steps", precision=PRECISION),
            Check("ch7-1d-tv-alpha", f"1D steps: equivalent TV parameter of the learned J over the tuned TV parameter (mean of {R} runs)",
                  float(self.alpha_ratio.mean()), 1.0, 0.15, kind="abs", figure="fig-ch7-steps", precision=PRECISION),
            Check("ch7-1d-mse-vs-tv", f"1D steps: held-out MSE of the learned J (mean of {R} runs) over tuned TV's is at most 1.05",
                  self.mse_ratio, 1.05, kind="max", type="expectation", figure="fig-ch7-steps-example", precision=3),
        ]


def steps_denoising(
    rng: np.random.Generator,
    *,
    n: int = 128,
    n_train: int = 128,
    n_test: int = 100,
    noise: float = 0.15,
    runs: int = 3,
    steps: int = 100,
    example: int = 3,
) -> StepsDenoising:
    """Train ``runs`` zero-mean length-5 regularizers on denoising piecewise-constant signals; tune TV."""
    from .. import tv

    check_rng(rng)
    n, n_train, n_test, noise, runs, steps = _check(n, n_train, n_test, noise, runs, steps)
    example = check_int(example, "example", minimum=0, maximum=n_test - 1)
    X, Y, Xt, Yt = _steps_data(rng, n, n_train, n_test, noise)
    tuned = tv.tune_tv(X, Y, alphas=np.logspace(-2, 0.5, 11), refine=8, tol=1e-6)
    trained = train_seeds(spawn(substream(rng, "steps-runs"), runs), n, 5, 1, None, X, Y, steps=steps,
                          desc="1D denoising")
    rows = channel_summary(trained, noise)
    rec = [reconstruct(r.reg, None, Yt)[0] for r in trained]
    x_tv, _ = tv.tv_denoise(Yt, tuned.alpha, tol=1e-8)
    reg0 = trained[0].reg
    resp = np.abs(reg0.responses(X).detach().numpy().ravel()) / reg0.snapshot()["smoothing"][0]
    col = lambda key: np.array([r[key] for r in rows])  # noqa: E731
    return StepsDenoising(
        noise=noise, n_train=n_train, steps=steps, cosines=col("cosine"), top2=col("top2"), sums=col("sum"),
        eps_ratio=col("eps/noise"), strength=col("strength"), tv_alphas=col("tv_alpha"),
        tuned_alpha=float(tuned.alpha), tuned_train_mse=float(tuned.mse),
        mse_learned=np.array([mse(x, Xt) for x in rec]), mse_tv=mse(x_tv, Xt), mse_noisy=mse(Yt, Xt),
        mse_spectral=_spectral_mse(_fourier_identity_svd(n), X, Y, Xt, Yt),
        losses=np.array([r.result.losses for r in trained]),
        kernels=np.array([r.result.kernels[:, 0] for r in trained]),
        strength_hist=np.array([r.result.strength[:, 0] for r in trained]),
        smoothing_hist=np.array([r.result.smoothing[:, 0] for r in trained]),
        example={"truth": Xt[example], "noisy": Yt[example], "learned": rec[0][example], "tv": x_tv[example]},
        peak=float(np.ptp(Xt)),
        p99=np.array([response_quantile(r.reg, X, 0.99)[0] for r in trained]),
        log_responses=np.log10(resp[resp > 0]),
    )


# ---------------------------------------------------------------------------
# Experiment 1b: without the zero-mean projection
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NoProjection:
    """Runs on the data of :func:`steps_denoising` without the zero-mean projection.

    Attributes
    ----------
    cos_hist : ndarray, shape (runs, steps + 1)
        Cosine to the nearest two-tap difference along training.
    sum_hist : ndarray, shape (runs, steps + 1)
        :math:`|\\sum_t w_t|/\\|w\\|` along training.
    cosines, top2, sums, eps_ratio : ndarray, shape (runs,)
        At the end.
    """

    steps: int
    cos_hist: np.ndarray
    sum_hist: np.ndarray
    cosines: np.ndarray
    top2: np.ndarray
    sums: np.ndarray
    eps_ratio: np.ndarray

    @property
    def n_clean(self) -> int:
        return int(np.sum(self.cosines >= STENCIL_COSINE))

    def table(self) -> str:
        lines = [f"{'run':>3} {'cosine':>7} {'top-2 energy':>13} {'|kernel sum|, start':>20} {'end':>7} {'eps/sigma':>10}"]
        for i in range(len(self.cosines)):
            lines.append(f"{i:>3} {self.cosines[i]:7.2f} {self.top2[i]:13.2f} {self.sum_hist[i, 0]:20.1f} "
                         f"{self.sum_hist[i, -1]:7.3f} {self.eps_ratio[i]:10.2f}")
        lines.append(f"runs with cosine >= {STENCIL_COSINE} after {self.steps} steps: {self.n_clean} of {len(self.cosines)}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        R = len(self.cosines)
        return [
            Check("ch7-1d-noproj-sum", f"1D steps without projection: the kernel sum goes to zero by training alone "
                  f"($|\\sum_t w_t|/\\|w\\|$ at the end, maximum over {R} runs)",
                  float(self.sum_hist[:, -1].max()), 0.05, kind="max", figure="fig-ch7-noproj", precision=PRECISION),
            Check("ch7-1d-noproj-learns", f"1D steps without projection: training moves every kernel towards a two-tap "
                  f"difference (cosine at the end minus at the start, minimum over {R} runs, at least 0.1)",
                  float((self.cos_hist[:, -1] - self.cos_hist[:, 0]).min()), 0.1, kind="min", figure="fig-ch7-noproj",
                  precision=PRECISION),
        ]


def no_projection(
    rng: np.random.Generator,
    *,
    n: int = 128,
    n_train: int = 128,
    n_test: int = 100,
    noise: float = 0.15,
    runs: int = 3,
    steps: int = 100,
) -> NoProjection:
    """Train on the data of :func:`steps_denoising` (same arguments, same stream) without the zero-mean projection."""
    check_rng(rng)
    n, n_train, n_test, noise, runs, steps = _check(n, n_train, n_test, noise, runs, steps)
    X, Y, _, _ = _steps_data(rng, n, n_train, n_test, noise)
    trained = train_seeds(spawn(substream(rng, "noproj-runs"), runs), n, 5, 1, None, X, Y, steps=steps,
                          zero_mean=False, desc="1D, no projection")
    rows = channel_summary(trained, noise)
    col = lambda key: np.array([r[key] for r in rows])  # noqa: E731
    return NoProjection(
        steps=steps,
        cos_hist=np.array([_cos_history(r.result) for r in trained]),
        sum_hist=np.array([[abs(kernel_sum(k[0])) for k in r.result.kernels] for r in trained]),
        cosines=col("cosine"), top2=col("top2"), sums=col("sum"), eps_ratio=col("eps/noise"),
    )


# ---------------------------------------------------------------------------
# Deblurring
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Deblurring:
    """Learned regularizers (implicit training, fixed smoothing) for a periodic Gaussian blur, against tuned TV."""

    noise: float
    cosines: np.ndarray
    top2: np.ndarray
    tv_alphas: np.ndarray
    tuned_alpha: float
    mse_learned: np.ndarray
    mse_tv: float
    mse_spectral: float
    peak: float
    example: dict

    @property
    def clean(self) -> np.ndarray:
        return self.cosines >= STENCIL_COSINE

    def table(self) -> str:
        lines = [f"tuned TV: alpha = {self.tuned_alpha:.3f}, held-out MSE {self.mse_tv:.1e}",
                 f"{'run':>3} {'cosine':>7} {'top-2 energy':>13} {'TV alpha / tuned':>17} {'held-out MSE':>13}"]
        for i in range(len(self.cosines)):
            lines.append(f"{i:>3} {self.cosines[i]:7.2f} {self.top2[i]:13.2f} "
                         f"{self.tv_alphas[i] / self.tuned_alpha:17.2f} {self.mse_learned[i]:13.1e}")
        lines.append(f"clean two-tap differences (cosine >= {STENCIL_COSINE}): {int(self.clean.sum())} of {len(self.cosines)} runs")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        R = len(self.cosines)
        out = [Check("ch7-deblur-clean", f"Deblurring (implicit, fixed $\\varepsilon$): at least 2 of {R} runs learn a clean "
                     f"two-tap difference (cosine at least {STENCIL_COSINE})",
                     int(self.clean.sum()), 2, kind="min", type="expectation", figure="fig-ch7-unrolled")]
        if self.clean.any():
            out.append(Check("ch7-deblur-mse", "Deblurring: held-out MSE of the clean-difference runs (mean) over tuned TV's is at most 1.1",
                             float(self.mse_learned[self.clean].mean() / self.mse_tv), 1.1, kind="max",
                             type="expectation", figure="fig-ch7-unrolled", precision=3))
        return out


def deblurring(
    rng: np.random.Generator,
    *,
    n: int = 64,
    n_train: int = 128,
    n_test: int = 100,
    noise: float = 0.05,
    width: float = 0.02,
    runs: int = 3,
    steps: int = 80,
    smoothing: float = 0.01,
    example: int = 1,
) -> Deblurring:
    """Train ``runs`` regularizers (fixed smoothing) for deblurring piecewise-constant signals; tune TV."""
    from .. import tv
    from ..operators import PeriodicConvolution

    check_rng(rng)
    n, n_train, n_test, noise, runs, steps = _check(n, n_train, n_test, noise, runs, steps)
    width = check_real(width, "width", positive=True)
    smoothing = check_real(smoothing, "smoothing", positive=True)
    example = check_int(example, "example", minimum=0, maximum=n_test - 1)
    A, X, Y, Xt, Yt = _deblur_data(rng, n, n_train, n_test, noise, width)
    trained = train_seeds(spawn(substream(rng, "deblur-runs"), runs), n, 5, 1, A, X, Y, smoothing=smoothing,
                          learn_smoothing=False, steps=steps, desc="1D deblurring")
    rows = channel_summary(trained, noise)
    tuned = tv.tune_tv(X, Y, A, alphas=np.logspace(-3, 0, 7), refine=8, tol=1e-3)
    rec = [reconstruct(r.reg, A, Yt)[0] for r in trained]
    x_tv, _ = tv.tv_reconstruct(A, Yt, tuned.alpha, tol=1e-4)
    m = np.array([mse(x, Xt) for x in rec])
    best = int(np.argmin(m))
    col = lambda key: np.array([r[key] for r in rows])  # noqa: E731
    return Deblurring(
        noise=noise, cosines=col("cosine"), top2=col("top2"), tv_alphas=col("tv_alpha"), tuned_alpha=float(tuned.alpha),
        mse_learned=m, mse_tv=mse(x_tv, Xt),
        mse_spectral=_spectral_mse(PeriodicConvolution(n, sigma=width).svd(), X, Y, Xt, Yt),
        peak=float(np.ptp(Xt)), example={"truth": Xt[example], "implicit": rec[best][example], "index": example},
    )


# ---------------------------------------------------------------------------
# Experiment 2: smooth and rough controls
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Controls:
    r"""Learned smoothing relative to the filter responses for three data classes.

    ``eps_ratio``, ``p99`` and ``cosines`` map a class name (``"steps"``,
    ``"smooth Gaussian"``, ``"Ornstein-Uhlenbeck"``) to per-run arrays:
    :math:`\varepsilon/\sigma`, the 99th percentile of :math:`|w*x|/\varepsilon`
    over the training signals, and the cosine to the nearest first difference.
    ``log_responses`` holds :math:`\log_{10}|w*x|/\varepsilon` of run 0 and
    ``kernels`` the kernel of run 0, per class.
    """

    eps_ratio: dict
    p99: dict
    cosines: dict
    log_responses: dict = field(repr=False)
    kernels: dict = field(repr=False)

    def table(self) -> str:
        lines = [f"{'data':<19} {'eps/sigma per run':>18} {'p99 |w*x|/eps':>18} {'cosine to 1st diff.':>20}"]
        for name in self.eps_ratio:
            lines.append(f"{name:<19} {_fmt_row(self.eps_ratio[name], '5.1f' if self.eps_ratio[name].min() >= 1 else '5.2f'):>18} {_fmt_row(self.p99[name], '5.0f' if self.p99[name].min() >= 10 else '5.1f'):>18} "
                         f"{_fmt_row(self.cosines[name], '5.2f'):>20}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        ou, sm, st = "Ornstein-Uhlenbeck", "smooth Gaussian", "steps"
        R = len(self.cosines[ou])
        return [
            Check("ch7-ctrl-steps-p99", "Steps: 99th percentile of $|w*x|/\\varepsilon$ (minimum over runs) at least 10: jumps in the $|t|$ regime, TV-like",
                  float(self.p99[st].min()), 10.0, kind="min", figure="fig-ch7-controls", precision=PRECISION),
            Check("ch7-ctrl-smooth-p99", f"Smooth Gaussian: 99th percentile of $|w*x|/\\varepsilon$ (maximum over {R} runs) at most 2: quadratic regime",
                  float(self.p99[sm].max()), 2.0, kind="max", figure="fig-ch7-controls", precision=PRECISION),
            Check("ch7-ctrl-ou-p99", f"Ornstein-Uhlenbeck: 99th percentile of $|w*x|/\\varepsilon$ (maximum over {R} runs) at most 2: quadratic regime",
                  float(self.p99[ou].max()), 2.0, kind="max", figure="fig-ch7-controls", precision=PRECISION),
            Check("ch7-ctrl-ou-eps", f"Ornstein-Uhlenbeck: learned $\\varepsilon/\\sigma$ (minimum over {R} runs) at least 1, far above the steps' value",
                  float(self.eps_ratio[ou].min()), 1.0, kind="min", figure="fig-ch7-controls", precision=PRECISION),
            Check("ch7-ctrl-ou-cosine", f"Ornstein-Uhlenbeck: every one of {R} runs learns a first difference (cosine at least {FAMILY_COSINE})",
                  int(np.sum(self.cosines[ou] >= FAMILY_COSINE)), R, kind="min", type="expectation", figure="fig-ch7-controls"),
        ]


def controls(
    rng: np.random.Generator,
    steps_result: StepsDenoising,
    *,
    n: int = 128,
    n_train: int = 128,
    noise: float = 0.15,
    runs: int = 3,
    steps: int = 80,
) -> Controls:
    r"""Train on smooth Gaussian fields (:math:`\Pi_k = 3k^{-4}`, Fourier basis) and Ornstein–Uhlenbeck signals;
    the steps row is taken from ``steps_result``."""
    from ..operators import PeriodicConvolution

    check_rng(rng)
    if not isinstance(steps_result, StepsDenoising):
        raise ValueError(f"steps_result must be a StepsDenoising result, got {type(steps_result).__name__}")
    n, n_train, _, noise, runs, steps = _check(n, n_train, 1, noise, runs, steps)
    r = substream(rng, "controls-data")
    U = PeriodicConvolution(n).svd().U
    data = {"smooth Gaussian": gaussian_random_field(U, 3.0 * power_law_moments(n, 4.0), n_train, r),
            "Ornstein-Uhlenbeck": ornstein_uhlenbeck(n, n_train, r, length_scale=0.1)}
    out = {"eps": {"steps": steps_result.eps_ratio}, "p99": {"steps": steps_result.p99},
           "cos": {"steps": steps_result.cosines}, "log": {"steps": steps_result.log_responses},
           "k": {"steps": steps_result.kernels[0, -1]}}
    for name, X in data.items():
        Y = X + noise * r.standard_normal(X.shape)
        trained = train_seeds(spawn(substream(rng, f"controls-runs-{name}"), runs), n, 5, 1, None, X, Y, steps=steps, desc=name)
        snaps = [t.reg.snapshot() for t in trained]
        out["eps"][name] = np.array([s["smoothing"][0] / noise for s in snaps])
        out["p99"][name] = np.array([response_quantile(t.reg, X, 0.99)[0] for t in trained])
        out["cos"][name] = np.array([stencil_similarity(s["kernels"][0])[0] for s in snaps])
        resp = np.abs(trained[0].reg.responses(X).detach().numpy().ravel()) / snaps[0]["smoothing"][0]
        out["log"][name] = np.log10(resp[resp > 0])
        out["k"][name] = snaps[0]["kernels"][0]
    return Controls(eps_ratio=out["eps"], p99=out["p99"], cosines=out["cos"], log_responses=out["log"], kernels=out["k"])


# ---------------------------------------------------------------------------
# Experiment 3: 2D cartoon images
# ---------------------------------------------------------------------------

#: The start of the second family: a mixed derivative and a diagonal difference.
MIXED_START = [[[1.0, -1.0], [-1.0, 1.0]], [[1.0, 0.0], [0.0, -1.0]]]


@dataclass(frozen=True)
class Cartoons:
    r"""Two :math:`2\times2` channels on rectangle images: which stencil families the runs learn.

    ``families``/``cosines``/``eps_ratio`` have one row per run and one entry
    per channel; the last row (``mixed_*``) is the run started at
    :data:`MIXED_START`. ``kernels`` has shape (runs + 1, 2, 2, 2).
    """

    families: tuple
    nearest: tuple
    cosines: np.ndarray
    eps_ratio: np.ndarray
    mse_learned: np.ndarray
    tuned_alpha: float
    mse_tv: float
    mixed_families: tuple
    mixed_cosines: np.ndarray
    mse_mixed: float
    kernels: np.ndarray
    images: dict = field(repr=False)

    @property
    def hv(self) -> np.ndarray:
        """Runs whose channels are a horizontal and a vertical difference (cosine at least FAMILY_COSINE)."""
        return np.array([sorted(f) == ["horizontal", "vertical"] and bool(np.all(c >= FAMILY_COSINE))
                         for f, c in zip(self.families, self.cosines)])

    def table(self) -> str:
        lines = [f"tuned anisotropic TV: alpha = {self.tuned_alpha:.2f}, held-out MSE {self.mse_tv:.1e}"]
        for i, (f, c, m) in enumerate(zip(self.nearest[:-1], self.cosines, self.mse_learned)):
            ch = ", ".join(f"{a} ({b:.2f})" for a, b in zip(f, c))
            lines.append(f"run {i}: {ch}; held-out MSE {m:.1e}")
        ch = ", ".join(f"{a} ({b:.2f})" for a, b in zip(self.nearest[-1], self.mixed_cosines))
        lines.append(f"mixed start: {ch}; held-out MSE {self.mse_mixed:.1e}")
        lines.append("(each channel: the nearest stencil and the cosine to it)")
        lines.append(f"horizontal + vertical, both cosines >= {FAMILY_COSINE}: {int(self.hv.sum())} of {len(self.families)} random starts")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        R, hv = len(self.families), self.hv
        out = [Check("ch7-2d-hv", f"2D rectangles: every one of {R} random starts learns horizontal + vertical differences "
                     f"(anisotropic TV, both cosines at least {FAMILY_COSINE})",
                     int(hv.sum()), R, kind="min", type="expectation", figure="fig-ch7-2d")]
        if hv.any():
            mean_hv = float(self.mse_learned[hv].mean())
            out += [
                Check("ch7-2d-hv-mse", "2D: held-out MSE of the horizontal + vertical runs (mean) over tuned anisotropic TV's is at most 1.1",
                      mean_hv / self.mse_tv, 1.1, kind="max", type="expectation", figure="fig-ch7-2d", precision=PRECISION),
                Check("ch7-2d-other-mse", "2D: the run started at a mixed derivative + diagonal difference has a lower held-out "
                      "MSE than the horizontal + vertical runs (ratio to their mean, below 1)",
                      self.mse_mixed / mean_hv, 1.0, kind="max", figure="fig-ch7-2d", precision=PRECISION),
            ]
        return out


def cartoons(
    rng: np.random.Generator,
    *,
    m: int = 32,
    n_train: int = 64,
    n_test: int = 32,
    noise: float = 0.15,
    runs: int = 2,
    steps: int = 80,
    batch: int = 16,
    example: int = 0,
) -> Cartoons:
    """Train ``runs`` two-channel 2x2 regularizers from random starts and one from :data:`MIXED_START`; tune anisotropic TV."""
    from .. import tv

    check_rng(rng)
    m, n_train, n_test, noise, runs, steps = _check(m, n_train, n_test, noise, runs, steps, min_n=8)
    batch = check_int(batch, "batch", minimum=1)
    example = check_int(example, "example", minimum=0, maximum=n_test - 1)
    r = substream(rng, "cartoons-data")
    X = cartoon_images(m, n_train, r)
    Y = X + noise * r.standard_normal(X.shape)
    Xt = cartoon_images(m, n_test, r)
    Yt = Xt + noise * r.standard_normal(Xt.shape)
    Yf, Ytf = Y.reshape(n_train, -1), Yt.reshape(n_test, -1)
    streams = spawn(substream(rng, "cartoons-runs"), runs + 1)
    trained = train_seeds(streams[:runs], (m, m), 2, 2, None, X, Yf, batch=batch, steps=steps, desc="2D cartoons")
    reg_mix = CNNRegularizer((m, m), 2, 2, init_kernels=MIXED_START)
    res_mix = train(reg_mix, None, X, Yf, streams[runs], batch=batch, steps=steps, desc="2D, mixed start")
    trained.append(Run(runs, reg_mix, res_mix))
    tuned = tv.tune_tv(X, Y, alphas=np.logspace(-2, 0, 5), refine=6, tol=1e-5)
    x_tv, _ = tv.tv_denoise(Yt, tuned.alpha, tol=1e-7)
    rows = channel_summary(trained, noise)
    fam = [tuple(row["family"] if row["cosine"] >= FAMILY_COSINE else "unclear" for row in rows if row["run"] == i)
           for i in range(runs + 1)]
    near = [tuple(row["family"] for row in rows if row["run"] == i) for i in range(runs + 1)]
    cos = np.array([[row["cosine"] for row in rows if row["run"] == i] for i in range(runs + 1)])
    eps = np.array([[row["eps/noise"] for row in rows if row["run"] == i] for i in range(runs + 1)])
    rec = [reconstruct(t.reg, None, Ytf)[0] for t in trained]
    m_all = np.array([mse(x, Xt) for x in rec])
    return Cartoons(
        families=tuple(fam[:runs]), nearest=tuple(near), cosines=cos[:runs], eps_ratio=eps, mse_learned=m_all[:runs],
        tuned_alpha=float(tuned.alpha), mse_tv=mse(x_tv, Xt), mixed_families=fam[runs], mixed_cosines=cos[runs],
        mse_mixed=float(m_all[runs]), kernels=np.array([t.reg.snapshot()["kernels"] for t in trained]),
        images={"truth": Xt[example], "noisy": Yt[example], "learned": rec[0][example], "tv": x_tv[example],
                "mixed": rec[runs][example]},
    )


# ---------------------------------------------------------------------------
# Experiment 4: unrolled against implicit
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Unrolled:
    """Training through ``unroll_steps`` Nesterov steps: the truncated solver's error and the true minimiser's."""

    unroll_steps: int
    cosines: np.ndarray
    strength: np.ndarray
    mse_truncated: np.ndarray
    mse_minimiser: np.ndarray
    mse_implicit: np.ndarray
    mse_tv: float
    example: dict

    @property
    def ratios(self) -> np.ndarray:
        return self.mse_minimiser / self.mse_truncated

    def table(self) -> str:
        lines = [f"{'run':>3} {'cosine':>7} {'MSE, ' + str(self.unroll_steps) + ' steps':>14} {'MSE, minimiser':>15} {'ratio':>6}"]
        for i in range(len(self.cosines)):
            lines.append(f"{i:>3} {self.cosines[i]:7.2f} {self.mse_truncated[i]:14.1e} {self.mse_minimiser[i]:15.1e} "
                         f"{self.ratios[i]:6.1f}")
        lines.append(f"implicitly trained J, minimiser: MSE {_fmt_row(self.mse_implicit, '.1e')}; tuned TV {self.mse_tv:.1e}")
        lines.append(f"largest ratio minimiser / truncated: {self.ratios.max():.1f} (expected: at least 5)")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        R = len(self.cosines)
        return [
            Check("ch7-unrolled-gap", f"Unrolled ({self.unroll_steps} steps): the true minimiser's MSE over the truncated "
                  f"solver's, minimum over {R} runs, at least 1 (the minimiser is never better)",
                  float(self.ratios.min()), 1.0, kind="min", figure="fig-ch7-unrolled", precision=PRECISION),
            Check("ch7-implicit-vs-unrolled", "Best implicitly trained J (minimiser) over the best unrolled truncated solver: MSE ratio below 1",
                  float(self.mse_implicit.min() / self.mse_truncated.min()), 1.0, kind="max", figure="fig-ch7-unrolled",
                  precision=PRECISION),
            Check("ch7-unrolled-size", f"Unrolled: on at least one of {R} runs the true minimiser is at least 5 times worse "
                  "than the truncated solver (largest ratio)",
                  float(self.ratios.max()), 5.0, kind="min", type="expectation", figure="fig-ch7-unrolled", precision=PRECISION),
        ]


def unrolled(
    rng: np.random.Generator,
    deblur: Deblurring,
    *,
    n: int = 64,
    n_train: int = 128,
    n_test: int = 100,
    noise: float = 0.05,
    width: float = 0.02,
    runs: int = 3,
    steps: int = 80,
    unroll_steps: int = 10,
    smoothing: float = 0.01,
) -> Unrolled:
    """Train by backpropagation through ``unroll_steps`` solver steps on the data of :func:`deblurring` (same arguments)."""
    from .. import tv

    check_rng(rng)
    if not isinstance(deblur, Deblurring):
        raise ValueError(f"deblur must be a Deblurring result, got {type(deblur).__name__}")
    n, n_train, n_test, noise, runs, steps = _check(n, n_train, n_test, noise, runs, steps)
    unroll_steps = check_int(unroll_steps, "unroll_steps", minimum=1)
    A, X, Y, Xt, Yt = _deblur_data(rng, n, n_train, n_test, noise, check_real(width, "width", positive=True))
    trained = train_seeds(spawn(substream(rng, "unrolled-runs"), runs), n, 5, 1, A, X, Y,
                          smoothing=check_real(smoothing, "smoothing", positive=True), learn_smoothing=False, steps=steps,
                          method="unrolled", unroll_steps=unroll_steps, desc=f"unrolled ({unroll_steps} steps)")
    xt = [unrolled_reconstruction(t.reg, A, Yt, unroll_steps) for t in trained]
    xv = [reconstruct(t.reg, A, Yt)[0] for t in trained]
    m_t, m_v = np.array([mse(x, Xt) for x in xt]), np.array([mse(x, Xt) for x in xv])
    j, i = int(np.argmax(m_v / m_t)), deblur.example["index"]
    return Unrolled(
        unroll_steps=unroll_steps,
        cosines=np.array([stencil_similarity(t.reg.snapshot()["kernels"][0])[0] for t in trained]),
        strength=np.array([t.reg.snapshot()["strength"][0] for t in trained]),
        mse_truncated=m_t, mse_minimiser=m_v, mse_implicit=deblur.mse_learned, mse_tv=deblur.mse_tv,
        example={"run": j, "truth": Xt[i], "truncated": xt[j][i], "minimiser": xv[j][i], "implicit": deblur.example["implicit"]},
    )


# ---------------------------------------------------------------------------
# Experiment 5: comparison
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Held-out MSE and PSNR of the learned J (mean of runs), tuned TV and the learned spectral filter."""

    rows: tuple  # (problem, method, mse, peak)

    def table(self) -> str:
        lines = [f"{'problem':<11} {'method':<24} {'MSE':>8} {'PSNR (dB)':>10}"]
        for prob, meth, m, pk in self.rows:
            lines.append(f"{prob:<11} {meth:<24} {m:8.1e} {10 * np.log10(pk**2 / m):10.1f}")
        return "\n".join(lines)

    def ratio(self, problem: str) -> float:
        d = {meth: m for p, meth, m, _ in self.rows if p == problem}
        return float(d["learned J"] / d["learned spectral filter"])

    def claims(self) -> list[Check]:
        return [
            Check("ch7-compare-spectral-1d", "Denoising steps: learned J's held-out MSE (mean of runs) over the learned spectral filter's (below 1: the nonlinear J wins)",
                  self.ratio("denoising"), 1.0, kind="max", precision=PRECISION),
            Check("ch7-compare-spectral-deblur", "Deblurring steps: learned J's held-out MSE (mean of runs) over the learned spectral filter's (below 1)",
                  self.ratio("deblurring"), 1.0, kind="max", precision=PRECISION),
        ]


def comparison(steps_result: StepsDenoising, deblur: Deblurring) -> Comparison:
    """Collect the held-out errors of the denoising and deblurring experiments in one table."""
    if not isinstance(steps_result, StepsDenoising) or not isinstance(deblur, Deblurring):
        raise ValueError("comparison needs a StepsDenoising and a Deblurring result")
    s, d = steps_result, deblur
    return Comparison(rows=(
        ("denoising", "learned J", float(s.mse_learned.mean()), s.peak),
        ("denoising", "tuned TV", s.mse_tv, s.peak),
        ("denoising", "learned spectral filter", s.mse_spectral, s.peak),
        ("deblurring", "learned J", float(d.mse_learned.mean()), d.peak),
        ("deblurring", "tuned TV", d.mse_tv, d.peak),
        ("deblurring", "learned spectral filter", d.mse_spectral, d.peak),
    ))


def benchmark(*, steps: int = 100) -> list[dict]:
    """Training time of one run of each of the chapter's experiment types (for the benchmark table).

    Returns rows with ``name``, ``seconds`` (wall clock of :func:`train`) and
    ``steps``: 1D denoising (implicit), 1D deblurring (implicit, fixed
    :math:`\\varepsilon`), 1D deblurring unrolled (10 steps), 2D denoising
    (2x2 kernels, two channels).
    """
    from ..data import make_rng

    steps = check_int(steps, "steps", minimum=1)
    rng = make_rng(0)
    out = []
    X = piecewise_constant(128, 256, rng)
    Y = X + 0.15 * rng.standard_normal(X.shape)
    r = train_seeds([make_rng(1)], 128, 5, 1, None, X, Y, steps=steps, progress=False)[0]
    out.append({"name": "cnn 1D denoising (implicit)", "seconds": r.result.seconds, "steps": steps})
    A = _blur(64, 0.02)
    X = piecewise_constant(64, 128, rng)
    Y = X @ A.T + 0.05 * rng.standard_normal(X.shape)
    r = train_seeds([make_rng(2)], 64, 5, 1, A, X, Y, smoothing=0.01, learn_smoothing=False, steps=steps, progress=False)[0]
    out.append({"name": "cnn 1D deblurring (implicit)", "seconds": r.result.seconds, "steps": steps})
    r = train_seeds(
        [make_rng(3)], 64, 5, 1, A, X, Y, smoothing=0.01, learn_smoothing=False, steps=steps,
        method="unrolled", unroll_steps=10, progress=False,
    )[0]
    out.append({"name": "cnn 1D deblurring (unrolled, 10 steps)", "seconds": r.result.seconds, "steps": steps})
    X = cartoon_images(32, 128, rng)
    Y = (X + 0.15 * rng.standard_normal(X.shape)).reshape(128, -1)
    r = train_seeds([make_rng(4)], (32, 32), 2, 2, None, X, Y, steps=steps, batch=16, progress=False)[0]
    out.append({"name": "cnn 2D denoising (2x2, 2 channels)", "seconds": r.result.seconds, "steps": steps})
    return out
