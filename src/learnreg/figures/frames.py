"""Figures of chapter 6: diagonal frame decompositions, and filters learned on them."""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure

from ..book.panels import Choice, Grid, Panel, PanelFigure
from ..book.style import METHOD_COLOURS, PALETTE
from ..experiments import frames as ex
from . import register

__all__ = ["dfd", "frame_bounds", "linear_dfd", "structure", "rates", "reconstructions", "FramePanel",
           "frame_panel", "PANELS", "WAVELET_COLOURS"]

#: One colour per wavelet family, rough to smooth.
WAVELET_COLOURS = {"haar": PALETTE[1], "db2": PALETTE[4], "db4": PALETTE[0], "sym6": PALETTE[2]}
#: Colour and marker per learned reconstruction.
STYLES = {"svd": (METHOD_COLOURS["mse"], "o"), "linear": (PALETTE[4], "s"), "soft": (PALETTE[2], "^")}


def _colour(w: str) -> str:
    return WAVELET_COLOURS.get(w, PALETTE[3])


def dfd(res: ex.DFDChecks) -> Figure:
    """Quasi-singular values against the singular values, kappa_j 2^j per scale, and example (u_l, v_l)."""
    fig = Figure(figsize=(10.0, 6.6), layout="constrained")
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    ax.loglog(np.arange(1, res.s.size + 1), res.s, color=PALETTE[6], lw=1.2, label="$s_k$ (SVD)")
    for w in res.wavelets:
        ax.loglog(np.arange(1, res.kappa[w].size + 1), res.kappa[w], color=_colour(w), lw=1.6,
                  label=rf"$\kappa_l$, {w}")
    ax.set(xlabel="index $k$ or $l$ (scale $j$ starts at $l = 2^j$)", ylabel="value",
           title=f"quasi-singular values, n = {res.n}")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    for w in res.wavelets:
        ax.semilogy(res.scales, res.kappa_scale[w] * 2.0**res.scales, "o-", color=_colour(w), label=w)
    ax.set(xlabel="scale $j$", ylabel=r"$\kappa_j\,2^j$", title=r"$\kappa_j 2^j$: constant for smooth wavelets")
    ax.legend(fontsize=8)
    for ax, k, title in ((axes[1, 0], 0, "wavelets $u_l$"), (axes[1, 1], 1, "vaguelettes $v_l$")):
        for w, pair in res.examples.items():
            cols = pair[k]
            for c in range(cols.shape[1]):
                ax.plot(res.grid_small, cols[:, c], color=_colour(w), lw=1.3, label=w if c == 0 else None)
        ax.set(xlabel="$t$", title=title + " ($j = 2$ left, $j = 5$ right)")
        ax.legend(fontsize=8)
    axes[1, 1].set_ylim(-12, 12)
    return fig


def frame_bounds(res: ex.FrameBoundsResult) -> Figure:
    """Frame-bound ratio and lower and upper bounds of the vaguelettes against the resolution."""
    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for i, w in enumerate(res.wavelets):
        ax1.loglog(res.ns, res.ratio[i], "o-", color=_colour(w), label=f"{w} (slope {res.ratio_slope(w):.2f})")
        ax2.loglog(res.ns, res.lower[i], "o-", color=_colour(w), label=f"$A_F$, {w}")
        ax2.loglog(res.ns, res.upper[i], "s:", color=_colour(w), ms=4)
    ax2.loglog(res.ns, 6 / res.ns, "--", color=PALETTE[6], lw=1, label="$6/n$ (Haar bound)")
    ax1.set(xlabel="resolution $n$", ylabel="$B_F / A_F$", title="frame-bound ratio of the vaguelettes")
    ax2.set(xlabel="resolution $n$", ylabel="frame bound", title="lower $A_F$ (circles) and upper $B_F$ (squares)",
            ylim=(3e-4, 20))
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=7.5, ncol=3, loc="lower left")
    return fig


def linear_dfd(res: ex.LinearDFD, wavelet: str = "db4") -> Figure:
    """Left: learned coefficients of the SVD and linear DFD filters. Right: closed-form risk ratios."""
    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
    k = np.arange(1, res.s.size + 1)
    ax1.loglog(k, res.g_svd, color=METHOD_COLOURS["mse"], label="SVD filter $g_k$ (closed form)")
    ax1.loglog(k, 1 / res.s, ":", color=METHOD_COLOURS["pseudo-inverse"], label="$1/s_k$")
    l = np.arange(1, res.kappa[wavelet].size + 1)
    ax1.loglog(l, np.where(res.g_emp[wavelet] > 0, res.g_emp[wavelet], np.nan), ".", ms=2.5, color=PALETTE[2],
               alpha=0.6, label=f"DFD filter $g_l$, empirical ({wavelet})")
    ax1.loglog(l, res.g_closed[wavelet], color=PALETTE[2], lw=1.4, label=f"DFD filter $g_l$, closed form ({wavelet})")
    ax1.loglog(l, 1 / res.kappa[wavelet], "--", color=PALETTE[4], lw=1, label=r"$1/\kappa_l$")
    ax1.set(xlabel="index $k$ or $l$", ylabel="coefficient", title=rf"learned coefficients, $\delta$ = {res.delta:g}",
            ylim=(1e-3, 3e4))
    ax1.legend(fontsize=7.5, loc="upper left")
    ratios = [res.risk_dfd[w] / res.risk_svd for w in res.wavelets]
    ax2.bar(res.wavelets, ratios, color=[_colour(w) for w in res.wavelets])
    ax2.axhline(1.0, color=PALETTE[6], lw=1)
    for i, v in enumerate(ratios):
        ax2.text(i, v + 0.03, f"{v:.3f}", ha="center", fontsize=9)
    ax2.set(ylabel="risk / optimal spectral risk", title="closed-form risk of the linear DFD filter",
            ylim=(0, max(ratios) * 1.15))
    return fig


