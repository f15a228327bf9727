"""One contract, every operator: the parametrised tests every forward operator passes."""

from __future__ import annotations

import numpy as np
import pytest

from learnreg.data import make_rng
from learnreg.operators import (
    Integration,
    PeriodicConvolution,
    PeriodicIntegration,
    Radon,
    _weighted_svd,
    dot_test,
    make_operator,
    pixel_grid,
)

# (factory, coarse n, fine n): two resolutions per operator
CASES = {
    "integration": (lambda n: Integration(n), 64, 128),
    "convolution": (lambda n: PeriodicConvolution(n, sigma=0.03), 64, 128),
    "periodic_integration": (lambda n: PeriodicIntegration(n), 64, 128),
    "radon": (lambda n: Radon(n), 16, 32),
}
OPS = [(name, res) for name in CASES for res in ("coarse", "fine")]


def _op(name, res):
    factory, coarse, fine = CASES[name]
    return factory(coarse if res == "coarse" else fine)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("name,res", OPS)
def test_adjoint_dot_test(name, res):
    op = _op(name, res)
    assert dot_test(op, make_rng(1), n_trials=5) < 1e-12


@pytest.mark.parametrize("name,res", OPS)
def test_apply_and_adjoint_agree_with_the_matrix(name, res):
    op = _op(name, res)
    rng = make_rng(2)
    X = rng.standard_normal((3, op.shape[1]))
    Y = rng.standard_normal((3, op.shape[0]))
    M = op.matrix
    np.testing.assert_allclose(op.apply(X), X @ M.T, atol=1e-12 * np.abs(M).sum())
    expected = (Y * op.weights_y) @ M / op.weights_x
    np.testing.assert_allclose(op.adjoint(Y), expected, atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("name,res", OPS)
def test_svd_reconstructs_the_matrix(name, res):
    op = _op(name, res)
    S = op.svd()
    M = op.matrix
    rec = (S.V * S.s) @ (S.U.T * op.weights_x)
    assert np.abs(rec - M).max() <= 1e-12 * max(1.0, np.abs(M).max()) * max(op.shape)


@pytest.mark.parametrize("name,res", OPS)
def test_singular_vectors_are_orthonormal(name, res):
    op = _op(name, res)
    S = op.svd()
    I = np.eye(S.rank)
    assert np.abs(S.U.T @ (S.U * op.weights_x[:, None]) - I).max() < 1e-10
    assert np.abs(S.V.T @ (S.V * op.weights_y[:, None]) - I).max() < 1e-10


@pytest.mark.parametrize("name,res", OPS)
def test_singular_triples_satisfy_both_equations(name, res):
    op = _op(name, res)
    S = op.svd()
    scale = S.s[0]
    assert np.abs(op.apply(S.U.T).T - S.V * S.s).max() < 1e-11 * scale * np.abs(S.V).max()
    assert np.abs(op.adjoint(S.V.T).T - S.U * S.s).max() < 1e-11 * scale * np.abs(S.U).max()
    assert np.all(np.diff(S.s) <= 1e-14 * scale) and np.all(S.s > 0)


@pytest.mark.parametrize("name,res", OPS)
def test_norm_is_the_largest_singular_value(name, res):
    op = _op(name, res)
    # independent estimate: spectral norm of the weighted matrix W_Y^1/2 M W_X^-1/2
    Mt = np.sqrt(op.weights_y)[:, None] * op.matrix / np.sqrt(op.weights_x)[None, :]
    assert op.norm() == pytest.approx(np.linalg.norm(Mt, 2), rel=1e-12)


@pytest.mark.parametrize("name", ["integration", "convolution", "periodic_integration"])
def test_closed_form_svd_matches_lapack(name):
    op = _op(name, "coarse")
    closed = op.svd(method="closed_form")
    s_num, U_num, _ = _weighted_svd(op.matrix, op.weights_x, op.weights_y)
    # compare the singular values LAPACK resolves (above 1e-12 s_1)
    r = int(np.sum(s_num > 1e-12 * s_num[0]))
    np.testing.assert_allclose(closed.s[:r], s_num[:r], rtol=1e-10, atol=1e-14)
    if name == "integration":  # simple singular values: vectors agree up to the fixed sign convention
        np.testing.assert_allclose(closed.U, U_num, atol=1e-9)


@pytest.mark.parametrize("name", list(CASES))
def test_leading_singular_values_agree_across_resolutions(name):
    coarse, fine = _op(name, "coarse"), _op(name, "fine")
    s1, s2 = coarse.svd().s[:8], fine.svd().s[:8]
    # discretisation error of the leading singular values: O(1/n) for integration
    assert np.max(np.abs(s1 - s2) / s2) < 2.0 / coarse.n


def test_integration_singular_values_approach_the_continuum():
    """s_k (k - 1/2) pi = (1 + 1/(2n)) x / sin(x), x = (k - 1/2) pi / (2n + 1): the offset is 1/(2n) + O(k^2/n^2)."""
    k = np.arange(1, 11)
    for n in (64, 256, 1024):
        s = Integration(n).svd().s[:10]
        rel = s * (k - 0.5) * np.pi - 1
        x = (k - 0.5) * np.pi / (2 * n + 1)
        two_terms = (1 + 1 / (2 * n)) * (1 + x**2 / 6) - 1
        next_term = (1 + 1 / (2 * n)) * 7 * x**4 / 360
        assert np.all(np.abs(rel - two_terms) <= 1.01 * next_term + 1e-13)
    s = Integration(4096).svd().s[:10]
    assert np.abs(s * (k - 0.5) * np.pi - 1).max() < 2e-4


def test_integration_singular_functions_agree_across_resolutions():
    """u_k at n=64 equals the cell average of u_k at n=1024 up to O(k/n).

    The discrete u_k has frequency (k - 1/2) pi * 2n/(2n+1), so its phase at t = 1
    is off by about (k - 1/2) pi / (2n); the L2 distance is below that.
    """
    n = 64
    coarse, fine = Integration(n).svd(), Integration(16 * n).svd()
    for k in range(1, 6):
        avg = fine.U[:, k - 1].reshape(n, 16).mean(axis=1)
        err = np.sqrt(np.sum((coarse.U[:, k - 1] - avg) ** 2) / n)
        assert err < (k - 0.5) * np.pi / (2 * n)


def test_radon_leading_singular_vector_agrees_across_resolutions():
    u16, u32 = Radon(16).svd().U[:, 0], Radon(32).svd().U[:, 0]
    avg = u32.reshape(16, 2, 16, 2).mean(axis=(1, 3)).ravel()
    h2 = (2 / 16) ** 2
    assert np.sqrt(h2 * np.sum((u16 - avg) ** 2)) < 0.05


def test_radon_line_integral_of_the_unit_disc():
    """A ray through the centre of the unit disc has length 2 (up to the pixelation)."""
    n = 64
    X, Y = pixel_grid(n)
    disc = (X**2 + Y**2 <= 1).astype(float)
    op = Radon(n)
    sino = op.apply(disc)
    centre = sino[:, op.n_detectors // 2 - 1 : op.n_detectors // 2 + 1].mean()
    assert abs(centre - 2.0) < 0.1
    # integral over t of each projection = integral of the image, up to the
    # midpoint-rule error of sampling rays at bin centres (exact at 0 and 90 degrees)
    mass = sino.sum(axis=1) * op.h
    np.testing.assert_allclose(mass[[0, n // 2]], disc.sum() * op.h**2, rtol=1e-12)
    np.testing.assert_allclose(mass, disc.sum() * op.h**2, rtol=op.h / 10)


def test_svd_is_deterministic_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path))
    a = Radon(16).svd()
    assert len(list(tmp_path.glob("radon-*.npz"))) == 1
    b = Radon(16).svd()
    np.testing.assert_array_equal(a.U, b.U)
    np.testing.assert_array_equal(a.s, b.s)


def test_periodic_integration_null_space_is_constants():
    op = PeriodicIntegration(32)
    np.testing.assert_allclose(op.apply(np.ones(32)), 0, atol=1e-14)
    assert op.svd().rank == 31


def test_images_and_flat_vectors_are_both_accepted():
    op = Radon(16)
    img = make_rng(3).standard_normal((2, 16, 16))
    sino = op.apply(img)
    assert sino.shape == (2, op.n_angles, op.n_detectors)
    np.testing.assert_allclose(op.apply(img.reshape(2, -1)), sino.reshape(2, -1))
    assert op.adjoint(sino).shape == (2, 16, 16)


@pytest.mark.parametrize(
    "call",
    [
        lambda: Integration(1),
        lambda: Integration(3.5),
        lambda: Integration(-4),
        lambda: PeriodicConvolution(32, sigma=-0.1),
        lambda: PeriodicConvolution(32, sigma=float("nan")),
        lambda: Radon(16, n_angles=0),
        lambda: make_operator("fourier", 16),
        lambda: Integration(8).apply(np.ones(7)),
        lambda: Integration(8).apply(np.full(8, np.nan)),
        lambda: Integration(8).adjoint("abc"),
        lambda: Integration(8).svd(method="qr"),
        lambda: Radon(16).svd(method="closed_form"),
        lambda: Integration(8).svd().coefficients_x(np.ones(9)),
        lambda: Integration(8).svd().truncate(0),
        lambda: dot_test(Integration(8), rng=0),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_dense_svd_size_guard():
    op = Radon(100)
    with pytest.raises(ValueError, match="too large"):
        op.svd(method="numerical", cache=False)


def test_blocked_svd_size_guard():
    """The largest symmetry block of Radon(130) has 130^2/4 = 4225 columns, beyond the limit of 4096."""
    with pytest.raises(ValueError, match="4225 columns.*max_blocked_svd = 4096"):
        Radon(130).svd(cache=False)
