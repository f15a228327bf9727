r"""Gradient-based training of a spectral filter, as practitioners train networks.

The closed form :func:`learnreg.spectral.empirical_filter` minimises the
empirical risk

.. math:: \widehat{\mathcal R}(g) = \frac1K\sum_{i=1}^K\|R_g y_i - x_i\|^2
    = \frac1K\sum_{i=1}^K\sum_k\big(g_k\langle y_i,v_k\rangle - \langle x_i,u_k\rangle\big)^2
    + \text{const}

in one pass over the data. A learned reconstruction operator is usually trained
differently: start from :math:`g = 0` and take Adam steps on (mini-)batches of
the same loss, computing the gradient from the samples in every step,

.. math:: \partial_{g_k}\widehat{\mathcal R}_B(g) = \frac2{|B|}\sum_{i\in B}
    \big(g_k\langle y_i,v_k\rangle - \langle x_i,u_k\rangle\big)\langle y_i,v_k\rangle .

:func:`train_filter_adam` does exactly that (in numpy), and
:func:`fit_speed_ratio` measures how much slower it is than the closed form to
reach the same test risk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import _validate as validate
from ._validate import (
    MAX_MAGNITUDE,
    as_array,
    check_bool,
    check_bytes,
    check_int,
    check_iterations,
    check_real,
    check_rng,
    check_spectrum,
    check_work,
    finite_result,
)
from .spectral import empirical_filter, risk, sample_coefficients

__all__ = ["AdamMoments", "FilterTrainingResult", "train_filter_adam", "FitTiming", "fit_speed_ratio"]


class AdamMoments:
    r"""Adam's bias-corrected moment estimates (Kingma & Ba, 2015).

    After the t-th call of :meth:`update` with gradient :math:`\nabla_t`,

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1)\nabla_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\nabla_t^2, \quad
        \hat m_t = \frac{m_t}{1-\beta_1^t}, \quad \hat v_t = \frac{v_t}{1-\beta_2^t}.

    The caller forms the step, e.g. :math:`\theta \leftarrow \theta - \eta_t \hat m_t / (\sqrt{\hat v_t} + \epsilon)`,
    with its own learning-rate schedule.

    Parameters
    ----------
    size : int
        Number of parameters (at least 1).
    beta1, beta2 : float
        Decay rates in :math:`[0, 1)` (at 1 the bias correction divides by 0).
    """

    def __init__(self, size: int, beta1: float = 0.9, beta2: float = 0.999):
        size = check_int(size, "size", minimum=1)
        check_bytes(8.0 * 6 * size, f"Adam moments of size = {size}")
        self.beta1 = _decay_rate(beta1, "beta1")
        self.beta2 = _decay_rate(beta2, "beta2")
        self.m = np.zeros(size)
        self.v = np.zeros(size)
        self.t = 0

    @finite_result
    def update(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Take one gradient (finite, shape ``(size,)``) and return :math:`(\hat m_t, \hat v_t)`."""
        grad = as_array(grad, "grad", shape=self.m.shape)
        b1, b2 = self.beta1, self.beta2
        self.m = b1 * self.m + (1 - b1) * grad
        self.v = b2 * self.v + (1 - b2) * grad**2
        self.t += 1
        return self.m / (1 - b1**self.t), self.v / (1 - b2**self.t)


def _decay_rate(value, name: str) -> float:
    beta = check_real(value, name, minimum=0.0)
    if beta >= 1.0:
        raise ValueError(f"{name} must be in [0, 1) (Adam divides by 1 - {name}**t), got {beta}")
    return beta


@dataclass(frozen=True)
class FilterTrainingResult:
    """Outcome of :func:`train_filter_adam`.

    Attributes
    ----------
    g : ndarray, shape (r,)
        Trained filter coefficients.
    n_steps : int
        Number of Adam steps taken.
    losses : ndarray, shape (n_steps,)
        Empirical (mini-batch) loss before each step.
    stopped_early : bool
        Whether the ``stop`` criterion ended the training.
    """

    g: np.ndarray
    n_steps: int
    losses: np.ndarray
    stopped_early: bool


