"""One figure style for the whole book.

The palette is Okabe & Ito's colour-blind-safe set; fonts are sized for a
figure shown at page width. Call :func:`use_book_style` once per notebook.
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

__all__ = ["PALETTE", "use_book_style", "METHOD_COLOURS"]

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