def structure(res: ex.Structure) -> Figure:
    """MSE of the linear and soft-threshold DFD filters relative to the learned SVD filter, both data classes."""
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, cls in zip(axes, ex.CLASSES):
        d = res.deltas(cls)
        for w in res.wavelets:
            ax.loglog(d, res.ratio(cls, w, "soft"), "o-", ms=3.5, color=_colour(w), label=f"soft, {w}")
            ax.loglog(d, res.ratio(cls, w, "linear"), ":", color=_colour(w), label=f"linear, {w}")
        ax.axhline(1.0, color=PALETTE[6], lw=1)
        ax.set(xlabel=r"noise level $\delta$", title=f"{cls} data, n = {res.n[cls]}")
    sp = res.sparsity.delta_sparse
    d = res.deltas("piecewise")
    axes[1].axvspan(d[0] / 1.5, sp, color=PALETTE[5], alpha=0.15, label="sparse regime")
    axes[0].set_ylabel("MSE / MSE of the learned SVD filter")
    fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=5, fontsize=8)
    return fig


def rates(res: ex.Rates) -> Figure:
    """Test MSE against delta for the three learned reconstructions, with the fitted slopes and the windows."""
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, cls in zip(axes, ex.CLASSES):
        d = res.deltas[cls]
        for m in ex.METHODS:
            colour, marker = STYLES[m]
            ax.loglog(d, res.mse[cls, m], marker + "-", ms=4, color=colour,
                      label=f"{ex.METHOD_NAMES[m]}: slope {res.slopes[cls, m]:.2f}")
        ref = res.mse[cls, "svd"][0]
        ax.loglog(d, ref * (d / d[0]) ** 0.5, ":", color=PALETTE[6], lw=1, label=r"$\delta^{1/2}$")
        if cls == "piecewise":
            ax.loglog(d, res.mse[cls, "soft"][0] * (d / d[0]) ** (2 / 3), "--", color=PALETTE[6], lw=1,
                      label=r"$\delta^{2/3}$")
        ax.axvspan(*res.windows[cls], color=PALETTE[5], alpha=0.08)
        ax.set(xlabel=r"noise level $\delta$", ylabel="test MSE",
               title=f"{cls} data, {res.wavelet} (fit on the shaded range)")
        ax.legend(fontsize=8)
    return fig


def reconstructions(res: ex.Reconstructions) -> Figure:
    """A test signal and its three reconstructions at two noise levels, in full and zoomed at a jump."""
    fig = Figure(figsize=(10.0, 6.0), layout="constrained")
    axes = fig.subplots(2, 2, gridspec_kw={"width_ratios": [1.8, 1]})
    window = slice(max(res.jump - 40, 0), min(res.jump + 40, res.x.size))
    for row, dl in enumerate(res.deltas[:2]):
        for ax, sl in ((axes[row, 0], slice(None)), (axes[row, 1], window)):
            ax.plot(res.grid[sl], res.x[sl], color=PALETTE[6], lw=2.4, label="truth")
            for m in ex.METHODS:
                label = ex.METHOD_NAMES[m] + ("" if m == "svd" else f" ({res.wavelet})")
                ax.plot(res.grid[sl], res.recs[dl, m][sl], color=STYLES[m][0], lw=1.0, label=label)
        axes[row, 0].set(title=rf"$\delta$ = {dl:g}", xlabel="$t$", ylabel="$x(t)$")
        axes[row, 1].set(title=rf"zoom at a jump, $\delta$ = {dl:g}", xlabel="$t$")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=9)
    return fig


# ---------------------------------------------------------------------------
# The panel: noise level, wavelet family and data class
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _panel_data() -> ex.PanelData:
    from ..data import make_rng

    return ex.panel_data(make_rng(ex.SEED))


