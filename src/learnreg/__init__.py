"""learnreg: the helper package of the book *Explainable learning-based
regularization of inverse problems: reproducible figures*.

The numerical modules follow the book's table of contents:

- :mod:`learnreg.operators` — forward operators and their SVDs (chapter 1)
- :mod:`learnreg.symmetry` — the symmetry of the square, which splits the Radon SVD into blocks
- :mod:`learnreg.data` — seeded synthetic data
- :mod:`learnreg.cache` — the on-disk cache for expensive SVDs
- :mod:`learnreg.fitting` — power-law fits for decay exponents and rates
- :mod:`learnreg.sweeps` — parameter sweeps, serial, on every core or on a Dask cluster
- :mod:`learnreg.spectral`, :mod:`learnreg.training`, :mod:`learnreg.rates` — learned spectral filters
- :mod:`learnreg.paradigms`, :mod:`learnreg.adversarial`, :mod:`learnreg.frames`, :mod:`learnreg.tv`,
  :mod:`learnreg.cnn` (a subpackage: regularizer, solver, bilevel training, structure measures) — the later chapters
- :mod:`learnreg.metrics` — error measures shared by the chapters

Each chapter's experiments (sweeps over noise levels, seeds, methods) are
functions in :mod:`learnreg.experiments`, one module per chapter.

The book's machinery (claims ledger, sliders and panels, figure style, Sphinx
extensions) lives apart, in :mod:`learnreg.book`; importing the numerical
modules never needs Sphinx.
"""

from .data import make_rng
from .operators import SVD, LinearOperator, make_operator

__version__ = "0.1.0"
__all__ = ["LinearOperator", "SVD", "make_operator", "make_rng", "__version__"]
