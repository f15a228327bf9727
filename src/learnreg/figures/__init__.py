r"""The book's figures, one module per chapter, and the registry of labelled figures.

Each figure is a function of an experiment's result object (see
:mod:`learnreg.experiments`); it returns a matplotlib ``Figure`` and draws
nothing else. A labelled figure of the book (``fig-ch3-rate``, ...) is also
*registered* with :func:`register`: the registry holds a recipe that runs the
experiment with the book's parameters and seed and draws the figure, so that
any figure can be reproduced without running a notebook::

    python -m learnreg figure --list
    python -m learnreg figure fig-ch3-rate --format pdf --output rate.pdf

Same seed, same figure.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FigureSpec", "register", "registry", "make_figure", "write_figure", "CHAPTER_MODULES", "FORMATS"]

#: The figure modules, in the book's order (importing them fills the registry).
CHAPTER_MODULES = (
    "operators",
    "learned_spectral",
    "rates",
    "paradigms",
    "adversarial",
    "frames",
    "cnn_regularizers",
    "real_images",
)

#: File formats :func:`write_figure` can write.
FORMATS = ("pdf", "svg", "png")

_LABEL = re.compile(r"fig-ch\d+-[a-z0-9-]+")
_REGISTRY: dict[str, "FigureSpec"] = {}


@dataclass(frozen=True)
class FigureSpec:
    """A labelled figure of the book and the recipe that makes it.

    Attributes
    ----------
    label : str
        The figure's label in the book, e.g. ``"fig-ch3-rate"``.
    chapter : int
        The chapter that shows it.
    caption : str
        What the figure shows.
    recipe : callable
        Runs the experiment with the book's parameters and returns the figure.
    seed : int or None
        The seed of the experiment's generator (None: deterministic).
    """

    label: str
    chapter: int
    caption: str
    recipe: Callable
    seed: int | None

    @property
    def function(self) -> str:
        """Dotted name of the recipe (for the manifest)."""
        return f"{self.recipe.__module__}.{self.recipe.__qualname__}"


def register(label: str, *, chapter: int, caption: str, seed: int | None = None):
    """Decorator: register a zero-argument recipe that returns the figure ``label``."""
    if not isinstance(label, str) or not _LABEL.fullmatch(label):
        raise ValueError(f"label must look like 'fig-ch3-rate', got {label!r}")
    if isinstance(chapter, bool) or not isinstance(chapter, int) or chapter < 1:
        raise ValueError(f"chapter must be a positive integer, got {chapter!r}")
    if not isinstance(caption, str) or not caption.strip():
        raise ValueError("caption must be a non-empty string")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")

    def decorate(recipe: Callable) -> Callable:
        if label in _REGISTRY and _REGISTRY[label].function != f"{recipe.__module__}.{recipe.__qualname__}":
            raise ValueError(f"figure {label!r} is registered twice")
        _REGISTRY[label] = FigureSpec(label, chapter, " ".join(caption.split()), recipe, seed)
        return recipe

    return decorate


def registry() -> dict[str, FigureSpec]:
    """Every registered figure, by label, in the book's order (imports every chapter's figure module)."""
    for name in CHAPTER_MODULES:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].chapter, kv[0])))


def make_figure(label: str):
    """Run the recipe of ``label`` and return its matplotlib figure."""
    specs = registry()
    if label not in specs:
        raise ValueError(f"label must be one of the book's figures ({', '.join(specs)}), got {label!r}")
    return specs[label].recipe()


def write_figure(label: str, path, fmt: str | None = None) -> Path:
    """Make the figure ``label`` and write it to ``path`` (format from ``fmt`` or the suffix)."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    fig = make_figure(label)
    path.parent.mkdir(parents=True, exist_ok=True)
    # fixed metadata: the same figure gives the same file
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}[fmt]
    fig.savefig(path, format=fmt, metadata=metadata)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
