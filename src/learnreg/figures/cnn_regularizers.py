"""Figures of chapter 7: CNN-type variational regularizers and what they learn."""

from __future__ import annotations

from functools import partial

import numpy as np
from matplotlib.figure import Figure

from ..book.panels import Choice, Grid, Panel, PanelFigure
from ..book.style import METHOD_COLOURS, PALETTE
from ..cnn import stencil_similarity
from ..experiments import cnn_regularizers as ex
from . import register

__all__ = [
    "steps_kernels",
    "steps_example",
    "no_projection",
    "controls",
    "cartoons_kernels",
    "cartoons_images",
    "unrolled",
    "TrainingPanel",
    "training_panel",
    "PANELS",
]

_TAPS = np.arange(5) - 2


def _phi(t, lam, eps):
    return lam * (np.sqrt(t**2 + eps**2) - eps)


def steps_kernels(res: ex.StepsDenoising) -> Figure:
    """Learned kernels, the learned Charbonnier function of run 0, and the training curves."""
    fig = Figure(figsize=(11, 3.4))
    ax = fig.subplots(1, 3)
    for i, c in zip(range(len(res.cosines)), PALETTE):
        ax[0].plot(_TAPS, res.kernels[i, -1], "o-", color=c, label=f"run {i}")
    ax[0].set(xlabel="tap offset", ylabel="kernel weight $w_t$", title="learned kernels (unit norm)")
    ax[0].legend(fontsize=8)
    t = np.linspace(-0.6, 0.6, 401)
    lam, eps = res.strength_hist[0, -1], res.smoothing_hist[0, -1]
    ax[1].plot(t, _phi(t, lam, eps), label=rf"learned $\varphi$ ($\varepsilon/\sigma$ = {eps / res.noise:.2f})")
    ax[1].plot(t, lam * np.abs(t), "--", color="k", lw=1, label=r"$\lambda|t|$")
    ax[1].plot(t, _phi(t, res.strength_hist[0, 0], res.smoothing_hist[0, 0]), ":", color=PALETTE[1], label=r"initial $\varphi$")
    ax[1].axvspan(-res.noise, res.noise, color="0.9", label=r"$|t| \leq \sigma$")
    ax[1].set(xlabel="filter response $t$", ylabel=r"$\varphi(t)$", title=r"$\varphi$ of run 0")
    ax[1].legend(fontsize=8)
    for i, c in zip(range(len(res.losses)), PALETTE):
        ax[2].plot(np.arange(1, res.losses.shape[1] + 1), res.losses[i], color=c, lw=1)
    ax[2].axhline(res.tuned_train_mse, color="k", ls="--", lw=1, label="tuned TV (training MSE)")
    ax[2].set(xlabel="Adam step", ylabel="mini-batch MSE", yscale="log", title="training curves")
    ax[2].legend(fontsize=8)
    return fig


def steps_example(res: ex.StepsDenoising) -> Figure:
    """A held-out signal: data, truth, the learned regularizer's and tuned TV's reconstructions."""
    fig = Figure(figsize=(10, 3.2))
    ax = fig.subplots()
    e = res.example
    ax.plot(e["noisy"], ".", ms=3, color="0.6", label="noisy data")
    ax.plot(e["truth"], color="k", lw=1.2, label="ground truth")
    ax.plot(e["learned"], color=METHOD_COLOURS["learned"], label=r"learned $J_\theta$ (run 0)")
    ax.plot(e["tv"], "--", color=METHOD_COLOURS["tv"], label="tuned TV")
    ax.set(xlabel="pixel", ylabel="value", title="a held-out signal")
    ax.legend(ncol=4, fontsize=8)
    return fig


def no_projection(steps_res: ex.StepsDenoising, res: ex.NoProjection) -> Figure:
    """Cosine to the nearest difference along training, with and without projection; the kernel sum without."""
    fig = Figure(figsize=(10, 3.3))
    ax = fig.subplots(1, 2)
    projected = np.array([[stencil_similarity(k)[0] for k in run] for run in steps_res.kernels])
    for hist, ls, key in ((projected, "-", "projected"), (res.cos_hist, "--", "not projected")):
        for j, h in enumerate(hist):
            ax[0].plot(h, ls, color=PALETTE[j], lw=1.2, label=key if j == 0 else None)
    ax[0].axhline(ex.STENCIL_COSINE, color="k", lw=0.8, ls=":")
    ax[0].set(xlabel="Adam step", ylabel="cosine to nearest difference", ylim=(0, 1.02), title="kernel shape during training")
    ax[0].legend(fontsize=8)
    for j, h in enumerate(res.sum_hist):
        ax[1].plot(np.maximum(h, 1e-6), color=PALETTE[j], lw=1.2, label=f"run {j}")
    ax[1].set(xlabel="Adam step", ylabel=r"$|\sum_t w_t|\,/\,\|w\|$", yscale="log", title="not projected: kernel sum")
    ax[1].legend(fontsize=8)
    return fig


