r"""The claims ledger: every numerical claim the book makes, with its check.

A claim compares a measured number with the number a proposition predicts (or
a bound) under a stated tolerance and relation. There are two types:

``theory``
    A prediction of a proposition. It must hold: a failed theory claim fails
    the book build and the test suite.
``expectation``
    A hypothesis stated *before* an experiment (a threshold, a success rate,
    a comparison no proposition settles). It may fail; the ledger then shows it
    as *not held*, next to the page's explanation, and nothing else fails.

Experiments state their claims as :class:`Check` objects (the unevaluated
claim); a notebook records them in its chapter's ledger::

    ledger = ClaimLedger(chapter=3, notebook="03_rates")
    ledger.record_all(result.claims())

Each record is checked at once and shown in the notebook. Its HTML form
carries the full record, so the book build (:mod:`learnreg.book.sphinxext`)
collects the ledger from the executed pages themselves, cached or not. Each
ledger also writes ``<claims dir>/<notebook>.json`` (rewritten atomically after
every record); the test suite reads these files and fails if a theory claim
fails.

Stored outputs must read the same on every machine. A record therefore keeps
``precision`` significant digits of the measured value (6 by default: far
above the rounding noise of the computations it reports), and a claim about a
quantity at rounding level (a dot test, an agreement with LAPACK) is recorded
with ``verdict_only=True``: the page and the record show the bound and the
verdict, not the digits, which differ from one CPU to another.

The claims folder is ``$LEARNREG_CLAIMS_DIR`` if set; otherwise
``_build/claims`` under the book's root (the nearest parent folder holding
``_config.yml`` and ``_toc.yml``); otherwise ``./learnreg_claims``.
"""

from __future__ import annotations

import html
import json
import math
import numbers
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .._io import atomic_open
from .._validate import check_choice, check_int, check_real

__all__ = [
    "Check",
    "Claim",
    "ClaimLedger",
    "ClaimList",
    "claims_dir",
    "load_claims",
    "check_claims",
    "format_number",
    "statement_html",
    "KINDS",
    "TYPES",
]

#: How ``measured`` is compared with ``expected``:
#: ``abs``: |measured - expected| <= tolerance;
#: ``rel``: |measured - expected| <= tolerance * |expected|;
#: ``max``: measured <= expected + tolerance (an upper bound);
#: ``min``: measured >= expected - tolerance (a lower bound).
KINDS = ("abs", "rel", "max", "min")

#: ``theory``: a proposition's prediction (must hold); ``expectation``: a
#: hypothesis stated before an experiment (may fail, and is then shown as not held).
TYPES = ("theory", "expectation")

_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_LABEL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
#: Inline math in a statement: ``$...$``.
MATH = re.compile(r"\$([^$]+)\$")


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


def format_number(value, digits: int = 4) -> str:
    """A number as the ledger shows it: ``digits`` significant digits, e-notation outside [1e-3, 1e4)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.{digits}g}"
    mantissa, exponent = f"{value:.{max(digits - 1, 0)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def statement_html(statement: str) -> str:
    r"""HTML of a statement: text escaped, ``$...$`` turned into MathJax's inline ``\(...\)``."""
    parts, last = [], 0
    for m in MATH.finditer(statement):
        parts.append(html.escape(statement[last:m.start()]))
        parts.append(r"\(" + html.escape(m.group(1), quote=False) + r"\)")
        last = m.end()
    parts.append(html.escape(statement[last:]))
    return "".join(parts)


