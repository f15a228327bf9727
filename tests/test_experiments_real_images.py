"""Chapter 8's experiments at small sizes, claims that fail when the implementation is wrong, and the figures."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy.integrate import quad  # noqa: E402

from learnreg import make_rng  # noqa: E402
from learnreg.experiments import real_images as ex  # noqa: E402
from learnreg.figures import real_images as figures  # noqa: E402
from learnreg.operators import Radon  # noqa: E402

# ---------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------


def test_the_fit_range_and_the_window_follow_the_stated_rules():
    assert ex.fit_range(256) == (4, 32) and ex.fit_range(4096) == (4, 512)
    assert ex.alternative_ranges(1024) == ((2, 64), (8, 256))
    lo, hi = ex.delta_window(0.5, 2.0, 1.5, 3.0, (4, 100))
    # N(delta) = (C_s^2 C_pi / delta^2)^(1/(2a+b)) is 100 at lo and 4 at hi
    assert math.isclose((4.0 * 3.0 / lo**2) ** (1 / 2.5), 100) and math.isclose((4.0 * 3.0 / hi**2) ** (1 / 2.5), 4)
    s = ex.operator("integration").svd().s
    a, C = ex.operator_order(s, (4, 32))
    # s_k = 1/((k - 1/2) pi) has local order k/(k - 1/2): between 1.016 and 1.143 on [4, 32]
    k = np.arange(4, 33)
    assert 1.016 < a < 1.143 and np.max(np.abs(C * k ** (-a) / s[3:32] - 1)) < 0.05


@pytest.mark.parametrize("call", [
    lambda: ex.delta_window(-1.0, 1.0, 2.0, 1.0, (4, 32)),
    lambda: ex.delta_window(0.25, 1.0, -0.6, 1.0, (4, 32)),
    lambda: ex.delta_window(1.0, 1.0, 2.0, 1.0, (32, 4)),
    lambda: ex.delta_window(1.0, 1.0, 2.0, 1.0, (4,)),
    lambda: ex.operator_order([1.0, 0.5, 0.3], (1, 5)),
    lambda: ex.fit_range(16),
    lambda: ex.operator("mri"),
])
def test_bad_rules_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


# ---------------------------------------------------------------------------
# 1. smoothness
# ---------------------------------------------------------------------------


def test_smoothness_of_rows_and_patches():
    res = ex.smoothness(make_rng(1), settings=("integration", "radon32"), classes=("photographs", "textures"),
                        n_boot=50)
    for key in res.settings:
        assert res.fits[key]["textures"].b < res.fits[key]["photographs"].b
        assert res.moments[key]["photographs"].shape == res.s[key].shape
    assert res.n_samples["integration"]["photographs"] == 7 * 64
    assert 0.2 < res.a["radon32"] < 0.3 and 1.0 < res.a["integration"] < 1.1
    ids = [c.id for c in res.claims()]
    assert ids == ["ch8-smooth-textures-rougher-integration", "ch8-smooth-textures-rougher-radon32",
                   "ch8-smooth-radon-order-radon32"]
    assert all(c.passed for c in res.claims())
    assert "90% interval" in res.table()


def test_the_blur_has_no_order_and_bad_settings_are_refused():
    res = ex.smoothness(make_rng(1), settings=("blur",), classes=("textures",), n_boot=20)
    assert math.isnan(res.a["blur"]) and "no order a" in res.table()
    for kwargs in ({"settings": ("ct",)}, {"classes": ("faces",)}, {"classes": "textures"}, {"n_boot": 2}):
        with pytest.raises(ValueError):
            ex.smoothness(make_rng(1), **kwargs)
    with pytest.raises(ValueError, match="rng"):
        ex.smoothness(1)


# ---------------------------------------------------------------------------
# 2. rates: the machinery on data with a known exponent, then on real rows
# ---------------------------------------------------------------------------


def _grf_images(rng, b, count, per_image=32, r=256):
    k = np.arange(1, r + 1)
    return [rng.standard_normal((per_image, r)) * k ** (-b / 2) for _ in range(count)]


def test_the_rate_machinery_measures_the_predicted_rate_on_power_law_data():
    """Gaussian coefficients with Pi_k = k^-2 in the singular basis of integration: slope 2(b-1)/(2a+b)."""
    rng = make_rng(7)
    train, test = _grf_images(rng, 2.0, 10), _grf_images(rng, 2.0, 4)
    pred = ex._predict("integration", "grf", train, "grf", test, make_rng(8), transfer=False)
    assert abs(pred.b - 2.0) < 0.1 and abs(pred.predicted - 2 * (pred.b - 1) / (2 * pred.a + pred.b)) < 1e-12
    row = ex._measure(pred, train, test, make_rng(9))
    assert abs(row.measured - pred.predicted) < 0.06
    assert abs(row.measured - pred.model) < 0.06
    assert np.all(np.diff(row.errors) > 0) and row.local_slopes[0] > 1.9  # finite resolution: slope 2 at tiny delta


def test_rates_on_real_rows_use_the_plan_stated_before():
    rng = make_rng(ex.SEED)
    plan = ex.rate_plan(rng, settings=("integration",), classes=("photographs", "textures"))
    res = ex.rates(rng, plan)
    for p, r in zip(plan.predictions, res.rows):
        assert r.prediction is p and np.array_equal(r.fit_deltas, p.fit_deltas)
        assert p.window[0] <= r.fit_deltas.min() and r.fit_deltas.max() <= p.window[1] * (1 + 1e-12)
    photo = res.row("integration", "photographs")
    assert photo.k_train == 5 * 64 and photo.k_test == 2 * 64
    assert abs(photo.measured - photo.predicted) <= photo.tolerance  # the book's setting: this one holds
    assert 0.3 < photo.measured < 0.6
    assert [c.id for c in res.claims()][:2] == ["ch8-rate-integration-photographs",
                                                "ch8-rate-model-integration-photographs"]
    assert all(c.type == "expectation" for c in res.claims())
    with pytest.raises(ValueError, match="plan"):
        ex.rates(rng, plan="integration")
    with pytest.raises(ValueError):
        res.row("radon64", "photographs")


def test_a_filter_learned_without_the_training_noise_fails_the_rate_claims(monkeypatch):
    """Mutation: the training data forget their noise, so the learned filter is the pseudo-inverse on the
    resolved modes. Its error grows like delta^2 (slope 2), and both rate claims must catch it."""
    rng = make_rng(ex.SEED)
    plan = ex.rate_plan(rng, settings=("integration",), classes=("photographs",))
    assert all(c.passed for c in ex.rates(rng, plan).claims())
    original = ex.sampled_rate_errors
    monkeypatch.setattr(ex, "sampled_rate_errors",
                        lambda cx, cax, ce, *rest: original(cx, cax, 0 * ce, *rest))
    claims = ex.rates(rng, plan).claims()
    assert not any(c.passed for c in claims) and all(c.measured > 1.5 for c in claims)


def test_a_filter_off_by_twenty_percent_fails_the_rate_claims(monkeypatch):
    """Mutation: the empirical filter 20 % too small. Its error stalls at a bias and the rate collapses."""
    import learnreg.rates as rates_module

    rng = make_rng(ex.SEED)
    plan = ex.rate_plan(rng, settings=("integration",), classes=("photographs",))
    original = rates_module.empirical_filter
    monkeypatch.setattr(rates_module, "empirical_filter", lambda cx, cy: 0.8 * original(cx, cy))
    assert not any(c.passed for c in ex.rates(rng, plan).claims())


# ---------------------------------------------------------------------------
# 3. transfer
# ---------------------------------------------------------------------------


def test_transfer_from_ellipses_keeps_the_rate_and_loses_a_constant():
    res = ex.transfer(make_rng(ex.SEED), pairs=(("radon32", "ellipses", "photographs"),))
    (t,) = res.rows
    r = t.transfer
    assert r.k_train == 5 * 64  # as many phantoms as the photographs have training patches
    assert abs(r.measured - r.predicted) <= r.tolerance
    assert t.ratio > 1.2 and abs(t.loss_measured) < 0.1
    # the predicted loss: the matched filter's mismatch rate minus the transferred filter's
    assert abs(t.loss_predicted) < 0.05 and t.loss_interval[0] <= t.loss_predicted <= t.loss_interval[1]
    assert math.isclose(t.loss_measured, t.matched_measured - r.measured)
    assert [c.id for c in res.claims()] == ["ch8-transfer-radon32-ellipses-photographs",
                                            "ch8-transfer-model-radon32-ellipses-photographs",
                                            "ch8-transfer-loss-radon32-ellipses-photographs",
                                            "ch8-transfer-worse-radon32-ellipses-photographs"]


@pytest.mark.parametrize("pairs", [(), "radon32", (("radon32", "ellipses"),), (("ct", "scans", "textures"),),
                                   (("radon32", "faces", "scans"),), (("integration", "ellipses", "scans"),)])
def test_transfer_refuses_bad_pairs(pairs):
    with pytest.raises(ValueError):
        ex.transfer(make_rng(0), pairs=pairs)


# ---------------------------------------------------------------------------
# 4. paradigms
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_paradigms():
    return ex.paradigms(make_rng(ex.SEED), n=32, delta=0.01, shown=("coins", 3), adam_steps=200)


def test_paradigms_on_real_patches(small_paradigms):
    res = small_paradigms
    assert set(res.filters) == set(ex.METHODS) and res.k_train == 5 * 64 and res.k_test == 2 * 64
    assert res.shown.shape == (32, 32) and res.reconstructions["empirical"].shape == (32, 32)
    assert res.psnr["empirical"] > res.psnr["tsvd"] > res.psnr["self-supervised"]
    assert abs(res.psnr["gradient"] - res.psnr["empirical"]) < 0.01
    assert res.worst_box["box"] < res.worst_box["empirical"]
    assert 1 <= res.tsvd_index <= 1024 and 1e-8 <= res.tikhonov_alpha <= 10
    theory = [c for c in res.claims() if c.type == "theory"]
    assert len(theory) == 3 and all(c.passed for c in theory)
    assert "PSNR" in res.table()


def test_the_shown_patch_is_reconstructed_on_the_grid(small_paradigms):
    """The reconstruction drawn in the figure is R_g y for the shown patch's own data, y = Ax + delta e."""
    res = small_paradigms
    op = ex.operator("radon32")
    svd = op.svd()
    g = res.filters["empirical"]
    np.testing.assert_allclose(res.reconstructions["empirical"].ravel(), svd.U @ (g * svd.coefficients_y(res.sinogram.ravel())))
    err = np.sum(op.weights_x * (res.reconstructions["empirical"].ravel() - res.shown.ravel()) ** 2)
    assert math.isclose(res.psnr_shown["empirical"], 10 * math.log10(4 / err))


