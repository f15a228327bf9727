"""The book's experiments, one module per chapter.

Each function runs one experiment (a sweep over noise levels, smoothness,
resolutions or seeds) from explicit parameters, whose defaults are the book's
setting, and a generator where it draws random numbers; it returns a small
result object (a frozen dataclass of arrays and fitted numbers) with

* ``table()``: the key numbers as text, rounded so that every machine prints the same;
* ``claims()``: the ledger claims the result supports (:class:`learnreg.book.claims.Check`).

Random draws go through :func:`learnreg.data.substream` of the generator
passed in, keyed by the experiment's name, so a result does not depend on what
ran before it. The figures of these results are in :mod:`learnreg.figures`.
"""
