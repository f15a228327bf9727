"""The text progress bar of long training runs (tqdm), shown only where a person watches.

The bar prints elapsed and remaining time, which differ on every run, so it must
never reach a stored output or a built page: it is silent when
``LEARNREG_STATIC_PAGES`` is set (the book build and the tests) and whenever the
process is not interactive (neither a running IPython kernel nor a terminal).
"""

from __future__ import annotations

import os
import sys

__all__ = ["progress_bar", "interactive"]


def interactive() -> bool:
    """Whether a progress bar may be shown: not a static-page build, and a kernel or a terminal."""
    if os.environ.get("LEARNREG_STATIC_PAGES"):
        return False
    try:
        from IPython import get_ipython

        if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
            return True
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks only
        pass
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress_bar(total: int, desc: str):
    """A text progress bar (disabled, so it prints nothing, when :func:`interactive` is false)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        mininterval=1.0,
        disable=not interactive(),
        bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]",
    )
