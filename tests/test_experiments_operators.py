"""Chapter 1's experiments at small sizes, and claims that fail when the implementation is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from learnreg import make_rng
from learnreg.experiments import operators as ex
from learnreg.figures import operators as figures
from learnreg.operators import Integration, PeriodicConvolution, Radon


def _ids(claims):
    return {c.id: c for c in claims}


def test_the_contract_holds_for_small_operators():
    ops = {"integration": Integration(32), "convolution": PeriodicConvolution(32), "radon": Radon(8)}
    res = ex.operator_contract(make_rng(1), ops)
    assert res.names == ("integration", "convolution", "radon")
    assert res.shapes[2] == (8 * 12, 64)
    np.testing.assert_allclose(res.s1[0], 1 / (2 * 32 * np.sin(np.pi / (2 * 65))))
    assert all(c.passed and c.verdict_only for c in res.claims())
    assert res.table().count("yes") == 12 and "NO" not in res.table()


def test_lanczos_finds_the_norm_of_a_blur_with_a_nearly_double_top_singular_value():
    op = PeriodicConvolution(64, sigma=0.02)  # s_1 = 1, s_2 = 0.992
    assert abs(ex.lanczos_norm(op, make_rng(0)) - 1.0) < 1e-12


def test_a_wrong_adjoint_fails_the_contract(monkeypatch):
    """Mutation: the adjoint of integration replaced by integration itself."""
    monkeypatch.setattr(Integration, "adjoint", lambda self, y: self.apply(y))
    claims = _ids(ex.operator_contract(make_rng(1), {"integration": Integration(32)}).claims())
    assert not claims["ch1-adjoint"].passed
    assert not claims["ch1-norm"].passed
    assert claims["ch1-svd-reconstructs"].passed  # the matrix and its SVD are still right


def test_integration_svd_matches_lapack_and_approaches_the_continuum():
    res = ex.integration_svd(n=64, ns=(16, 64, 256))
    assert res.ratios.shape == (3, 4)
    np.testing.assert_allclose(res.ratios[:, 0], [1.03164, 1.00784, 1.00195], atol=1e-5)
    assert res.continuum_deviation < 1 / 256
    assert all(c.passed for c in res.claims())
    assert "within" in res.table() and "1 + 1/(2n)" in res.table()


def test_a_closed_form_with_the_wrong_angles_fails_against_lapack(monkeypatch):
    """Mutation: theta_k = (2k-1) pi / (2n) instead of (2k-1) pi / (2n+1)."""
    def wrong(self):
        n, h = self.n, self.h
        theta = (2 * np.arange(1, n + 1) - 1) * np.pi / (2 * n)
        i = np.arange(n)[:, None]
        U, V = np.cos((i + 0.5) * theta), np.sin((i + 1.0) * theta)
        U /= np.sqrt(h * np.sum(U**2, axis=0))
        V /= np.sqrt(h * np.sum(V**2, axis=0))
        return h / (2 * np.sin(theta / 2)), U, V

    monkeypatch.setattr(Integration, "_closed_form_svd", wrong)
    claims = _ids(ex.integration_svd(n=64, ns=(16, 64)).claims())
    assert not claims["ch1-int-closed-form-s"].passed
    assert not claims["ch1-int-closed-form-u"].passed


def test_the_integration_fit_range_comes_from_the_discretisation_factor():
    res = ex.spectral_decay(n_integration=1024, n_convolution=64, radon_ns=(8, 16))
    assert res.fit_k == 159  # x/sin(x) - 1 <= 1 % for x = (k - 1/2) pi / 2049
    assert abs(res.exponent - 1) < 0.005
    fits = dict(res.alternatives)
    assert fits["log k, k <= 64"] > 1.07 and fits["log k, k <= 128"] > 1.04  # the k - 1/2 offset
    assert res.radon_exponents.shape == (2,) and np.all(res.radon_exponents > 0)
    claims = _ids(res.claims())
    assert claims["ch1-decay-integration"].passed and claims["ch1-conv-closed-form"].passed
    assert claims["ch1-decay-radon"].type == "expectation"


def test_an_integration_spectrum_without_the_half_offset_fails_the_decay_claim(monkeypatch):
    """Mutation: s_k = h / (2 sin(k pi / (2n+1))), singular values shifted by half an index."""
    original = Integration._closed_form_svd

    def shifted(self):
        s, U, V = original(self)
        k = np.arange(1, self.n + 1)
        return self.h / (2 * np.sin(k * np.pi / (2 * self.n + 1))), U, V

    monkeypatch.setattr(Integration, "_closed_form_svd", shifted)
    res = ex.spectral_decay(n_integration=1024, n_convolution=64, radon_ns=(8, 16))
    assert not _ids(res.claims())["ch1-decay-integration"].passed


def test_singular_functions_agree_across_resolutions():
    res = ex.resolution_consistency(n_coarse=32, n_fine=256, radon_ns=(8, 16, 32), radon_functions=(1,))
    assert np.all(res.distances < res.bounds)
    assert res.radon_changes.shape == (2,) and res.radon_u_distances.shape == (2, 1)
    assert res.radon_u[0].shape == (1, 8, 8)
    claims = _ids(res.claims())
    assert claims["ch1-consistency-int-u"].passed
    assert claims["ch1-consistency-radon-converges"].passed
    assert "change" in res.table()


@pytest.mark.parametrize("n", [8, 16])
def test_the_radon_spectrum_by_blocks_matches_the_dense_svd(n, tmp_path, monkeypatch):
    """Singular values from the blocks' Gram eigenvalues, leading u_k from Lanczos, against dense LAPACK."""
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path))
    spectrum = ex.radon_spectrum(n)
    dense = Radon(n).svd(method="numerical", cache=False)
    assert spectrum.s.size == dense.rank  # n = 8 has one null vector
    np.testing.assert_allclose(spectrum.s, dense.s, rtol=0, atol=1e-12 * dense.s[0])
    assert spectrum.u.shape == (ex.RADON_LEADING, n * n)
    assert spectrum.blocks[1:3] == ("E1", "E2") and not spectrum.simple(2) and spectrum.simple(1)
    for k in range(1, ex.RADON_LEADING + 1):
        if spectrum.simple(k):  # a simple value fixes u_k up to the sign, which both choose the same way
            np.testing.assert_allclose(spectrum.u[k - 1], dense.U[:, k - 1], rtol=0, atol=1e-10)
    assert np.array_equal(ex.radon_spectrum(n).s, spectrum.s)  # read back from the cache


