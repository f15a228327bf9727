r"""Sliders that work in the static book, without a kernel.

An ipywidgets panel needs a running Python kernel: in the static web page its
slider shows, but moving it changes nothing. :func:`static_slider` renders a
figure once for every point of a small parameter grid

.. math::

    (p_1, \dots, p_m) \in P_1 \times \dots \times P_m ,

and returns one self-contained HTML output: the frames as base64 PNGs, an
``<input type="range">`` per parameter, a label that shows the current
parameter values, and a few lines of inline JavaScript that swap the frame.
Nothing is loaded from the web and no kernel is needed. Without JavaScript the
output still shows the initial frame as a plain image.

Frame :math:`(i_1, \dots, i_m)` (index :math:`i_r` into :math:`P_r`) is stored
at the row-major position :math:`(\dots(i_1 |P_2| + i_2)|P_3| + \dots) + i_m`,
as :func:`numpy.ravel_multi_index` computes it. Element ids come from a
module-level counter, not from randomness, so re-running a notebook gives
byte-identical output.

Example
-------
>>> import matplotlib.pyplot as plt
>>> def plot(delta, b):
...     fig, ax = plt.subplots(figsize=(4, 3))
...     ax.set_title(f"delta = {delta}, b = {b}")
...     return fig
>>> slider = static_slider(plot, {"delta": [1e-2, 1e-3], "b": [1.5, 2.0]})
>>> len(slider.frames), slider.names, slider.values
(4, ('delta', 'b'), ((0.01, 0.001), (1.5, 2.0)))
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._validate import check_int

__all__ = ["StaticSlider", "static_slider", "reset_ids", "png_size", "MAX_FRAMES"]

#: Largest number of frames one slider may hold (keeps the page weight reasonable).
MAX_FRAMES = 96

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_counter = itertools.count(1)


def reset_ids() -> None:
    """Restart the id counter (the next slider gets id ``learnreg-slider-1``)."""
    global _counter
    _counter = itertools.count(1)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels of a PNG image.

    Parameters
    ----------
    png : bytes
        The PNG file's content.

    Raises
    ------
    ValueError
        If ``png`` is not PNG data.
    """
    if not isinstance(png, (bytes, bytearray)) or len(png) < 24 or png[:8] != _PNG_SIGNATURE or png[12:16] != b"IHDR":
        raise ValueError("png must be the bytes of a PNG image (signature and IHDR chunk)")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def _default_format(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return str(value)


def _quantize(png: bytes, colors: int) -> bytes:
    """The PNG reduced to an adaptive palette of ``colors`` colours (no dithering; deterministic).

    Images with transparency (the layers of a slider with a background) keep it.
    """
    from PIL import Image

    img = Image.open(io.BytesIO(png))
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        img = img.convert("RGBA").quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    else:
        img = img.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _to_png(result, dpi: int | None, colors: int | None, what: str) -> bytes:
    """PNG bytes of a plotting function's result (a matplotlib Figure or PNG bytes)."""
    from matplotlib.figure import Figure

    if isinstance(result, (bytes, bytearray)):
        png_size(bytes(result))
        png = bytes(result)
    elif isinstance(result, Figure):
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        # no "Software" text chunk: identical figures give identical bytes
        result.savefig(buf, format="png", dpi=dpi or result.dpi, metadata={"Software": None})
        plt.close(result)
        png = buf.getvalue()
    else:
        raise ValueError(f"plot must return a matplotlib Figure or PNG bytes; for {what} it returned {type(result).__name__}")
    return png if colors is None else _quantize(png, colors)


@dataclass(frozen=True)
class StaticSlider:
    """A precomputed slider figure; displays as self-contained HTML.

    Attributes
    ----------
    uid : str
        Element id of the slider (``learnreg-slider-<counter>``).
    names : tuple of str
        Parameter names, one range input each.
    values : tuple of tuple
        The grid values :math:`P_r` of each parameter.
    labels : tuple of str
        The label shown for each frame, in frame order.
    frames : tuple of bytes
        PNG frames in row-major order over the grid.
    initial : int
        Index of the frame shown first (and without JavaScript).
    html : str
        The HTML output.
    """

    uid: str
    names: tuple
    values: tuple
    labels: tuple
    frames: tuple
    initial: int
    html: str

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values of each parameter."""
        return tuple(len(v) for v in self.values)

    @property
    def nbytes(self) -> int:
        """Size of the HTML output in bytes (what the slider adds to a page)."""
        return len(self.html.encode("utf-8"))

    def index(self, **params) -> int:
        """Frame index of one grid point (row-major, as the JavaScript computes it)."""
        if set(params) != set(self.names):
            raise ValueError(f"params must name exactly the parameters {list(self.names)}, got {sorted(params)}")
        idx = []
        for name, vals in zip(self.names, self.values):
            matches = [i for i, v in enumerate(vals) if v == params[name]]
            if not matches:
                raise ValueError(f"{name} must be one of the grid values {list(vals)}, got {params[name]!r}")
            idx.append(matches[0])
        return int(np.ravel_multi_index(tuple(idx), self.shape))

    def summary(self) -> str:
        """One line: frames, grid, frame size and page weight."""
        w, h = png_size(self.frames[0])
        grid = " x ".join(f"{n} ({len(v)})" for n, v in zip(self.names, self.values))
        return f"static slider {self.uid}: {len(self.frames)} frames over {grid}, {w}x{h} px, {self.nbytes / 1e3:.0f} kB of HTML"

    def describe(self) -> str:
        """One line without sizes (the same on every machine): what the slider varies."""
        grid = " × ".join(f"{n} ({len(v)} values)" for n, v in zip(self.names, self.values))
        return f"Static slider over {grid}."

    def __repr__(self) -> str:
        return self.describe()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html, "text/plain": self.describe()}


_SCRIPT = """(function () {
  var root = document.getElementById("%(uid)s");
  if (!root) { return; }
  var data = JSON.parse(root.querySelector("script.learnreg-slider-data").textContent);
  var img = root.querySelector("img.learnreg-slider-frame");
  var label = root.querySelector(".learnreg-slider-label");
  var inputs = root.querySelectorAll("input.learnreg-slider-input");
  data.frames[data.initial] = img.getAttribute("src");
  function update() {
    var idx = 0;
    for (var r = 0; r < inputs.length; r++) { idx = idx * data.shape[r] + parseInt(inputs[r].value, 10); }
    var frame = data.frames[idx];
    if (typeof frame !== "string" || frame.length === 0) {
      throw new Error("learnreg slider %(uid)s: frame " + idx + " is missing");
    }
    img.src = frame.lastIndexOf("data:", 0) === 0 ? frame : "data:image/png;base64," + frame;
    img.alt = data.alt + " (" + data.labels[idx] + ")";
    label.textContent = data.labels[idx];
    root.setAttribute("data-frame", String(idx));
  }
  for (var r = 0; r < inputs.length; r++) { inputs[r].addEventListener("input", update); }
})();"""


def static_slider(
    plot: Callable,
    grid: Mapping[str, Sequence],
    *,
    labels: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable | str] | None = None,
    initial: Mapping | None = None,
    alt: str = "",
    dpi: int | None = None,
    colors: int | None = 128,
    max_frames: int = MAX_FRAMES,
    background: bytes | None = None,
) -> StaticSlider:
    r"""Render ``plot`` on every point of ``grid`` and return a self-contained slider.

    Parameters
    ----------
    plot : callable
        Called as ``plot(**params)`` for every grid point; returns a matplotlib
        ``Figure`` (saved as PNG and closed) or PNG bytes, optionally paired
        with a caption string that the label shows after the parameter values.
        All frames must have the same size in pixels, so that the page does not
        jump.
    grid : mapping of str to sequence
        Parameter name :math:`\to` its values :math:`P_r`, in slider order. Names
        are Python identifiers; values can be numbers or strings.
    labels : mapping of str to str, optional
        Display name of a parameter in the label (default: its name), e.g.
        ``{"delta": "δ"}``. Plain text: the label is not typeset as math.
    formats : mapping of str to callable or str, optional
        How a value is shown: a callable, or a format spec such as ``".1e"``.
        Default: ``:g`` for floats, ``str`` otherwise.
    initial : mapping, optional
        Grid point shown first (default: the first value of each parameter).
    alt : str
        Alternative text of the image; the current label is appended.
    dpi : int, optional
        Resolution of frames drawn from a Figure (default: the figure's dpi).
    colors : int or None
        Store each frame with an adaptive palette of this many colours (2 to
        256), which makes line plots about three times smaller; ``None`` keeps
        the PNGs as drawn.
    max_frames : int
        Refuse grids with more frames than this (page weight).
    background : bytes, optional
        A PNG drawn once under every frame. The frames are then transparent
        layers of the same size holding only what changes, which makes a
        slider several times lighter (see :mod:`learnreg.book.panels`).

    Returns
    -------
    StaticSlider
        Displays as HTML in a notebook (with the initial frame as a PNG fallback).

    Raises
    ------
    ValueError
        For a non-callable ``plot``, an empty or too large grid, unknown keys in
        ``labels``/``formats``/``initial``, a value not in the grid, or a plot
        that returns neither a Figure nor PNG bytes, or frames of different sizes.
    """
    if not callable(plot):
        raise ValueError(f"plot must be callable, got {type(plot).__name__}")
    if not isinstance(grid, Mapping) or len(grid) == 0:
        raise ValueError("grid must be a non-empty mapping from parameter names to sequences of values")
    names = tuple(grid)
    values = []
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"grid keys must be identifiers (letters, digits, _), got {name!r}")
        vals = grid[name]
        if isinstance(vals, (str, bytes)) or not isinstance(vals, (Sequence, np.ndarray)):
            raise ValueError(f"grid[{name!r}] must be a sequence of values, got {type(vals).__name__}")
        vals = tuple(v.item() if isinstance(v, np.generic) else v for v in vals)
        if len(vals) == 0:
            raise ValueError(f"grid[{name!r}] must hold at least one value")
        values.append(vals)
    values = tuple(values)
    shape = tuple(len(v) for v in values)
    n_frames = int(np.prod(shape))
    max_frames = check_int(max_frames, "max_frames", minimum=1)
    if n_frames > max_frames:
        raise ValueError(f"grid has {n_frames} frames ({' x '.join(map(str, shape))}); at most max_frames = {max_frames}")
    if dpi is not None:
        dpi = check_int(dpi, "dpi", minimum=1)
    if colors is not None:
        colors = check_int(colors, "colors", minimum=2, maximum=256)
    for arg, mapping in (("labels", labels), ("formats", formats), ("initial", initial)):
        if mapping is not None:
            if not isinstance(mapping, Mapping):
                raise ValueError(f"{arg} must be a mapping keyed by parameter name, got {type(mapping).__name__}")
            unknown = sorted(set(mapping) - set(names))
            if unknown:
                raise ValueError(f"{arg} has keys {unknown} that are not parameters of the grid {list(names)}")
    if not isinstance(alt, str):
        raise ValueError(f"alt must be a string, got {type(alt).__name__}")
    labels = dict(labels or {})
    formats = dict(formats or {})

    def fmt(name, value):
        f = formats.get(name)
        if f is None:
            return _default_format(value)
        return f(value) if callable(f) else format(value, f)

    start = [0] * len(names)
    for r, name in enumerate(names):
        if initial is not None and name in initial:
            matches = [i for i, v in enumerate(values[r]) if v == initial[name]]
            if not matches:
                raise ValueError(f"initial[{name!r}] must be one of the grid values {list(values[r])}, got {initial[name]!r}")
            start[r] = matches[0]
    first = int(np.ravel_multi_index(tuple(start), shape))

    frames, frame_labels = [], []
    size = None
    for idx in itertools.product(*(range(m) for m in shape)):
        params = {name: values[r][i] for r, (name, i) in enumerate(zip(names, idx))}
        text = ", ".join(f"{labels.get(n, n)} = {fmt(n, v)}" for n, v in params.items())
        result = plot(**params)
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], str):
            result, caption = result
            text = f"{text} — {caption}" if caption else text
        png = _to_png(result, dpi, colors, text)
        if size is None:
            size = png_size(png)
        elif png_size(png) != size:
            raise ValueError(
                f"plot must draw frames of one size; {text} gave {png_size(png)} px, the first frame {size} px "
                "(use a fixed figsize and no bbox_inches='tight')"
            )
        frames.append(png)
        frame_labels.append(text)

    uid = f"learnreg-slider-{next(_counter)}"
    b64 = [base64.b64encode(f).decode("ascii") for f in frames]
    payload = {
        "shape": list(shape),
        "initial": first,
        "alt": alt,
        "labels": frame_labels,
        # the initial frame is the <img> itself; the script copies it into the array
        "frames": ["" if i == first else s for i, s in enumerate(b64)],
    }
    payload_json = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    controls = []
    for r, name in enumerate(names):
        disp = html.escape(labels.get(name, name))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values[r])
        data_values = html.escape(json.dumps(list(values[r])), quote=True) if numeric else ""
        controls.append(
            f'<label style="margin-right:1.5em;white-space:nowrap">{disp} '
            f'<input type="range" class="learnreg-slider-input" data-param="{name}" min="0" max="{shape[r] - 1}" '
            f'step="1" value="{start[r]}" aria-label="{disp}"'
            + (f' data-values="{data_values}"' if numeric else "")
            + ' style="vertical-align:middle"></label>'
        )
    w, h = size
    alt_first = f"{alt} ({frame_labels[first]})" if alt else frame_labels[first]
    frame_img = (
        f'<img class="learnreg-slider-frame" width="{w}" height="{h}" style="max-width:100%;height:auto" '
        f'alt="{html.escape(alt_first)}" src="data:image/png;base64,{b64[first]}">'
    )
    if background is not None:
        if png_size(background) != size:
            raise ValueError(f"background must have the frames' size {size} px, got {png_size(background)} px")
        bg64 = base64.b64encode(background).decode("ascii")
        frame_img = (
            f'<div class="learnreg-slider-stack" style="position:relative;display:inline-block;max-width:100%">'
            f'<img class="learnreg-slider-background" width="{w}" height="{h}" alt="" '
            f'style="display:block;max-width:100%;height:auto" src="data:image/png;base64,{bg64}">'
            f'<img class="learnreg-slider-frame" width="{w}" height="{h}" alt="{html.escape(alt_first)}" '
            f'style="position:absolute;left:0;top:0;width:100%;height:auto" src="data:image/png;base64,{b64[first]}">'
            "</div>"
        )
    out = (
        f'<div class="learnreg-slider" id="{uid}" data-frame="{first}" style="margin:0.5em 0">\n'
        f'<div class="learnreg-slider-controls">{"".join(controls)}'
        f'<output class="learnreg-slider-label" style="font-family:monospace">{html.escape(frame_labels[first])}</output></div>\n'
        f"{frame_img}\n"
        f'<script type="application/json" class="learnreg-slider-data">{payload_json}</script>\n'
        f"<script>\n{_SCRIPT % {'uid': uid}}\n</script>\n"
        "</div>"
    )
    return StaticSlider(
        uid=uid,
        names=names,
        values=values,
        labels=tuple(frame_labels),
        frames=tuple(frames),
        initial=first,
        html=out,
    )