@pytest.mark.parametrize("kwargs", [{"n": 48}, {"cls": "faces"}, {"delta": -0.1}, {"eps": -1.0},
                                    {"shown": ("chelsea", 0)}, {"shown": ("camera", 99)}, {"shown": "camera"},
                                    {"adam_steps": 0}])
def test_paradigms_refuse_bad_input(kwargs):
    with pytest.raises(ValueError):
        ex.paradigms(make_rng(0), **kwargs)


# ---------------------------------------------------------------------------
# 5. the Radon transform against its peer and the closed form
# ---------------------------------------------------------------------------


def test_the_closed_form_radon_transform_of_the_gaussian_is_a_line_integral():
    """The closed form against numerical quadrature along the line p = t nu + s nu_perp."""
    for theta, t in ((0.0, 0.2), (1.1, -0.15), (2.5, 0.05)):
        nu, perp = np.array([math.cos(theta), math.sin(theta)]), np.array([-math.sin(theta), math.cos(theta)])
        p0 = np.array(ex.GAUSSIAN[0])
        S_inv = np.linalg.inv(ex._gaussian_cov())
        f = lambda s: math.exp(-0.5 * (d := t * nu + s * perp - p0) @ S_inv @ d)  # noqa: E731
        value, _ = quad(f, -3, 3, epsabs=1e-13)
        assert math.isclose(ex.gaussian_radon(theta, t), value, rel_tol=1e-9)


