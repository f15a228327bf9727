"""The SVD cache: keyed by every parameter, atomic, verified, and safe when unwritable."""

from __future__ import annotations

import os
import threading
import warnings

import numpy as np
import pytest

from learnreg.cache import CacheWarning, cache_path, cached_arrays
from learnreg.operators import Radon


def _compute_counter():
    calls = []

    def compute():
        calls.append(1)
        return {"a": np.arange(6.0).reshape(2, 3), "b": np.array([1.5])}

    return compute, calls


def test_second_call_reads_the_cache(tmp_path):
    compute, calls = _compute_counter()
    key = {"name": "t", "n": 3}
    first = cached_arrays(key, compute, directory=tmp_path)
    second = cached_arrays(key, compute, directory=tmp_path)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["a"], second["a"])


def test_parameter_change_never_reuses_an_entry(tmp_path):
    compute, calls = _compute_counter()
    cached_arrays({"name": "t", "n": 3}, compute, directory=tmp_path)
    cached_arrays({"name": "t", "n": 4}, compute, directory=tmp_path)
    cached_arrays({"name": "t", "n": 3, "sigma": 0.1}, compute, directory=tmp_path)
    assert len(calls) == 3
    assert len(list(tmp_path.glob("*.npz"))) == 3


def test_entry_of_other_parameters_under_the_same_name_is_rejected(tmp_path):
    """Even if a file is renamed onto another key's path, the stored key is compared."""
    compute, calls = _compute_counter()
    cached_arrays({"name": "t", "n": 3}, compute, directory=tmp_path)
    os.replace(cache_path({"name": "t", "n": 3}, tmp_path), cache_path({"name": "t", "n": 5}, tmp_path))
    with pytest.warns(CacheWarning, match="other parameters"):
        cached_arrays({"name": "t", "n": 5}, compute, directory=tmp_path)
    assert len(calls) == 2


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_corrupt_file_is_detected_and_recomputed(tmp_path, damage):
    compute, calls = _compute_counter()
    key = {"name": "t", "n": 3}
    cached_arrays(key, compute, directory=tmp_path)
    path = cache_path(key, tmp_path)
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(bytes(raw[: len(raw) // 2]))
    elif damage == "garbage":
        path.write_bytes(b"not a cache file")
    else:  # tamper with the stored array data; the zip container stays valid
        with np.load(path) as data:
            meta = data["__meta__"]
            a = data["a"].copy()
            b = data["b"]
        a[0, 0] = 99.0
        np.savez(path, __meta__=meta, a=a, b=b)
    with pytest.warns(CacheWarning):
        out = cached_arrays(key, compute, directory=tmp_path)
    assert len(calls) == 2
    np.testing.assert_array_equal(out["a"], np.arange(6.0).reshape(2, 3))
    # and the entry was repaired
    cached_arrays(key, compute, directory=tmp_path)
    assert len(calls) == 2


def test_unwritable_location_falls_back_to_memory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root); see the monkeypatched test")
        compute, calls = _compute_counter()
        with pytest.warns(CacheWarning, match="cannot write"):
            out = cached_arrays({"name": "t", "n": 1}, compute, directory=ro)
        assert out["b"][0] == 1.5
    finally:
        ro.chmod(0o700)


def test_write_failure_falls_back_to_memory(tmp_path, monkeypatch):
    import learnreg._io as io_helpers

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(io_helpers.tempfile, "mkstemp", refuse)
    compute, calls = _compute_counter()
    with pytest.warns(CacheWarning, match="cannot write"):
        out = cached_arrays({"name": "t", "n": 1}, compute, directory=tmp_path)
    assert out["b"][0] == 1.5 and not list(tmp_path.glob("*.npz"))


def test_concurrent_writers_leave_a_valid_entry(tmp_path):
    key = {"name": "t", "n": 7}
    results, errors = [], []

    def work():
        try:
            results.append(cached_arrays(key, lambda: {"x": np.arange(100000.0)}, directory=tmp_path))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert not list(tmp_path.glob("*.tmp"))
    out = cached_arrays(key, lambda: pytest.fail("should be cached"), directory=tmp_path)
    np.testing.assert_array_equal(out["x"], np.arange(100000.0))


def test_operator_svd_uses_the_cache_and_recovers_from_corruption(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path))
    s_fresh = Radon(16).svd().s
    (path,) = tmp_path.glob("radon-*.npz")
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.warns(CacheWarning):
        s_again = Radon(16).svd().s
    np.testing.assert_array_equal(s_fresh, s_again)


@pytest.mark.parametrize("key", [{}, {"name": "x", "v": float("nan")}, {"name": "x", "v": object()}, [1, 2]])
def test_bad_keys_raise_value_error(tmp_path, key):
    with pytest.raises(ValueError):
        cached_arrays(key, lambda: {"a": np.zeros(1)}, directory=tmp_path)


@pytest.mark.parametrize(
    "change",
    [
        lambda S: {"s": np.where(np.arange(S.rank) == 3, np.nan, S.s)},  # a NaN singular value
        lambda S: {"s": S.s[::-1].copy()},  # increasing instead of non-increasing
        lambda S: {"s": -S.s},  # negative
        lambda S: {"s": np.where(np.arange(S.rank) == S.rank - 1, 1e-320, S.s)},  # subnormal
        lambda S: {"U": S.U[:, :-1]},  # U one column short
        lambda S: {"V": S.V[:-1]},  # V one row short
        lambda S: {"s": S.s[:-1], "U": S.U[:, :-1]},  # V one column too many
        lambda S: {"U": S.U.astype(np.complex128)},  # complex vectors
    ],
    ids=["nan", "unordered", "negative", "subnormal", "U-width", "V-height", "V-width", "complex"],
)
def test_entry_with_matching_checksums_but_unfit_arrays_is_recomputed(tmp_path, monkeypatch, change):
    """An entry whose metadata carries the right key and checksums is still checked against the operator."""
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path))
    op = Radon(6)
    good = op.svd(method="numerical", cache=False)
    cached_arrays(op.svd_cache_key("numerical"), lambda: {"s": good.s, "U": good.U, "V": good.V, **change(good)},
                  directory=tmp_path)
    with pytest.warns(CacheWarning, match="does not fit"):
        S = Radon(6).svd(method="numerical")
    np.testing.assert_array_equal(S.s, good.s)
    np.testing.assert_array_equal(S.U, good.U)
    # the recomputed entry replaced the forged one: the next load is silent and equal
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        np.testing.assert_array_equal(Radon(6).svd(method="numerical").V, good.V)


