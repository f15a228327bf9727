"""Figures of chapter 8 (this book's extension): real images."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter

from .. import images
from ..book.panels import Choice, LogSlider, Panel, PanelFigure
from ..book.style import METHOD_COLOURS, PALETTE
from ..data import make_rng, substream
from ..experiments import real_images as ex
from ..fitting import fit_power_law
from ..rates import sampled_rate_errors
from ..spectral import empirical_filter
from . import register

__all__ = ["image_gallery", "smoothness", "rates", "transfer", "paradigms", "radon_peer", "TransferPanel",
           "transfer_panel", "PANELS"]

#: A colour per class.
CLASS_COLOURS = {"photographs": PALETTE[0], "scans": PALETTE[2], "textures": PALETTE[1], "documents": PALETTE[3],
                 "ellipses": PALETTE[6]}


def image_gallery() -> Figure:
    """The images of the chapter at the working scale, by class; held-out images are marked."""
    fig = Figure(figsize=(9.0, 5.6))
    rows = list(images.CLASSES.items())
    width = max(len(v) for _, v in rows)
    axes = fig.subplots(len(rows), width)
    for i, (cls, names) in enumerate(rows):
        for j in range(width):
            ax = axes[i, j]
            ax.set_axis_off()
            if j >= len(names):
                continue
            name = names[j]
            img = images.load_image(name)
            ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="antialiased")
            held = name in images.HELD_OUT[cls]
            label = name.replace("_", " ").replace("immunohistochemistry", "immunohisto-\nchemistry")
            ax.set_title(label + ("\n(held out)" if held else ""), fontsize=8.5,
                         color=PALETTE[1] if held else "black")
        axes[i, 0].text(-0.12, 0.5, cls, transform=axes[i, 0].transAxes, rotation=90, ha="right", va="center",
                        fontsize=10, color=CLASS_COLOURS[cls], fontweight="bold")
    return fig


def smoothness(res: ex.Smoothness) -> Figure:
    """Estimated moments of each class in each setting, with the power laws fitted over the fit range."""
    fig = Figure(figsize=(9.6, 6.8))
    axes = fig.subplots(2, 2).ravel()
    for ax, key in zip(axes, res.settings):
        s = res.s[key]
        r = s.shape[0]
        k = np.arange(1, r + 1)
        shown = np.unique(np.geomspace(1, r, 300).astype(int)) - 1  # a thinned scatter: the same look, fewer dots
        k1, k2 = ex.fit_range(r)
        ax.axvspan(k1, k2, color="0.92", zorder=0)
        edges = np.unique(np.geomspace(1, r + 1, 28).astype(int))
        for cls in res.classes:
            f = res.fits[key][cls]
            mom = res.moments[key][cls]
            col = CLASS_COLOURS[cls]
            ax.loglog(k[shown], mom[shown], ".", ms=2, color=col, alpha=0.35)
            # geometric means over logarithmic bins of k: the trend through the scatter
            centres = np.sqrt(edges[:-1] * (edges[1:] - 1).clip(min=edges[:-1]))
            means = [np.exp(np.mean(np.log(mom[a - 1:b - 1]))) for a, b in zip(edges[:-1], edges[1:])]
            ax.loglog(centres, means, "-", lw=1.2, color=col, label=cls)
            kk = np.array([k1, k2], dtype=float)
            ax.loglog(kk, 3 * f(kk), "--", lw=2.2, color=col)
        order = "" if math.isnan(res.a[key]) else f" ($a = {res.a[key]:.2f}$)"
        ax.set(xlabel="index $k$", ylabel=r"$\hat\Pi_k$", title=SETTINGS_TITLE[key] + order)
    axes[0].legend(fontsize=9.5, loc="lower left")
    return fig


#: Titles of the settings in figures.
SETTINGS_TITLE = {
    "integration": "integration, rows of 256",
    "blur": "periodic blur, rows of 256",
    "radon32": "Radon, patches of $32^2$",
    "radon64": "Radon, patches of $64^2$",
}


def _through(ax, deltas, slope, anchor_delta, anchor_value, **kw):
    ax.loglog(deltas, anchor_value * (deltas / anchor_delta) ** slope, **kw)


def rates(res: ex.RealRates) -> Figure:
    """Top: held-out error against delta per setting, with the window and the slopes. Bottom: local slopes."""
    settings = list(dict.fromkeys(r.setting for r in res.rows))
    fig = Figure(figsize=(10.0, 7.0))
    axes = fig.subplots(2, len(settings), squeeze=False)
    for j, key in enumerate(settings):
        ax, ax2 = axes[0, j], axes[1, j]
        for r in (r for r in res.rows if r.setting == key):
            col = CLASS_COLOURS[r.train]
            ax.loglog(r.deltas, r.errors, "o", ms=3, color=col, alpha=0.5)
            mid = math.sqrt(r.window[0] * r.window[1])
            anchor = float(np.exp(np.interp(np.log(mid), np.log(r.fit_deltas), np.log(r.fit_errors))))
            wd = np.array(r.window)
            _through(ax, wd, r.measured, mid, anchor, color=col, lw=2.5, label=r.train)
            _through(ax, wd, r.predicted, mid, anchor * 0.5, color=col, lw=1.5, ls="--")
            ax2.semilogx(np.sqrt(r.deltas[1:] * r.deltas[:-1]), r.local_slopes, "-", color=col, lw=1.5)
            ax2.plot(wd, [r.predicted] * 2, "--", color=col, lw=1.5)
            ax2.plot(wd, [r.model] * 2, ":", color=col, lw=2)
            row = ex.RATE_CLASSES.index(r.train) if r.train in ex.RATE_CLASSES else 0
            ax2.plot(wd, [-0.25 - 0.1 * row] * 2, "-", color=col, lw=4, solid_capstyle="butt")
        ax.set(xlabel=r"noise level $\delta$", title=SETTINGS_TITLE[key])
        ax2.set(xlabel=r"noise level $\delta$", ylim=(-0.55, 2.2))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax2.xaxis.set_minor_formatter(NullFormatter())
    axes[0, 0].set_ylabel(r"held-out error $\|R_{\hat g}y - x\|^2$")
    axes[1, 0].set_ylabel("local slope")
    axes[0, 0].legend(fontsize=9.5, loc="lower right")
    axes[1, 0].plot([], [], "--", color="0.3", label="predicted")
    axes[1, 0].plot([], [], ":", color="0.3", lw=2, label="finite-$n$ model")
    axes[1, 0].plot([], [], "-", color="0.3", lw=4, label=r"$\delta$ window")
    axes[1, 0].legend(fontsize=9.5, loc="upper right")
    return fig


def transfer(res: ex.Transfer) -> Figure:
    """Left: measured slope of each transfer pair next to the mismatch prediction and the finite-resolution
    model. Right: how much larger the error is than that of the filter trained on the test class."""
    fig = Figure(figsize=(9.0, 4.6))
    ax1, ax2 = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1.7, 1.0]})
    rows = res.rows
    y = np.arange(len(rows))[::-1]
    labels = [f"{ex.SHORT_SETTING[t.transfer.setting]}: {t.transfer.train} → {t.transfer.test}" for t in rows]
    for yi, t in zip(y, rows):
        r = t.transfer
        ax1.errorbar(r.predicted, yi + 0.15, xerr=r.tolerance, fmt="o", mfc="white", color="0.35", ms=7, capsize=3)
        ax1.plot(r.model, yi - 0.15, "^", color=PALETTE[2], ms=8)
        ax1.plot(r.measured, yi, "s", color=PALETTE[1], ms=8)
        ax2.barh(yi, t.ratio, color=PALETTE[0] if t.ratio >= 1 else PALETTE[1], height=0.55)
    ax1.plot([], [], "o", mfc="white", color="0.35", label=r"predicted $2(\min(b,c)-1)/(2a+b)$ ± tolerance")
    ax1.plot([], [], "^", color=PALETTE[2], label="finite-resolution model")
    ax1.plot([], [], "s", color=PALETTE[1], label="measured")
    ax1.set_yticks(y, labels)
    ax1.set(xlabel="slope of the held-out error", title="Rate after transfer", ylim=(-0.7, len(rows) - 0.3))
    ax1.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, columnspacing=0.8,
               handletextpad=0.3)
    ax2.axvline(1.0, color="0.3", lw=1)
    ax2.set(xlabel="transferred / matched", title="Error ratio (smallest)",
            xlim=(0.6, max(1.8, 1.1 * max(t.ratio for t in rows))))
    return fig


def paradigms(res: ex.Paradigms) -> Figure:
    """The held-out patch, its noisy sinogram and the reconstructions of every method, with PSNR."""
    fig = Figure(figsize=(9.0, 8.4))
    axes = fig.subplots(3, 3).ravel()
    axes[0].imshow(res.shown, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes[0].set_title(f"held-out patch ({res.shown_name})", fontsize=10)
    axes[1].imshow(res.sinogram.T, cmap="gray", aspect="auto", interpolation="nearest")
    axes[1].set_title(rf"noisy sinogram, $\delta = {res.delta:g}$", fontsize=10)
    axes[1].set(xlabel="angle", ylabel="detector")
    for ax, m in zip(axes[2:], ex.METHODS):
        ax.imshow(np.clip(res.reconstructions[m], 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{ex.METHOD_NAMES[m]}\nPSNR {res.psnr_shown[m]:.1f} dB (mean {res.psnr[m]:.1f})", fontsize=9.5)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def radon_peer(res: ex.RadonPeerCheck) -> Figure:
    """Left: relative errors against the analytic transform vs n. Right: one projection, three ways."""
    fig = Figure(figsize=(10.0, 4.0))
    ax1, ax2 = fig.subplots(1, 2)
    for name, e, col, mk in (("book's ray-length matrix", res.ours, PALETTE[0], "o"),
                             ("scikit-image radon", res.skimage, PALETTE[2], "s"),
                             ("scikit-image, half-pixel offset ignored", res.skimage_unshifted, PALETTE[1], "^")):
        key = {"book's ray-length matrix": "ours", "scikit-image radon": "skimage"}.get(name, "skimage_unshifted")
        ax1.loglog(res.ns, e, mk + "-", color=col, label=f"{name}: order {res.orders[key]:.2f}")
    ax1.set(xlabel="resolution $n$", ylabel="relative error", title="Against the analytic transform of a Gaussian")
    ax1.set_xticks(res.ns)
    ax1.xaxis.set_major_formatter(ScalarFormatter())
    ax1.xaxis.set_minor_formatter(NullFormatter())
    ax1.legend(fontsize=8.5)
    n, th, t, sino, t_sk, s_sk = res.example
    j = int(round(len(th) / 3))  # the angle closest to 60 degrees
    tt = np.linspace(-1.2, 1.2, 400)
    ax2.plot(tt, ex.gaussian_radon(th[j], tt), "-", color="0.3", lw=1.5, label="analytic")
    ax2.plot(t, sino[j], "o", color=PALETTE[0], ms=4, label="book's matrix at its detectors")
    ax2.plot(t_sk[:, j], s_sk[:, j], "s", color=PALETTE[2], ms=4, mfc="none", label="scikit-image at its detectors")
    ax2.set(xlim=(-0.6, 0.8), xlabel="detector position $t$", ylabel=r"$(Ax)(\theta, t)$",
            title=rf"one projection, $n = {n}$, $\theta = {np.degrees(th[j]):.1f}°$")
    ax2.legend(fontsize=8.5)
    return fig


# ---------------------------------------------------------------------------
# The live panel: training class, test class, noise level (integration rows)
# ---------------------------------------------------------------------------


class _PanelData:
    """What the panel needs, per class: coefficients, frozen noise, the fitted exponents and a shown row."""

    def __init__(self, key: str = "integration", classes=ex.RATE_CLASSES, seed: int = ex.SEED):
        op = ex.operator(key)
        svd = op.svd()
        self.s, self.U = svd.s, svd.U
        r = self.s.shape[0]
        self.k = np.arange(1, r + 1)
        k1, k2 = ex.fit_range(r)
        self.a, self.C_s = ex.operator_order(self.s, (k1, k2))
        kk = np.arange(k1, k2 + 1, dtype=float)
        rng = make_rng(seed)
        self.train, self.test, self.fit, self.fit_test, self.row = {}, {}, {}, {}, {}
        for cls in classes:
            cx = np.concatenate(list(ex.class_coefficients(key, cls, "train").values()))
            tx = np.concatenate(list(ex.class_coefficients(key, cls, "test").values()))
            stream = substream(rng, f"panel-{cls}")
            self.train[cls] = (cx, stream.standard_normal(cx.shape))
            self.test[cls] = (tx, stream.standard_normal(tx.shape))
            for store, c in ((self.fit, cx), (self.fit_test, tx)):
                f = fit_power_law(kk, np.mean(c**2, axis=0)[k1 - 1:k2])
                store[cls] = (-f.slope, f.prefactor)
            i = tx.shape[0] // 4  # a row from the first held-out image
            self.row[cls] = (svd.synthesis_x(tx[i]), tx[i], self.test[cls][1][i])
        self._curves = {}
        self._last = (None, None)

    def filter(self, cls: str, delta: float) -> np.ndarray:
        """The empirical risk minimiser learned from the class's training rows at noise level delta."""
        if self._last[0] != (cls, delta):
            cx, ce = self.train[cls]
            self._last = ((cls, delta), empirical_filter(cx, self.s * cx + delta * ce))
        return self._last[1]

    def curve(self, train: str, test: str) -> np.ndarray:
        if (train, test) not in self._curves:
            cx, ce = self.train[train]
            tx, te = self.test[test]
            self._curves[train, test] = sampled_rate_errors(cx, self.s * cx, ce, tx, self.s * tx, te, ex.DELTAS)[0]
        return self._curves[train, test]

    def error(self, train: str, test: str, delta: float) -> float:
        g = self.filter(train, delta)
        tx, te = self.test[test]
        return float(np.mean(np.sum((g * (self.s * tx + delta * te) - tx) ** 2, axis=1)))


