"""Figures of chapter 4: learning paradigms in the spectral model."""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure

from .. import paradigms as P
from ..book.panels import LogSlider, Panel, PanelFigure, Slider
from ..book.style import METHOD_COLOURS, PALETTE
from ..experiments import paradigms as ex
from ..spectral import mse_filter, regularization_parameters, risk
from . import register

__all__ = ["denoiser", "pnp", "post_processing", "post_on_pinv", "self_supervised", "all_filters",
           "ParadigmPanel", "paradigm_panel", "PANELS"]

_PNP = METHOD_COLOURS["pnp"]
_POST = METHOD_COLOURS["post-processing"]
_MSE = METHOD_COLOURS["mse"]
_SELF = METHOD_COLOURS["self-supervised"]
_CLOSED = PALETTE[6]


def denoiser(res: ex.DenoiserProx) -> Figure:
    """Left: learned and MMSE denoiser coefficients. Right: the weights of the explicit regularizer."""
    fig = Figure(figsize=(10.0, 3.9))
    ax1, ax2 = fig.subplots(1, 2)
    k = np.arange(1, res.n + 1)
    ax1.semilogx(k, res.d_true, color=_CLOSED, lw=1.2, label=r"MMSE $d_k = \Pi_k/(\Pi_k+\tau)$")
    ax1.semilogx(k, res.d_free, ".", ms=4, color=_PNP, label=f"learned from K = {res.n_train} pairs")
    ax1.axhline(1, color="grey", lw=0.8, ls=":")
    ax1.set(xlabel="$k$", ylabel="$d_k$", title=rf"denoiser coefficients ($\tau = {res.tau:g}$)")
    ax1.legend()
    w_hat = res.w_hat
    ax2.loglog(k, res.w_true, color=_CLOSED, lw=1.2, label=r"$w_k = \tau/\Pi_k$ (MMSE)")
    ax2.loglog(k, np.where(np.isfinite(w_hat), w_hat, np.nan), ".", ms=4, color=_PNP,
               label=r"$\hat w_k = 1/\hat d_k - 1$ (learned)")
    ax2.set(xlabel="$k$", ylabel="$w_k$",
            title=r"weights of $J(x)=\frac{1}{2}\sum_k w_k\langle x,u_k\rangle^2$")
    ax2.legend()
    return fig


def pnp(res: ex.PnP) -> Figure:
    """Left: distance of the PnP iterates to the variational solutions, with the bounds. Right: the limits."""
    fig = Figure(figsize=(10.0, 3.9))
    ax1, ax2 = fig.subplots(1, 2)
    colours = (_PNP, PALETTE[3])
    for g, colour in zip(res.steps, colours):
        d = res.distances[g] / res.distances[g][0]
        t = np.arange(d.size)
        ax1.semilogy(t, d, color=colour, label=rf"PnP, $\gamma = {g:g}$: distance to $x^*_\gamma$")
        ax1.semilogy(t, res.rho[g] ** t, "--", color=colour, lw=1, label=rf"bound $\rho^t$, $\rho = {res.rho[g]:.4f}$")
    ax1.set(xlabel="iteration $t$", ylabel=r"$\|x^t - x^*_\gamma\| / \|x^0 - x^*_\gamma\|$", ylim=(1e-16, 3),
            title="PnP with the learned denoiser converges linearly")
    ax1.legend(fontsize=8.5)
    ax2.plot(res.grid, res.x_test, color=_CLOSED, lw=1, label="truth $x$")
    ax2.plot(res.grid, res.limits[res.steps[0]], color=_PNP, label=rf"PnP limit, $\gamma = {res.steps[0]:g}$")
    ax2.plot(res.grid, res.x_mse, ":", color=_MSE, lw=2, label="MSE filter (true moments)")
    if len(res.steps) > 1:
        ax2.plot(res.grid, res.limits[res.steps[-1]], color=PALETTE[3], lw=1.2, alpha=0.8,
                 label=rf"PnP limit, $\gamma = {res.steps[-1]:g}$")
    ax2.set(xlabel="$t$", ylabel="$x(t)$", title="the limits: variational solutions")
    ax2.legend(fontsize=8.5)
    return fig


