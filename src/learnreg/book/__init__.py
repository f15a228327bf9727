"""The book's machinery, kept apart from the numerics.

- :mod:`learnreg.book.claims` — the claims ledger
- :mod:`learnreg.book.sliders` — static sliders that work without a kernel
- :mod:`learnreg.book.style` — the book's figure style
- :mod:`learnreg.book.notebook_store` — the stored form of a notebook (also git's clean filter)
- :mod:`learnreg.book.repository` — the repository address that launch buttons and Colab cells follow
- :mod:`learnreg.book.execution` — executes the notebooks for ``make book`` (two kernels at a time, no hangs)
- :mod:`learnreg.book.sphinxext`, :mod:`learnreg.book.benchext` — Sphinx extensions (the ledger and
  benchmark pages); only these import Sphinx
"""
