"""Command line: ``python -m learnreg figure ...`` writes the book's figures without a notebook.

Usage::

    python -m learnreg figure --list
    python -m learnreg figure LABEL [--format pdf|svg|png] [--output PATH]
    python -m learnreg figure --all [--format ...] [--output FOLDER]   (writes manifest.json too)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m learnreg", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fig = sub.add_parser("figure", help="write one of the book's figures (by its label)")
    fig.add_argument("label", nargs="?", help="the figure's label in the book, e.g. fig-ch3-rate")
    fig.add_argument("--list", action="store_true", help="list every labelled figure with its caption")
    fig.add_argument("--all", action="store_true", help="write every figure and a manifest")
    fig.add_argument("--format", choices=("pdf", "svg", "png"), default="pdf")
    fig.add_argument("--output", help="file (one figure) or folder (--all); default: LABEL.FORMAT or _build/figures")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    from .book.style import use_book_style
    from .figures import registry, write_figure

    use_book_style()
    specs = registry()
    if args.list:
        for spec in specs.values():
            print(f"{spec.label}  (chapter {spec.chapter}): {spec.caption}")
        return 0
    if args.all:
        folder = Path(args.output or "_build/figures")
        manifest = []
        for spec in specs.values():
            path = write_figure(spec.label, folder / f"{spec.label}.{args.format}", args.format)
            manifest.append({"label": spec.label, "chapter": spec.chapter, "caption": spec.caption,
                             "function": spec.function, "seed": spec.seed, "file": path.name})
            print(f"wrote {path}")
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {folder / 'manifest.json'} ({len(manifest)} figures)")
        return 0
    if not args.label:
        print("name a figure label, or use --list or --all", file=sys.stderr)
        return 2
    if args.label not in specs:
        print(f"unknown figure {args.label!r}; `python -m learnreg figure --list` lists them", file=sys.stderr)
        return 2
    path = write_figure(args.label, args.output or f"{args.label}.{args.format}", args.format)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