def _first_block(arrays):
    return next(k[:-3] for k in arrays if k.endswith("_Wx") and arrays[k].shape[1] > 1)


@pytest.mark.parametrize(
    "change",
    [
        lambda a: {"s": np.where(np.arange(a["s"].size) == 2, np.nan, a["s"])},  # a NaN singular value
        lambda a: {"s": a["s"][::-1].copy()},  # increasing
        lambda a: {"s": np.where(np.arange(a["s"].size) == a["s"].size - 1, 1e-320, a["s"])},  # subnormal
        lambda a: {f"{_first_block(a)}_Wx": a[f"{_first_block(a)}_Wx"][:, :-1]},  # a factor one column short
        lambda a: {f"{_first_block(a)}_Wy": a[f"{_first_block(a)}_Wy"][:-1]},  # a factor one row short
        lambda a: {f"{_first_block(a)}_pos": a[f"{_first_block(a)}_pos"] * 0},  # positions repeated
        lambda a: {f"{_first_block(a)}_pos": a[f"{_first_block(a)}_pos"].astype(float)},  # positions not integers
        lambda a: {f"{_first_block(a)}_Wx": a[f"{_first_block(a)}_Wx"].astype(np.complex128)},  # complex factor
    ],
    ids=["nan", "unordered", "subnormal", "Wx-width", "Wy-height", "positions-repeated", "positions-float", "complex"],
)
def test_block_svd_entry_with_matching_checksums_but_unfit_arrays_is_recomputed(tmp_path, monkeypatch, change):
    """The factored (symmetry-block) SVD entry of the Radon transform is checked against the operator as well."""
    monkeypatch.setenv("LEARNREG_CACHE_DIR", str(tmp_path))
    op = Radon(8)
    good = op.svd(method="symmetry", cache=False)
    arrays = good.to_arrays()
    cached_arrays(op.svd_cache_key("symmetry"), lambda: {**arrays, **change(arrays)}, directory=tmp_path)
    with pytest.warns(CacheWarning, match="does not fit"):
        S = Radon(8).svd(method="symmetry")
    np.testing.assert_array_equal(S.s, good.s)
    np.testing.assert_array_equal(S.U, good.U)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        np.testing.assert_array_equal(Radon(8).svd(method="symmetry").V, good.V)


@pytest.mark.parametrize("directory", ["", "  ", 3, 2.5, b"folder", ["a"]])
def test_directory_must_name_a_folder(tmp_path, directory):
    """An empty string is not the current folder; numbers and bytes are not folders."""
    with pytest.raises(ValueError, match="directory"):
        cached_arrays({"name": "t"}, lambda: {"a": np.zeros(1)}, directory=directory)
    with pytest.raises(ValueError, match="directory"):
        cache_path({"name": "t"}, directory)


@pytest.mark.parametrize("use_cache", ["no", "False", 0, 1, None])
def test_use_cache_is_a_strict_flag(tmp_path, use_cache):
    with pytest.raises(ValueError, match="use_cache"):
        cached_arrays({"name": "t"}, lambda: {"a": np.zeros(1)}, directory=tmp_path, use_cache=use_cache)
