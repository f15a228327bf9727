"""learnreg: the helper package of the book *Explainable learning-based
regularization of inverse problems: reproducible figures*.

Modules follow the book's table of contents:

- :mod:`learnreg.operators` — forward operators and their SVDs (chapter 1)
- :mod:`learnreg.data` — seeded synthetic data
- :mod:`learnreg.cache` — the on-disk cache for expensive SVDs
- :mod:`learnreg.fitting` — power-law fits for decay exponents and rates
- :mod:`learnreg.claims` — the claims ledger
- :mod:`learnreg.plotting` — the book's figure style
"""

from .claims import ClaimLedger
from .data import make_rng
from .operators import SVD, LinearOperator, make_operator

__version__ = "0.1.0"
__all__ = ["ClaimLedger", "LinearOperator", "SVD", "make_operator", "make_rng", "__version__"]
