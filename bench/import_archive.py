"""Benchmark: import the 294 archive posts into a fresh database vs markdown-it-py alone.

Prints the import time (median of several runs, fresh SQLite file each time), the time
markdown-it-py (commonmark preset, full parse) takes on the same files, and their ratio.
Goals: import <= 3 s and <= 2x the markdown-it-py parse time.

    uv run python bench/import_archive.py [ARCHIVE_DIR] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.archive_import import import_paths  # noqa: E402
from bot.store import Store  # noqa: E402

DEFAULT_ARCHIVE = ROOT.parent / "shared" / "archive"


def time_import(archive: Path) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        start = time.perf_counter()
        report = import_paths(store, [archive])
        elapsed = time.perf_counter() - start
        store.close()
    assert not report.skipped, report.skipped
    return elapsed, report.days, report.papers


def time_markdown_it(files: list[Path]) -> float:
    md = MarkdownIt("commonmark")
    start = time.perf_counter()
    for path in files:
        md.parse(path.read_text(encoding="utf-8"))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", nargs="?", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    files = sorted(args.archive.glob("*.md"))
    if not files:
        print(f"no posts in {args.archive}", file=sys.stderr)
        return 1
    imports = []
    for _ in range(args.runs):
        elapsed, days, papers = time_import(args.archive)
        imports.append(elapsed)
    parses = [time_markdown_it(files) for _ in range(args.runs)]
    imp, base = statistics.median(imports), statistics.median(parses)
    print(f"posts: {len(files)} files, {days} days, {papers} ranked papers")
    print(f"import into a fresh database (median of {args.runs}): {imp:.3f} s  (goal <= 3 s)")
    print(f"markdown-it-py parse alone (median of {args.runs}):   {base:.3f} s")
    print(f"ratio import / markdown-it-py: {imp / base:.2f}x  (goal <= 2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
