r"""Interactive panels: one declaration gives the live panel and the static slider.

A reader varies noise and smoothness in two places: in a running kernel
(JupyterLab, Binder, Colab), where a panel must answer at once for any value in
a continuous range, and in the static book, where no kernel runs and a slider
swaps precomputed frames. A :class:`Panel` declares both at once:

* its parameters (:class:`LogSlider`, :class:`Slider`, :class:`Choice`,
  :class:`Grid` for values precomputed on a grid);
* a :class:`PanelFigure` subclass that draws the figure **once** (axes, ticks,
  everything that does not change) and then **updates it in place**: it moves
  the data of a few artists it marked as dynamic.

Rendering keeps one matplotlib figure per setting of the *structural*
parameters (those that change the axes, such as the operator), draws the
static part once, and for each update restores that background and draws only
the dynamic artists (blitting), then encodes the image as a PNG with fast
compression. That takes milliseconds where drawing a new figure through the
inline backend takes hundreds.

The static slider is made from the same figure: the background once, and for
every grid point a transparent layer holding only the dynamic artists, as a
small palette PNG.

:meth:`Panel.show` displays the live panel in a running kernel, and the static
slider with one line saying what the live panel varies when the environment
variable ``LEARNREG_STATIC_PAGES`` is set (the book build and the tests set it,
so stored outputs and built pages never hold controls that do nothing).

Example
-------
>>> import numpy as np
>>> class Sine(PanelFigure):
...     figsize = (4, 2.5)
...     def draw(self, fig):
...         ax = fig.subplots()
...         ax.set(xlim=(0, 1), ylim=(-1.1, 1.1))
...         self.line = self.animate(ax.plot([], [])[0])
...     def update(self, freq):
...         t = np.linspace(0, 1, 200)
...         self.line.set_data(t, np.sin(2 * np.pi * freq * t))
>>> panel = Panel(Sine, [Slider("freq", 1.0, 5.0, initial=2.0, static=5)], alt="a sine wave")
>>> panel.render(freq=3.0)[:8] == b"\x89PNG\r\n\x1a\n"
True
"""

from __future__ import annotations

import html
import io
import itertools
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_int, check_real, check_rng
from .sliders import StaticSlider, static_slider

__all__ = [
    "Param",
    "LogSlider",
    "Slider",
    "Choice",
    "Grid",
    "PanelFigure",
    "Panel",
    "static_pages",
    "STATIC_PAGES_ENV",
]

#: Environment variable that selects the static form of every panel (set by the book build and the tests).
STATIC_PAGES_ENV = "LEARNREG_STATIC_PAGES"


def static_pages() -> bool:
    """Whether panels show their static form (``LEARNREG_STATIC_PAGES`` set to a non-empty value other than 0)."""
    return os.environ.get(STATIC_PAGES_ENV, "") not in ("", "0")


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value)


@dataclass(frozen=True)
class Param:
    """A panel parameter: a name (a Python identifier), a display label and an initial value."""

    name: str
    label: str = field(default="", kw_only=True)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name must be a Python identifier, got {self.name!r}")
        if not isinstance(self.label, str):
            raise ValueError(f"label must be a string, got {type(self.label).__name__}")
        if not self.label:
            object.__setattr__(self, "label", self.name)

    # overridden below
    initial = None

    def static_values(self) -> tuple:
        """The values of the static slider."""
        raise NotImplementedError

    def random_value(self, rng: np.random.Generator):
        """A value drawn from the parameter's range (for benchmarks)."""
        raise NotImplementedError

    def describe(self) -> str:
        """The range in words."""
        raise NotImplementedError

    def widget(self):
        """The ipywidgets control of the live panel."""
        raise NotImplementedError

    def format(self, value) -> str:
        """A value as the slider label shows it."""
        return _fmt(value)


def _static_grid(static, lo: float, hi: float, log: bool, name: str) -> tuple[float, ...]:
    if isinstance(static, (int, np.integer)) and not isinstance(static, bool):
        count = check_int(static, f"static of {name}", minimum=2, maximum=64)
        values = np.geomspace(lo, hi, count) if log else np.linspace(lo, hi, count)
        return tuple(float(f"{v:.6g}") for v in values)
    if isinstance(static, (str, bytes)) or not isinstance(static, (Sequence, np.ndarray)) or len(static) < 1:
        raise ValueError(f"static of {name} must be a number of values (>= 2) or a sequence of values")
    values = tuple(check_real(v, f"static value of {name}") for v in static)
    if any(not lo <= v <= hi for v in values):
        raise ValueError(f"static values of {name} must lie in [{lo}, {hi}], got {list(values)}")
    return values


