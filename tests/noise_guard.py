"""The machine-noise guard: `make test` runs on this CPU as if it were another one.

A number printed to rounding-level precision differs between processors,
because the numerical libraries choose their kernels per CPU: OpenBLAS (and
with it LAPACK) per core type, NumPy per SIMD extension (its ``exp``, ``log``
and ``power`` differ in the last bit between AVX-512 and plain builds), and
PyTorch and MKL per instruction set. So before the test session imports NumPy,
:func:`apply` sets the environment variables that make each of them take a
different, valid code path on this machine, one generation older:

``OPENBLAS_CORETYPE``
    an older core type than the one OpenBLAS detects (SkylakeX -> Haswell ->
    Sandybridge -> Nehalem; anything else -> Prescott; ARM -> ARMV8);
``NPY_DISABLE_CPU_FEATURES``
    every optional SIMD target NumPy would dispatch to on this CPU;
``ATEN_CPU_CAPABILITY``, ``MKL_ENABLE_INSTRUCTIONS``, ``ONEDNN_MAX_CPU_ISA``
    one instruction set below this CPU's for PyTorch and its MKL and oneDNN.

The test process and every kernel nbval starts inherit them, so nbval compares
the stored outputs (written natively by ``scripts/execute_notebook.py``) with
outputs computed by differently rounding arithmetic: a stored digit at rounding
level no longer matches, on the developer's machine, before it lands. The SVD
cache is a separate folder, ``_build/nbval-svd-cache``, that only guarded runs
fill, so no natively computed SVD hides the perturbation.

``LEARNREG_NOISE_GUARD=0`` turns the guard off (to ask "is this failure noise?").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUARD_CACHE = ROOT / "_build" / "nbval-svd-cache"

#: Every variable the guard may set.
VARIABLES = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS",
             "ONEDNN_MAX_CPU_ISA", "LEARNREG_CACHE_DIR")

#: What this CPU runs natively, printed as JSON by a fresh interpreter (the variables above removed).
_PROBE = r"""
import ctypes, glob, json, os, sys
import numpy
try:
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
except ImportError:  # NumPy 1.x
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
core = None
here = os.path.dirname(numpy.__file__)
for lib in sorted(glob.glob(here + ".libs/*openblas*") + glob.glob(os.path.join(here, ".dylibs", "*openblas*"))):
    try:
        handle = ctypes.CDLL(lib)
    except OSError:
        continue
    for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                 "openblas_get_corename"):
        f = getattr(handle, name, None)
        if f is not None:
            f.restype = ctypes.c_char_p
            core = f().decode()
            break
    if core:
        break
print(json.dumps({"openblas_core": core, "numpy_dispatch": [t for t in __cpu_dispatch__ if __cpu_features__.get(t)],
                  "features": sorted(k for k, v in __cpu_features__.items() if v)}))
"""

_OLDER_CORE = {
    "skylakex": "Haswell", "cooperlake": "Haswell", "sapphirerapids": "Haswell",
    "haswell": "Sandybridge", "zen": "Sandybridge", "excavator": "Sandybridge",
    "sandybridge": "Nehalem", "bulldozer": "Nehalem", "piledriver": "Nehalem", "steamroller": "Nehalem",
    "prescott": "Core2",
}
_ARM_CORES_PREFIX = ("armv8", "cortex", "neoverse", "thunderx", "falkor", "tsv110", "emag", "a64fx", "ampere")


def native() -> dict:
    """What this machine runs without the guard (OpenBLAS core, NumPy's SIMD targets, CPU features)."""
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def perturbation(info: dict) -> dict[str, str]:
    """The environment that makes every library take another valid code path on the machine ``info`` describes."""
    env: dict[str, str] = {}
    core = (info.get("openblas_core") or "").strip()
    if core:
        low = core.lower()
        if low.startswith(_ARM_CORES_PREFIX):
            if low != "armv8":
                env["OPENBLAS_CORETYPE"] = "ARMV8"
        else:
            env["OPENBLAS_CORETYPE"] = _OLDER_CORE.get(low, "Prescott")
    if info.get("numpy_dispatch"):
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(info["numpy_dispatch"])
    features = set(info.get("features", ()))
    if {"AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ"} <= features:
        env.update(ATEN_CPU_CAPABILITY="avx2", MKL_ENABLE_INSTRUCTIONS="AVX2", ONEDNN_MAX_CPU_ISA="AVX2")
    elif {"AVX2", "FMA3"} <= features:
        env.update(ATEN_CPU_CAPABILITY="default", MKL_ENABLE_INSTRUCTIONS="SSE4_2", ONEDNN_MAX_CPU_ISA="SSE41")
    return env


def apply() -> str:
    """Set the guard's variables in ``os.environ`` (unless ``LEARNREG_NOISE_GUARD=0``); return a one-line summary."""
    if os.environ.get("LEARNREG_NOISE_GUARD", "1") == "0":
        return "machine-noise guard OFF (LEARNREG_NOISE_GUARD=0): outputs were computed with this CPU's own kernels"
    try:
        info = native()
    except (OSError, subprocess.CalledProcessError, ValueError) as exc:
        return f"machine-noise guard could not probe this CPU ({exc}); outputs were computed natively"
    env = perturbation(info)
    env["LEARNREG_CACHE_DIR"] = str(GUARD_CACHE)
    os.environ.update(env)
    parts = []
    if "OPENBLAS_CORETYPE" in env:
        parts.append(f"OpenBLAS core {env['OPENBLAS_CORETYPE']} (this CPU: {info['openblas_core']})")
    if "NPY_DISABLE_CPU_FEATURES" in env:
        parts.append(f"NumPy without {env['NPY_DISABLE_CPU_FEATURES']}")
    if "ATEN_CPU_CAPABILITY" in env:
        parts.append(f"PyTorch {env['ATEN_CPU_CAPABILITY']}, MKL {env['MKL_ENABLE_INSTRUCTIONS']}")
    if not parts:
        return "machine-noise guard: no alternative code path found on this CPU; outputs were computed natively"
    return "machine-noise guard: computed with " + "; ".join(parts) + f"; SVD cache {GUARD_CACHE.relative_to(ROOT)}"
