"""Real images from scikit-image's wheel: loading, the subsampling rule, and the smoothness fit."""

from __future__ import annotations

import numpy as np
import pytest

from learnreg import images, make_rng


# ---------------------------------------------------------------------------
# grey values and the working scale
# ---------------------------------------------------------------------------


def test_grey_values_of_every_supported_kind():
    assert images.to_grey(np.array([[0, 51, 255]], dtype=np.uint8)).tolist() == [[0.0, 0.2, 1.0]]
    assert images.to_grey(np.array([[True, False]])).tolist() == [[1.0, 0.0]]
    rgb = np.zeros((1, 3, 3), dtype=np.uint8)
    rgb[0, 0, 0], rgb[0, 1, 1], rgb[0, 2, 2] = 255, 255, 255
    np.testing.assert_allclose(images.to_grey(rgb)[0], [0.2125, 0.7154, 0.0721], atol=1e-12)  # luminance weights
    rgba = np.concatenate([rgb, np.full((1, 3, 1), 7, dtype=np.uint8)], axis=2)
    np.testing.assert_array_equal(images.to_grey(rgba), images.to_grey(rgb))  # alpha is dropped
    f = np.array([[0.25, 0.75]])
    assert images.to_grey(f).tolist() == [[0.25, 0.75]] and images.to_grey(f).dtype == np.float64


@pytest.mark.parametrize("bad, match", [
    (np.zeros(5), "shape"),
    (np.zeros((2, 2, 2)), "shape"),
    (np.zeros((2, 2, 3, 1)), "shape"),
    (np.zeros((0, 4)), "empty"),
    (np.array([[1.5]]), r"\[0, 1\]"),
    (np.array([[np.nan]]), r"\[0, 1\]"),
    (np.zeros((2, 2), dtype=np.int16), "dtype"),
    (np.zeros((2, 2), dtype=complex), "dtype"),
    ("camera", "string"),
])
def test_images_of_the_wrong_shape_or_dtype_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        images.to_grey(bad)


def test_working_scale_averages_blocks_and_keeps_small_images():
    img = np.arange(36.0).reshape(6, 6)
    out = images.working_scale(img, side=3)  # f = 2
    np.testing.assert_allclose(out, img.reshape(3, 2, 3, 2).mean(axis=(1, 3)))
    odd = np.arange(35.0).reshape(5, 7)
    assert images.working_scale(odd, side=2).shape == (2, 3)  # f = 2, the last row and column dropped
    assert images.working_scale(np.ones((3, 8)), side=4).shape == (3, 8)  # shorter than side: f = 1
    with pytest.raises(ValueError):
        images.working_scale(np.ones(4))


def test_the_images_load_at_the_working_scale_from_the_wheel():
    cam = images.load_image("camera")  # 512 x 512 in the wheel: f = 2
    assert cam.shape == (256, 256) and 0 <= cam.min() < cam.max() <= 1
    assert not cam.flags.writeable
    assert images.load_image("coffee").shape == (400, 600)  # 400 x 600: f = 1
    assert images.load_image("retina").shape == (282, 282)  # 1411 x 1411: f = 5, 1410 pixels kept
    for name in images.IMAGE_NAMES:
        shorter = min(images.load_image(name).shape)
        assert shorter < 512 and (shorter >= 256 or name in ("microaneurysms", "text", "page"))


@pytest.mark.parametrize("name", ["brain", "horse", "checkerboard", "lfw_subset", "", None])
def test_images_outside_the_book_are_refused(name):
    with pytest.raises(ValueError, match="wheel"):
        images.load_image(name)


def test_classes_and_held_out_images_are_consistent():
    assert set(images.IMAGE_NAMES) == {n for v in images.CLASSES.values() for n in v}
    assert len(images.IMAGE_NAMES) == len(set(images.IMAGE_NAMES)) == 18
    for cls, names in images.CLASSES.items():
        test = images.class_images(cls, "test")
        train = images.class_images(cls, "train")
        assert test == images.HELD_OUT[cls] and set(test) <= set(names)
        assert set(train) | set(test) == set(names) and not set(train) & set(test) and train
    with pytest.raises(ValueError, match="cls"):
        images.class_images("faces")
    with pytest.raises(ValueError, match="split"):
        images.class_images("scans", "validation")


# ---------------------------------------------------------------------------
# rows and patches
# ---------------------------------------------------------------------------


def test_the_sample_budget():
    assert (images.max_samples(256), images.max_samples(32 * 32), images.max_samples(64 * 64)) == (64, 64, 16)
    assert images.max_samples(10**6) == 1