def post_processing(res: ex.PostProcessing) -> Figure:
    """Risks and operator norms of post-processing against the resolution, beside PnP with the same denoiser."""
    fig = Figure(figsize=(10.0, 7.0))
    axes = fig.subplot_mosaic([["a", "b"], ["c", "c"]])
    b0 = res.bs[0]
    ax = axes["a"]
    ax.loglog(res.resolutions, res.risk_pinv, "o-", color=METHOD_COLOURS["pseudo-inverse"], label="$A^+$")
    ax.loglog(res.resolutions, res.risk_post[0], "o-", color=_POST, label=r"$D\circ A^+$ (exact)")
    ax.loglog(res.resolutions, res.risk_var[0], "o-", color=_PNP, label="PnP / variational, same $D$ (exact)")
    ax.loglog(res.mc_resolutions, res.mc_post[:, 0], "kx", ms=8, label=f"simulated ({res.n_mc} samples)")
    ax.loglog(res.mc_resolutions, res.mc_var[:, 0], "kx", ms=8)
    ax.set(xlabel="resolution $r$ (modes)", ylabel=r"risk $E\|R_g y - x\|^2$", title=f"$b = {b0:g} < a = {res.a:g}$")
    ax.legend(fontsize=8.5)
    colours = (_POST, PALETTE[4], PALETTE[3], PALETTE[0])
    ax = axes["b"]
    for i, b in enumerate(res.bs):
        ax.loglog(res.resolutions, res.gmax_post[i], "o-", color=colours[i % 4], label=rf"$D\circ A^+$, $b = {b:g}$")
    ax.loglog(res.resolutions, res.gmax_var[0], "o--", color=_PNP, label=f"PnP, $b = {b0:g}$")
    ax.set(xlabel="resolution $r$ (modes)", ylabel=r"$\max_k g_k = \|R_g\|$", title="operator norm")
    ax.legend(fontsize=8.5)
    ax = axes["c"]
    for i, (b, slope) in enumerate(zip(res.bs, res.slopes())):
        ax.loglog(res.resolutions, res.risk_post[i], "o-", color=colours[i % 4],
                  label=rf"$D\circ A^+$, $b = {b:g}$: fitted exponent {slope:.2f}")
    ax.axvspan(*res.fit_window, color=PALETTE[5], alpha=0.08)
    ax.set(xlabel="resolution $r$ (modes)", ylabel="risk",
           title=r"white-noise risk of $D\circ A^+$ (fit on the shaded range)")
    ax.legend(fontsize=8.5)
    return fig


def post_on_pinv(res: ex.PostOnPinv) -> Figure:
    """Left: filter factors of post-processing learned on A^+ output and of the closed forms. Right: z_k."""
    fig = Figure(figsize=(10.0, 3.9))
    ax1, ax2 = fig.subplots(1, 2)
    k = np.arange(1, res.s.size + 1)
    g_mse = mse_filter(res.s, res.Pi, res.delta**2)
    ax1.semilogx(k, res.s * g_mse, color=_MSE, lw=1.6, label="MSE filter")
    ax1.semilogx(k, res.d_hat, ".", ms=4, color=PALETTE[1], label=rf"$\hat D\circ A^+$, learned on $A^+$ output")
    ax1.semilogx(k, P.mmse_denoiser(res.Pi, res.delta**2), color=_POST, lw=1.6,
                 label=rf"$D\circ A^+$, white $\tau = \delta^2$")
    ax1.set(xlabel="$k$", ylabel="filter factor $s_kg_k = d_k$", ylim=(-0.1, 1.1),
            title=f"post-processing, K = {res.n_train} pairs")
    ax1.legend(fontsize=8.5)
    ax2.semilogx(k, res.z, ".", ms=4, color=PALETTE[1], label=r"$z_k$ against $s_kg^{\rm MSE}_k$")
    ax2.axhspan(-ex.Z_MAX, ex.Z_MAX, color=PALETTE[2], alpha=0.1, label=rf"$|z_k| \leq {ex.Z_MAX:g}$")
    ax2.set(xlabel="$k$", ylabel="standardised deviation $z_k$", ylim=(-6, 6),
            title=r"learned $\hat d_k$ against the closed form")
    ax2.legend(fontsize=8.5, loc="lower left")
    return fig


