"""Argument checks shared by the public API: the package's input policy.

Every public function validates its input with these helpers, so that bad
input raises a :class:`ValueError` that names the argument the caller passed
and says what was expected, instead of failing deep inside numpy or silently
producing NaN or inf.

The input policy
----------------
Numbers
    Arrays and scalars must hold real numbers: integer or floating dtypes.
    Complex values are refused (their imaginary part would be lost), and so are
    strings, objects, dates and structured data.
Booleans
    ``True``/``False`` (and boolean arrays) are refused where numbers are
    expected: they are never read as 1/0. Where a flag is expected, only
    ``bool`` and ``numpy.bool_`` are accepted (:func:`check_bool`): a string
    such as ``'no'`` is refused rather than read as true.
Finite values
    NaN and infinity are refused, except where a function documents that
    :math:`+\\infty` is meaningful (e.g. a weight that switches a mode off).
Magnitudes
    Every number must satisfy :math:`|x| \\le` :data:`MAX_MAGNITUDE` (``1e150``),
    so that its square, and sums of squares, are finite. Entries that are not
    zero must be at least :data:`MIN_POSITIVE` (the smallest normal float,
    about ``2.2e-308``) in magnitude: subnormal numbers are refused, because a
    division by them overflows. Values that must be positive (singular values,
    cell sizes, noise levels) are therefore at least :data:`MIN_POSITIVE`.
Results
    Where the inputs are admissible but a result would still not be
    representable (a product of several large numbers, a division by a very
    small one), :func:`finite_result` turns the overflow into a
    :class:`ValueError` that lists the inputs and their magnitudes.
Sizes
    Before a large array is allocated, its size is estimated; beyond
    :data:`MAX_BYTES` (2 GiB, or ``$LEARNREG_MAX_BYTES`` bytes) the call is refused
    with a :class:`ValueError` that says how much was asked (:func:`check_bytes`).
Iterations
    Iteration counts (steps, samples drawn in a loop, solver iterations) are at
    most :data:`MAX_ITERATIONS` (``10**6``) (:func:`check_iterations`). Where a
    loop always runs its full count (training steps, attack steps, Monte Carlo
    draws), its work (iterations times the size of the arrays each one touches)
    is at most :data:`MAX_WORK` (``1e11`` elementary operations, minutes rather
    than days) (:func:`check_work`); a solver's ``max_iter`` is only an upper
    bound (it stops when it converges) and is bounded by its count alone.
Names
    Error messages use the name of the argument as the caller passed it.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import numbers
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "MAX_MAGNITUDE",
    "MIN_POSITIVE",
    "MAX_BYTES",
    "MAX_ITERATIONS",
    "MAX_WORK",
    "as_array",
    "check_bool",
    "check_bytes",
    "check_choice",
    "check_directory",
    "check_int",
    "check_iterations",
    "check_real",
    "check_rng",
    "check_same_length",
    "check_sequence",
    "check_singular_values",
    "check_spectrum",
    "check_work",
    "finite_result",
    "format_bytes",
]

#: Largest magnitude accepted for any input number: squares and sums of squares stay finite.
MAX_MAGNITUDE = 1e150

#: Smallest non-zero magnitude accepted (the smallest normal float); subnormal numbers are refused.
MIN_POSITIVE = float(np.finfo(float).tiny)


def _max_bytes_from_environment() -> int:
    value = os.environ.get("LEARNREG_MAX_BYTES", "")
    try:
        out = int(value)
    except ValueError:
        return 2 * 1024**3
    return out if out > 0 else 2 * 1024**3


#: Largest estimated memory (bytes) of the arrays one call may allocate (2 GiB unless
#: ``$LEARNREG_MAX_BYTES`` says otherwise).
MAX_BYTES = _max_bytes_from_environment()

#: Largest iteration count (steps, solver iterations, samples drawn one at a time).
MAX_ITERATIONS = 10**6

#: Largest number of elementary operations of nested loops (iterations times array sizes).
MAX_WORK = 10**11

_NUMERIC_KINDS = {"f": "floating", "i": "integer", "u": "unsigned integer"}
_REFUSED_KINDS = {
    "b": "boolean values (True/False are not taken as 1/0)",
    "c": "complex values (the imaginary part would be lost)",
    "O": "Python objects",
    "U": "strings",
    "S": "bytes",
    "M": "dates",
    "m": "time differences",
    "V": "structured data",
}


def _refuse_kind(kind: str, name: str, what: str = "a real numeric array") -> None:
    if kind not in _NUMERIC_KINDS:
        got = _REFUSED_KINDS.get(kind, f"dtype kind {kind!r}")
        raise ValueError(f"{name} must be {what}, got {got}")


def _check_magnitudes(arr: np.ndarray, name: str) -> None:
    """Refuse magnitudes above MAX_MAGNITUDE and subnormal entries (finite entries only)."""
    if arr.size == 0:
        return
    a = np.abs(arr)
    finite = np.isfinite(a)
    if not finite.all():
        a = a[finite]
        if a.size == 0:
            return
    big = float(a.max())
    if big > MAX_MAGNITUDE:
        raise ValueError(
            f"{name} must have magnitudes at most {MAX_MAGNITUDE:.0e} (so that squares stay finite), "
            f"got {big:.3g}"
        )
    tiny = (a > 0) & (a < MIN_POSITIVE)
    if tiny.any():
        raise ValueError(
            f"{name} must not hold subnormal numbers (non-zero entries must be at least "
            f"{MIN_POSITIVE:.3g} in magnitude), got {float(a[tiny][0]):.3g}"
        )


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
    """Convert ``value`` to a float array and check it against the input policy.

    Parameters
    ----------
    value : array_like
        The input: real numbers (integer or floating dtype). Booleans, complex
        numbers, strings and objects are refused.
    name : str
        The argument name used in error messages.
    ndim : int or sequence of int, optional
        Allowed numbers of dimensions.
    shape : tuple, optional
        Required shape; ``None`` entries match any length.
    finite : bool
        Refuse NaN and infinity (with ``finite=False`` only NaN is refused).
    nonnegative, positive : bool
        Value constraints (positive means at least :data:`MIN_POSITIVE`).
    allow_empty : bool
        Whether an array with zero elements is acceptable.
    """
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a numeric array, got a string")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__} ({exc})") from exc
    _refuse_kind(raw.dtype.kind, name)
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:  # pragma: no cover - numeric kinds always convert
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
    if not finite and np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN")
    _check_magnitudes(arr, name)
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
    """Check that ``value`` is a finite real scalar within the input policy and return it as float.

    Python and numpy integers and floats are accepted; booleans, complex
    numbers, strings and arrays are refused.
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a real number, got a boolean ({value!r}; True/False are not taken as 1/0)")
    if isinstance(value, (complex, np.complexfloating)):
        raise ValueError(f"{name} must be a real number, got a complex number ({value!r})")
    if not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        out = float(value)
    except OverflowError as exc:  # an int too large for a float
        raise ValueError(f"{name} must have magnitude at most {MAX_MAGNITUDE:.0e}, got {value}") from exc
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    if abs(out) > MAX_MAGNITUDE:
        raise ValueError(f"{name} must have magnitude at most {MAX_MAGNITUDE:.0e}, got {out:.3g}")
    if 0 < abs(out) < MIN_POSITIVE:
        raise ValueError(f"{name} must not be subnormal (0 or at least {MIN_POSITIVE:.3g} in magnitude), got {out:.3g}")
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
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
    out = int(value)
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {out}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {out}")
    return out