@finite_result
def train_filter_adam(
    cx,
    cy,
    *,
    n_steps: int = 2000,
    lr: float = 0.05,
    lr_decay: float = 1e-2,
    batch_size: int | None = None,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    rng: np.random.Generator | None = None,
    g0=None,
    stop=None,
    check_every: int = 10,
) -> FilterTrainingResult:
    r"""Train the filter coefficients with Adam on the empirical squared loss.

    The step size decays as :math:`\eta_t = \eta_0/(1 + \lambda t)`, a standard
    schedule that lets Adam settle at the minimiser instead of oscillating.

    Parameters
    ----------
    cx, cy : array_like, shape (K, r)
        Training coefficients :math:`\langle x_i,u_k\rangle`, :math:`\langle y_i,v_k\rangle`.
    n_steps : int
        Maximal number of steps.
    lr : float
        Initial step size :math:`\eta_0` (positive).
    lr_decay : float
        :math:`\lambda \ge 0` in the decay schedule.
    batch_size : int, optional
        Mini-batch size; ``None`` uses all K samples in every step (full-batch
        Adam). Mini-batches are drawn from ``rng``, which is then required.
    betas, eps : Adam's moment decay rates and denominator guard.
    rng : numpy.random.Generator, optional
    g0 : array_like, shape (r,), optional
        Initial coefficients (default 0).
    stop : callable, optional
        ``stop(g) -> bool``, evaluated every ``check_every`` steps; training
        ends when it returns True.
    check_every : int

    Returns
    -------
    FilterTrainingResult
    """
    cx = as_array(cx, "cx", ndim=2)
    cy = as_array(cy, "cy", ndim=2)
    if cx.shape != cy.shape:
        raise ValueError(f"cx and cy must have the same shape, got {cx.shape} and {cy.shape}")
    K, r = cx.shape
    n_steps = check_iterations(n_steps, "n_steps")
    lr = check_real(lr, "lr", positive=True)
    lr_decay = check_real(lr_decay, "lr_decay", nonnegative=True)
    check_every = check_iterations(check_every, "check_every")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=K)
        check_rng(rng)
    check_work(
        10.0 * n_steps * (K if batch_size is None else batch_size) * r,
        f"train_filter_adam with n_steps = {n_steps} on cx of shape {cx.shape}",
    )
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    b1 = _decay_rate(betas[0], "betas[0]")
    b2 = _decay_rate(betas[1], "betas[1]")
    eps = check_real(eps, "eps", positive=True)
    if stop is not None and not callable(stop):
        raise ValueError("stop must be a callable g -> bool or None")
    g = np.zeros(r) if g0 is None else as_array(g0, "g0", shape=(r,)).copy()

    adam = AdamMoments(r, b1, b2)
    losses = np.empty(n_steps)
    stopped = False
    t = 0
    while t < n_steps:
        if batch_size is None:
            bx, by = cx, cy
        else:
            idx = rng.choice(K, size=batch_size, replace=False)
            bx, by = cx[idx], cy[idx]
        try:
            with np.errstate(over="raise", invalid="raise"):
                res = by * g - bx
                losses[t] = np.sum(res**2) / bx.shape[0]
                grad = 2.0 * np.sum(res * by, axis=0) / bx.shape[0]
        except FloatingPointError as exc:
            raise ValueError(
                f"train_filter_adam diverged after {t} steps (the loss overflows): lr = {lr:g} is too large "
                "for these data; take a smaller lr"
            ) from exc
        if not np.max(np.abs(grad)) <= MAX_MAGNITUDE:
            raise ValueError(
                f"train_filter_adam diverged after {t} steps (gradient {np.max(np.abs(grad)):.3g}): "
                f"lr = {lr:g} is too large for these data; take a smaller lr"
            )
        mhat, vhat = adam.update(grad)
        t += 1
        g = g - lr / (1 + lr_decay * t) * mhat / (np.sqrt(vhat) + eps)
        if stop is not None and t % check_every == 0 and check_bool(stop(g), "stop(g)"):
            stopped = True
            break
    return FilterTrainingResult(g=g, n_steps=t, losses=losses[:t].copy(), stopped_early=stopped)