def self_supervised(res: ex.SelfSupervised) -> Figure:
    """Left: excess risk against K, with C/K. Right: the learned filters at the largest K."""
    fig = Figure(figsize=(10.0, 3.9))
    ax1, ax2 = fig.subplots(1, 2)
    colours = {"supervised": _MSE, "self-supervised": _SELF, "sure": PALETTE[4]}
    slopes = res.slopes()
    for m in ex.METHODS:
        ax1.loglog(np.repeat(res.Ks, res.reps), res.excess[m].ravel(), ".", ms=3, color=colours[m], alpha=0.4)
        ax1.loglog(res.Ks, res.mean_excess[m], "o", color=colours[m], label=f"{m}: slope {slopes[m]:.2f}")
        ax1.loglog(res.Ks, res.constants[m] / res.Ks, "--", color=colours[m], lw=1)
    ax1.set(xlabel="number of training samples $K$", ylabel="excess risk over the MSE filter",
            title=r"sampling error $\propto 1/K$ (dashed: $C/K$)")
    ax1.legend(fontsize=8.5)
    k = np.arange(1, res.s.size + 1)
    ax2.semilogx(k, res.s * mse_filter(res.s, res.Pi, res.delta**2), color=_CLOSED, lw=1.5,
                 label="MSE filter (closed form)")
    for m in ex.METHODS:
        ax2.semilogx(k, res.s * res.learned[m], ".", ms=3.5, color=colours[m], label=f"{m}, K = {res.Ks[-1]}")
    ax2.set(xlabel="$k$", ylabel="filter factor $s_k g_k$", ylim=(-0.3, 1.3),
            title=f"learned filters, one draw of K = {res.Ks[-1]}")
    ax2.legend(fontsize=8.5)
    return fig


_STYLES = {
    "supervised": (_MSE, "o"),
    "PnP (tau = Delta)": (_PNP, "s"),
    "post-processing, white tau": (_POST, "^"),
    "post-processing on A^+ output": (PALETTE[1], "v"),
    "self-supervised": (_SELF, "x"),
    "SURE": (PALETTE[4], "+"),
}


