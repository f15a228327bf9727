"""The symmetry of the square and the Radon SVD by symmetry blocks, against the dense SVD."""

from __future__ import annotations

import math
import warnings
from functools import cached_property

import numpy as np
import pytest

from learnreg import operators as ops
from learnreg import symmetry as sym
from learnreg.cache import CacheWarning, cache_path
from learnreg.data import make_rng
from learnreg.operators import SVD, FactoredSVD, Integration, Radon, pixel_grid


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path / "cache"))


#: Grids compared with the dense SVD: the book's default at n = 8, 16, 32; an odd n (a centre pixel and
#: orbits of 4 on the axes), with the bins' parity matching; more angles than pixels per side.
GRIDS = {8: dict(n=8), 16: dict(n=16), 32: dict(n=32), "odd": dict(n=9, n_angles=10, n_detectors=13),
         "angles": dict(n=12, n_angles=24, n_detectors=20)}


@pytest.fixture(scope="module")
def pairs():
    """Blocked and dense SVDs of each grid in GRIDS (computed once, without the cache)."""
    out = {}
    for key, kw in GRIDS.items():
        op = Radon(**kw)
        out[key] = (op, op.svd(method="symmetry", cache=False), op.svd(method="numerical", cache=False))
    return out


ELEMENTS = sym.GROUP_ELEMENTS


# ---------------------------------------------------------------------------
# the group action, derived independently from the geometry
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [4, 5, 8])
def test_image_action_is_the_quarter_turn_and_the_mirror_of_the_plane(n):
    """(r f)(p) = f(r^-1 p) with r^-1 (x, y) = (y, -x); (s f)(x, y) = f(-x, y): found from pixel centres."""
    X, Y = pixel_grid(n)
    centres = np.stack([X.ravel(), Y.ravel()], axis=1)

    def index_of(points):
        d = np.abs(points[:, None, :] - centres[None, :, :]).sum(axis=2)
        assert np.all(d.min(axis=1) < 1e-12)
        return d.argmin(axis=1)

    act = sym.image_action(n)
    np.testing.assert_array_equal(act.perm((0, 1)), index_of(np.stack([centres[:, 1], -centres[:, 0]], axis=1)))
    np.testing.assert_array_equal(act.perm((1, 0)), index_of(np.stack([-centres[:, 0], centres[:, 1]], axis=1)))


@pytest.mark.parametrize("n_angles, n_detectors", [(8, 6), (12, 7), (2, 1)])
def test_sinogram_action_follows_the_lines(n_angles, n_detectors):
    """r maps the line (theta, t) to (theta - pi/2, t), s to (pi - theta, t); angles wrap with theta + pi = (theta, -t)."""
    j, b = np.meshgrid(np.arange(n_angles), np.arange(n_detectors), indexing="ij")
    theta = (j * np.pi / n_angles).ravel()
    t = (b - (n_detectors - 1) / 2).ravel()  # in units of the bin width

    def index_of(theta2, t2):
        wrap = (theta2 < -1e-12) | (theta2 > np.pi - 1e-12)
        theta2 = np.where(wrap, np.mod(theta2, np.pi), theta2)
        t2 = np.where(wrap, -t2, t2)
        j2 = np.rint(theta2 / (np.pi / n_angles)).astype(int)
        b2 = np.rint(t2 + (n_detectors - 1) / 2).astype(int)
        assert np.allclose(j2 * np.pi / n_angles, theta2) and np.all((b2 >= 0) & (b2 < n_detectors))
        return j2 * n_detectors + b2

    act = sym.sinogram_action(n_angles, n_detectors)
    np.testing.assert_array_equal(act.perm((0, 1)), index_of(theta - np.pi / 2, t))
    np.testing.assert_array_equal(act.perm((1, 0)), index_of(np.pi - theta, t))


@pytest.mark.parametrize("action", [sym.image_action(6), sym.image_action(7), sym.sinogram_action(10, 15)])
def test_actions_satisfy_the_relations_of_d4(action):
    ident = np.arange(action.size)
    r = lambda k: action.perm((0, k))  # noqa: E731
    assert not np.array_equal(r(1), ident) and not np.array_equal(r(2), ident)
    np.testing.assert_array_equal(r(4), ident)
    f = make_rng(0).standard_normal(action.size)
    # s r s = r^-1, as operators on vectors
    srs = action.apply((1, 0), action.apply((0, 1), action.apply((1, 0), f)))
    np.testing.assert_array_equal(srs, action.apply((0, 3), f))
    # rho is a homomorphism: rho(s r^k) = rho(s) rho(r)^k
    for k in range(4):
        np.testing.assert_array_equal(action.apply((1, k), f), action.apply((1, 0), action.apply((0, k), f)))


