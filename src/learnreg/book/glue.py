"""Figures placed where the text needs them: myst-nb ``glue``, and the landing-page gallery.

A chapter computes a figure in a code cell and places it next to the
proposition it illustrates with ``{glue:figure} fig-ch3-rate``. :func:`show`
does the gluing. In a running notebook (JupyterLab, Binder, Colab) it shows the
figure in the cell as well, because there the paste directive is not rendered;
in the book build (``LEARNREG_STATIC_PAGES`` set) it only glues, so the figure
appears once, where the text places it.
"""

from __future__ import annotations

import base64
import html
import io
import re

from .panels import static_pages
from .sliders import png_size

__all__ = ["show", "gallery_figure", "figure_img_html", "figure_png"]

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def figure_png(fig) -> bytes:
    """The PNG of ``fig`` (no time stamp or software chunk: the same figure gives the same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def show(label: str, fig, *, gallery: str | None = None) -> None:
    """Glue ``fig`` under ``label`` for ``{glue:figure} label`` on this page, and close it.

    In a running notebook the figure is also displayed in the cell. Where
    myst-nb is not installed (Colab installs only the package), it is just
    displayed. With ``gallery="gallery-chN"`` the same figure is also stored for
    the landing page's gallery (:func:`gallery_figure`).
    """
    if not isinstance(label, str) or not _KEY.fullmatch(label):
        raise ValueError(f"label must be a figure label such as 'fig-ch3-rate', got {label!r}")
    if gallery is not None and (not isinstance(gallery, str) or not _KEY.fullmatch(gallery)):
        raise ValueError(f"gallery must be None or a glue key such as 'gallery-ch3', got {gallery!r}")
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    if gallery is not None:
        gallery_figure(gallery, fig, alt=label)
    image = Image(data=figure_png(fig), format="png")
    plt.close(fig)
    try:
        from myst_nb import glue
    except ImportError:  # pragma: no cover - depends on the environment
        display(image)
        return
    glue(label, image, display=not static_pages())


def gallery_figure(key: str, fig, alt: str = "") -> None:
    """Store ``fig`` under ``key`` for the book's landing-page gallery (myst-nb ``glue``).

    The figure is stored as a self-contained HTML ``<img>`` with the PNG inline
    (drawn here, so it does not depend on the notebook's matplotlib backend, and
    pasted on another page without any image file to copy). It is not displayed
    a second time. Where myst-nb is not installed (for example on Colab, which
    installs only the package), nothing happens.

    Parameters
    ----------
    key : str
        Glue key, e.g. ``"gallery-ch1"``; the landing page pastes it with
        ``{glue} gallery-ch1`` and ``:doc:`` pointing to the chapter.
    fig : matplotlib Figure
    alt : str
        Alternative text of the image.
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"key must be a name of letters, digits, '-' and '_', got {key!r}")
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(alt, str):
        raise ValueError(f"alt must be a string, got {type(alt).__name__}")
    try:
        from myst_nb import glue
    except ImportError:  # pragma: no cover - depends on the environment
        return
    from IPython.display import HTML

    glue(key, HTML(figure_img_html(fig, alt)), display=False)


def figure_img_html(fig, alt: str = "") -> str:
    """A self-contained ``<img>`` tag holding the PNG of ``fig`` (scaled to the column width)."""
    png = figure_png(fig)
    w, h = png_size(png)
    b64 = base64.b64encode(png).decode("ascii")
    return (
        f'<img class="learnreg-gallery-figure" width="{w}" height="{h}" style="max-width:100%;height:auto" '
        f'alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'
    )