def all_filters(res: ex.AllFilters) -> Figure:
    """Left: every paradigm's learned filter factors with the two closed forms. Right: explaining alpha_k."""
    fig = Figure(figsize=(10.0, 5.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    k = np.arange(1, res.s.size + 1)
    labels = {"mse": "MSE: supervised, PnP, post-proc. on $A^+$, self-sup., SURE",
              "post-white": r"post-processing, white $\tau$"}
    for key, g in res.closed.items():
        colour = _CLOSED if key == "mse" else _POST
        ax1.semilogx(k, res.s * g, color=colour, lw=1.6, label=labels[key])
        ax2.loglog(k, regularization_parameters(res.s, g), color=colour, lw=1.6)
    for name, g in res.learned.items():
        colour, marker = _STYLES.get(name, (PALETTE[0], "o"))
        kw = dict(ls="none", marker=marker, ms=4, color=colour, alpha=0.75, mfc="none" if marker in "o^sv" else None)
        ax1.semilogx(k, res.s * g, label=name.replace("tau", r"$\tau$").replace("Delta", r"$\Delta$")
                     .replace("A^+", "$A^+$"), **kw)
        ax2.loglog(k, ex.explaining_alpha(res.s, g, res.closed[res.reduces_to[name]]), **kw)
    ax1.set(xlabel="$k$", ylabel="filter factor $s_k g_k$", ylim=(-0.2, 1.2),
            title="learned filters (lines: closed forms)")
    ax2.set(xlabel="$k$", ylabel=r"$\alpha_k = s_k/g_k - s_k^2$", ylim=(1e-9, 1e4),
            title=r"explaining parameters: $\Delta/\Pi_k$ and $s_k^2\tau/\Pi_k$")
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=8.5)
    return fig


# ---------------------------------------------------------------------------
# The panel: noise level, training smoothness and the denoiser's training noise
# ---------------------------------------------------------------------------

#: Resolution of the panel's operator (integration).
PANEL_N = 256


@functools.lru_cache(maxsize=1)
def _panel_s() -> np.ndarray:
    from ..operators import Integration

    return Integration(PANEL_N).svd().s


class ParadigmPanel(PanelFigure):
    """Left: filter factors of the MSE, PnP/variational and post-processing filters. Right: their alpha_k."""

    figsize = (9.5, 3.5)

    def draw(self, fig):
        self.s = _panel_s()
        self.k = np.arange(1, self.s.size + 1, dtype=float)
        ax1, ax2 = fig.subplots(1, 2)
        ax1.set_xscale("log")
        ax1.set(xlim=(1, self.k[-1]), ylim=(-0.03, 1.05), xlabel="$k$", ylabel="filter factor $s_kg_k$",
                title="Learned filters (population)")
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set(xlim=(1, self.k[-1]), ylim=(1e-14, 1e8), xlabel="$k$", ylabel=r"$\alpha_k = s_k/g_k - s_k^2$",
                title="Explaining Tikhonov parameter")
        self.lines = {}
        for key, colour, ls, label in (("mse", _MSE, "-", "MSE: supervised, self-sup., SURE, post-proc. on $A^+$"),
                                       ("pnp", _PNP, "--", r"PnP / variational, denoiser at $\tau$"),
                                       ("post", _POST, "-", r"post-processing, white $\tau$")):
            self.lines[key] = (self.animate(ax1.plot([], [], ls, color=colour, label=label)[0]),
                               self.animate(ax2.plot([], [], ls, color=colour)[0]))
        # the upper left of the right panel stays empty for every parameter value: the legend goes there
        ax2.legend([f for f, _ in self.lines.values()], [f.get_label() for f, _ in self.lines.values()],
                   loc="upper left", fontsize=8)

    def filters(self, delta, b, tau_ratio):
        """The three closed-form filters (MSE, PnP at tau, post-processing with white tau)."""
        Pi = self.k**-b
        tau = tau_ratio * delta**2
        s = self.s
        return {"mse": s * Pi / (s**2 * Pi + delta**2), "pnp": s * Pi / (s**2 * Pi + tau),
                "post": Pi / (s * (Pi + tau))}

    def update(self, delta, b, tau_ratio):
        for key, g in self.filters(delta, b, tau_ratio).items():
            f, a = self.lines[key]
            f.set_data(self.k, self.s * g)
            a.set_data(self.k, self.s / g - self.s**2)

    def caption(self, delta, b, tau_ratio):
        Pi, Delta = self.k**-b, np.full(self.k.size, delta**2)
        r = {key: risk(self.s, g, Pi, Delta).total for key, g in self.filters(delta, b, tau_ratio).items()}
        return (f"risk: MSE filter {r['mse']:.3g}, PnP/variational {r['pnp']:.3g}, "
                f"post-processing {r['post']:.3g} (denoiser at τ = {tau_ratio:.2g} δ²)")


def paradigm_panel() -> Panel:
    """The chapter's panel: noise level, training smoothness, and the denoiser's training noise."""
    return Panel(
        ParadigmPanel,
        [
            LogSlider("delta", 1e-5, 1e-1, label="δ", initial=1e-2, static=9),
            Slider("b", 1.25, 4.0, label="b", initial=2.0, step=0.05, static=(1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)),
            LogSlider("tau_ratio", 1e-2, 1e2, label="τ/δ²", initial=1.0),
        ],
        static=("delta", "b"),
        alt="Filter factors and explaining Tikhonov parameters of the MSE filter (supervised, self-supervised, SURE, "
            "post-processing on pseudo-inverse output), of PnP with a denoiser trained at tau, and of post-processing "
            "with a white-noise denoiser, for a noise level and a training smoothness",
    )


# ---------------------------------------------------------------------------
# The chapter's labelled figures
# ---------------------------------------------------------------------------


def _rng():
    from ..data import make_rng

    return make_rng(ex.SEED)


@register("fig-ch4-denoiser", chapter=4, seed=ex.SEED, caption="A spectral denoiser learned from 2000 pairs against "
          "the MMSE denoiser, and the weights of the explicit regularizer whose prox it is.")
def _fig_denoiser():
    return denoiser(ex.denoiser_prox(_rng()))


@register("fig-ch4-pnp", chapter=4, seed=ex.SEED, caption="PnP proximal gradient with the learned denoiser: "
          "distance to the variational solutions for two step sizes, with the bound rho^t, and the limits.")
def _fig_pnp():
    rng = _rng()
    return pnp(ex.pnp(rng, ex.denoiser_prox(rng)))


@register("fig-ch4-post", chapter=4, seed=ex.SEED, caption="Post-processing with a white-noise denoiser against the "
          "variational reconstruction with the same denoiser: risks and operator norms against the resolution.")
def _fig_post():
    return post_processing(ex.post_processing(_rng()))


@register("fig-ch4-post-pinv", chapter=4, seed=ex.SEED, caption="Post-processing trained on pseudo-inverse "
          "reconstructions: learned filter factors against the MSE filter, and the standardised deviations.")
def _fig_post_pinv():
    return post_on_pinv(ex.post_on_pinv(_rng()))


@register("fig-ch4-self", chapter=4, seed=ex.SEED, caption="Supervised, self-supervised and SURE filters learned "
          "from K samples: excess risk against K with C/K, and the learned filters at K = 10^4.")
def _fig_self():
    return self_supervised(ex.self_supervised(_rng()))


@register("fig-ch4-filters", chapter=4, seed=ex.SEED, caption="The filters learned by six paradigms, with the two "
          "closed forms they reduce to, and their explaining Tikhonov parameters.")
def _fig_filters():
    rng = _rng()
    return all_filters(ex.all_filters(ex.denoiser_prox(rng), ex.post_on_pinv(rng), ex.self_supervised(rng)))


#: The chapter's panels, by name (the benchmark measures each one's live update time).
PANELS = {"paradigms": paradigm_panel}
