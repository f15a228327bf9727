r"""Experiment of the frames chapter: learned SVD, linear DFD and soft-threshold DFD filters compared."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_array, check_choice
from ..frames import WaveletVaguelette, optimal_soft_threshold, soft_threshold
from ..operators import SVD
from ..spectral import empirical_filter

__all__ = ["FilterComparison", "compare_learned_filters"]


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


def compare_learned_filters(
    dfd: WaveletVaguelette, X_train, E_train, X_test, E_test, deltas, *, svd: SVD | None = None
) -> FilterComparison:
    r"""Train and test the learned SVD, linear DFD and soft-threshold DFD filters at several noise levels.

    Data are :math:`y = Ax + \delta e` with *frozen* unit-level noise samples
    :math:`e` (rows of ``E_train``, ``E_test``), so that every method and every
    :math:`\delta` sees the same noise. Since
    :math:`\langle y, v_l\rangle = \kappa_l\langle x, u_l\rangle + \delta\langle e, v_l\rangle`
    (and likewise with :math:`s_k` in the SVD), all coefficients are computed once
    and combined per :math:`\delta`. Errors are evaluated in the orthonormal bases
    :math:`(u_k)` and :math:`(u_l)`, plus the null-space part
    :math:`\|P_{\mathcal N}x\|^2` (the mean), which no method recovers.

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
        The operator's singular system, if already computed (it is the same for
        every wavelet at a given n); default ``dfd.operator.svd()``.
    """
    if not isinstance(dfd, WaveletVaguelette):
        raise ValueError(f"dfd must be a WaveletVaguelette, got {type(dfd).__name__}")
    X_train, E_train = dfd.check_pairs(X_train, E_train, ("X_train", "E_train"))
    X_test, E_test = dfd.check_pairs(X_test, E_test, ("X_test", "E_test"))
    deltas = as_array(deltas, "deltas", ndim=1, positive=True)
    if svd is None:
        svd = dfd.operator.svd()
    if not isinstance(svd, SVD) or svd.U.shape[0] != dfd.n:
        raise ValueError(f"svd must be the SVD of PeriodicIntegration({dfd.n}) (learnreg.operators.SVD)")
    S = svd
    null = (dfd.h * np.sum(X_test, axis=1)) ** 2  # ||P_N x||^2 = <x, 1>^2, the constant 1 has unit norm
    parts = {}
    for name, Xs, Es in (("train", X_train, E_train), ("test", X_test, E_test)):
        parts[name] = dict(
            sx=S.coefficients_x(Xs), se=S.coefficients_y(Es), fx=dfd.analysis_x(Xs), fe=dfd.analysis_y(Es)
        )
    errors = {"svd": [], "linear": [], "soft": []}
    g_svd, g_lin, taus = [], [], []
    scale_index = np.searchsorted(dfd.scales, dfd.scale)
    for delta in deltas:
        tr, te = parts["train"], parts["test"]
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
        errors["svd"].append(np.sum((gs * sy - te["sx"]) ** 2, axis=1) + null)
        errors["linear"].append(np.sum((gl * fy - te["fx"]) ** 2, axis=1) + null)
        soft = soft_threshold(fy, tau[scale_index]) / dfd.kappa
        errors["soft"].append(np.sum((soft - te["fx"]) ** 2, axis=1) + null)
        g_svd.append(gs)
        g_lin.append(gl)
        taus.append(tau)
    return FilterComparison(
        deltas=deltas,
        errors={k: np.array(v) for k, v in errors.items()},
        g_svd=np.array(g_svd),
        g_linear=np.array(g_lin),
        tau=np.array(taus),
    )