def test_chapter_one_never_forms_the_dense_radon_singular_vectors(monkeypatch):
    """At n = 128 the dense U of the Radon SVD would take 2 GB: the spectrum and the consistency check do without."""
    from learnreg import operators

    monkeypatch.setattr(operators, "MAX_DENSE_BYTES", 0)  # any dense U or V of a factored SVD now raises
    monkeypatch.setattr(Radon, "svd", lambda self, **kw: pytest.fail("the Radon SVD was computed"))
    ex.spectral_decay(n_integration=256, n_convolution=64, radon_ns=(8, 16))
    ex.resolution_consistency(n_coarse=16, n_fine=64, radon_ns=(8, 16), radon_functions=(1, 4))


def test_a_spectrum_that_counts_the_double_values_once_fails_against_the_dense_svd(tmp_path, monkeypatch):
    """Mutation: the E2 block forgotten, so each double singular value of the quarter turn is counted once."""
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(ex, "BLOCKS", ex.BLOCKS[:5])
    spectrum = ex.radon_spectrum(8)
    assert spectrum.s.size < 64 and spectrum.s[1] != spectrum.s[2]


def test_white_noise_through_the_pseudo_inverse_grows_like_n_to_three_halves():
    res = ex.pinv_noise(make_rng(3), ns=(32, 64, 128, 256, 512), n_samples=400, n_picard=64, sum_ns=(7, 64))
    assert res.growth_se < 0.0025
    assert abs(res.growth - 1.5) < 4 * res.growth_se + 1 / (4 * 32)  # sampling error plus the -n^2 term
    assert np.all(res.deviations < 4)
    assert all(c.passed for c in res.claims())
    assert 0.5 < res.pinv_error / (1e-3 * np.sqrt(2 * 64**3 - 64**2)) < 1.5  # one sample of the noise error