def check_iterations(value, name: str, *, minimum: int = 1) -> int:
    """Check an iteration count: an integer between ``minimum`` and :data:`MAX_ITERATIONS`."""
    return check_int(value, name, minimum=minimum, maximum=MAX_ITERATIONS)


def check_bool(value, name: str) -> bool:
    """Check a flag: only ``True``/``False`` (``bool`` or ``numpy.bool_``) are accepted.

    Strings, numbers and None are refused, so that ``'no'`` or ``'False'`` can
    never be read as true.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {type(value).__name__} ({value!r})")
    return bool(value)


def format_bytes(n: float) -> str:
    """A byte count in binary units, e.g. ``'6.7 GiB'``."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024 or unit == "EiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def check_bytes(n_bytes: float, what: str) -> None:
    """Refuse a computation whose arrays would need more than :data:`MAX_BYTES` bytes.

    ``what`` describes the request, e.g. ``"the SVD of Integration(n=30000)"``;
    the message says how much it would need and what the limit is.
    """
    if n_bytes > MAX_BYTES:
        raise ValueError(
            f"{what} would need about {format_bytes(n_bytes)} of memory; the limit is "
            f"{format_bytes(MAX_BYTES)} (learnreg._validate.MAX_BYTES, set by $LEARNREG_MAX_BYTES)"
        )


def check_work(n_operations: float, what: str) -> None:
    """Refuse a computation of more than :data:`MAX_WORK` elementary operations (nested loops)."""
    if n_operations > MAX_WORK:
        raise ValueError(
            f"{what} would take about {float(n_operations):.3g} elementary operations; "
            f"the limit is {float(MAX_WORK):.0e} (learnreg._validate.MAX_WORK)"
        )


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
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


def check_directory(value, name: str) -> Path:
    """Check a folder argument: a non-empty string or path-like object.

    An empty string is refused rather than read as the current folder.
    """
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name} must be a folder (str or os.PathLike), got {type(value).__name__} ({value!r})")
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{name} must name a folder; an empty string is not the current folder")
    if "\x00" in text:
        raise ValueError(f"{name} must be a folder name without NUL characters")
    return Path(text)


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