def test_radon_converges_to_the_analytic_transform_with_its_order():
    """The peer check as a unit test: orders 1.6 (ray lengths), 2 (scikit-image), 1 (scikit-image misread)."""
    res = ex.radon_peer_check(ns=(16, 32, 48, 64), example_n=32)
    assert list(res.fit_ns) == [32, 48, 64]  # h = 2/n below the Gaussian's width 0.08
    assert 1.45 < res.orders["ours"] < 1.8
    assert 1.85 < res.orders["skimage"] < 2.1
    assert 0.9 < res.orders["skimage_unshifted"] < 1.1
    assert np.all(np.diff(res.ours) < 0) and res.ours[-1] < 0.011 and res.skimage[-1] < 0.008
    assert all(c.passed for c in res.claims())


def test_a_radon_matrix_with_the_wrong_angle_direction_fails_the_order_claim(monkeypatch):
    """Mutation: angles measured clockwise. The error no longer decreases, so the theory claim fails."""
    monkeypatch.setattr(Radon, "angles", property(lambda self: -np.arange(self.n_angles) * np.pi / self.n_angles))
    res = ex.radon_peer_check(ns=(32, 48, 64), example_n=32)
    claim = next(c for c in res.claims() if c.id == "ch8-radon-order-ours")
    assert res.ours.min() > 0.3 and not claim.passed


