"""Chapter 5's experiments at small sizes, and claims that fail when the implementation is wrong."""

from __future__ import annotations

import numpy as np

from learnreg import adversarial as adv


def test_l2_inner_max_with_a_residual_that_vanishes_on_the_largest_coefficient():
    """A zero residual (noise-free data, g_k = 1/s_k) is the hard case: all of the budget on the largest g_k."""
    g = np.array([1.0, 2.0, 3.0])
    r = np.zeros((2, 3))
    r[1] = [0.1, 0.2, 0.0]
    val, c = adv.l2_inner_max(r, g, 0.5)
    assert np.all(np.isfinite(val)) and np.all(np.isfinite(c))
    assert val[0] == 0.5**2 * 9 and np.allclose(c[0], [0, 0, 0.5])
    assert np.isclose(np.linalg.norm(c[1]), 0.5)
