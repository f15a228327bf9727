r"""Forward operators with a common interface and a consistent discretisation.

Notation (as in the book)
-------------------------
:math:`A : X \to Y` is a compact linear operator. It is discretised at
resolution ``n``: an element of :math:`X` is stored as its values on a grid
with cell sizes ``weights_x`` (so :math:`\langle x, z\rangle_X = \sum_i w^X_i x_i z_i`
is the discrete :math:`L^2` inner product), likewise for :math:`Y`.

The singular value decomposition is taken with respect to these inner products:

.. math:: A u_k = s_k v_k, \qquad A^* v_k = s_k u_k,

with :math:`(u_k)` orthonormal in :math:`X` and :math:`(v_k)` orthonormal in
:math:`Y`. In matrix form, with ``M`` the matrix of grid values and
:math:`W_X = \operatorname{diag}(w^X)`,

.. math:: M = V \operatorname{diag}(s)\, U^\top W_X .

Because the inner products carry the cell size, the leading singular values and
singular functions converge as ``n`` grows, e.g. for integration
:math:`s_k \to 1/((k-\tfrac12)\pi)`.

Sign convention: every singular vector :math:`u_k` is normalised so that its
first entry of magnitude at least ``1e-3 * max|u_k|`` is positive, and
:math:`v_k = A u_k / s_k`. Where a singular value is repeated, a numerically
computed SVD puts its vectors into a canonical basis of their subspace (see
:func:`_canonicalize`), so the vectors do not depend on the LAPACK routine or
the machine. Closed-form SVDs use their own bases (real Fourier modes).

The Radon transform commutes with the symmetries of the square, so its SVD is
computed block by block in a symmetry-adapted basis (:mod:`learnreg.symmetry`)
and stored factored (:class:`FactoredSVD`). Its repeated singular values are
then explained: each value of the two-dimensional representation comes twice,
the second vector being the quarter turn of the first (whose sign follows the
convention above). Grids that break the symmetry use the dense SVD.
"""

from __future__ import annotations

import math
import os
import warnings
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._validate import as_array, check_int, check_real
from .cache import cached_arrays
from .symmetry import (
    BLOCKS,
    EQUIVARIANCE_TOL,
    SYMMETRY_BASIS_VERSION,
    NotEquivariantError,
    SymmetryBasis,
    SymmetryWarning,
    block_matrix,
    commutation_defect,
    image_action,
    isotypic_dimensions,
    sinogram_action,
    symmetry_basis,
)

__all__ = [
    "SVD",
    "FactoredSVD",
    "BlockFactor",
    "MAX_DENSE_BYTES",
    "LinearOperator",
    "Integration",
    "PeriodicIntegration",
    "PeriodicConvolution",
    "Radon",
    "make_operator",
    "OPERATORS",
    "pixel_grid",
    "dot_test",
]


# ---------------------------------------------------------------------------
# SVD containers
# ---------------------------------------------------------------------------

#: Largest dense singular-vector matrix (``U`` or ``V``) that a factored SVD forms
#: on request, in bytes (1 GiB: Radon up to n = 90). Beyond it, use the
#: coefficient and synthesis methods, :meth:`SVD.vectors_x`, or truncate first.
MAX_DENSE_BYTES = 2**30


def _check_last_dim(a: np.ndarray, size: int, name: str) -> None:
    if a.shape[-1] != size:
        raise ValueError(f"{name} must have last dimension {size}, got shape {a.shape}")


class SVD:
    r"""Singular system :math:`(s_k, u_k, v_k)` in the discrete :math:`L^2` inner products.

    The dense form stores the singular vectors as matrices; :class:`FactoredSVD`
    (the Radon transform's symmetry blocks) has the same interface. The
    parameters are kept as attributes of the same names.

    Parameters
    ----------
    s : ndarray, shape (r,)
        Singular values, non-increasing and positive.
    U : ndarray, shape (N, r)
        Columns are :math:`u_k` (grid values), orthonormal in :math:`X`.
    V : ndarray, shape (m, r)
        Columns are :math:`v_k`, orthonormal in :math:`Y`.
    weights_x, weights_y : ndarray
        Cell sizes of the two grids.
    """

    #: whether the singular vectors are stored as factors (see :class:`FactoredSVD`)
    factored = False

    def __init__(self, s, U, V, weights_x, weights_y):
        self.s = np.asarray(s)
        self._U = np.asarray(U)
        self._V = np.asarray(V)
        self.weights_x = np.asarray(weights_x)
        self.weights_y = np.asarray(weights_y)

    def __repr__(self) -> str:
        kind = "factored" if self.factored else "dense"
        return f"{type(self).__name__}(rank={self.rank}, dim_x={self.dim_x}, dim_y={self.dim_y}, {kind})"

    @property
    def U(self) -> np.ndarray:
        """Singular vectors :math:`u_k` as columns, shape (N, r)."""
        return self._U

    @property
    def V(self) -> np.ndarray:
        """Singular vectors :math:`v_k` as columns, shape (m, r)."""
        return self._V

    @property
    def rank(self) -> int:
        """Number of singular triples."""
        return self.s.shape[0]

    @property
    def dim_x(self) -> int:
        """Dimension N of X (number of grid values)."""
        return self.weights_x.shape[0]

    @property
    def dim_y(self) -> int:
        """Dimension m of Y."""
        return self.weights_y.shape[0]

    def coefficients_x(self, x) -> np.ndarray:
        r"""Return :math:`\langle x, u_k\rangle_X` for each k; ``x`` has shape (..., N)."""
        x = as_array(x, "x")
        _check_last_dim(x, self.dim_x, "x")
        return (x * self.weights_x) @ self.U

    def coefficients_y(self, y) -> np.ndarray:
        r"""Return :math:`\langle y, v_k\rangle_Y` for each k; ``y`` has shape (..., m)."""
        y = as_array(y, "y")
        _check_last_dim(y, self.dim_y, "y")
        return (y * self.weights_y) @ self.V

    def synthesis_x(self, c) -> np.ndarray:
        r"""Return :math:`\sum_k c_k u_k`; ``c`` has shape (..., r)."""
        c = as_array(c, "c")
        _check_last_dim(c, self.rank, "c")
        return c @ self.U.T

    def synthesis_y(self, c) -> np.ndarray:
        r"""Return :math:`\sum_k c_k v_k`; ``c`` has shape (..., r)."""
        c = as_array(c, "c")
        _check_last_dim(c, self.rank, "c")
        return c @ self.V.T

    def _indices(self, k) -> np.ndarray:
        k = np.atleast_1d(np.asarray(k))
        if k.ndim != 1 or k.size == 0 or not np.issubdtype(k.dtype, np.integer):
            raise ValueError(f"k must be an integer index or a non-empty 1-D array of them, got {k!r}")
        if np.any(k < -self.rank) or np.any(k >= self.rank):
            raise ValueError(f"k must lie in [-{self.rank}, {self.rank}), got {k.tolist()}")
        return k % self.rank

    def vectors_x(self, k) -> np.ndarray:
        """The singular vectors :math:`u_k` for the (0-based) indices ``k``, as columns, shape (N, len(k))."""
        k = self._indices(k)
        return self.U[:, k]

    def vectors_y(self, k) -> np.ndarray:
        """The singular vectors :math:`v_k` for the (0-based) indices ``k``, as columns, shape (m, len(k))."""
        k = self._indices(k)
        return self.V[:, k]

    def truncate(self, r: int) -> "SVD":
        """Return the leading ``r`` singular triples."""
        r = check_int(r, "r", minimum=1, maximum=self.rank)
        return SVD(self.s[:r], self.U[:, :r], self.V[:, :r], self.weights_x, self.weights_y)


