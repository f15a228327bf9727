"""Stored outputs hold only what every machine prints; the sanitiser hides only embedded images.

nbval compares each notebook's stored text outputs with a fresh run, under the
machine-noise guard (``tests/noise_guard.py``), which catches digits at
rounding level. Three kinds of noise cannot be caught by re-running on one
machine, so they are checked here, in the stored outputs themselves:

* byte sizes: encoded images and HTML differ in size with the zlib and libpng
  builds (a static slider's "389 kB" on one machine was "390 kB" on another);
* clock readings: wall-clock times and progress bars (their rates and ETAs);

Each rule is shown catching a real example from this book's stored outputs,
and leaving machine-independent text alone. Cells tagged
``nbval-ignore-output`` or ``nbval-skip`` are not compared and not checked.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BASE64 = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")

#: Noise that must not be printed in a stored output.
RULES = {
    "byte size": re.compile(r"\b\d+(?:\.\d+)?\s?(?:[kKMGT]i?B|bytes)\b"),
    "clock time": re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|µs|us|ns|s|min)\b(?![_^])"),
    "progress bar": re.compile(r"\d+%\|[^|\n]*\||\[\d\d:\d\d<|\d+(?:\.\d+)?\s?(?:it/s|s/it)\b"),
}

#: Real examples, copied from the stored outputs of this book's notebooks before they were cleaned up.
CAUGHT = {
    "byte size": "static slider learnreg-slider-1: 12 frames over operator (3) x k (4), 1000x320 px, 321 kB of HTML",
    "clock time": "closed form: 0.311 ms wall; Adam to within 1% of its test risk (130 steps): 104.6 ms wall",
    "progress bar": "1D denoising (5 runs): 100%|████████████████████| 500/500 [00:18<00:00]",
}

#: Machine-independent text from the same notebooks, which no rule may touch.
CLEAN = [
    "integration      (256, 256)   0.6379",
    "Radon n = 64: s_1..s_5 = 2.4634 1.5967 1.5967 1.3468 1.2887",
    "static slider learnreg-slider-1: 12 frames over operator (3) x k (4), 1000x320 px",
    "13 of 13 claims of chapter 1 pass",
    "Monte Carlo E||A^+ e||^2 / (delta^2 sum s_k^-2) at n = 256, 400 samples: 1.0012",
    "fitted growth exponent of the RMS noise error in n: 1.5017 (theory 3/2)",
    "the 5 s_k closest to 1: k = 3 s_3 = 0.98",
]


def compared_texts(nb) -> list[tuple[int, str]]:
    """(cell index, text) of every text output nbval compares, with embedded images removed."""
    out = []
    for i, cell in enumerate(nb.cells):
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or tags & {"nbval-ignore-output", "nbval-skip"}:
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                texts = [o.get("text", "")]
            else:
                texts = [v for k, v in o.get("data", {}).items() if k.startswith("text/")]
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text
                out.append((i, BASE64.sub("<BASE64>", text)))
    return out


def noise(text: str) -> list[tuple[str, str]]:
    """(rule, excerpt) for every piece of noise in ``text``."""
    found = []
    for rule, rx in RULES.items():
        for m in rx.finditer(text):
            excerpt = text[max(0, m.start() - 40):m.end() + 15].replace("\n", " ").strip()
            found.append((rule, excerpt))
    return found


@pytest.mark.parametrize("rule", list(RULES))
def test_each_rule_catches_its_real_example(rule):
    assert [r for r, _ in noise(CAUGHT[rule])].count(rule) >= 1


@pytest.mark.parametrize("text", CLEAN)
def test_no_rule_touches_machine_independent_text(text):
    assert noise(text) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_stored_output_shows_a_size_a_clock_time_or_a_progress_bar(path):
    nb = nbformat.read(path, as_version=4)
    found = [f"cell {i}: {rule}: ...{excerpt}..." for i, text in compared_texts(nb) for rule, excerpt in noise(text)]
    assert not found, f"{path.name} stores machine-dependent text:\n" + "\n".join(found)


# -- the sanitiser ---------------------------------------------------------------------------------


def _sanitizer() -> dict[str, tuple[re.Pattern, str]]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return {s: (re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()}


def _fresh_slider_output() -> dict:
    """A static slider's output as a kernel displays it (frames embedded as base64 PNG)."""
    import matplotlib
    from matplotlib.figure import Figure

    from learnreg.book.sliders import static_slider

    matplotlib.use("Agg")

    def draw(a):
        fig = Figure(figsize=(2, 1.5), dpi=50)
        fig.add_subplot().plot([0, 1], [0, a])
        return fig

    slider = static_slider(draw, {"a": [1.0, 2.0, 3.0, 4.0]})
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/html": slider.html, "text/plain": "A static slider."}}


def test_the_sanitiser_maps_a_fresh_and_a_stored_static_slider_to_the_same_text():
    import nbformat.v4 as v4

    from learnreg.book.notebook_store import strip_outputs

    rules = _sanitizer()
    assert list(rules) == ["static sliders", "base64 payloads"]

    def sanitize(text):
        for rx, replace in rules.values():
            text = rx.sub(replace, text)
        return text

    fresh = _fresh_slider_output()
    html = fresh["data"]["text/html"]
    assert len(BASE64.findall(html)) >= 4              # every frame is embedded
    nb = v4.new_notebook(cells=[v4.new_code_cell("slider", outputs=[nbformat.from_dict(fresh)])])
    strip_outputs(nb)                                  # what the repository stores
    stored = nb.cells[0].outputs[0]["data"]["text/html"]
    assert not BASE64.search(stored) and len(stored) < len(html) / 10
    assert sanitize(html) == sanitize(stored) == "<STATIC-SLIDER>"
    for text in CLEAN + list(CAUGHT.values()):         # ordinary outputs are compared as they are
        assert sanitize(text) == text
    # an image embedded in other HTML is masked, the HTML around it is compared
    other = '<img src="data:image/png;base64,' + "A" * 80 + '"> caption'
    assert sanitize(other) == '<img src="data:image/png;base64,<BASE64>"> caption'
