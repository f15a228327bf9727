r"""Chapter 6: diagonal frame decompositions, and filters learned on them.

Experiments, in the order of the chapter:

* :func:`dfd_checks`: the wavelet–vaguelette DFD of the periodic antiderivative,
  checked with the operator's own FFT adjoint and its closed-form SVD; the
  quasi-singular values per scale;
* :func:`frame_bounds`: the frame bounds of the vaguelettes against the
  resolution, for four wavelet families;
* :func:`linear_dfd`: the MSE-optimal linear DFD filter against the empirical
  minimiser (standardised deviations) and against the SVD filter;
* :func:`structure`: learned SVD, linear DFD and soft-threshold DFD filters on
  Gaussian and on piecewise-constant data, over a range of noise levels, with the
  sparse regime of the piecewise-constant data computed from the clean signals;
* :func:`rates`: the convergence rates of those filters, fitted over windows fixed
  before looking, beside alternative windows;
* :func:`reconstructions`: one test signal reconstructed, and the error near jumps;
* :func:`panel_data`: the filters of the chapter's panel, learned on a grid of noise levels.

:func:`compare_learned_filters` (and :class:`FilterTrainer`, which it uses) trains
and tests the three learned reconstructions on frozen noise samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_array, check_choice, check_int, check_real, check_rng, check_work, finite_result
from ..book.claims import Check
from ..data import gaussian_random_field, periodic_piecewise_constant, power_law_moments, substream, white_noise
from ..fitting import fit_power_law
from ..frames import BOOK_WAVELETS, WaveletVaguelette, frame_moments, optimal_soft_threshold, soft_threshold
from ..metrics import jump_split_error
from ..operators import SVD, PeriodicIntegration
from ..spectral import apply_filter, empirical_filter, mse_filter, optimal_risk, pseudo_inverse_filter, risk

__all__ = [
    "SEED",
    "Z_MAX",
    "RATE_TOLERANCE",
    "METHODS",
    "FilterComparison",
    "FilterTrainer",
    "compare_learned_filters",
    "paired_z",
    "DFDChecks",
    "dfd_checks",
    "FrameBoundsResult",
    "frame_bounds",
    "LinearDFD",
    "linear_dfd",
    "Structure",
    "structure",
    "Rates",
    "rates",
    "Reconstructions",
    "reconstructions",
    "PanelData",
    "panel_data",
]

#: Seed of the chapter's generator.
SEED = 20251208

#: Bound on the largest of up to ~500 standardised deviations that are N(0, 1) (union bound: P < 0.4 %).
Z_MAX = 4.5

#: Tolerance of the fitted rates: half the gap between the linear rate 1/2 and the sparse rate 2/3, so that a
#: claim that passes for one of them excludes the other.
RATE_TOLERANCE = 1.0 / 12.0

#: The three learned reconstructions.
METHODS = ("svd", "linear", "soft")
METHOD_NAMES = {"svd": "learned SVD filter", "linear": "linear DFD filter", "soft": "soft-threshold DFD filter"}


# ---------------------------------------------------------------------------
# Training and testing the three learned reconstructions
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FilterComparison:
    r"""Test errors of three learned reconstructions over a range of noise levels.

    Attributes
    ----------
    deltas : ndarray, shape (D,)
    errors : dict of str to ndarray, shape (D, K_test)
        Per-sample squared errors :math:`\|\hat x_i - x_i\|^2` (discrete :math:`L^2`) of
        ``'svd'`` (learned spectral filter), ``'linear'`` (learned linear DFD filter)
        and ``'soft'`` (learned soft-threshold DFD filter).
    g_svd, g_linear : ndarray, shape (D, r) and (D, L)
        Learned coefficients.
    tau : ndarray, shape (D, number of scales)
        Learned thresholds.
    """

    deltas: np.ndarray
    errors: dict
    g_svd: np.ndarray
    g_linear: np.ndarray
    tau: np.ndarray

    def mse(self, method: str) -> np.ndarray:
        """Mean test error of ``method`` per noise level."""
        return self.errors[check_choice(method, "method", self.errors)].mean(axis=1)

    def standard_error(self, method: str) -> np.ndarray:
        """Standard error of :meth:`mse`."""
        e = self.errors[check_choice(method, "method", self.errors)]
        return e.std(axis=1, ddof=1) / np.sqrt(e.shape[1])


def paired_z(res: FilterComparison, a: str, b: str) -> np.ndarray:
    """(mean error of ``a`` - mean error of ``b``) / standard error of the paired difference, per noise level.

    Both methods are tested on the same samples and noise, so the difference is paired.
    """
    d = res.errors[check_choice(a, "a", res.errors)] - res.errors[check_choice(b, "b", res.errors)]
    return d.mean(axis=1) / (d.std(axis=1, ddof=1) / np.sqrt(d.shape[1]))


class FilterTrainer:
    r"""Learned SVD, linear DFD and soft-threshold DFD filters on frozen noise samples, at any noise level.

    Data are :math:`y = Ax + \delta e` with *frozen* unit-level noise samples
    :math:`e` (rows of ``E_train``, ``E_test``), so that every method and every
    :math:`\delta` sees the same noise. Since
    :math:`\langle y, v_l\rangle = \kappa_l\langle x, u_l\rangle + \delta\langle e, v_l\rangle`
    (and likewise with :math:`s_k` in the SVD), all coefficients are computed once,
    here, and combined per :math:`\delta` in :meth:`at`. Errors are evaluated in the
    orthonormal bases :math:`(u_k)` and :math:`(u_l)`, plus the null-space part
    :math:`\|P_{\mathcal N}x\|^2` (the mean), which no method recovers.

    Parameters
    ----------
    dfd : WaveletVaguelette
        The DFD; its operator supplies the SVD.
    X_train, E_train : ndarray, shape (K, n)
        Training signals and unit-level noise.
    X_test, E_test : ndarray, shape (K_test, n)
    svd : SVD, optional
        The operator's singular system, if already computed (it is the same for
        every wavelet at a given n); default ``dfd.operator.svd()``.
    """

    def __init__(self, dfd: WaveletVaguelette, X_train, E_train, X_test, E_test, *, svd: SVD | None = None):
        if not isinstance(dfd, WaveletVaguelette):
            raise ValueError(f"dfd must be a WaveletVaguelette, got {type(dfd).__name__}")
        X_train, E_train = dfd.check_pairs(X_train, E_train, ("X_train", "E_train"))
        X_test, E_test = dfd.check_pairs(X_test, E_test, ("X_test", "E_test"))
        if svd is None:
            svd = dfd.operator.svd()
        if not isinstance(svd, SVD) or svd.U.shape[0] != dfd.n:
            raise ValueError(f"svd must be the SVD of PeriodicIntegration({dfd.n}) (learnreg.operators.SVD)")
        self.dfd, self.svd = dfd, svd
        self.null = (dfd.h * np.sum(X_test, axis=1)) ** 2  # ||P_N x||^2 = <x, 1>^2, the constant 1 has unit norm
        self.parts = {}
        for name, Xs, Es in (("train", X_train, E_train), ("test", X_test, E_test)):
            self.parts[name] = dict(
                sx=svd.coefficients_x(Xs), se=svd.coefficients_y(Es), fx=dfd.analysis_x(Xs), fe=dfd.analysis_y(Es)
            )
        self.scale_index = np.searchsorted(dfd.scales, dfd.scale)

    def at(self, delta: float) -> dict:
        """Learn the three filters at noise level ``delta`` and test them.

        Returns a dict with ``g_svd``, ``g_linear``, ``tau`` (per scale) and ``errors``
        (per method, one squared error per test sample).
        """
        delta = check_real(delta, "delta", positive=True)
        S, dfd = self.svd, self.dfd
        tr, te = self.parts["train"], self.parts["test"]
        gs = empirical_filter(tr["sx"], S.s * tr["sx"] + delta * tr["se"])
        gl = empirical_filter(tr["fx"], dfd.kappa * tr["fx"] + delta * tr["fe"])
        cy_tr = dfd.kappa * tr["fx"] + delta * tr["fe"]
        tau = np.empty(dfd.scales.shape[0])
        for i, j in enumerate(dfd.scales):
            sel = dfd.scale == j
            k = float(dfd.kappa[sel].mean())
            tau[i] = optimal_soft_threshold(cy_tr[:, sel] / k, tr["fx"][:, sel])[0] * k
        sy = S.s * te["sx"] + delta * te["se"]
        fy = dfd.kappa * te["fx"] + delta * te["fe"]
        soft = soft_threshold(fy, tau[self.scale_index]) / dfd.kappa
        errors = {
            "svd": np.sum((gs * sy - te["sx"]) ** 2, axis=1) + self.null,
            "linear": np.sum((gl * fy - te["fx"]) ** 2, axis=1) + self.null,
            "soft": np.sum((soft - te["fx"]) ** 2, axis=1) + self.null,
        }
        return {"g_svd": gs, "g_linear": gl, "tau": tau, "errors": errors}

    def reconstruct(self, learned: dict, y) -> dict:
        """The three reconstructions of data ``y`` (shape (..., n)) with filters from :meth:`at`."""
        return {"svd": apply_filter(self.svd, learned["g_svd"], y),
                "linear": self.dfd.apply_linear(learned["g_linear"], y),
                "soft": self.dfd.apply_soft(learned["tau"], y)}

    def compare(self, deltas) -> FilterComparison:
        """Learn and test at each noise level of ``deltas``."""
        deltas = as_array(deltas, "deltas", ndim=1, positive=True)
        size = sum(p["sx"].size for p in self.parts.values())
        check_work(20.0 * deltas.shape[0] * size, f"compare_learned_filters at {deltas.shape[0]} deltas")
        runs = [self.at(d) for d in deltas]
        return FilterComparison(
            deltas=deltas,
            errors={m: np.array([r["errors"][m] for r in runs]) for m in METHODS},
            g_svd=np.array([r["g_svd"] for r in runs]),
            g_linear=np.array([r["g_linear"] for r in runs]),
            tau=np.array([r["tau"] for r in runs]),
        )


@finite_result
def compare_learned_filters(
    dfd: WaveletVaguelette, X_train, E_train, X_test, E_test, deltas, *, svd: SVD | None = None
) -> FilterComparison:
    r"""Train and test the learned SVD, linear DFD and soft-threshold DFD filters at several noise levels.

    See :class:`FilterTrainer` for the data model (frozen unit-level noise, errors
    in the orthonormal bases plus the null-space part).

    Parameters
    ----------
    dfd : WaveletVaguelette
        The DFD; its operator supplies the SVD.
    X_train, E_train : ndarray, shape (K, n)
        Training signals and unit-level noise.
    X_test, E_test : ndarray, shape (K_test, n)
    deltas : array_like, shape (D,)
        Positive noise levels.
    svd : SVD, optional
        The operator's singular system, if already computed.
    """
    trainer = FilterTrainer(dfd, X_train, E_train, X_test, E_test, svd=svd)
    return trainer.compare(deltas)


def _wavelets(wavelets) -> tuple:
    if isinstance(wavelets, str) or not hasattr(wavelets, "__len__") or len(wavelets) == 0:
        raise ValueError("wavelets must be a non-empty sequence of wavelet names")
    return tuple(wavelets)


def _slope(x, y) -> float:
    return float(fit_power_law(x, y).slope)


def _in(values, window) -> np.ndarray:
    lo, hi = window
    return (values >= lo * (1 - 1e-9)) & (values <= hi * (1 + 1e-9))


def _fmt_window(window) -> str:
    return "[" + ", ".join(f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e") for v in window) + "]"


def _tex(value: float, digits: int = 2) -> str:
    """A positive number in TeX, e.g. ``10^{-6}`` or ``2.7\\cdot10^{-6}``."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    exponent = int(exponent)
    if float(mantissa) == 1.0:
        return f"10^{{{exponent}}}"
    return f"{float(mantissa):g}\\cdot10^{{{exponent}}}"


