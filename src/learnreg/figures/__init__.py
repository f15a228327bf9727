"""Figures of the book, one module per chapter; each function draws one figure from its results."""