def _real(value, name: str, *, allow_nonfinite: bool) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ValueError(f"{name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if not allow_nonfinite and not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    return out


@dataclass(frozen=True)
class Check:
    r"""A numerical claim as an experiment states it, before it is recorded.

    Parameters
    ----------
    id : str
        Unique, lower-case identifier such as ``"ch3-rate-a1-b2"``.
    statement : str
        The claim in words, as the reader should understand it; ``$...$`` is
        typeset as math.
    measured : float
        The measured value. NaN or inf make the claim fail.
    expected : float
        What the proposition predicts, the bound, or the stated threshold.
    tolerance : float
        Non-negative; see :data:`KINDS` for how it is used. Choose it from the
        mathematics (sampling error, discretisation error) before looking.
    kind : {'abs', 'rel', 'max', 'min'}
        The relation checked.
    type : {'theory', 'expectation'}
        See the module docstring.
    figure : str, optional
        Label of the figure that shows the claim (e.g. ``"fig-ch3-rate"``).
    verdict_only : bool
        The measured value is at rounding level: record and show only the
        bound and the verdict.
    precision : int
        Significant digits of the measured value kept in the record (1 to 8).
    """

    id: str
    statement: str
    measured: float
    expected: float
    tolerance: float = 0.0
    kind: str = "abs"
    type: str = "theory"
    figure: str | None = None
    verdict_only: bool = False
    precision: int = 6

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID_PATTERN.fullmatch(self.id):
            raise ValueError(f"id must be lower-case letters, digits, '-', '_' or '.', got {self.id!r}")
        if not isinstance(self.statement, str) or not self.statement.strip():
            raise ValueError("statement must be a non-empty string")
        if self.statement.count("$") % 2:
            raise ValueError(f"statement has an unpaired '$' (math is written $...$): {self.statement!r}")
        object.__setattr__(self, "statement", " ".join(self.statement.split()))
        object.__setattr__(self, "measured", _real(self.measured, "measured", allow_nonfinite=True))
        object.__setattr__(self, "expected", _real(self.expected, "expected", allow_nonfinite=False))
        object.__setattr__(self, "tolerance", check_real(self.tolerance, "tolerance", nonnegative=True))
        check_choice(self.kind, "kind", KINDS)
        check_choice(self.type, "type", TYPES)
        if self.figure is not None and (not isinstance(self.figure, str) or not _LABEL_PATTERN.fullmatch(self.figure)):
            raise ValueError(f"figure must be a figure label such as 'fig-ch3-rate' or None, got {self.figure!r}")
        if not isinstance(self.verdict_only, (bool, np.bool_)):
            raise ValueError(f"verdict_only must be True or False, got {type(self.verdict_only).__name__}")
        object.__setattr__(self, "verdict_only", bool(self.verdict_only))
        object.__setattr__(self, "precision", check_int(self.precision, "precision", minimum=1, maximum=8))

    @property
    def passed(self) -> bool:
        """Whether the relation holds (decided at full precision; NaN and inf never hold)."""
        m, e, t = self.measured, self.expected, self.tolerance
        if not math.isfinite(m):
            return False
        if self.kind == "abs":
            return abs(m - e) <= t
        if self.kind == "rel":
            return abs(m - e) <= t * abs(e)
        if self.kind == "max":
            return m <= e + t
        return m >= e - t


def relation_text(kind: str, expected: float, tolerance: float) -> str:
    """The relation a claim checks, in words (e.g. ``|measured − 0.5| ≤ 0.05``)."""
    e, t = format_number(expected, 6), format_number(tolerance, 6)
    return {
        "abs": f"|measured − {e}| ≤ {t}",
        "rel": f"|measured − {e}| ≤ {t}·|{e}|",
        "max": f"measured ≤ {t}" if expected == 0 else f"measured ≤ {e}" + (f" + {t}" if tolerance else ""),
        "min": f"measured ≥ {e}" + (f" − {t}" if tolerance else ""),
    }[kind]


def _status(type_: str, passed: bool) -> tuple[str, str]:
    """(label, colour) of a claim's verdict."""
    if type_ == "theory":
        return ("✔ PASS", "#1b7837") if passed else ("✘ FAIL", "#b2182b")
    return ("✔ HELD", "#2166ac") if passed else ("✘ NOT HELD", "#b35806")


@dataclass(frozen=True)
class Claim:
    """A recorded claim: the :class:`Check`, where it was made, and its verdict."""

    id: str
    chapter: int
    notebook: str
    statement: str
    measured: float
    expected: float
    tolerance: float
    kind: str
    type: str
    passed: bool
    figure: str | None = None
    verdict_only: bool = False
    precision: int = 6

    @property
    def relation(self) -> str:
        """The checked relation, in words."""
        return relation_text(self.kind, self.expected, self.tolerance)

    @property
    def status(self) -> str:
        """``pass``/``fail`` for theory claims, ``held``/``not held`` for expectations."""
        if self.type == "theory":
            return "pass" if self.passed else "fail"
        return "held" if self.passed else "not held"

    @property
    def shown_measured(self) -> str:
        """The measured value as pages show it (the verdict only, at rounding level)."""
        if self.verdict_only:
            return f"below {format_number(self.expected + self.tolerance)}" if self.passed else "above the bound"
        return format_number(self.measured, min(self.precision, 4))

    def to_record(self) -> dict:
        """The claim as a JSON-serialisable dict.

        ``measured`` keeps ``precision`` significant digits (``None`` for a
        verdict-only claim; non-finite values as strings); ``passed`` was
        decided at full precision.
        """
        rec = asdict(self)
        if self.verdict_only:
            rec["measured"] = None
        elif math.isfinite(self.measured):
            rec["measured"] = float(f"{self.measured:.{self.precision}g}")
        else:
            rec["measured"] = str(self.measured)
        for key in ("expected", "tolerance"):
            rec[key] = float(f"{rec[key]:.8g}")
        rec["status"] = self.status
        return rec

    def __repr__(self) -> str:
        label, _ = _status(self.type, self.passed)
        kind = "" if self.type == "theory" else " (expectation)"
        return (f"[{label[2:]}{kind}] {self.id}: {self.statement} — measured {self.shown_measured}; "
                f"checked: {self.relation}")

    def _repr_html_(self) -> str:
        label, colour = _status(self.type, self.passed)
        kind = "" if self.type == "theory" else ' <span style="font-weight:normal">(expectation)</span>'
        record = html.escape(json.dumps(self.to_record(), ensure_ascii=False), quote=True)
        return (
            f'<div class="learnreg-claim mathjax_process" id="claim-{html.escape(self.id)}" data-claim="{record}" '
            f'style="border-left:4px solid {colour};padding:2px 8px;margin:4px 0">'
            f'<strong style="color:{colour}">{label}{kind}</strong> <code>{html.escape(self.id)}</code>: '
            f"{statement_html(self.statement)}<br><small>measured {html.escape(self.shown_measured)}; "
            f"checked: {html.escape(self.relation)}</small></div>"
        )


class ClaimList(list):
    """Claims recorded together; they display as one block of claim boxes."""

    def __repr__(self) -> str:
        return "\n".join(repr(c) for c in self)

    def _repr_html_(self) -> str:
        return "\n".join(c._repr_html_() for c in self)


def _check_directory(directory, name: str = "directory") -> Path:
    if not isinstance(directory, (str, os.PathLike)) or (isinstance(directory, str) and not directory.strip()):
        raise ValueError(f"{name} must be a non-empty path, got {directory!r}")
    return Path(directory)


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

    A claim id may be recorded only once per ledger: recording it again
    raises, so that a failed claim can never be replaced by a passing one
    without a trace. Re-running a notebook from the top creates a new ledger.
    """

    def __init__(self, chapter: int, notebook: str, directory: str | os.PathLike | None = None):
        self.chapter = check_int(chapter, "chapter", minimum=0)
        if not isinstance(notebook, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", notebook) or notebook.strip(".") == "":
            raise ValueError(f"notebook must be a file stem like '01_operators', got {notebook!r}")
        self.notebook = notebook
        self.directory = _check_directory(directory) if directory is not None else claims_dir()
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

    def record(self, *args, **kwargs) -> Claim:
        """Check a claim, store it and return it (it displays as its verdict).

        Pass a :class:`Check`, or the fields of one
        (``record(id, statement, measured, expected, tolerance, kind=..., type=...)``).
        """
        if len(args) == 1 and not kwargs and isinstance(args[0], Check):
            check = args[0]
        else:
            if any(isinstance(a, Check) for a in args):
                raise ValueError("pass either a Check or the fields of one, not both")
            try:
                check = Check(*args, **kwargs)
            except TypeError as exc:
                raise ValueError(f"record takes a Check or the fields of one: {exc}") from exc
        if check.id in self._claims:
            raise ValueError(
                f"claim {check.id!r} is already recorded in this ledger; a claim is recorded once "
                "(re-run the notebook from the top to record it again)"
            )
        claim = Claim(
            id=check.id, chapter=self.chapter, notebook=self.notebook, statement=check.statement,
            measured=check.measured, expected=check.expected, tolerance=check.tolerance, kind=check.kind,
            type=check.type, passed=check.passed, figure=check.figure, verdict_only=check.verdict_only,
            precision=check.precision,
        )
        self._claims[check.id] = claim
        self._write()
        return claim

    def record_all(self, checks: Iterable[Check]) -> ClaimList:
        """Record several checks; returns them as a :class:`ClaimList` (one block of claim boxes)."""
        if isinstance(checks, Check) or not isinstance(checks, Iterable):
            raise ValueError("checks must be an iterable of Check objects")
        checks = list(checks)
        for c in checks:
            if not isinstance(c, Check):
                raise ValueError(f"checks must hold Check objects, got {type(c).__name__}")
        return ClaimList(self.record(c) for c in checks)

    def summary(self) -> str:
        """One line: how many theory claims pass and how many expectations held."""
        theory = [c for c in self._claims.values() if c.type == "theory"]
        expect = [c for c in self._claims.values() if c.type == "expectation"]
        text = f"chapter {self.chapter}: {sum(c.passed for c in theory)} of {len(theory)} theory claims pass"
        if expect:
            text += f"; {sum(c.passed for c in expect)} of {len(expect)} expectations held"
        return text

    def _write(self) -> None:
        records = [c.to_record() for c in self._claims.values()]
        with atomic_open(self.path, "w", encoding="utf-8") as fh:
            json.dump(records, fh, indent=1, ensure_ascii=False)


_RECORD_FIELDS = {"id": str, "chapter": int, "notebook": str, "statement": str, "kind": str, "type": str, "passed": bool}


def _check_record(rec, where: str) -> dict:
    if not isinstance(rec, dict):
        raise ValueError(f"{where}: a claim record must be a JSON object, got {type(rec).__name__}")
    for key, typ in _RECORD_FIELDS.items():
        if key not in rec:
            raise ValueError(f"{where}: claim record {rec.get('id', '?')!r} has no field {key!r}")
        value = rec[key]
        if typ is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{where}: field {key!r} of claim {rec['id']!r} must be an integer, got {value!r}")
        if typ is not int and not isinstance(value, typ):
            raise ValueError(f"{where}: field {key!r} of claim {rec.get('id')!r} must be {typ.__name__}, got {value!r}")
    if not _ID_PATTERN.fullmatch(rec["id"]):
        raise ValueError(f"{where}: claim id {rec['id']!r} is not a valid id")
    if rec["type"] not in TYPES or rec["kind"] not in KINDS:
        raise ValueError(f"{where}: claim {rec['id']!r} has an unknown type or kind")
    return rec


def load_claims(directory: str | os.PathLike) -> list[dict]:
    """Read every ``*.json`` claims file in ``directory``, sorted by chapter and order.

    Raises ValueError for a missing folder, a malformed file or record, or an
    id used twice.
    """
    directory = _check_directory(directory)
    if not directory.is_dir():
        raise ValueError(f"directory {directory} does not exist")
    records = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"claims file {path.name} is not valid JSON: {exc}") from exc
        if not isinstance(data, list):
            raise ValueError(f"claims file {path.name} must hold a JSON list")
        records.extend(_check_record(r, path.name) for r in data)
    ids = [r["id"] for r in records]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"claim ids are not unique: {', '.join(dupes)}")
    order = {id_: i for i, id_ in enumerate(ids)}
    return sorted(records, key=lambda r: (r["chapter"], r["notebook"], order[r["id"]]))


def check_claims(records: list[dict]) -> list[dict]:
    """Return the failed *theory* claims among ``records`` (expectations may fail)."""
    if not isinstance(records, list):
        raise ValueError(f"records must be a list of claim records, got {type(records).__name__}")
    return [r for r in (_check_record(r, "records") for r in records) if r["type"] == "theory" and r["passed"] is not True]