@dataclass(frozen=True, eq=False)
class BlockFactor:
    r"""The singular vectors of one symmetry block, as coefficients in the block's basis.

    :math:`u = Q_{X,\beta} W_x[:, j]` and :math:`v = Q_{Y,\beta} W_y[:, j]` are the
    singular vectors number ``positions[j]`` (0-based) of the operator.
    """

    name: str
    Wx: np.ndarray
    Wy: np.ndarray
    positions: np.ndarray


class FactoredSVD(SVD):
    r"""A singular system stored as a sparse symmetry basis times dense per-block factors.

    .. math:: U = Q_X \operatorname{blockdiag}(W_{x,\beta})\,\Pi, \qquad
              V = Q_Y \operatorname{blockdiag}(W_{y,\beta})\,\Pi,

    with :math:`Q_X, Q_Y` the symmetry-adapted bases (:class:`learnreg.symmetry.SymmetryBasis`,
    at most 8 nonzero entries per column) and :math:`\Pi` the permutation that
    sorts the blocks' singular values. Coefficients and synthesis cost about
    :math:`\sum_\beta d_\beta^2` per vector instead of :math:`N^2`. The dense
    ``U`` and ``V`` are formed on first request and kept, unless one of them
    would exceed :data:`MAX_DENSE_BYTES`; then a ``ValueError`` says how large it
    would be.

    Parameters
    ----------
    s : ndarray, shape (r,)
        All singular values, non-increasing.
    basis_x, basis_y : learnreg.symmetry.SymmetryBasis
        The bases of X and Y; their ``blocks`` give each block's columns.
    blocks : sequence of BlockFactor
        One factor per block; every position ``0..r-1`` occurs exactly once.
    weights_x, weights_y : ndarray
    """

    factored = True

    def __init__(self, s, basis_x, basis_y, blocks, weights_x, weights_y):
        self.s = np.asarray(s)
        self.basis_x, self.basis_y = basis_x, basis_y
        self.blocks = tuple(blocks)
        self.weights_x = np.asarray(weights_x)
        self.weights_y = np.asarray(weights_y)
        seen = np.concatenate([b.positions for b in self.blocks]) if self.blocks else np.zeros(0, int)
        if not np.array_equal(np.sort(seen), np.arange(self.rank)):
            raise ValueError("blocks must hold every singular vector position 0..r-1 exactly once")

    def _cols_x(self, blk):
        return self.basis_x.blocks[blk.name]

    def _cols_y(self, blk):
        return self.basis_y.blocks[blk.name]

    @staticmethod
    def _basis_t(Q, a: np.ndarray) -> np.ndarray:
        """Rows of ``a`` times Q (sparse): a @ Q for a of shape (..., size)."""
        flat = a.reshape(-1, a.shape[-1])
        return np.asarray(Q.T @ flat.T).T.reshape(*a.shape[:-1], Q.shape[1])

    @staticmethod
    def _basis(Q, z: np.ndarray) -> np.ndarray:
        """Rows of ``z`` times Q^T: z @ Q.T."""
        flat = z.reshape(-1, z.shape[-1])
        return np.asarray(Q @ flat.T).T.reshape(*z.shape[:-1], Q.shape[0])

    def coefficients_x(self, x) -> np.ndarray:
        x = as_array(x, "x")
        _check_last_dim(x, self.dim_x, "x")
        z = self._basis_t(self.basis_x.matrix, x * self.weights_x)
        out = np.empty(x.shape[:-1] + (self.rank,))
        for blk in self.blocks:
            out[..., blk.positions] = z[..., self._cols_x(blk)] @ blk.Wx
        return out

    def coefficients_y(self, y) -> np.ndarray:
        y = as_array(y, "y")
        _check_last_dim(y, self.dim_y, "y")
        z = self._basis_t(self.basis_y.matrix, y * self.weights_y)
        out = np.empty(y.shape[:-1] + (self.rank,))
        for blk in self.blocks:
            out[..., blk.positions] = z[..., self._cols_y(blk)] @ blk.Wy
        return out

    def synthesis_x(self, c) -> np.ndarray:
        c = as_array(c, "c")
        _check_last_dim(c, self.rank, "c")
        z = np.zeros(c.shape[:-1] + (self.basis_x.matrix.shape[1],))
        for blk in self.blocks:
            z[..., self._cols_x(blk)] += c[..., blk.positions] @ blk.Wx.T
        return self._basis(self.basis_x.matrix, z)

    def synthesis_y(self, c) -> np.ndarray:
        c = as_array(c, "c")
        _check_last_dim(c, self.rank, "c")
        z = np.zeros(c.shape[:-1] + (self.basis_y.matrix.shape[1],))
        for blk in self.blocks:
            z[..., self._cols_y(blk)] += c[..., blk.positions] @ blk.Wy.T
        return self._basis(self.basis_y.matrix, z)

    def _dense(self, side: str) -> np.ndarray:
        key = "_dense_" + side
        if key not in self.__dict__:
            rows = self.dim_x if side == "U" else self.dim_y
            nbytes = rows * self.rank * 8
            if nbytes > MAX_DENSE_BYTES:
                raise ValueError(
                    f"the dense {side} would be a {rows} x {self.rank} float64 matrix of {nbytes} bytes "
                    f"({nbytes / 2**30:.2f} GiB), more than MAX_DENSE_BYTES = {MAX_DENSE_BYTES} bytes; "
                    f"use coefficients_{'x' if side == 'U' else 'y'}, synthesis_{'x' if side == 'U' else 'y'}, "
                    f"vectors_{'x' if side == 'U' else 'y'}(k) or truncate(r) instead"
                )
            basis = self.basis_x if side == "U" else self.basis_y
            out = np.empty((rows, self.rank))
            for blk in self.blocks:
                cols = basis.blocks[blk.name]
                W = blk.Wx if side == "U" else blk.Wy
                out[:, blk.positions] = np.asarray(basis.matrix[:, cols] @ W)
            self.__dict__[key] = out
        return self.__dict__[key]

    @property
    def U(self) -> np.ndarray:
        """Dense :math:`U`, formed on first use (ValueError beyond :data:`MAX_DENSE_BYTES`)."""
        return self._dense("U")

    @property
    def V(self) -> np.ndarray:
        """Dense :math:`V`, formed on first use (ValueError beyond :data:`MAX_DENSE_BYTES`)."""
        return self._dense("V")

    def vectors_x(self, k) -> np.ndarray:
        k = self._indices(k)
        c = np.zeros((k.size, self.rank))
        c[np.arange(k.size), k] = 1.0
        return self.synthesis_x(c).T

    def vectors_y(self, k) -> np.ndarray:
        k = self._indices(k)
        c = np.zeros((k.size, self.rank))
        c[np.arange(k.size), k] = 1.0
        return self.synthesis_y(c).T

    def to_arrays(self) -> dict:
        """The arrays that the cache stores: ``s`` and, per block, ``<block>_Wx``, ``<block>_Wy``, ``<block>_pos``.

        Blocks that share their factors (E2 with E1) store only their positions.
        """
        out = {"s": self.s}
        stored = {}
        for blk in self.blocks:
            out[f"{blk.name}_pos"] = blk.positions
            twin = next((name for name, W in stored.items() if W is blk.Wx), None)
            if twin is None:
                out[f"{blk.name}_Wx"], out[f"{blk.name}_Wy"] = blk.Wx, blk.Wy
                stored[blk.name] = blk.Wx
        return out

    def truncate(self, r: int) -> "FactoredSVD":
        """Return the leading ``r`` singular triples, still factored."""
        r = check_int(r, "r", minimum=1, maximum=self.rank)
        blocks = []
        for blk in self.blocks:
            keep = blk.positions < r
            blocks.append(BlockFactor(blk.name, blk.Wx[:, keep], blk.Wy[:, keep], blk.positions[keep]))
        return FactoredSVD(self.s[:r], self.basis_x, self.basis_y, blocks, self.weights_x, self.weights_y)


