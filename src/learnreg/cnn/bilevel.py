r"""The upper level: bilevel training :math:`\min_\theta \frac1{KN}\sum_i\|x_\theta(y_i)-x_i\|^2`.

The hypergradient comes from implicit differentiation at the computed
minimiser (:func:`hypergradient`) or by backpropagation through unrolled
iterations; :func:`train` runs Adam on mini-batches.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .._progress import progress_bar
from .._validate import (
    as_array,
    check_bytes,
    check_choice,
    check_int,
    check_iterations,
    check_real,
    check_rng,
    check_work,
)
from ._common import DTYPE, torch_threads
from .regularizer import CNNRegularizer
from ._fast import FrozenEnergy, conjugate_gradients_columns
from .solver import Problem, solve, unrolled

__all__ = ["CNNTrainingResult", "hypergradient", "train"]


def hypergradient(reg: CNNRegularizer, A, x_true, y, *, tol: float = 1e-8, cg_tol: float = 1e-10, max_iter: int = 20000):
    r"""Implicit hypergradient of :math:`\ell(\theta) = \frac1{BN}\sum_b\|x_\theta(y_b) - x_b\|^2`.

    At the minimiser :math:`\nabla_x E(x_\theta,\theta) = 0`, so
    :math:`\nabla_\theta \ell = -\big(\partial_\theta\nabla_x J_\theta(x_\theta)\big)^\top q`
    with :math:`H q = \nabla_x\ell`, :math:`H = A^\top A + \nabla^2 J_\theta(x_\theta)`
    (solved by conjugate gradients). The gradient is accumulated into the
    parameters' ``.grad``; the loss is returned.
    """
    prob = Problem(reg, A)
    y = prob.check_y(y)
    x_true = reg.check_signals(x_true, "x_true")
    if x_true.shape[0] != y.shape[0]:
        raise ValueError(f"x_true and y must have the same batch size, got {x_true.shape[0]} and {y.shape[0]}")
    cg_tol = check_real(cg_tol, "cg_tol", positive=True)
    x, _ = solve(reg, prob, y, tol=tol, max_iter=max_iter)
    loss = _implicit_backward(reg, prob, x, x_true, cg_tol, 1000)
    if not math.isfinite(loss):
        raise ValueError(f"the loss is not finite ({loss}): x_true, y or the parameters of reg are too large")
    return loss


def _implicit_backward(reg, prob, x, x_true, cg_tol, cg_iter):
    B, N = x.shape
    with torch.no_grad():
        dl = 2 * (x - x_true) / (B * N)
        loss = float(((x - x_true) ** 2).mean())
        energy = FrozenEnergy(reg, None if prob.identity else prob.AtA)
        xc = x.T.contiguous()
        curv = energy.curvature(xc)
        q, _ = conjugate_gradients_columns(lambda d: energy.hessian(curv, d), dl.T.contiguous(), cg_tol, cg_iter)
        q = q.T
    surrogate = -(reg.grad(x, check=False) * q).sum()
    surrogate.backward()
    return loss


class _Adam:
    """Adam (Kingma & Ba; PyTorch's update and defaults) with the learning rate decayed to 0 on a cosine.

    ``torch.optim.Adam`` would do the same, but creating it imports ``torch._dynamo``, which costs
    seconds of CPU per process, more than many training runs of this chapter.
    """

    def __init__(self, params, lr: float, steps: int, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.steps, self.betas, self.eps = list(params), lr, steps, betas, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        b1, b2 = self.betas
        lr = self.lr * (1 + math.cos(math.pi * self.t / self.steps)) / 2
        self.t += 1
        with torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v):
                if p.grad is None:
                    continue
                m.lerp_(p.grad, 1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                denom = (v.sqrt() / math.sqrt(1 - b2**self.t)).add_(self.eps)
                p.addcdiv_(m, denom, value=-lr / (1 - b1**self.t))


@dataclass
class CNNTrainingResult:
    """History of a bilevel training run.

    Attributes
    ----------
    losses : ndarray, shape (steps,)
        Mini-batch loss (MSE per pixel) at each step, before the update.
    kernels : ndarray, shape ``(steps + 1, C, *kernel_size)``
        Kernels before each step and after the last.
    strength, smoothing : ndarray, shape (steps + 1, C)
        :math:`\\lambda_j` and :math:`\\varepsilon_j` along training.
    seconds : float
        Wall-clock training time.
    method : str
    solver_iterations : float
        Mean lower-level iterations per step (implicit training).
    """

    losses: np.ndarray
    kernels: np.ndarray
    strength: np.ndarray
    smoothing: np.ndarray
    seconds: float
    method: str
    solver_iterations: float = float("nan")
    extra: dict = field(default_factory=dict)


def train(
    reg: CNNRegularizer,
    A,
    X,
    Y,
    rng: np.random.Generator,
    *,
    steps: int = 100,
    batch: int = 32,
    lr: float = 0.1,
    method: str = "implicit",
    unroll_steps: int = 100,
    tol: float = 1e-4,
    max_iter: int = 3000,
    cg_tol: float = 1e-6,
    cg_iter: int = 300,
    progress=True,
    desc: str | None = None,
) -> CNNTrainingResult:
    r"""Bilevel training :math:`\min_\theta \frac1{KN}\sum_i\|x_\theta(y_i)-x_i\|^2` with Adam.

    Adam (learning rate ``lr``, cosine decay to 0 over ``steps``) on
    mini-batches of ``batch`` training pairs drawn by ``rng``. With
    ``method='implicit'`` the lower level is solved to relative gradient
    tolerance ``tol`` (warm-started from the previous solution of each
    training pair) and the hypergradient comes from implicit differentiation
    (:func:`hypergradient`); with ``method='unrolled'`` it is backpropagated
    through ``unroll_steps`` Nesterov iterations, whose output is then the
    reconstruction being trained.

    Parameters
    ----------
    reg : CNNRegularizer
        Trained in place.
    A : array_like (m, N), LinearOperator, LinearMap or None
        Forward operator (``None``: denoising).
    X : array_like, shape ``(K, *reg.shape)``
        Ground truths.
    Y : array_like, shape (K, m)
        Data.
    rng : numpy.random.Generator
        Draws the mini-batches.
    progress : bool or tqdm bar
        Show a progress bar (``True``), none (``False``), or advance a given bar.
    """
    if not isinstance(reg, CNNRegularizer):
        raise ValueError(f"reg must be a CNNRegularizer, got {type(reg).__name__}")
    check_rng(rng)
    method = check_choice(method, "method", ("implicit", "unrolled"))
    steps = check_iterations(steps, "steps")
    lr = check_real(lr, "lr", positive=True)
    unroll_steps = check_iterations(unroll_steps, "unroll_steps")
    tol = check_real(tol, "tol", positive=True)
    max_iter = check_iterations(max_iter, "max_iter")
    cg_tol = check_real(cg_tol, "cg_tol", positive=True)
    cg_iter = check_iterations(cg_iter, "cg_iter")
    if not (isinstance(progress, (bool, np.bool_)) or callable(getattr(progress, "update", None))):
        raise ValueError(f"progress must be True, False or a progress bar with an update method, got {progress!r}")
    if desc is not None and not isinstance(desc, str):
        raise ValueError(f"desc must be a string or None, got {type(desc).__name__}")
    prob = Problem(reg, A)
    X = as_array(X, "X")
    if X.shape[1:] != reg.shape:
        raise ValueError(f"X must have shape (K, {', '.join(map(str, reg.shape))}), got {X.shape}")
    Xt = torch.tensor(X.reshape(X.shape[0], -1), dtype=DTYPE)
    Yt = prob.check_y(Y, "Y")
    K = Xt.shape[0]
    if Yt.shape[0] != K:
        raise ValueError(f"X and Y must hold the same number of samples, got {K} and {Yt.shape[0]}")
    batch = check_int(batch, "batch", minimum=1, maximum=K)
    taps = reg.channels * int(np.prod(reg.kernel_size))
    inner = unroll_steps if method == "unrolled" else 10
    check_work(
        4.0 * steps * batch * reg.size * taps * inner,
        f"train with steps = {steps}, batch = {batch}, unroll_steps = {unroll_steps} ({method})",
    )
    check_bytes(16.0 * (steps + 1) * (taps + 2 * reg.channels), f"the training history of steps = {steps}")
    params = [p for p in reg.parameters() if p.requires_grad]
    opt = _Adam(params, lr, steps)
    warm = None
    losses, iters = [], []
    snaps = [reg.snapshot()]
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        tqdm = None
    own_bar = progress is True and tqdm is not None
    if own_bar:
        bar = progress_bar(steps, desc or f"bilevel ({method})")
    elif progress is not None and progress is not False and hasattr(progress, "update"):
        bar = progress  # a bar shared by several runs (see learnreg.experiments.cnn_regularizers.train_seeds)
    else:
        bar = None
    t0 = time.perf_counter()
    with torch_threads():
        if method == "implicit":
            with torch.no_grad():
                warm = prob.At(Yt).clone()
        for _ in range(steps):
            idx = torch.as_tensor(np.sort(rng.choice(K, size=batch, replace=False)))
            opt.zero_grad()
            if method == "implicit":
                x, info = solve(reg, prob, Yt[idx], tol=tol, max_iter=max_iter, x0=warm[idx], data_name="Y")
                warm[idx] = x
                iters.append(info.iterations)
                loss = _implicit_backward(reg, prob, x, Xt[idx], cg_tol, cg_iter)
            else:
                x = unrolled(reg, prob, Yt[idx], unroll_steps)
                lt = ((x - Xt[idx]) ** 2).mean()
                lt.backward()
                loss = float(lt.detach())
            if not math.isfinite(loss):
                raise ValueError(
                    f"training diverged after {len(losses)} steps (the loss is {loss}): take a smaller lr "
                    f"(lr = {lr:g}) or rescale X and Y"
                )
            opt.step()
            losses.append(loss)
            snaps.append(reg.snapshot())
            if bar is not None:
                bar.update(1)
    seconds = time.perf_counter() - t0
    if own_bar:
        bar.close()
    return CNNTrainingResult(
        losses=np.array(losses),
        kernels=np.stack([s["kernels"] for s in snaps]),
        strength=np.stack([s["strength"] for s in snaps]),
        smoothing=np.stack([s["smoothing"] for s in snaps]),
        seconds=seconds,
        method=method,
        solver_iterations=float(np.mean(iters)) if iters else float("nan"),
    )