# ---------------------------------------------------------------------------
# Results: overflow becomes a ValueError that lists the inputs
# ---------------------------------------------------------------------------


def _non_finite(out, allow_inf: bool) -> bool:
    """Whether a result holds NaN (or, unless allowed, infinity) in any float it contains."""
    if out is None or isinstance(out, (str, bytes, bool, np.bool_, int, np.integer)):
        return False
    if isinstance(out, (float, np.floating)):
        return bool(np.isnan(out)) if allow_inf else not bool(np.isfinite(out))
    if isinstance(out, np.ndarray):
        if out.dtype.kind not in "fc":
            return False
        return bool(np.isnan(out).any()) if allow_inf else not bool(np.isfinite(out).all())
    if isinstance(out, (tuple, list)):
        return any(_non_finite(o, allow_inf) for o in out)
    if isinstance(out, dict):
        return any(_non_finite(o, allow_inf) for o in out.values())
    if hasattr(out, "__dataclass_fields__"):
        return any(_non_finite(getattr(out, f), allow_inf) for f in out.__dataclass_fields__)
    if type(out).__module__.startswith("torch") and hasattr(out, "isfinite"):
        return not bool(out.isfinite().all()) if not allow_inf else bool(out.isnan().any())
    return False


def _magnitude(value) -> str | None:
    """The range of magnitudes of a numeric argument, e.g. ``'up to 1e+150'``; None if not numeric."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        return None
    if isinstance(value, (numbers.Real, np.floating, np.integer)):
        return f"= {float(value):.3g}"
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            arr = np.abs(np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            return None
        arr = arr[np.isfinite(arr) & (arr > 0)]
        if arr.size == 0:
            return "all zero" if np.asarray(value).size else None
        return f"from {float(arr.min()):.3g} to {float(arr.max()):.3g} in magnitude"
    return None


def _bound_arguments(signature, args, kwargs) -> dict:
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:
        return {}
    return {k: v for k, v in bound.arguments.items() if k != "self"}


def _overflow_message(func, signature, args, kwargs, exc) -> str:
    parts = []
    for pname, value in _bound_arguments(signature, args, kwargs).items():
        desc = _magnitude(value)
        if desc is not None:
            parts.append(f"{pname} {desc}")
    detail = "; ".join(parts) if parts else "no numeric arguments"
    cause = f" ({exc})" if exc is not None else ""
    return (
        f"{func.__qualname__}: the result is not representable in floating point for these inputs{cause}: "
        f"{detail}. Each input is admissible on its own, but together they overflow, underflow or divide "
        "by a number too close to 0; rescale the problem (divide the data by its largest value)."
    )


def _names_any(message: str, names) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


#: How many public functions (decorated with finite_result) are running, nested, in this context.
_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("learnreg_public_call_depth", default=0)


def finite_result(func=None, *, allow_inf: bool = False, trap: bool = True):
    """Decorator: a public function never returns NaN or inf that its inputs did not ask for.

    With ``trap`` (the default) the function runs with numpy's floating-point
    errors raised (overflow, division by zero, invalid operations), except where
    its code ignores them explicitly; any such error (and a singular or
    non-converging linear-algebra problem), and any NaN or infinity in
    the result, becomes a :class:`ValueError` naming the arguments and their
    magnitudes. ``allow_inf`` lets a documented :math:`+\\infty` through (NaN
    never passes). Results on admissible, representable input are unchanged.

    A public function that calls another one passes it intermediate results;
    if those break the input policy (an intermediate value beyond
    :data:`MAX_MAGNITUDE`, or subnormal), the inner function's error would name
    an argument the caller never passed. Such an error is re-raised naming the
    outer function's arguments and their magnitudes, with the inner message as
    the cause.
    """
    if func is None:
        return functools.partial(finite_result, allow_inf=allow_inf, trap=trap)
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        depth = _DEPTH.get() + 1
        token = _DEPTH.set(depth)
        try:
            if trap:
                with np.errstate(over="raise", divide="raise", invalid="raise"):
                    out = func(*args, **kwargs)
            else:
                out = func(*args, **kwargs)
        except (FloatingPointError, OverflowError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
            error = ValueError(_overflow_message(func, signature, args, kwargs, exc))
            error.learnreg_depth = depth
            raise error from exc
        except ValueError as exc:
            origin = getattr(exc, "learnreg_depth", None)
            if origin is None:
                exc.learnreg_depth = depth
                raise
            names = _bound_arguments(signature, args, kwargs)
            if origin > depth and not _names_any(str(exc), names):
                error = ValueError(_overflow_message(func, signature, args, kwargs, exc))
                error.learnreg_depth = depth
                raise error from exc
            raise
        finally:
            _DEPTH.reset(token)
        if _non_finite(out, allow_inf):
            raise ValueError(_overflow_message(func, signature, args, kwargs, None))
        return out

    return wrapper
