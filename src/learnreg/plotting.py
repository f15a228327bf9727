"""One figure style for the whole book.

The palette is Okabe & Ito's colour-blind-safe set; fonts are sized for a
figure shown at page width. Call :func:`use_book_style` once per notebook.
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

__all__ = ["PALETTE", "use_book_style", "METHOD_COLOURS", "plot_singular_system"]

#: Okabe–Ito palette (colour-blind safe), in plotting order.
PALETTE = [
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow (use sparingly: low contrast on white)
]

#: Fixed colours for the methods that appear in several chapters.
METHOD_COLOURS = {
    "pseudo-inverse": PALETTE[1],
    "tikhonov": PALETTE[4],
    "mse": PALETTE[0],
    "learned": PALETTE[0],
    "adversarial": PALETTE[3],
    "pnp": PALETTE[2],
    "post-processing": PALETTE[5],
    "self-supervised": PALETTE[6],
    "tv": PALETTE[4],
}


def use_book_style() -> None:
    """Set matplotlib's rcParams to the book's style."""
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "font.size": 12.5,
            "axes.titlesize": 12.5,
            "axes.labelsize": 12.5,
            "legend.fontsize": 10.5,
            "xtick.labelsize": 11,
            "ytick.labelsize": 11,
            "axes.prop_cycle": cycler(color=PALETTE),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "lines.linewidth": 1.8,
            "image.cmap": "viridis",
            "figure.constrained_layout.use": True,
        }
    )


def _show_function(ax, op, values, title):
    """Plot an element of X or Y: a curve for 1D grids, an image for 2D grids."""
    import numpy as np

    values = np.asarray(values)
    if values.size == op.n and len(op.domain_shape) == 1:
        ax.plot(op.grid, values, color=PALETTE[0])
        ax.set_xlabel("t")
    else:
        shape = op.domain_shape if values.size == op.shape[1] else op.range_shape
        lim = np.abs(values).max()
        im = ax.imshow(values.reshape(shape), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        if shape == op.domain_shape:
            ax.set_xlabel("pixel column")
            ax.set_ylabel("pixel row")
        else:
            ax.set_xlabel("detector bin")
            ax.set_ylabel("angle index")
        ax.grid(False)
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title)


def plot_singular_system(op, k: int, fig=None):
    r"""Three panels: the singular values with :math:`s_k` marked, :math:`u_k` and :math:`v_k`.

    Parameters
    ----------
    op : LinearOperator
    k : int
        One-based index of the singular triple to show.
    fig : matplotlib Figure, optional
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from ._validate import check_int

    S = op.svd()
    k = check_int(k, "k", minimum=1, maximum=S.rank)
    fig = fig or plt.figure(figsize=(10, 3.2))
    axes = fig.subplots(1, 3)
    idx = np.arange(1, S.rank + 1)
    axes[0].loglog(idx, S.s, color=PALETTE[0])
    axes[0].loglog([k], [S.s[k - 1]], "o", color=PALETTE[1])
    axes[0].set_xlabel("index k")
    axes[0].set_ylabel("singular value $s_k$")
    axes[0].set_title(f"{op.name}, n = {op.n}: $s_{{{k}}}$ = {S.s[k - 1]:.3g}")
    _show_function(axes[1], op, S.U[:, k - 1], f"$u_{{{k}}}$ (image space)")
    _show_function(axes[2], op, S.V[:, k - 1], f"$v_{{{k}}}$ (data space)")
    return fig
