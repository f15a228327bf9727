"""Figures of chapter 2: learned spectral filters, how they are learned, what they explain, how stable they are."""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ..book.panels import LogSlider, Panel, PanelFigure, Slider
from ..book.style import METHOD_COLOURS, PALETTE
from ..experiments import learned_spectral as ex
from ..spectral import mse_filter, optimal_risk, tikhonov_filter
from . import register

__all__ = ["learned", "alpha", "stability", "FilterPanel", "filter_panel", "PANELS"]


def learned(erm: ex.ErmConvergence, adam: ex.GradientTraining) -> Figure:
    """Learned coefficients; Adam's test risk against its steps; the empirical minimiser's error against K."""
    fig = Figure(figsize=(11.5, 3.9))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    k = np.arange(1, adam.s.size + 1)
    ax1.semilogx(k, 1 / adam.s, ":", color=METHOD_COLOURS["pseudo-inverse"], label=r"$A^+$: $1/s_k$")
    ax1.semilogx(k, adam.g_mse, color=METHOD_COLOURS["mse"], lw=2.5, label="MSE filter")
    ax1.semilogx(k, adam.g_hat, "o", ms=3.5, color=PALETTE[4], label=f"empirical minimiser, $K={adam.K}$")
    ax1.semilogx(k, adam.g_adam, "x", ms=4, color=PALETTE[6], label=f"Adam, {adam.n_steps} steps")
    ax1.set(ylim=(-0.3, 6.5), xlabel="index $k$", ylabel="filter coefficient $g_k$",
            title=f"Learned coefficients ($n={adam.s.size}$)")
    ax1.legend(loc="center right", fontsize=8.5)
    steps = np.arange(1, adam.n_steps + 1)
    ax2.loglog(steps, adam.risks - adam.risk_mse, color=PALETTE[6], label="Adam")
    ax2.axhline(adam.risk_hat - adam.risk_mse, color=PALETTE[4], ls="--", label="empirical minimiser")
    if adam.steps_to_target:
        ax2.axvline(adam.steps_to_target, color="0.6", lw=1,
                    label=f"within 1 % of its risk: step {adam.steps_to_target}")
    ax2.set(xlabel="Adam step (one pass over the data)", ylabel=r"test risk $-\ \mathcal{R}(g_{\rm MSE})$",
            title=f"Gradient training on the same {adam.K} pairs")
    ax2.legend(fontsize=8.5)
    ax3.loglog(erm.Ks, erm.coefficient_error, "o", color=METHOD_COLOURS["mse"],
               label=rf"measured $\|\hat g - g\|_\sigma$ (mean of {erm.reps})")
    ax3.loglog(erm.Ks, np.sqrt(erm.predicted), "--", color=PALETTE[6], label=r"theory $\sqrt{\mathcal{R}(g)/(K-2)}$")
    ax3.set(xlabel="number of training pairs $K$", ylabel="coefficient error",
            title=f"Empirical minimiser: slope {erm.slope:.2f}")
    ax3.yaxis.set_minor_formatter(NullFormatter())
    ax3.legend(fontsize=8.5)
    return fig


