"""Sphinx extension that turns the recorded claims into the ledger page.

The claims are read from the executed pages themselves: every claim a notebook
records is displayed as HTML that carries its full record (see
:meth:`learnreg.book.claims.Claim._repr_html_`). When a document is read, its
claims are stored in the build environment; so the ledger always matches what
the chapters show, whether a notebook was just executed or served from the
execution cache.

Directives (each replaced once every page has been read)
----------------------------------------------------------
``claims-summary``
    One sentence: how many theory claims pass and how many expectations held.
``claims-not-held``
    The expectations that did not hold (and any failed theory claim), each
    with its numbers and a link to the page that explains it.
``claims-counts``
    A table of counts per chapter and type.
``claims-ledger``
    The table of all claims (id linked to the claim in its chapter, chapter,
    type, statement with its math typeset, measured value, the checked
    relation, status), with filters by chapter, type and status that work in
    the static page.

At the end of the build the claims are written to ``_build/claims.json`` (next
to the HTML folder). A failed *theory* claim, a duplicated claim id, a chapter
notebook without claims, or an empty ledger is reported as a warning, so that
a build with ``-W`` fails; an expectation that did not hold is not a warning:
the ledger page lists it.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .claims import MATH, format_number, relation_text

logger = logging.getLogger(__name__)

_DATA = re.compile(r'<div class="learnreg-claim[^"]*"[^>]*\bdata-claim="([^"]*)"')


class _placeholder(nodes.General, nodes.Element):
    """Replaced, once every page has been read, by the part of the ledger named in ``what``."""


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


def _directive(what: str):
    class _LedgerPart(SphinxDirective):
        has_content = False

        def run(self):
            mark_rebuilt_every_time(self.env, _LEDGER_DOCS)
            node = _placeholder(what=what)
            # The statements' math is only known when the placeholder is resolved; a math node in it now
            # makes Sphinx load MathJax on this page (it looks for math when a page is read).
            node += nodes.math(text="")
            return [node]

    _LedgerPart.__name__ = f"Claims{what.title().replace('-', '')}Directive"
    return _LedgerPart


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


def _statement_nodes(statement: str) -> list[nodes.Node]:
    """Text with ``$...$`` as inline math nodes (typeset by MathJax)."""
    out, last = [], 0
    for m in MATH.finditer(statement):
        if m.start() > last:
            out.append(nodes.Text(statement[last:m.start()]))
        out.append(nodes.math(text=m.group(1)))
        last = m.end()
    if last < len(statement):
        out.append(nodes.Text(statement[last:]))
    return out


def _cell(*children, classes=()) -> nodes.paragraph:
    para = nodes.paragraph(classes=list(classes))
    for child in children:
        para += child
    return para


def _link(app, fromdocname: str, r: dict, text: str) -> nodes.reference:
    anchor = f"claim-{r['id']}"
    uri = app.builder.get_relative_uri(fromdocname, r["docname"]) + "#" + anchor
    return nodes.reference("", text, refuri=uri, internal=True)


def _shown_measured(r: dict) -> str:
    if r.get("verdict_only"):
        return "below the bound" if r["passed"] else "above the bound"
    return format_number(r["measured"], 4)


def _ledger_table(app, fromdocname: str, records: list[dict]) -> nodes.table:
    headers = ["id", "ch", "type", "statement", "measured", "check", "status"]
    widths = [15, 3, 9, 40, 9, 17, 7]
    table = nodes.table(classes=["learnreg-ledger", "colwidths-given"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for w in widths:
        group += nodes.colspec(colwidth=w)
    thead = nodes.thead()
    head = nodes.row()
    for h in headers:
        head += nodes.entry("", nodes.paragraph(text=h))
    thead += head
    group += thead
    tbody = nodes.tbody()
    for r in records:
        status = r.get("status") or ("pass" if r["passed"] else "fail")
        row = nodes.row(classes=["ledger-row", f"ledger-ch-{r['chapter']}", f"ledger-type-{r['type']}",
                                 "ledger-status-" + status.replace(" ", "-")])
        cells = [
            _cell(_link(app, fromdocname, r, "") , classes=["ledger-id"]),
            _cell(nodes.Text(str(r["chapter"]))),
            _cell(nodes.Text(r["type"])),
            _cell(*_statement_nodes(r["statement"])),
            _cell(nodes.Text(_shown_measured(r)), classes=["ledger-num"]),
            _cell(nodes.Text(relation_text(r["kind"], r["expected"], r["tolerance"])), classes=["ledger-check"]),
            _cell(nodes.strong(text=status), classes=[f"ledger-{status.replace(' ', '-')}"]),
        ]
        cells[0][0] += nodes.literal(text=r["id"])
        for c in cells:
            row += nodes.entry("", c)
        tbody += row
    group += tbody
    return table


_FILTER_HTML = """<div class="learnreg-ledger-filter" aria-label="filter the ledger">
<label>chapter <select data-filter="ch"><option value="">all</option>%(chapters)s</select></label>
<label>type <select data-filter="type"><option value="">all</option><option value="theory">theory</option><option value="expectation">expectation</option></select></label>
<label>status <select data-filter="status"><option value="">all</option><option value="pass">pass</option><option value="fail">fail</option><option value="held">held</option><option value="not-held">not held</option></select></label>
<output class="learnreg-ledger-count"></output>
</div>
<script>
(function () {
  var box = document.currentScript.previousElementSibling;
  function apply() {
    var want = {};
    box.querySelectorAll("select").forEach(function (s) { want[s.dataset.filter] = s.value; });
    var rows = document.querySelectorAll("table.learnreg-ledger tr.ledger-row"), shown = 0;
    rows.forEach(function (tr) {
      var ok = (!want.ch || tr.classList.contains("ledger-ch-" + want.ch)) &&
               (!want.type || tr.classList.contains("ledger-type-" + want.type)) &&
               (!want.status || tr.classList.contains("ledger-status-" + want.status));
      tr.style.display = ok ? "" : "none";
      if (ok) { shown += 1; }
    });
    box.querySelector("output").textContent = shown + " of " + rows.length + " claims shown";
  }
  box.querySelectorAll("select").forEach(function (s) { s.addEventListener("change", apply); });
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", apply); } else { apply(); }
})();
</script>"""


def _filter_node(records: list[dict]) -> nodes.raw:
    chapters = sorted({r["chapter"] for r in records})
    options = "".join(f'<option value="{c}">{c}</option>' for c in chapters)
    return nodes.raw("", _FILTER_HTML % {"chapters": options}, format="html")


def _not_held(app, fromdocname: str, records: list[dict]) -> nodes.Node:
    """The expectations that did not hold (and any failed theory claim), each linked to its page."""
    bad = [r for r in records if not r["passed"]]
    if not bad:
        return nodes.paragraph(text="Every theory claim passes and every expectation held.")
    items = nodes.bullet_list()
    for r in bad:
        kind = "theory claim FAILED" if r["type"] == "theory" else "expectation not held"
        para = nodes.paragraph()
        para += nodes.strong(text=f"{kind}: ")
        para += _link(app, fromdocname, r, "")
        para[-1] += nodes.literal(text=r["id"])
        para += nodes.Text(f" (chapter {r['chapter']}): ")
        para += _statement_nodes(r["statement"])
        para += nodes.Text(f" Measured {_shown_measured(r)}; checked {relation_text(r['kind'], r['expected'], r['tolerance'])}.")
        items += nodes.list_item("", para)
    return items


def _counts(records: list[dict]) -> nodes.table:
    chapters = sorted({r["chapter"] for r in records})
    rows = []
    for ch in chapters + [None]:
        sel = [r for r in records if ch is None or r["chapter"] == ch]
        th = [r for r in sel if r["type"] == "theory"]
        ex = [r for r in sel if r["type"] == "expectation"]
        rows.append([
            "all" if ch is None else ch,
            len(th), sum(r["passed"] for r in th), len(th) - sum(r["passed"] for r in th),
            len(ex), sum(r["passed"] for r in ex), len(ex) - sum(r["passed"] for r in ex),
        ])
    headers = ["chapter", "theory", "pass", "fail", "expectations", "held", "not held"]
    return docutils_table(headers, rows, [10, 10, 10, 10, 14, 10, 10], classes=["learnreg-ledger-counts"])


def _resolve(app, doctree, fromdocname):
    placeholders = [n for n in doctree.findall(_placeholder)]
    if not placeholders:
        return
    records = _records(app.env)
    for node in placeholders:
        what = node["what"]
        if not records:
            node.replace_self(nodes.paragraph(text="No claims have been recorded yet."))
        elif what == "ledger":
            node.replace_self([_filter_node(records), _ledger_table(app, fromdocname, records)])
        elif what == "not-held":
            node.replace_self(_not_held(app, fromdocname, records))
        elif what == "counts":
            node.replace_self(_counts(records))
        else:
            theory = [r for r in records if r["type"] == "theory"]
            expect = [r for r in records if r["type"] == "expectation"]
            chapters = len({r["chapter"] for r in records})
            text = (
                f"{len(records)} numerical claims from {chapters} chapter{'s' if chapters != 1 else ''} are recorded: "
                f"{len(theory)} theory claims, of which {sum(r['passed'] for r in theory)} pass and "
                f"{len(theory) - sum(r['passed'] for r in theory)} fail, and {len(expect)} expectations, of which "
                f"{sum(r['passed'] for r in expect)} held and {len(expect) - sum(r['passed'] for r in expect)} did not."
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
        if r["type"] == "theory" and not r["passed"]:
            logger.warning(
                f"claims ledger: claim {r['id']} FAILED (measured {r['measured']}, "
                f"expected {r['expected']}, tolerance {r['tolerance']}, {r['kind']})"
            )
    with_claims = set(getattr(app.env, "learnreg_claims", {}))
    for docname in sorted(app.env.found_docs):
        if docname.startswith("notebooks/") and docname not in with_claims:
            logger.warning(f"claims ledger: {docname} shows no claims")


def setup(app):
    app.add_node(_placeholder)
    for what in ("ledger", "summary", "not-held", "counts"):
        app.add_directive(f"claims-{what}", _directive(what))
    app.connect("doctree-read", _collect)
    app.connect("doctree-resolved", _resolve)
    connect_rebuilt_every_time(app, _LEDGER_DOCS)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _finish)
    return {"version": "3", "env_version": 3, "parallel_read_safe": True, "parallel_write_safe": True}
