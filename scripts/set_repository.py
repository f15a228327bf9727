"""Set the book's repository address, the one setting that launch buttons and Colab cells follow.

Usage (from the repository root):
    .venv/bin/python scripts/set_repository.py https://github.com/OWNER/REPO   # publish under this address
    .venv/bin/python scripts/set_repository.py ""                              # not (yet) published
    .venv/bin/python scripts/set_repository.py                                 # re-apply the current setting
    .venv/bin/python scripts/set_repository.py --check                         # exit 1 if anything disagrees

The address is written to `repository.url` in _config.yml. Then the first cell of every chapter
notebook (the Colab cell; no other cell is touched) and `repository-code` in CITATION.cff are
rewritten to follow it. The book shows its Binder/Colab and repository buttons only when the
address is set (learnreg.book.repository). Commit the changed files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from learnreg.book import repository

ROOT = Path(__file__).resolve().parents[1]


def main(args: list[str]) -> int:
    if args in (["-h"], ["--help"]) or len(args) > 1:
        print(__doc__)
        return 0 if args in (["-h"], ["--help"]) else 2
    if args == ["--check"]:
        found = repository.problems(ROOT)
        for p in found:
            print(p)
        return 1 if found else 0
    try:
        if args:
            repository.write_setting(args[0].strip().rstrip("/"), ROOT)
        changed = repository.apply(ROOT)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    url, _ = repository.read_setting(ROOT)
    print(f"repository.url = {url!r}" + ("" if url else " (not published: no launch buttons)"))
    for path in changed:
        print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
