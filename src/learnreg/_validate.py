"""Argument checks shared by the public API.

Every public function validates its input with these helpers, so that bad
input raises a :class:`ValueError` that names the argument and says what was
expected, instead of failing deep inside numpy or silently producing NaN.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "as_array",
    "check_choice",
    "check_int",
    "check_real",
    "check_rng",
    "check_same_length",
    "check_sequence",
    "check_singular_values",
    "check_spectrum",
]


def as_array(
    value,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: tuple | None = None,
    finite: bool = True,
    nonnegative: bool = False,
    positive: bool = False,
    allow_empty: bool = False,
) -> np.ndarray:
    """Convert ``value`` to a float array and check it.

    Parameters
    ----------
    value : array_like
        The input.
    name : str
        The argument name used in error messages.
    ndim : int or sequence of int, optional
        Allowed numbers of dimensions.
    shape : tuple, optional
        Required shape; ``None`` entries match any length.
    finite, nonnegative, positive : bool
        Value constraints.
    allow_empty : bool
        Whether an array with zero elements is acceptable.
    """
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a numeric array, got a string")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(
                f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {arr.shape}"
            )
    if shape is not None:
        if arr.ndim != len(shape) or any(
            want is not None and want != got for want, got in zip(shape, arr.shape)
        ):
            expected = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {expected}, got {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be strictly positive")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    return arr


def check_real(
    value,
    name: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """Check that ``value`` is a finite real scalar and return it as float."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    if positive and out <= 0:
        raise ValueError(f"{name} must be positive, got {out}")
    if nonnegative and out < 0:
        raise ValueError(f"{name} must be non-negative, got {out}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {out}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {out}")
    return out


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check that ``value`` is an integer (not a bool) within bounds."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {out}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {out}")
    return out


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Check that ``rng`` is a :class:`numpy.random.Generator`.

    The project never uses numpy's global random state; every random draw goes
    through a generator created by :func:`learnreg.data.make_rng` and passed
    explicitly.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator (use learnreg.make_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_same_length(**arrays) -> int:
    """Check that all given 1D arrays have the same length and return it."""
    lengths = {name: np.shape(arr)[0] if np.ndim(arr) else None for name, arr in arrays.items()}
    distinct = set(lengths.values())
    if len(distinct) != 1 or None in distinct:
        detail = ", ".join(f"{k} has length {v}" for k, v in lengths.items())
        raise ValueError(f"arguments must have the same length: {detail}")
    return distinct.pop()


# ---------------------------------------------------------------------------
# Spectra: singular values and the sequences indexed by k that go with them
# ---------------------------------------------------------------------------


def check_singular_values(s, name: str = "s") -> np.ndarray:
    """Check a 1D array of strictly positive singular values and return it as float."""
    return as_array(s, name, ndim=1, positive=True)


def check_sequence(
    value,
    name: str,
    length: int | None = None,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    allow_inf: bool = False,
) -> np.ndarray:
    """Check a sequence indexed by k (one entry per singular value) and return it as a 1D float array.

    A scalar is broadcast to ``length`` entries (or to one entry if ``length``
    is None). With ``allow_inf``, entries may be :math:`\\pm\\infty` (never NaN).
    """
    arr = as_array(value, name, ndim=(0, 1), finite=not allow_inf, positive=positive, nonnegative=nonnegative)
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN")
    if arr.ndim == 0:
        arr = arr.reshape(1) if length is None else np.full(length, float(arr))
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have one entry per singular value ({length}), got {arr.shape[0]}")
    return np.asarray(arr, dtype=float)


def check_spectrum(s, **moments) -> list[np.ndarray]:
    """Check singular values ``s`` and non-negative sequences of the same length (moments, parameters).

    Returns ``[s, *moments.values()]`` as float arrays; a scalar moment is
    broadcast to the length of ``s``.

    Examples
    --------
    >>> s, Pi, Delta = check_spectrum([1.0, 0.5], Pi=[1.0, 0.25], Delta=0.01)
    >>> Delta.tolist()
    [0.01, 0.01]
    """
    s = check_singular_values(s)
    return [s] + [check_sequence(v, name, s.shape[0], nonnegative=True) for name, v in moments.items()]