def _nearest(values: Sequence, target, log: bool):
    arr = np.asarray(values, dtype=float)
    dist = np.abs(np.log(arr) - np.log(target)) if log else np.abs(arr - target)
    return values[int(np.argmin(dist))]


@dataclass(frozen=True)
class LogSlider(Param):
    """A positive parameter on a log scale, e.g. a noise level :math:`\\delta \\in [10^{-6}, 10^{-1}]`.

    ``step`` is the live slider's step in decades; ``static`` the number of
    static-slider values (geometrically spaced) or the values themselves.
    """

    lo: float = 1e-3
    hi: float = 1.0
    initial: float | None = field(default=None, kw_only=True)
    step: float = field(default=0.05, kw_only=True)
    static: int | Sequence[float] = field(default=9, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        lo = check_real(self.lo, "lo", positive=True)
        hi = check_real(self.hi, "hi", positive=True)
        if not lo < hi:
            raise ValueError(f"lo must be below hi for {self.name}, got {lo} and {hi}")
        initial = math.sqrt(lo * hi) if self.initial is None else check_real(self.initial, "initial", positive=True)
        if not lo <= initial <= hi:
            raise ValueError(f"initial of {self.name} must lie in [{lo}, {hi}], got {initial}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "initial", initial)
        object.__setattr__(self, "step", check_real(self.step, "step", positive=True))
        object.__setattr__(self, "static", _static_grid(self.static, lo, hi, True, self.name))

    def static_values(self):
        return self.static

    def random_value(self, rng):
        return float(10 ** rng.uniform(math.log10(self.lo), math.log10(self.hi)))

    def describe(self):
        return f"{self.label} from {_fmt(self.lo)} to {_fmt(self.hi)} (log scale)"

    def format(self, value):
        return f"{float(value):.2g}"

    def widget(self):
        import ipywidgets as widgets

        return widgets.FloatLogSlider(
            value=self.initial, base=10, min=math.log10(self.lo), max=math.log10(self.hi), step=self.step,
            description=self.label, readout_format=".2e", continuous_update=True,
            style={"description_width": "initial"},
        )


@dataclass(frozen=True)
class Slider(Param):
    """A real parameter on a linear scale, e.g. a smoothness :math:`b \\in [1.25, 4]`."""

    lo: float = 0.0
    hi: float = 1.0
    initial: float | None = field(default=None, kw_only=True)
    step: float | None = field(default=None, kw_only=True)
    static: int | Sequence[float] = field(default=7, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        lo, hi = check_real(self.lo, "lo"), check_real(self.hi, "hi")
        if not lo < hi:
            raise ValueError(f"lo must be below hi for {self.name}, got {lo} and {hi}")
        initial = 0.5 * (lo + hi) if self.initial is None else check_real(self.initial, "initial")
        if not lo <= initial <= hi:
            raise ValueError(f"initial of {self.name} must lie in [{lo}, {hi}], got {initial}")
        step = (hi - lo) / 100 if self.step is None else check_real(self.step, "step", positive=True)
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "initial", initial)
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "static", _static_grid(self.static, lo, hi, False, self.name))

    def static_values(self):
        return self.static

    def random_value(self, rng):
        return float(rng.uniform(self.lo, self.hi))

    def describe(self):
        return f"{self.label} from {_fmt(self.lo)} to {_fmt(self.hi)}"

    def widget(self):
        import ipywidgets as widgets

        return widgets.FloatSlider(
            value=self.initial, min=self.lo, max=self.hi, step=self.step, description=self.label,
            continuous_update=True, style={"description_width": "initial"},
        )


@dataclass(frozen=True)
class Choice(Param):
    """One of a few options (e.g. the operator); every option is in the static slider."""

    options: tuple = ()
    initial: object = field(default=None, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.options, (str, bytes)) or not isinstance(self.options, Sequence) or not self.options:
            raise ValueError(f"options of {self.name} must be a non-empty sequence")
        options = tuple(self.options)
        initial = options[0] if self.initial is None else self.initial
        if initial not in options:
            raise ValueError(f"initial of {self.name} must be one of {list(options)}, got {initial!r}")
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "initial", initial)

    def static_values(self):
        return self.options

    def random_value(self, rng):
        return self.options[int(rng.integers(len(self.options)))]

    def describe(self):
        return f"{self.label} ({', '.join(map(_fmt, self.options))})"

    def widget(self):
        import ipywidgets as widgets

        return widgets.Dropdown(options=list(self.options), value=self.initial, description=self.label)


