r"""The symmetry of the square and the block-diagonal SVD of the Radon transform.

The group
---------
:math:`D_4 = \langle r, s \mid r^4 = s^2 = 1,\ srs = r^{-1}\rangle` is the symmetry
group of the square :math:`[-1,1]^2`: :math:`r` is the quarter turn
counterclockwise, :math:`s` the mirror :math:`(x, y)\mapsto(-x, y)`. Its eight
elements are listed in :data:`GROUP_ELEMENTS` as :math:`s^f r^k`.

How it acts
-----------
On images, :math:`(g\cdot f)(p) = f(g^{-1}p)`. The pixel grid of
:func:`learnreg.operators.pixel_grid` is invariant for every ``n``: the quarter
turn is ``numpy.rot90`` of the array and the mirror reverses the columns.

On sinograms, the Radon transform of a turned or mirrored image is

.. math::
    R(r\cdot f)(\theta, t) = Rf(\theta - \tfrac\pi2, t), \qquad
    R(s\cdot f)(\theta, t) = Rf(\pi - \theta, t),

and angles live on :math:`[0, \pi)` with the wrap
:math:`Rf(\theta + \pi, t) = Rf(\theta, -t)`. With :math:`\theta_j = j\pi/n_\theta`,
:math:`n_\theta` even and :math:`h = n_\theta/2`, and detector bins symmetric
about 0 (:math:`t_{n_d-1-b} = -t_b`), both are permutations of the (angle,
bin) indices:

.. math::
    (r\cdot y)_{j,b} = \begin{cases} y_{j-h,\,b} & j \ge h\\ y_{j+h,\,n_d-1-b} & j < h\end{cases},
    \qquad
    (s\cdot y)_{j,b} = \begin{cases} y_{0,\,n_d-1-b} & j = 0\\ y_{n_\theta-j,\,b} & j \ge 1\end{cases}.

So :math:`A(g\cdot f) = g\cdot(Af)` for every :math:`g`. The ray-length matrix
satisfies it exactly in exact arithmetic (a turned or mirrored ray crosses the
turned or mirrored pixel over the same length), and to rounding in floating
point. An odd number of angles breaks the quarter turn (:math:`\theta - \pi/2`
is then not a grid angle).

Blocks
------
:math:`D_4` has four one-dimensional irreducible representations (characters
in :data:`CHARACTERS`) and one two-dimensional one, :math:`E`. Each space splits
orthogonally into the isotypic components

.. math::
    P_\chi = \frac18\sum_g \chi(g)\,\rho(g), \quad \chi \in \{A_1, A_2, B_1, B_2\},
    \qquad P_E = \tfrac12\,(I - \rho(r^2)),

and the :math:`E` component splits once more into
:math:`E_1 = \{v : \rho(r^2)v = -v,\ \rho(s)v = v\}` (projector
:math:`\tfrac14(I-\rho(r^2))(I+\rho(s))`) and :math:`E_2 = \rho(r)E_1`. An
equivariant operator maps each of the six subspaces of :math:`X` into the
subspace of :math:`Y` of the same name (Schur's lemma), and in the bases
:math:`Q_{E_2} = \rho(r)Q_{E_1}` its :math:`E_2` block equals its :math:`E_1`
block. So five SVDs of blocks of about 1/8 (one-dimensional irreps) and 1/4
(:math:`E_1`) of the columns give the whole singular system, and every singular
value of the :math:`E_1` block is a singular value of the operator twice, with
singular vectors :math:`u` and :math:`r\cdot u`.

The bases are built orbit by orbit: a projector applied to the unit vector of a
grid point lives on that point's orbit (at most 8 points), so every basis vector
has at most 8 nonzero entries and the basis matrix is sparse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._validate import as_array, check_int

__all__ = [
    "EQUIVARIANCE_TOL",
    "SYMMETRY_BASIS_VERSION",
    "NotEquivariantError",
    "SymmetryWarning",
    "GROUP_ELEMENTS",
    "IRREPS",
    "CHARACTERS",
    "BLOCKS",
    "PermutationAction",
    "SymmetryBasis",
    "image_action",
    "sinogram_action",
    "symmetry_basis",
    "isotypic_dimensions",
    "commutation_defect",
    "block_matrix",
    "block_table",
]

#: Largest relative commutation defect (:func:`commutation_defect`) for which the
#: block SVD is used: the blocked singular values are then within
#: :math:`3 \cdot` ``EQUIVARIANCE_TOL`` :math:`\cdot s_1 = 10^{-12} s_1` of the exact ones.
EQUIVARIANCE_TOL = 1e-12 / 3

#: Names the construction of :func:`symmetry_basis` (column order and signs); part of
#: the cache key of block SVDs, so a change of convention never reuses stored factors.
SYMMETRY_BASIS_VERSION = "D4-orbits-v1"


class SymmetryWarning(UserWarning):
    """Emitted when an operator's grid breaks the symmetry and the dense SVD is used instead."""


