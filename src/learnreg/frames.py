r"""Diagonal frame decompositions: the wavelet–vaguelette DFD and learned frame filters.

A *diagonal frame decomposition* (DFD) of :math:`A: X\to Y` is a family of triples
:math:`(u_l, v_l, \kappa_l)` with

.. math:: A^* v_l = \kappa_l u_l, \qquad \kappa_l > 0,

where :math:`(u_l)` and :math:`(v_l)` are frames (of :math:`\mathcal N(A)^\perp` and
:math:`\overline{\mathcal R(A)}`). The SVD is the special case of two orthonormal
bases. Then :math:`\langle Ax, v_l\rangle = \kappa_l\langle x, u_l\rangle`, and for
orthonormal :math:`(u_l)`

.. math:: A^+ y = \sum_l \kappa_l^{-1}\langle y, v_l\rangle u_l .

This module builds the **wavelet–vaguelette** DFD of the periodic antiderivative
on mean-zero functions (:class:`~learnreg.operators.PeriodicIntegration`): the
:math:`u_l` are orthonormal periodized wavelets (PyWavelets,
``mode='periodization'``) without the constant scaling function, which spans the
null space, and

.. math:: v_l = \kappa_l (A^*)^{-1} u_l, \qquad \kappa_l = \|(A^*)^{-1}u_l\|^{-1},

so that :math:`\|v_l\| = 1`. On mean-zero vectors :math:`(A^*)^{-1} = D^\top`,
:math:`(D^\top u)_i = (u_i - u_{i+1})/h`: :math:`v_l` is a normalised derivative of
:math:`u_l` and :math:`\kappa_l \approx c\,2^{-j}` at scale :math:`j` for wavelets
in :math:`H^1`.

On top of it, two learned reconstructions:

* the **linear DFD filter** :math:`R_g y = \sum_l g_l\langle y, v_l\rangle u_l`, whose
  MSE-optimal coefficients are :math:`g_l = \kappa_l\Pi_l/(\kappa_l^2\Pi_l+\Delta_l)`
  with :math:`\Pi_l = E\langle x,u_l\rangle^2`, :math:`\Delta_l = E\langle e,v_l\rangle^2`;
* the **nonlinear DFD filter** (wavelet–vaguelette shrinkage)
  :math:`R_\tau y = \sum_l \kappa_l^{-1} S_{\tau_{j(l)}}(\langle y, v_l\rangle)\,u_l`
  with the soft threshold :math:`S_\tau(z) = \operatorname{sign}(z)\max(|z|-\tau, 0)`
  and one threshold per scale, learned by minimising the empirical risk exactly.

Grid values live on the grid :math:`t_i = i/n` with cell size :math:`h = 1/n`;
samples are rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._validate import as_array, check_bytes, check_choice, check_int, finite_result
from .operators import LinearMap, PeriodicIntegration
from .spectral import empirical_filter, mse_filter

__all__ = [
    "BOOK_WAVELETS",
    "WaveletBasis",
    "wavelet_basis",
    "FrameBounds",
    "WaveletVaguelette",
    "frame_moments",
    "soft_threshold",
    "optimal_soft_threshold",
    "learn_soft_thresholds",
]

#: The wavelet families the book compares, from rough to smooth.
BOOK_WAVELETS = ("haar", "db2", "db4", "sym6")


def _pywt():
    import pywt

    return pywt


def _check_wavelet(wavelet) -> str:
    pywt = _pywt()
    if not isinstance(wavelet, str):
        raise ValueError(f"wavelet must be the name of a PyWavelets wavelet, got {type(wavelet).__name__}")
    names = pywt.wavelist(kind="discrete")
    if wavelet not in names:
        raise ValueError(
            f"wavelet must be a discrete PyWavelets wavelet such as 'haar', 'db2', 'db4' or 'sym6'; "
            f"got {wavelet!r}"
        )
    if not pywt.Wavelet(wavelet).orthogonal:
        raise ValueError(f"wavelet must be orthogonal (e.g. 'haar', 'dbN', 'symN', 'coifN'); got {wavelet!r}")
    return wavelet


def _check_n_level(n, level):
    n = check_int(n, "n", minimum=2)
    check_bytes(8.0 * 8 * n * n, f"a wavelet basis of n = {n} functions ({n} x {n} values)")
    max_level = int(np.floor(np.log2(n)))
    if level is None:
        if n & (n - 1):
            raise ValueError(
                f"n must be a power of 2 for the full-depth periodized wavelet transform, got {n} "
                f"(or pass level with n divisible by 2**level)"
            )
        return n, max_level
    level = check_int(level, "level", minimum=1)
    if level > max_level:
        raise ValueError(f"level must be at most log2(n) = {max_level} for n = {n}, got {level}")
    if n % (2**level):
        raise ValueError(f"n must be divisible by 2**level = {2**level} for level {level}, got n = {n}")
    return n, level


@dataclass(frozen=True, eq=False)
class WaveletBasis:
    r"""Periodized orthonormal wavelets on the grid :math:`t_i = i/n`, in discrete :math:`L^2`.

    Attributes
    ----------
    functions : ndarray, shape (n, n)
        Columns are grid values of the basis functions, orthonormal in
        :math:`\langle a, b\rangle = h\sum_i a_ib_i`; ordered as PyWavelets'
        ``wavedec``: first the scaling functions of the coarsest scale, then the
        wavelets from coarse to fine.
    scale : ndarray of int, shape (n,)
        Scale :math:`j` of each function (a scale-:math:`j` function has
        :math:`2^j` translates and support :math:`\propto 2^{-j}`).
    position : ndarray of int, shape (n,)
        Translation index :math:`k = 0, \dots, 2^j - 1`.
    is_wavelet : ndarray of bool, shape (n,)
        False for the scaling functions of the coarsest scale.
    wavelet : str
    level : int
        Number of decomposition levels.
    """

    functions: np.ndarray
    scale: np.ndarray
    position: np.ndarray
    is_wavelet: np.ndarray
    wavelet: str
    level: int


@finite_result
def wavelet_basis(n: int, wavelet: str = "db4", level: int | None = None) -> WaveletBasis:
    r"""Orthonormal periodized wavelet basis of :math:`\mathbb R^n` with the discrete :math:`L^2` inner product.

    Column :math:`l` holds :math:`\psi_l(t_i)`, obtained by applying PyWavelets'
    ``wavedec(..., mode='periodization')`` to the unit vectors and dividing by
    :math:`\sqrt h`. The periodized transform is orthogonal at every depth up to
    :math:`\log_2 n` (PyWavelets warns beyond its own, non-periodic, maximum; the
    warning does not apply to periodization and is silenced). At full depth the
    coarsest scaling function is the constant 1.

    Parameters
    ----------
    n : int
        Number of grid points; a power of 2 when ``level`` is None, otherwise
        divisible by ``2**level``.
    wavelet : str
        Name of an orthogonal PyWavelets wavelet ('haar', 'db2', 'db4', 'sym6', ...).
    level : int, optional
        Number of levels, ``1 <= level <= log2(n)``; default the full depth ``log2(n)``.

    Examples
    --------
    >>> B = wavelet_basis(8, "haar")
    >>> bool(np.allclose(B.functions.T @ B.functions / 8, np.eye(8)))
    True
    """
    wavelet = _check_wavelet(wavelet)
    n, level = _check_n_level(n, level)
    pywt = _pywt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        coeffs = pywt.wavedec(np.eye(n), wavelet, mode="periodization", level=level, axis=-1)
    W = np.concatenate(coeffs, axis=-1)  # W[i, l] = psi_l[i] (Euclidean orthonormal columns)
    J = int(round(np.log2(n // 2**level)))  # scale of the coarsest scaling functions
    scale, position, is_wavelet = [], [], []
    for idx, c in enumerate(coeffs):
        m = c.shape[-1]
        scale.append(np.full(m, J + max(idx - 1, 0)))
        position.append(np.arange(m))
        is_wavelet.append(np.full(m, idx > 0))
    return WaveletBasis(
        functions=W * np.sqrt(n),
        scale=np.concatenate(scale),
        position=np.concatenate(position),
        is_wavelet=np.concatenate(is_wavelet),
        wavelet=wavelet,
        level=level,
    )


@dataclass(frozen=True)
class FrameBounds:
    r"""Frame bounds :math:`A_F\|y\|^2 \le \sum_l\langle y, v_l\rangle^2 \le B_F\|y\|^2` on the span.

    Attributes
    ----------
    lower, upper : float
        The optimal bounds :math:`A_F` and :math:`B_F`: the extreme eigenvalues of
        the Gram matrix :math:`G_{lm} = \langle v_l, v_m\rangle`.
    """

    lower: float
    upper: float

    @property
    def ratio(self) -> float:
        r""":math:`B_F/A_F`, the condition number of the frame."""
        return self.upper / self.lower


class WaveletVaguelette:
    r"""Wavelet–vaguelette DFD of the periodic antiderivative on mean-zero functions.

    The triples :math:`(u_l, v_l, \kappa_l)` satisfy :math:`A^*v_l = \kappa_l u_l` with
    :math:`A` = :class:`~learnreg.operators.PeriodicIntegration` ``(n)``:

    * :math:`u_l`: the periodized orthonormal wavelets (the constant scaling
      function, which spans :math:`\mathcal N(A)`, is left out);
    * :math:`v_l = \kappa_l D^\top u_l` with :math:`(D^\top u)_i = (u_i-u_{i+1})/h`,
      which is :math:`\kappa_l (A^*)^{-1} u_l` on mean-zero vectors;
    * :math:`\kappa_l = 1/\|D^\top u_l\|`, so that :math:`\|v_l\| = 1`.

    The transform has full depth :math:`\log_2 n`, so :math:`(u_l)_{l=1}^{n-1}` is an
    orthonormal basis of the mean-zero vectors :math:`= \mathcal N(A)^\perp`, and
    :math:`(v_l)` is a Riesz basis of the same space.

    Parameters
    ----------
    n : int
        Resolution (grid points of :math:`[0, 1)`).
    wavelet : str
        Orthogonal PyWavelets wavelet, e.g. one of :data:`BOOK_WAVELETS`.

    Examples
    --------
    >>> dfd = WaveletVaguelette(64, "db4")
    >>> dfd.identity_error() < 1e-12
    True
    """

    def __init__(self, n: int, wavelet: str = "db4"):
        self.basis = wavelet_basis(n, wavelet)
        self.n = self.basis.functions.shape[0]
        self.wavelet = self.basis.wavelet
        self.level = self.basis.level
        self.operator = PeriodicIntegration(self.n)
        self.h = 1.0 / self.n
        keep = self.basis.is_wavelet
        U = self.basis.functions[:, keep]
        # Tabulated filter taps (e.g. sym6) leave a mean of about 1e-12; remove it so that
        # u_l lies exactly in N(A)^perp, where (A*)^{-1} = D^T holds.
        U = U - U.mean(axis=0, keepdims=True)
        DtU = (U - np.roll(U, -1, axis=0)) / self.h
        self.kappa = 1.0 / np.sqrt(self.h * np.sum(DtU**2, axis=0))
        self.U = U
        self.V = DtU * self.kappa
        self.scale = self.basis.scale[keep]
        self.position = self.basis.position[keep]

    def __repr__(self) -> str:
        return f"WaveletVaguelette(n={self.n}, wavelet={self.wavelet!r}, level={self.level})"

    # -- description -----------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of triples L."""
        return self.kappa.shape[0]

    @property
    def scales(self) -> np.ndarray:
        """The distinct scales j, coarse to fine."""
        return np.unique(self.scale)

    @property
    def grid(self) -> np.ndarray:
        """Grid points t_i = i/n."""
        return self.operator.grid

    @finite_result
    def kappa_per_scale(self) -> np.ndarray:
        r"""Quasi-singular value :math:`\kappa_j` of each scale (equal for all translates of a scale)."""
        return np.array([self.kappa[self.scale == j].mean() for j in self.scales])

    # -- analysis and synthesis ----------------------------------------------------
    def _rows(self, z, name):
        z = as_array(z, name, ndim=(1, 2))
        if z.shape[-1] != self.n:
            raise ValueError(f"{name} must have last dimension n = {self.n}, got shape {z.shape}")
        return z

    def _coeffs(self, c, name="c"):
        c = as_array(c, name, ndim=(1, 2))
        if c.shape[-1] != self.size:
            raise ValueError(f"{name} must have last dimension L = {self.size}, got shape {c.shape}")
        return c

    @finite_result
    def analysis_x(self, x) -> np.ndarray:
        r"""Return :math:`\langle x, u_l\rangle` for each l; ``x`` has shape (..., n)."""
        return self.h * self._rows(x, "x") @ self.U

    @finite_result
    def analysis_y(self, y) -> np.ndarray:
        r"""Return :math:`\langle y, v_l\rangle` for each l; ``y`` has shape (..., n)."""
        return self.h * self._rows(y, "y") @ self.V

    @finite_result
    def synthesis_x(self, c) -> np.ndarray:
        r"""Return :math:`\sum_l c_l u_l`; ``c`` has shape (..., L)."""
        return self._coeffs(c) @ self.U.T

    @finite_result
    def pseudo_inverse(self, y) -> np.ndarray:
        r"""Return :math:`A^+ y = \sum_l \kappa_l^{-1}\langle y, v_l\rangle u_l`."""
        return self.synthesis_x(self.analysis_y(y) / self.kappa)

    def analysis_operator(self, space: str = "x") -> LinearMap:
        r"""The analysis :math:`z \mapsto (\langle z, u_l\rangle)_l` (``space='x'``) or
        :math:`z \mapsto (\langle z, v_l\rangle)_l` (``'y'``) as a :class:`~learnreg.operators.LinearMap`.

        Grid values carry the cell size :math:`h` in their inner product, the
        coefficients the Euclidean one; the adjoint is the synthesis
        :math:`c \mapsto \sum_l c_l u_l` (or :math:`\sum_l c_l v_l`).
        """
        space = check_choice(space, "space", ("x", "y"))
        B = self.U if space == "x" else self.V
        return LinearMap(
            lambda z: self.h * z @ B,
            lambda c: c @ B.T,
            (self.size, self.n),
            weights_x=np.full(self.n, self.h),
            name=f"wavelet-vaguelette analysis in {space.upper()} ({self!r})",
        )

    def synthesis_operator(self) -> LinearMap:
        r"""The synthesis :math:`c \mapsto \sum_l c_l u_l` as a :class:`~learnreg.operators.LinearMap`.

        Its adjoint (coefficients Euclidean, grid values with cell size :math:`h`)
        is the analysis :meth:`analysis_x`.
        """
        return LinearMap(
            lambda c: c @ self.U.T,
            lambda z: self.h * z @ self.U,
            (self.n, self.size),
            weights_y=np.full(self.n, self.h),
            name=f"wavelet-vaguelette synthesis ({self!r})",
        )

    # -- checks ------------------------------------------------------------------
    @finite_result
    def identity_error(self) -> float:
        r"""Largest relative defect :math:`\max_l \|A^*v_l - \kappa_lu_l\| / \kappa_l`.

        :math:`A^*` is applied through the operator's own FFT-based adjoint, so this
        is an independent check of :math:`A^* v_l = \kappa_l u_l` (rounding level
        for a correct construction).
        """
        R = self.operator.adjoint(self.V.T).T - self.U * self.kappa
        return float(np.max(np.sqrt(self.h * np.sum(R**2, axis=0)) / self.kappa))

    @finite_result
    def gram(self) -> np.ndarray:
        r"""Gram matrix :math:`G_{lm} = \langle v_l, v_m\rangle` (unit diagonal)."""
        return self.h * self.V.T @ self.V

    @finite_result
    def frame_bounds(self) -> FrameBounds:
        r"""Optimal frame bounds of :math:`(v_l)` on its span.

        :math:`(v_l)` is linearly independent (it is the image of the orthonormal
        :math:`(u_l)` under the invertible :math:`D^\top` and a positive scaling), so
        the optimal bounds are the extreme eigenvalues of the Gram matrix.
        """
        ev = np.linalg.eigvalsh(self.gram())
        return FrameBounds(lower=float(ev[0]), upper=float(ev[-1]))

    # -- learned filters ---------------------------------------------------------
    @finite_result
    def mse_filter(self, Pi, Delta) -> np.ndarray:
        r"""MSE-optimal linear DFD filter :math:`g_l = \kappa_l\Pi_l / (\kappa_l^2\Pi_l + \Delta_l)`.

        Valid because :math:`(u_l)` is orthonormal: the risk
        :math:`E\|R_g(Ax+e)-x\|^2 = \sum_l[(1-\kappa_lg_l)^2\Pi_l + g_l^2\Delta_l] + E\|P_{\mathcal N}x\|^2`
        separates over l (see :func:`learnreg.spectral.mse_filter`, which is called
        with :math:`s = \kappa`).
        """
        return mse_filter(self.kappa, Pi, Delta)

    @finite_result
    def empirical_filter(self, X, Y) -> np.ndarray:
        r"""Empirical risk minimiser of the linear DFD filter from training pairs (rows of X, Y).

        :math:`g_l = \sum_i\langle y_i,v_l\rangle\langle x_i,u_l\rangle / \sum_i\langle y_i,v_l\rangle^2`.
        """
        X, Y = self.check_pairs(X, Y)
        return empirical_filter(self.analysis_x(X), self.analysis_y(Y))

    @finite_result
    def apply_linear(self, g, y) -> np.ndarray:
        r"""Return :math:`R_g y = \sum_l g_l\langle y, v_l\rangle u_l`."""
        g = as_array(g, "g", shape=(self.size,))
        return self.synthesis_x(g * self.analysis_y(y))

    def _thresholds_per_l(self, tau) -> np.ndarray:
        tau = as_array(tau, "tau", ndim=1, nonnegative=True)
        if tau.shape[0] != self.scales.shape[0]:
            raise ValueError(
                f"tau must have one threshold per scale ({self.scales.shape[0]}), got {tau.shape[0]}"
            )
        return tau[np.searchsorted(self.scales, self.scale)]

    @finite_result
    def apply_soft(self, tau, y) -> np.ndarray:
        r"""Nonlinear DFD filter :math:`\sum_l \kappa_l^{-1}S_{\tau_{j(l)}}(\langle y,v_l\rangle)\,u_l`.

        Parameters
        ----------
        tau : array_like, shape (number of scales,)
            Non-negative threshold per scale, in units of the data coefficients
            :math:`\langle y, v_l\rangle` (so :math:`\tau_j/\delta` is the threshold in
            noise standard deviations for white noise of level :math:`\delta`).
        y : array_like, shape (..., n)
        """
        t = self._thresholds_per_l(tau)
        return self.synthesis_x(soft_threshold(self.analysis_y(y), t) / self.kappa)

    @finite_result
    def learn_soft_thresholds(self, X, Y) -> np.ndarray:
        r"""Per-scale thresholds minimising the empirical risk :math:`\sum_i\|R_\tau y_i - x_i\|^2` exactly.

        Because :math:`(u_l)` is orthonormal, the empirical risk is
        :math:`\sum_i\sum_l(\kappa_l^{-1}S_{\tau}(\langle y_i,v_l\rangle) - \langle x_i,u_l\rangle)^2
        + \text{const}`, which separates over scales; each scale is a 1D problem solved
        exactly by :func:`optimal_soft_threshold` (on the rescaled coefficients
        :math:`\kappa^{-1}\langle y_i, v_l\rangle`, since :math:`\kappa_l` is the same
        for every translate of a scale).
        """
        X, Y = self.check_pairs(X, Y)
        cx, cy = self.analysis_x(X), self.analysis_y(Y)
        tau = np.empty(self.scales.shape[0])
        for i, j in enumerate(self.scales):
            sel = self.scale == j
            k = float(self.kappa[sel].mean())
            t, _ = optimal_soft_threshold(cy[:, sel] / k, cx[:, sel])
            tau[i] = t * k
        return tau

    def check_pairs(self, X, Y, names: tuple[str, str] = ("X", "Y")) -> tuple[np.ndarray, np.ndarray]:
        """Check two sample arrays of the same shape (K, n), one sample per row; ``names`` are the
        argument names used in error messages."""
        nx, ny = names
        X = self._rows(X, nx)
        Y = self._rows(Y, ny)
        if X.ndim != 2 or X.shape != Y.shape:
            raise ValueError(f"{nx} and {ny} must be 2D arrays of the same shape (K, n), got {X.shape} and {Y.shape}")
        return X, Y