_PANEL_DATA: dict = {}


def _panel_data() -> _PanelData:
    if "data" not in _PANEL_DATA:
        _PANEL_DATA["data"] = _PanelData()
    return _PANEL_DATA["data"]


class TransferPanel(PanelFigure):
    """Left: held-out error against delta (trained on the training class, and matched). Middle: the
    filter factors. Right: a held-out row and its reconstruction."""

    figsize = (9.6, 3.0)

    def __init__(self):
        super().__init__()
        self.data = _panel_data()

    def draw(self, fig):
        d = self.data
        ax1, ax2, ax3 = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1.0, 1.2]})
        ax1.set_xscale("log")
        ax1.set_yscale("log")
        ax1.set(xlim=(ex.DELTAS[0], ex.DELTAS[-1]), ylim=(1e-9, 3e-1), xlabel=r"noise level $\delta$",
                ylabel="held-out error", title="Error on the test class")
        self.trained = self.animate(ax1.plot([], [], "-", color=PALETTE[1], lw=2)[0])
        self.matched = self.animate(ax1.plot([], [], "--", color=PALETTE[0], lw=1.5)[0])
        self.now = self.animate(ax1.plot([], [], "o", color=PALETTE[1], ms=7)[0])
        ax1.legend([self.trained, self.matched], ["trained on the training class", "trained on the test class"],
                   loc="lower right", fontsize=8)
        ax2.set_xscale("log")
        ax2.set(xlim=(1, d.k[-1]), ylim=(-0.05, 1.1), xlabel="index $k$", ylabel="filter factor $s_k\\hat g_k$",
                title="The learned filter")
        self.factors = self.animate(ax2.plot([], [], "-", color=METHOD_COLOURS["learned"])[0])
        self.cutoff = self.animate(ax2.axvline(1.0, color="0.5", ls=":"))
        t = (np.arange(d.k[-1]) + 0.5) / d.k[-1]
        self.t = t
        ax3.set(xlim=(0, 1), ylim=(-0.15, 1.15), xlabel="$t$", ylabel="grey value", title="A held-out row")
        self.truth = self.animate(ax3.plot([], [], "-", color="0.55", lw=1.2)[0])
        self.recon = self.animate(ax3.plot([], [], "-", color=PALETTE[1], lw=1.2)[0])
        ax3.legend([self.truth, self.recon], ["image row", "reconstruction"], loc="upper right", fontsize=8)

    def update(self, train, test, delta):
        d = self.data
        self.trained.set_data(ex.DELTAS, d.curve(train, test))
        self.matched.set_data(ex.DELTAS, d.curve(test, test))
        self.now.set_data([delta], [d.error(train, test, delta)])
        g = d.filter(train, delta)
        self.factors.set_data(d.k, d.s * g)
        b, C = d.fit[train]
        n_cut = (d.C_s**2 * C / delta**2) ** (1 / (2 * d.a + b))
        self.cutoff.set_xdata([n_cut, n_cut])
        x, cx, ce = d.row[test]
        self.truth.set_data(self.t, x)
        self.recon.set_data(self.t, d.U @ (g * (d.s * cx + delta * ce)))

    def caption(self, train, test, delta):
        d = self.data
        b, c = d.fit[train][0], d.fit_test[test][0]
        n_cut = (d.C_s**2 * d.fit[train][1] / delta**2) ** (1 / (2 * d.a + b))
        rate = 2 * (min(b, c) - 1) / (2 * d.a + b)
        return (f"trained on {train} (b = {b:.2f}), tested on {test} (c = {c:.2f}): mismatch prediction "
                f"2(min(b,c)-1)/(2a+b) = {rate:.2f} with a = {d.a:.2f}; cut-off N ≈ {n_cut:.3g}; "
                f"held-out error {d.error(train, test, delta):.3g}")