def test_actions_reject_what_is_not_d4():
    idx = np.arange(9)
    with pytest.raises(ValueError, match="r must have order"):
        sym.PermutationAction(np.r_[[1, 2, 0], idx[3:]], idx)  # a 3-cycle: order 3
    with pytest.raises(ValueError, match="s must be a permutation"):
        sym.PermutationAction(idx, np.zeros(9, dtype=int))
    with pytest.raises(ValueError, match=r"\(s r\)\^2"):  # r of order 4 and a mirror that does not reverse it
        sym.PermutationAction(np.r_[[1, 2, 3, 0], idx[4:]], np.r_[[1, 0], idx[2:]])
    with pytest.raises(ValueError, match="n_angles must be even"):
        sym.sinogram_action(7, 10)
    with pytest.raises(ValueError, match="n_angles"):
        sym.sinogram_action(2.0, 10)


@pytest.mark.parametrize("kw", [dict(n=8), dict(n=16), dict(n=32), dict(n=16, n_angles=32, n_detectors=30),
                                dict(n=9, n_angles=6, n_detectors=13)])
def test_the_radon_matrix_commutes_with_every_group_element(kw):
    op = Radon(**kw)
    ax, ay = sym.image_action(op.n), sym.sinogram_action(op.n_angles, op.n_detectors)
    F = make_rng(1).standard_normal((3, op.shape[1]))
    AF = op.apply(F)
    for g in ELEMENTS:
        err = np.abs(op.apply(ax.apply(g, F)) - ay.apply(g, AF)).max()
        assert err < 1e-13 * np.abs(AF).max(), f"g = s^{g[0]} r^{g[1]}: {err:.1e}"
    assert sym.commutation_defect(op.sparse_matrix, ax, ay, op.weights_x, op.weights_y) < 1e-13


def test_rays_along_pixel_edges_break_the_symmetry():
    """n = 10 with 15 bins: the rays at 0 and 90 degrees run along pixel edges and are given to one side."""
    op = Radon(10)
    ax, ay = sym.image_action(10), sym.sinogram_action(10, 15)
    assert sym.commutation_defect(op.sparse_matrix, ax, ay, op.weights_x, op.weights_y) > 0.1