def alpha(res: ex.AlphaRecovery) -> Figure:
    """alpha_k read off an empirical filter; filter factors against classical Tikhonov; convergence in K."""
    fig = Figure(figsize=(11.5, 3.9))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    s, k = res.s, np.arange(1, res.s.size + 1)
    g = res.g_display
    valid = (g > 0) & (g <= 1 / s)
    alpha_hat = np.full(s.size, np.nan)
    alpha_hat[valid] = s[valid] / g[valid] - s[valid] ** 2
    ax1.axvspan(res.band[0], res.band[-1], color="0.9", zorder=0, label="modes of the convergence check")
    ax1.loglog(k, res.alpha, color=METHOD_COLOURS["mse"], lw=2.5, label=r"$\Delta_k/\Pi_k = \delta^2 k^2$")
    ax1.loglog(k, alpha_hat, "o", ms=3, color=PALETTE[4], label=f"read off $\\hat g$, $K={res.K_display}$")
    ax1.axhline(res.alpha_fixed, color=METHOD_COLOURS["tikhonov"], ls="--",
                label=rf"classical Tikhonov, $\alpha={res.alpha_fixed:g}$")
    ax1.set(xlabel="index $k$", ylabel=r"$\alpha_k = s_k/g_k - s_k^2$", title="The learned filter as Tikhonov")
    ax1.legend(fontsize=8.5)
    Pi, Delta = res.setting.Pi, res.setting.Delta
    ax2.semilogx(k, s * mse_filter(s, Pi, Delta), color=METHOD_COLOURS["mse"], lw=2.5, label="MSE filter")
    ax2.semilogx(k, s * tikhonov_filter(s, res.alpha_fixed), "--", color=METHOD_COLOURS["tikhonov"],
                 label=rf"Tikhonov, $\alpha={res.alpha_fixed:g}$")
    ax2.set(xlabel="index $k$", ylabel="filter factor $s_k g_k$", title="How much of each mode is kept")
    ax2.legend(fontsize=8.5)
    ax3.loglog(res.Ks, res.rel_rmse, "o", color=PALETTE[4], label=f"measured ({res.reps} training sets per $K$)")
    ax3.loglog(res.Ks, res.predicted, "--", color=PALETTE[6], label="delta method")
    ax3.set(xlabel="number of training pairs $K$", ylabel=r"RMS of $\hat\alpha_k/\alpha_k - 1$",
            title=f"Modes $k = {res.band[0]}..{res.band[-1]}$: slope {res.slope:.2f}")
    ax3.yaxis.set_minor_formatter(NullFormatter())
    ax3.legend(fontsize=8.5)
    return fig


_TITLES = {"integration": "Integration, Gaussian random fields", "radon": "Radon transform, ellipse phantoms"}
_LABELS = {"pseudo-inverse": "$A^+$", "tikhonov": "Tikhonov", "learned": "learned filter"}


def stability(res: ex.Stability) -> Figure:
    """Held-out error against the resolution for A^+, Tikhonov and the learned filter, with the bound."""
    fig = Figure(figsize=(10.5, 4.4))
    axes = fig.subplots(1, 2)
    for ax, op in zip(axes, res.ns):
        ns = np.array(res.ns[op])
        for method, label in _LABELS.items():
            ax.loglog(ns, res.errors[op][method], "o-", color=METHOD_COLOURS[method if method != "learned" else "mse"],
                      label=label)
        ax.loglog(ns, res.eps / res.s_min[op], "k:", label=r"$\varepsilon/s_{\min}$")
        ax.loglog(ns, res.clean[op]["learned"] + res.eps * res.allowance[op], "--", color=METHOD_COLOURS["mse"],
                  lw=1, label=r"learned: bound, noise-free error $+\ \varepsilon B$")
        ax.set_xticks(ns, [str(v) for v in ns])
        ax.minorticks_off()
        ax.set(xlabel="resolution $n$" + (r" (image $n\times n$)" if op == "radon" else ""),
               ylabel="RMS reconstruction error", title=_TITLES.get(op, op))
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=5, fontsize=9)
    return fig


# ---------------------------------------------------------------------------
# The live panel: noise level delta and training smoothness b
# ---------------------------------------------------------------------------


@functools.cache
def _model() -> tuple[np.ndarray, np.ndarray]:
    """Singular values of the book's setting (integration, n = 256) and the indices k."""
    s = ex.Setting().s
    return s, np.arange(1, s.size + 1, dtype=float)