def _tex_window(window) -> str:
    return "[" + ", ".join(_tex(v) for v in window) + "]"


# ---------------------------------------------------------------------------
# 1. The wavelet–vaguelette DFD
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DFDChecks:
    """The wavelet–vaguelette DFD at resolution n, checked independently, for several wavelets.

    Attributes
    ----------
    n : int
    wavelets : tuple of str
    s : ndarray
        Singular values of the periodic antiderivative.
    kappa : dict
        :math:`\\kappa_l` per wavelet (scales coarse to fine).
    kappa_scale : dict
        :math:`\\kappa_j` per scale, per wavelet.
    scales : ndarray
    identity_error, pinv_error : dict
        :math:`\\max_l\\|A^*v_l-\\kappa_lu_l\\|/\\kappa_l` with the operator's FFT adjoint, and the relative
        difference of the DFD pseudo-inverse from the SVD pseudo-inverse on random data.
    haar_kappa_error : float
        Largest relative deviation of Haar's :math:`\\kappa_j` from :math:`(6\\cdot2^jn)^{-1/2}` (j >= 1),
        :math:`(8n)^{-1/2}` (j = 0).
    examples : dict
        ``{wavelet: (U, V)}`` at resolution ``n_small``, columns of the wavelets and vaguelettes at
        scales 2 and 5 (for the figure); ``grid_small`` their grid.
    """

    n: int
    wavelets: tuple
    s: np.ndarray
    kappa: dict
    kappa_scale: dict
    scales: np.ndarray
    identity_error: dict
    pinv_error: dict
    haar_kappa_error: float
    examples: dict
    grid_small: np.ndarray

    def kappa_slope(self, wavelet: str, interior: bool = False) -> float:
        """Fitted slope of :math:`\\log_2\\kappa_j` against j, over all scales or the interior ones."""
        j, k = self.scales, self.kappa_scale[wavelet]
        if interior:  # leave out the coarsest (wraps around the circle) and the finest (a few samples)
            j, k = j[1:-1], k[1:-1]
        return float(np.polyfit(j, np.log2(k), 1)[0])

    def table(self) -> str:
        lines = [f"n = {self.n}: {self.n - 1} triples per wavelet; defects below the bounds (1e-12, 1e-10):",
                 f"{'wavelet':<8}{'A* v = kappa u':>15}{'A+ DFD = SVD':>14}{'slope log2 kappa_j':>20}"
                 f"{'(interior)':>11}"]
        for w in self.wavelets:
            lines.append(f"{w:<8}{str(self.identity_error[w] <= 1e-12):>15}{str(self.pinv_error[w] <= 1e-10):>14}"
                         f"{self.kappa_slope(w):20.3f}{self.kappa_slope(w, True):11.3f}")
        lines.append(f"Haar: kappa_j = (6 2^j n)^(-1/2) to rounding level: {self.haar_kappa_error <= 1e-12}")
        lines.append(f"kappa_j 2^j per scale j = {self.scales[0]}..{self.scales[-1]}:")
        for w in self.wavelets:
            lines.append(f"  {w:<6}" + " ".join(f"{v:.3f}" for v in self.kappa_scale[w] * 2.0**self.scales))
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        names = ", ".join(self.wavelets)
        out = [
            Check("ch6-identity",
                  f"$A^*v_l=\\kappa_lu_l$ to rounding level for {names} at $n={self.n}$, with $A^*$ applied by the "
                  "operator's FFT (largest relative defect)",
                  max(self.identity_error.values()), 0.0, 1e-12, kind="max", figure="fig-ch6-dfd",
                  verdict_only=True),
            Check("ch6-pinv",
                  f"$A^+y=\\sum_l\\kappa_l^{{-1}}\\langle y,v_l\\rangle u_l$ equals the pseudo-inverse of the "
                  f"closed-form SVD ($n={self.n}$, {names}; relative difference on random data)",
                  max(self.pinv_error.values()), 0.0, 1e-10, kind="max", verdict_only=True),
        ]
        if "haar" in self.wavelets:
            out.append(Check("ch6-haar-kappa",
                             "Haar: $\\kappa_j=(6\\cdot2^jn)^{-1/2}$ ($j\\ge1$) and $(8n)^{-1/2}$ ($j=0$) (largest "
                             "relative deviation)",
                             self.haar_kappa_error, 0.0, 1e-12, kind="max", figure="fig-ch6-dfd", verdict_only=True))
        for w, expected in (("db4", -1.0), ("sym6", -1.0), ("haar", -0.5)):
            if w in self.wavelets:
                out.append(Check(f"ch6-kappa-slope-{w}",
                                 f"{w}: the fitted slope of $\\log_2\\kappa_j$ against $j$ ($n={self.n}$, all scales) "
                                 f"is ${expected:g}$",
                                 self.kappa_slope(w), expected, 0.1, figure="fig-ch6-dfd"))
        return out


