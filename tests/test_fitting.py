from __future__ import annotations

import numpy as np
import pytest

from learnreg.fitting import fit_power_law
from learnreg.data import make_rng


def test_recovers_exact_power_law():
    x = np.logspace(-8, -4, 9)
    fit = fit_power_law(x, 3.0 * x**0.4)
    assert fit.slope == pytest.approx(0.4, abs=1e-12)
    assert fit.prefactor == pytest.approx(3.0, rel=1e-10)
    assert fit.decades == pytest.approx(4.0)
    np.testing.assert_allclose(fit(x), 3.0 * x**0.4, rtol=1e-10)


def test_slope_against_numpy_least_squares_with_noise():
    rng = make_rng(0)
    x = np.logspace(0, 3, 20)
    y = x**-1.3 * np.exp(0.05 * rng.standard_normal(20))
    A = np.stack([np.log(x), np.ones(20)], axis=1)
    ref = np.linalg.lstsq(A, np.log(y), rcond=None)[0][0]
    assert fit_power_law(x, y).slope == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize(
    "x,y",
    [([1, 2], [1, 2]), ([1, 2, 3], [1, 0, 3]), ([1, 2, 3], [1, -2, 3]), ([1, 1, 1], [1, 2, 3]),
     ([1, 2, 3], [1, 2]), ([1, np.nan, 3], [1, 2, 3])],
)
def test_bad_input(x, y):
    with pytest.raises(ValueError):
        fit_power_law(x, y)