def test_skimage_detector_positions():
    t = ex.skimage_detector_positions(4, np.array([0.0, np.pi / 4, np.pi / 2]))
    h = 0.5
    np.testing.assert_allclose(t[:, 0], (np.arange(4) - 2) * h + h / 2)  # theta = 0: half a pixel to the right
    np.testing.assert_allclose(t[:, 1], (np.arange(4) - 2) * h, atol=1e-15)
    np.testing.assert_allclose(t[:, 2], (np.arange(4) - 2) * h - h / 2)
    with pytest.raises(ValueError, match="even"):
        ex.skimage_detector_positions(5, [0.0])


@pytest.mark.parametrize("kwargs", [{"ns": (16, 32)}, {"ns": (32, 64, 256)}, {"ns": (33, 48, 64)},
                                    {"ns": (64, 48, 32)}, {"ns": (16, 20, 24)}, {"ns": (32, 48, 64), "example_n": 16}])
def test_radon_peer_check_refuses_bad_resolutions(kwargs):
    with pytest.raises(ValueError):
        ex.radon_peer_check(**kwargs)


# ---------------------------------------------------------------------------
# figures and the panel
# ---------------------------------------------------------------------------


def test_every_figure_draws(small_paradigms):
    rng = make_rng(ex.SEED)
    smooth = ex.smoothness(rng, settings=("integration", "radon32"), classes=("photographs", "textures"), n_boot=20)
    rates = ex.rates(rng, ex.rate_plan(rng, settings=("integration",), classes=("textures",)))
    moved = ex.transfer(rng, pairs=(("integration", "textures", "photographs"),))
    peer = ex.radon_peer_check(ns=(32, 48, 64))
    for fig in (figures.image_gallery(), figures.smoothness(smooth), figures.rates(rates), figures.transfer(moved),
                figures.paradigms(small_paradigms), figures.radon_peer(peer)):
        assert isinstance(fig, Figure) and fig.axes
        fig.canvas.draw()  # draws without error


def test_the_panel_renders_every_class_pair():
    panel = figures.PANELS["transfer"]()
    names = [p.name for p in panel.params]
    assert names == ["train", "test", "delta"]
    delta = next(p for p in panel.params if p.name == "delta")
    assert len(delta.static_values()) >= 9 and math.log10(delta.hi / delta.lo) >= 4
    first = panel.render(train="photographs", test="textures", delta=1e-3)
    other = panel.render(train="textures", test="photographs", delta=1e-2)
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and first != other
    _, text = panel.render_with_caption(train="scans", test="scans", delta=1e-4)
    assert "trained on scans" in text and "cut-off" in text
