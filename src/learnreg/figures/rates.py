"""Figures of chapter 3: convergence rates and the role of training-data smoothness."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..book.panels import LogSlider, Panel, PanelFigure, Slider
from ..book.style import METHOD_COLOURS, PALETTE
from ..experiments import rates as ex
from ..rates import model_errors, model_filter, rate_exponent
from . import register

__all__ = ["matched_rates", "mismatch_rates", "noise_mismatch", "sampled_rates", "RatePanel", "rate_panel"]


def _fit_line(ax, deltas, errors, slope, colour, label):
    """Markers at the measured errors and the fitted power law through them."""
    ax.loglog(deltas, errors, "o", color=colour, ms=5)
    c = np.exp(np.mean(np.log(errors) - slope * np.log(deltas)))
    ax.loglog(deltas, c * deltas**slope, "-", color=colour, label=label)


def matched_rates(res: ex.MatchedRates) -> Figure:
    """Risk against delta for each (a, b), with the fitted slopes and the theory."""
    fig = Figure(figsize=(9.5, 4.0))
    ax = fig.subplots()
    for i, ((a, b), e, s, p) in enumerate(zip(res.pairs, res.errors, res.slopes, res.predicted)):
        _fit_line(ax, res.deltas, e, s, PALETTE[i], rf"$a={a:g},\ b={b:g}$: slope {s:.3f} (theory {p:.3f})")
    ax.set(xlabel=r"noise level $\delta$", ylabel=r"risk $\mathcal{R}(\delta)$ of the MSE filter",
           title="Convergence rate in the model problem")
    ax.legend(fontsize=8.5, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


def mismatch_rates(res: ex.MismatchRates) -> Figure:
    """Left: error curves for rough, matched and smooth training data. Right: fitted rate against b."""
    fig = Figure(figsize=(10.5, 3.9))
    ax1, ax2 = fig.subplots(1, 2)
    names = {True: "too rough", False: "too smooth"}
    shown = [b for b in (1.5, res.c, 3.0) if b in res.bs]
    for i, b in enumerate(shown):
        label = "matched" if b == res.c else names[b < res.c]
        ax1.loglog(res.deltas, res.errors[list(res.bs).index(b)], "o-", color=PALETTE[i],
                   label=f"train $b={b:g}$ ({label})")
    ax1.set(xlabel=r"noise level $\delta$", ylabel=rf"test error $\mathcal{{E}}(\delta)$, $c={res.c:g}$",
            title=f"Error for test smoothness $c={res.c:g}$")
    ax1.legend()
    b_fine = np.linspace(1.1, max(4.2, res.bs.max() + 0.2), 200)
    ax2.plot(b_fine, [rate_exponent(res.a, b, c=res.c) for b in b_fine], color=PALETTE[6],
             label=r"theory $2(\min(b,c)-1)/(2a+b)$")
    ax2.axhline(rate_exponent(res.a, res.c), color=PALETTE[2], ls="--",
                label=r"optimal for the test class, $2(c-1)/(2a+c)$")
    ax2.plot(res.bs, res.slopes, "o", color=PALETTE[0], ms=7, label="fitted slope")
    ax2.axvline(res.c, color="0.6", lw=1)
    ax2.text(1.3, 0.05, "variance-limited\n(too rough)", fontsize=9)
    ax2.text(res.c + 1.0, 0.05, "bias-limited\n(too smooth)", fontsize=9)
    ax2.set(xlabel="training smoothness $b$", ylabel=r"rate exponent in $\delta$", ylim=(0, 0.6),
            title=f"Measured rate against training smoothness ($a={res.a:g}$, $c={res.c:g}$)")
    ax2.legend(loc="upper right", fontsize=8)
    return fig


def noise_mismatch(res: ex.NoiseMismatch) -> Figure:
    """Test error against delta for the three test noises."""
    fig = Figure(figsize=(9.5, 4.0))
    ax = fig.subplots()
    colours = (PALETTE[1], PALETTE[0], PALETTE[2])
    for i, (name, q, e, s, g) in enumerate(zip(res.names, res.qs, res.errors, res.slopes, res.predicted)):
        _fit_line(ax, res.deltas, e, s, colours[i % 3],
                  f"{name} test noise ($q={q:g}$): slope {s:.3f} (theory {g:.3f})")
    ax.set(xlabel=r"noise level $\delta$", ylabel="test error of the MSE filter",
           title=rf"Trained with noise $\delta^2 k^{{-{res.p:g}}}$ ($a={res.a:g}$, $b={res.b:g}$)")
    ax.legend(fontsize=8.5, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


def sampled_rates(res: ex.SampledRates) -> Figure:
    """Held-out error of filters learned from samples, against delta, for the three data sets."""
    fig = Figure(figsize=(9.5, 4.0))
    ax = fig.subplots()
    for i, (name, e, s, p) in enumerate(zip(res.names, res.errors, res.slopes, res.predicted)):
        _fit_line(ax, res.deltas, e, s, PALETTE[i], f"{name}: slope {s:.3f} (theory {p:.3f})")
    ax.set(xlabel=r"noise level $\delta$", ylabel=r"mean test error $\|R_{\hat g}y - x\|^2$",
           title=f"Integration, $n={res.n}$: filters learned from {res.n_train} samples")
    ax.legend(fontsize=8.5, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


# ---------------------------------------------------------------------------
# The live panel: delta, a, b, c
# ---------------------------------------------------------------------------

#: Modes of the panel's model (the closed-form tail covers the rest).
PANEL_MODES = 10**4
_K = np.arange(1, PANEL_MODES + 1, dtype=float)
_K_SHOWN = np.unique(np.geomspace(1, PANEL_MODES, 300).astype(int)) - 1
_PANEL_DELTAS = np.logspace(-6, -1, 11)


class RatePanel(PanelFigure):
    """Left: the filter factors s_k g_k and the cut-off N. Right: the test error against delta."""

    figsize = (9.5, 3.5)

    def draw(self, fig):
        ax1, ax2 = fig.subplots(1, 2)
        ax1.set_xscale("log")
        ax1.set(xlim=(1, PANEL_MODES), ylim=(0, 1.05), xlabel="index $k$", ylabel="filter factor $s_kg_k$",
                title="The learned filter")
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set(xlim=(_PANEL_DELTAS[0], _PANEL_DELTAS[-1]), ylim=(1e-9, 1e1), xlabel=r"noise level $\delta$",
                ylabel=r"test error $\mathcal{E}(\delta)$", title="Test error on data of smoothness $c$")
        self.factors = self.animate(ax1.plot([], [], color=METHOD_COLOURS["mse"])[0])
        self.cutoff = self.animate(ax1.axvline(1.0, color="0.5", ls=":", label="cut-off $N$"))
        ax1.legend(loc="upper right")
        self.trained = self.animate(ax2.plot([], [], "-", color=PALETTE[1])[0])
        self.matched = self.animate(ax2.plot([], [], "--", color=PALETTE[2])[0])
        self.now = self.animate(ax2.plot([], [], "o", color=PALETTE[1])[0])
        ax2.legend([self.trained, self.matched], ["trained with $b$", "trained with $b = c$"], loc="lower right")

    def update(self, delta, a, b, c):
        g = model_filter(a, b, delta, PANEL_MODES)
        k = _K[_K_SHOWN]
        self.factors.set_data(k, k ** (-a) * g[_K_SHOWN])
        n_cut = delta ** (-2 / (2 * a + b))
        self.cutoff.set_xdata([n_cut, n_cut])
        self.trained.set_data(_PANEL_DELTAS, model_errors(a, b, _PANEL_DELTAS, c=c, n_modes=PANEL_MODES))
        self.matched.set_data(_PANEL_DELTAS, model_errors(a, c, _PANEL_DELTAS, n_modes=PANEL_MODES))
        self.now.set_data([delta], model_errors(a, b, [delta], c=c, n_modes=PANEL_MODES))

    def caption(self, delta, a, b, c):
        return (f"cut-off N ≈ {delta ** (-2 / (2 * a + b)):.3g}; predicted rate {rate_exponent(a, b, c=c):.2f} "
                f"trained with b = {b:.3g}, {rate_exponent(a, c):.2f} trained with b = c = {c:.3g}")


def rate_panel() -> Panel:
    """The chapter's panel: noise level, operator order, training and test smoothness."""
    return Panel(
        RatePanel,
        [
            LogSlider("delta", 1e-6, 1e-1, label="δ", initial=1e-3, static=11),
            Slider("a", 0.5, 2.0, label="a", initial=1.0, step=0.05),
            Slider("b", 1.25, 4.0, label="b (train)", initial=3.0, step=0.05, static=8),
            Slider("c", 1.25, 4.0, label="c (test)", initial=2.0, step=0.05),
        ],
        static=("delta", "b"),
        alt="Filter factors of the MSE filter trained with smoothness b, and its test error against the noise level "
            "on data of smoothness c, next to the filter trained with b = c",
    )


