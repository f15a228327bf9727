"""Static sliders: frame order, self-containedness, determinism and bad input.

The JavaScript itself is exercised in a real browser by tests/test_browser.py.
"""

from __future__ import annotations

import base64
import io
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from learnreg.book.sliders import StaticSlider, png_size, reset_ids, static_slider  # noqa: E402


def _coded_png(a, b) -> bytes:
    """A 6x4 PNG whose red and green channels encode the parameter values."""
    img = np.zeros((4, 6, 3))
    img[..., 0] = a / 10
    img[..., 1] = b / 10
    buf = io.BytesIO()
    plt.imsave(buf, img, format="png")
    return buf.getvalue()


def _decode(png: bytes) -> tuple[float, float]:
    arr = mpimg.imread(io.BytesIO(png), format="png")
    return round(float(arr[0, 0, 0]) * 10, 1), round(float(arr[0, 0, 1]) * 10, 1)


def _payload(slider: StaticSlider) -> dict:
    m = re.search(r'<script type="application/json" class="learnreg-slider-data">(.*?)</script>', slider.html, re.S)
    assert m
    return json.loads(m.group(1))


def _line_figure(delta, b):
    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    t = np.linspace(0, 1, 50)
    ax.plot(t, delta * t**b)
    ax.set_title(f"delta = {delta}, b = {b}")
    return fig


def test_frames_are_stored_in_row_major_order_of_the_grid():
    grid = {"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0]}
    s = static_slider(_coded_png, grid, initial={"a": 2.0, "b": 5.0})
    assert s.shape == (3, 2) and len(s.frames) == 6
    payload = _payload(s)
    assert payload["shape"] == [3, 2]
    for i, a in enumerate(grid["a"]):
        for j, b in enumerate(grid["b"]):
            idx = s.index(a=a, b=b)
            assert idx == i * 2 + j  # the formula the JavaScript uses
            assert _decode(s.frames[idx]) == (a, b)
            assert payload["labels"][idx] == f"a = {a:g}, b = {b:g}"
            if idx != s.initial:
                assert base64.b64decode(payload["frames"][idx]) == s.frames[idx]
    # the initial frame is the <img> itself (not duplicated in the array), the others are in the array
    assert s.initial == 3 and payload["initial"] == 3 and payload["frames"][3] == ""
    src = re.search(r'<img class="learnreg-slider-frame"[^>]*src="data:image/png;base64,([^"]+)"', s.html).group(1)
    assert base64.b64decode(src) == s.frames[3]


def test_one_range_input_per_parameter_with_the_initial_position_and_label():
    s = static_slider(_coded_png, {"a": [1, 2, 3, 4], "b": [7]}, initial={"a": 3}, labels={"a": "δ"},
                      formats={"b": ".2f"})
    inputs = re.findall(r'<input type="range"[^>]*>', s.html)
    assert len(inputs) == 2
    assert 'data-param="a"' in inputs[0] and 'max="3"' in inputs[0] and 'value="2"' in inputs[0]
    assert 'data-param="b"' in inputs[1] and 'max="0"' in inputs[1] and 'value="0"' in inputs[1]
    assert '<output class="learnreg-slider-label" style="font-family:monospace">δ = 3, b = 7.00</output>' in s.html


def test_output_is_self_contained():
    s = static_slider(_line_figure, {"delta": [0.1, 1.0], "b": [1, 2]})
    assert "http://" not in s.html and "https://" not in s.html
    assert not re.search(r"<script[^>]*\bsrc=", s.html)
    assert s.html.count("<script") == 2
    bundle = s._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    # the text form says what the slider varies, with nothing that differs between machines (no sizes)
    assert bundle["text/plain"] == "Static slider over delta (2 values) × b (2 values)." == repr(s)
    assert s.nbytes == len(s.html.encode("utf-8"))
    assert png_size(s.frames[0]) == (150, 100)  # 3 x 2 inches at 50 dpi


def test_reruns_are_byte_identical_and_ids_count_up():
    reset_ids()
    first = static_slider(_line_figure, {"delta": [0.1, 1.0], "b": [1, 2]}, alt="a curve")
    second = static_slider(_line_figure, {"delta": [0.1, 1.0], "b": [1, 2]}, alt="a curve")
    assert first.uid == "learnreg-slider-1" and second.uid == "learnreg-slider-2"
    assert first.frames == second.frames  # identical figures give identical PNG bytes
    reset_ids()
    again = static_slider(_line_figure, {"delta": [0.1, 1.0], "b": [1, 2]}, alt="a curve")
    assert again.html == first.html
    assert again.html.count('id="learnreg-slider-1"') == 1 and 'getElementById("learnreg-slider-1")' in again.html


def test_figures_are_closed_after_rendering():
    before = len(plt.get_fignums())
    static_slider(_line_figure, {"delta": [0.1, 0.2, 0.3], "b": [1]})
    assert len(plt.get_fignums()) == before


def test_label_text_is_escaped():
    s = static_slider(lambda v: _coded_png(1, 1), {"v": ["<b>&"]}, alt='say "hi"')
    assert "<b>&" not in s.html.split("<script")[0]
    assert "v = &lt;b&gt;&amp;" in s.html
    assert 'alt="say &quot;hi&quot; (v = &lt;b&gt;&amp;)"' in s.html


def test_numpy_values_are_accepted():
    s = static_slider(lambda d: _coded_png(d * 10, 1), {"d": np.array([0.1, 0.2])})
    assert s.labels == ("d = 0.1", "d = 0.2")
    assert s.index(d=0.2) == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(plot=42, grid={"a": [1]}), "plot must be callable"),
        (dict(plot=_coded_png, grid={}), "grid must be a non-empty mapping"),
        (dict(plot=_coded_png, grid=[("a", [1])]), "grid must be a non-empty mapping"),
        (dict(plot=_coded_png, grid={"a b": [1], "b": [1]}), "grid keys must be identifiers"),
        (dict(plot=_coded_png, grid={"a": [], "b": [1]}), r"grid\['a'\] must hold at least one value"),
        (dict(plot=_coded_png, grid={"a": "abc", "b": [1]}), r"grid\['a'\] must be a sequence"),
        (dict(plot=_coded_png, grid={"a": list(range(10)), "b": list(range(10))}), "100 frames"),
        (dict(plot=_coded_png, grid={"a": [1], "b": [1]}, max_frames=0), "max_frames"),
        (dict(plot=_coded_png, grid={"a": [1], "b": [1]}, initial={"a": 5}), r"initial\['a'\] must be one of"),
        (dict(plot=_coded_png, grid={"a": [1], "b": [1]}, labels={"c": "x"}), "labels has keys"),
        (dict(plot=_coded_png, grid={"a": [1], "b": [1]}, formats=[1]), "formats must be a mapping"),
        (dict(plot=_coded_png, grid={"a": [1], "b": [1]}, dpi=0), "dpi"),
        (dict(plot=_coded_png, grid={"a": [1], "b": [1]}, alt=3), "alt must be a string"),
        (dict(plot=lambda a, b: None, grid={"a": [1], "b": [1]}), "plot must return a matplotlib Figure or PNG"),
        (dict(plot=lambda a, b: b"not a png", grid={"a": [1], "b": [1]}), "png must be the bytes of a PNG"),
    ],
)
def test_bad_input_raises_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        static_slider(**kwargs)