@dataclass(frozen=True)
class FitTiming:
    """Timings of :func:`fit_speed_ratio` (seconds, wall clock).

    Attributes
    ----------
    closed_form_seconds : float
        Median time of :func:`~learnreg.spectral.empirical_filter` on the training coefficients.
    gradient_seconds : float
        Median time of Adam training until its test risk is within ``tolerance`` of the closed form's.
    ratio : float
        ``gradient_seconds / closed_form_seconds``.
    n_steps : int
        Adam steps needed.
    risk_closed_form, risk_gradient : float
        Exact test risks of the two filters.
    reached : bool
        Whether Adam reached the target within its step budget.
    """

    closed_form_seconds: float
    gradient_seconds: float
    ratio: float
    n_steps: int
    risk_closed_form: float
    risk_gradient: float
    reached: bool


@finite_result
def fit_speed_ratio(
    s,
    Pi,
    Delta,
    n_samples: int,
    rng: np.random.Generator,
    *,
    tolerance: float = 0.01,
    repeats: int = 3,
    max_steps: int = 20000,
    batch_size: int | None = None,
    lr: float = 0.1,
    lr_decay: float = 1e-3,
) -> FitTiming:
    r"""Closed-form fit against Adam training to the same test risk: wall-clock times.

    Draws K Gaussian training pairs with moments ``Pi``, ``Delta``
    (:func:`~learnreg.spectral.sample_coefficients`), fits the empirical risk
    minimiser in closed form, and trains the same filter with Adam
    (:func:`train_filter_adam`) until its exact test risk
    :math:`\sum_k (1-s_kg_k)^2\Pi_k + g_k^2\Delta_k` is at most
    ``(1 + tolerance)`` times that of the closed form. Both start from the
    training coefficients (the projection onto the singular basis, common to
    both, is not timed). Each fit is timed ``repeats`` times; medians are
    reported. The default step size schedule (``lr=0.1``, ``lr_decay=1e-3``,
    full batch) is the fastest of a small grid tried on the book's chapter-2
    setting, so the comparison favours gradient training.
    """
    s, Pi, Delta = check_spectrum(s, Pi=Pi, Delta=Delta)
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    check_rng(rng)
    tolerance = check_real(tolerance, "tolerance", positive=True)
    repeats = check_iterations(repeats, "repeats")
    max_steps = check_iterations(max_steps, "max_steps")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", minimum=1, maximum=n_samples)
    if repeats * max_steps > validate.MAX_ITERATIONS:  # nested loops; max_steps is an upper bound (Adam stops early)
        raise ValueError(
            f"repeats x max_steps must be at most {validate.MAX_ITERATIONS} Adam steps in all, "
            f"got repeats = {repeats} and max_steps = {max_steps}"
        )
    cx, cy = sample_coefficients(s, Pi, Delta, n_samples, rng)
    batch_rngs = [np.random.Generator(bg) for bg in rng.bit_generator.spawn(repeats)]

    times_cf = []
    for _ in range(max(repeats, 5)):
        t0 = time.perf_counter()
        g_cf = empirical_filter(cx, cy)
        times_cf.append(time.perf_counter() - t0)
    risk_cf = risk(s, g_cf, Pi, Delta).total
    target = (1 + tolerance) * risk_cf

    def stop(g):
        return float(np.sum((1 - s * g) ** 2 * Pi + g**2 * Delta)) <= target

    times_gd, result = [], None
    for i in range(repeats):
        t0 = time.perf_counter()
        result = train_filter_adam(
            cx, cy, n_steps=max_steps, lr=lr, lr_decay=lr_decay, batch_size=batch_size,
            rng=batch_rngs[i], stop=stop,
        )
        times_gd.append(time.perf_counter() - t0)
    t_cf, t_gd = float(np.median(times_cf)), float(np.median(times_gd))
    t_cf = max(t_cf, 1e-9)  # a clock that did not advance
    return FitTiming(
        closed_form_seconds=t_cf,
        gradient_seconds=t_gd,
        ratio=t_gd / t_cf,
        n_steps=result.n_steps,
        risk_closed_form=risk_cf,
        risk_gradient=risk(s, result.g, Pi, Delta).total,
        reached=result.stopped_early,
    )