@dataclass(frozen=True)
class Grid(Param):
    """Values precomputed on a grid (a computation too slow for a live update, such as training).

    The live panel offers the grid values only, and says so.
    """

    values: tuple = ()
    initial: object = field(default=None, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, (Sequence, np.ndarray)) or len(self.values) < 1:
            raise ValueError(f"values of {self.name} must be a non-empty sequence")
        values = tuple(v.item() if isinstance(v, np.generic) else v for v in self.values)
        initial = values[0] if self.initial is None else self.initial
        if initial not in values:
            raise ValueError(f"initial of {self.name} must be one of {list(values)}, got {initial!r}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "initial", initial)

    def static_values(self):
        return self.values

    def random_value(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    def describe(self):
        return f"{self.label} ({len(self.values)} precomputed values from {_fmt(self.values[0])} to {_fmt(self.values[-1])})"

    def widget(self):
        import ipywidgets as widgets

        return widgets.SelectionSlider(
            options=[(_fmt(v), v) for v in self.values], value=self.initial, description=self.label,
            continuous_update=True, style={"description_width": "initial"},
        )


# ---------------------------------------------------------------------------
# The figure: drawn once, updated in place
# ---------------------------------------------------------------------------


class PanelFigure:
    """Base class of a panel's figure.

    Subclasses set :attr:`figsize` (and optionally :attr:`structural`) and
    implement:

    ``draw(self, fig, **structural_values)``
        Build the axes and everything that does not change with the
        non-structural parameters; create the artists that do change and
        register them with :meth:`animate`. Axis limits must be fixed here
        (they cannot follow the data of a blitted artist).
    ``update(self, **values)``
        Move the data of the dynamic artists (``set_data``, ``set_ydata``, ...)
        for the given values of the non-structural parameters. Nothing is drawn
        here.
    ``caption(self, **values) -> str`` (optional)
        Numbers that change with the parameters, shown as text under the image
        (and in the static slider's label), called after :meth:`update`.
        Text drawn into the figure costs milliseconds of glyph rendering on
        every update; a caption costs nothing.
    """

    figsize: tuple[float, float] = (9.0, 3.4)
    dpi: int = 100
    #: parameters that change the axes; a figure is kept per combination of their values
    structural: tuple[str, ...] = ()

    def __init__(self):
        self.dynamic: list = []

    def animate(self, artist):
        """Register ``artist`` as dynamic: drawn on every update, not part of the background."""
        artist.set_animated(True)
        self.dynamic.append(artist)
        return artist

    def draw(self, fig, **structural_values) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, **values) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def caption(self, **values) -> str:
        """Text under the image for the values of the last update (none by default)."""
        return ""


class _Renderer:
    """One figure of a panel (for one combination of structural values), with its background."""

    def __init__(self, figure: PanelFigure, structural_values: dict):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = figure
        self.fig = Figure(figsize=figure.figsize, dpi=figure.dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        figure.draw(self.fig, **structural_values)
        if not figure.dynamic:
            raise ValueError(f"{type(figure).__name__}.draw must register at least one dynamic artist with animate()")
        self.canvas.draw()  # lays out the figure; animated artists are skipped
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.fig.set_layout_engine("none")  # the layout is fixed from now on

    def rgba(self, values: dict, *, layer: bool = False) -> np.ndarray:
        """The figure for ``values`` as an RGBA array; ``layer=True`` gives the dynamic artists alone."""
        self.figure.update(**values)
        if layer:
            self.canvas.get_renderer().clear()
        else:
            self.canvas.restore_region(self.background)
        for artist in self.figure.dynamic:
            self.fig.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba()).copy()

    def background_rgba(self) -> np.ndarray:
        self.canvas.restore_region(self.background)
        return np.asarray(self.canvas.buffer_rgba()).copy()


def _png(rgba: np.ndarray, *, fast: bool, keep_alpha: bool = False) -> bytes:
    from PIL import Image

    img = Image.fromarray(rgba, "RGBA")
    if not keep_alpha:
        img = img.convert("RGB")
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1 if fast else 9)
    return out.getvalue()


