"""Figures of chapter 1: the operators, their singular systems and the pseudo-inverse."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ..book.panels import Choice, Panel, PanelFigure, Slider
from ..book.style import METHOD_COLOURS, PALETTE
from ..experiments import operators as ex
from ..operators import make_operator
from . import register

__all__ = ["decay", "consistency", "pinv_noise", "SingularSystemPanel", "singular_system_panel", "PANELS"]


def decay(res: ex.SpectralDecay) -> Figure:
    """Singular values of integration, Gaussian blur and the Radon transform, with the fitted exponents."""
    fig = Figure(figsize=(11.5, 3.8))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    n = res.n_integration
    k = np.arange(1, n + 1)
    ax1.axvspan(1, res.fit_k, color="0.9", zorder=0, label=f"fit range $k \\leq {res.fit_k}$")
    ax1.loglog(k, res.s_integration, color=PALETTE[0], label=f"$s_k$, $n = {n}$")
    ax1.loglog(k, 1 / ((k - 0.5) * np.pi), "--", color=PALETTE[6], lw=1, label=r"$1/((k-\frac{1}{2})\pi)$")
    ax1.set(title=f"Integration: fitted $a = {res.exponent:.3f}$", xlabel="index $k$", ylabel="$s_k$")
    ax1.legend(fontsize=9)
    kc = np.arange(1, res.s_convolution.size + 1)
    ax2.semilogy(kc, res.s_convolution, color=PALETTE[0],
                 label=f"$s_k$, $\\sigma = {res.sigma:g}$, $n = {res.n_convolution}$")
    ax2.set(title="Gaussian blur: faster than any power", xlabel="index $k$", ylabel="$s_k$", ylim=(1e-20, 2))
    ax2.legend(fontsize=9)
    for i, (m, s, a) in enumerate(zip(res.radon_ns, res.radon_s, res.radon_exponents)):
        kr = np.arange(1, s.size + 1)
        ax3.loglog(kr, s, color=PALETTE[(2 + i) % 6], label=f"$n = {m}$ ($a = {a:.2f}$)")
    kr = np.arange(1, res.radon_s[-1].size + 1)
    ax3.loglog(kr, 2.0 * kr**-0.25, "--", color=PALETTE[6], lw=1, label=r"$\propto k^{-1/4}$")
    ax3.set(title="Radon transform", xlabel="index $k$", ylabel="$s_k$")
    ax3.legend(fontsize=9, loc="lower left")
    return fig


def consistency(res: ex.Consistency) -> Figure:
    """Integration's u_k at two resolutions (left); Radon's u_k at the two finest resolutions (right)."""
    nf = len(res.radon_functions)
    fig = Figure(figsize=(11.5, 5.0))
    grid = fig.add_gridspec(2, 2 + nf)
    ax = fig.add_subplot(grid[:, :2])
    for j in range(res.u_coarse.shape[1]):
        ax.step(res.grid_coarse, res.u_coarse[:, j], where="mid", color=PALETTE[j % 6], alpha=0.6)
        ax.plot(res.grid_fine, res.u_fine[:, j], color=PALETTE[j % 6], lw=1.2, label=f"$u_{j + 1}$")
    ax.set(title=f"Integration: $u_k$ at $n = {res.n_coarse}$ (steps), ${res.n_fine}$ (lines)", xlabel="$t$",
           ylabel="$u_k(t)$")
    ax.legend(ncol=4, loc="lower left", fontsize=9)
    for row, (m, images) in enumerate(zip(res.radon_ns[-2:], res.radon_u[-2:])):
        for j, (kk, img) in enumerate(zip(res.radon_functions, images)):
            a = fig.add_subplot(grid[row, 2 + j])
            lim = np.abs(img).max()
            a.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim, extent=(-1, 1, -1, 1))
            a.set_title(f"Radon $u_{{{kk}}}$, $n = {m}$", fontsize=10.5)
            a.grid(False)
            a.set_xticks([])
            a.set_yticks([])
    return fig


def pinv_noise(res: ex.PinvNoise) -> Figure:
    """Picard plot, the pseudo-inverse of one noisy datum, and the measured RMS of ||A^+ e|| against n."""
    fig = Figure(figsize=(11.5, 3.8))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    k = np.arange(1, res.s.size + 1)
    pinv = METHOD_COLOURS["pseudo-inverse"]
    ax1.loglog(k, np.abs(res.cy), ".", ms=3, color=PALETTE[0], label=r"$|\langle y, v_k\rangle|$")
    ax1.loglog(k, res.s * np.abs(res.cx), ".", ms=3, color=PALETTE[2], label=r"$s_k|\langle x, u_k\rangle|$")
    ax1.loglog(k, np.abs(res.cy) / res.s, ".", ms=3, color=pinv, label=r"$|\langle y, v_k\rangle|/s_k$")
    ax1.axhline(res.delta, color=PALETTE[6], lw=1, ls="--", label=r"noise level $\delta$")
    ax1.set(title=f"Picard plot (integration, $n = {res.n_picard}$)", xlabel="index $k$")
    ax1.legend(fontsize=8)
    ax2.plot(res.grid, res.x_pinv, color=pinv, lw=0.8, label="$A^+y$")
    ax2.plot(res.grid, res.x, color=PALETTE[6], lw=1.5, label="ground truth $x$")
    ax2.set(title=f"$A^+y$ at $\\delta = {res.delta:g}$", xlabel="$t$")
    ax2.legend(fontsize=8)
    n_fine = np.geomspace(res.ns[0], res.ns[-1], 50)
    ax3.loglog(n_fine, res.delta * np.sqrt(2 * n_fine**3 - n_fine**2), "-", color=pinv,
               label=r"$\delta\,(2n^3-n^2)^{1/2}$")
    ax3.loglog(res.ns, res.rms, "o", color=PALETTE[6], ms=5, label=f"measured, {res.n_samples} samples per $n$")
    ax3.set(title=f"RMS of $\\|A^+e\\|$: fitted exponent {res.growth:.3f}", xlabel="resolution $n$")
    ax3.legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------------
# The panel: operator, resolution, index k
# ---------------------------------------------------------------------------

#: Resolutions of the panel (the Radon transform at n x n pixels).
PANEL_RESOLUTIONS = (16, 32, 64)
#: Largest index k of the panel.
PANEL_K = 40


def _operator(name: str, n: int):
    return ex.radon(n) if name == "radon" else make_operator(name, n)


class SingularSystemPanel(PanelFigure):
    """Singular values with s_k marked; the singular functions u_k and v_k (curves in 1D, images in 2D)."""

    figsize = (9.5, 3.2)
    structural = ("operator", "n")

    def draw(self, fig, operator, n):
        op = _operator(operator, n)
        self.S = op.svd()
        self.name = operator
        ax0, ax1, ax2 = fig.subplots(1, 3)
        k = np.arange(1, self.S.rank + 1)
        ax0.loglog(k, self.S.s, color=PALETTE[0])
        ax0.yaxis.set_minor_formatter(NullFormatter())
        ax0.set(xlabel="index $k$", ylabel="singular value $s_k$", title=f"{operator}, $n = {n}$")
        self.marker = self.animate(ax0.plot([], [], "o", color=PALETTE[1], ms=7)[0])
        if len(op.domain_shape) == 1:
            self.images = False
            for ax, title in ((ax1, "$u_k$ (image space)"), (ax2, "$v_k$ (data space)")):
                ax.set(xlim=(0, 1), ylim=(-1.6, 1.6), xlabel="$t$", title=title)
            self.u = self.animate(ax1.plot(op.grid, np.zeros(n), color=PALETTE[0], drawstyle="steps-mid")[0])
            self.v = self.animate(ax2.plot(op.grid, np.zeros(n), color=PALETTE[2], drawstyle="steps-mid")[0])
        else:
            self.images = True
            self.domain, self.range = op.domain_shape, op.range_shape
            t = op.detector_positions
            style = dict(cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
            self.u = self.animate(ax1.imshow(np.zeros(op.domain_shape), extent=(-1, 1, -1, 1), **style))
            self.v = self.animate(ax2.imshow(np.zeros(op.range_shape), aspect="auto", extent=(t[0], t[-1], 180, 0),
                                             **style))
            ax1.set(title="$u_k$ (image, scaled to $\\pm1$)", xlabel="$x_1$", ylabel="$x_2$")
            ax2.set(title="$v_k$ (sinogram, scaled to $\\pm1$)", xlabel="detector position", ylabel="angle (degrees)")
            for ax in (ax1, ax2):
                ax.grid(False)

    def _k(self, k) -> int:
        return int(min(max(round(k), 1), self.S.rank))

    def update(self, k):
        j = self._k(k) - 1
        self.marker.set_data([j + 1], [self.S.s[j]])
        u, v = self.S.U[:, j], self.S.V[:, j]
        if self.images:
            self.u.set_data(u.reshape(self.domain) / np.abs(u).max())
            self.v.set_data(v.reshape(self.range) / np.abs(v).max())
        else:
            self.u.set_ydata(u)
            self.v.set_ydata(v)

    def caption(self, k):
        kk = self._k(k)
        text = f"{self.name}: s_{kk} = {self.S.s[kk - 1]:.4g}"
        if kk != round(k):
            text += f" (k = {kk}, the largest index at this resolution)"
        return text


def singular_system_panel() -> Panel:
    """The chapter's panel: operator, resolution and index k of the singular triple shown."""
    return Panel(
        SingularSystemPanel,
        [
            Choice("operator", ("integration", "convolution", "radon"), label="operator"),
            Choice("n", PANEL_RESOLUTIONS, label="n", initial=32),
            Slider("k", 1, PANEL_K, label="k", initial=4, step=1, static=(1, 2, 3, 4, 5, 6, 8, 12)),
        ],
        static=("operator", "k"),
        alt="Singular values of the chosen operator with s_k marked, and its singular functions u_k and v_k",
    )


# ---------------------------------------------------------------------------
# The chapter's labelled figures
# ---------------------------------------------------------------------------


@register("fig-ch1-decay", chapter=1, caption="Singular values of integration (n = 1024, with the fit range), "
          "Gaussian blur and the Radon transform at several resolutions, with the fitted decay exponents.")
def _fig_decay():
    return decay(ex.spectral_decay())


@register("fig-ch1-consistency", chapter=1, caption="Singular functions at two resolutions: u_1..u_4 of integration "
          "at n = 64 and n = 1024, and three Radon singular functions at the two finest resolutions.")
def _fig_consistency():
    return consistency(ex.resolution_consistency())


@register("fig-ch1-pinv", chapter=1, seed=ex.SEED, caption="The pseudo-inverse amplifies noise: Picard plot of one "
          "noisy datum, its pseudo-inverse, and the RMS noise error of A^+ measured against the resolution.")
def _fig_pinv():
    from ..data import make_rng

    return pinv_noise(ex.pinv_noise(make_rng(ex.SEED)))


#: The chapter's panels, by name (the benchmark measures each one's live update time).
PANELS = {"singular-system": singular_system_panel}