class NotEquivariantError(ValueError):
    """Raised when a matrix does not commute with the group action to the tolerance."""


#: The eight elements :math:`s^f r^k` of :math:`D_4`, as (f, k).
GROUP_ELEMENTS = ((0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3))

#: The irreducible representations of :math:`D_4`.
IRREPS = ("A1", "A2", "B1", "B2", "E")

#: Characters :math:`\chi(s^f r^k)` in the order of :data:`GROUP_ELEMENTS`.
#: A1 trivial; A2 = -1 on mirrors; B1 = -1 on odd turns and on the mirrors
#: :math:`s r^k`, k odd (the diagonal mirrors); B2 = B1 times A2; E the 2-D irrep.
CHARACTERS = {
    "A1": np.array([1, 1, 1, 1, 1, 1, 1, 1], dtype=float),
    "A2": np.array([1, 1, 1, 1, -1, -1, -1, -1], dtype=float),
    "B1": np.array([1, -1, 1, -1, 1, -1, 1, -1], dtype=float),
    "B2": np.array([1, -1, 1, -1, -1, 1, -1, 1], dtype=float),
    "E": np.array([2, 0, -2, 0, 0, 0, 0, 0], dtype=float),
}

#: The six blocks, in the order of the basis columns: four 1-D irreps, then the two copies of E.
BLOCKS = ("A1", "A2", "B1", "B2", "E1", "E2")

#: The irreducible representation of each block.
BLOCK_IRREP = {"A1": "A1", "A2": "A2", "B1": "B1", "B2": "B2", "E1": "E", "E2": "E"}


