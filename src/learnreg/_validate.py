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