def test_rows_are_the_central_columns_of_evenly_spaced_rows():
    img = np.random.default_rng(0).uniform(size=(100, 300))
    rows = images.image_rows(img, 256, max_count=5)
    idx = [0, 25, 50, 74, 99]  # round(linspace(0, 99, 5))
    np.testing.assert_array_equal(rows, img[idx, 22:278])
    assert images.image_rows(img, 256).shape == (64, 256)
    assert images.image_rows(img[:10], 256).shape == (10, 256)  # fewer rows than the cap: all of them
    with pytest.raises(ValueError, match="wide"):
        images.image_rows(img, 301)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        images.image_rows(img + 1, 256)


def test_patches_are_the_tiles_of_the_centred_grid_in_raster_order():
    img = np.random.default_rng(1).uniform(size=(70, 100))  # 2 x 3 tiles of 32, offsets (3, 2)
    tiles = images.image_patches(img, 32)
    assert tiles.shape == (6, 32, 32)
    np.testing.assert_array_equal(tiles[0], img[3:35, 2:34])
    np.testing.assert_array_equal(tiles[4], img[35:67, 34:66])
    two = images.image_patches(img, 32, max_count=2)
    np.testing.assert_array_equal(two, tiles[[0, 5]])
    with pytest.raises(ValueError, match="at least"):
        images.image_patches(img, 71)


def test_class_samples_skip_images_that_are_too_small_and_refuse_an_empty_class():
    rows = images.class_samples("scans", "rows", 256)
    assert "microaneurysms" not in rows and len(rows) == 5
    assert all(v.shape == (64, 256) for v in rows.values())
    patches = images.class_samples("scans", "patches", 32, "test")
    assert set(patches) == {"moon", "retina"} and patches["moon"].shape == (64, 32 * 32)
    np.testing.assert_array_equal(patches["moon"][0], images.load_image("moon")[:32, :32].ravel())
    with pytest.raises(ValueError, match="empty"):
        images.class_samples("documents", "rows", 500)
    with pytest.raises(ValueError, match="kind"):
        images.class_samples("scans", "columns", 32)


# ---------------------------------------------------------------------------
# the smoothness fit
# ---------------------------------------------------------------------------


def _power_law_images(rng, bs, per_image=40, r=256):
    k = np.arange(1, r + 1)
    return [rng.standard_normal((per_image, r)) * k ** (-b / 2) for b in bs]


def test_fit_smoothness_recovers_a_known_exponent():
    rng = make_rng(3)
    per_image = _power_law_images(rng, [1.7] * 12)
    fit = images.fit_smoothness(per_image, (4, 64), rng, n_boot=200)
    assert abs(fit.b - 1.7) < 0.05
    assert fit.interval[0] < 1.7 < fit.interval[1]
    assert fit.n_images == 12 and fit.k_range == (4, 64) and fit.boot.shape == (200,)
    np.testing.assert_allclose(fit([1.0, 2.0]), fit.prefactor * np.array([1.0, 2.0 ** -fit.b]))


def test_the_bootstrap_is_over_images():
    """Images that differ in smoothness widen the interval; rows of one image cannot hide that."""
    rng = make_rng(4)
    same = images.fit_smoothness(_power_law_images(rng, [1.7] * 10), (4, 64), make_rng(5), n_boot=300)
    mixed = images.fit_smoothness(_power_law_images(rng, np.linspace(1.2, 2.2, 10)), (4, 64), make_rng(5),
                                  n_boot=300)
    width = lambda f: f.interval[1] - f.interval[0]  # noqa: E731
    assert width(mixed) > 3 * width(same)


@pytest.mark.parametrize("k_range", [(0, 10), (4, 257), (4, 5), (10, 4), (4,), "4-64", (4.0, 64)])
def test_a_fit_range_outside_the_spectrum_is_refused(k_range):
    with pytest.raises(ValueError, match="k_range"):
        images.fit_smoothness(_power_law_images(make_rng(0), [2.0]), k_range, make_rng(0))


def test_fit_smoothness_checks_its_other_input():
    rng = make_rng(0)
    good = _power_law_images(rng, [2.0, 2.0])
    with pytest.raises(ValueError, match="per_image"):
        images.fit_smoothness([], (4, 64), rng)
    with pytest.raises(ValueError, match="columns"):
        images.fit_smoothness([good[0], good[1][:, :100]], (4, 64), rng)
    with pytest.raises(ValueError, match="rng"):
        images.fit_smoothness(good, (4, 64), None)
    with pytest.raises(ValueError, match="positive"):
        images.fit_smoothness([np.zeros((3, 256))], (4, 64), rng)
    np.testing.assert_allclose(images.second_moments([[1.0, 2.0], [3.0, 0.0]]), [5.0, 2.0])