def transfer_panel() -> Panel:
    """The chapter's panel: training class, test class and noise level, for the integration operator on image rows."""
    classes = ex.RATE_CLASSES
    return Panel(
        TransferPanel,
        [
            Choice("train", classes, label="trained on", initial="photographs"),
            Choice("test", classes, label="tested on", initial="textures"),
            LogSlider("delta", 1e-6, 1e-1, label="δ", initial=1e-3, static=9),
        ],
        alt="Held-out error against the noise level of the filter learned from image rows of one class and tested "
            "on held-out rows of another, next to the filter learned from the test class; the learned filter "
            "factors; and a held-out row with its reconstruction",
        note="Rows of 256 pixels, integration operator; the filter is learned from the training images at each "
             "noise level (the training noise is frozen).",
    )


# ---------------------------------------------------------------------------
# The chapter's labelled figures
# ---------------------------------------------------------------------------


@register("fig-ch8-images", chapter=8, caption="The photographs and scans shipped inside scikit-image's wheel, "
          "grouped into four classes, at the working scale; held-out images are marked.")
def _fig_images():
    return image_gallery()


@register("fig-ch8-smoothness", chapter=8, seed=ex.SEED, caption="Estimated moments of image rows and patches in "
          "the singular bases of integration, periodic blur and the Radon transform, with the exponents fitted over "
          "the fit range and their bootstrap intervals.")