class FilterPanel(PanelFigure):
    """Left: the filter factors of the MSE filter. Right: alpha_k = delta^2 k^b against s_k^2 (the cut-off)."""

    figsize = (9.5, 3.4)

    def draw(self, fig):
        _S, _K = _model()
        ax1, ax2 = fig.subplots(1, 2)
        ax1.set_xscale("log")
        ax1.set(xlim=(1, _K[-1]), ylim=(0, 1.05), xlabel="index $k$", ylabel="filter factor $s_kg_k$",
                title="The learned (MSE) filter")
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set(xlim=(1, _K[-1]), ylim=(1e-12, 1e6), xlabel="index $k$", title=r"$\alpha_k$ against $s_k^2$")
        ax2.loglog(_K, _S**2, color=PALETTE[6], label=r"$s_k^2$")
        self.factors = self.animate(ax1.plot([], [], color=METHOD_COLOURS["mse"])[0])
        self.cut1 = self.animate(ax1.axvline(1.0, color="0.5", ls=":"))
        self.alpha = self.animate(ax2.plot([], [], color=METHOD_COLOURS["mse"], label=r"$\alpha_k=\delta^2k^b$")[0])
        self.cut2 = self.animate(ax2.axvline(1.0, color="0.5", ls=":", label="cut-off $s_k^2 = \\alpha_k$"))
        ax2.legend(loc="upper left", fontsize=9)

    def _cutoff(self, alpha):
        _S, _K = _model()
        above = np.nonzero(_S**2 < alpha)[0]
        return float(_K[above[0]]) if above.size else float(_K[-1])

    def update(self, delta, b):
        _S, _K = _model()
        alpha = delta**2 * _K**b
        self.factors.set_data(_K, _S**2 / (_S**2 + alpha))
        self.alpha.set_data(_K, alpha)
        n_cut = self._cutoff(alpha)
        self.cut1.set_xdata([n_cut, n_cut])
        self.cut2.set_xdata([n_cut, n_cut])

    def caption(self, delta, b):
        _S, _K = _model()
        alpha = delta**2 * _K**b
        r = optimal_risk(_S, _K ** (-b), np.full(_S.size, delta**2))
        return (f"modes k < {self._cutoff(alpha):.0f} are kept (s_k² > α_k); "
                f"optimal risk {r:.3g} of E||x||² = {np.sum(_K ** (-b)):.3g}")


def filter_panel() -> Panel:
    """The chapter's panel: noise level delta and training smoothness b, integration at n = 256."""
    return Panel(
        FilterPanel,
        [
            LogSlider("delta", 1e-5, 1e-1, label="δ", initial=1e-2, static=9),
            Slider("b", 1.25, 4.0, label="b", initial=2.0, step=0.05,
                   static=(1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)),
        ],
        alt="Filter factors of the MSE filter for noise level delta and training smoothness b, and its "
            "component-wise Tikhonov parameters alpha_k against the squared singular values",
    )


# ---------------------------------------------------------------------------
# The chapter's labelled figures
# ---------------------------------------------------------------------------


@register("fig-ch2-learned", chapter=2, seed=ex.SEED, caption="Coefficients learned from 1000 pairs (closed form "
          "and Adam) next to the MSE filter and 1/s_k; Adam's test risk against its steps; the empirical "
          "minimiser's coefficient error against K.")
def _fig_learned():
    from ..data import make_rng

    rng = make_rng(ex.SEED)
    return learned(ex.erm_convergence(rng), ex.gradient_training(rng))


@register("fig-ch2-alpha", chapter=2, seed=ex.SEED, caption="The learned filter as Tikhonov regularization: "
          "alpha_k read off an empirical filter against Delta_k/Pi_k, filter factors against classical Tikhonov, "
          "and the convergence of alpha_k in K.")
def _fig_alpha():
    from ..data import make_rng

    return alpha(ex.alpha_recovery(make_rng(ex.SEED)))


@register("fig-ch2-stability", chapter=2, seed=ex.SEED, caption="Noise of fixed norm on the last singular "
          "vector: held-out error of A^+, Tikhonov and the learned filter against the resolution, for integration "
          "and the Radon transform, with the learned filter's resolution-independent bound.")
def _fig_stability():
    from ..data import make_rng

    return stability(ex.stability(make_rng(ex.SEED)))


#: The chapter's panels, by name (the benchmark measures each one's live update time).
PANELS = {"learned-filter": filter_panel}
