"""Sphinx extension that turns the recorded claims into the ledger page.

Directives
----------
``claims-ledger``
    Replaced, after every notebook has executed, by a table of all claims:
    id, chapter, statement, measured, expected, tolerance, pass/fail and a
    link to the place in the chapter where the claim is shown.
``claims-summary``
    Replaced by one sentence: how many claims there are and how many pass.

Claims are read from ``$LEARNREG_CLAIMS_DIR`` if set, else from ``claims/``
next to the HTML folder (where notebooks executed inside the book write them).
At the end of the build the claims are written to ``_build/claims.json`` (next
to the HTML folder). A failed claim, a chapter notebook without a claims file,
or an empty ledger is reported as a warning, so that a build with ``-W`` fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .claims import _fmt, load_claims

logger = logging.getLogger(__name__)


class _ledger_placeholder(nodes.General, nodes.Element):
    pass


class _summary_placeholder(nodes.General, nodes.Element):
    pass


def _register(env, docname):
    docs = getattr(env, "learnreg_ledger_docs", set())
    docs.add(docname)
    env.learnreg_ledger_docs = docs


class ClaimsLedgerDirective(SphinxDirective):
    has_content = False

    def run(self):
        _register(self.env, self.env.docname)
        return [_ledger_placeholder()]


class ClaimsSummaryDirective(SphinxDirective):
    has_content = False

    def run(self):
        _register(self.env, self.env.docname)
        return [_summary_placeholder()]


def _claims_folder(app) -> Path:
    env = os.environ.get("LEARNREG_CLAIMS_DIR")
    return Path(env) if env else Path(app.outdir).parent / "claims"


def _records(app) -> list[dict]:
    folder = _claims_folder(app)
    if not folder.is_dir():
        return []
    return load_claims(folder)


def _table(app, fromdocname: str, records: list[dict]) -> nodes.table:
    headers = ["id", "ch.", "statement", "measured", "expected", "tol.", "check", "result", "where"]
    widths = [12, 3, 34, 9, 9, 7, 6, 6, 8]
    table = nodes.table(classes=["learnreg-ledger"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for w in widths:
        group += nodes.colspec(colwidth=w)
    thead = nodes.thead()
    row = nodes.row()
    for h in headers:
        row += nodes.entry("", nodes.paragraph(text=h))
    thead += row
    group += thead
    tbody = nodes.tbody()
    for r in records:
        row = nodes.row()
        docname = f"notebooks/{r['notebook']}"
        anchor = r.get("figure") or f"claim-{r['id']}"
        try:
            uri = app.builder.get_relative_uri(fromdocname, docname) + "#" + anchor
        except Exception:  # pragma: no cover - non-HTML builders
            uri = "#"
        measured = r["measured"]
        cells = [
            nodes.literal(text=r["id"]),
            nodes.Text(str(r["chapter"])),
            nodes.Text(r["statement"]),
            nodes.Text(_fmt(measured) if isinstance(measured, (int, float)) else str(measured)),
            nodes.Text(_fmt(r["expected"])),
            nodes.Text(_fmt(r["tolerance"])),
            nodes.Text(r["kind"]),
            nodes.strong(text="pass" if r["passed"] else "FAIL"),
            nodes.reference("", "chapter " + str(r["chapter"]), refuri=uri, internal=True),
        ]
        for cell in cells:
            para = nodes.paragraph()
            para += cell
            row += nodes.entry("", para)
        tbody += row
    group += tbody
    return table


def _resolve(app, doctree, fromdocname):
    placeholders = list(doctree.findall(_ledger_placeholder)) + list(doctree.findall(_summary_placeholder))
    if not placeholders:
        return
    records = _records(app)
    n_pass = sum(bool(r["passed"]) for r in records)
    for node in placeholders:
        if isinstance(node, _ledger_placeholder):
            if records:
                node.replace_self(_table(app, fromdocname, records))
            else:
                node.replace_self(nodes.paragraph(text="No claims have been recorded yet."))
        else:
            chapters = len({r["chapter"] for r in records})
            text = (
                f"{len(records)} numerical claims from {chapters} chapters are recorded; "
                f"{n_pass} pass and {len(records) - n_pass} fail."
            )
            node.replace_self(nodes.paragraph(text=text))


def _always_outdated(app, env, added, changed, removed):
    return sorted(getattr(env, "learnreg_ledger_docs", set()) - set(removed))


def _purge(app, env, docname):
    docs = getattr(env, "learnreg_ledger_docs", set())
    docs.discard(docname)


def _merge(app, env, docnames, other):
    env.learnreg_ledger_docs = getattr(env, "learnreg_ledger_docs", set()) | getattr(
        other, "learnreg_ledger_docs", set()
    )


def _finish(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    records = _records(app)
    out = Path(app.outdir).parent / "claims.json"
    out.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
    if not records:
        logger.warning("claims ledger: no claims were recorded")
    for r in records:
        if not r["passed"]:
            logger.warning(
                f"claims ledger: claim {r['id']} FAILED (measured {r['measured']}, "
                f"expected {r['expected']}, tolerance {r['tolerance']}, {r['kind']})"
            )
    folder = _claims_folder(app)
    for docname in sorted(app.env.found_docs):
        if docname.startswith("notebooks/") and not (folder / f"{Path(docname).name}.json").is_file():
            logger.warning(f"claims ledger: {docname} recorded no claims file in {folder.name}/")


def setup(app):
    app.add_node(_ledger_placeholder)
    app.add_node(_summary_placeholder)
    app.add_directive("claims-ledger", ClaimsLedgerDirective)
    app.add_directive("claims-summary", ClaimsSummaryDirective)
    app.connect("doctree-resolved", _resolve)
    app.connect("env-get-outdated", _always_outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _finish)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