# ---------------------------------------------------------------------------
# The chapter's labelled figures
# ---------------------------------------------------------------------------


@register("fig-ch3-rate", chapter=3, caption="Risk of the MSE filter against the noise level in the diagonal "
          "model, for five pairs (a, b), with the fitted slopes and the predicted 2(b-1)/(2a+b).")
def _fig_rate():
    return matched_rates(ex.matched_rates())


@register("fig-ch3-mismatch", chapter=3, caption="Training smoothness b against test smoothness c = 2: error "
          "curves, and the fitted rate against b next to 2(min(b,c)-1)/(2a+b).")
def _fig_mismatch():
    return mismatch_rates(ex.mismatch_rates())


@register("fig-ch3-noise", chapter=3, caption="Filters trained with noise delta^2/sqrt(k), tested with white, "
          "matched and smoother noise: error against delta with fitted and predicted slopes.")
def _fig_noise():
    return noise_mismatch(ex.noise_mismatch())


@register("fig-ch3-integration", chapter=3, seed=ex.SEED, caption="Integration operator: held-out error of "
          "filters learned from 200 samples of three data sets, against delta, with the fitted slopes.")
def _fig_integration():
    from ..data import make_rng

    return sampled_rates(ex.sampled_rates(make_rng(ex.SEED)))


#: The chapter's panels, by name (the benchmark measures each one's live update time).
PANELS = {"rates": rate_panel}