@dataclass
class Panel:
    """A figure with parameters, shown live in a kernel and as a static slider in the book.

    Parameters
    ----------
    figure : callable
        A :class:`PanelFigure` subclass (or any callable returning a new
        instance).
    params : sequence of Param
        The parameters, in the order of the controls.
    static : sequence of str, optional
        Names of the parameters the static slider varies (default: all); the
        others stay at their initial value there.
    alt : str
        Alternative text of the image (what the figure shows).
    note : str
        An optional sentence shown under the live panel (for example what is
        precomputed).
    """

    figure: Callable[[], PanelFigure]
    params: Sequence[Param]
    static: Sequence[str] | None = None
    alt: str = ""
    note: str = ""
    _renderers: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        if not callable(self.figure):
            raise ValueError(f"figure must be a PanelFigure subclass or a callable returning one, got {self.figure!r}")
        if isinstance(self.params, Param) or not isinstance(self.params, Sequence) or not self.params:
            raise ValueError("params must be a non-empty sequence of Param objects")
        for p in self.params:
            if not isinstance(p, Param):
                raise ValueError(f"params must hold Param objects, got {type(p).__name__}")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"parameter names must be unique, got {names}")
        self.params = tuple(self.params)
        static = names if self.static is None else list(self.static)
        unknown = sorted(set(static) - set(names))
        if unknown or not static:
            raise ValueError(f"static must name parameters among {names}, got {static}")
        self.static = tuple(static)
        for attr in ("alt", "note"):
            if not isinstance(getattr(self, attr), str):
                raise ValueError(f"{attr} must be a string")
        self._structural = tuple(getattr(self.figure, "structural", ()))
        missing = sorted(set(self._structural) - set(names))
        if missing:
            raise ValueError(f"the figure's structural parameters {missing} are not parameters of the panel")

    # -- values ---------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names."""
        return tuple(p.name for p in self.params)

    def initial(self) -> dict:
        """The initial value of every parameter."""
        return {p.name: p.initial for p in self.params}

    def _values(self, values: dict) -> dict:
        unknown = sorted(set(values) - set(self.names))
        if unknown:
            raise ValueError(f"unknown panel parameters {unknown}; the panel has {list(self.names)}")
        return {**self.initial(), **values}

    def _renderer(self, values: dict) -> _Renderer:
        key = tuple(values[name] for name in self._structural)
        if key not in self._renderers:
            self._renderers[key] = _Renderer(self.figure(), {n: values[n] for n in self._structural})
        return self._renderers[key]

    def _dynamic_values(self, values: dict) -> dict:
        return {k: v for k, v in values.items() if k not in self._structural}

    # -- rendering -------------------------------------------------------------
    def render(self, **values) -> bytes:
        """The figure for ``values`` (missing ones at their initial value) as PNG bytes, quickly."""
        return self.render_with_caption(**values)[0]

    def render_with_caption(self, **values) -> tuple[bytes, str]:
        """The PNG for ``values`` and the figure's caption for them."""
        values = self._values(values)
        renderer = self._renderer(values)
        dynamic = self._dynamic_values(values)
        png = _png(renderer.rgba(dynamic), fast=True)
        return png, renderer.figure.caption(**dynamic)

    def static_slider(self, *, colors: int = 64) -> StaticSlider:
        """The static slider: a background drawn once, and a transparent layer per grid point."""
        base = self.initial()
        grid = {p.name: p.static_values() for p in self.params if p.name in self.static}
        initial = {}
        for p in self.params:
            if p.name in grid:
                vals = grid[p.name]
                initial[p.name] = p.initial if p.initial in vals else (
                    _nearest(vals, p.initial, isinstance(p, LogSlider)) if isinstance(p, (LogSlider, Slider)) else vals[0])
        structural_varies = any(name in grid and len(grid[name]) > 1 for name in self._structural)
        background = None
        if not structural_varies:
            background = _png(self._renderer(base).background_rgba(), fast=False)

        def frame(**point):
            values = {**base, **point}
            renderer = self._renderer(values)
            dynamic = self._dynamic_values(values)
            rgba = renderer.rgba(dynamic, layer=background is not None)
            return _png(rgba, fast=False, keep_alpha=background is not None), renderer.figure.caption(**dynamic)

        labels = {p.name: p.label for p in self.params if p.name in grid}
        formats = {p.name: p.format for p in self.params if p.name in grid}
        return static_slider(frame, grid, labels=labels, formats=formats, initial=initial, alt=self.alt,
                             colors=colors, background=background)

    # -- the live panel --------------------------------------------------------
    def describe(self) -> str:
        """One line: what the live panel varies and how to run it."""
        ranges = "; ".join(p.describe() for p in self.params)
        return (f"In a running notebook this figure is a live panel: {ranges}. "
                "Run the notebook (make lab, Binder or Colab) to use it.")

    def live(self):
        """The live panel: an ipywidgets box with the controls and the image, updated in place."""
        import ipywidgets as widgets

        controls = {p.name: p.widget() for p in self.params}
        png, text = self.render_with_caption()
        image = widgets.Image(value=png, format="png", layout=widgets.Layout(max_width="100%"))
        caption = widgets.HTML(value=html.escape(text))
        message = widgets.HTML(value=html.escape(self.note))

        def on_change(_change=None):
            try:
                image.value, text = self.render_with_caption(**{name: w.value for name, w in controls.items()})
                caption.value = html.escape(text)
                message.value = html.escape(self.note)
            except Exception as exc:  # show the problem in the panel instead of losing it in a log
                message.value = f'<span style="color:#b2182b">{html.escape(f"{type(exc).__name__}: {exc}")}</span>'

        for w in controls.values():
            w.observe(on_change, names="value")
        box = _live_box(
            [widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")), image, caption,
             message],
            description=self.describe(),
        )
        box.add_class("learnreg-live-panel")
        box.controls, box.image, box.caption = controls, image, caption
        return box

    def show(self) -> None:
        """Display the live panel, or the static slider and one line (when ``LEARNREG_STATIC_PAGES`` is set)."""
        from IPython.display import HTML, display

        if static_pages():
            line = HTML(f'<p class="learnreg-live-panel-note"><em>{html.escape(self.describe())}</em></p>')
            display(self.static_slider(), line)
        else:
            display(self.live())

    def benchmark(self, rng: np.random.Generator, n_updates: int = 40) -> dict:
        """Kernel-side time of live updates (callback plus rendering) at random parameter values.

        Every structural combination is drawn once first (the panel's first
        view); then ``n_updates`` random points of the parameters' ranges are
        rendered. Returns the median and the 90th percentile in milliseconds,
        and the time of the first draw.
        """
        check_rng(rng)
        n_updates = check_int(n_updates, "n_updates", minimum=1, maximum=10_000)
        t0 = time.perf_counter()
        self.render()
        first_ms = 1e3 * (time.perf_counter() - t0)
        by_name = {p.name: p for p in self.params}
        for combo in itertools.product(*(by_name[n].static_values() for n in self._structural)):
            self.render(**dict(zip(self._structural, combo)))
        times = []
        for _ in range(n_updates):
            point = {p.name: p.random_value(rng) for p in self.params}
            t0 = time.perf_counter()
            self.render_with_caption(**point)
            times.append(1e3 * (time.perf_counter() - t0))
        return {"median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90)),
                "first_ms": first_ms, "n_updates": n_updates}


_BOX_CLASS = None


def _live_box(children, description: str):
    """An ipywidgets VBox whose plain-text form is one line saying what the panel shows."""
    global _BOX_CLASS
    if _BOX_CLASS is None:
        import ipywidgets as widgets

        class LivePanelBox(widgets.VBox):
            """The live panel's box (its text form replaces ``VBox(children=...)``)."""

            def __init__(self, children, description: str):
                super().__init__(children)
                self._description = description

            def __repr__(self) -> str:
                return self._description

        _BOX_CLASS = LivePanelBox
    return _BOX_CLASS(children, description)
