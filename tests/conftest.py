"""Test configuration.

* The machine-noise guard (``tests/noise_guard.py``) is applied before anything
  imports NumPy: this process and every kernel nbval starts compute with other,
  valid code paths of the numerical libraries, so that a stored output carrying
  rounding-level digits fails here. The summary says what it did in one line.
* Figures are drawn off-screen (in this process only; notebook kernels keep
  their inline backend).
* Claims recorded while nbval re-executes the notebooks go to a temporary
  folder; when the session ends, any failed claim fails the test run.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import noise_guard  # noqa: E402

_NUMPY_ALREADY_LOADED = "numpy" in sys.modules
_GUARD = noise_guard.apply()
if _NUMPY_ALREADY_LOADED:
    _GUARD += " (kernels only: NumPy was imported before the guard)"

import matplotlib  # noqa: E402

# Unit tests draw off-screen. Set the backend in this process only: the
# kernels that nbval starts inherit os.environ, and with MPLBACKEND=Agg their
# plt.show() would emit no figure output at all.
matplotlib.use("Agg")
os.environ.pop("MPLBACKEND", None)
# The stored outputs are the static form of the pages (static sliders, glued figures), as the book build
# executes them; nbval's kernels inherit this, so a bare `pytest` compares what `make test` compares.
os.environ["LEARNREG_STATIC_PAGES"] = "1"
_CLAIMS = Path(tempfile.mkdtemp(prefix="learnreg-claims-"))
os.environ["LEARNREG_CLAIMS_DIR"] = str(_CLAIMS)

ROOT = Path(__file__).resolve().parents[1]


def pytest_report_header(config):
    return _GUARD


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(_GUARD)
    # One clear line when the browser tests did not run (CI sets LEARNREG_REQUIRE_BUILD=1: there they fail).
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if r.nodeid.split("::")[0].endswith("test_browser.py")]
    if skipped:
        reasons = "; ".join(sorted({_skip_reason(r) for r in skipped}))
        terminalreporter.write_line(
            f"BROWSER TESTS SKIPPED: {len(skipped)} browser test(s) did not run ({reasons}); "
            "the built pages were not checked in a browser (LEARNREG_REQUIRE_BUILD=1 makes this a failure)",
            yellow=True, bold=True)


def pytest_sessionfinish(session, exitstatus):
    from learnreg.book.claims import check_claims, load_claims

    if not any(_CLAIMS.glob("*.json")):
        return
    records = load_claims(_CLAIMS)
    failed = check_claims(records)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", f"claims ledger: {len(records) - len(failed)} of {len(records)} claims pass")
        for r in failed:
            reporter.write_line(f"FAILED CLAIM {r['id']}: {r['statement']} (measured {r['measured']})")
    if failed and session.exitstatus == 0:
        session.exitstatus = 1
