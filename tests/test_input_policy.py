"""The input policy (learnreg._validate), one class of bad input at a time, on the calls that misbehaved.

tests/test_properties.py applies every strategy to every public callable; the
tests here pin the concrete cases: each would fail if its class of bad input
slipped through again, and they check the numbers that valid input still gives.
"""

from __future__ import annotations

import math
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import learnreg._validate as validate
from learnreg import adversarial as adv
from learnreg import cnn, data, frames, metrics, paradigms, rates, spectral, training
from learnreg.cache import cached_arrays
from learnreg.experiments.frames import compare_learned_filters
from learnreg.operators import SVD, Integration, PeriodicIntegration, Radon, dot_test


@pytest.fixture(scope="module")
def svd():
    return Integration(8).svd()


def _spec():
    s = Integration(8).svd().s
    return s, np.arange(1, 9.0) ** -2, np.full(8, 1e-2)


def _pairs(K=12, seed=0):
    g = np.random.default_rng(seed)
    s, Pi, _ = _spec()
    cx = g.standard_normal((K, 8)) * np.sqrt(Pi)
    return cx, s * cx + 0.1 * g.standard_normal((K, 8))


# ---------------------------------------------------------------------------
# numbers: real dtypes only
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda s, Pi, D: spectral.mse_filter(s + 1e-3j, Pi, D), "s"),
        (lambda s, Pi, D: spectral.mse_filter(s, Pi.astype(complex), D), "Pi"),
        (lambda s, Pi, D: spectral.risk(s, np.ones(8), Pi, D, null=1 + 0j), "null"),
        (lambda s, Pi, D: Integration(8).apply(np.ones(8) * (1 + 1j)), "x"),
        (lambda s, Pi, D: paradigms.SpectralDenoiser(Integration(8).svd(), np.ones(8))(np.ones(8) + 0j), "z"),
        (lambda s, Pi, D: training.AdamMoments(8).update(np.ones(8) * 1j), "grad"),
        (lambda s, Pi, D: rates.power_noise(0.1 + 0j, 8), "delta"),
    ],
)
def test_complex_input_is_refused_not_cast(call, name):
    """Complex values used to lose their imaginary part with only numpy's ComplexWarning."""
    s, Pi, D = _spec()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning either
        with pytest.raises(ValueError, match=rf"\b{name}\b.*complex"):
            call(s, Pi, D)


def test_complex_outputs_are_impossible(svd):
    den = paradigms.SpectralDenoiser(svd, np.linspace(0.9, 0.1, 8))
    z = np.random.default_rng(0).standard_normal((2, 8))
    out = den(z)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, svd.synthesis_x(den.d * svd.coefficients_x(z)), atol=1e-12)
    m, v = training.AdamMoments(3).update(np.array([1.0, -2.0, 0.5]))
    assert m.dtype == v.dtype == np.float64
    np.testing.assert_allclose(m, [1.0, -2.0, 0.5])
    np.testing.assert_allclose(v, [1.0, 4.0, 0.25])


@pytest.mark.parametrize("bad", [np.array([1.0, None]), np.array(["1", "2"]), ["a", "b"], {"x": 1}],
                         ids=["object", "strings", "list-of-strings", "dict"])
def test_non_numeric_arrays_are_refused(bad):
    with pytest.raises(ValueError, match="Pi"):
        spectral.tikhonov_bound(bad, [0.1, 0.1])


# ---------------------------------------------------------------------------
# booleans: never read as 1/0; flags parsed strictly
# ---------------------------------------------------------------------------


def test_boolean_arrays_and_scalars_are_refused():
    s, Pi, D = _spec()
    with pytest.raises(ValueError, match=r"\bs\b.*boolean"):
        spectral.mse_filter(np.ones(8, bool), Pi, D)
    with pytest.raises(ValueError, match="alpha.*boolean"):
        spectral.tikhonov_filter(s, True)
    with pytest.raises(ValueError, match="eps.*boolean"):
        adv.amplification(np.ones(3), np.True_, "l2")
    with pytest.raises(ValueError, match="n_samples"):
        data.white_noise(np.full(4, 0.25), 0.1, True, data.make_rng(0))