def _check_permutation(p, name: str, size: int | None = None) -> np.ndarray:
    p = np.asarray(p)
    if p.ndim != 1 or not np.issubdtype(p.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D integer index array, got dtype {p.dtype} and shape {p.shape}")
    if size is not None and p.size != size:
        raise ValueError(f"{name} must have length {size}, got {p.size}")
    if not np.array_equal(np.sort(p), np.arange(p.size)):
        raise ValueError(f"{name} must be a permutation of 0..{p.size - 1}")
    return p.astype(np.intp)


@dataclass(frozen=True, eq=False)
class PermutationAction:
    r"""A representation of :math:`D_4` by permutations of the points of a grid.

    :math:`(\rho(g) f)_i = f_{\pi_g(i)}`, i.e. ``rho(g) f = f[perm(g)]``, with
    :math:`\pi_r` = ``r`` and :math:`\pi_s` = ``s``. The defining relations
    :math:`r^4 = s^2 = (sr)^2 = 1` are checked on construction.

    Parameters
    ----------
    r, s : ndarray of int, shape (size,)
        Index maps of the quarter turn and the mirror.
    """

    r: np.ndarray
    s: np.ndarray

    def __post_init__(self):
        r = _check_permutation(self.r, "r")
        s = _check_permutation(self.s, "s", r.size)
        object.__setattr__(self, "r", r)
        object.__setattr__(self, "s", s)
        ident = np.arange(r.size)
        if not np.array_equal(r[r][r][r], ident):
            raise ValueError("r must have order dividing 4 (r^4 = identity)")
        if not np.array_equal(s[s], ident):
            raise ValueError("s must be an involution (s^2 = identity)")
        if not np.array_equal(self.perm((1, 1))[self.perm((1, 1))], ident):
            raise ValueError("r and s must satisfy (s r)^2 = identity")

    @property
    def size(self) -> int:
        """Number of grid points."""
        return self.r.size

    def perm(self, g: tuple[int, int]) -> np.ndarray:
        r"""Index map :math:`\pi_g` of :math:`g = s^f r^k`: ``rho(g) f = f[perm(g)]``."""
        f, k = g
        p = np.arange(self.size)
        for _ in range(k % 4):
            p = p[self.r]  # rho(r) rho(r^j) f = f[pi_{r^j}][pi_r]
        if f % 2:
            p = p[self.s]
        return p

    def apply(self, g: tuple[int, int], f) -> np.ndarray:
        r""":math:`\rho(g) f` for ``f`` of shape (..., size)."""
        f = np.asarray(f)
        if f.shape[-1:] != (self.size,):
            raise ValueError(f"f must have last dimension {self.size}, got shape {f.shape}")
        return f[..., self.perm(g)]

    def matrix(self, g: tuple[int, int]) -> sp.csr_array:
        r"""The permutation matrix :math:`\rho(g)` (sparse)."""
        p = self.perm(g)
        return sp.csr_array((np.ones(self.size), (np.arange(self.size), p)), shape=(self.size, self.size))

    def fixed_points(self, g: tuple[int, int]) -> int:
        """Number of grid points that ``g`` leaves in place (the character of the permutation representation)."""
        return int(np.sum(self.perm(g) == np.arange(self.size)))


def image_action(n: int) -> PermutationAction:
    """:math:`D_4` acting on flattened ``n x n`` images (row 0 at the top): r = ``numpy.rot90``, s = mirror ``x -> -x``."""
    n = check_int(n, "n", minimum=1)
    idx = np.arange(n * n).reshape(n, n)
    return PermutationAction(np.rot90(idx).ravel(), idx[:, ::-1].ravel())


def sinogram_action(n_angles: int, n_detectors: int) -> PermutationAction:
    r""":math:`D_4` acting on flattened sinograms (rows: angles :math:`j\pi/n_\theta`, columns: symmetric bins).

    Requires an even number of angles (the quarter turn maps angle ``j`` to
    ``j + n_angles/2``); the formulas are in the module docstring.
    """
    n_angles = check_int(n_angles, "n_angles", minimum=2)
    n_detectors = check_int(n_detectors, "n_detectors", minimum=1)
    if n_angles % 2:
        raise ValueError(f"n_angles must be even for the quarter-turn symmetry, got {n_angles}")
    half = n_angles // 2
    idx = np.arange(n_angles * n_detectors).reshape(n_angles, n_detectors)
    r = np.concatenate([idx[half:, ::-1], idx[:half, :]], axis=0)
    s = np.concatenate([idx[:1, ::-1], idx[:0:-1, :]], axis=0)
    return PermutationAction(r.ravel(), s.ravel())


def isotypic_dimensions(action: PermutationAction) -> dict[str, int]:
    r"""Dimension of each block from the characters: :math:`\dim = \frac{d_\chi}{8}\sum_g \chi(g)\,\mathrm{fix}(g)`.

    For ``E1`` and ``E2`` this is the multiplicity of :math:`E` (each copy has it).
    """
    fix = np.array([action.fixed_points(g) for g in GROUP_ELEMENTS], dtype=float)
    out = {}
    for name in BLOCKS:
        chi = CHARACTERS[BLOCK_IRREP[name]]
        out[name] = int(round(float(chi @ fix) / 8))  # d_chi/8 * (chi . fix) / d_chi for each copy of E
    return out


def _projector_columns(action: PermutationAction, block: str, q: int) -> np.ndarray:
    """The projector of ``block`` (A1..B2 or E1) applied to the unit vector at grid point ``q`` (dense)."""
    e = np.zeros(action.size)
    e[q] = 1.0
    if block == "E1":
        # (1/4)(I - rho(r^2))(I + rho(s)) e_q
        terms = {(0, 0): 1.0, (0, 2): -1.0, (1, 0): 1.0, (1, 2): -1.0}
        return sum(c * e[action.perm(g)] for g, c in terms.items()) / 4
    chi = CHARACTERS[block]
    return sum(c * e[action.perm(g)] for g, c in zip(GROUP_ELEMENTS, chi)) / 8


@dataclass(frozen=True, eq=False)
class SymmetryBasis:
    r"""An orthonormal basis adapted to :math:`D_4`, as a sparse matrix.

    Attributes
    ----------
    matrix : scipy.sparse.csc_array, shape (size, size)
        Columns :math:`q_i`, orthonormal in the weighted inner product
        (:math:`Q^\top W Q = I`), grouped by block in the order of :data:`BLOCKS`.
        Each column lives on one orbit (at most 8 nonzero entries). The columns of
        ``E2`` are the quarter turns of those of ``E1``, in the same order.
    blocks : dict
        Block name -> ``slice`` of its columns.
    weights : ndarray, shape (size,)
        The weights (cell sizes) of the inner product.
    """

    matrix: sp.csc_array
    blocks: dict
    weights: np.ndarray

    @property
    def size(self) -> int:
        """Dimension of the space."""
        return self.matrix.shape[0]

    def block(self, name: str) -> sp.csc_array:
        """The columns of one block."""
        if name not in self.blocks:
            raise ValueError(f"name must be one of {', '.join(map(repr, BLOCKS))}; got {name!r}")
        return self.matrix[:, self.blocks[name]]

    def dimension(self, name: str) -> int:
        """Number of columns of one block."""
        sl = self.blocks[name]
        return sl.stop - sl.start


def symmetry_basis(action: PermutationAction, weights) -> SymmetryBasis:
    r"""Orthonormal bases of the six blocks of a space on which :math:`D_4` acts by permutations.

    For each orbit, represented by its smallest index :math:`p`, the projector of
    each one-dimensional irrep is applied to :math:`e_p` (the result is zero when
    the irrep does not occur on the orbit), and the :math:`E_1` projector to the
    unit vectors of the orbit's points in the order of :data:`GROUP_ELEMENTS`,
    followed by Gram-Schmidt (an orbit carries :math:`E_1` at most twice). The
    vectors are normalised, their first nonzero entry is positive, and columns are
    ordered by orbit, then by their index within the orbit. ``E2`` is
    :math:`\rho(r)` applied to ``E1``. Orbits with the same stabiliser have the
    same local vectors, which are computed once per stabiliser.

    Parameters
    ----------
    action : PermutationAction
    weights : array_like, shape (size,)
        Positive weights, invariant under the action (checked), so that every
        :math:`\rho(g)` is orthogonal in the weighted inner product.
    """
    if not isinstance(action, PermutationAction):
        raise ValueError(f"action must be a PermutationAction, got {type(action).__name__}")
    size = action.size
    weights = as_array(weights, "weights", shape=(size,), positive=True)
    for g in GROUP_ELEMENTS:
        if not np.array_equal(weights[action.perm(g)], weights):
            raise ValueError("weights must be invariant under the group action")

    orbit = np.stack([action.perm(g) for g in GROUP_ELEMENTS], axis=1)  # orbit[p, j] = pi_{g_j}(p)
    reps = np.flatnonzero(orbit.min(axis=1) == np.arange(size))
    slots = orbit[reps]
    # stabiliser pattern: slot j -> first slot with the same point
    sig = np.tile(np.arange(8), (reps.size, 1))
    for j in range(8):
        for i in range(j - 1, -1, -1):
            same = slots[:, j] == slots[:, i]
            sig[same, j] = i
    patterns, which = np.unique(sig, axis=0, return_inverse=True)
    which = which.ravel()

    parts = {b: {"rep": [], "sub": [], "rows": [], "vals": []} for b in BLOCKS[:5]}
    for pi, pattern in enumerate(patterns):
        members = reps[which == pi]
        uniq = np.flatnonzero(pattern == np.arange(8))  # slots holding distinct points
        example = members[0]
        pts = orbit[example, uniq]
        for block in BLOCKS[:5]:
            starts = pts[:1] if block != "E1" else pts
            local = []
            for q in starts:
                v = _projector_columns(action, block, int(q))
                w = v[pts]
                if not np.allclose(np.delete(v, pts), 0.0):  # pragma: no cover - a bug, not bad input
                    raise RuntimeError("a projected unit vector left its orbit")
                for b in local:
                    w = w - (b @ w) * b
                nrm = np.linalg.norm(w)
                if nrm > 1e-9:
                    w = w / nrm
                    w = w * np.sign(w[np.flatnonzero(np.abs(w) > 1e-12)[0]])
                    local.append(w)
            rows_all = orbit[members][:, uniq]  # (n_members, L)
            for sub, w in enumerate(local):
                nz = np.flatnonzero(np.abs(w) > 1e-12)
                part = parts[block]
                part["rep"].append(members)
                part["sub"].append(np.full(members.size, sub))
                part["rows"].append(rows_all[:, nz])
                part["vals"].append(np.broadcast_to(w[nz], (members.size, nz.size)))

    dims = isotypic_dimensions(action)
    columns, blocks, start = [], {}, 0
    for block in BLOCKS[:5]:
        part = parts[block]
        if part["rep"]:
            rep, sub = np.concatenate(part["rep"]), np.concatenate(part["sub"])
            order = np.lexsort((sub, rep))
            rank = np.empty_like(order)
            rank[order] = np.arange(order.size)
            rows, cols, vals = [], [], []
            offset = 0
            for r_, v_ in zip(part["rows"], part["vals"]):
                k = r_.shape[0]
                c = rank[offset:offset + k]
                rows.append(r_.ravel())
                cols.append(np.repeat(c, r_.shape[1]))
                vals.append(np.asarray(v_).ravel())
                offset += k
            Q = sp.csc_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(size, rep.size))
        else:
            Q = sp.csc_array((size, 0))
        if Q.shape[1] != dims[block]:  # pragma: no cover - a bug, not bad input
            raise RuntimeError(f"block {block}: {Q.shape[1]} basis vectors, the characters say {dims[block]}")
        columns.append(Q)
        blocks[block] = slice(start, start + Q.shape[1])
        start += Q.shape[1]
    E1 = columns[-1]
    columns.append(sp.csc_array(sp.csr_array(E1)[action.r, :]))  # E2 = rho(r) E1: (rho(r) v)_i = v_{pi_r(i)}
    blocks["E2"] = slice(start, start + E1.shape[1])
    Q = sp.hstack(columns, format="csc") / np.sqrt(weights)[:, None]
    Q = sp.csc_array(Q)
    if Q.shape[1] != size:  # pragma: no cover - a bug, not bad input
        raise RuntimeError(f"the blocks have {Q.shape[1]} columns in all, the space has dimension {size}")
    return SymmetryBasis(Q, blocks, weights)


