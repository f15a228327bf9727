"""Figures of chapter 5: adversarial robustness, and adversarial training as a convergent regularization."""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure

from .. import adversarial as adv
from ..book.panels import Choice, Grid, Panel, PanelFigure
from ..book.style import METHOD_COLOURS, PALETTE
from ..experiments import adversarial as ex
from ..spectral import regularization_parameters
from . import register

__all__ = ["stability", "box_rules", "l2_rules", "pareto", "pgd_comparison", "explain", "AdversarialPanel",
           "adversarial_panel", "PANELS"]

_ADV = METHOD_COLOURS["adversarial"]
_LS = METHOD_COLOURS["pseudo-inverse"]


def stability(res: ex.Stability) -> Figure:
    """Left: max_k g_k against eps for both adversaries. Right: the stability ratio against the resolution."""
    fig = Figure(figsize=(10.5, 4.0))
    ax1, ax2 = fig.subplots(1, 2)
    shade = lambda i, m: 0.45 + 0.5 * i / max(m - 1, 1)  # noqa: E731  (lighter for coarser grids)
    for i, n in enumerate(res.n_box):
        ax1.loglog(res.eps_box, res.gmax_box[i], "o-", ms=4, color=_ADV, alpha=shade(i, len(res.n_box)),
                   label=f"box, n = {n}")
    for i, n in enumerate(res.n_l2):
        ax1.loglog(res.eps_l2, res.gmax_l2[i], "s--", ms=4, color=PALETTE[0], alpha=shade(i, len(res.n_l2)),
                   label=f"L2 ball, n = {n}")
    ax1.loglog(res.eps_box, res.sqrt_energy / res.eps_box, ":", color="0.4",
               label=r"bound $(E\|x\|^2)^{1/2}/\varepsilon$")
    ax1.set(xlabel=r"attack radius $\varepsilon$", ylabel=r"$\mathrm{max}_k\, g_k$",
            title=r"No training noise: $\mathrm{max}_k\, g_k$ against $\varepsilon$")
    ax1.legend(fontsize=8)
    for j, e in enumerate(res.eps_res):
        ax2.loglog(res.n_res, res.ratio_res[:, j], "o-", color=(PALETTE[0], PALETTE[2], PALETTE[4])[j % 3],
                   label=rf"box, $\varepsilon = {e:g}$")
    mid = len(res.eps_res) // 2
    ax2.loglog(res.n_res, res.ratio_ls[:, mid], "D-", color=_LS,
               label=rf"least squares (no adversary), $\varepsilon = {res.eps_res[mid]:g}$")
    ax2.axhline(1.0, color="0.4", ls=":", label="bound of the proposition")
    ax2.set(xlabel="resolution $n$", ylabel=r"$\varepsilon\,\mathrm{max}_k\,g_k\,/\,(\mathrm{mean}\,\|x\|^2)^{1/2}$",
            title=f"Trained on {res.n_train_res} noise-free samples (sample solver)")
    ax2.legend(fontsize=8, loc="upper left")
    return fig


_RULE_TITLES = {
    "fixed": r"$\varepsilon = 0.1$ fixed: stalls at a bias",
    "sqrt": r"$\varepsilon = \delta^{1/2}$: converges, slowly",
    "linear": r"$\varepsilon = \delta$: converges at the optimal rate",
    "square": r"$\varepsilon = \delta^2$: grows with $n$",
}


def box_rules(res: ex.BoxRules) -> Figure:
    """Exact risk (lines) and simulated error (markers) against delta, one panel per rule, three resolutions."""
    fig = Figure(figsize=(10.0, 7.0))
    axes = fig.subplots(2, 2, sharey=True)
    for ax, rule in zip(axes.flat, ex.RULES):
        for i, n in enumerate(res.n_res):
            ax.loglog(res.deltas, res.errors[n, rule], "-", color=PALETTE[i], label=f"box, n = {n}: exact")
            ax.loglog(res.deltas, res.simulated[n, rule], "o", ms=3.5, color=PALETTE[i], mfc="none",
                      label=f"simulated ({res.n_test} samples)" if i == len(res.n_res) - 1 else None)
        ax.loglog(res.deltas, res.mse, ":", color="k", lw=1.2, label=f"MSE filter (n = {res.n_res[-1]})")
        ax.set(xlabel=r"noise level $\delta$", ylabel=r"$E\|R_g(Ax+e)-x\|^2$", title=_RULE_TITLES[rule])
        ax.invert_xaxis()
    axes[0, 0].legend(fontsize=8)
    return fig


