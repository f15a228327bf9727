"""Seeded data generators: reproducible bit for bit, with the advertised statistics."""

from __future__ import annotations

import numpy as np
import pytest

from learnreg import data
from learnreg.data import make_rng
from learnreg.operators import Integration, Radon


GENERATORS = {
    "grf": lambda rng: data.gaussian_random_field(Integration(32).svd().U, data.power_law_moments(32, 2), 4, rng),
    "white": lambda rng: data.white_noise(np.full(16, 1 / 16), 0.1, 3, rng),
    "pwc": lambda rng: data.piecewise_constant(64, 5, rng),
    "ou": lambda rng: data.ornstein_uhlenbeck(64, 5, rng),
    "ellipses": lambda rng: data.ellipse_phantoms(32, 3, rng),
    "cartoon": lambda rng: data.cartoon_images(32, 3, rng, kind="mixed"),
}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_same_seed_same_data_bit_for_bit(name):
    a = GENERATORS[name](make_rng(7))
    b = GENERATORS[name](make_rng(7))
    c = GENERATORS[name](make_rng(8))
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()
    assert np.all(np.isfinite(a))


def test_spawned_streams_are_reproducible_and_distinct():
    a = [g.standard_normal(3) for g in data.spawn(make_rng(1), 3)]
    b = [g.standard_normal(3) for g in data.spawn(make_rng(1), 3)]
    np.testing.assert_array_equal(np.array(a), np.array(b))
    assert not np.allclose(a[0], a[1])


def test_gaussian_random_field_has_the_prescribed_moments():
    op = Integration(64)
    S = op.svd()
    Pi = data.power_law_moments(64, 2.0)
    X = data.gaussian_random_field(S.U, Pi, 20000, make_rng(0))
    est = np.mean(S.coefficients_x(X) ** 2, axis=0)
    # each estimate is Pi_k * chi2_K / K: relative standard deviation sqrt(2/K) = 0.01
    assert np.max(np.abs(est / Pi - 1)) < 5 * np.sqrt(2 / 20000)


def test_white_noise_has_level_delta_in_every_direction():
    op = Radon(16)
    S = op.svd()
    E = data.white_noise(op.weights_y, 0.3, 4000, make_rng(0))
    est = np.mean(S.coefficients_y(E) ** 2, axis=0)
    assert abs(est.mean() / 0.09 - 1) < 0.01
    assert np.max(np.abs(est / 0.09 - 1)) < 6 * np.sqrt(2 / 4000)


def test_white_noise_euclidean_norm_grows_with_resolution():
    norms = [np.linalg.norm(data.white_noise(np.full(n, 1 / n), 0.1, 200, make_rng(1)), axis=1).mean() for n in (64, 256)]
    assert norms[1] / norms[0] == pytest.approx(4.0, rel=0.05)  # sqrt(n) * sqrt(1/h) = n


def test_ou_has_the_exponential_covariance():
    X = data.ornstein_uhlenbeck(100, 20000, make_rng(2), length_scale=0.1)
    lag = 10  # t - s = 0.1 = one length scale
    cov = np.mean(X[:, 20] * X[:, 20 + lag])
    assert cov == pytest.approx(np.exp(-1), abs=0.03)
    assert np.mean(X[:, 50] ** 2) == pytest.approx(1.0, abs=0.05)


def test_piecewise_constant_signals_have_jumps_and_pieces_of_min_length():
    X = data.piecewise_constant(128, 50, make_rng(3), min_gap=4)
    for x in X:
        jumps = np.flatnonzero(np.diff(x) != 0)
        assert jumps.size >= 1
        pieces = np.diff(np.concatenate([[-1], jumps, [127]]))
        assert pieces.min() >= 4
        assert np.abs(x).max() <= 1.0


def test_shepp_logan_values():
    P = data.shepp_logan(128)
    assert P.shape == (128, 128)
    assert P.max() == pytest.approx(1.0) and P.min() >= -1e-12
    assert P[64, 64] == pytest.approx(0.2, abs=1e-12)  # centre: 1 - 0.8


def test_ellipse_phantoms_are_zero_outside_the_disc():
    from learnreg.operators import pixel_grid

    P = data.ellipse_phantoms(32, 5, make_rng(4))
    X, Y = pixel_grid(32)
    assert np.all(P[:, X**2 + Y**2 > 0.95**2] == 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_rng(-1),
        lambda: make_rng(1.5),
        lambda: data.gaussian_random_field(np.eye(3), [1, 1], 2, make_rng(0)),
        lambda: data.gaussian_random_field(np.eye(3), [1, -1, 1], 2, make_rng(0)),
        lambda: data.gaussian_random_field(np.eye(3), [1, 1, 1], 2, np.random.default_rng(0).random),
        lambda: data.white_noise(np.ones(3), -0.1, 2, make_rng(0)),
        lambda: data.white_noise(np.zeros(3), 0.1, 2, make_rng(0)),
        lambda: data.white_noise(np.ones(3), float("inf"), 2, make_rng(0)),
        lambda: data.piecewise_constant(0, 2, make_rng(0)),
        lambda: data.piecewise_constant(16, 0, make_rng(0)),
        lambda: data.ornstein_uhlenbeck(16, 2, make_rng(0), length_scale=0),
        lambda: data.cartoon_images(16, 2, make_rng(0), kind="stars"),
        lambda: data.ellipse_phantoms(16, 2, 42),
        lambda: data.power_law_moments(0, 1.0),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