def _norm2_bound(D) -> float:
    r"""Upper bound :math:`\sqrt{\|D\|_1\|D\|_\infty} \ge \|D\|_2` of a sparse matrix."""
    A = abs(sp.csr_array(D))
    if A.nnz == 0:
        return 0.0
    return float(np.sqrt(A.sum(axis=0).max() * A.sum(axis=1).max()))


def _largest_singular_value_lower_bound(M, iterations: int = 30) -> float:
    """A lower bound of s_1: ||M x|| / ||x|| after power iterations on M^T M from the constant vector."""
    x = np.ones(M.shape[1])
    for _ in range(iterations):
        x = M.T @ (M @ x)
        nrm = np.linalg.norm(x)
        if nrm == 0:
            return 0.0
        x /= nrm
    return float(np.linalg.norm(M @ x))


def commutation_defect(M, action_x: PermutationAction, action_y: PermutationAction, weights_x, weights_y) -> float:
    r"""How far a matrix is from commuting with the group action, relative to its norm.

    Returns an upper bound of

    .. math:: \delta = \max_{g \in \{r, s\}} \|\rho_Y(g)\tilde M - \tilde M\rho_X(g)\|_2 \,/\, s_1,
              \qquad \tilde M = W_Y^{1/2} M W_X^{-1/2},

    using :math:`\|D\|_2 \le \sqrt{\|D\|_1\|D\|_\infty}` and a lower bound of
    :math:`s_1` from power iteration. Every group element is a word of at most 3
    generators, so :math:`\tilde M` is within :math:`1.5\,\delta s_1` of its
    group average, and the block SVD is the exact SVD of a matrix within
    :math:`3\,\delta s_1` of :math:`\tilde M` (the off-block part, and the
    :math:`E_2` block replaced by the :math:`E_1` block). Zero in exact arithmetic
    for an equivariant matrix; about 1e-14 for the ray-length Radon matrix.
    """
    M = sp.csr_array(M)
    if M.shape != (action_y.size, action_x.size):
        raise ValueError(f"M must have shape ({action_y.size}, {action_x.size}), got {M.shape}")
    wx = as_array(weights_x, "weights_x", shape=(action_x.size,), positive=True)
    wy = as_array(weights_y, "weights_y", shape=(action_y.size,), positive=True)
    Mt = sp.csr_array(sp.diags_array(np.sqrt(wy)) @ M @ sp.diags_array(1 / np.sqrt(wx)))
    s1 = _largest_singular_value_lower_bound(Mt)
    if s1 == 0:
        return 0.0
    worst = 0.0
    Mc = sp.csc_array(Mt)
    for g in ((0, 1), (1, 0)):
        left = Mt[action_y.perm(g), :]                            # rho_Y(g) M: row i is row pi_g(i)
        right = sp.csr_array(Mc[:, np.argsort(action_x.perm(g))])  # M rho_X(g): column pi_g(i) is column i
        worst = max(worst, _norm2_bound(left - right))
    return worst / s1