def dfd_checks(rng: np.random.Generator, *, n: int = 1024, wavelets=BOOK_WAVELETS, n_data: int = 4,
               n_small: int = 256, examples=("haar", "db4")) -> DFDChecks:
    r"""Build the wavelet–vaguelette DFD for each wavelet and check it against the operator.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream ``"dfd-data"`` (the random data of the pseudo-inverse check).
    n : int
        Resolution (a power of 2).
    wavelets : sequence of str
    n_data : int
        Random data vectors for the pseudo-inverse check.
    n_small : int
        Resolution of the example wavelets and vaguelettes.
    examples : sequence of str
        Wavelets whose examples are kept.
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=16, maximum=4096)
    wavelets = _wavelets(wavelets)
    n_data = check_int(n_data, "n_data", minimum=1, maximum=100)
    n_small = check_int(n_small, "n_small", minimum=64, maximum=4096)
    op = PeriodicIntegration(n)
    S = op.svd()
    y = substream(rng, "dfd-data").standard_normal((n_data, n))
    pinv_svd = apply_filter(S, pseudo_inverse_filter(S.s), y)
    kappa, kappa_scale, ident, pinv = {}, {}, {}, {}
    scales = None
    for w in wavelets:
        dfd = WaveletVaguelette(n, w)
        kappa[w], kappa_scale[w], scales = dfd.kappa, dfd.kappa_per_scale(), dfd.scales
        ident[w] = dfd.identity_error()
        pinv[w] = float(np.abs(dfd.pseudo_inverse(y) - pinv_svd).max() / np.abs(pinv_svd).max())
    haar_err = float("nan")
    if "haar" in wavelets:
        closed = np.where(scales == 0, (8.0 * n) ** -0.5, (6.0 * 2.0**scales * n) ** -0.5)
        haar_err = float(np.abs(kappa_scale["haar"] / closed - 1).max())
    ex, grid = {}, None
    for w in examples:
        d = WaveletVaguelette(n_small, w)
        cols = [int(np.flatnonzero((d.scale == j) & (d.position == p))[0]) for j, p in ((2, 1), (5, 22))]
        ex[w] = (d.U[:, cols], d.V[:, cols])
        grid = d.grid
    return DFDChecks(n=n, wavelets=wavelets, s=S.s, kappa=kappa, kappa_scale=kappa_scale, scales=scales,
                     identity_error=ident, pinv_error=pinv, haar_kappa_error=haar_err, examples=ex, grid_small=grid)


# ---------------------------------------------------------------------------
# 2. Frame bounds against the resolution
# ---------------------------------------------------------------------------

#: The resolutions of the frame-bound fits: the coarsest one (n = 32) is left out, where the finest scales
#: hold only a few samples; the alternative windows are shown beside.
FRAME_FIT = (64, 1024)
FRAME_ALTERNATIVES = ((32, 256), (128, 1024))


@dataclass(frozen=True)
class FrameBoundsResult:
    """Optimal frame bounds of the vaguelettes :math:`(v_l)` against the resolution.

    Attributes
    ----------
    ns : ndarray
    wavelets : tuple
    lower, upper : ndarray, shape (len(wavelets), len(ns))
        :math:`A_F` and :math:`B_F` (extreme eigenvalues of the Gram matrix).
    """

    ns: np.ndarray
    wavelets: tuple
    lower: np.ndarray
    upper: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        return self.upper / self.lower

    def _row(self, wavelet):
        return self.wavelets.index(check_choice(wavelet, "wavelet", self.wavelets))

    def ratio_slope(self, wavelet: str, window=FRAME_FIT) -> float:
        """Fitted exponent of :math:`B_F/A_F` against n over ``window``."""
        sel = _in(self.ns, window)
        return _slope(self.ns[sel], self.ratio[self._row(wavelet), sel])

    def lower_slope(self, wavelet: str, window=FRAME_FIT) -> float:
        """Fitted exponent of :math:`A_F` against n over ``window``."""
        sel = _in(self.ns, window)
        return _slope(self.ns[sel], self.lower[self._row(wavelet), sel])

    def growth(self, wavelet: str, n_from: int = 256) -> float:
        """:math:`B_F/A_F` at the largest n divided by its value at ``n_from``."""
        i = self._row(wavelet)
        return float(self.ratio[i, -1] / self.ratio[i, list(self.ns).index(n_from)])

    def table(self) -> str:
        lines = ["frame-bound ratio B_F/A_F of the vaguelettes:",
                 f"{'n':>6} " + " ".join(f"{w:>9}" for w in self.wavelets)]
        for j, m in enumerate(self.ns):
            lines.append(f"{m:6d} " + " ".join(f"{self.ratio[i, j]:9.2f}" for i in range(len(self.wavelets))))
        alt = [w for w in FRAME_ALTERNATIVES if np.sum(_in(self.ns, w)) >= 3]
        lines.append(f"fitted exponent of B_F/A_F over n in {list(FRAME_FIT)}"
                     + ("\n  (over " + ", ".join(str(list(w)) for w in alt) + "):" if alt else ":"))
        for w in self.wavelets:
            lines.append(f"  {w:<5} {self.ratio_slope(w):.3f}"
                         + (" (" + ", ".join(f"{self.ratio_slope(w, a):.3f}" for a in alt) + ")" if alt else ""))
        if "haar" in self.wavelets:
            i = self.wavelets.index("haar")
            lines.append("Haar: n A_F = " + ", ".join(f"{v:.2f}" for v in self.lower[i] * self.ns))
            lines.append(f"Haar: fitted exponent of A_F: {self.lower_slope('haar'):.3f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        out = []
        lo, hi = FRAME_FIT
        for w in ("db4", "sym6"):
            if w in self.wavelets:
                out.append(Check(f"ch6-frame-{w}-bounded",
                                 f"{w}: the frame-bound ratio $B_F/A_F$ grows by less than 20% from $n=256$ to "
                                 f"$n={self.ns[-1]}$",
                                 self.growth(w), 1.0, 0.2, kind="max", figure="fig-ch6-frame-bounds"))
        if "haar" in self.wavelets:
            i = self.wavelets.index("haar")
            out.append(Check("ch6-frame-haar-bound",
                             f"Haar: the lower frame bound satisfies $A_F\\le6/n$ (largest $nA_F$ over "
                             f"$n={self.ns[0]}\\dots{self.ns[-1]}$)",
                             float(np.max(self.lower[i] * self.ns)), 6.0, 0.0, kind="max",
                             figure="fig-ch6-frame-bounds"))
            out.append(Check("ch6-frame-haar-rate",
                             f"Expected: Haar's $A_F$ decays like $1/n$, i.e. the bound $6/n$ is attained up to a "
                             f"constant (fitted exponent over $n={lo}\\dots{hi}$)",
                             self.lower_slope("haar"), -1.0, 0.1, type="expectation", figure="fig-ch6-frame-bounds"))
        if "db2" in self.wavelets:
            out.append(Check("ch6-frame-db2-grows",
                             f"Expected: db2 (regularity at the border, $s=1$) has a growing ratio $B_F/A_F$ (fitted "
                             f"exponent over $n={lo}\\dots{hi}$ at least 0.1)",
                             self.ratio_slope("db2"), 0.1, 0.0, kind="min", type="expectation",
                             figure="fig-ch6-frame-bounds"))
            if "haar" in self.wavelets:
                out.append(Check("ch6-frame-db2-slower",
                                 "Expected: db2's ratio grows more slowly than Haar's (fitted exponent of db2 minus "
                                 "Haar's, below 0)",
                                 self.ratio_slope("db2") - self.ratio_slope("haar"), 0.0, 0.0, kind="max",
                                 type="expectation", figure="fig-ch6-frame-bounds"))
        return out


def frame_bounds(*, ns=(32, 64, 128, 256, 512, 1024), wavelets=BOOK_WAVELETS) -> FrameBoundsResult:
    """Compute the optimal frame bounds of the vaguelettes for each resolution and wavelet.

    Parameters
    ----------
    ns : sequence of int
        Resolutions (powers of 2, increasing, including 256).
    wavelets : sequence of str
    """
    ns = np.array([check_int(m, "ns", minimum=8, maximum=4096) for m in ns])
    if ns.size < 3 or np.any(np.diff(ns) <= 0) or 256 not in ns:
        raise ValueError("ns must hold at least 3 increasing resolutions, including 256")
    wavelets = _wavelets(wavelets)
    lower, upper = np.zeros((len(wavelets), ns.size)), np.zeros((len(wavelets), ns.size))
    for i, w in enumerate(wavelets):
        for j, m in enumerate(ns):
            b = WaveletVaguelette(int(m), w).frame_bounds()
            lower[i, j], upper[i, j] = b.lower, b.upper
    return FrameBoundsResult(ns=ns, wavelets=wavelets, lower=lower, upper=upper)


# ---------------------------------------------------------------------------
# 3. The learned linear DFD filter
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearDFD:
    """MSE-optimal linear DFD filters against the empirical minimisers and against the SVD filter.

    Attributes
    ----------
    n, n_train : int
    delta, b : float
    wavelets : tuple
    s, g_svd : ndarray
        Singular values and the MSE-optimal SVD filter.
    risk_svd : float
        Its risk (the optimal spectral risk).
    kappa, g_closed, g_emp, z : dict of ndarray
        Per wavelet: quasi-singular values, the closed-form filter, the empirical minimiser and the standardised
        deviations (exactly N(0, 1) given the data coefficients).
    risk_dfd : dict of float
        Closed-form risk of each linear DFD filter.
    """

    n: int
    n_train: int
    delta: float
    b: float
    wavelets: tuple
    s: np.ndarray
    g_svd: np.ndarray
    risk_svd: float
    kappa: dict
    g_closed: dict
    g_emp: dict
    z: dict
    risk_dfd: dict

    def table(self) -> str:
        lines = [f"Gaussian data, n = {self.n}, K = {self.n_train}, delta = {self.delta:g}:",
                 f"  optimal spectral risk {self.risk_svd:.4e}",
                 f"{'wavelet':<8}{'DFD risk':>12}{'/ SVD risk':>12}{'max |z_l|':>11}{'mean z_l^2':>12}"]
        for w in self.wavelets:
            z = self.z[w]
            lines.append(f"{w:<8}{self.risk_dfd[w]:12.4e}{self.risk_dfd[w] / self.risk_svd:12.4f}"
                         f"{np.max(np.abs(z)):11.2f}{np.mean(z**2):12.3f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        w = "db4" if "db4" in self.wavelets else self.wavelets[0]
        ratio = min(self.risk_dfd[v] / self.risk_svd for v in self.wavelets)
        return [
            Check("ch6-linear-empirical",
                  f"{w}, $n={self.n}$, $K={self.n_train}$: the empirical linear DFD filter agrees with the closed form "
                  "$g_l=\\kappa_l\\Pi_l/(\\kappa_l^2\\Pi_l+\\Delta_l)$ within sampling error (largest standardised "
                  "deviation $|z_l|$)",
                  float(np.max(np.abs(self.z[w]))), 0.0, Z_MAX, kind="max", figure="fig-ch6-linear"),
            Check("ch6-linear-vs-svd",
                  "Gaussian data diagonal in the SVD: no linear DFD filter beats the SVD filter (smallest ratio of "
                  f"closed-form risks over {len(self.wavelets)} wavelets)",
                  ratio, 1.0, 1e-12, kind="min", figure="fig-ch6-linear"),
        ]


def linear_dfd(rng: np.random.Generator, *, n: int = 512, b: float = 2.0, delta: float = 1e-3, n_train: int = 2000,
               wavelets=BOOK_WAVELETS) -> LinearDFD:
    r"""Learn the linear DFD filter from Gaussian pairs and compare it with its closed form and the SVD filter.

    Parameters
    ----------
    rng : numpy.random.Generator
        Stream ``"linear-dfd"``.
    n : int
        Resolution of the periodic antiderivative (a power of 2).
    b : float
        Gaussian data with :math:`\Pi_k = k^{-b}` in the singular basis.
    delta : float
        White noise level.
    n_train : int
    wavelets : sequence of str
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=16, maximum=4096)
    b = check_real(b, "b", positive=True)
    delta = check_real(delta, "delta", positive=True)
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**6)
    wavelets = _wavelets(wavelets)
    op = PeriodicIntegration(n)
    S = op.svd()
    Pi_k = power_law_moments(S.rank, b)
    r = substream(rng, "linear-dfd")
    X = gaussian_random_field(S.U, Pi_k, n_train, r)
    Y = op.apply(X) + white_noise(op.weights_y, delta, n_train, r)
    kappa, g_closed, g_emp, z, risks = {}, {}, {}, {}, {}
    for w in wavelets:
        d = WaveletVaguelette(n, w)
        Pi_l = frame_moments(d, S.U, Pi_k)
        g = d.mse_filter(Pi_l, delta**2)
        ge = d.empirical_filter(X, Y)
        m = Pi_l * delta**2 / (d.kappa**2 * Pi_l + delta**2)  # residual variance of <x,u_l> given <y,v_l>
        kappa[w], g_closed[w], g_emp[w] = d.kappa, g, ge
        z[w] = (ge - g) * np.sqrt(np.sum(d.analysis_y(Y) ** 2, axis=0) / m)
        risks[w] = risk(d.kappa, g, Pi_l, delta**2).total
    return LinearDFD(n=n, n_train=n_train, delta=delta, b=b, wavelets=wavelets, s=S.s,
                     g_svd=mse_filter(S.s, Pi_k, delta**2), risk_svd=optimal_risk(S.s, Pi_k, delta**2), kappa=kappa,
                     g_closed=g_closed, g_emp=g_emp, z=z, risk_dfd=risks)


