"""Sphinx extension that turns the recorded claims into the ledger page.

The claims are read from the executed pages themselves: every claim a notebook
records is displayed as HTML that carries its full record (see
:meth:`learnreg.book.claims.Claim._repr_html_`). When a document is read, its
claims are stored in the build environment; so the ledger always matches what
the chapters show, whether a notebook was just executed or served from the
execution cache.

Directives
----------
``claims-ledger``
    Replaced, once every page has been read, by a table of all claims:
    id, chapter, statement, measured, expected, tolerance, relation,
    pass/fail and a link to the claim in its chapter.
``claims-summary``
    Replaced by one sentence: how many claims there are and how many pass.

At the end of the build the claims are written to ``_build/claims.json`` (next
to the HTML folder). A failed claim, a duplicated claim id, a chapter notebook
without claims, or an empty ledger is reported as a warning, so that a build
with ``-W`` fails.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .claims import format_number

logger = logging.getLogger(__name__)

_DATA = re.compile(r'<div class="learnreg-claim"[^>]*\bdata-claim="([^"]*)"')


class _ledger_placeholder(nodes.General, nodes.Element):
    pass


class _summary_placeholder(nodes.General, nodes.Element):
    pass


def mark_rebuilt_every_time(env, key: str) -> None:
    """Record that the page being read must be rebuilt on every build.

    Pages whose content is computed from the whole book (the ledger) or from a
    file outside the sources (the benchmarks) are never "unchanged" for Sphinx.
    ``key`` names the set of such pages kept in the build environment;
    :func:`connect_rebuilt_every_time` makes Sphinx honour it.
    """
    docs = getattr(env, key, set())
    docs.add(env.docname)
    setattr(env, key, docs)


def connect_rebuilt_every_time(app, key: str) -> None:
    """Mark the pages recorded under ``key`` outdated on every build, and keep the set current."""

    def outdated(app, env, added, changed, removed):
        return sorted(getattr(env, key, set()) - set(removed))

    def purge(app, env, docname):
        getattr(env, key, set()).discard(docname)

    def merge(app, env, docnames, other):
        setattr(env, key, getattr(env, key, set()) | getattr(other, key, set()))

    app.connect("env-get-outdated", outdated)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)


_LEDGER_DOCS = "learnreg_ledger_docs"


class ClaimsLedgerDirective(SphinxDirective):
    has_content = False

    def run(self):
        mark_rebuilt_every_time(self.env, _LEDGER_DOCS)
        return [_ledger_placeholder()]


class ClaimsSummaryDirective(SphinxDirective):
    has_content = False

    def run(self):
        mark_rebuilt_every_time(self.env, _LEDGER_DOCS)
        return [_summary_placeholder()]


def _collect(app, doctree):
    """Store the claims displayed on the page just read."""
    env = app.env
    found = []
    for node in doctree.findall(nodes.raw):
        if "html" not in node.get("format", ""):
            continue
        for payload in _DATA.findall(node.astext()):
            try:
                record = json.loads(html.unescape(payload))
            except json.JSONDecodeError as exc:
                logger.warning(f"claims ledger: unreadable claim in {env.docname}: {exc}", location=node)
                continue
            record["docname"] = env.docname
            found.append(record)
    claims = getattr(env, "learnreg_claims", {})
    if found:
        claims[env.docname] = found
    else:
        claims.pop(env.docname, None)
    env.learnreg_claims = claims


def _records(env) -> list[dict]:
    claims = getattr(env, "learnreg_claims", {})
    records = [r for doc in sorted(claims) for r in claims[doc]]
    return sorted(records, key=lambda r: (r["chapter"], r["docname"]))  # stable: page order kept


def docutils_table(headers, rows, widths, classes=()) -> nodes.table:
    """A docutils table; each cell is a docutils node or a value shown as text.

    ``widths`` are relative column widths; the class ``colwidths-given`` makes
    Sphinx's HTML writer emit them.
    """
    table = nodes.table(classes=[*classes, "colwidths-given"])
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
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            para = nodes.paragraph()
            para += cell if isinstance(cell, nodes.Node) else nodes.Text(str(cell))
            row += nodes.entry("", para)
        tbody += row
    group += tbody
    return table


def _ledger_table(app, fromdocname: str, records: list[dict]) -> nodes.table:
    headers = ["id", "ch.", "statement", "measured", "expected", "tol.", "check", "result", "where"]
    widths = [18, 3, 30, 9, 8, 8, 6, 8, 10]
    rows = []
    for r in records:
        anchor = r.get("figure") or f"claim-{r['id']}"
        uri = app.builder.get_relative_uri(fromdocname, r["docname"]) + "#" + anchor
        measured = r["measured"]
        rows.append([
            nodes.literal(text=r["id"]),
            r["chapter"],
            r["statement"],
            format_number(measured) if isinstance(measured, (int, float)) else measured,
            format_number(r["expected"]),
            format_number(r["tolerance"]),
            r["kind"],
            nodes.strong(text="pass" if r["passed"] else "FAIL"),
            nodes.reference("", "chapter " + str(r["chapter"]), refuri=uri, internal=True),
        ])
    return docutils_table(headers, rows, widths, classes=["learnreg-ledger"])


def _resolve(app, doctree, fromdocname):
    placeholders = list(doctree.findall(_ledger_placeholder)) + list(doctree.findall(_summary_placeholder))
    if not placeholders:
        return
    records = _records(app.env)
    n_pass = sum(bool(r["passed"]) for r in records)
    for node in placeholders:
        if isinstance(node, _ledger_placeholder):
            if records:
                node.replace_self(_ledger_table(app, fromdocname, records))
            else:
                node.replace_self(nodes.paragraph(text="No claims have been recorded yet."))
        else:
            chapters = len({r["chapter"] for r in records})
            text = (
                f"{len(records)} numerical claims from {chapters} chapter{'s' if chapters != 1 else ''} are recorded; "
                f"{n_pass} pass and {len(records) - n_pass} fail."
            )
            node.replace_self(nodes.paragraph(text=text))


def _purge(app, env, docname):
    getattr(env, "learnreg_claims", {}).pop(docname, None)


def _merge(app, env, docnames, other):
    claims = getattr(env, "learnreg_claims", {})
    claims.update({d: c for d, c in getattr(other, "learnreg_claims", {}).items() if d in docnames})
    env.learnreg_claims = claims


def _finish(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    records = _records(app.env)
    out = Path(app.outdir).parent / "claims.json"
    out.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
    if not records:
        logger.warning("claims ledger: no claims were recorded")
    ids = [r["id"] for r in records]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        logger.warning(f"claims ledger: claim id {dup} is used more than once")
    for r in records:
        if not r["passed"]:
            logger.warning(
                f"claims ledger: claim {r['id']} FAILED (measured {r['measured']}, "
                f"expected {r['expected']}, tolerance {r['tolerance']}, {r['kind']})"
            )
    with_claims = set(getattr(app.env, "learnreg_claims", {}))
    for docname in sorted(app.env.found_docs):
        if docname.startswith("notebooks/") and docname not in with_claims:
            logger.warning(f"claims ledger: {docname} shows no claims")


def setup(app):
    app.add_node(_ledger_placeholder)
    app.add_node(_summary_placeholder)
    app.add_directive("claims-ledger", ClaimsLedgerDirective)
    app.add_directive("claims-summary", ClaimsSummaryDirective)
    app.connect("doctree-read", _collect)
    app.connect("doctree-resolved", _resolve)
    connect_rebuilt_every_time(app, _LEDGER_DOCS)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _finish)
    return {"version": "2", "env_version": 2, "parallel_read_safe": True, "parallel_write_safe": True}