@pytest.mark.parametrize("flag", ["no", "False", "", "yes", 0, 1, 1.0, None])
def test_flags_accept_only_true_and_false(flag, svd):
    """'no' used to be read as True for tail= and prox=."""
    with pytest.raises(ValueError, match="tail"):
        rates.model_errors(1.0, 2.0, [0.01], n_modes=10, tail=flag)
    X = np.random.default_rng(0).standard_normal((4, 8))
    with pytest.raises(ValueError, match="prox"):
        paradigms.empirical_denoiser(svd, X, X + 0.1, prox=flag)
    with pytest.raises(ValueError, match="return_perturbation"):
        adv.worst_case_errors(np.ones(8), *_pairs(), 0.1, "box", return_perturbation=flag)


def test_numpy_booleans_are_flags(svd):
    X = np.random.default_rng(0).standard_normal((4, 8))
    a = paradigms.empirical_denoiser(svd, X, X + 0.1, prox=np.True_)
    b = paradigms.empirical_denoiser(svd, X, X + 0.1, prox=True)
    np.testing.assert_array_equal(a, b)
    assert np.all((a >= 0) & (a <= 1))


# ---------------------------------------------------------------------------
# subnormal and extreme magnitudes, overflow
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda s: spectral.pseudo_inverse_filter(s),
        lambda s: paradigms.post_processing_filter(s, np.full(s.shape, 0.5)),
        lambda s: paradigms.pseudo_inverse_noise_moments(s, np.full(s.shape, 0.01)),
    ],
)
def test_a_subnormal_singular_value_is_refused(call):
    """1e-320 passed 'positive' and these returned inf."""
    s = np.array([1.0, 0.5, 1e-320])
    with pytest.raises(ValueError, match=r"\bs\b.*subnormal"):
        call(s)
    # the smallest normal singular value is admissible; where 1/s overflows, the error names the inputs
    out = spectral.pseudo_inverse_filter(np.array([1.0, validate.MIN_POSITIVE]))
    assert np.isfinite(out).all() and out[1] == pytest.approx(1 / validate.MIN_POSITIVE)
    with pytest.raises(ValueError, match=r"not representable.*\bs\b"):
        paradigms.pseudo_inverse_noise_moments(np.array([1.0, 1e-200]), np.array([1.0, 1.0]))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: paradigms.monte_carlo_risk(*_spec()[:1], np.ones(8), np.full(8, 1e300), 0.01, 10, data.make_rng(0)),
         "Pi"),
        (lambda: paradigms.monte_carlo_risk(*_spec()[:1], np.ones(8), 1.0, np.full(8, 1e300), 10, data.make_rng(0)),
         "Delta"),
        (lambda: spectral.risk(_spec()[0], np.full(8, 1e300), *_spec()[1:]), "g"),
        (lambda: spectral.optimal_risk(_spec()[0], np.full(8, 1e300), _spec()[2]), "Pi"),
        (lambda: Integration(8).apply(np.full(8, 1e300)), "x"),
        (lambda: adv.box_filter_gaussian(*_spec(), 1e300), "eps"),
    ],
)
def test_magnitudes_whose_squares_overflow_are_refused(call, name):
    """These returned inf (or raised OverflowError) for inputs near 1e300."""
    with pytest.raises(ValueError, match=rf"\b{name}\b must have magnitude"):
        call()


def test_overflow_within_the_admissible_range_names_the_inputs():
    s, Pi, Delta = _spec()
    with pytest.raises(ValueError, match=r"not representable.*\bs\b.*\bg\b.*\bPi\b"):
        spectral.risk(np.full(8, 1e150), np.full(8, 1e150), np.full(8, 1e150), Delta)
    # in range, the numbers are those of the formula
    g = spectral.mse_filter(s, Pi, Delta)
    assert spectral.risk(s, g, Pi, Delta).total == pytest.approx(spectral.optimal_risk(s, Pi, Delta), rel=1e-12)
    assert adv.box_filter_gaussian(s, Pi, Delta, 1e100).tolist() == [0.0] * 8  # every mode switched off