# ---------------------------------------------------------------------------
# 4. The structural comparison: Gaussian and piecewise-constant data
# ---------------------------------------------------------------------------

CLASSES = ("gaussian", "piecewise")
CLASS_NAMES = {"gaussian": "Gaussian", "piecewise": "Piecewise-constant"}
#: Fraction of non-zero wavelet coefficients at or below which a scale counts as sparse.
SPARSE_FRACTION = 0.5
#: The window of the "clear margin" expectation, and of the piecewise-constant rate fit.
CLEAR_MARGIN = 1.5


def _draw(cls: str, n: int, count: int, rng, svd=None):
    if cls == "gaussian":
        return gaussian_random_field(svd.U, power_law_moments(n - 1, 2.0), count, rng)
    return periodic_piecewise_constant(n, count, rng)


@dataclass(frozen=True)
class Sparsity:
    r"""Where the wavelet coefficients of the clean signals are sparse, and at which noise levels that matters.

    Attributes
    ----------
    scales : ndarray
    fraction : ndarray
        Mean fraction of non-zero coefficients :math:`\langle x,u_l\rangle` at each scale.
    size : ndarray
        Root mean square of the non-zero coefficients.
    kappa : ndarray
        :math:`\kappa_j`.
    n : int
    """

    scales: np.ndarray
    fraction: np.ndarray
    size: np.ndarray
    kappa: np.ndarray
    n: int

    @property
    def delta_star(self) -> np.ndarray:
        r"""Noise level at which the typical coefficient of scale j reaches the universal threshold,
        :math:`\delta^*_j = a_j\kappa_j/\sqrt{2\ln n}` (scale j carries signal for :math:`\delta < \delta^*_j`)."""
        return self.size * self.kappa / np.sqrt(2 * np.log(self.n))

    @property
    def delta_sparse(self) -> float:
        """The noise level below which a sparse scale carries signal (the proposition's sparse regime)."""
        sparse = self.fraction <= SPARSE_FRACTION
        return float(np.max(self.delta_star[sparse])) if sparse.any() else 0.0

    def active_scale(self, delta: float) -> int:
        """The finest scale that carries signal at noise level ``delta`` (-1 if none)."""
        on = np.flatnonzero(self.delta_star > delta)
        return int(self.scales[on].max()) if on.size else -1


