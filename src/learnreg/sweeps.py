r"""Parameter sweeps that run serially, on every core, or on a Dask cluster, with the same numbers.

An experiment of the book is a function of explicit parameters and a random
generator. A sweep maps it over a list of parameter sets (noise levels ×
smoothness × seeds × resolutions). :func:`sweep` runs the tasks through
`joblib <https://joblib.readthedocs.io>`_, with scikit-learn's ``n_jobs``
convention, so the same call runs

* serially (``n_jobs=None`` or ``1``),
* on the local cores (``n_jobs=-1``: all; ``-2``: all but one; ``k > 0``: k workers),
* on a Dask cluster, inside ``joblib.parallel_config(backend="dask")`` with a
  ``distributed.Client`` connected to it (install the ``cluster`` extra).

Reproducibility does not depend on where a task runs: task ``i`` draws only from
its own generator, the ``i``-th child spawned from the caller's generator
(:meth:`numpy.random.SeedSequence.spawn`), never from a shared one. Results come
back in task order, so serial, parallel and cluster runs give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ._validate import check_int, check_rng
from .data import spawn

__all__ = ["sweep", "check_n_jobs"]


def check_n_jobs(n_jobs) -> int | None:
    """Check ``n_jobs`` in scikit-learn's convention: None, or a nonzero integer (not a bool).

    Raises
    ------
    ValueError
        For 0, a bool, or anything that is not an integer.
    """
    if n_jobs is None:
        return None
    n_jobs = check_int(n_jobs, "n_jobs")
    if n_jobs == 0:
        raise ValueError("n_jobs must be None, a positive number of workers, or negative (-1: all cores); got 0")
    return n_jobs


def sweep(
    experiment: Callable,
    params: Sequence[Mapping],
    rng: np.random.Generator,
    *,
    n_jobs: int | None = None,
    verbose: int = 0,
) -> list:
    r"""Run ``experiment(**p, rng=g_i)`` for every parameter set ``p = params[i]``, in parallel if asked.

    Task :math:`i` gets the generator :math:`g_i`, the :math:`i`-th of
    ``len(params)`` children spawned from ``rng``'s seed sequence (the generators
    of ``learnreg.data.spawn(rng, len(params))``). The children are
    independent streams, fixed by ``rng`` and the task's position in the list: the
    same call gives the same results, bit for bit, whatever ``n_jobs`` and the
    joblib backend are. Spawning advances ``rng``'s spawn counter (as
    :func:`learnreg.data.spawn` does), so a second sweep from the same generator
    draws new streams.

    Parameters
    ----------
    experiment : callable
        Called as ``experiment(**p, rng=g)``; returns anything picklable. For
        process-based backends it must be picklable too (joblib uses cloudpickle,
        so closures work).
    params : sequence of mappings
        One mapping of keyword arguments per task (they must not contain ``rng``).
    rng : numpy.random.Generator
        The caller's generator; only its seed sequence is used, to spawn children.
    n_jobs : int or None
        scikit-learn's convention, passed to :class:`joblib.Parallel`: None or 1
        runs serially in this process (unless a ``joblib.parallel_config`` context
        sets another default), -1 uses every core (or every Dask worker), positive
        k uses k workers.
    verbose : int
        joblib's progress messages (0: none).

    Returns
    -------
    list
        ``[experiment(**params[0], rng=g_0), experiment(**params[1], rng=g_1), ...]``,
        in task order.

    Raises
    ------
    ValueError
        If ``n_jobs`` is 0, a bool or not an integer, ``params`` is not a sequence
        of mappings, a mapping contains ``rng``, ``experiment`` is not callable, or
        ``rng`` is not a Generator.

    Examples
    --------
    >>> import numpy as np
    >>> from learnreg import make_rng
    >>> def noisy_mean(mu, k, rng):
    ...     return float(np.mean(mu + rng.standard_normal(k)))
    >>> params = [{"mu": 0.0, "k": 1000}, {"mu": 1.0, "k": 1000}, {"mu": 2.0, "k": 1000}]
    >>> serial = sweep(noisy_mean, params, make_rng(7))
    >>> serial == sweep(noisy_mean, params, make_rng(7), n_jobs=2)
    True
    >>> [round(v) for v in serial]
    [0, 1, 2]

    On a cluster (``pip install -e ".[cluster]"``)::

        import joblib
        from distributed import Client
        with Client("tcp://scheduler:8786"), joblib.parallel_config(backend="dask"):
            results = sweep(noisy_mean, params, make_rng(7), n_jobs=-1)
    """
    if not callable(experiment):
        raise ValueError(f"experiment must be callable, got {type(experiment).__name__}")
    if isinstance(params, (str, bytes, Mapping)) or not isinstance(params, Sequence):
        raise ValueError(f"params must be a sequence (e.g. a list) of mappings, got {type(params).__name__}")
    for i, p in enumerate(params):
        if not isinstance(p, Mapping):
            raise ValueError(f"params[{i}] must be a mapping of keyword arguments, got {type(p).__name__}")
        if "rng" in p:
            raise ValueError(f"params[{i}] must not contain 'rng': each task gets its own generator")
    check_rng(rng)
    n_jobs = check_n_jobs(n_jobs)
    verbose = check_int(verbose, "verbose", minimum=0)
    if not params:
        return []
    children = spawn(rng, len(params))

    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(experiment)(**dict(p), rng=g) for p, g in zip(params, children)
    ))