@finite_result
def frame_moments(dfd: WaveletVaguelette, basis, moments) -> np.ndarray:
    r"""Second moments :math:`\Pi_l = E\langle x, u_l\rangle^2` of a Gaussian field in the frame.

    For :math:`x = \sum_k \sqrt{\Pi_k}\,\xi_k w_k` with orthonormal :math:`w_k` and
    independent standard normal :math:`\xi_k` (see
    :func:`learnreg.data.gaussian_random_field`),

    .. math:: \Pi_l = \sum_k \Pi_k \langle u_l, w_k\rangle^2 .

    Parameters
    ----------
    dfd : WaveletVaguelette
    basis : ndarray, shape (n, r)
        Columns :math:`w_k`, orthonormal in discrete :math:`L^2` (e.g. ``op.svd().U``).
    moments : ndarray, shape (r,)
        Non-negative :math:`\Pi_k`.
    """
    if not isinstance(dfd, WaveletVaguelette):
        raise ValueError(f"dfd must be a WaveletVaguelette, got {type(dfd).__name__}")
    basis = as_array(basis, "basis", ndim=2)
    if basis.shape[0] != dfd.n:
        raise ValueError(f"basis must have n = {dfd.n} rows, got shape {basis.shape}")
    moments = as_array(moments, "moments", shape=(basis.shape[1],), nonnegative=True)
    C = dfd.h * dfd.U.T @ basis  # <u_l, w_k>
    return (C**2) @ moments