def sparsity(dfd: WaveletVaguelette, X) -> Sparsity:
    """Per-scale sparsity of the clean signals ``X`` (rows) in the wavelets of ``dfd``."""
    if not isinstance(dfd, WaveletVaguelette):
        raise ValueError(f"dfd must be a WaveletVaguelette, got {type(dfd).__name__}")
    c = dfd.analysis_x(as_array(X, "X", ndim=2))
    nz = np.abs(c) > 1e-9 * np.abs(c).max()
    frac, size = [], []
    for j in dfd.scales:
        sel = dfd.scale == j
        frac.append(float(nz[:, sel].mean()))
        size.append(float(np.sqrt(np.mean(c[:, sel][nz[:, sel]] ** 2))) if nz[:, sel].any() else 0.0)
    return Sparsity(scales=dfd.scales, fraction=np.array(frac), size=np.array(size), kappa=dfd.kappa_per_scale(),
                    n=dfd.n)


@dataclass(frozen=True, eq=False)
class Structure:
    """Learned SVD, linear DFD and soft-threshold DFD filters on two data classes and several wavelets.

    Attributes
    ----------
    wavelets : tuple
    n : dict
        Resolution per data class.
    n_train, n_test : int
    results : dict
        ``{(class, wavelet): FilterComparison}``.
    sparsity : Sparsity
        Of the clean piecewise-constant training signals in the db4 wavelets.
    window : tuple
        The noise levels of the "clear margin" expectation (the piecewise-constant rate window).
    X_test, E_test : ndarray
        The piecewise-constant test signals and their unit-level noise.
    """

    wavelets: tuple
    n: dict
    n_train: int
    n_test: int
    results: dict
    sparsity: Sparsity
    window: tuple
    X_test: np.ndarray
    E_test: np.ndarray
    replicate_slopes: dict

    def deltas(self, cls: str) -> np.ndarray:
        return self.results[cls, self.wavelets[0]].deltas

    def ratio(self, cls: str, wavelet: str, method: str) -> np.ndarray:
        """MSE of ``method`` / MSE of the learned SVD filter, per noise level."""
        r = self.results[cls, wavelet]
        return r.mse(method) / r.mse("svd")

    @property
    def sparse_deltas(self) -> np.ndarray:
        """The piecewise-constant noise levels inside the sparse regime."""
        d = self.deltas("piecewise")
        return d[d <= self.sparsity.delta_sparse]

    def _z_min(self, cls: str, methods, against: str = "svd", sel=None) -> float:
        out = np.inf
        for w in self.wavelets:
            for m in methods:
                z = paired_z(self.results[cls, w], m, against)
                out = min(out, float(np.min(z if sel is None else z[sel])))
        return out

    @property
    def soft_win_z(self) -> float:
        """Smallest paired z-score of (SVD - soft, db4) over the sparse regime (large: soft wins)."""
        d = self.deltas("piecewise")
        sel = d <= self.sparsity.delta_sparse
        return float(np.min(paired_z(self.results["piecewise", "db4"], "svd", "soft")[sel])) if sel.any() else np.nan

    @property
    def crossover(self) -> float:
        """The largest piecewise-constant noise level at which the soft db4 filter still has the smaller MSE,
        below which it wins at every level (NaN if it never wins at the smallest one)."""
        d = self.deltas("piecewise")
        wins = self.ratio("piecewise", "db4", "soft") < 1
        k = 0
        while k < d.size and wins[k]:
            k += 1
        return float(d[k - 1]) if k else float("nan")

    def table(self) -> str:
        lines = []
        for cls in CLASSES:
            for m in ("linear", "soft"):
                lines.append(f"{cls} data (n = {self.n[cls]}): MSE of the {m} DFD filter / learned SVD filter")
                lines.append(f"{'delta':>8} {'MSE(SVD)':>10} " + " ".join(f"{w:>7}" for w in self.wavelets))
                for i, dl in enumerate(self.deltas(cls)):
                    base = self.results[cls, self.wavelets[0]].mse("svd")[i]
                    lines.append(f"{dl:8.1e} {base:10.3e} "
                                 + " ".join(f"{self.ratio(cls, w, m)[i]:7.3f}" for w in self.wavelets))
        sp = self.sparsity
        lines.append(f"piecewise-constant signals in the db4 wavelets (n = {sp.n}):")
        lines.append(f"{'scale j':>8}{'non-zero':>10}{'delta*_j':>10}")
        for j, f, d in zip(sp.scales, sp.fraction, sp.delta_star):
            lines.append(f"{j:8d}{f:10.3f}{d:10.1e}")
        lines.append(f"sparse regime (a scale with at most {SPARSE_FRACTION:g} non-zero carries signal):")
        lines.append(f"  delta <= {sp.delta_sparse:.1e}")
        lines.append(f"soft db4 filter wins at every delta <= {self.crossover:.1e}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        d = self.deltas("piecewise")
        sel = _in(d, self.window)
        margin = float(np.min(1 / self.ratio("piecewise", "db4", "soft")[sel]))
        n_sparse = self.sparse_deltas.size
        return [
            Check("ch6-gauss-nothing-beats-svd",
                  "Gaussian data: no linear or soft-threshold DFD filter beats the learned SVD filter at any noise "
                  f"level ({len(self.wavelets)} wavelets; smallest paired z-score of (DFD $-$ SVD) $\\ge-3$)",
                  self._z_min("gaussian", ("linear", "soft")), -3.0, 0.0, kind="min", figure="fig-ch6-structure"),
            Check("ch6-pwc-linear-not-better",
                  "Shift-invariant piecewise-constant data: no linear DFD filter beats the learned SVD filter at any "
                  "noise level (smallest paired z-score of (linear DFD $-$ SVD) $\\ge-3$)",
                  self._z_min("piecewise", ("linear",)), -3.0, 0.0, kind="min", figure="fig-ch6-structure"),
            Check("ch6-pwc-soft-beats",
                  "Piecewise-constant data, in the sparse regime $\\delta\\le"
                  f"{_tex(self.sparsity.delta_sparse)}$ computed from the clean signals ({n_sparse} noise levels): the "
                  "soft-threshold db4 DFD filter beats the learned SVD filter at each (smallest paired z-score of "
                  "(SVD $-$ soft) $\\ge3$)",
                  self.soft_win_z, 3.0, 0.0, kind="min", figure="fig-ch6-structure"),
            Check("ch6-pwc-soft-clear",
                  "Expected: the soft-threshold db4 DFD filter beats the learned SVD filter by a clear margin (MSE "
                  f"ratio $\\ge{CLEAR_MARGIN:g}$) at every noise level of the rate window "
                  f"$\\delta\\in{_tex_window(self.window)}$",
                  margin, CLEAR_MARGIN, 0.0, kind="min", type="expectation", figure="fig-ch6-structure"),
        ]


def structure(rng: np.random.Generator, *, wavelets=BOOK_WAVELETS, n_train: int = 600, n_test: int = 300,
              n_gaussian: int = 1024, n_piecewise: int = 2048, gaussian_deltas=None, piecewise_deltas=None,
              window=(1e-6, 1e-3), replicates: int = 4) -> Structure:
    r"""Train and test the three learned reconstructions on Gaussian and piecewise-constant data.

    Parameters
    ----------
    rng : numpy.random.Generator
        Streams ``"structure-gaussian"`` and ``"structure-piecewise"``.
    wavelets : sequence of str
        Must include ``"db4"`` (the sparse regime and the claims use it).
    n_train, n_test : int
    n_gaussian, n_piecewise : int
        Resolutions (powers of 2).
    gaussian_deltas, piecewise_deltas : array_like, optional
        Noise levels (default :math:`10^{-5}\dots10^{-1}`, 9 values, and
        :math:`10^{-6}\dots10^{-2}`, 13 values).
    window : (float, float)
        The noise levels of the "clear margin" expectation and of the piecewise-constant rate fits.
    replicates : int
        Further independent training and test sets of piecewise-constant data (db4 only, streams
        ``"structure-replicate-<i>"``), on which the rates of the linear and soft-threshold DFD filters are fitted
        again over ``window``: their spread is the run-to-run spread of the fitted rates.
    """
    check_rng(rng)
    wavelets = _wavelets(wavelets)
    if "db4" not in wavelets:
        raise ValueError("wavelets must include 'db4'")
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**5)
    n_test = check_int(n_test, "n_test", minimum=2, maximum=10**5)
    sizes = {"gaussian": check_int(n_gaussian, "n_gaussian", minimum=16, maximum=4096),
             "piecewise": check_int(n_piecewise, "n_piecewise", minimum=16, maximum=4096)}
    deltas = {
        "gaussian": np.logspace(-5, -1, 9) if gaussian_deltas is None
        else as_array(gaussian_deltas, "gaussian_deltas", ndim=1, positive=True),
        "piecewise": np.logspace(-6, -2, 13) if piecewise_deltas is None
        else as_array(piecewise_deltas, "piecewise_deltas", ndim=1, positive=True),
    }
    window = tuple(check_real(v, "window", positive=True) for v in window)
    if len(window) != 2 or window[0] >= window[1]:
        raise ValueError(f"window must be two increasing noise levels, got {window}")
    replicates = check_int(replicates, "replicates", minimum=0, maximum=100)
    if np.sum(_in(deltas["piecewise"], window)) < 3:
        raise ValueError("window must contain at least 3 of the piecewise-constant noise levels")
    results, sp, X_test, E_test = {}, None, None, None
    for cls in CLASSES:
        n = sizes[cls]
        op = PeriodicIntegration(n)
        S = op.svd()
        r = substream(rng, f"structure-{cls}")
        X = _draw(cls, n, n_train + n_test, r, S)
        E = white_noise(op.weights_y, 1.0, n_train + n_test, r)
        for w in wavelets:
            dfd = WaveletVaguelette(n, w)
            results[cls, w] = compare_learned_filters(dfd, X[:n_train], E[:n_train], X[n_train:], E[n_train:],
                                                      deltas[cls], svd=S)
            if cls == "piecewise" and w == "db4":
                sp = sparsity(dfd, X[:n_train])
        if cls == "piecewise":
            X_test, E_test = X[n_train:], E[n_train:]
    n = sizes["piecewise"]
    op = PeriodicIntegration(n)
    S, dfd = op.svd(), WaveletVaguelette(n, "db4")
    in_window = deltas["piecewise"][_in(deltas["piecewise"], window)]
    reps = {"linear": [], "soft": []}
    for i in range(replicates):
        r = substream(rng, f"structure-replicate-{i}")
        X = _draw("piecewise", n, n_train + n_test, r)
        E = white_noise(op.weights_y, 1.0, n_train + n_test, r)
        comp = FilterTrainer(dfd, X[:n_train], E[:n_train], X[n_train:], E[n_train:], svd=S).compare(in_window)
        for m in reps:
            reps[m].append(_slope(in_window, comp.mse(m)))
    return Structure(wavelets=wavelets, n=sizes, n_train=n_train, n_test=n_test, results=results, sparsity=sp,
                     window=window, X_test=X_test, E_test=E_test,
                     replicate_slopes={m: np.array(v) for m, v in reps.items()})