def test_frames_of_different_sizes_are_refused():
    def plot(w):
        fig = plt.figure(figsize=(w, 2), dpi=40)
        return fig

    with pytest.raises(ValueError, match="plot must draw frames of one size"):
        static_slider(plot, {"w": [2, 3]})
    plt.close("all")


def test_index_checks_its_arguments():
    s = static_slider(_coded_png, {"a": [1, 2], "b": [3]})
    with pytest.raises(ValueError, match="params must name exactly"):
        s.index(a=1)
    with pytest.raises(ValueError, match="a must be one of the grid values"):
        s.index(a=7, b=3)


def test_png_size_reads_the_header():
    assert png_size(_coded_png(1, 1)) == (6, 4)
    with pytest.raises(ValueError, match="png must be"):
        png_size(b"\x89PNG\r\n\x1a\n" + b"\0" * 4)


def test_glue_figure_checks_its_arguments():
    from learnreg.book.glue import figure_png
    from learnreg.book.glue import figure_png
    from learnreg.book.glue import gallery_figure as glue_figure

    with pytest.raises(ValueError, match="key must be a name"):
        glue_figure("a key", plt.figure())
    with pytest.raises(ValueError, match="fig must be a matplotlib Figure"):
        glue_figure("gallery-ch1", b"png")
    plt.close("all")


def test_frames_are_palette_pngs_close_to_the_drawn_figure():
    fig = _line_figure(1.0, 2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    raw = buf.getvalue()
    kept = static_slider(lambda v: raw, {"v": [1]}, colors=None)
    assert kept.frames[0] == raw  # colors=None keeps the bytes as drawn
    small = static_slider(lambda v: raw, {"v": [1]}, colors=64)
    assert small.frames[0][25] == 3  # PNG colour type 3: palette
    a = mpimg.imread(io.BytesIO(raw), format="png")[..., :3]
    b = mpimg.imread(io.BytesIO(small.frames[0]), format="png")[..., :3]
    assert a.shape == b.shape
    assert np.abs(a - b).mean() < 0.01
    with pytest.raises(ValueError, match="colors must be at most 256"):
        static_slider(lambda v: raw, {"v": [1]}, colors=1000)


def test_glue_figure_glues_a_self_contained_img_of_the_figure(monkeypatch):
    import myst_nb

    from learnreg.book.glue import figure_png
    from learnreg.book.glue import gallery_figure as glue_figure

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda key, obj, display=True: calls.append((key, obj, display)))
    fig = _line_figure(1.0, 2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    glue_figure("gallery-test", fig, alt='a "curve"')
    (key, obj, display), = calls
    assert key == "gallery-test" and display is False
    w, h = png_size(buf.getvalue())  # 150 x 100 at the figure's dpi; savefig.dpi may be the book style's
    m = re.fullmatch(rf'<img class="learnreg-gallery-figure" width="{w}" height="{h}" [^>]*'
                     r'alt="a &quot;curve&quot;" src="data:image/png;base64,([^"]+)">', obj.data)
    assert m, obj.data
    # the figure's own PNG, whatever the backend (pixels: a figure under a layout engine, as the book style
    # sets one, may move by a fraction of a pixel between two draws)
    a = mpimg.imread(io.BytesIO(base64.b64decode(m.group(1))), format="png")
    b = mpimg.imread(io.BytesIO(buf.getvalue()), format="png")
    assert a.shape == b.shape and np.abs(a - b).mean() < 0.01
    other = _line_figure(2.0, 1)
    c = mpimg.imread(io.BytesIO(figure_png(other)), format="png")
    assert c.shape != a.shape or np.abs(a - c).mean() > 10 * np.abs(a - b).mean()  # another figure differs
    plt.close(other)
    with pytest.raises(ValueError, match="alt must be a string"):
        glue_figure("gallery-test", fig, alt=None)
    plt.close(fig)
