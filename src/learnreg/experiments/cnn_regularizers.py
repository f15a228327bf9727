r"""Experiments of the CNN chapter: training runs over several seeds, per-channel summaries, timings.

:func:`benchmark` times one run of each of the chapter's experiment types for
``make bench``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from .._progress import progress_bar
from .._validate import check_bool, check_iterations, check_real, check_rng
from ..cnn import CNNRegularizer, CNNTrainingResult, kernel_sum, stencil_similarity, top2_energy, train, tv_parameter

__all__ = ["MAX_RUNS", "Run", "train_seeds", "channel_summary", "benchmark"]

#: Largest number of training runs :func:`train_seeds` starts in one call.
MAX_RUNS = 1000


@dataclass
class Run:
    """One training run: its index, the trained regularizer and its history."""

    index: int
    reg: CNNRegularizer
    result: CNNTrainingResult


def train_seeds(
    rngs,
    shape,
    kernel_size,
    channels: int,
    A,
    X,
    Y,
    *,
    zero_mean: bool = True,
    strength: float = 0.1,
    smoothing: float = 0.1,
    learn_smoothing: bool = True,
    desc: str = "train",
    **train_kw,
) -> list[Run]:
    """Train one regularizer per generator in ``rngs`` (random initial kernels and batches from it).

    Keyword arguments not listed are passed on to :func:`train`; one progress
    bar covers all runs.
    """
    if isinstance(rngs, (np.random.Generator, str, bytes)) or not hasattr(rngs, "__iter__"):
        raise ValueError(
            f"rngs must be a sequence of numpy.random.Generator (e.g. learnreg.data.spawn(rng, k)), "
            f"got {type(rngs).__name__}"
        )
    rngs = list(rngs)
    if not rngs:
        raise ValueError("rngs must hold at least one numpy.random.Generator")
    if len(rngs) > MAX_RUNS:
        raise ValueError(f"rngs must hold at most {MAX_RUNS} generators (one training run each), got {len(rngs)}")
    for i, r in enumerate(rngs):
        check_rng(r, f"rngs[{i}]")
    accepted = set(inspect.signature(train).parameters) - {"reg", "A", "X", "Y", "rng", "desc"}
    unknown = sorted(set(train_kw) - accepted)
    if unknown:
        raise ValueError(
            f"train_seeds takes no argument {', '.join(map(repr, unknown))}; further keyword arguments "
            f"go to learnreg.cnn.train: {', '.join(sorted(accepted))}"
        )
    if not isinstance(desc, str):
        raise ValueError(f"desc must be a string, got {type(desc).__name__}")
    progress = check_bool(train_kw.pop("progress", True), "progress")
    steps = check_iterations(train_kw.get("steps", 100), "steps")
    bar = progress_bar(len(rngs) * steps, f"{desc} ({len(rngs)} runs)") if progress else False
    runs = []
    try:
        for i, r in enumerate(rngs):
            reg = CNNRegularizer(
                shape, kernel_size, channels, rng=r, zero_mean=zero_mean, strength=strength,
                smoothing=smoothing, learn_smoothing=learn_smoothing,
            )
            res = train(reg, A, X, Y, r, desc=f"{desc} #{i}", progress=bar, **train_kw)
            runs.append(Run(i, reg, res))
    finally:
        if bar:
            bar.close()
    return runs


def channel_summary(runs: list[Run], noise: float, *, order: int = 1) -> list[dict]:
    r"""One row per run and channel: cosine to the nearest stencil, its family, top-2 energy,
    kernel sum, :math:`\varepsilon/\sigma`, :math:`\lambda`, and (1D) the equivalent TV parameter."""
    noise = check_real(noise, "noise", positive=True)
    if isinstance(runs, Run) or not isinstance(runs, (list, tuple)) or not all(isinstance(r, Run) for r in runs):
        raise ValueError("runs must be a list of Run (as returned by train_seeds)")
    rows = []
    for run in runs:
        snap = run.reg.snapshot()
        for j, w in enumerate(snap["kernels"]):
            cos, fam = stencil_similarity(w, order=order)
            row = {
                "run": run.index,
                "channel": j,
                "cosine": cos,
                "family": fam,
                "top2": top2_energy(w),
                "sum": kernel_sum(w),
                "eps/noise": float(snap["smoothing"][j] / noise),
                "strength": float(snap["strength"][j]),
                "seconds": run.result.seconds,
            }
            if w.ndim == 1:
                row["tv_alpha"] = tv_parameter(w, float(snap["strength"][j]))
            rows.append(row)
    return rows


def benchmark(*, steps: int = 100) -> list[dict]:
    """Training time of one run of each of the chapter's experiment types (for the benchmark table).

    Returns rows with ``name``, ``seconds`` (wall clock of :func:`train`) and
    ``steps``: 1D denoising (implicit), 1D deblurring (implicit, fixed
    :math:`\\varepsilon`), 1D deblurring unrolled (10 steps), 2D denoising
    (2x2 kernels, two channels).
    """
    from ..data import cartoon_images, make_rng, piecewise_constant
    from ..operators import PeriodicConvolution

    steps = check_iterations(steps, "steps")
    rng = make_rng(0)
    out = []
    X = piecewise_constant(128, 256, rng)
    Y = X + 0.15 * rng.standard_normal(X.shape)
    r = train_seeds([make_rng(1)], 128, 5, 1, None, X, Y, steps=steps, progress=False)[0]
    out.append({"name": "cnn 1D denoising (implicit)", "seconds": r.result.seconds, "steps": steps})
    A = PeriodicConvolution(64, sigma=0.02).matrix
    X = piecewise_constant(64, 128, rng)
    Y = X @ A.T + 0.05 * rng.standard_normal(X.shape)
    r = train_seeds([make_rng(2)], 64, 5, 1, A, X, Y, smoothing=0.01, learn_smoothing=False, steps=steps, progress=False)[0]
    out.append({"name": "cnn 1D deblurring (implicit)", "seconds": r.result.seconds, "steps": steps})
    r = train_seeds(
        [make_rng(3)], 64, 5, 1, A, X, Y, smoothing=0.01, learn_smoothing=False, steps=steps,
        method="unrolled", unroll_steps=10, progress=False,
    )[0]
    out.append({"name": "cnn 1D deblurring (unrolled, 10 steps)", "seconds": r.result.seconds, "steps": steps})
    X = cartoon_images(32, 128, rng)
    Y = (X + 0.15 * rng.standard_normal(X.shape)).reshape(128, -1)
    r = train_seeds([make_rng(4)], (32, 32), 2, 2, None, X, Y, steps=steps, batch=16, progress=False)[0]
    out.append({"name": "cnn 2D denoising (2x2, 2 channels)", "seconds": r.result.seconds, "steps": steps})
    return out