class FramePanel(PanelFigure):
    """Left: a held-out signal and its three learned reconstructions. Right: test MSE against delta."""

    figsize = (9.5, 3.5)
    structural = ("data",)

    def draw(self, fig, data):
        self.data, self.cls = _panel_data(), data
        x, _ = self.data.examples[data]
        grid = np.arange(x.size) / x.size
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
        lo, hi = float(x.min()), float(x.max())
        ax1.set(xlim=(0, 1), ylim=(lo - 0.4 * (hi - lo), hi + 0.25 * (hi - lo)), xlabel="$t$", ylabel="$x(t)$",
                title=f"a held-out signal ({data} data)")
        ax1.plot(grid, x, color=PALETTE[6], lw=2.2, label="truth")
        self.recs = {m: self.animate(ax1.plot(grid, np.zeros_like(x), color=STYLES[m][0], lw=1.1,
                                              label=ex.METHOD_NAMES[m])[0]) for m in ex.METHODS}
        ax1.legend(fontsize=8, loc="lower left")
        d = np.array(self.data.deltas)
        curves = [c for (cls, _), cc in self.data.mse.items() if cls == data for c in cc.values()]
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        low, top = min(float(np.min(c)) for c in curves), max(float(np.max(c)) for c in curves)
        ax2.set(xlim=(d[0] / 1.5, d[-1] * 1.5), ylim=(low / 2, top * 2), xlabel=r"noise level $\delta$",
                ylabel="test MSE", title=r"test error, learned at each $\delta$")
        self.curves = {m: self.animate(ax2.plot([], [], "-", color=STYLES[m][0], lw=1.2)[0]) for m in ex.METHODS}
        self.marks = {m: self.animate(ax2.plot([], [], STYLES[m][1], color=STYLES[m][0], ms=6)[0]) for m in ex.METHODS}
        self.last = {}

    def update(self, delta, wavelet):
        recs, mse = self.data.at(self.cls, wavelet, delta)
        for m in ex.METHODS:
            self.recs[m].set_ydata(recs[m])
            self.curves[m].set_data(self.data.deltas, self.data.mse[self.cls, wavelet][m])
            self.marks[m].set_data([delta], [mse[m]])
        self.last = mse

    def caption(self, delta, wavelet):
        m = self.last
        return f"test MSE: SVD {m['svd']:.3g}, linear DFD {m['linear']:.3g}, soft-threshold DFD {m['soft']:.3g}"


def frame_panel() -> Panel:
    """The chapter's panel: noise level, wavelet family and data class; the filters are learned for each value."""
    data = _panel_data()
    return Panel(
        FramePanel,
        [
            Grid("delta", values=data.deltas, label="δ", initial=1e-3),
            Choice("wavelet", options=data.wavelets, label="wavelet", initial="db4"),
            Choice("data", options=data.classes[::-1], label="data", initial="piecewise"),
        ],
        static=("delta", "wavelet"),
        alt="A held-out signal and its reconstructions by the learned SVD, linear DFD and soft-threshold DFD "
            "filters, and their test errors against the noise level",
        note=(f"The filters are learned in advance, from {data.n_train} training pairs (n = {data.n}) and tested on "
              f"{data.n_test} others, for {len(data.deltas)} noise levels δ from {data.deltas[0]:g} to "
              f"{data.deltas[-1]:g}, each wavelet and each data class: learning the thresholds takes longer than a "
              "live update may, so the panel shows these grid points."),
    )


# ---------------------------------------------------------------------------
# The chapter's labelled figures
# ---------------------------------------------------------------------------


def _rng():
    from ..data import make_rng

    return make_rng(ex.SEED)


@functools.lru_cache(maxsize=1)
def _structure() -> ex.Structure:
    return ex.structure(_rng())


@register("fig-ch6-dfd", chapter=6, seed=ex.SEED, caption="The wavelet-vaguelette DFD of the periodic "
          "antiderivative: quasi-singular values, kappa_j 2^j per scale, and example wavelets and vaguelettes.")
def _fig_dfd():
    return dfd(ex.dfd_checks(_rng()))


@register("fig-ch6-frame-bounds", chapter=6, caption="Frame-bound ratio and lower and upper frame bounds of the "
          "vaguelettes against the resolution, for Haar, db2, db4 and sym6.")
def _fig_frame_bounds():
    return frame_bounds(ex.frame_bounds())


@register("fig-ch6-linear", chapter=6, seed=ex.SEED, caption="The learned linear DFD filter (db4) against its "
          "closed form and the SVD filter, and the closed-form risks of the linear DFD filters.")
def _fig_linear():
    return linear_dfd(ex.linear_dfd(_rng()))


@register("fig-ch6-structure", chapter=6, seed=ex.SEED, caption="MSE of the linear and soft-threshold DFD filters "
          "relative to the learned SVD filter against the noise level, on Gaussian and piecewise-constant data.")
def _fig_structure():
    return structure(_structure())


@register("fig-ch6-rates", chapter=6, seed=ex.SEED, caption="Test MSE of the three learned reconstructions (db4) "
          "against the noise level, with the fitted slopes over the shaded windows.")
def _fig_rates():
    return rates(ex.rates(_structure()))


@register("fig-ch6-reconstructions", chapter=6, seed=ex.SEED, caption="A piecewise-constant test signal and its "
          "three learned reconstructions at two noise levels, in full and zoomed at a jump.")
def _fig_reconstructions():
    return reconstructions(ex.reconstructions(_structure()))


#: The chapter's panels, by name (the benchmark measures each one's live update time).
PANELS = {"frames": frame_panel}