def _fix_signs(U: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flip pairs (u_k, v_k) so that the first significant entry of u_k is positive."""
    mag = np.abs(U)
    first = np.argmax(mag >= 1e-3 * mag.max(axis=0, keepdims=True), axis=0)
    signs = np.sign(U[first, np.arange(U.shape[1])])
    signs[signs == 0] = 1.0
    return U * signs, V * signs


def _reference_vectors(n_rows: int, n_cols: int) -> np.ndarray:
    """A fixed, generic matrix (the same on every machine) used to pick canonical bases."""
    return np.random.Generator(np.random.PCG64(20251208)).standard_normal((n_rows, n_cols))


def _canonical_clusters(s: np.ndarray, U: np.ndarray, V: np.ndarray, wx, scale: float, cluster_rtol: float = 1e-12):
    """Replace the basis of every cluster of equal singular values by a canonical one (in place).

    Values closer than ``cluster_rtol * scale`` form a cluster. Its basis is
    replaced by Gram-Schmidt applied to the subspace's projection of fixed
    reference vectors: if P R = U_c M (P the weighted projection) and M = O T
    (QR, positive diagonal), the new basis U_c O depends only on the subspace,
    not on the basis LAPACK chose. ``wx`` is the weight vector of the inner
    product of the columns of U (a scalar 1.0 for Euclidean coordinates).
    """
    r = s.shape[0]
    start = 0
    for i in range(1, r + 1):
        if i < r and abs(s[i] - s[i - 1]) <= cluster_rtol * scale:
            continue
        if i - start > 1:
            idx = slice(start, i)
            R = _reference_vectors(U.shape[0], i - start)
            Q, T = np.linalg.qr((U[:, idx].T * wx) @ R)
            Q = Q * np.sign(np.diag(T))  # QR with a positive diagonal is unique
            U[:, idx] = U[:, idx] @ Q
            V[:, idx] = V[:, idx] @ Q
        start = i
    return U, V


def _canonicalize(s: np.ndarray, U: np.ndarray, V: np.ndarray, wx: np.ndarray, cluster_rtol: float = 1e-12):
    """Fix the singular vectors that the SVD leaves free.

    A simple singular value fixes (u_k, v_k) up to a sign, chosen by
    :func:`_fix_signs`. A repeated singular value (Radon's grid and angles are
    invariant under a quarter turn, so many are exactly double) fixes only the
    subspace spanned by its vectors; inside it LAPACK may return any
    orthonormal basis, which :func:`_canonical_clusters` replaces by a
    canonical one. (The symmetry-block SVD of :class:`Radon` explains the
    doubles instead: see :mod:`learnreg.symmetry`.)
    """
    U, V = _fix_signs(U, V)
    return _canonical_clusters(s, U, V, wx, s[0] if s.size else 1.0, cluster_rtol)


def _thin_svd(B: np.ndarray):
    """Thin SVD ``B = P diag(sigma) Z^T`` of a dense matrix (LAPACK gesdd).

    A tall matrix is first reduced by a Householder QR, ``B = Q R``, and the SVD
    is taken of the square ``R`` (``P = Q P_R``): for the Radon blocks, whose
    rows outnumber their columns by about 1.5, that is about 1.5 times faster
    than gesdd on ``B``, and as backward stable. ``B`` may be overwritten.
    """
    m, n = B.shape
    if m > n:
        # a Fortran-ordered B is overwritten by Q; R is C-ordered, so R.T is Fortran-ordered and
        # gesdd works on it in place: R.T = Z diag(sigma) P_R^T
        Q, R = scipy.linalg.qr(B, mode="economic", overwrite_a=True, check_finite=False)
        Z, sigma, PRt = scipy.linalg.svd(R.T, full_matrices=False, overwrite_a=True, check_finite=False,
                                         lapack_driver="gesdd")
        del R
        return Q @ PRt.T, sigma, Z
    P, sigma, Zt = scipy.linalg.svd(B, full_matrices=False, overwrite_a=True, check_finite=False,
                                    lapack_driver="gesdd")
    return P, sigma, Zt.T


def _weighted_svd(M: np.ndarray, wx: np.ndarray, wy: np.ndarray, rtol: float | None = None):
    """SVD of M with respect to the weighted inner products (dense LAPACK)."""
    sx, sy = np.sqrt(wx), np.sqrt(wy)
    Mt = (sy[:, None] * M) / sx[None, :]
    Vt, s, Ut_T = np.linalg.svd(Mt, full_matrices=False)
    if rtol is None:
        rtol = max(Mt.shape) * np.finfo(float).eps
    r = int(np.sum(s > rtol * s[0]))
    U = Ut_T[:r].T / sx[:, None]
    V = Vt[:, :r] / sy[:, None]
    U, V = _canonicalize(s[:r], U, V, wx)
    return s[:r], U, V


def _block_signs(Q, W: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Signs that make each u = Q w (grid values) follow :func:`_fix_signs`' rule, in chunks of columns."""
    signs = np.ones(W.shape[1])
    for c0 in range(0, W.shape[1], chunk):
        U = np.asarray(Q @ W[:, c0:c0 + chunk])
        mag = np.abs(U)
        first = np.argmax(mag >= 1e-3 * mag.max(axis=0, keepdims=True), axis=0)
        sg = np.sign(U[first, np.arange(U.shape[1])])
        sg[sg == 0] = 1.0
        signs[c0:c0 + chunk] = sg
    return signs


def _block_svd_arrays(M, basis_x: SymmetryBasis, basis_y: SymmetryBasis, rtol: float, threads: int = 1) -> dict:
    r"""The SVD of an equivariant matrix by symmetry blocks, as the arrays that the cache stores.

    For each block :math:`\beta` (A1, A2, B1, B2 and E1; E2 equals E1), the dense
    block :math:`B_\beta` (:func:`learnreg.symmetry.block_matrix`) is decomposed,
    :math:`B_\beta = P\Sigma Z^\top`, by :func:`_thin_svd`. Values at most
    ``rtol * s_1`` are dropped (``s_1`` the largest over all blocks, as in the dense
    path). Signs follow :func:`_fix_signs`' rule on the grid values :math:`u = Q_X z`;
    accidental clusters of equal values inside one block get the canonical basis of
    :func:`_canonical_clusters` in block coordinates. Each E1 value is listed twice,
    E1 first, then E2 with :math:`u = r\cdot u_{E_1}`. Ties between blocks are
    ordered by block, then by the index inside the block.

    The blocks are independent: with ``threads = 2`` two of them are decomposed at
    once (E1, the largest, alongside the four others). Each LAPACK call still runs
    on one core, so the result is the same, bit for bit, as with ``threads = 1``.

    Returns
    -------
    dict
        ``s`` (all singular values, non-increasing), and ``<block>_Wx``,
        ``<block>_Wy``, ``<block>_pos`` for A1..E1, and ``E2_pos``.
    """
    def decompose(name):
        P, sigma, Z = _thin_svd(block_matrix(M, basis_x, basis_y, name))
        return sigma, Z, P

    order_ = ("E1", "A1", "A2", "B1", "B2")  # the largest first
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:  # LAPACK releases the GIL
            raw = dict(zip(order_, pool.map(decompose, order_)))
    else:
        raw = {name: decompose(name) for name in order_}
    s1 = max((float(v[0][0]) for v in raw.values() if v[0].size), default=0.0)
    if s1 <= 0:
        raise ValueError("the matrix is zero: it has no singular values")
    values, block_id, local = [], [], []
    out = {}
    for name in ("E1", "A1", "A2", "B1", "B2"):
        sigma, Z, P = raw.pop(name)
        r = int(np.sum(sigma > rtol * s1))
        sigma, Z, P = sigma[:r], np.ascontiguousarray(Z[:, :r]), np.ascontiguousarray(P[:, :r])
        signs = _block_signs(basis_x.block(name), Z)
        Z *= signs
        P *= signs
        Z, P = _canonical_clusters(sigma, Z, P, 1.0, s1)
        raw[name] = (sigma, Z, P)
    for b, name in enumerate(BLOCKS):
        sigma = raw["E1" if name == "E2" else name][0]
        values.append(sigma)
        block_id.append(np.full(sigma.size, b))
        local.append(np.arange(sigma.size))
    values, block_id, local = map(np.concatenate, (values, block_id, local))
    order = np.lexsort((local, block_id, -values))
    position = np.empty(order.size, dtype=np.int64)
    position[order] = np.arange(order.size)
    out["s"] = values[order]
    for b, name in enumerate(BLOCKS):
        pos = position[block_id == b]
        out[f"{name}_pos"] = pos
        if name != "E2":
            out[f"{name}_Wx"], out[f"{name}_Wy"] = raw[name][1], raw[name][2]
    return out


def _factored_from_arrays(arrays: dict, basis_x: SymmetryBasis, basis_y: SymmetryBasis, wx, wy) -> "FactoredSVD":
    """Assemble a :class:`FactoredSVD` from the arrays of :func:`_block_svd_arrays` (or the cache)."""
    blocks = []
    for name in BLOCKS:
        src = "E1" if name == "E2" else name
        blocks.append(BlockFactor(name, arrays[f"{src}_Wx"], arrays[f"{src}_Wy"], arrays[f"{name}_pos"]))
    return FactoredSVD(arrays["s"], basis_x, basis_y, blocks, wx, wy)


# ---------------------------------------------------------------------------
# Operator interface
# ---------------------------------------------------------------------------


class LinearOperator(ABC):
    r"""A discretised compact linear operator :math:`A: X\to Y`.

    Subclasses define the matrix of grid values, the cell sizes and, where
    available, a closed-form SVD. Vectors are flat arrays of shape (..., N)
    for :math:`X` and (..., m) for :math:`Y`; batches of samples are rows.
    Images (2D domains) can also be passed with shape ``(..., *domain_shape)``.
    """

    #: short name used by :func:`make_operator` and in cache keys
    name: str = "operator"

    def __init__(self, n: int):
        self.n = check_int(n, "n", minimum=2)

    # -- description -------------------------------------------------------
    @property
    @abstractmethod
    def params(self) -> dict:
        """Every parameter of the discretisation (used as the cache key)."""

    @property
    @abstractmethod
    def domain_shape(self) -> tuple[int, ...]:
        """Shape of an element of X on its grid."""

    @property
    @abstractmethod
    def range_shape(self) -> tuple[int, ...]:
        """Shape of an element of Y on its grid."""

    @property
    def shape(self) -> tuple[int, int]:
        """Matrix shape (m, N)."""
        return (math.prod(self.range_shape), math.prod(self.domain_shape))

    @cached_property
    @abstractmethod
    def weights_x(self) -> np.ndarray:
        """Cell sizes of the X grid, shape (N,)."""

    @cached_property
    @abstractmethod
    def weights_y(self) -> np.ndarray:
        """Cell sizes of the Y grid, shape (m,)."""

    @abstractmethod
    def _build_matrix(self):
        """Return the matrix of grid values (dense ndarray or scipy sparse)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k != "name")
        return f"{type(self).__name__}({args})"

    # -- matrices ------------------------------------------------------------
    @cached_property
    def sparse_matrix(self) -> sp.csr_array:
        """The matrix of grid values as a scipy sparse CSR array."""
        M = self._build_matrix()
        return sp.csr_array(M)

    @cached_property
    def matrix(self) -> np.ndarray:
        """The matrix of grid values as a dense array, shape (m, N)."""
        M = self._build_matrix()
        return M.toarray() if sp.issparse(M) else np.asarray(M, dtype=float)

    # -- application ----------------------------------------------------------
    def _flatten(self, x, name: str, core_shape: tuple[int, ...]):
        x = as_array(x, name)
        size = math.prod(core_shape)
        if len(core_shape) > 1 and x.shape[-len(core_shape):] == core_shape:
            lead = x.shape[: -len(core_shape)]
            return x.reshape(*lead, size), True
        if x.shape[-1:] != (size,):
            raise ValueError(
                f"{name} must have shape (..., {size})"
                + (f" or (..., {', '.join(map(str, core_shape))})" if len(core_shape) > 1 else "")
                + f", got {x.shape}"
            )
        return x, False

    def _apply_matrix(self, x: np.ndarray, transpose: bool) -> np.ndarray:
        M = self.sparse_matrix if self._prefer_sparse else self.matrix
        if transpose:
            M = M.T
        return (M @ x.T).T if x.ndim > 1 else M @ x

    _prefer_sparse = False

    def apply(self, x) -> np.ndarray:
        """Return :math:`Ax`; ``x`` has shape ``(..., N)`` or ``(..., *domain_shape)``."""
        xf, was_image = self._flatten(x, "x", self.domain_shape)
        y = self._apply_matrix(xf, transpose=False)
        if was_image and len(self.range_shape) > 1:
            y = y.reshape(*y.shape[:-1], *self.range_shape)
        return y

    def adjoint(self, y) -> np.ndarray:
        r"""Return :math:`A^*y` in the weighted inner products: :math:`W_X^{-1} M^\top W_Y y`."""
        yf, was_image = self._flatten(y, "y", self.range_shape)
        x = self._apply_matrix(yf * self.weights_y, transpose=True) / self.weights_x
        if was_image and len(self.domain_shape) > 1:
            x = x.reshape(*x.shape[:-1], *self.domain_shape)
        return x

    def __call__(self, x) -> np.ndarray:
        return self.apply(x)

    # -- inner products and norms ----------------------------------------------
    def inner_x(self, a, b) -> np.ndarray:
        r""":math:`\langle a, b\rangle_X` along the last axis."""
        a, _ = self._flatten(a, "a", self.domain_shape)
        b, _ = self._flatten(b, "b", self.domain_shape)
        return np.sum(a * b * self.weights_x, axis=-1)

    def inner_y(self, a, b) -> np.ndarray:
        r""":math:`\langle a, b\rangle_Y` along the last axis."""
        a, _ = self._flatten(a, "a", self.range_shape)
        b, _ = self._flatten(b, "b", self.range_shape)
        return np.sum(a * b * self.weights_y, axis=-1)

    def norm_x(self, x) -> np.ndarray:
        """Discrete L2 norm in X."""
        return np.sqrt(self.inner_x(x, x))

    def norm_y(self, y) -> np.ndarray:
        """Discrete L2 norm in Y."""
        return np.sqrt(self.inner_y(y, y))

    # -- SVD ------------------------------------------------------------------
    def _closed_form_svd(self):
        """Return (s, U, V) in closed form, or None if not available."""
        return None

    def _blocked_svd(self, cache: bool, explicit: bool):
        """Return a :class:`FactoredSVD` by symmetry blocks, or None to use the dense path.

        Operators without a symmetry return None; with ``explicit`` (the caller
        asked for ``method='symmetry'``) they raise instead.
        """
        if explicit:
            raise ValueError(f"{type(self).__name__} has no symmetry-block SVD; use method='numerical'")
        return None

    #: largest matrix dimension for which a dense SVD is attempted
    max_dense_svd = 8192

    def _numerical_svd(self):
        if min(self.shape) > self.max_dense_svd:
            raise ValueError(
                f"a dense SVD of {self!r} (matrix shape {self.shape}) is too large; "
                f"the limit is {self.max_dense_svd} columns (for Radon: n <= 90)"
            )
        return _weighted_svd(self.matrix, self.weights_x, self.weights_y)

    def svd_cache_key(self, method: str) -> dict:
        """The cache key under which :meth:`svd` stores a numerical SVD: 'numerical' (dense) or 'symmetry' (blocks)."""
        if method == "numerical":
            return {**self.params, "what": "svd"}
        if method == "symmetry":
            return {**self.params, "what": "svd", "method": "symmetry", "basis": SYMMETRY_BASIS_VERSION}
        raise ValueError(f"method must be 'numerical' or 'symmetry'; got {method!r}")

    def svd(self, *, method: str = "auto", cache: bool = True) -> SVD:
        """Return the singular system.

        Parameters
        ----------
        method : {'auto', 'closed_form', 'symmetry', 'numerical'}
            'closed_form': the closed form (Integration, the periodic operators).
            'symmetry': by the blocks of a symmetry group (:class:`Radon`, see
            :mod:`learnreg.symmetry`), returned as a :class:`FactoredSVD`.
            'numerical': a dense LAPACK SVD of the whole matrix (the reference).
            'auto' takes the first of these that applies; where the grid breaks the
            symmetry it says why (a :class:`~learnreg.symmetry.SymmetryWarning`) and
            uses the dense SVD.
        cache : bool
            Whether numerically computed SVDs are read from / written to the
            on-disk cache (see :mod:`learnreg.cache`).
        """
        if method not in ("auto", "closed_form", "symmetry", "numerical"):
            raise ValueError(f"method must be 'auto', 'closed_form', 'symmetry' or 'numerical'; got {method!r}")
        memo = self.__dict__.setdefault("_svd_memo", {})
        if method in memo:
            return memo[method]
        result = None
        if method in ("auto", "closed_form"):
            triple = self._closed_form_svd()
            if triple is None and method == "closed_form":
                raise ValueError(f"{type(self).__name__} has no closed-form SVD; use method='numerical'")
            if triple is not None:
                s, U, V = triple
                result = SVD(np.asarray(s), np.asarray(U), np.asarray(V), self.weights_x, self.weights_y)
        if result is None and method in ("auto", "symmetry"):
            result = self._blocked_svd(cache, explicit=method == "symmetry")
        if result is None:
            arrays = cached_arrays(
                self.svd_cache_key("numerical"),
                lambda: dict(zip("sUV", self._numerical_svd())),
                use_cache=cache,
            )
            result = SVD(arrays["s"], arrays["U"], arrays["V"], self.weights_x, self.weights_y)
        memo[method] = result
        return result

    def norm(self) -> float:
        """Operator norm :math:`\\|A\\| = s_1`."""
        return float(self.svd().s[0])


# ---------------------------------------------------------------------------
# 1D operators
# ---------------------------------------------------------------------------


class _Grid1D(LinearOperator):
    """Common parts of the operators on [0, 1] with n equal cells."""

    @property
    def h(self) -> float:
        """Cell size 1/n."""
        return 1.0 / self.n

    @property
    def grid(self) -> np.ndarray:
        """Cell midpoints (i + 1/2) h."""
        return (np.arange(self.n) + 0.5) * self.h

    @property
    def domain_shape(self):
        return (self.n,)

    @property
    def range_shape(self):
        return (self.n,)

    @cached_property
    def weights_x(self):
        return np.full(self.n, self.h)

    @cached_property
    def weights_y(self):
        return np.full(self.n, self.h)


class Integration(_Grid1D):
    r"""Integration :math:`(Ax)(t) = \int_0^t x(\tau)\,d\tau` on :math:`L^2(0,1)`.

    Discretised as ``M = h * tril(ones(n, n))`` with ``h = 1/n``. The SVD is
    known in closed form: with :math:`\theta_k = (2k-1)\pi/(2n+1)`,

    .. math::
        s_k = \frac{h}{2\sin(\theta_k/2)}, \quad
        u_k(t_i) \propto \cos((i+\tfrac12)\theta_k), \quad
        v_k(t_i) \propto \sin((i+1)\theta_k),

    so :math:`s_k \to 1/((k-\tfrac12)\pi)`, :math:`u_k \to \sqrt2\cos((k-\tfrac12)\pi t)`
    and :math:`v_k \to \sqrt2\sin((k-\tfrac12)\pi t)` as :math:`n\to\infty`.

    Examples
    --------
    >>> A = Integration(100)
    >>> round(A.norm() * 0.5 * np.pi, 3)   # s_1 (pi/2) = 1 + 1/(2n) + O(1/n^2)
    1.005
    """

    name = "integration"

    @property
    def params(self):
        return {"name": self.name, "n": self.n}

    def _build_matrix(self):
        return self.h * np.tril(np.ones((self.n, self.n)))

    def apply(self, x):
        xf, _ = self._flatten(x, "x", self.domain_shape)
        return self.h * np.cumsum(xf, axis=-1)

    def adjoint(self, y):
        yf, _ = self._flatten(y, "y", self.range_shape)
        return self.h * np.cumsum(yf[..., ::-1], axis=-1)[..., ::-1]

    def _closed_form_svd(self):
        n, h = self.n, self.h
        k = np.arange(1, n + 1)
        theta = (2 * k - 1) * np.pi / (2 * n + 1)
        s = h / (2 * np.sin(theta / 2))
        i = np.arange(n)[:, None]
        U = np.cos((i + 0.5) * theta)
        V = np.sin((i + 1.0) * theta)
        U /= np.sqrt(h * np.sum(U**2, axis=0))
        V /= np.sqrt(h * np.sum(V**2, axis=0))
        return s, U, V


def _real_fourier_basis(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal real Fourier basis of L2(0,1) on n points t_i = i/n.

    Returns (B, freq) where column j of B is 1, sqrt2 cos(2 pi k t) or
    sqrt2 sin(2 pi k t), ordered by |k| with cos before sin, and the Nyquist
    cosine (-1)^i last when n is even; freq[j] is the frequency k of column j
    (negative for sines).
    """
    t = np.arange(n) / n
    cols, freq = [np.ones(n)], [0]
    for k in range(1, (n - 1) // 2 + 1):
        cols += [np.sqrt(2) * np.cos(2 * np.pi * k * t), np.sqrt(2) * np.sin(2 * np.pi * k * t)]
        freq += [k, -k]
    if n % 2 == 0:
        cols.append(np.cos(np.pi * n * t))
        freq.append(n // 2)
    return np.stack(cols, axis=1), np.array(freq)


class PeriodicConvolution(_Grid1D):
    r"""Periodic Gaussian blur on :math:`L^2(\mathbb{T})`, :math:`\mathbb{T} = [0,1)`.

    Defined by its Fourier multiplier :math:`\hat g(k) = \exp(-2\pi^2\sigma^2k^2)`
    (the Fourier coefficients of a periodised Gaussian of standard deviation
    ``sigma``), for frequencies :math:`|k| \le n/2`. The DFT diagonalises it, so
    the SVD is closed form: :math:`u_k = v_k` are the real Fourier modes and
    :math:`s = \hat g(|k|)`, ordered by frequency.

    Parameters
    ----------
    n : int
        Number of grid points.
    sigma : float
        Width of the Gaussian kernel, in units of the period (default 0.02).
    """

    name = "convolution"

    def __init__(self, n: int, sigma: float = 0.02):
        super().__init__(n)
        self.sigma = check_real(sigma, "sigma", positive=True)

    @property
    def params(self):
        return {"name": self.name, "n": self.n, "sigma": self.sigma}

    @property
    def grid(self) -> np.ndarray:
        """Grid points t_i = i/n (the DFT's nodes)."""
        return np.arange(self.n) / self.n

    @cached_property
    def multiplier(self) -> np.ndarray:
        """Fourier multiplier for the DFT frequencies (numpy's FFT order)."""
        k = np.fft.fftfreq(self.n, d=1.0 / self.n)
        return np.exp(-2 * np.pi**2 * self.sigma**2 * k**2)

    def _build_matrix(self):
        col = np.real(np.fft.ifft(self.multiplier))
        idx = (np.arange(self.n)[:, None] - np.arange(self.n)[None, :]) % self.n
        return col[idx]

    def apply(self, x):
        xf, _ = self._flatten(x, "x", self.domain_shape)
        return np.real(np.fft.ifft(np.fft.fft(xf, axis=-1) * self.multiplier, axis=-1))

    def adjoint(self, y):
        return self.apply(y)  # self-adjoint: real, even multiplier

    def _closed_form_svd(self):
        B, freq = _real_fourier_basis(self.n)
        s = np.exp(-2 * np.pi**2 * self.sigma**2 * freq.astype(float) ** 2)
        U, V = _fix_signs(B, B.copy())
        return s, U, V


class PeriodicIntegration(_Grid1D):
    r"""Periodic antiderivative on mean-zero functions of :math:`L^2(\mathbb{T})`.

    :math:`(Ax)(t) = \int_0^t x(\tau)\,d\tau - \int_0^1\!\int_0^s x(\tau)\,d\tau\,ds`
    for :math:`\int_0^1 x = 0`, extended by 0 on constants. Discretised as
    ``P (h tril(ones)) P`` with ``P`` the projection onto mean-zero vectors; on
    mean-zero vectors this is the inverse of the periodic backward difference
    :math:`(Dx)_i = (x_i - x_{i-1})/h`, a circulant matrix. Hence the DFT
    diagonalises it: :math:`s = h / (2|\sin(\pi k/n)|)` for
    :math:`k = 1, \dots, \lfloor n/2\rfloor` (each twice except Nyquist), with
    :math:`u` the real Fourier modes and :math:`v` phase-shifted modes.
    Constants form the null space. The frames chapter builds its
    wavelet–vaguelette decomposition on this operator.
    """

    name = "periodic_integration"

    @property
    def params(self):
        return {"name": self.name, "n": self.n}

    @property
    def grid(self) -> np.ndarray:
        """Grid points t_i = i/n."""
        return np.arange(self.n) / self.n

    def _build_matrix(self):
        n = self.n
        P = np.eye(n) - np.full((n, n), 1.0 / n)
        return P @ (self.h * np.tril(np.ones((n, n)))) @ P

    @cached_property
    def multiplier(self) -> np.ndarray:
        """Eigenvalues in numpy's FFT order (0 at frequency 0)."""
        k = np.arange(self.n)
        lam = (1 - np.exp(-2j * np.pi * k / self.n)) / self.h  # backward difference
        out = np.zeros(self.n, dtype=complex)
        out[1:] = 1.0 / lam[1:]
        return out

    def apply(self, x):
        xf, _ = self._flatten(x, "x", self.domain_shape)
        return np.real(np.fft.ifft(np.fft.fft(xf, axis=-1) * self.multiplier, axis=-1))

    def adjoint(self, y):
        yf, _ = self._flatten(y, "y", self.range_shape)
        return np.real(np.fft.ifft(np.fft.fft(yf, axis=-1) * np.conj(self.multiplier), axis=-1))

    def _closed_form_svd(self):
        n, h = self.n, self.h
        B, freq = _real_fourier_basis(n)
        B, freq = B[:, 1:], freq[1:]  # drop the constant: null space
        k = np.abs(freq)
        s = h / (2 * np.abs(np.sin(np.pi * k / n)))
        # v_k = A u_k / s_k, computed exactly through the DFT
        V = self.apply(B.T).T / s
        U, V = _fix_signs(B, V)
        return s, U, V


# ---------------------------------------------------------------------------
# 2D Radon transform
# ---------------------------------------------------------------------------


def pixel_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of an n x n image on [-1, 1]^2.

    Row 0 is the top (y = 1 - h/2), column 0 the left (x = -1 + h/2), as
    ``matplotlib.pyplot.imshow`` shows an array. Returns (X, Y), each (n, n).
    """
    n = check_int(n, "n", minimum=1)
    h = 2.0 / n
    c = -1 + (np.arange(n) + 0.5) * h
    X, Y = np.meshgrid(c, -c)
    return X, Y


class Radon(LinearOperator):
    r"""2D parallel-beam Radon transform as an explicit sparse matrix.

    :math:`(Ax)(\theta, t) = \int x(t\,\nu_\theta + \lambda\,\nu_\theta^\perp)\,d\lambda`
    with :math:`\nu_\theta = (\cos\theta, \sin\theta)`, for images on
    :math:`[-1,1]^2`. Discretisation: ``n x n`` pixels of size ``h = 2/n``;
    ``n_angles`` angles :math:`\theta_j = j\pi/n_\theta`; ``n_detectors`` bins of
    width ``h`` centred at 0 (the default ``ceil(1.5 n)`` bins cover the image's
    diagonal). Entry ``M[(j, b), p]`` is the length of the intersection of the
    ray through bin centre ``b`` at angle ``j`` with pixel ``p`` (exact ray
    tracing), so the adjoint in the Euclidean sense is exactly ``M.T``.
    Weights: :math:`h^2` per pixel, :math:`h\,\pi/n_\theta` per datum.

    Rows of the data array are angles, columns are detector bins.
    """

    name = "radon"
    _prefer_sparse = True

    def __init__(self, n: int, n_angles: int | None = None, n_detectors: int | None = None):
        n = check_int(n, "n", minimum=2, maximum=256)
        super().__init__(n)
        self.n_angles = check_int(n if n_angles is None else n_angles, "n_angles", minimum=1)
        self.n_detectors = check_int(
            math.ceil(1.5 * n) if n_detectors is None else n_detectors, "n_detectors", minimum=1
        )

    @property
    def params(self):
        return {
            "name": self.name,
            "n": self.n,
            "n_angles": self.n_angles,
            "n_detectors": self.n_detectors,
            "model": "ray-length-v1",
        }

    @property
    def h(self) -> float:
        """Pixel size (and detector bin width) 2/n."""
        return 2.0 / self.n

    @property
    def angles(self) -> np.ndarray:
        """Projection angles in radians."""
        return np.arange(self.n_angles) * np.pi / self.n_angles

    @property
    def detector_positions(self) -> np.ndarray:
        """Detector bin centres t_b."""
        return (np.arange(self.n_detectors) - (self.n_detectors - 1) / 2) * self.h

    @property
    def domain_shape(self):
        return (self.n, self.n)

    @property
    def range_shape(self):
        return (self.n_angles, self.n_detectors)

    @cached_property
    def weights_x(self):
        return np.full(self.n * self.n, self.h**2)

    @cached_property
    def weights_y(self):
        return np.full(self.n_angles * self.n_detectors, self.h * np.pi / self.n_angles)

    # -- the symmetry-block SVD ------------------------------------------------

    #: largest number of columns of a symmetry block for which the blocked SVD is
    #: attempted. The largest block (E1) has n^2/4 columns, so the limit is n <= 128,
    #: where the blocked SVD takes about a minute and 1.3 GB (a dense SVD: n <= 90).
    max_blocked_svd = 4096

    #: how many symmetry blocks are decomposed at once (each on one core, so the
    #: result does not depend on it): 2 where the machine has 2 cores or more
    svd_threads = min(2, os.cpu_count() or 1)

    def symmetry_defect(self, *, numerical: bool = True) -> str | None:
        r"""Why the symmetry-block SVD does not apply to this discretisation, or None if it does.

        The blocked SVD needs the pixel grid, the angles and the detector bins to be
        invariant under :math:`D_4` and the matrix to commute with that action (see
        :mod:`learnreg.symmetry`). Checked here:

        * an even number of angles :math:`\theta_j = j\pi/n_\theta` (an odd number
          is not closed under the quarter turn);
        * detector bin centres symmetric about 0, and invariant weights;
        * with ``numerical``, the matrix itself: :math:`\max_{g=r,s}\|\rho_Y(g)\tilde M -
          \tilde M\rho_X(g)\|_2` (bounded by :math:`\sqrt{\|D\|_1\|D\|_\infty}`)
          must be at most :data:`learnreg.symmetry.EQUIVARIANCE_TOL` times :math:`s_1`
          (bounded below by power iteration). The blocked SVD is then the exact SVD of a
          matrix within 3 times that defect of :math:`\tilde M`. Rays that run along
          pixel edges (at 0 and 90 degrees when ``n`` and ``n_detectors`` differ in
          parity, e.g. the default grid for n = 10) are assigned to one of the two
          pixels by the ray tracer, which breaks the mirror symmetry.
        """
        if self.n_angles % 2:
            return (f"n_angles = {self.n_angles} is odd, so a quarter turn maps the angles "
                    f"j*pi/{self.n_angles} to angles outside the set")
        if not np.array_equal(self.angles, np.arange(self.n_angles) * np.pi / self.n_angles):
            return "the angles are not theta_j = j*pi/n_angles"
        t = np.asarray(self.detector_positions)
        if t.shape != (self.n_detectors,) or not np.allclose(t[::-1], -t, rtol=0.0, atol=1e-12 * self.h):
            return "the detector grid is not symmetric about 0"
        if np.ptp(self.weights_x) != 0 or np.ptp(self.weights_y) != 0:
            return "the weights are not the same in every pixel and every datum"
        if numerical:
            defect = self.equivariance_defect()
            if defect > EQUIVARIANCE_TOL:
                return self._defect_message(defect)
        return None

    def _defect_message(self, defect: float) -> str:
        hint = ""
        if (self.n - self.n_detectors) % 2:
            hint = (f"; n = {self.n} and n_detectors = {self.n_detectors} differ in parity, so rays at 0 and "
                    "90 degrees run along pixel edges, which the ray tracer gives to one side")
        return (f"the matrix commutes with the symmetry of the square only up to {defect:.1e} s_1 "
                f"(the tolerance is {EQUIVARIANCE_TOL:.1e}){hint}")

    def equivariance_defect(self) -> float:
        r"""Upper bound of :math:`\max_{g=r,s}\|\rho_Y(g)\tilde M - \tilde M\rho_X(g)\|_2 / s_1`.

        About 1e-14 (rounding of the ray lengths) when the grid is symmetric; see
        :func:`learnreg.symmetry.commutation_defect`.
        """
        if self.symmetry_defect(numerical=False) is not None:
            return math.inf
        ax, ay = self._symmetry_actions
        return commutation_defect(self.sparse_matrix, ax, ay, self.weights_x, self.weights_y)

    @cached_property
    def _symmetry_actions(self):
        return image_action(self.n), sinogram_action(self.n_angles, self.n_detectors)

    @cached_property
    def symmetry_bases(self) -> tuple[SymmetryBasis, SymmetryBasis]:
        """The symmetry-adapted orthonormal bases of X and Y (:func:`learnreg.symmetry.symmetry_basis`)."""
        reason = self.symmetry_defect(numerical=False)
        if reason is not None:
            raise ValueError(f"{self!r} has no symmetry-adapted bases: {reason}")
        ax, ay = self._symmetry_actions
        return symmetry_basis(ax, self.weights_x), symmetry_basis(ay, self.weights_y)

    def _blocked_svd(self, cache: bool, explicit: bool):
        reason = self.symmetry_defect(numerical=False)
        arrays = None
        if reason is None:
            largest = max(isotypic_dimensions(self._symmetry_actions[0]).values())
            if largest > self.max_blocked_svd:
                raise ValueError(
                    f"the symmetry-block SVD of {self!r} needs a block of {largest} columns; the limit is "
                    f"max_blocked_svd = {self.max_blocked_svd} (n <= 128), set by the memory of the largest "
                    "block's dense SVD (about 1.3 GB at the limit)"
                )
            try:
                arrays = cached_arrays(
                    self.svd_cache_key("symmetry"),
                    self._compute_blocked_svd,
                    use_cache=cache,
                )
            except NotEquivariantError as exc:
                reason = str(exc)
        if reason is not None:
            msg = f"{self!r}: {reason}"
            if explicit:
                raise ValueError(f"the symmetry-block SVD does not apply to {msg}")
            warnings.warn(f"{msg}; using the dense SVD instead of the symmetry-block SVD",
                          SymmetryWarning, stacklevel=3)
            return None
        return _factored_from_arrays(arrays, *self.symmetry_bases, self.weights_x, self.weights_y)

    def _compute_blocked_svd(self) -> dict:
        defect = self.equivariance_defect()
        if defect > EQUIVARIANCE_TOL:
            raise NotEquivariantError(self._defect_message(defect))
        basis_x, basis_y = self.symmetry_bases
        rtol = max(self.shape) * np.finfo(float).eps  # the dense path's rank threshold
        return _block_svd_arrays(self.sparse_matrix, basis_x, basis_y, rtol, threads=self.svd_threads)

    def _build_matrix(self):
        n, h = self.n, self.h
        lines = -1 + np.arange(n + 1) * h
        t = self.detector_positions
        rows, cols, vals = [], [], []
        L = 2.0  # half-length of every ray, beyond the square's half-diagonal
        for j, th in enumerate(self.angles):
            c, s = math.cos(th), math.sin(th)
            # ray b: p(lam) = t_b (c, s) + lam (-s, c), lam in [-L, L]
            px0, py0 = t * c, t * s
            params = [np.full((t.size, 1), -L), np.full((t.size, 1), L)]
            if abs(s) > 1e-12:
                params.append((px0[:, None] - lines[None, :]) / s)  # x = line
            if abs(c) > 1e-12:
                params.append((lines[None, :] - py0[:, None]) / c)  # y = line
            lam = np.sort(np.clip(np.concatenate(params, axis=1), -L, L), axis=1)
            seg = np.diff(lam, axis=1)
            mid = 0.5 * (lam[:, 1:] + lam[:, :-1])
            mx = px0[:, None] - mid * s
            my = py0[:, None] + mid * c
            ix = np.floor((mx + 1) / h).astype(int)
            iy = np.floor((1 - my) / h).astype(int)  # row 0 at the top
            ok = (seg > 1e-14) & (ix >= 0) & (ix < n) & (iy >= 0) & (iy < n)
            b_idx = np.broadcast_to(np.arange(t.size)[:, None], seg.shape)
            rows.append((j * t.size + b_idx)[ok])
            cols.append((iy * n + ix)[ok])
            vals.append(seg[ok])
        M = sp.coo_array(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=self.shape,
        )
        return M.tocsr()  # duplicates (none expected) are summed


# ---------------------------------------------------------------------------
# Registry and the dot test
# ---------------------------------------------------------------------------

OPERATORS = {
    "integration": Integration,
    "convolution": PeriodicConvolution,
    "periodic_integration": PeriodicIntegration,
    "radon": Radon,
}


def make_operator(name: str, n: int, **kwargs) -> LinearOperator:
    """Create an operator by name: 'integration', 'convolution', 'periodic_integration' or 'radon'."""
    if name not in OPERATORS:
        raise ValueError(f"name must be one of {', '.join(map(repr, OPERATORS))}; got {name!r}")
    return OPERATORS[name](n, **kwargs)


def dot_test(op: LinearOperator, rng: np.random.Generator, n_trials: int = 3) -> float:
    r"""Largest relative error of :math:`\langle Ax, y\rangle_Y = \langle x, A^*y\rangle_X`.

    Random ``x`` and ``y`` are drawn from ``rng``. For a correct adjoint the
    result is at the level of rounding errors (about 1e-15).
    """
    from ._validate import check_rng

    check_rng(rng)
    n_trials = check_int(n_trials, "n_trials", minimum=1)
    worst = 0.0
    for _ in range(n_trials):
        x = rng.standard_normal(op.shape[1])
        y = rng.standard_normal(op.shape[0])
        lhs = op.inner_y(op.apply(x), y)
        rhs = op.inner_x(x, op.adjoint(y))
        scale = op.norm_y(op.apply(x)) * op.norm_y(y) + 1e-300
        worst = max(worst, abs(lhs - rhs) / scale)
    return float(worst)
