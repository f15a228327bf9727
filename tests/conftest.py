"""Test configuration.

* Figures are drawn off-screen (in this process only; notebook kernels keep
  their inline backend).
* test_properties counts the cases each input-policy strategy generated;
  they are printed at the end of the run.
* Claims recorded while nbval re-executes the notebooks go to a temporary
  folder; when the session ends, any failed claim fails the test run.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import matplotlib

# Unit tests draw off-screen. Set the backend in this process only: the
# kernels that nbval starts inherit os.environ, and with MPLBACKEND=Agg their
# plt.show() would emit no figure output at all.
matplotlib.use("Agg")
os.environ.pop("MPLBACKEND", None)
_CLAIMS = Path(tempfile.mkdtemp(prefix="learnreg-claims-"))
os.environ["LEARNREG_CLAIMS_DIR"] = str(_CLAIMS)

ROOT = Path(__file__).resolve().parents[1]


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


def pytest_terminal_summary(terminalreporter):
    """Print how many cases each input-policy strategy of test_properties generated."""
    counts = getattr(sys.modules.get("test_properties"), "COUNTS", None)
    if counts:
        terminalreporter.write_sep("-", "input policy: generated cases per strategy")
        for name, count in sorted(counts.items()):
            terminalreporter.write_line(f"{name:>20}: {count}")
        terminalreporter.write_line(f"{'total':>20}: {sum(counts.values())}")
