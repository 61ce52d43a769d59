"""`hotpapers import | export | show`: thin handlers over bot.archive, bot.export and the store."""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import logging
import sys
from pathlib import Path

from bot import archive_import, taxonomy
from bot.archive import render_markdown, shown
from bot.config import Config
from bot.dates import Clock, parse_day
from bot.errors import ArchiveParseError, InvalidDate, UnknownCategory
from bot.export import to_atom, to_json
from bot.models import DayRanking, RankedPaper
from bot.ranking import engagement_parts
from bot.store import Store

log = logging.getLogger(__name__)

_WORDS = ("today", "yesterday")


def _open(config: Config) -> Store:
    return Store.open(config.database_path)


def _day(text: str, clock: Clock) -> dt.date:
    """Parse a DATE argument; a near-miss word gets a 'did you mean' suggestion."""
    try:
        return parse_day(text, clock().date())
    except InvalidDate as exc:
        close = difflib.get_close_matches(text.strip().lower(), _WORDS, n=1, cutoff=0.6)
        if close:
            raise InvalidDate(
                f"'{text.strip()[:40]}' is not a date (did you mean {close[0]}?)"
            ) from None
        raise exc from None


def _not_stored(store: Store, day: dt.date) -> str:
    near = store.nearest_days(day)
    if not near:
        return f"nothing stored for {day}: the database is empty (try `hotpapers import PATH`)"
    return f"nothing stored for {day}; nearest stored days: {', '.join(map(str, near))}"


# -- import -------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """Import posts; progress on stderr, summary on stdout; exit 1 if any file was skipped."""

    def progress(
        n: int, total: int, path: Path, result: DayRanking | ArchiveParseError, status: str
    ) -> None:
        if isinstance(result, ArchiveParseError):
            line = f"[{n}/{total}] {path.name}: skipped ({result.reason}, line {result.line})"
        else:
            line = f"[{n}/{total}] {result.day} ... {len(result.papers)} papers, {status}"
        print(line, file=sys.stderr, flush=True)

    store = _open(config)
    try:
        report = archive_import.import_paths(
            store, args.paths, progress=None if args.quiet else progress
        )
    finally:
        store.close()
    print(
        f"imported {report.days} days ({len(report.imported)} new or changed, "
        f"{len(report.unchanged)} already stored): {report.papers} ranked papers, "
        f"{report.posts} embedded posts"
    )
    if report.repaired:
        print(f"repaired mis-decoded text (Mac Roman mojibake) in {len(report.repaired)} file(s):")
        for path in report.repaired:
            print(f"  {path}")
    if report.skipped:
        print(f"skipped {len(report.skipped)} file(s):")
        for err in report.skipped:
            print(f"  {err}")
        return 1
    return 0


# -- export -------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """Write a stored day as markdown (byte-identical for archive days), json or atom."""
    day = _day(args.date, clock)
    store = _open(config)
    try:
        ranking = store.load_day(day)
        if ranking is None:
            print(f"hotpapers export: {_not_stored(store, day)}", file=sys.stderr)
            return 1
    finally:
        store.close()
    render = {"markdown": render_markdown, "json": to_json, "atom": to_atom}[args.format]
    data = render(ranking).encode("utf-8")
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output} ({len(data)} bytes)", file=sys.stderr)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


# -- show ---------------------------------------------------------------------------------------


def resolve_category(store: Store, text: str) -> str:
    """The canonical category for a --category argument; UnknownCategory with a suggestion."""
    code = taxonomy.canonical(text)
    if code:
        return code
    stored = store.categories()
    if text in stored:  # something the archive used that the taxonomy does not list
        return text
    guess = taxonomy.closest(text, extra=stored)
    hint = f" (did you mean {guess}?)" if guess else " (e.g. cs.CV, math.AG, quant-ph)"
    raise UnknownCategory(f"unknown arXiv category '{text.strip()[:40]}'{hint}")


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _counts(rp: RankedPaper) -> str:
    parts = []
    for source, counts in rp.signals.items():
        if source == "twitter":
            parts.append(f"{counts.get('retweets', 0)} rt {counts.get('favorites', 0)} fav")
        else:
            named = engagement_parts(source, counts) or list(counts.items())
            parts.append(f"{source} " + " ".join(f"{v} {k}" for k, v in named))
    return ", ".join(parts)


def format_table(ranking: DayRanking, total: int) -> str:
    """The terminal view: a heading line, then rank, score, counts, title, categories, link."""
    what = f" in {ranking.category}" if ranking.category else ""
    lines = [f"Hot Papers {ranking.day}{what}: {len(ranking.papers)} of {total} papers"]
    if not ranking.papers:
        lines.append("  (no paper of this day matches)" if ranking.category else "  (no papers)")
        return "\n".join(lines) + "\n"
    rows = [
        (
            str(rp.rank),
            f"{rp.score:g}",
            _counts(rp),
            _shorten(rp.paper.title, 60),
            _shorten(" ".join(rp.paper.categories), 24),
            rp.paper.abs_url or f"https://arxiv.org/abs/{rp.paper.arxiv_id}",
        )
        for rp in ranking.papers
    ]
    header = ("#", "score", "counts", "title", "categories", "link")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [row[i].rjust(widths[i]) if i < 2 else row[i].ljust(widths[i]) for i in range(6)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def cmd_show(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """Print a stored day's ranking (default: the latest stored day)."""
    if args.top is not None and args.top < 1:
        print("hotpapers show: --top must be at least 1", file=sys.stderr)
        return 2
    store = _open(config)
    try:
        day = (
            _day(args.date, clock)
            if args.date
            else (store.latest_day(with_papers=True) or store.latest_day())
        )
        if day is None:
            print(
                "hotpapers show: nothing stored yet (try `hotpapers import PATH`)",
                file=sys.stderr,
            )
            return 1
        category = resolve_category(store, args.category) if args.category else None
        if not store.has_day(day):
            print(f"hotpapers show: {_not_stored(store, day)}", file=sys.stderr)
            return 1
        (total,) = store.db.execute(
            "SELECT count(*) FROM rankings WHERE day = ?", [day.isoformat()]
        ).fetchone()
        ranking = store.load_day(day, category=category, top=args.top)
    finally:
        store.close()
    assert ranking is not None
    sys.stdout.write(format_table(shown(ranking), total))
    return 0


HANDLERS = {"import": cmd_import, "export": cmd_export, "show": cmd_show}
