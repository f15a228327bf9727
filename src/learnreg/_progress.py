"""The text progress bar of long training runs (tqdm, with a reproducible final line)."""

from __future__ import annotations

__all__ = ["progress_bar"]


def progress_bar(total: int, desc: str):
    """A text progress bar whose final line is reproducible (fixed width, no rate)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        mininterval=1e9,
        bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]",
    )
