"""Shared pieces of the CNN subpackage: the torch dtype and thread count and shape arguments."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from .._validate import check_int

__all__ = ["TORCH_THREADS", "DTYPE", "torch_threads", "as_shape", "as_kernel_size"]

#: Threads torch may use while this module computes (2-core machines: 1 keeps
#: the other core free and makes results bit-reproducible).
TORCH_THREADS = 1

#: Every tensor of the subpackage is float64.
DTYPE = torch.float64


@contextlib.contextmanager
def torch_threads(n: int = TORCH_THREADS):
    """Let torch use ``n`` threads inside the block, and restore its setting afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def as_shape(shape) -> tuple[int, ...]:
    """A signal length or image shape as a tuple of 1 or 2 ints, each at least 2."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if isinstance(shape, (str, bytes)):
        raise ValueError(f"shape must be an int or a tuple of 1 or 2 ints, got {shape!r}")
    try:
        shape = tuple(shape)
    except TypeError as exc:
        raise ValueError(f"shape must be an int or a tuple of 1 or 2 ints, got {shape!r}") from exc
    if len(shape) not in (1, 2):
        raise ValueError(f"shape must have 1 or 2 entries (1D signal or 2D image), got {shape!r}")
    return tuple(check_int(s, "shape", minimum=2) for s in shape)


def as_kernel_size(kernel_size, ndim: int) -> tuple[int, ...]:
    """A kernel size as a tuple of ``ndim`` ints, each at least 2 (an int is repeated)."""
    if isinstance(kernel_size, (int, np.integer)) and not isinstance(kernel_size, bool):
        kernel_size = (int(kernel_size),) * ndim
    if isinstance(kernel_size, (str, bytes)):
        raise ValueError(f"kernel_size must be an int or a tuple of {ndim} ints, got {kernel_size!r}")
    try:
        kernel_size = tuple(kernel_size)
    except TypeError as exc:
        raise ValueError(f"kernel_size must be an int or a tuple of {ndim} ints") from exc
    if len(kernel_size) != ndim:
        raise ValueError(f"kernel_size must have {ndim} entries for a {ndim}D signal, got {kernel_size!r}")
    return tuple(check_int(k, "kernel_size", minimum=2) for k in kernel_size)
