"""The claims ledger: every numerical claim the book makes, with its check.

A notebook opens a ledger for its chapter and records each claim next to the
figure that shows it::

    ledger = ClaimLedger(chapter=1, notebook="01_operators")
    ledger.record("ch1-int-sv", "s_k of integration match 1/((k-1/2)pi)",
                  measured=err, expected=0.0, tolerance=1e-3, kind="abs")

Each record is checked at once and shown in the notebook (PASS or FAIL, with
the numbers); the HTML form of the claim carries the full record, so the book
build (:mod:`learnreg.book.sphinxext`) collects the ledger from the executed pages
themselves, cached or not. Each record is also written to
``<claims dir>/<notebook>.json`` (rewritten atomically after every record, so
a re-executed notebook replaces its old claims); the test suite reads these
files and fails if any claim fails.

The claims folder is ``$LEARNREG_CLAIMS_DIR`` if set; otherwise
``_build/claims`` under the book's root (the nearest parent folder holding
``_config.yml`` and ``_toc.yml``); otherwise ``./learnreg_claims``.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .._io import atomic_open
from .._validate import check_choice, check_int, check_real

__all__ = ["Claim", "ClaimLedger", "claims_dir", "load_claims", "check_claims", "KINDS"]

#: How ``measured`` is compared with ``expected``:
#: ``abs``: |measured - expected| <= tolerance;
#: ``rel``: |measured - expected| <= tolerance * |expected|;
#: ``max``: measured <= expected + tolerance (an upper bound);
#: ``min``: measured >= expected - tolerance (a lower bound).
KINDS = ("abs", "rel", "max", "min")

_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def claims_dir() -> Path:
    """Folder where notebooks write their claims (see the module docstring)."""
    env = os.environ.get("LEARNREG_CLAIMS_DIR")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "_toc.yml").is_file():
            return folder / "_build" / "claims"
    return here / "learnreg_claims"


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return str(value)
    if value == 0:
        return "0"
    a = abs(value)
    if 1e-3 <= a < 1e4:
        return f"{value:.4g}"
    return f"{value:.3e}"


#: How the ledger prints a number (used by the ledger page as well).
format_number = _fmt


@dataclass(frozen=True)
class Claim:
    """One numerical claim and the outcome of its check."""

    id: str
    chapter: int
    notebook: str
    statement: str
    measured: float
    expected: float
    tolerance: float
    kind: str
    passed: bool
    figure: str | None = None

    @property
    def relation(self) -> str:
        """The checked relation, in words."""
        e, t = _fmt(self.expected), _fmt(self.tolerance)
        return {
            "abs": f"|measured − {e}| ≤ {t}",
            "rel": f"|measured − {e}| ≤ {t}·|{e}|",
            "max": f"measured ≤ {t}" if self.expected == 0
            else f"measured ≤ {e}" + (f" + {t}" if self.tolerance else ""),
            "min": f"measured ≥ {e}" + (f" − {t}" if self.tolerance else ""),
        }[self.kind]

    def to_record(self) -> dict:
        """The claim as a JSON-serialisable dict (non-finite numbers as strings).

        Numbers are rounded to 6 significant digits: the record is part of the
        notebook's stored output, and digits beyond that are rounding noise
        that differs between machines. ``passed`` was decided at full precision.
        """
        rec = asdict(self)
        for key in ("measured", "expected", "tolerance"):
            rec[key] = _json_number(float(f"{rec[key]:.6g}")) if math.isfinite(rec[key]) else _json_number(rec[key])
        return rec

    def __repr__(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"[{mark}] {self.id}: {self.statement} — measured {_fmt(self.measured)}; {self.relation}"

    def _repr_html_(self) -> str:
        colour = "#1b7837" if self.passed else "#b2182b"
        mark = "✔ PASS" if self.passed else "✘ FAIL"
        record = html.escape(json.dumps(self.to_record(), ensure_ascii=False), quote=True)
        return (
            f'<div class="learnreg-claim" id="claim-{html.escape(self.id)}" data-claim="{record}" '
            f'style="border-left:4px solid {colour};padding:2px 8px;margin:4px 0">'
            f'<strong style="color:{colour}">{mark}</strong> <code>{html.escape(self.id)}</code>: '
            f"{html.escape(self.statement)}<br><small>measured {html.escape(_fmt(self.measured))}; "
            f"checked: {html.escape(self.relation)}</small></div>"
        )


def _evaluate(measured: float, expected: float, tolerance: float, kind: str) -> bool:
    if not math.isfinite(measured):
        return False
    if kind == "abs":
        return abs(measured - expected) <= tolerance
    if kind == "rel":
        return abs(measured - expected) <= tolerance * abs(expected)
    if kind == "max":
        return measured <= expected + tolerance
    return measured >= expected - tolerance


class ClaimLedger:
    """Records the claims of one notebook.

    Parameters
    ----------
    chapter : int
        Book chapter number.
    notebook : str
        Notebook name without extension (e.g. ``"01_operators"``); names the
        claims file and the page the ledger links to.
    directory : path, optional
        Where to write; defaults to :func:`claims_dir`.
    """

    def __init__(self, chapter: int, notebook: str, directory: str | os.PathLike | None = None):
        self.chapter = check_int(chapter, "chapter", minimum=0)
        if not isinstance(notebook, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", notebook):
            raise ValueError(f"notebook must be a file stem like '01_operators', got {notebook!r}")
        self.notebook = notebook
        self.directory = Path(directory) if directory is not None else claims_dir()
        self._claims: dict[str, Claim] = {}
        self._write()

    @property
    def path(self) -> Path:
        """The JSON file this ledger writes."""
        return self.directory / f"{self.notebook}.json"

    @property
    def claims(self) -> list[Claim]:
        """Claims recorded so far, in order."""
        return list(self._claims.values())

    def record(
        self,
        id: str,
        statement: str,
        measured: float,
        expected: float,
        tolerance: float = 0.0,
        *,
        kind: str = "abs",
        figure: str | None = None,
    ) -> Claim:
        """Check a claim, store it and return it (it displays as PASS/FAIL).

        Parameters
        ----------
        id : str
            Unique, lower-case identifier such as ``"ch3-rate-a1-b2"``.
        statement : str
            The claim in words, as the reader should understand it.
        measured : float
            The measured value. NaN or inf make the claim fail.
        expected : float
            The value predicted by theory (or the bound).
        tolerance : float
            Non-negative tolerance; see :data:`KINDS` for how it is used.
        kind : {'abs', 'rel', 'max', 'min'}
        figure : str, optional
            Anchor of the figure that shows the claim.
        """
        if not isinstance(id, str) or not _ID_PATTERN.match(id):
            raise ValueError(f"id must be lower-case letters, digits, '-', '_' or '.', got {id!r}")
        if not isinstance(statement, str) or not statement.strip():
            raise ValueError("statement must be a non-empty string")
        check_choice(kind, "kind", KINDS)
        try:
            measured = float(measured)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"measured must be a real number, got {type(measured).__name__}") from exc
        expected = check_real(expected, "expected")
        tolerance = check_real(tolerance, "tolerance", nonnegative=True)
        claim = Claim(
            id=id,
            chapter=self.chapter,
            notebook=self.notebook,
            statement=statement.strip(),
            measured=measured,
            expected=expected,
            tolerance=tolerance,
            kind=kind,
            passed=_evaluate(measured, expected, tolerance, kind),
            figure=figure,
        )
        self._claims[id] = claim
        self._write()
        return claim

    def summary(self) -> str:
        """One line: how many claims passed."""
        n = len(self._claims)
        ok = sum(c.passed for c in self._claims.values())
        return f"{ok} of {n} claims of chapter {self.chapter} pass"

    def _write(self) -> None:
        records = [c.to_record() for c in self._claims.values()]
        with atomic_open(self.path, "w", encoding="utf-8") as fh:
            json.dump(records, fh, indent=1, ensure_ascii=False)


def _json_number(x: float):
    return x if math.isfinite(x) else str(x)


def load_claims(directory: str | os.PathLike) -> list[dict]:
    """Read every ``*.json`` claims file in ``directory``, sorted by chapter and order."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"directory {directory} does not exist")
    records = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"claims file {path.name} is not valid JSON: {exc}") from exc
        if not isinstance(data, list):
            raise ValueError(f"claims file {path.name} must hold a JSON list")
        records.extend(data)
    ids = [r["id"] for r in records]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"claim ids are not unique: {', '.join(dupes)}")
    order = {id_: i for i, id_ in enumerate(ids)}
    return sorted(records, key=lambda r: (r["chapter"], r["notebook"], order[r["id"]]))


def check_claims(records: list[dict]) -> list[dict]:
    """Return the failed claims among ``records``."""
    return [r for r in records if not r.get("passed", False)]