def test_noise_not_scaled_with_the_cell_size_fails_the_growth_claim(monkeypatch):
    """Mutation: white noise with entries N(0, delta^2) instead of N(0, delta^2 / h)."""
    monkeypatch.setattr(ex, "white_noise", lambda w, delta, m, rng: delta * rng.standard_normal((m, len(w))))
    res = ex.pinv_noise(make_rng(3), ns=(16, 32, 64, 128, 256), n_samples=200, n_picard=64, sum_ns=(7,))
    claims = _ids(res.claims())
    assert abs(res.growth - 1.0) < 0.05
    assert not claims["ch1-pinv-growth"].passed and not claims["ch1-pinv-mc"].passed


def test_experiments_do_not_depend_on_earlier_draws():
    rng = make_rng(5)
    a = ex.pinv_noise(rng, ns=(16, 32, 64), n_samples=20, n_picard=32, sum_ns=(7,))
    rng.standard_normal(100)
    b = ex.pinv_noise(rng, ns=(16, 32, 64), n_samples=20, n_picard=32, sum_ns=(7,))
    assert np.array_equal(a.rms, b.rms) and np.array_equal(a.x, b.x)


def test_figures_draw(monkeypatch):
    decay = ex.spectral_decay(n_integration=256, n_convolution=64, radon_ns=(8, 16))
    cons = ex.resolution_consistency(n_coarse=16, n_fine=64, radon_ns=(8, 16))
    pinv = ex.pinv_noise(make_rng(0), ns=(16, 32, 64), n_samples=20, n_picard=32, sum_ns=(7,))
    for fig, n_axes in ((figures.decay(decay), 3), (figures.consistency(cons), 7), (figures.pinv_noise(pinv), 3)):
        assert isinstance(fig, Figure) and len(fig.axes) == n_axes


def test_the_panel_draws_every_operator_and_clamps_k(monkeypatch):
    monkeypatch.setattr(figures, "PANEL_RESOLUTIONS", (16, 32))
    panel = figures.singular_system_panel()
    for name in ("integration", "convolution", "radon"):
        png, text = panel.render_with_caption(operator=name, n=16, k=3)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and text.startswith(f"{name}: s_3 = ")
    _, text = panel.render_with_caption(operator="integration", n=16, k=40)
    assert "s_16" in text and "largest index" in text
    assert set(figures.PANELS) == {"singular-system"}


@pytest.mark.parametrize("call", [
    lambda: ex.operator_contract(None),
    lambda: ex.operator_contract(make_rng(0), {}),
    lambda: ex.operator_contract(make_rng(0), {"a": np.eye(3)}),
    lambda: ex.integration_svd(n=2),
    lambda: ex.integration_svd(ns=(64, 16)),
    lambda: ex.spectral_decay(radon_ns=(16,)),
    lambda: ex.spectral_decay(sigma=-1.0),
    lambda: ex.resolution_consistency(n_coarse=64, n_fine=100),
    lambda: ex.resolution_consistency(radon_ns=(8, 24)),
    lambda: ex.resolution_consistency(radon_functions=()),
    lambda: ex.pinv_noise(make_rng(0), delta=0.0),
    lambda: ex.pinv_noise(make_rng(0), ns=(16, 32)),
    lambda: ex.pinv_noise(make_rng(0), n_samples=1),
    lambda: ex.singular_values("radon"),
    lambda: ex.radon_spectrum(10),  # 15 detector bins: rays along pixel edges break the mirror symmetry
    lambda: ex.radon_spectrum(8, leading=0),
    lambda: ex.resolution_consistency(n_coarse=16, n_fine=64, radon_ns=(8, 16), radon_functions=(2,)),  # s_2 = s_3
    lambda: ex.resolution_consistency(radon_functions=(ex.RADON_LEADING + 1,)),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