def test_psnr_of_identical_inputs_is_plus_infinity_and_otherwise_finite():
    """The documented choice: +inf is the exact answer for identical inputs, the only non-finite result."""
    X = np.random.default_rng(0).standard_normal((3, 5))
    assert metrics.psnr(X, X, 1.0) == math.inf
    assert cnn.psnr is metrics.psnr
    # a difference whose squares underflow still gives a finite answer, computed from logarithms
    Z = np.zeros(5)
    assert metrics.mse(Z + 1e-170, Z) == 0.0
    assert metrics.psnr(Z + 1e-170, Z, 1.0) == pytest.approx(20 * 170, rel=1e-12)
    assert metrics.psnr(X + 0.1, X, 1.0) == pytest.approx(20.0, rel=1e-9)


# ---------------------------------------------------------------------------
# Adam and the SVD container validate themselves
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, name", [
    (dict(beta1=1.0), "beta1"), (dict(beta2=1.0), "beta2"), (dict(beta1=-0.1), "beta1"), (dict(beta2=1.5), "beta2"),
    (dict(beta1=True), "beta1"), (dict(size=0), "size"), (dict(size=2.0), "size"), (dict(size=10**12), "size"),
])
def test_adam_moments_refuse_bad_parameters(kwargs, name):
    """AdamMoments(beta1=1.0) returned NaN (1 - beta1**t = 0)."""
    with pytest.raises(ValueError, match=name):
        training.AdamMoments(**{"size": 3, **kwargs})


@pytest.mark.parametrize("grad", [np.array([1.0, np.nan, 0.0]), np.ones(4), np.ones((3, 1)), np.array([1e300, 0, 0])])
def test_adam_update_refuses_bad_gradients(grad):
    """NaN gradients used to pass straight through."""
    adam = training.AdamMoments(3)
    with pytest.raises(ValueError, match="grad"):
        adam.update(grad)
    assert adam.t == 0  # a refused gradient leaves no trace


def test_train_filter_adam_refuses_a_diverging_learning_rate():
    """lr = 1e300 returned all-NaN coefficients."""
    cx, cy = _pairs()
    with pytest.raises(ValueError, match="lr"):
        training.train_filter_adam(cx, cy, n_steps=50, lr=1e300)
    with pytest.raises(ValueError, match="betas"):
        training.train_filter_adam(cx, cy, n_steps=5, betas=0.9)
    res = training.train_filter_adam(cx, cy, n_steps=2000, lr=0.05)
    np.testing.assert_allclose(res.g, spectral.empirical_filter(cx, cy), rtol=1e-3)


@pytest.mark.parametrize("change, name", [
    (lambda S: dict(s=np.where(np.arange(8) == 2, np.nan, S.s)), "s"),
    (lambda S: dict(s=-S.s), "s"),
    (lambda S: dict(s=S.s[::-1].copy()), "s"),
    (lambda S: dict(U=S.U[:, :-1]), "U"),
    (lambda S: dict(U=S.U[:-1]), "U"),
    (lambda S: dict(V=np.hstack([S.V, S.V[:, :1]])), "V"),
    (lambda S: dict(weights_x=-S.weights_x), "weights_x"),
    (lambda S: dict(weights_y=np.zeros(8)), "weights_y"),
    (lambda S: dict(U=S.U + 0j), "U"),
])
def test_svd_validates_its_arrays(svd, change, name):
    """SVD(...) accepted NaN, negative or unordered singular values and U/V of the wrong width."""
    fields = dict(s=svd.s, U=svd.U, V=svd.V, weights_x=svd.weights_x, weights_y=svd.weights_y)
    with pytest.raises(ValueError, match=name):
        SVD(**{**fields, **change(svd)})