def controls(res: ex.Controls) -> Figure:
    """Where the filter responses sit relative to the learned smoothing, and the learned kernels, per data class."""
    fig = Figure(figsize=(10.5, 3.4))
    ax = fig.subplots(1, 2)
    for (name, logr), c in zip(res.log_responses.items(), PALETTE):
        ax[0].hist(logr, bins=60, range=(-3, 3), density=True, histtype="step", color=c, lw=1.5, label=name)
    ax[0].axvline(0, color="k", ls="--", lw=1)
    ax[0].text(-2.9, 0.05, "quadratic\nregime", fontsize=9)
    ax[0].text(0.2, 0.05, "|t| regime", fontsize=9)
    ax[0].set(xlabel=r"$\log_{10}\,|(w*x)_i|/\varepsilon$ (run 0)", ylabel="density", title="where the responses sit",
              xlim=(-3, 3))
    ax[0].legend(fontsize=8)
    for (name, k), c in zip(res.kernels.items(), PALETTE):
        ax[1].plot(_TAPS, k, "o-", color=c, label=name)
    ax[1].set(xlabel="tap offset", ylabel="kernel weight", title="learned kernels (run 0)")
    ax[1].legend(fontsize=8)
    return fig


def cartoons_kernels(res: ex.Cartoons) -> Figure:
    """The two learned 2x2 channels of every run (last column: the run from the mixed start)."""
    K = res.kernels
    fig = Figure(figsize=(1.9 * len(K), 3.9))
    ax = fig.subplots(2, len(K), squeeze=False)
    for k in range(len(K)):
        for j in range(K.shape[1]):
            a = ax[j, k]
            a.imshow(K[k, j], cmap="RdBu_r", vmin=-0.8, vmax=0.8)
            for (p, q), v in np.ndenumerate(K[k, j]):
                a.text(q, p, f"{v:+.2f}", ha="center", va="center", fontsize=10)
            a.set_xticks([])
            a.set_yticks([])
            a.grid(False)
            a.set_title((f"run {k}" if k < len(K) - 1 else "mixed start") + f", channel {j}", fontsize=9)
    return fig


def cartoons_images(res: ex.Cartoons) -> Figure:
    """A held-out image: truth, noisy, learned J (run 0), anisotropic TV, the mixed-start J."""
    im = res.images
    lo, hi = float(np.min(im["truth"])), float(np.max(im["truth"]))
    pad = 0.15 * (hi - lo) + 1e-12
    fig = Figure(figsize=(11, 2.6))
    ax = fig.subplots(1, 5)
    for a, key, title in zip(ax, ("truth", "noisy", "learned", "tv", "mixed"),
                             ("ground truth", "noisy", "learned J (run 0)", "anisotropic TV", "learned J (mixed start)")):
        a.imshow(np.asarray(im[key]).reshape(im["truth"].shape), cmap="gray", vmin=lo - pad, vmax=hi + pad)
        a.set_title(title, fontsize=9)
        a.axis("off")
    return fig


def unrolled(res: ex.Unrolled) -> Figure:
    """A held-out deblurring example, and the errors per run: truncated solver, true minimiser, implicit training."""
    fig = Figure(figsize=(11, 3.3))
    ax = fig.subplots(1, 2)
    e = res.example
    ax[0].plot(e["truth"], color="k", lw=1.2, label="ground truth")
    ax[0].plot(e["truncated"], color=PALETTE[2], label=f"unrolled-trained J: {res.unroll_steps} steps")
    ax[0].plot(e["minimiser"], color=PALETTE[1], label="same J: true minimiser")
    ax[0].plot(e["implicit"], "--", color=PALETTE[0], label="implicit-trained J: minimiser")
    ax[0].set(xlabel="pixel", ylabel="value", title=f"deblurring, unrolled run {e['run']}")
    ax[0].legend(fontsize=8)
    w, xs = 0.25, np.arange(len(res.cosines))
    ax[1].bar(xs - w, res.mse_truncated, w, color=PALETTE[2], label=f"unrolled J, {res.unroll_steps} steps")
    ax[1].bar(xs, res.mse_minimiser, w, color=PALETTE[1], label="unrolled J, minimiser")
    ax[1].bar(xs[: len(res.mse_implicit)] + w, res.mse_implicit[: len(xs)], w, color=PALETTE[0], label="implicit J, minimiser")
    ax[1].axhline(res.mse_tv, color="k", ls="--", lw=1, label="tuned TV")
    ax[1].set(xticks=xs, xticklabels=[f"run {k}" for k in xs], ylabel="held-out MSE", yscale="log", title="errors per run")
    ax[1].legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------------
# The panel: a run's kernel and phi along training (precomputed: training runs take seconds)
# ---------------------------------------------------------------------------

#: Adam steps the panel offers.
PANEL_STEPS = (0, 5, 10, 20, 40, 60, 80, 100)