def _fig_smoothness():
    return smoothness(ex.smoothness(make_rng(ex.SEED)))


@register("fig-ch8-rates", chapter=8, seed=ex.SEED, caption="Held-out error of filters learned from real images "
          "against the noise level, with the stated window, the fitted and the predicted slopes, and the local "
          "slopes.")
def _fig_rates():
    return rates(ex.rates(make_rng(ex.SEED)))


@register("fig-ch8-transfer", chapter=8, seed=ex.SEED, caption="Filters trained on one class and tested on another "
          "(and on synthetic ellipses), next to the filter trained on the test class, with the predicted slopes.")
def _fig_transfer():
    return transfer(ex.transfer(make_rng(ex.SEED)))


@register("fig-ch8-paradigms", chapter=8, seed=ex.SEED, caption="Radon reconstructions of a held-out patch by "
          "filters learned from real patches with each paradigm, next to a truncated SVD and Tikhonov, with PSNR.")
def _fig_paradigms():
    return paradigms(ex.paradigms(make_rng(ex.SEED)))


@register("fig-ch8-radon-peer", chapter=8, caption="The book's Radon matrix and scikit-image's radon against the "
          "analytic Radon transform of a Gaussian: relative errors against n, and one projection.")
def _fig_radon_peer():
    return radon_peer(ex.radon_peer_check())


#: The chapter's panels, by name (the benchmark measures each one's live update time).
PANELS = {"transfer": transfer_panel}