@finite_result
def soft_threshold(z, tau) -> np.ndarray:
    r"""Soft thresholding :math:`S_\tau(z) = \operatorname{sign}(z)\max(|z| - \tau, 0)`, elementwise.

    ``tau`` is non-negative and broadcasts against ``z``.
    """
    z = as_array(z, "z")
    tau = as_array(tau, "tau", nonnegative=True)
    return np.sign(z) * np.maximum(np.abs(z) - tau, 0.0)


@finite_result
def optimal_soft_threshold(a, b) -> tuple[float, float]:
    r"""Exact minimiser of :math:`F(t) = \sum_i (S_t(a_i) - b_i)^2` over :math:`t \ge 0`.

    Sort :math:`p_i = |a_i|`. On each interval :math:`t\in[p_{(m)}, p_{(m+1)}]` the
    entries with :math:`|a_i| > t` contribute :math:`(d_i - t)^2` with
    :math:`d_i = |a_i| - \operatorname{sign}(a_i)\,b_i`, the others :math:`b_i^2`; so
    :math:`F` is a continuous piecewise quadratic, minimised on each interval by
    the clipped mean of the active :math:`d_i`. All intervals are scanned with
    cumulative sums, :math:`O(N\log N)`.

    Parameters
    ----------
    a : array_like
        Inputs of the threshold (e.g. rescaled data coefficients).
    b : array_like, same shape
        Targets (e.g. the true coefficients).

    Returns
    -------
    t : float
        The minimising threshold (the smallest one if there are ties).
    value : float
        :math:`F(t)`.
    """
    a = as_array(a, "a").ravel()
    b = as_array(b, "b")
    if b.size != a.size:
        raise ValueError(f"a and b must have the same number of entries, got {a.size} and {b.size}")
    b = b.ravel()
    p = np.abs(a)
    order = np.argsort(p)
    p = p[order]
    d = p - np.sign(a[order]) * b[order]
    d = np.where(p == 0, np.abs(b[order]), d)  # a_i = 0 is active only for t = 0, where it adds b_i^2
    b2 = b[order] ** 2
    N = p.size
    # inactive prefix sums of b^2 and active suffix sums of d, d^2
    pre_b2 = np.concatenate([[0.0], np.cumsum(b2)])  # pre_b2[m] = sum of the m smallest
    suf_d = np.concatenate([np.cumsum(d[::-1])[::-1], [0.0]])  # suf_d[m] = sum_{i >= m}
    suf_d2 = np.concatenate([np.cumsum((d**2)[::-1])[::-1], [0.0]])
    m = np.arange(N + 1)
    active = N - m
    lo = np.concatenate([[0.0], p])  # interval m: [lo[m], hi[m]]
    hi = np.concatenate([p, [np.inf]])
    with np.errstate(invalid="ignore", divide="ignore"):
        t_star = np.where(active > 0, suf_d / np.maximum(active, 1), lo)
    t_star = np.clip(t_star, lo, hi)
    values = pre_b2 + suf_d2 - 2 * t_star * suf_d + active * t_star**2
    best = int(np.argmin(values))
    return float(t_star[best]), float(max(values[best], 0.0))


@finite_result
def learn_soft_thresholds(dfd: WaveletVaguelette, X, Y) -> np.ndarray:
    """Per-scale thresholds of the nonlinear DFD filter; see :meth:`WaveletVaguelette.learn_soft_thresholds`."""
    if not isinstance(dfd, WaveletVaguelette):
        raise ValueError(f"dfd must be a WaveletVaguelette, got {type(dfd).__name__}")
    return dfd.learn_soft_thresholds(X, Y)
