"""Chapter 7's experiments at small sizes, bad input, and claims that fail when the implementation is wrong."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from learnreg import make_rng  # noqa: E402
from learnreg.experiments import cnn_regularizers as ex  # noqa: E402
from learnreg.figures import cnn_regularizers as figs  # noqa: E402

SMALL = dict(n=48, n_train=32, n_test=8, runs=1, steps=40)


@pytest.fixture(scope="module")
def steps():
    return ex.steps_denoising(make_rng(1), **SMALL)


def _by_id(res):
    return {c.id: c for c in res.claims()}


def test_steps_denoising_learns_a_difference_and_beats_the_noise(steps):
    assert steps.kernels.shape == (1, 41, 5) and steps.losses.shape == (1, 40)
    assert abs(steps.sums[0]) < 1e-12  # the zero-mean projection
    np.testing.assert_allclose(np.linalg.norm(steps.kernels[0, -1]), 1.0, atol=1e-12)
    assert steps.cosines[0] > 0.95
    assert steps.mse_learned[0] < 0.5 * steps.mse_noisy and steps.mse_tv < 0.5 * steps.mse_noisy
    assert steps.mse_spectral < steps.mse_noisy  # the learned spectral filter is a denoiser too
    claims = _by_id(steps)
    assert claims["ch7-1d-mse-vs-tv"].type == "expectation" and claims["ch7-1d-cosine"].type == "theory"
    assert {"ch7-1d-cosine", "ch7-1d-eps", "ch7-1d-tv-alpha"} <= set(claims) and "ch7-1d-top2" not in claims
    assert "tuned TV" in steps.table()


def test_experiments_draw_from_named_streams():
    a = ex.no_projection(make_rng(2), n=32, n_train=32, n_test=2, runs=1, steps=3)
    rng = make_rng(2)
    rng.standard_normal(100)
    b = ex.no_projection(rng, n=32, n_train=32, n_test=2, runs=1, steps=3)
    assert np.array_equal(a.cos_hist, b.cos_hist) and np.array_equal(a.sum_hist, b.sum_hist)


def test_no_projection_drives_the_kernel_sum_down():
    res = ex.no_projection(make_rng(1), **SMALL)
    assert res.sum_hist[0, -1] < 0.2 * res.sum_hist[0, 0]
    assert res.cos_hist.shape == (1, 41)
    assert "kernel sum" in res.table()


def test_a_trainer_that_does_not_learn_fails_the_training_claims(monkeypatch):
    """Mutation: Adam with a vanishing learning rate (parameters stay at their random start)."""
    real = ex.train
    monkeypatch.setattr(ex, "train", lambda *a, **k: real(*a, **{**k, "lr": 1e-12}))
    claims = _by_id(ex.no_projection(make_rng(1), **SMALL))
    assert not claims["ch7-1d-noproj-sum"].passed and not claims["ch7-1d-noproj-learns"].passed
    assert not _by_id(ex.steps_denoising(make_rng(1), **SMALL))["ch7-1d-cosine"].passed


def test_a_tv_parameter_without_the_kernel_coefficient_fails_its_claim(monkeypatch, steps):
    """Mutation: the equivalent TV parameter as lambda instead of lambda*|c| (c = 1/sqrt 2 for a unit-norm difference)."""
    assert abs(steps.alpha_ratio.mean() - 1) < 0.3
    monkeypatch.setattr(ex, "tv_parameter", lambda w, s: s)
    bad = ex.steps_denoising(make_rng(1), **SMALL)
    assert abs(bad.alpha_ratio.mean() / steps.alpha_ratio.mean() - np.sqrt(2)) < 0.05
    assert not _by_id(bad)["ch7-1d-tv-alpha"].passed


def test_deblurring_unrolled_and_comparison(steps):
    kw = dict(n=32, n_train=32, n_test=4, runs=1, steps=10)
    deblur = ex.deblurring(make_rng(3), **kw)
    assert deblur.mse_learned.shape == (1,) and deblur.mse_tv > 0
    assert _by_id(deblur)["ch7-deblur-clean"].type == "expectation"
    unr = ex.unrolled(make_rng(3), deblur, **kw, unroll_steps=3)
    assert unr.ratios.shape == (1,) and np.all(unr.mse_truncated > 0)
    assert _by_id(unr)["ch7-unrolled-size"].type == "expectation"
    comp = ex.comparison(steps, deblur)
    assert len(comp.rows) == 6 and comp.ratio("denoising") == pytest.approx(steps.mse_learned.mean() / steps.mse_spectral)
    assert "PSNR" in comp.table()


def test_controls_and_cartoons_at_small_sizes(steps):
    ctrl = ex.controls(make_rng(4), steps, n=48, n_train=32, runs=1, steps=5)
    assert set(ctrl.eps_ratio) == {"steps", "smooth Gaussian", "Ornstein-Uhlenbeck"}
    assert _by_id(ctrl)["ch7-ctrl-ou-cosine"].type == "expectation"
    cart = ex.cartoons(make_rng(5), m=8, n_train=8, n_test=2, runs=1, steps=3, batch=4)
    assert cart.kernels.shape == (2, 2, 2, 2) and cart.cosines.shape == (1, 2)
    np.testing.assert_allclose(cart.kernels.sum(axis=(2, 3)), 0, atol=1e-12)
    assert _by_id(cart)["ch7-2d-hv"].type == "expectation"
    for fig in (figs.controls(ctrl), figs.cartoons_kernels(cart), figs.cartoons_images(cart)):
        assert isinstance(fig, Figure) and fig.axes


def test_figures_draw_and_the_panel_renders(steps):
    noproj = ex.no_projection(make_rng(1), n=32, n_train=32, n_test=2, runs=1, steps=40)
    for fig in (figs.steps_kernels(steps), figs.steps_example(steps), figs.no_projection(steps, noproj)):
        assert isinstance(fig, Figure) and len(fig.axes) >= 1
    panel = figs.training_panel(steps)
    assert panel.render(run=0, step=40)[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(figs.PANELS) == {"cnn-training"}


def test_bad_input_names_the_argument(steps):
    rng = make_rng(0)
    with pytest.raises(ValueError, match="runs"):
        ex.steps_denoising(rng, runs=0)
    with pytest.raises(ValueError, match="noise"):
        ex.steps_denoising(rng, noise=-0.1)
    with pytest.raises(ValueError, match="steps_result"):
        ex.controls(rng, None)
    with pytest.raises(ValueError, match="deblur"):
        ex.unrolled(rng, steps)
    with pytest.raises(ValueError, match="width"):
        ex.deblurring(rng, width=0.0)
    with pytest.raises(ValueError, match="batch"):
        ex.cartoons(rng, batch=0)
    with pytest.raises(ValueError, match="res"):
        figs.training_panel("no")


def test_progress_bars_are_silent_in_the_book_and_when_not_interactive(monkeypatch, capsys):
    from learnreg import _progress

    monkeypatch.setenv("LEARNREG_STATIC_PAGES", "1")
    bar = _progress.progress_bar(10, "x")
    bar.update(10)
    bar.close()
    assert bar.disable and capsys.readouterr().err == ""
    monkeypatch.delenv("LEARNREG_STATIC_PAGES")
    assert not _progress.interactive()  # pytest captures stderr: not a terminal, not a kernel
    assert _progress.progress_bar(10, "x").disable