def block_matrix(M, basis_x: SymmetryBasis, basis_y: SymmetryBasis, block: str) -> np.ndarray:
    r"""The block :math:`B_\beta = Q_{Y,\beta}^\top W_Y M Q_{X,\beta}` of an equivariant matrix, dense.

    Its SVD :math:`B = P\Sigma Z^\top` gives singular triples of the operator:
    :math:`u = Q_{X,\beta} z`, :math:`v = Q_{Y,\beta} p`, because :math:`M` maps the
    block's subspace of :math:`X` into that of :math:`Y`.
    """
    if block not in BLOCKS:
        raise ValueError(f"block must be one of {', '.join(map(repr, BLOCKS))}; got {block!r}")
    M = sp.csr_array(M)
    Qx = basis_x.block(block)
    Qy = sp.csc_array(basis_y.block(block) * basis_y.weights[:, None])
    C = sp.csc_array(M @ Qx)
    B = Qy.T @ C
    return B.toarray(order="F") if sp.issparse(B) else np.asfortranarray(B)


def block_table(svd) -> list[dict]:
    r"""Per block: its representation, its size and its share of the spectrum.

    Parameters
    ----------
    svd : learnreg.operators.FactoredSVD
        A singular system computed by symmetry blocks.

    Returns
    -------
    list of dict
        One row per block (``A1, A2, B1, B2, E1, E2``) with keys ``block``,
        ``irrep``, ``dim_x`` and ``dim_y`` (the block's size: columns and rows),
        ``n_values`` (its singular values), ``share`` (their fraction of all
        singular values), ``energy_share`` (its fraction of
        :math:`\sum_k s_k^2 = \|A\|_{HS}^2`), ``s_max`` (its largest singular
        value) and ``leading`` (how many of the leading :math:`\min(100, r)`
        singular values are in the block). ``E1`` and ``E2`` carry the same
        values.
    """
    blocks = getattr(svd, "blocks", None)
    if blocks is None:
        raise ValueError("svd must be a singular system computed by symmetry blocks (a FactoredSVD)")
    r = svd.rank
    total = float(np.sum(svd.s**2))
    lead = min(100, r)
    rows = []
    for blk in blocks:
        vals = svd.s[blk.positions]
        rows.append({
            "block": blk.name,
            "irrep": BLOCK_IRREP[blk.name],
            "dim_x": int(blk.Wx.shape[0]),
            "dim_y": int(blk.Wy.shape[0]),
            "n_values": int(vals.size),
            "share": vals.size / r,
            "energy_share": float(np.sum(vals**2)) / total,
            "s_max": float(vals.max()) if vals.size else 0.0,
            "leading": int(np.sum(blk.positions < lead)),
        })
    return rows