def l2_rules(res: ex.L2Rules) -> Figure:
    """Deterministic noise (two rules) and white noise for the L2-ball adversary, three resolutions."""
    fig = Figure(figsize=(12.0, 4.4))
    axes = fig.subplots(1, 3)
    hi = res.n_res[-1]
    for ax, rule in zip(axes[:2], ("linear", "square")):
        for i, n in enumerate(res.n_res):
            ax.loglog(res.deltas, res.det_test[n, rule], "o-", ms=4, color=PALETTE[i], label=f"n = {n}")
        ax.loglog(res.deltas, res.det_test[hi, "fixed"], ":", color="0.4", label=rf"$\varepsilon = 0.1$ fixed (n = {hi})")
        title = {"linear": r"$\varepsilon = \delta$", "square": r"$\varepsilon = \delta^2$"}[rule]
        ax.set(xlabel=r"noise level $\delta$", ylabel=r"worst case over $\|e\|\leq\delta$ of $\|R_g(Ax+e)-x\|^2$",
               title="deterministic noise, L2 ball, " + title)
        ax.invert_xaxis()
        ax.legend(fontsize=8)
    ax = axes[2]
    for i, n in enumerate(res.n_res):
        ax.loglog(res.deltas, res.white[n, "linear"], "s-", ms=4, color=PALETTE[i], label=f"L2 ball, n = {n}")
        ax.loglog(res.deltas, res.white_box[n], "o:", ms=3, color=PALETTE[i], alpha=0.7, label=f"box, n = {n}")
    shown = [res.white[n, "linear"] for n in res.n_res] + [res.white_box[n] for n in res.n_res]
    top, low = max(np.max(v) for v in shown), min(np.min(v) for v in shown)
    ax.set(xlabel=r"noise level $\delta$", ylabel=r"$E\|R_g(Ax+e)-x\|^2$", title=r"white noise, $\varepsilon = \delta$",
           ylim=(10 ** np.floor(np.log10(low)), 10 ** np.ceil(np.log10(top))))
    ax.invert_xaxis()
    ax.legend(fontsize=7, ncol=2)
    return fig


def pareto(res: ex.Pareto) -> Figure:
    """Clean risk against worst-case risk along the training radii: integration (closed form and Monte Carlo), Radon."""
    fig = Figure(figsize=(10.5, 4.0))
    axes = fig.subplots(1, 2)
    i = res.matched
    ratio = res.eps_train / res.eps_test
    for ax, P, title in ((axes[0], res.integration, f"integration, n = {res.n} (Gaussian)"),
                         (axes[1], res.radon_test, rf"Radon ${res.radon_n}\times{res.radon_n}$, held-out phantoms")):
        ax.plot(P[:, 0], P[:, 1], "-", color=_ADV, lw=1.2)
        sc = ax.scatter(P[1:, 0], P[1:, 1], c=ratio[1:], cmap="viridis", s=22, zorder=3)
        ax.plot(P[0, 0], P[0, 1], "D", color=METHOD_COLOURS["mse"], ms=8, label=r"MSE filter ($\varepsilon_{\rm train}=0$)")
        ax.plot(P[i, 0], P[i, 1], "*", color=_LS, ms=13, label=r"adversarial, $\varepsilon_{\rm train}=\varepsilon_{\rm test}$")
        ax.set(xlabel="clean risk", ylabel=rf"worst-case risk, box $\varepsilon_{{\rm test}} = {res.eps_test:g}$",
               title=title)
    axes[0].plot(res.integration_mc[:, 0], res.integration_mc[:, 1], "x", color="k", ms=5,
                 label=f"Monte Carlo ({res.n_mc} samples)")
    for ax in axes:
        ax.legend(fontsize=8, loc="upper center")
    fig.colorbar(sc, ax=axes, label=r"$\varepsilon_{\rm train}/\varepsilon_{\rm test}$", shrink=0.9)
    return fig


