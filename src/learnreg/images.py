r"""Real images that install offline, and the smoothness of real data.

The images
----------
Only photographs and scans that ship *inside* scikit-image's wheel are used
(``skimage.data``; the images it downloads on demand are not reachable
offline, and the synthetic ones, such as the checkerboard, the logo or the
horse silhouette, are not real data). They are grouped by content into four
classes (:data:`CLASSES`); in each class the images in :data:`HELD_OUT` are
never used for training:

============  ==============================================================  ==================
class         images                                                          held out
============  ==============================================================  ==================
photographs   camera, astronaut, chelsea, coffee, rocket, coins, clock        camera, coins
scans         moon, cell, retina, hubble_deep_field, microaneurysms,          moon, retina
              immunohistochemistry
textures      grass, gravel, brick                                            brick
documents     text, page                                                      text
============  ==============================================================  ==================

(``lfw_subset``, 200 faces of 25 x 25 pixels, is smaller than the smallest
patch used here and is left out.)

The stated subsampling rule
---------------------------
1. **Grey values in [0, 1]** (:func:`to_grey`): 8-bit images are divided by
   255, boolean images become 0/1, colour images (an alpha channel is dropped)
   are converted with ``skimage.color.rgb2gray`` (luminance
   :math:`0.2125R + 0.7154G + 0.0721B`).
2. **A common working scale** (:func:`working_scale`): the image is averaged
   over blocks of :math:`f\times f` pixels, :math:`f = \max(1, \lfloor\min(H,W)/256\rfloor)`,
   so that its shorter side lies in [256, 512) (or stays as it is when shorter
   than 256). Block averages are the cell averages of the book's
   discretisation (a grid value is the mean over its cell).
3. **Samples** (:func:`image_rows`, :func:`image_patches`): *rows* are the
   central ``n`` columns of a row; *patches* are the non-overlapping
   ``n x n`` tiles of the centred grid of tiles, in raster order. An image
   gives at most :func:`max_samples` ``= min(64, 2^16 / N)`` samples of
   ``N`` pixels (64 rows of 256, 64 tiles of 32², 16 tiles of 64²), chosen
   evenly spaced (indices ``round(linspace(0, T-1, m))`` among the ``T``
   available), so that no image weighs more than :math:`2^{16}` pixels and
   neighbouring, nearly identical rows do not dominate. An image too small for
   one sample gives none.

Smoothness
----------
For samples :math:`x_i` the second moments in an operator's singular basis are
estimated by :math:`\hat\Pi_k = \frac1M\sum_i\langle x_i,u_k\rangle^2`
(:func:`second_moments`, pooled over the images of a class with their sample
counts as weights). The smoothness exponent :math:`b` is the negative slope of
a least-squares fit of :math:`\log\hat\Pi_k` against :math:`\log k` over a fit
range :math:`k\in[k_1,k_2]` (:func:`fit_smoothness`); its confidence band comes
from a bootstrap **over images** (images, not rows or patches, are the
independent units: rows of one image are strongly correlated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._validate import as_array, check_int, check_real, check_rng
from .fitting import fit_power_law

__all__ = [
    "CLASSES",
    "HELD_OUT",
    "IMAGE_NAMES",
    "WORKING_SIDE",
    "load_image",
    "to_grey",
    "working_scale",
    "max_samples",
    "image_rows",
    "image_patches",
    "class_images",
    "class_samples",
    "second_moments",
    "check_fit_range",
    "SmoothnessFit",
    "fit_smoothness",
]

#: The classes: image names of ``skimage.data`` (all inside the wheel), grouped by content.
CLASSES: dict[str, tuple[str, ...]] = {
    "photographs": ("camera", "astronaut", "chelsea", "coffee", "rocket", "coins", "clock"),
    "scans": ("moon", "cell", "retina", "hubble_deep_field", "microaneurysms", "immunohistochemistry"),
    "textures": ("grass", "gravel", "brick"),
    "documents": ("text", "page"),
}

#: The held-out (test) images of each class; the others are the training images.
HELD_OUT: dict[str, tuple[str, ...]] = {
    "photographs": ("camera", "coins"),
    "scans": ("moon", "retina"),
    "textures": ("brick",),
    "documents": ("text",),
}

#: Every image name the module loads.
IMAGE_NAMES: tuple[str, ...] = tuple(name for names in CLASSES.values() for name in names)

#: The shorter side of the working scale is in [WORKING_SIDE, 2 WORKING_SIDE).
WORKING_SIDE = 256

#: The pixel budget of one image: at most 2^16 pixels of samples.
PIXEL_BUDGET = 2**16

#: At most this many samples per image.
MAX_SAMPLES = 64


def _check_name(name) -> str:
    if name not in IMAGE_NAMES:
        raise ValueError(
            f"name must be one of the images shipped inside scikit-image's wheel that this book uses "
            f"({', '.join(IMAGE_NAMES)}), got {name!r}"
        )
    return name


def _check_class(cls) -> str:
    if cls not in CLASSES:
        raise ValueError(f"cls must be one of {', '.join(map(repr, CLASSES))}, got {cls!r}")
    return cls


def to_grey(image) -> np.ndarray:
    """Grey values in [0, 1] as a float64 array of shape (H, W) (rule 1 of the module docstring).

    Parameters
    ----------
    image : array_like
        ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA; dtype uint8
        (0..255), bool, or float with values in [0, 1].

    Examples
    --------
    >>> to_grey(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[0.0, 1.0]]
    """
    if isinstance(image, (str, bytes)):
        raise ValueError("image must be an array, got a string")
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"image must have shape (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"image must not be empty, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        arr = arr.astype(float)
    elif arr.dtype == np.uint8:
        arr = arr / 255.0
    elif np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(float)
        if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
            raise ValueError("a float image must have finite values in [0, 1]")
    else:
        raise ValueError(f"image must have dtype uint8, bool or float (values in [0, 1]), got {arr.dtype}")
    if arr.ndim == 3:
        from skimage.color import rgb2gray

        arr = rgb2gray(arr[..., :3])
    return np.ascontiguousarray(arr, dtype=float)


def working_scale(image, side: int = WORKING_SIDE) -> np.ndarray:
    r"""Block-average a grey image by :math:`f = \max(1, \lfloor\min(H,W)/\mathrm{side}\rfloor)` (rule 2).

    Rows and columns beyond the last full block are dropped.

    Examples
    --------
    >>> working_scale(np.arange(16.0).reshape(4, 4), side=2).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    img = as_array(image, "image", ndim=2)
    side = check_int(side, "side", minimum=1)
    f = max(1, min(img.shape) // side)
    H, W = (img.shape[0] // f) * f, (img.shape[1] // f) * f
    return img[:H, :W].reshape(H // f, f, W // f, f).mean(axis=(1, 3))


@lru_cache(maxsize=None)
def _load(name: str) -> np.ndarray:
    import skimage.data

    img = working_scale(to_grey(getattr(skimage.data, name)()))
    img.setflags(write=False)
    return img


def load_image(name: str) -> np.ndarray:
    """The image ``name`` of ``skimage.data`` in grey values, at the working scale (rules 1 and 2).

    The result is read-only (it is cached); copy it to change it.
    """
    return _load(_check_name(name))


def max_samples(pixels: int) -> int:
    r"""At most :math:`\min(64, 2^{16}/N)` samples of :math:`N` pixels per image (rule 3).

    Examples
    --------
    >>> max_samples(256), max_samples(32 * 32), max_samples(64 * 64)
    (64, 64, 16)
    """
    pixels = check_int(pixels, "pixels", minimum=1)
    return max(1, min(MAX_SAMPLES, PIXEL_BUDGET // pixels))


def _evenly(count: int, m: int) -> np.ndarray:
    """Indices of m of count items, evenly spaced, first and last included."""
    if m >= count:
        return np.arange(count)
    return np.round(np.linspace(0, count - 1, m)).astype(int)


def _grey_image(image, name: str = "image") -> np.ndarray:
    img = as_array(image, name, ndim=2)
    if img.min() < 0 or img.max() > 1:
        raise ValueError(f"{name} must hold grey values in [0, 1] (use to_grey)")
    return img


def image_rows(image, n: int, max_count: int | None = None) -> np.ndarray:
    """Rows of length ``n`` of a grey image: the central ``n`` columns of evenly spaced rows (rule 3).

    Parameters
    ----------
    image : array_like, shape (H, W)
        Grey values in [0, 1].
    n : int
        Row length (``W >= n`` is required).
    max_count : int, optional
        At most this many rows (default :func:`max_samples` ``(n)``).

    Returns
    -------
    ndarray, shape (m, n)
    """
    img = _grey_image(image)
    n = check_int(n, "n", minimum=2)
    if img.shape[1] < n:
        raise ValueError(f"image must be at least n = {n} pixels wide for rows of length n, got width {img.shape[1]}")
    m = max_samples(n) if max_count is None else check_int(max_count, "max_count", minimum=1)
    c0 = (img.shape[1] - n) // 2
    return img[_evenly(img.shape[0], m), c0:c0 + n].copy()


def image_patches(image, n: int, max_count: int | None = None) -> np.ndarray:
    """Non-overlapping ``n x n`` tiles of a grey image, evenly spaced in raster order (rule 3).

    Parameters
    ----------
    image : array_like, shape (H, W)
        Grey values in [0, 1]; ``H, W >= n`` is required.
    n : int
        Tile side.
    max_count : int, optional
        At most this many tiles (default :func:`max_samples` ``(n*n)``).

    Returns
    -------
    ndarray, shape (m, n, n)
    """
    img = _grey_image(image)
    n = check_int(n, "n", minimum=2)
    if min(img.shape) < n:
        raise ValueError(f"image must be at least {n} x {n} pixels for tiles of side n, got shape {img.shape}")
    m = max_samples(n * n) if max_count is None else check_int(max_count, "max_count", minimum=1)
    H, W = img.shape
    nh, nw = H // n, W // n
    oh, ow = (H - nh * n) // 2, (W - nw * n) // 2
    tiles = img[oh:oh + nh * n, ow:ow + nw * n].reshape(nh, n, nw, n).transpose(0, 2, 1, 3).reshape(-1, n, n)
    return tiles[_evenly(tiles.shape[0], m)].copy()


def class_images(cls: str, split: str = "all") -> tuple[str, ...]:
    """The image names of class ``cls``: ``split`` is 'all', 'train' (not held out) or 'test' (held out)."""
    cls = _check_class(cls)
    if split not in ("all", "train", "test"):
        raise ValueError(f"split must be 'all', 'train' or 'test', got {split!r}")
    names = CLASSES[cls]
    if split == "train":
        return tuple(n for n in names if n not in HELD_OUT[cls])
    if split == "test":
        return tuple(n for n in names if n in HELD_OUT[cls])
    return names


def class_samples(cls: str, kind: str, n: int, split: str = "all") -> dict[str, np.ndarray]:
    """The samples of every image of a class that is large enough: ``{image name: (m, N) array}``.

    Parameters
    ----------
    cls : str
        A class of :data:`CLASSES`.
    kind : {'rows', 'patches'}
        Rows of length ``n`` (``N = n``) or ``n x n`` patches, flattened row by
        row (``N = n*n``, the layout of :class:`~learnreg.operators.Radon`).
    n : int
    split : {'all', 'train', 'test'}

    Raises
    ------
    ValueError
        If no image of the class gives a sample (an empty class).
    """
    if kind not in ("rows", "patches"):
        raise ValueError(f"kind must be 'rows' or 'patches', got {kind!r}")
    n = check_int(n, "n", minimum=2)
    out = {}
    for name in class_images(cls, split):
        img = load_image(name)
        if kind == "rows" and img.shape[1] >= n:
            out[name] = image_rows(img, n)
        elif kind == "patches" and min(img.shape) >= n:
            out[name] = image_patches(img, n).reshape(-1, n * n)
    if not out:
        raise ValueError(f"class {cls!r} ({split} images) is empty: no image is large enough for {kind} of size {n}")
    return out


def second_moments(coefficients) -> np.ndarray:
    r"""Estimated second moments :math:`\hat\Pi_k = \frac1M\sum_i c_{ik}^2` of coefficients ``(M, r)``."""
    c = as_array(coefficients, "coefficients", ndim=2)
    return np.mean(c**2, axis=0)


def check_fit_range(k_range, r: int) -> tuple[int, int]:
    """Check a fit range ``(k1, k2)`` of mode indices: ``1 <= k1``, ``k2 <= r``, at least 3 modes."""
    r = check_int(r, "r", minimum=1)
    if isinstance(k_range, (str, bytes)) or not hasattr(k_range, "__len__") or len(k_range) != 2:
        raise ValueError(f"k_range must be a pair (k1, k2) of mode indices, got {k_range!r}")
    k1, k2 = (check_int(v, "k_range") for v in k_range)
    if k1 < 1 or k2 > r or k2 - k1 < 2:
        raise ValueError(
            f"k_range must lie inside the spectrum 1..{r} and hold at least 3 modes, got ({k1}, {k2})"
        )
    return k1, k2


@dataclass(frozen=True)
class SmoothnessFit:
    r"""The fitted smoothness of a class: :math:`\hat\Pi_k \approx C k^{-b}` over a fit range.

    Attributes
    ----------
    b : float
        The exponent fitted to the pooled moments.
    prefactor : float
        :math:`C`.
    k_range : tuple of int
        The fit range :math:`[k_1, k_2]`.
    interval : tuple of float
        The bootstrap interval of b (percentiles ``(1-level)/2`` and ``(1+level)/2``).
    boot : ndarray, shape (n_boot,)
        The bootstrap exponents.
    n_images : int
        Number of images pooled.
    """

    b: float
    prefactor: float
    k_range: tuple
    interval: tuple
    boot: np.ndarray
    n_images: int

    def __call__(self, k):
        """The fitted power law at ``k``."""
        return self.prefactor * np.asarray(k, dtype=float) ** (-self.b)


def _fit_b(k, moments):
    fit = fit_power_law(k, moments)
    return -fit.slope, fit.prefactor


def fit_smoothness(per_image, k_range, rng: np.random.Generator, *, n_boot: int = 1000,
                   level: float = 0.9) -> SmoothnessFit:
    r"""Fit :math:`\hat\Pi_k \approx Ck^{-b}` and a bootstrap interval of b over images.

    Parameters
    ----------
    per_image : sequence of array_like, each shape (m_j, r)
        The singular coefficients of the samples of each image (one array per
        image, ``m_j >= 1`` rows each).
    k_range : (int, int)
        Fit range :math:`[k_1, k_2]` (1-based mode indices, inclusive).
    rng : numpy.random.Generator
        Draws the bootstrap resamples: images drawn with replacement, the
        moments pooled with the images' sample counts as weights.
    n_boot : int
    level : float
        Coverage of the interval (default 0.9: the 5th and 95th percentiles).
    """
    if isinstance(per_image, np.ndarray) or not hasattr(per_image, "__len__") or len(per_image) == 0:
        raise ValueError("per_image must be a non-empty sequence of coefficient arrays, one per image")
    coeffs = [as_array(c, "per_image", ndim=2) for c in per_image]
    r = coeffs[0].shape[1]
    if any(c.shape[1] != r for c in coeffs):
        raise ValueError("per_image arrays must all have the same number of columns (modes)")
    k1, k2 = check_fit_range(k_range, r)
    check_rng(rng)
    n_boot = check_int(n_boot, "n_boot", minimum=10)
    level = check_real(level, "level", minimum=0.5, maximum=0.999)
    counts = np.array([c.shape[0] for c in coeffs], dtype=float)
    sums = np.array([np.sum(c**2, axis=0) for c in coeffs])  # (J, r)
    k = np.arange(k1, k2 + 1, dtype=float)
    sel = slice(k1 - 1, k2)
    pooled = sums.sum(axis=0) / counts.sum()
    if np.any(pooled[sel] <= 0):
        raise ValueError("the moments must be positive over the fit range")
    b, C = _fit_b(k, pooled[sel])
    J = len(coeffs)
    draws = rng.integers(0, J, size=(n_boot, J))
    boot = np.empty(n_boot)
    for i, idx in enumerate(draws):
        moments = sums[idx].sum(axis=0)[sel] / counts[idx].sum()
        boot[i] = _fit_b(k, moments)[0]
    q = (1 - level) / 2
    interval = (float(np.quantile(boot, q)), float(np.quantile(boot, 1 - q)))
    return SmoothnessFit(b=float(b), prefactor=float(C), k_range=(k1, k2), interval=interval, boot=boot,
                         n_images=J)
