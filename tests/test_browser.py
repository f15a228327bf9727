"""The built book in a real browser (headless Chromium, driven by Playwright).

Checks, on the built pages in ``_build/html``:

* the static sliders respond: moving a range input swaps the image for a
  different frame that decodes, and the label shows the new parameter values;
* the math is typeset (every Sphinx math element holds a MathJax ``mjx-container``);
* no page logs a JavaScript error, apart from the harmless ones every
  Jupyter Book 1 page logs (a THEBE_JS_URL redeclaration and a missing favicon);
* the widget manager's MathJax 2 call ``MathJax.Hub.Queue`` typesets under
  MathJax 3 through ``book/assets/widget-mathjax.js`` (and throws without it).

The same check function is run on a page whose slider frames were removed,
and must report the failure, so a broken slider cannot pass unnoticed.

The built-book tests need ``make book`` first. They skip when the book is not
built, or when Chromium or Playwright is missing, unless LEARNREG_REQUIRE_BUILD=1
(as in CI), where that is a failure. Playwright drives Debian's system
Chromium; it never downloads a browser.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("LEARNREG_HTML_DIR", ROOT / "_build" / "html"))  # the built book
CHROMIUM = os.environ.get("LEARNREG_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
REQUIRED = os.environ.get("LEARNREG_REQUIRE_BUILD") == "1"

#: Console errors that every Jupyter Book 1 page logs and that are not ours: a THEBE_JS_URL
#: redeclaration, a missing favicon, and pydata-sphinx-theme's complaint on a first visit (empty
#: stored light/dark mode, which it resets to "auto").
HARMLESS = (
    re.compile(r"THEBE_JS_URL.*already been declared|already been declared.*THEBE_JS_URL"),
    re.compile(r"favicon"),
    re.compile(r"^Got invalid theme mode: \. Resetting to auto\.$"),
)

#: Chapters whose main interactive figure has a static slider.
CHAPTERS_WITH_SLIDERS = (
    "notebooks/01_operators.html",
    "notebooks/02_learned_spectral.html",
    "notebooks/03_rates.html",
    "notebooks/04_paradigms.html",
    "notebooks/05_adversarial.html",
    "notebooks/06_frames.html",
    "notebooks/07_cnn_regularizers.html",
    "notebooks/08_real_images.html",
)


def _skip_or_fail(msg: str):
    if REQUIRED:
        pytest.fail(msg)
    pytest.skip(msg)


@dataclass
class PageReport:
    """What the browser saw on one page."""

    errors: list[str] = field(default_factory=list)
    math_elements: int = 0
    untypeset_math: int = 0
    sliders: int = 0
    slider_problems: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        out = [f"JavaScript error: {e}" for e in self.errors] + list(self.slider_problems)
        if self.untypeset_math:
            out.append(f"{self.untypeset_math} of {self.math_elements} math elements are not typeset")
        return out


def _harmless(text: str, url: str = "") -> bool:
    return any(p.search(text) or p.search(url) for p in HARMLESS)


_MOVE_SLIDERS = """async () => {
  const problems = [];
  const roots = Array.from(document.querySelectorAll("div.learnreg-slider"));
  for (const root of roots) {
    const img = root.querySelector("img.learnreg-slider-frame");
    const label = root.querySelector(".learnreg-slider-label");
    const inputs = Array.from(root.querySelectorAll("input.learnreg-slider-input"));
    if (!img || !label || inputs.length === 0) { problems.push(root.id + ": image, label or range input missing"); continue; }
    for (const input of inputs) {
      const max = parseInt(input.max, 10);
      if (max === 0) { continue; }
      const before = { src: img.src, label: label.textContent, value: input.value };
      input.value = String(parseInt(input.value, 10) === max ? 0 : max);
      let thrown = null;
      try { input.dispatchEvent(new Event("input", { bubbles: true })); } catch (e) { thrown = String(e); }
      try { await img.decode(); } catch (e) { problems.push(root.id + ": the new frame does not decode (" + input.dataset.param + ")"); }
      if (img.src === before.src) { problems.push(root.id + ": moving " + input.dataset.param + " did not change the image"); }
      if (img.naturalWidth === 0) { problems.push(root.id + ": the image is empty after moving " + input.dataset.param); }
      if (label.textContent === before.label) { problems.push(root.id + ": moving " + input.dataset.param + " did not change the label"); }
      input.value = before.value;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }
  return { count: roots.length, problems: problems };
}"""

_MATH = """() => {
  const els = Array.from(document.querySelectorAll("span.math, div.math"));
  return { total: els.length, untypeset: els.filter(e => !e.querySelector("mjx-container")).length };
}"""


def inspect_page(browser, path: Path) -> PageReport:
    """Open ``path`` in ``browser``, move every static slider, and report what went wrong."""
    report = PageReport()
    page = browser.new_page()

    def on_console(msg):
        if msg.type == "error" and not _harmless(msg.text, (msg.location or {}).get("url", "")):
            report.errors.append(msg.text)

    page.on("console", on_console)
    def on_pageerror(exc):
        if _harmless(str(exc)):
            return
        report.errors.append(str(exc))

    page.on("pageerror", on_pageerror)
    page.on("requestfailed", lambda req: None if _harmless(req.url) else report.errors.append(f"failed to load {req.url}"))
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        if page.evaluate("() => !!document.querySelector('span.math, div.math')"):
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
            page.evaluate("() => MathJax.startup.promise")
        math = page.evaluate(_MATH)
        report.math_elements, report.untypeset_math = math["total"], math["untypeset"]
        result = page.evaluate(_MOVE_SLIDERS)
        report.sliders = result["count"]
        report.slider_problems = result["problems"]
    finally:
        page.close()
    return report


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is not installed (it is in the test extra)")
    if not Path(CHROMIUM).is_file():
        _skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--allow-file-access-from-files"],
        )
        yield b
        b.close()


def _built_pages() -> list[Path]:
    if not HTML.is_dir():
        _skip_or_fail("the book has not been built; run `make book` first")
    # the book's pages, not the theme's template fragments under _static
    pages = sorted(p for p in HTML.rglob("*.html")
                   if p.relative_to(HTML).parts[0] not in {"_static", "_sources", "_images"}
                   and p.name not in {"genindex.html", "search.html"}
                   and 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8")[:2000])  # index.html redirects
    assert pages
    return pages


def _slider_page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head><body>{body}</body></html>"


def _strip_frames(text: str) -> str:
    """Remove every frame of every static slider on a page (the JSON frame arrays)."""

    def empty(m):
        return m.group(1) + re.sub(r'"[^"]*"', '""', m.group(2)) + m.group(3)

    out, n = re.subn(r'("frames":\[)(.*?)(\])', empty, text, flags=re.S)
    assert n > 0, "no slider frames found to strip"
    return out


# --- the check itself, on a page made by the package (needs only the browser) ----------------


def _standalone(tmp_path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from learnreg.book.sliders import static_slider

    def plot(a, b):
        fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
        ax.plot([0, 1], [0, a * b])
        ax.set_title(f"a = {a}, b = {b}")
        return fig

    s = static_slider(plot, {"a": [1, 2, 3], "b": [1, 2]})
    path = tmp_path / "slider.html"
    path.write_text(_slider_page(s.html), encoding="utf-8")
    return path


def test_a_package_slider_works_in_the_browser(browser, tmp_path):
    report = inspect_page(browser, _standalone(tmp_path))
    assert report.sliders == 1
    assert not report.problems, report.problems


def test_the_check_fails_when_the_frames_are_removed(browser, tmp_path):
    path = _standalone(tmp_path)
    path.write_text(_strip_frames(path.read_text(encoding="utf-8")), encoding="utf-8")
    report = inspect_page(browser, path)
    assert report.sliders == 1
    assert any("missing" in e for e in report.errors), report.errors
    assert any("did not change the image" in p for p in report.slider_problems), report.slider_problems


# --- the widget manager's MathJax 2 call under MathJax 3 (needs only the browser) ---------------

ASSETS = ROOT / "book" / "assets"

#: What the vendored embed.js does to typeset a widget's output (its function `typeset`).
_WIDGET_TYPESET = """async (id) => {
  const el = document.getElementById(id);
  if (window.MathJax !== undefined) { await MathJax.Hub.Queue(["Typeset", MathJax.Hub, el]); }
  return el.querySelectorAll("mjx-container").length;
}"""


def _mathjax_page(tmp_path: Path, shim: bool) -> Path:
    page = tmp_path / ("with-shim.html" if shim else "without-shim.html")
    shim_tag = f'<script src="{(ASSETS / "widget-mathjax.js").as_uri()}"></script>' if shim else ""
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title>"
        "<script>window.MathJax = {options: {processHtmlClass: 'math'}};</script>" + shim_tag +
        f'<script defer src="{(ASSETS / "mathjax" / "tex-mml-chtml.js").as_uri()}"></script>'
        "</head><body><p class='math'>\\(a^2\\)</p></body></html>", encoding="utf-8")
    return page


def test_the_widget_managers_mathjax2_call_typesets_under_mathjax3(browser, tmp_path):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(_mathjax_page(tmp_path, shim=True).as_uri(), wait_until="load")
        # before MathJax 3 has started, the call is harmless (MathJax then typesets the whole page)
        page.evaluate("() => MathJax.Hub.Queue(['Typeset', MathJax.Hub, document.body])")
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        page.evaluate("() => { const d = document.createElement('div'); d.id = 'out';"
                      " d.className = 'math'; d.textContent = '\\\\(x_k^2\\\\)'; document.body.appendChild(d); }")
        assert page.evaluate(_WIDGET_TYPESET, "out") == 1
        assert page.evaluate("() => Object.keys(MathJax).includes('Hub')") is False  # invisible to MathJax's config
    finally:
        page.close()
    assert not errors, errors


def test_without_the_shim_the_widget_managers_call_throws_under_mathjax3(browser, tmp_path):
    page = browser.new_page()
    try:
        page.goto(_mathjax_page(tmp_path, shim=False).as_uri(), wait_until="load")
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => { const d = document.createElement('div'); d.id = 'out'; document.body.appendChild(d); }")
        with pytest.raises(Exception, match="reading 'Queue'"):
            page.evaluate(_WIDGET_TYPESET, "out")
    finally:
        page.close()


# --- the built book ---------------------------------------------------------------------------


def test_built_pages_typeset_math_and_log_no_javascript_errors(browser):
    bad = {}
    typeset = 0
    for page in _built_pages():
        report = inspect_page(browser, page)
        typeset += report.math_elements - report.untypeset_math
        if report.problems:
            bad[page.relative_to(HTML).as_posix()] = report.problems
    assert not bad, bad
    assert typeset > 0, "no typeset math found on any page"


def test_static_sliders_in_the_chapters_respond(browser):
    pages = {p.relative_to(HTML).as_posix(): p for p in _built_pages()}
    checked = 0
    for name in CHAPTERS_WITH_SLIDERS:
        if name not in pages:
            continue
        report = inspect_page(browser, pages[name])
        assert report.sliders >= 1, f"{name}: no static slider on the page"
        assert not report.slider_problems, (name, report.slider_problems)
        checked += 1
    assert checked > 0, "none of the chapters with static sliders is built"


def test_a_built_page_with_its_frames_removed_fails_the_check(browser, tmp_path):
    pages = {p.relative_to(HTML).as_posix(): p for p in _built_pages()}
    name = next((n for n in CHAPTERS_WITH_SLIDERS if n in pages), None)
    if name is None:
        _skip_or_fail("none of the chapters with static sliders is built")
    original = pages[name]
    text = original.read_text(encoding="utf-8")
    # keep the relative links to _static working from the copy
    base = f'<base href="{original.parent.resolve().as_uri()}/">'
    text = text.replace("<head>", "<head>" + base, 1)
    intact = tmp_path / "intact.html"
    intact.write_text(text, encoding="utf-8")
    stripped = tmp_path / "stripped.html"
    stripped.write_text(_strip_frames(text), encoding="utf-8")
    assert not inspect_page(browser, intact).slider_problems  # the copy itself is fine
    report = inspect_page(browser, stripped)
    assert report.slider_problems and report.errors, "removing the frames went unnoticed"


# --- sliders that feel continuous, and no dead controls (issue: vary noise and smoothness) --------

#: Slider parameters that are noise levels (need >= 9 positions over >= 4 decades) and smoothness
#: exponents (need >= 7 positions).
NOISE_PARAMS = {"delta", "noise"}
SMOOTHNESS_PARAMS = {"b", "c", "smoothness"}

_SWEEP_SLIDERS = """async () => {
  const out = [];
  for (const root of Array.from(document.querySelectorAll("div.learnreg-slider"))) {
    const img = root.querySelector("img.learnreg-slider-frame");
    for (const input of Array.from(root.querySelectorAll("input.learnreg-slider-input"))) {
      const original = input.value, max = parseInt(input.max, 10);
      const steps = [];
      let previous = null;
      for (let i = 0; i <= max; i++) {
        input.value = String(i);
        input.dispatchEvent(new Event("input", { bubbles: true }));
        let ok = true;
        try { await img.decode(); } catch (e) { ok = false; }
        steps.push({ changed: previous === null || img.src !== previous, decodes: ok && img.naturalWidth > 0 });
        previous = img.src;
      }
      input.value = original;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      out.push({ slider: root.id, param: input.dataset.param, positions: max + 1,
                 values: input.dataset.values ? JSON.parse(input.dataset.values) : null, steps: steps });
    }
  }
  return out;
}"""


def slider_inventory(browser, path: Path) -> list[dict]:
    """Every range input of every static slider on a page, moved through all its positions."""
    page = browser.new_page()
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        return page.evaluate(_SWEEP_SLIDERS)
    finally:
        page.close()


def slider_problems(inputs: list[dict]) -> list[str]:
    """What is wrong with a page's sliders: too few positions, too short a range, a step that changes nothing."""
    import math

    problems = []
    for s in inputs:
        where = f"{s['slider']} ({s['param']})"
        if s["param"] in NOISE_PARAMS:
            if s["positions"] < 9:
                problems.append(f"{where}: a noise slider with {s['positions']} positions (at least 9)")
            values = [v for v in (s["values"] or []) if v > 0]
            if len(values) < 2 or math.log10(max(values) / min(values)) < 4 - 1e-9:
                problems.append(f"{where}: a noise slider spanning less than 4 decades ({s['values']})")
        if s["param"] in SMOOTHNESS_PARAMS and s["positions"] < 7:
            problems.append(f"{where}: a smoothness slider with {s['positions']} positions (at least 7)")
        for i, step in enumerate(s["steps"]):
            if not step["decodes"]:
                problems.append(f"{where}: position {i} shows no image")
            if not step["changed"]:
                problems.append(f"{where}: moving to position {i} did not change the image")
    return problems


def test_the_slider_check_catches_coarse_sliders_and_dead_steps():
    coarse = [{"slider": "s", "param": "delta", "positions": 3, "values": [1e-3, 1e-2, 1e-1],
               "steps": [{"changed": True, "decodes": True}, {"changed": False, "decodes": True},
                         {"changed": True, "decodes": False}]},
              {"slider": "s", "param": "b", "positions": 4, "values": [1, 2, 3, 4], "steps": []}]
    problems = slider_problems(coarse)
    assert any("3 positions" in p for p in problems) and any("4 decades" in p for p in problems)
    assert any("smoothness slider with 4" in p for p in problems)
    assert any("did not change" in p for p in problems) and any("shows no image" in p for p in problems)
    fine = [{"slider": "s", "param": "delta", "positions": 9, "values": [10.0 ** -e for e in range(8, -1, -1)],
             "steps": [{"changed": True, "decodes": True}] * 9}]
    assert slider_problems(fine) == []


def test_static_sliders_feel_continuous_and_every_step_changes_the_frame(browser):
    pages = {p.relative_to(HTML).as_posix(): p for p in _built_pages()}
    seen = {}
    for name, path in pages.items():
        if not name.startswith("notebooks/"):
            continue
        inputs = slider_inventory(browser, path)
        assert not slider_problems(inputs), (name, slider_problems(inputs))
        seen[name] = {s["param"] for s in inputs}
    assert seen, "no chapter page was checked"
    for chapter in ("notebooks/02_learned_spectral.html", "notebooks/03_rates.html"):
        if chapter in seen:
            assert {"delta", "b"} <= seen[chapter], (chapter, seen[chapter])


def test_static_pages_show_no_dead_controls():
    """A live panel shows one line in the static book; no ipywidgets view is left to render controls."""
    dead = {}
    for page in _built_pages():
        text = page.read_text(encoding="utf-8")
        views = text.count("application/vnd.jupyter.widget-view+json")
        if views:
            dead[page.relative_to(HTML).as_posix()] = views
    assert not dead, f"pages with ipywidgets views (controls that do nothing without a kernel): {dead}"


def test_chapter_pages_weigh_less_than_2_mb():
    heavy = {}
    for page in _built_pages():
        if page.parent.name != "notebooks":
            continue
        text = page.read_text(encoding="utf-8")
        images = {m for m in re.findall(r'src="\.\./(_images/[^"]+)"', text)}
        size = len(text.encode("utf-8")) + sum((HTML / m).stat().st_size for m in images if (HTML / m).is_file())
        if size > 2_000_000:
            heavy[page.name] = size
    assert not heavy, f"chapter pages (HTML and their images) over 2 MB: {heavy}"
# --- what a run without a browser reports ----------------------------------------------------


class _Reporter:
    def __init__(self, skipped):
        self.stats = {"skipped": skipped}
        self.lines = []

    def write_line(self, line, **markup):
        self.lines.append(line)


class _Report:
    def __init__(self, nodeid, reason):
        self.nodeid = nodeid
        self.longrepr = (nodeid.split("::")[0], 1, f"Skipped: {reason}")


def test_the_summary_says_in_one_line_that_the_browser_tests_were_skipped():
    import conftest

    reporter = _Reporter([_Report("tests/test_browser.py::test_a", "no Chromium at /x (apt-get install chromium)"),
                          _Report("tests/test_browser.py::test_b", "no Chromium at /x (apt-get install chromium)"),
                          _Report("tests/test_repository.py::test_c", "the book has not been built")])
    conftest.pytest_terminal_summary(reporter, 0, None)
    said = [line for line in reporter.lines if line.startswith("BROWSER TESTS SKIPPED")]
    assert said == ["BROWSER TESTS SKIPPED: 2 browser test(s) did not run (no Chromium at /x (apt-get install "
                    "chromium)); the built pages were not checked in a browser (LEARNREG_REQUIRE_BUILD=1 makes "
                    "this a failure)"]
    quiet = _Reporter([_Report("tests/test_repository.py::test_c", "the book has not been built")])
    conftest.pytest_terminal_summary(quiet, 0, None)
    assert not [line for line in quiet.lines if "BROWSER" in line]


def test_a_missing_browser_fails_when_it_is_required(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "REQUIRED", True)
    with pytest.raises(pytest.fail.Exception, match="no Chromium"):
        _skip_or_fail("no Chromium at /x")
