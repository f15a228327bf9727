"""A small, safe on-disk cache for expensive arrays (SVDs of the larger operators).

Design
------
* **Keyed by every parameter.** The key is a JSON-serialisable dict (operator
  name, resolution, all discretisation parameters, the cache format version).
  Its SHA-256 names the file, and the full key is stored inside the file and
  compared on load, so a parameter change can never reuse a stale entry.
* **Written atomically.** Arrays are written to a temporary file in the cache
  folder and moved into place with :func:`os.replace`, so a reader never sees a
  partial file, and two builds running at once cannot corrupt an entry.
* **Verified on load.** Each array's SHA-256 is stored in the file. A truncated,
  tampered or otherwise unreadable file is detected, reported with a warning and
  recomputed; it is never used.
* **Read-only locations.** If the cache folder cannot be written, the result is
  computed in memory and a warning says so.

The cache folder is ``$LEARNREG_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/learnreg`` or ``~/.cache/learnreg``.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ._io import atomic_open

__all__ = ["CACHE_FORMAT", "CacheWarning", "cache_dir", "cached_arrays", "cache_path"]

#: Bump when the layout of cached entries changes; part of every key.
CACHE_FORMAT = 3  # 2: repeated singular values in a canonical basis; 3: Radon SVDs as symmetry-block factors


class CacheWarning(UserWarning):
    """Emitted when a cache entry is unusable or the cache cannot be written."""


def cache_dir() -> Path:
    """Return the cache folder (not created here)."""
    env = os.environ.get("LEARNREG_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "learnreg"


def _canonical(key: Mapping) -> str:
    if not isinstance(key, Mapping) or not key:
        raise ValueError("key must be a non-empty mapping of parameters")
    try:
        return json.dumps({"cache_format": CACHE_FORMAT, **key}, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"key must be JSON-serialisable with finite numbers: {exc}") from exc


def _digest(arr: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str(arr.dtype).encode())
    h.update(str(arr.shape).encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def cache_path(key: Mapping, directory: Path | str | None = None) -> Path:
    """Return the file that holds the entry for ``key``."""
    canonical = _canonical(key)
    name = str(key.get("name", "entry")).replace(os.sep, "_")
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:24]
    return Path(directory if directory is not None else cache_dir()) / f"{name}-{digest}.npz"


def _load(path: Path, canonical: str) -> dict[str, np.ndarray] | None:
    """Load and verify an entry; return None (with a warning) if it is unusable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            arrays = {k: np.array(data[k]) for k in meta["digests"]}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        warnings.warn(f"cache entry {path.name} is unreadable ({exc!r}); recomputing", CacheWarning)
        return None
    if meta.get("key") != canonical:
        warnings.warn(f"cache entry {path.name} belongs to other parameters; recomputing", CacheWarning)
        return None
    for k, arr in arrays.items():
        if _digest(arr) != meta["digests"][k]:
            warnings.warn(f"cache entry {path.name} failed its checksum; recomputing", CacheWarning)
            return None
    return arrays


def _store(path: Path, canonical: str, arrays: dict[str, np.ndarray]) -> None:
    meta = {"key": canonical, "digests": {k: _digest(v) for k, v in arrays.items()}}
    with atomic_open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array(json.dumps(meta)), **arrays)


def cached_arrays(
    key: Mapping,
    compute: Callable[[], Mapping[str, np.ndarray]],
    *,
    directory: Path | str | None = None,
    use_cache: bool = True,
) -> dict[str, np.ndarray]:
    """Return the arrays for ``key``, from the cache if a valid entry exists.

    Parameters
    ----------
    key : mapping
        Every parameter the result depends on (JSON-serialisable).
    compute : callable
        Called with no arguments when no valid entry exists; returns a mapping
        from names to arrays.
    directory : path, optional
        Cache folder; defaults to :func:`cache_dir`.
    use_cache : bool
        If False, always compute and never touch the disk.
    """
    canonical = _canonical(key)
    if not use_cache:
        return {k: np.asarray(v) for k, v in compute().items()}
    path = cache_path(key, directory)
    if path.exists():
        loaded = _load(path, canonical)
        if loaded is not None:
            return loaded
    arrays = {k: np.asarray(v) for k, v in compute().items()}
    if any(k == "__meta__" for k in arrays):
        raise ValueError("compute() must not return an array named '__meta__'")
    try:
        _store(path, canonical, arrays)
    except OSError as exc:
        warnings.warn(
            f"cannot write the cache at {path.parent} ({exc.strerror or exc}); "
            "the result was computed in memory only",
            CacheWarning,
        )
    return arrays
