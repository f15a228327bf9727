"""The machine-noise guard (``tests/noise_guard.py``) catches rounding noise in stored outputs.

A tiny notebook gets two cells: one prints a rounding-level number (the LAPACK
error of an SVD in units of n*eps, as chapter 1 once did), the other prints the
verdict of the same check against its bound. Its outputs are stored natively,
as ``scripts/execute_notebook.py`` stores them. nbval then re-runs it twice:
without the guard both cells pass (the stored outputs are right for this
machine), under the guard the first cell fails and the second passes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import noise_guard

ROOT = Path(__file__).resolve().parents[1]

SETUP = """import numpy as np
n = 256
eps = np.finfo(float).eps
A = np.tril(np.ones((n, n))) / n                  # the integration matrix h*tril(ones)
k = np.arange(1, n + 1)
exact = np.sort(1 / (2 * n * np.sin((2 * k - 1) * np.pi / (4 * n + 2))))[::-1]
s = np.linalg.svd(A, compute_uv=False)           # LAPACK
err = np.abs(s - exact).max() / s[0]"""
NOISY = 'print(f"closed form vs LAPACK: {err / (n * eps):.3f} n*eps")'
CLEAN = 'print(f"closed form vs LAPACK within the backward-error bound n*eps*s_1: {err <= n * eps}")'


def test_the_guard_changes_the_code_path_of_openblas_and_numpy():
    env = noise_guard.perturbation({"openblas_core": "SkylakeX", "numpy_dispatch": ["X86_V3", "X86_V4"],
                                    "features": ["AVX2", "FMA3", "AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ"]})
    assert env == {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4",
                   "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert noise_guard.perturbation({"openblas_core": "Haswell", "features": ["AVX2", "FMA3"]})[
        "OPENBLAS_CORETYPE"] == "Sandybridge"
    assert noise_guard.perturbation({"openblas_core": "NeoverseN1"}) == {"OPENBLAS_CORETYPE": "ARMV8"}
    assert noise_guard.perturbation({"openblas_core": "armv8"}) == {}      # nothing older to fall back to
    assert noise_guard.perturbation({"openblas_core": None}) == {}         # no OpenBLAS (e.g. Accelerate)


def _native_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in noise_guard.VARIABLES}
    env.pop("PYTEST_CURRENT_TEST", None)
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def _nbval(path: Path, envs: list[dict]) -> list[dict[int, str]]:
    """Run nbval as `make test` does on ``path``, once per environment, all at once.

    Returns {code cell index: PASSED/FAILED} per environment.
    """
    procs = [subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "--nbval", "--nbval-sanitize-with",
         str(ROOT / "tests" / "nbval_sanitize.cfg"), "--rootdir", str(path.parent), str(path)],
        cwd=path.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for env in envs]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        outcome = {int(m.group(1)): m.group(2) for m in re.finditer(r"::Cell (\d+) (PASSED|FAILED)", out)}
        assert outcome, out[-3000:] + err[-3000:]
        outcomes.append(outcome)
    return outcomes


def test_a_stored_rounding_level_number_fails_under_the_guard_and_a_verdict_passes(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    guard = noise_guard.perturbation(noise_guard.native())
    if "OPENBLAS_CORETYPE" not in guard:
        pytest.skip("no other OpenBLAS core type to run on this machine, so LAPACK's rounding cannot be changed")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (SETUP, NOISY, CLEAN)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "noise.ipynb"
    nbformat.write(nb, path)
    # store the outputs natively, as a chapter author does
    subprocess.run([sys.executable, str(ROOT / "scripts" / "execute_notebook.py"), str(path)],
                   env=_native_env(), check=True, capture_output=True, timeout=600)
    stored = nbformat.read(path, as_version=4)
    assert "n*eps" in stored.cells[1].outputs[0]["text"] and "True" in stored.cells[2].outputs[0]["text"]

    native, guarded = _nbval(path, [_native_env(), {**_native_env(), **guard}])
    assert native == {0: "PASSED", 1: "PASSED", 2: "PASSED"}, "the stored outputs are not reproducible natively"
    assert guarded == {0: "PASSED", 1: "FAILED", 2: "PASSED"}
