"""Panels: one declaration gives a fast live panel and a light static slider that show the same figure."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from learnreg import make_rng  # noqa: E402
from learnreg.book import panels  # noqa: E402
from learnreg.book.panels import Choice, Grid, LogSlider, Panel, PanelFigure, Slider  # noqa: E402


class Curve(PanelFigure):
    figsize = (4.0, 2.5)
    dpi = 60
    structural = ("kind",)

    def draw(self, fig, kind):
        ax = fig.subplots()
        ax.set(xlim=(0, 1), ylim=(-2.2, 2.2), title=f"kind {kind}")
        self.line = self.animate(ax.plot([], [], lw=2)[0])
        self.kind = kind

    def update(self, amp, freq):
        t = np.linspace(0, 1, 200)
        f = np.sin if self.kind == "sin" else np.cos
        self.line.set_data(t, amp * f(2 * np.pi * freq * t))
        self.last = (amp, freq)

    def caption(self, amp, freq):
        return f"peak {amp:.2f}"


def _panel(**kw):
    return Panel(Curve, [LogSlider("amp", 0.1, 2.0, initial=1.0, static=5), Slider("freq", 1.0, 3.0, static=3),
                         Choice("kind", ("sin", "cos"))], alt="a curve", **kw)


def _rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def test_render_is_a_png_of_fixed_size_that_follows_the_parameters():
    p = _panel()
    a, b = _rgb(p.render(amp=0.5)), _rgb(p.render(amp=1.5))
    assert a.shape == b.shape == (150, 240, 3)
    assert np.abs(a - b).max() > 100  # the curve moved
    assert np.array_equal(a, _rgb(p.render(amp=0.5)))  # same values, same image
    png, caption = p.render_with_caption(amp=0.25, freq=2.0)
    assert caption == "peak 0.25"
    assert not np.array_equal(_rgb(p.render(kind="cos")), _rgb(p.render(kind="sin")))


def test_the_static_layers_over_the_background_give_the_live_image():
    p = _panel(static=("amp", "freq"))
    s = p.static_slider()
    assert s.names == ("amp", "freq") and s.shape == (5, 3)
    assert 'class="learnreg-slider-background"' in s.html
    import base64
    import re

    bg = Image.open(io.BytesIO(base64.b64decode(
        re.search(r'learnreg-slider-background"[^>]*src="data:image/png;base64,([^"]+)"', s.html).group(1)))).convert("RGBA")
    amp, freq = s.values[0][3], s.values[1][1]
    layer = Image.open(io.BytesIO(s.frames[s.index(amp=amp, freq=freq)])).convert("RGBA")
    bg.alpha_composite(layer)
    composite = np.asarray(bg.convert("RGB"), dtype=float)
    live = _rgb(p.render(amp=amp, freq=freq))
    diff = np.abs(composite - live)
    assert diff.mean() < 1.0 and (diff.max(axis=2) > 60).mean() < 0.01  # the same picture, up to anti-aliasing
    assert s.labels[s.index(amp=amp, freq=freq)].endswith(f"peak {amp:.2f}")


def test_a_structural_parameter_in_the_static_slider_draws_full_frames():
    s = _panel(static=("kind", "amp")).static_slider()
    assert "learnreg-slider-background" not in s.html and len(s.frames) == 10


def test_the_live_panel_updates_its_image_and_says_in_one_line_what_it_is():
    box = _panel().live()
    assert "learnreg-live-panel" in box._dom_classes
    assert repr(box).startswith("In a running notebook this figure is a live panel: amp from 0.1 to 2 (log scale)")
    before = box.image.value
    box.controls["amp"].value = 0.3
    assert box.image.value != before and box.caption.value == "peak 0.30"
    box.controls["kind"].value = "cos"
    assert box.image.value != before


def test_show_gives_the_static_form_when_static_pages_are_set(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs: shown.extend(objs))
    monkeypatch.setenv(panels.STATIC_PAGES_ENV, "1")
    _panel(static=("amp",)).show()
    assert [type(o).__name__ for o in shown] == ["StaticSlider", "HTML"]
    assert "live panel" in shown[1].data
    shown.clear()
    monkeypatch.setenv(panels.STATIC_PAGES_ENV, "0")
    _panel().show()
    assert len(shown) == 1 and "learnreg-live-panel" in shown[0]._dom_classes


def test_benchmark_reports_update_times():
    out = _panel().benchmark(make_rng(0), n_updates=5)
    assert set(out) == {"median_ms", "p90_ms", "first_ms", "n_updates"} and out["median_ms"] > 0


def test_grid_parameters_are_offered_as_precomputed_values():
    g = Grid("eps", (0.1, 0.2, 0.4), initial=0.2)
    assert g.static_values() == (0.1, 0.2, 0.4) and "3 precomputed values" in g.describe()
    w = g.widget()
    assert w.value == 0.2


@pytest.mark.parametrize("make", [
    lambda: LogSlider("d", 0.0, 1.0),
    lambda: LogSlider("d", 1.0, 0.1),
    lambda: LogSlider("d", 1e-3, 1.0, initial=5.0),
    lambda: Slider("not a name", 0, 1),
    lambda: Slider("b", 0, 1, static=1),
    lambda: Slider("b", 0, 1, static=[0.5, 2.0]),
    lambda: Choice("c", ()),
    lambda: Choice("c", ("a", "b"), initial="z"),
    lambda: Grid("g", []),
    lambda: Panel(Curve, []),
    lambda: Panel(Curve, [Slider("amp", 0, 1), Slider("amp", 0, 1)]),
    lambda: Panel(Curve, [Slider("amp", 0, 1)], static=("nope",)),
    lambda: Panel(42, [Slider("amp", 0, 1)]),
    lambda: Panel(Curve, [Slider("amp", 0, 1), Slider("freq", 1, 2)]),  # structural "kind" missing
])
def test_bad_declarations_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_unknown_values_and_figures_without_dynamic_artists_are_refused():
    with pytest.raises(ValueError, match="unknown panel parameters"):
        _panel().render(nope=1)

    class Static(PanelFigure):
        def draw(self, fig):
            fig.subplots()

        def update(self, a):
            pass

    with pytest.raises(ValueError, match="dynamic artist"):
        Panel(Static, [Slider("a", 0, 1)]).render()
