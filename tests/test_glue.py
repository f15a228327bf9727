"""Figures glued beside their statement, and into the landing page's gallery."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import myst_nb

from learnreg.book import glue


def _figure(level: float) -> Figure:
    fig = Figure(figsize=(2, 1), dpi=40)
    ax = fig.add_subplot()
    ax.imshow(np.full((4, 4), level), vmin=0, vmax=1, cmap="gray")
    ax.set_axis_off()
    return fig


@pytest.fixture
def glued(monkeypatch):
    calls = {}
    monkeypatch.setattr(myst_nb, "glue", lambda key, obj, display=True: calls.setdefault(key, (obj, display)))
    return calls


def test_show_glues_the_figure_under_its_label_and_into_the_gallery(glued):
    glue.show("fig-ch9-test", _figure(0.2), gallery="gallery-ch9")
    assert set(glued) == {"fig-ch9-test", "gallery-ch9"}
    image, _ = glued["fig-ch9-test"]
    html, display = glued["gallery-ch9"]
    assert display is False                      # the gallery copy is not shown a second time
    b64 = html.data.split("base64,")[1].split('"')[0]
    gallery_png = Image.open(io.BytesIO(base64.b64decode(b64))).convert("L")
    shown_png = Image.open(io.BytesIO(image.data)).convert("L")
    assert np.array_equal(np.asarray(gallery_png), np.asarray(shown_png))   # the same figure
    glued.clear()
    glue.show("fig-ch9-test", _figure(0.2))
    assert set(glued) == {"fig-ch9-test"}


@pytest.mark.parametrize("bad", ["", "gallery ch9", 3])
def test_show_refuses_a_bad_gallery_key(bad, glued):
    with pytest.raises(ValueError, match="gallery"):
        glue.show("fig-ch9-test", _figure(0.5), gallery=bad)
    assert not glued


def test_show_refuses_a_bad_label_and_a_non_figure(glued):
    with pytest.raises(ValueError, match="label"):
        glue.show("fig ch9", _figure(0.5))
    with pytest.raises(ValueError, match="fig"):
        glue.show("fig-ch9-test", "not a figure")
