"""The package imports without the book's toolchain: Sphinx is only in the ``book`` extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

#: Every module a user of the package imports; only learnreg.book.sphinxext and benchext need Sphinx.
MODULES = [
    "learnreg", "learnreg.operators", "learnreg.symmetry", "learnreg.data", "learnreg.images", "learnreg.sweeps",
    "learnreg.fitting", "learnreg.cache", "learnreg.spectral", "learnreg.training", "learnreg.rates",
    "learnreg.paradigms", "learnreg.adversarial", "learnreg.frames", "learnreg.tv", "learnreg.cnn",
    "learnreg.metrics", "learnreg.book.claims", "learnreg.book.panels", "learnreg.book.sliders",
    "learnreg.book.glue", "learnreg.book.style", "learnreg.book.notebook_store", "learnreg.figures",
    *(f"learnreg.experiments.{m}" for m in ("operators", "learned_spectral", "rates", "paradigms", "adversarial",
                                              "frames", "cnn_regularizers", "real_images")),
    *(f"learnreg.figures.{m}" for m in ("operators", "learned_spectral", "rates", "paradigms", "adversarial",
                                          "frames", "cnn_regularizers", "real_images")),
]

BLOCKED = ("sphinx", "docutils", "myst_nb", "myst_parser", "jupyter_book", "sphinx_proof", "sphinxcontrib")

_SCRIPT = textwrap.dedent("""
    import importlib, importlib.abc, sys
    blocked = {blocked!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in blocked:
                raise ImportError(f"{{name}} is not installed (blocked by the test)")
            return None

    sys.meta_path.insert(0, Block())
    for name in {modules!r}:
        importlib.import_module(name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in blocked)
    assert not leaked, leaked
    print("ok", len({modules!r}))
""")


def _run(modules, blocked=BLOCKED):
    script = _SCRIPT.format(blocked=tuple(blocked), modules=list(modules))
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)


def test_the_package_and_every_numerical_module_import_without_sphinx():
    run = _run(MODULES)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == f"ok {len(MODULES)}"


@pytest.mark.parametrize("module", ["learnreg.book.sphinxext", "learnreg.book.benchext"])
def test_the_blocker_works_on_the_sphinx_extensions(module):
    """The Sphinx extensions do need Sphinx: the same check fails on them, so it can fail."""
    run = _run([module])
    assert run.returncode != 0 and "blocked by the test" in run.stderr