class TrainingPanel(PanelFigure):
    """Kernel (left) and Charbonnier function against lambda|t| (right) of a run at an Adam step."""

    figsize = (8.0, 2.8)

    def __init__(self, res: ex.StepsDenoising):
        super().__init__()
        self.res = res
        self.t = np.linspace(-0.6, 0.6, 201)

    def draw(self, fig):
        ax = fig.subplots(1, 2)
        ax[0].axhline(0, color="0.6", lw=0.8)
        self.kernel = self.animate(ax[0].plot([], [], "o-", color=PALETTE[0])[0])
        ax[0].set(xlim=(-2.5, 2.5), ylim=(-1, 1), xlabel="tap offset", ylabel="$w_t$", title="kernel")
        self.phi = self.animate(ax[1].plot([], [], color=PALETTE[0], label=r"$\varphi$")[0])
        self.abs = self.animate(ax[1].plot([], [], "--", color="k", lw=1, label=r"$\lambda|t|$")[0])
        ax[1].set(xlim=(-0.6, 0.6), ylim=(0, 0.3), xlabel="response $t$", ylabel=r"$\varphi(t)$", title=r"$\varphi$")
        ax[1].legend(fontsize=8, loc="upper center")
    
    def update(self, run, step):
        r = self.res
        self.kernel.set_data(_TAPS, r.kernels[run, step])
        lam, eps = r.strength_hist[run, step], r.smoothing_hist[run, step]
        self.phi.set_data(self.t, _phi(self.t, lam, eps))
        self.abs.set_data(self.t, lam * np.abs(self.t))

    def caption(self, run, step):
        r = self.res
        return (f"cosine to a two-tap difference {stencil_similarity(r.kernels[run, step])[0]:.2f}, "
                f"λ = {r.strength_hist[run, step]:.2f}, ε/σ = {r.smoothing_hist[run, step] / r.noise:.2f}")


def training_panel(res: ex.StepsDenoising | None = None) -> Panel:
    """The chapter's panel over the runs and Adam steps of :func:`~learnreg.experiments.cnn_regularizers.steps_denoising`
    (rerun with the book's parameters if ``res`` is not given)."""
    if res is None:
        from ..data import make_rng

        res = ex.steps_denoising(make_rng(ex.SEED))
    if not isinstance(res, ex.StepsDenoising):
        raise ValueError(f"res must be a StepsDenoising result, got {type(res).__name__}")
    steps = tuple(s for s in PANEL_STEPS if s <= res.steps)
    return Panel(
        partial(TrainingPanel, res),
        [Choice("run", tuple(range(len(res.cosines))), label="run"), Grid("step", steps, label="Adam step", initial=steps[-1])],
        note="Training takes seconds per run, so the panel shows the stored parameters of the book's runs at the listed Adam steps.",
        alt="Learned 5-tap kernel (left) and Charbonnier function phi against lambda|t| (right) of a 1D CNN regularizer "
            "during training",
    )


# ---------------------------------------------------------------------------
# The chapter's labelled figures
# ---------------------------------------------------------------------------


def _rng():
    from ..data import make_rng

    return make_rng(ex.SEED)


@register("fig-ch7-steps", chapter=7, seed=ex.SEED, caption="1D piecewise-constant signals, denoising: learned zero-mean "
          "length-5 kernels, the learned Charbonnier function, and the training curves against tuned TV.")
def _fig_steps():
    return steps_kernels(ex.steps_denoising(_rng()))


@register("fig-ch7-steps-example", chapter=7, seed=ex.SEED, caption="A held-out piecewise-constant signal denoised by the "
          "learned regularizer and by tuned TV.")
def _fig_steps_example():
    return steps_example(ex.steps_denoising(_rng()))


@register("fig-ch7-noproj", chapter=7, seed=ex.SEED, caption="Without the zero-mean projection: the kernel's cosine to a "
          "two-tap difference along training, against the projected runs, and the kernel sum.")
def _fig_noproj():
    rng = _rng()
    return no_projection(ex.steps_denoising(rng), ex.no_projection(rng))


@register("fig-ch7-controls", chapter=7, seed=ex.SEED, caption="Filter responses relative to the learned smoothing for "
          "step, smooth Gaussian and Ornstein-Uhlenbeck signals, and the learned kernels.")
def _fig_controls():
    rng = _rng()
    return controls(ex.controls(rng, ex.steps_denoising(rng)))


@register("fig-ch7-2d", chapter=7, seed=ex.SEED, caption="2D rectangles: the two learned 2x2 channels of each run from a "
          "random start and of the run started at a mixed derivative and a diagonal difference.")
def _fig_2d():
    return cartoons_kernels(ex.cartoons(_rng()))


@register("fig-ch7-2d-images", chapter=7, seed=ex.SEED, caption="A held-out rectangle image denoised by a learned "
          "regularizer, by anisotropic TV and by the regularizer from the mixed start.")
def _fig_2d_images():
    return cartoons_images(ex.cartoons(_rng()))


@register("fig-ch7-unrolled", chapter=7, seed=ex.SEED, caption="Deblurring: a regularizer trained through 10 unrolled "
          "solver steps, its true minimiser, and the implicitly trained regularizer; held-out errors per run.")
def _fig_unrolled():
    rng = _rng()
    return unrolled(ex.unrolled(rng, ex.deblurring(rng)))


#: The chapter's panels, by name (the benchmark measures each one's live update time).
PANELS = {"cnn-training": training_panel}