# ---------------------------------------------------------------------------
# 5. Convergence rates
# ---------------------------------------------------------------------------

#: Fit windows: three decades each, kept from the previous edition of the chapter (the piecewise-constant one is
#: the ``window`` of :func:`structure`).
RATE_WINDOWS = {"gaussian": (1e-5, 1e-2), "piecewise": (1e-6, 1e-3)}
#: Windows shown beside them.
RATE_ALTERNATIVES = {"gaussian": ((1e-5, 1e-3), (1e-4, 1e-1)), "piecewise": ((1e-6, 1e-4), (1e-5, 1e-2))}
#: The rates the proposition predicts.
PREDICTED = {("gaussian", "svd"): 0.5, ("gaussian", "linear"): 0.5, ("gaussian", "soft"): 0.5,
             ("piecewise", "svd"): 0.5, ("piecewise", "linear"): 0.5, ("piecewise", "soft"): 2 / 3}


@dataclass(frozen=True)
class Rates:
    """Fitted rates of the three learned reconstructions (one wavelet), over fixed and alternative windows.

    Attributes
    ----------
    wavelet : str
    windows : dict
        The fit window per data class.
    deltas, mse : dict
        Per data class: noise levels, and the MSE per method.
    slopes : dict
        ``{(class, method): slope over the class's window}``.
    alternative : dict
        ``{(class, method): (slope over each alternative window)}``.
    runs : dict
        Piecewise-constant data, db4 window fits on independent training and test sets (the book's run first):
        ``{"soft": slopes, "linear": slopes}``.
    """

    wavelet: str
    windows: dict
    deltas: dict
    mse: dict
    slopes: dict
    alternative: dict
    runs: dict

    @property
    def midpoint(self) -> float:
        """Midpoint of the two rival rates 1/2 and 2/3."""
        return 7 / 12

    def spread(self, which: str) -> float:
        """Run-to-run standard deviation of the soft filter's slope (``"soft"``) or of its excess over the linear
        filter's (``"difference"``), over the independent runs (NaN with fewer than 3)."""
        soft, lin = self.runs["soft"], self.runs["linear"]
        v = soft if which == "soft" else soft - lin
        return float(np.std(v, ddof=1)) if v.size >= 3 else float("nan")

    @property
    def separation(self) -> float:
        """(soft slope - 7/12) / run-to-run standard deviation (piecewise-constant data)."""
        return (self.slopes["piecewise", "soft"] - self.midpoint) / self.spread("soft")

    @property
    def faster(self) -> float:
        """(soft slope - linear slope) / run-to-run standard deviation of that difference."""
        return (self.slopes["piecewise", "soft"] - self.slopes["piecewise", "linear"]) / self.spread("difference")

    def table(self) -> str:
        lines = [f"fitted rates ({self.wavelet}), predicted, and over other windows:"]
        for cls in CLASSES:
            alt = RATE_ALTERNATIVES[cls]
            lines.append(f"{cls}, delta in {_fmt_window(self.windows[cls])} (other windows "
                         + ", ".join(_fmt_window(w) for w in alt) + "):")
            for m in METHODS:
                lines.append(f"  {METHOD_NAMES[m]:<26}{self.slopes[cls, m]:7.3f}{PREDICTED[cls, m]:7.3f}   "
                             + " ".join(f"{v:7.3f}" for v in self.alternative[cls, m]))
        n = self.runs["soft"].size
        lines.append(f"piecewise, {n} independent training and test sets:")
        for m in ("linear", "soft"):
            v = self.runs[m]
            lines.append(f"  {METHOD_NAMES[m]:<26}" + " ".join(f"{x:.3f}" for x in v))
        s = self.slopes["piecewise", "soft"]
        lines.append(f"  soft slope - 7/12 = {s - self.midpoint:.3f}, 2/3 - soft slope = {2 / 3 - s:.3f},")
        lines.append(f"  run-to-run s.d. {self.spread('soft'):.3f}")
        d = self.slopes["piecewise", "soft"] - self.slopes["piecewise", "linear"]
        lines.append(f"  soft - linear slope = {d:.3f}, run-to-run s.d. {self.spread('difference'):.3f}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        out = []
        for cls, m in (("gaussian", "linear"), ("gaussian", "soft"), ("piecewise", "svd"), ("piecewise", "linear")):
            out.append(Check(f"ch6-rate-{cls}-{m}",
                             f"{CLASS_NAMES[cls]} data, {self.wavelet}: the {METHOD_NAMES[m]} converges at the "
                             f"rate $\\delta^{{1/2}}$ (fitted slope over "
                             f"$\\delta\\in{_tex_window(self.windows[cls])}$; "
                             "the tolerance $1/12$ excludes $2/3$)",
                             self.slopes[cls, m], 0.5, RATE_TOLERANCE, figure="fig-ch6-rates"))
        lo, hi = self.windows["piecewise"]
        out.append(Check("ch6-rate-piecewise-soft",
                         f"Expected: on piecewise-constant data the fitted slope of the {METHOD_NAMES['soft']} "
                         f"({self.wavelet}) over $\\delta\\in{_tex_window((lo, hi))}$ is nearer the sparse rate $2/3$ "
                         "than the linear rate $1/2$ (within $1/12$ of $2/3$, a tolerance that excludes $1/2$)",
                         self.slopes["piecewise", "soft"], 2 / 3, RATE_TOLERANCE, type="expectation",
                         figure="fig-ch6-rates"))
        out.append(Check("ch6-rate-soft-faster",
                         "Expected: on piecewise-constant data the soft-threshold filter's fitted slope exceeds the "
                         "linear DFD filter's (difference of the fitted slopes)",
                         self.slopes["piecewise", "soft"] - self.slopes["piecewise", "linear"], 0.0, 0.0, kind="min",
                         type="expectation", figure="fig-ch6-rates"))
        return out


def rates(res: Structure, wavelet: str = "db4") -> Rates:
    """Fit the convergence rates of the three reconstructions of ``res`` for ``wavelet``."""
    if not isinstance(res, Structure):
        raise ValueError(f"res must be a Structure (from structure), got {type(res).__name__}")
    check_choice(wavelet, "wavelet", res.wavelets)
    windows = {"gaussian": RATE_WINDOWS["gaussian"], "piecewise": res.window}
    deltas, mse, slopes, alternative = {}, {}, {}, {}
    for cls in CLASSES:
        r = res.results[cls, wavelet]
        deltas[cls] = r.deltas
        for m in METHODS:
            mse[cls, m] = r.mse(m)
            fits = []
            for w in (windows[cls], *RATE_ALTERNATIVES[cls]):
                sel = _in(r.deltas, w)
                fits.append(_slope(r.deltas[sel], r.mse(m)[sel]) if sel.sum() >= 3 else float("nan"))
            slopes[cls, m], alternative[cls, m] = fits[0], tuple(fits[1:])
    replicas = res.replicate_slopes if wavelet == "db4" else {"linear": [], "soft": []}  # replicates are db4 only
    runs = {m: np.concatenate([[slopes["piecewise", m]], replicas[m]]) for m in ("linear", "soft")}
    return Rates(wavelet=wavelet, windows=windows, deltas=deltas, mse=mse, slopes=slopes, alternative=alternative,
                 runs=runs)


# ---------------------------------------------------------------------------
# 6. Reconstructions and the error near jumps
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reconstructions:
    """One piecewise-constant test signal reconstructed at two noise levels, and the error near jumps.

    Attributes
    ----------
    grid, x : ndarray
    jump : int
        Index of the signal's largest jump (the zoom).
    deltas : tuple
    recs : dict
        ``{(delta, method): reconstruction}``.
    split : dict
        ``{method: (near, away)}``: mean squared error within ``width`` cells of a jump and elsewhere, over all
        test signals, at ``deltas[-1]``.
    """

    grid: np.ndarray
    x: np.ndarray
    jump: int
    deltas: tuple
    recs: dict
    split: dict
    width: int
    wavelet: str
    n_test: int

    def table(self) -> str:
        lines = [f"delta = {self.deltas[-1]:g}, {self.wavelet}, {self.n_test} test signals: mean squared error",
                 f"within {self.width} cells of a jump (near) and elsewhere (away):"]
        for m, (near, away) in self.split.items():
            lines.append(f"  {METHOD_NAMES[m]:<26} near {near:.2e} away {away:.2e} total {near + away:.2e}")
        return "\n".join(lines)

    def claims(self) -> list[Check]:
        near = {m: v[0] for m, v in self.split.items()}
        return [Check("ch6-pwc-edges",
                      f"Expected: at $\\delta={_tex(self.deltas[-1])}$ the soft-threshold {self.wavelet} DFD filter "
                      "has a smaller error near jumps than the learned SVD filter (ratio of the near-jump errors)",
                      near["soft"] / near["svd"], 1.0, 0.0, kind="max", type="expectation",
                      figure="fig-ch6-reconstructions")]


def reconstructions(res: Structure, *, wavelet: str = "db4", deltas=(1e-3, 1e-6), width: int = 8) -> Reconstructions:
    """Reconstruct the first piecewise-constant test signal at each of ``deltas`` (grid values of ``res``)."""
    if not isinstance(res, Structure):
        raise ValueError(f"res must be a Structure (from structure), got {type(res).__name__}")
    check_choice(wavelet, "wavelet", res.wavelets)
    width = check_int(width, "width", minimum=0, maximum=100)
    comp = res.results["piecewise", wavelet]
    idx = []
    for d in deltas:
        d = check_real(d, "deltas", positive=True)
        i = int(np.argmin(np.abs(np.log(comp.deltas / d))))
        if not np.isclose(comp.deltas[i], d, rtol=1e-6):
            raise ValueError(f"deltas must be noise levels of res ({comp.deltas.tolist()}), got {d}")
        idx.append(i)
    dfd = WaveletVaguelette(res.n["piecewise"], wavelet)
    S = dfd.operator.svd()
    X, E = res.X_test, res.E_test
    x = X[0]
    recs = {}
    for d, i in zip(deltas, idx):
        y = dfd.operator.apply(x) + d * E[0]
        recs[d, "svd"] = apply_filter(S, comp.g_svd[i], y)
        recs[d, "linear"] = dfd.apply_linear(comp.g_linear[i], y)
        recs[d, "soft"] = dfd.apply_soft(comp.tau[i], y)
    i = idx[-1]
    Y = dfd.operator.apply(X) + deltas[-1] * E
    split = {
        "svd": jump_split_error(apply_filter(S, comp.g_svd[i], Y), X, dfd.h, width),
        "linear": jump_split_error(dfd.apply_linear(comp.g_linear[i], Y), X, dfd.h, width),
        "soft": jump_split_error(dfd.apply_soft(comp.tau[i], Y), X, dfd.h, width),
    }
    return Reconstructions(grid=dfd.grid, x=x, jump=int(np.argmax(np.abs(np.diff(x)))), deltas=tuple(deltas),
                           recs=recs, split=split, width=width, wavelet=wavelet, n_test=X.shape[0])


# ---------------------------------------------------------------------------
# 7. The panel: filters learned on demand
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PanelData:
    """The panel's reconstructions and test errors, learned on a grid of noise levels.

    Learning the soft thresholds takes longer than a live update may, so every filter is learned in advance
    for each data class, wavelet and grid value of the noise level.

    Attributes
    ----------
    n, n_train, n_test : int
    classes, wavelets : tuple
    deltas : tuple of float
        The grid of noise levels.
    recs : dict
        ``{(class, wavelet, delta): {method: reconstruction of the example signal}}``.
    mse : dict
        ``{(class, wavelet): {method: test MSE per grid value}}``.
    examples : dict
        ``{class: (x, e)}``: the held-out signal shown, and its unit-level noise.
    """

    n: int
    n_train: int
    n_test: int
    classes: tuple
    wavelets: tuple
    deltas: tuple
    recs: dict
    mse: dict
    examples: dict

    def at(self, cls: str, wavelet: str, delta: float) -> tuple[dict, dict]:
        """(reconstructions of the example signal, test MSE per method) at a grid value ``delta``."""
        key = (check_choice(cls, "cls", self.classes), check_choice(wavelet, "wavelet", self.wavelets))
        if delta not in self.deltas:
            raise ValueError(f"delta must be one of the grid values {self.deltas}, got {delta!r}")
        i = self.deltas.index(delta)
        return self.recs[(*key, delta)], {m: float(v[i]) for m, v in self.mse[key].items()}


def panel_data(rng: np.random.Generator, *, n: int = 512, n_train: int = 300, n_test: int = 150,
               wavelets=BOOK_WAVELETS, deltas=None) -> PanelData:
    """Learn the panel's filters on a grid of noise levels (streams ``"panel-gaussian"``, ``"panel-piecewise"``).

    Parameters
    ----------
    rng : numpy.random.Generator
    n, n_train, n_test : int
        Resolution, training and test pairs.
    wavelets : sequence of str
    deltas : array_like, optional
        The grid (default :math:`10^{-5}\\dots10^{-1}`, three values per decade).
    """
    check_rng(rng)
    n = check_int(n, "n", minimum=16, maximum=2048)
    n_train = check_int(n_train, "n_train", minimum=2, maximum=10**4)
    n_test = check_int(n_test, "n_test", minimum=2, maximum=10**4)
    wavelets = _wavelets(wavelets)
    deltas = np.logspace(-5, -1, 13) if deltas is None else as_array(deltas, "deltas", ndim=1, positive=True)
    deltas = tuple(float(f"{d:.6g}") for d in deltas)
    op = PeriodicIntegration(n)
    S = op.svd()
    dfds = {w: WaveletVaguelette(n, w) for w in wavelets}
    recs, mse, examples = {}, {}, {}
    for cls in CLASSES:
        r = substream(rng, f"panel-{cls}")
        X = _draw(cls, n, n_train + n_test + 1, r, S)
        E = white_noise(op.weights_y, 1.0, n_train + n_test + 1, r)
        x, e = X[-1], E[-1]
        examples[cls] = (x, e)
        for w in wavelets:
            t = FilterTrainer(dfds[w], X[:n_train], E[:n_train], X[n_train:-1], E[n_train:-1], svd=S)
            errs = {m: [] for m in METHODS}
            for d in deltas:
                learned = t.at(d)
                recs[cls, w, d] = t.reconstruct(learned, op.apply(x) + d * e)
                for m in METHODS:
                    errs[m].append(float(learned["errors"][m].mean()))
            mse[cls, w] = {m: np.array(v) for m, v in errs.items()}
    return PanelData(n=n, n_train=n_train, n_test=n_test, classes=CLASSES, wavelets=wavelets, deltas=deltas,
                     recs=recs, mse=mse, examples=examples)