# ---------------------------------------------------------------------------
# the symmetry-adapted bases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [6, 7, 8, 16])
def test_image_bases_are_orthonormal_sparse_and_in_their_blocks(n):
    op = Radon(n, n_angles=2 * n, n_detectors=n + 2)
    act = sym.image_action(n)
    basis = sym.symmetry_basis(act, op.weights_x)
    _check_basis(act, basis, op.weights_x)
    if n % 2 == 0:  # m = n/2: orbits of 8 off the diagonals, of 4 on them
        m = n // 2
        expected = {"A1": m * (m + 1) // 2, "A2": m * (m - 1) // 2, "B1": m * (m - 1) // 2,
                    "B2": m * (m + 1) // 2, "E1": m * m, "E2": m * m}
        assert {k: basis.dimension(k) for k in sym.BLOCKS} == expected


def _check_basis(act, basis, weights):
    """Orthonormal in the weights, one orbit per column, and every column in its block."""
    Q = basis.matrix.toarray()
    np.testing.assert_allclose(Q.T @ (Q * weights[:, None]), np.eye(act.size), atol=1e-13)
    assert np.diff(basis.matrix.indptr).max() <= 8
    chi = {name: sym.CHARACTERS[name] for name in ("A1", "A2", "B1", "B2")}
    for name, sl in basis.blocks.items():
        B = Q[:, sl]
        if name in chi:  # rho(r) q = chi(r) q, rho(s) q = chi(s) q
            np.testing.assert_array_equal(act.apply((0, 1), B.T).T, chi[name][1] * B)
            np.testing.assert_array_equal(act.apply((1, 0), B.T).T, chi[name][4] * B)
        elif name == "E1":  # rho(r^2) q = -q, rho(s) q = q
            np.testing.assert_array_equal(act.apply((0, 2), B.T).T, -B)
            np.testing.assert_array_equal(act.apply((1, 0), B.T).T, B)
        else:  # E2 = rho(r) E1
            np.testing.assert_array_equal(B, act.apply((0, 1), Q[:, basis.blocks["E1"]].T).T)
    assert {k: basis.dimension(k) for k in sym.BLOCKS} == sym.isotypic_dimensions(act)


@pytest.mark.parametrize("n_angles, n_detectors", [(12, 18), (12, 17), (2, 1)])
def test_sinogram_bases_are_orthonormal_sparse_and_in_their_blocks(n_angles, n_detectors):
    op = Radon(8, n_angles=n_angles, n_detectors=n_detectors)
    act = sym.sinogram_action(n_angles, n_detectors)
    _check_basis(act, sym.symmetry_basis(act, op.weights_y), op.weights_y)


def test_bases_reject_weights_the_group_does_not_preserve():
    w = np.ones(16)
    w[0] = 2.0
    with pytest.raises(ValueError, match="weights must be invariant"):
        sym.symmetry_basis(sym.image_action(4), w)
    with pytest.raises(ValueError, match="action"):
        sym.symmetry_basis("rot90", np.ones(16))


@pytest.mark.parametrize("n", [8, 16])
def test_the_matrix_is_block_diagonal_and_its_two_e_blocks_are_equal(n):
    op = Radon(n)
    bx, by = op.symmetry_bases
    Mt = (by.matrix.T @ (op.weights_y[:, None] * (op.sparse_matrix @ bx.matrix))).toarray()
    mask = np.zeros(Mt.shape, dtype=bool)
    for name in sym.BLOCKS:
        mask[by.blocks[name], bx.blocks[name]] = True
    scale = np.abs(Mt).max()
    assert np.abs(Mt[~mask]).max() < 1e-14 * scale * n
    E1 = sym.block_matrix(op.sparse_matrix, bx, by, "E1")
    E2 = sym.block_matrix(op.sparse_matrix, bx, by, "E2")
    assert np.abs(E1 - E2).max() < 1e-14 * scale * n
    np.testing.assert_allclose(E1, Mt[by.blocks["E1"], bx.blocks["E1"]], atol=1e-15 * scale * n)


# ---------------------------------------------------------------------------
# blocked against dense
# ---------------------------------------------------------------------------


def _clusters(s, rtol=1e-10):
    groups, start = [], 0
    for i in range(1, s.size + 1):
        if i == s.size or s[i - 1] - s[i] > rtol * s[0]:
            groups.append(np.arange(start, i))
            start = i
    return groups


def _residuals(op, S, groups):
    """Per cluster: max(||M~ U_c - V_c S_c||_2, ||M~^T V_c - U_c S_c||_2) in orthonormal coordinates."""
    sx, sy = np.sqrt(op.weights_x), np.sqrt(op.weights_y)
    Mt = sy[:, None] * op.matrix / sx[None, :]
    Ut, Vt = sx[:, None] * S.U, sy[:, None] * S.V
    R1, R2 = Mt @ Ut - Vt * S.s, Mt.T @ Vt - Ut * S.s
    return np.array([max(np.linalg.norm(R1[:, g], 2), np.linalg.norm(R2[:, g], 2)) for g in groups]), Ut


@pytest.mark.parametrize("n", list(GRIDS))
def test_blocked_singular_values_match_the_dense_ones(pairs, n):
    op, B, D = pairs[n]
    assert isinstance(B, FactoredSVD) and not isinstance(D, FactoredSVD)
    assert B.rank == D.rank
    assert np.abs(B.s - D.s).max() <= 1e-12 * D.s[0]
    assert np.all(np.diff(B.s) <= 0) and B.s[-1] > 0


@pytest.mark.parametrize("n", list(GRIDS))
def test_blocked_singular_subspaces_are_within_the_davis_kahan_bound(pairs, n):
    r"""For each cluster c of equal singular values, Wedin's sin-theta theorem bounds the distance of
    each computed subspace to the exact one by (its residual) / gap, where the gap separates the
    cluster from the other singular values and from 0. By the triangle inequality,
    ||sin Theta(blocked, dense)|| <= (res_blocked + res_dense) / gap."""
    op, B, D = pairs[n]
    groups = _clusters(D.s)
    res_b, Ub = _residuals(op, B, groups)
    res_d, Ud = _residuals(op, D, groups)
    slack = 1e-12 * D.s[0]  # both sets of singular values are this close to the exact ones
    bounds, dists = [], []
    for c, g in enumerate(groups):
        others = np.delete(D.s, g)
        gap = min(np.abs(others[:, None] - D.s[g][None, :]).min() if others.size else np.inf, D.s[g].min()) - slack
        assert gap > 0
        Pb, Pd = Ub[:, g], Ud[:, g]
        dist = np.linalg.norm(Pb - Pd @ (Pd.T @ Pb), 2)  # ||(I - P_dense) U_blocked||_2 = sin of the largest angle
        bound = (res_b[c] + res_d[c]) / gap
        assert dist <= 1.01 * bound + 1e-15, f"cluster {g.tolist()}: {dist:.2e} > {bound:.2e}"
        if g.size == 1:  # simple value: same vector, same sign convention; ||u_b - u_d|| <= sqrt(2) sin(theta)
            assert np.linalg.norm(Pb - Pd) <= math.sqrt(2) * (1.01 * bound) + 1e-15
        bounds.append(bound)
        dists.append(dist)
    assert np.median(bounds) < 1e-9  # the bound says something: the test is not vacuous
    assert max(res_b) < 1e-13 * D.s[0] * op.n


@pytest.mark.parametrize("n", list(GRIDS))
def test_every_e_value_is_double_with_the_quarter_turn_as_second_vector(pairs, n):
    op, B, _ = pairs[n]
    act = sym.image_action(op.n)
    e1, e2 = B.blocks[4], B.blocks[5]
    assert (e1.name, e2.name) == ("E1", "E2")
    np.testing.assert_array_equal(e2.positions, e1.positions + 1)  # the pair is adjacent, E1 first
    np.testing.assert_array_equal(B.s[e1.positions], B.s[e2.positions])
    U1, U2 = B.U[:, e1.positions], B.U[:, e2.positions]
    np.testing.assert_allclose(act.apply((0, 1), U1.T).T, U2, rtol=0, atol=1e-15 * np.abs(U1).max())
    # the first of each pair is even in x and odd under the half turn
    np.testing.assert_allclose(act.apply((1, 0), U1.T).T, U1, rtol=0, atol=1e-15 * np.abs(U1).max())
    np.testing.assert_allclose(act.apply((0, 2), U1.T).T, -U1, rtol=0, atol=1e-15 * np.abs(U1).max())
    # at these sizes no other value is repeated: the doubles are exactly the E values
    sizes = [g.size for g in _clusters(B.s)]
    assert sizes.count(2) == e1.positions.size and set(sizes) == {1, 2}


def test_two_threads_give_the_same_factors_bit_for_bit():
    """Blocks decomposed at once, each LAPACK call on one core: nothing depends on the number of threads."""
    one, two = Radon(32), Radon(32)
    one.svd_threads, two.svd_threads = 1, 2
    a, b = one.svd(cache=False).to_arrays(), two.svd(cache=False).to_arrays()
    assert set(a) == set(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_signs_follow_the_book_convention(pairs):
    op, B, _ = pairs[16]
    U = B.U
    mag = np.abs(U)
    first = np.argmax(mag >= 1e-3 * mag.max(axis=0, keepdims=True), axis=0)
    lead = U[first, np.arange(B.rank)]
    e2 = np.zeros(B.rank, dtype=bool)
    e2[B.blocks[5].positions] = True
    assert np.all(lead[~e2] > 0)  # every vector but the quarter-turned partners


# ---------------------------------------------------------------------------
# the factored container
# ---------------------------------------------------------------------------


def test_factored_interface_agrees_with_its_dense_matrices(pairs):
    op, B, _ = pairs[16]
    rng = make_rng(5)
    x = rng.standard_normal((2, 3, op.shape[1]))
    y = rng.standard_normal((4, op.shape[0]))
    c = rng.standard_normal((5, B.rank))
    U, V = B.U, B.V
    np.testing.assert_allclose(B.coefficients_x(x), (x * op.weights_x) @ U, atol=1e-13)
    np.testing.assert_allclose(B.coefficients_y(y), (y * op.weights_y) @ V, atol=1e-13)
    np.testing.assert_allclose(B.coefficients_y(y[0]), (y[0] * op.weights_y) @ V, atol=1e-13)
    np.testing.assert_allclose(B.synthesis_x(c), c @ U.T, atol=1e-11)
    np.testing.assert_allclose(B.synthesis_y(c), c @ V.T, atol=1e-11)
    np.testing.assert_array_equal(B.vectors_x([0, -1]), B.synthesis_x(np.eye(B.rank)[[0, -1]]).T)
    np.testing.assert_allclose(B.vectors_y(3)[:, 0], V[:, 3], atol=1e-14)
    assert (B.dim_x, B.dim_y) == (op.shape[1], op.shape[0])
    T = B.truncate(10)
    assert isinstance(T, FactoredSVD) and T.rank == 10
    np.testing.assert_array_equal(T.s, B.s[:10])
    np.testing.assert_allclose(T.U, U[:, :10], atol=1e-15)
    np.testing.assert_allclose(T.coefficients_x(x), B.coefficients_x(x)[..., :10], atol=1e-14)
    with pytest.raises(ValueError, match="last dimension"):
        B.coefficients_x(np.ones(op.shape[1] + 1))
    with pytest.raises(ValueError, match="k must lie"):
        B.vectors_x(B.rank)


def test_factored_and_dense_give_the_same_filtered_reconstructions(pairs):
    """sum_k g(s_k) <y, v_k> u_k depends only on the singular subspaces: both SVDs give it to rounding."""
    op, B, D = pairs[32]
    y = make_rng(6).standard_normal((3, op.shape[0]))
    g = B.s / (B.s**2 + 1e-2)  # Tikhonov
    xb = B.synthesis_x(g * B.coefficients_y(y))
    xd = D.synthesis_x(g * D.coefficients_y(y))
    np.testing.assert_allclose(xb, xd, atol=1e-11 * np.abs(xd).max())
    np.testing.assert_allclose(B.synthesis_x(B.coefficients_x(xd)), xd, atol=1e-12 * np.abs(xd).max())


def test_dense_matrices_are_refused_beyond_the_limit(monkeypatch):
    B = Radon(16).svd(cache=False)  # a fresh operator: nothing memoised, no dense matrix formed yet
    monkeypatch.setattr(ops, "MAX_DENSE_BYTES", 1000)
    with pytest.raises(ValueError, match=rf"{256 * 256 * 8} bytes.*MAX_DENSE_BYTES = 1000"):
        B.U
    with pytest.raises(ValueError, match=r"dense V"):
        B.V
    with pytest.raises(ValueError, match="2048 bytes"):
        B.truncate(1).U
    monkeypatch.setattr(ops, "MAX_DENSE_BYTES", 256 * 8)
    assert B.truncate(1).U.shape == (256, 1)
    assert B.vectors_x([0]).shape == (256, 1)  # never needs the dense matrix


def test_the_cache_stores_and_returns_the_block_factors(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path))
    stored = Radon(16).svd()
    (path,) = tmp_path.glob("radon-*.npz")
    with np.load(path) as data:
        names = set(data.files)
    assert {"s", "A1_Wx", "E1_Wy", "E2_pos"} <= names and "U" not in names and "E2_Wx" not in names
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        loaded = Radon(16).svd()
    assert isinstance(loaded, FactoredSVD) and loaded is not stored
    np.testing.assert_array_equal(loaded.s, stored.s)
    for a, b in zip(loaded.blocks, stored.blocks):
        assert a.name == b.name
        for attr in ("Wx", "Wy", "positions"):
            np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    np.testing.assert_array_equal(loaded.U, stored.U)
    key = {**Radon(16).params, "what": "svd", "method": "symmetry", "basis": sym.SYMMETRY_BASIS_VERSION}
    assert Radon(16).svd_cache_key("symmetry") == key and cache_path(key, tmp_path) == path
    arrays = stored.to_arrays()
    with np.load(path) as data:
        assert set(data.files) == set(arrays) | {"__meta__"}
        for name, arr in arrays.items():
            np.testing.assert_array_equal(data[name], arr)


# ---------------------------------------------------------------------------
# grids that break the symmetry: the dense SVD, and a message saying why
# ---------------------------------------------------------------------------


class _ShiftedDetectors(Radon):
    """Bin centres shifted by a quarter bin: not symmetric about 0."""

    @property
    def detector_positions(self):
        return super().detector_positions + self.h / 4


class _OtherAngles(Radon):
    @property
    def angles(self):
        return np.arange(self.n_angles) * np.pi / self.n_angles + 0.01


class _Perturbed(Radon):
    """A symmetric grid with one matrix entry changed by 1e-9: the matrix no longer commutes with the group."""

    def _build_matrix(self):
        M = super()._build_matrix().tolil()
        M[3, 5] += 1e-9
        return M.tocsr()


@pytest.mark.parametrize(
    "op, match",
    [
        (Radon(8, n_angles=7), "n_angles = 7 is odd"),
        (_ShiftedDetectors(8), "not symmetric about 0"),
        (_OtherAngles(8), "angles are not"),
        (Radon(10), "differ in parity"),
        (Radon(8, n_detectors=13), "differ in parity"),
        (_Perturbed(8), "commutes with the symmetry of the square only up to"),
    ],
    ids=["odd-angles", "shifted-detectors", "other-angles", "edge-rays", "odd-bins", "perturbed-matrix"],
)
def test_broken_symmetry_falls_back_to_the_dense_svd_and_says_why(op, match):
    assert op.symmetry_defect() is not None and match in op.symmetry_defect()
    with pytest.warns(sym.SymmetryWarning, match=match):
        S = op.svd(cache=False)
    assert type(S) is SVD
    reference = ops._weighted_svd(op.matrix, op.weights_x, op.weights_y)
    np.testing.assert_array_equal(S.s, reference[0])
    with pytest.raises(ValueError, match=match):
        type(op)(op.n, op.n_angles, op.n_detectors).svd(method="symmetry", cache=False)


def test_the_defect_of_a_symmetric_grid_is_rounding():
    op = Radon(16, n_angles=24, n_detectors=20)
    assert op.symmetry_defect() is None
    assert 0 <= op.equivariance_defect() < 1e-14 * 16
    with warnings.catch_warnings():
        warnings.simplefilter("error", sym.SymmetryWarning)
        assert isinstance(op.svd(cache=False), FactoredSVD)


def test_operators_without_a_symmetry_refuse_the_symmetry_method():
    with pytest.raises(ValueError, match="no symmetry-block SVD"):
        Integration(8).svd(method="symmetry")


# ---------------------------------------------------------------------------
# the per-block table
# ---------------------------------------------------------------------------


def test_block_table_reports_sizes_and_shares(pairs):
    op, B, _ = pairs[16]
    rows = sym.block_table(B)
    assert [r["block"] for r in rows] == list(sym.BLOCKS)
    assert [r["irrep"] for r in rows] == ["A1", "A2", "B1", "B2", "E", "E"]
    assert [(r["dim_x"], r["dim_y"]) for r in rows] == [(36, 60), (28, 36), (28, 48), (36, 48), (64, 96), (64, 96)]
    assert sum(r["n_values"] for r in rows) == B.rank == 256
    assert math.isclose(sum(r["share"] for r in rows), 1.0) and math.isclose(sum(r["energy_share"] for r in rows), 1.0)
    assert rows[4] | {"block": "E2"} == rows[5]
    assert rows[0]["s_max"] == B.s[0] and sum(r["leading"] for r in rows) == 100
    # energy share = ||M~ restricted to the block||_F^2 / ||M~||_F^2, computed from the matrix itself
    bx, _ = op.symmetry_bases
    sx, sy = np.sqrt(op.weights_x), np.sqrt(op.weights_y)
    Mt = sy[:, None] * op.matrix / sx[None, :]
    total = np.sum(Mt**2)
    for r in rows:
        Qt = sx[:, None] * bx.block(r["block"]).toarray()
        assert r["energy_share"] == pytest.approx(np.sum((Mt @ Qt) ** 2) / total, rel=1e-12)


def test_block_table_needs_a_blocked_svd():
    with pytest.raises(ValueError, match="FactoredSVD"):
        sym.block_table(Integration(8).svd())