def pgd_comparison(res: ex.PGDComparison) -> Figure:
    """Left: objective gap of PGD training against the outer step. Right: the learned filter factors."""
    fig = Figure(figsize=(10.0, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    colours = {"box": _ADV, "l2": PALETTE[0]}
    for which in ("box", "l2"):
        r = res.pgd[which]
        ax1.semilogy(r.steps, np.array(r.objective) / res.optimum[which] - 1, color=colours[which],
                     label=f"PGD training, {which}")
    ax1.axhline(1e-3, color="0.4", ls=":", label="expected: below 1e-3")
    ax1.set(xlabel="outer step", ylabel="objective / exact optimum − 1", title="PGD adversarial training converges")
    ax1.legend()
    k = np.arange(1, len(res.s) + 1)
    ax2.plot(k, res.s * res.exact["box"], "o", mfc="none", ms=7, color=_ADV, label="exact, box")
    ax2.plot(k, res.s * res.pgd["box"].g, ".", color="k", ms=4, label="PGD, box")
    ax2.plot(k, res.s * res.exact["l2"], "s", mfc="none", ms=7, color=PALETTE[0], label="exact, L2 ball")
    ax2.plot(k, res.s * res.pgd["l2"].g, "x", color="k", ms=4, label="PGD, L2 ball")
    ax2.set(xlabel="$k$", ylabel="$s_kg_k$",
            title=rf"learned filter factors ($\varepsilon = {res.eps:g}$, $\delta = {res.delta:g}$)")
    ax2.legend(fontsize=8)
    return fig


def explain(res: ex.Explain) -> Figure:
    """Left: alpha_k of the MSE, box and L2 filters. Right: the three regimes of the box without training noise."""
    fig = Figure(figsize=(11.0, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    k = np.arange(1, len(res.s) + 1)
    ax1.loglog(k, res.alpha_mse, color=METHOD_COLOURS["mse"], label=r"MSE: $\alpha_k = \Delta_k/\Pi_k$")
    ax1.loglog(k, np.where(np.isfinite(res.alpha_box), res.alpha_box, np.nan), "o-", ms=3, color=_ADV,
               label=rf"box adversary, $\varepsilon = {res.eps:g}$")
    ax1.loglog(k, np.where(np.isfinite(res.alpha_l2) & (res.alpha_l2 > 0), res.alpha_l2, np.nan), ".", ms=4,
               color=PALETTE[0], label=rf"L2-ball adversary, $\varepsilon = {res.eps:g}$ ({res.n_l2} samples)")
    off = ~np.isfinite(res.alpha_box)
    if off.any():
        ax1.axvspan(k[off][0], k[-1], color=_ADV, alpha=0.1, label=r"box: switched off ($\alpha_k = \infty$)")
    ax1.set(xlabel="$k$", ylabel=r"$\alpha_k = s_k/g_k - s_k^2$", title=rf"with training noise $\delta = {res.delta:g}$")
    ax1.legend(fontsize=8, loc="lower right")
    beta = res.beta
    strong, weak = beta >= res.eps / ex.C_ABS, beta <= ex.C_ABS * res.eps
    j = int(np.argmin(np.abs(np.log(res.eps_sweep / res.eps))))
    ax2.semilogx(k, res.factors_box0, "o-", ms=3, color=_ADV, label=r"box adversary (closed form), $s_kg_k$")
    ax2.semilogx(k, res.numerical_noiseless[j], "x", ms=4, color="k", label="golden-section minimiser")
    if strong.any():
        ax2.axvspan(1, k[strong][-1], color=PALETTE[2], alpha=0.15, label=r"$s_k\sqrt{\Pi_k}\geq\varepsilon/c$: $\alpha_k = 0$")
    if weak.any():
        ax2.axvspan(k[weak][0], k[-1], color=PALETTE[4], alpha=0.15,
                    label=r"$s_k\sqrt{\Pi_k}\leq c\varepsilon$: $\alpha_k = \infty$")
    ax2.set(xlabel="$k$", ylabel=r"filter factor $s_kg_k$", ylim=(-0.05, 1.1),
            title=rf"no training noise, $\varepsilon = {res.eps_sweep[j]:g}$: three regimes")
    ax2.legend(fontsize=8, loc="center right")
    return fig


# ---------------------------------------------------------------------------
# The panel: attack radius, training noise and the adversary, precomputed on a grid
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _panel_data() -> ex.PanelFilters:
    from ..data import make_rng

    return ex.panel_filters(make_rng(ex.SEED))


def _alpha(s, g):
    a = regularization_parameters(s, np.maximum(g, 0.0))
    return np.where(np.isfinite(a) & (a > 0), a, np.nan)


class AdversarialPanel(PanelFigure):
    """Left: filter factors of the adversarial and the MSE filter. Right: their explaining parameters alpha_k."""

    figsize = (9.5, 3.5)

    def draw(self, fig):
        data = _panel_data()
        s = data.s
        self.k = np.arange(1, len(s) + 1)
        # every grid point's curves, computed once: an update only moves data
        self.curves = {}
        for i, e in enumerate(data.eps):
            for j, d in enumerate(data.deltas):
                for which, table in (("box", data.box), ("l2", data.l2)):
                    g, g_mse = table[i, j], data.mse[j]
                    self.curves[e, d, which] = (s * g_mse, s * g, _alpha(s, g_mse), _alpha(s, g),
                                                int(np.sum(g == 0)), float(np.max(s * g)))
        self.n_samples = data.n_samples
        ax1, ax2 = fig.subplots(1, 2)
        ax1.set_xscale("log")
        ax1.set(xlim=(1, self.k[-1]), ylim=(-0.05, 1.25), xlabel="$k$", ylabel="filter factor $s_kg_k$",
                title="Learned filter")
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        finite = np.concatenate([a[np.isfinite(a)] for c in self.curves.values() for a in c[2:4]])
        ax2.set(xlim=(1, self.k[-1]), ylim=(10 ** np.floor(np.log10(finite.min())), 10 ** np.ceil(np.log10(finite.max()))),
                xlabel="$k$", ylabel=r"$\alpha_k = s_k/g_k - s_k^2$", title="Explaining Tikhonov parameter")
        self.f_mse = self.animate(ax1.plot([], [], color=METHOD_COLOURS["mse"], label="MSE filter")[0])
        self.f_adv = self.animate(ax1.plot([], [], "o-", ms=3, color=_ADV, label="adversarial")[0])
        self.a_mse = self.animate(ax2.plot([], [], color=METHOD_COLOURS["mse"])[0])
        self.a_adv = self.animate(ax2.plot([], [], "o-", ms=3, color=_ADV)[0])
        ax1.legend(loc="upper right", fontsize=9)

    def update(self, eps, delta, adversary):
        f_mse, f_adv, a_mse, a_adv, _, _ = self.curves[eps, delta, adversary]
        self.f_mse.set_data(self.k, f_mse)
        self.f_adv.set_data(self.k, f_adv)
        self.a_mse.set_data(self.k, a_mse)
        self.a_adv.set_data(self.k, a_adv)

    def caption(self, eps, delta, adversary):
        *_, n_off, f_max = self.curves[eps, delta, adversary]
        name = "box (Gaussian closed form)" if adversary == "box" else f"L2 ball ({self.n_samples} samples)"
        return f"{name}: {n_off} of {len(self.k)} modes switched off, largest s_k g_k = {f_max:.2f}"


def adversarial_panel() -> Panel:
    """The chapter's panel: attack radius, training noise and adversary, on a precomputed grid."""
    data = _panel_data()
    return Panel(
        AdversarialPanel,
        [
            Grid("eps", values=data.eps, label="ε", initial=1e-2),
            Grid("delta", values=data.deltas, label="δ", initial=1e-2),
            Choice("adversary", options=adv.ADVERSARIES[::-1], label="adversary", initial="box"),
        ],
        alt="Filter factors and explaining Tikhonov parameters of an adversarially trained filter against the "
            "MSE filter, for an attack radius, a training noise level and an adversary",
        note=(f"Adversarial training is precomputed on a grid: the box filter (Gaussian closed form) and the "
              f"L2-ball filter (exact training on {data.n_samples} samples) for {len(data.eps)} radii ε × "
              f"{len(data.deltas)} noise levels δ; the panel shows these grid points."),
    )


# ---------------------------------------------------------------------------
# The chapter's labelled figures
# ---------------------------------------------------------------------------


def _rng():
    from ..data import make_rng

    return make_rng(ex.SEED)


@register("fig-ch5-stability", chapter=5, seed=ex.SEED, caption="Without training noise: the largest coefficient "
          "of box- and L2-ball-adversarial filters against the attack radius, and the stability ratio against the "
          "resolution for the box (sample solver) and for least squares.")
def _fig_stability():
    return stability(ex.stability(_rng()))


@register("fig-ch5-box-rules", chapter=5, seed=ex.SEED, caption="Box adversary trained without noise, tested "
          "under white noise, for four rules eps(delta) at three resolutions: exact risk and simulated errors.")
def _fig_box_rules():
    return box_rules(ex.box_rules(_rng()))


@register("fig-ch5-l2-rules", chapter=5, seed=ex.SEED, caption="L2-ball adversary: worst-case error under "
          "deterministic noise for eps = delta and eps = delta^2, and the white-noise error beside the box's.")
def _fig_l2_rules():
    return l2_rules(ex.l2_rules(_rng()))


@register("fig-ch5-pareto", chapter=5, seed=ex.SEED, caption="Clean risk against worst-case risk of "
          "box-adversarial filters trained with radii 0 to 4 eps_test: integration and Radon.")
def _fig_pareto():
    return pareto(ex.pareto(_rng()))


@register("fig-ch5-pgd", chapter=5, seed=ex.SEED, caption="Generic PGD adversarial training against the exact "
          "solution: objective gap and learned filter factors, for the box and the L2 ball.")
def _fig_pgd():
    return pgd_comparison(ex.pgd_comparison(_rng()))


@register("fig-ch5-alpha", chapter=5, seed=ex.SEED, caption="Explaining Tikhonov parameters alpha_k of the MSE, "
          "box and L2-ball filters, and the three regimes of the box filter without training noise.")
def _fig_alpha():
    return explain(ex.explain(_rng()))


#: The chapter's panels, by name (the benchmark measures each one's live update time).
PANELS = {"adversarial": adversarial_panel}