# ---------------------------------------------------------------------------
# sizes and iterations: refused before anything is allocated
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: Integration(10**7).svd(),
        lambda: Integration(30000).svd(),
        lambda: PeriodicIntegration(30000).svd(),
        lambda: Integration(10**12),
        lambda: Radon(8, n_angles=10**8),
        lambda: data.spawn(data.make_rng(0), 10**6),
        lambda: data.ellipse_phantoms(8, 2, data.make_rng(0), n_ellipses=10**9),
        lambda: data.white_noise(np.ones(8), 0.1, 10**12, data.make_rng(0)),
        lambda: frames.wavelet_basis(2**26),
        lambda: rates.model_errors(1.0, 2.0, [0.1], n_modes=10**12),
        lambda: adv.pgd_attack(np.eye(8), np.zeros((1, 8)), np.zeros((1, 8)), 0.1, "l2", Integration(8).svd(),
                               steps=10**12, rng=data.make_rng(0)),
        lambda: adv.pgd_training(*_pairs(), 0.1, "box", rng=data.make_rng(0), outer_steps=10**12),
        lambda: adv.pgd_training(*_pairs(), 0.1, "box", rng=data.make_rng(0), outer_steps=10**5, inner_steps=10**5),
        lambda: paradigms.monte_carlo_risk(*_spec()[:1], np.ones(8), 1.0, 0.1, 10**12, data.make_rng(0)),
        lambda: training.train_filter_adam(*_pairs(), n_steps=10**12),
        lambda: cnn.train(cnn.CNNRegularizer(16, 3, rng=data.make_rng(0)), None, np.zeros((4, 16)), np.zeros((4, 16)),
                          data.make_rng(0), steps=10**12, batch=2, progress=False),
        lambda: cnn.CNNRegularizer(10**9, 3, rng=data.make_rng(0)),
    ],
    ids=["integration-1e7", "integration-30000", "periodic-integration-30000", "grid-1e12", "radon-angles",
         "spawn", "ellipses", "white-noise", "wavelets", "model-errors", "pgd-attack", "pgd-training",
         "pgd-training-nested", "monte-carlo", "adam", "cnn-train", "cnn-regularizer"],
)
def test_sizes_and_iterations_are_refused_before_allocating(call):
    """These gave MemoryError or hung; now a ValueError says how much was asked, at once."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=r"would need|would take|at most"):
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 10
    assert peak < 50 * 2**20


def test_the_memory_message_says_how_much_was_asked():
    with pytest.raises(ValueError, match=r"PeriodicIntegration\(n=30000\) would need about 40.2 GiB.*limit is 2 GiB"):
        PeriodicIntegration(30000).svd()


def test_jump_split_width_is_capped_at_the_signal_length():
    """width = 10**12 used to loop 2 * 10**12 times; any width >= n marks every point."""
    X = np.repeat([[0.0] * 8 + [1.0] * 8], 2, axis=0)
    E = np.random.default_rng(0).standard_normal(X.shape)
    total = metrics.mean_squared_error(X + E, X, 1 / 16)
    for width in (16, 10**12):
        near, away = metrics.jump_split_error(X + E, X, 1 / 16, width)
        assert away == 0.0 and near == pytest.approx(total, rel=1e-12)


# ---------------------------------------------------------------------------
# errors name the argument the caller passed; no crash from inside
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda S: paradigms.SpectralDenoiser(S, np.ones(8))(z=np.ones(7)), "z"),
        (lambda S: adv.l2_filter(*_pairs(), 0.1, g0=np.ones(7)), "g0"),
        (lambda S: adv.pgd_training(*_pairs(), 0.1, "box", rng=data.make_rng(0), g0=np.ones(7)), "g0"),
        (lambda S: compare_learned_filters(frames.WaveletVaguelette(16, "db2"), np.zeros((4, 16)), np.zeros((4, 15)),
                                           np.zeros((3, 16)), np.zeros((3, 16)), [0.1]), "E_train"),
        (lambda S: compare_learned_filters(frames.WaveletVaguelette(16, "db2"), np.zeros((4, 16)), np.zeros((4, 16)),
                                           np.zeros((3, 15)), np.zeros((3, 16)), [0.1]), "X_test"),
        (lambda S: cnn.hypergradient(cnn.CNNRegularizer(16, 3, rng=data.make_rng(0)), None, np.zeros((2, 15)),
                                     np.zeros((2, 16))), "x_true"),
        (lambda S: cnn.train(cnn.CNNRegularizer(16, 3, rng=data.make_rng(0)), None, np.zeros((4, 16)),
                             np.zeros((4, 15)), data.make_rng(0), steps=2, progress=False), "Y"),
        (lambda S: cnn.reconstruct(cnn.CNNRegularizer(16, 3, rng=data.make_rng(0)), None, np.zeros((2, 15))), "Y"),
        (lambda S: rates.fit_rate([1e-3, 1e-3, 1e-3], [1.0, 2.0, 3.0]), "deltas"),
        (lambda S: dot_test(None, data.make_rng(0)), "op"),
        (lambda S: cnn.finite_difference_stencils(2.5), "kernel_size"),
        (lambda S: adv.worst_case_errors(None, *_pairs(), 0.1, "box"), "g"),
        (lambda S: cached_arrays({"name": "t"}, lambda: {"a": np.zeros(1)}, directory=3), "directory"),
        (lambda S: cached_arrays({"name": "t"}, lambda: {"a": np.zeros(1)}, directory=""), "directory"),
        (lambda S: training.train_filter_adam(*_pairs(), n_steps=5, betas=None), "betas"),
        (lambda S: cnn.tv_parameter([1.0], 0.1), "kernel"),
        (lambda S: data.periodic_piecewise_constant(16, 2, data.make_rng(0), amplitud=1.0), "amplitud"),
    ],
)
def test_errors_name_the_argument_that_was_passed(svd, call, name):
    with pytest.raises(ValueError, match=rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])"):
        call(svd)


def test_errors_from_intermediate_results_name_the_callers_arguments(svd):
    """An intermediate value out of range is reported with the arguments the caller passed."""
    with pytest.raises(ValueError, match=r"apply_filter.*\bg\b.*\by\b") as info:
        spectral.apply_filter(svd, np.full(8, 1e-160), np.full((2, 8), 1e-150))
    assert "c must" in str(info.value)  # the inner cause is kept


def test_cnn_tensors_follow_the_policy():
    reg = cnn.CNNRegularizer(8, 3, rng=data.make_rng(0))
    for bad, match in [(torch.ones(2, 8, dtype=torch.complex128), "complex|real"),
                       (torch.ones(2, 8, dtype=torch.bool), "floating"),
                       (torch.full((2, 8), float("nan"), dtype=torch.float64), "finite")]:
        with pytest.raises(ValueError, match=match):
            reg.value(bad)
    x = torch.linspace(0, 1, 16, dtype=torch.float64).reshape(2, 8)
    torch.testing.assert_close(reg.value(x.float()), reg.value(x), rtol=1e-6, atol=1e-9)


def test_the_symmetry_module_follows_the_policy():
    """Found by probing main's symmetry module after the merge: sizes, matrices and group elements are checked."""
    from learnreg import symmetry as sym
    from learnreg.operators import BlockFactor, FactoredSVD

    with pytest.raises(ValueError, match=r"\bn = 1000000\b.*(GiB|TiB)"):
        sym.image_action(10**6)  # was a MemoryError (7 TiB)
    op = Radon(4)
    ax, ay = op._symmetry_actions
    for M, match in [(op.matrix + 0j, "complex"), (op.matrix > 0, "boolean"), (op.matrix * np.nan, "finite"),
                     (None, "matrix"), (op.matrix[:, :-1], "shape")]:
        with pytest.raises(ValueError, match=match):
            sym.commutation_defect(M, ax, ay, op.weights_x, op.weights_y)
    bx, by = op.symmetry_bases
    with pytest.raises(ValueError, match="complex"):
        sym.block_matrix(op.matrix + 1j, bx, by, "A1")  # was a complex block
    with pytest.raises(ValueError, match="complex"):
        ax.apply((1, 0), np.ones(16) + 1j)  # was a complex result
    with pytest.raises(ValueError, match=r"g\[1\]"):
        ax.perm((1, 2.5))
    S = op.svd(method="symmetry", cache=False)
    with pytest.raises(ValueError, match="non-increasing"):
        FactoredSVD(S.s[::-1], bx, by, S.blocks, op.weights_x, op.weights_y)
    with pytest.raises(ValueError, match="Wx"):
        BlockFactor("A1", np.ones((3, 2)), np.ones((6, 3)), np.array([0, 4, 10]))
    with pytest.raises(ValueError, match="positions"):
        BlockFactor("A1", np.ones((3, 3)), np.ones((6, 3)), np.array([0.0, 4.0, 10.0]))
