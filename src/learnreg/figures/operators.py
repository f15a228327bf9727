"""Figures of chapter 1: operators and their singular systems."""

from __future__ import annotations

import numpy as np

from .._validate import check_int
from ..book.style import PALETTE

__all__ = ["plot_singular_system"]


def _show_function(ax, op, values, title):
    """Plot an element of X or Y: a curve for 1D grids, an image for 2D grids."""
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
    _show_function(axes[1], op, S.vectors_x(k - 1)[:, 0], f"$u_{{{k}}}$ (image space)")
    _show_function(axes[2], op, S.vectors_y(k - 1)[:, 0], f"$v_{{{k}}}$ (data space)")
    return fig
