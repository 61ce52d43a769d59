"""`hotpapers rank | digest`: thin handlers that run the daily job once and print the result."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from zoneinfo import ZoneInfo

from bot import archive_cli
from bot.archive import shown
from bot.config import Config
from bot.dates import Clock, parse_day
from bot.http import SourceContext, make_client
from bot.jobs import JobResult, run_day
from bot.models import DayRanking
from bot.ranking import explain
from bot.sources.registry import job_deps
from bot.store import Store

log = logging.getLogger(__name__)


def _progress(message: str) -> None:
    print(f"hotpapers: {message}", file=sys.stderr, flush=True)


def default_day(config: Config, clock: Clock) -> dt.date:
    """Yesterday in the configured time zone."""
    return clock().astimezone(ZoneInfo(config.schedule.timezone)).date() - dt.timedelta(days=1)


def _day(text: str | None, config: Config, clock: Clock) -> dt.date:
    if not text:
        return default_day(config, clock)
    today = clock().astimezone(ZoneInfo(config.schedule.timezone)).date()
    return parse_day(text, today)


async def rank_once(day: dt.date, config: Config, store: Store, clock: Clock) -> JobResult:
    """Run the job for day with the configured sources, over one HTTP client."""
    async with make_client(config) as client:
        ctx = SourceContext.from_config(config, client, now=clock)
        return await run_day(day, job_deps(config, store, ctx, _progress), clock())


def format_ranking(ranking: DayRanking, config: Config, top: int | None = None) -> str:
    """The ranking with each score explained (per-source counts), one paper per block."""
    state = f" (PARTIAL: {', '.join(ranking.failed_sources)} failed)" if ranking.partial else ""
    what = f" in {ranking.category}" if ranking.category else ""
    count = len(ranking.papers)
    lines = [f"Hot Papers {ranking.day}{what}: {count} paper{'' if count == 1 else 's'}{state}"]
    note = ranking.extra.get("note")
    if not ranking.papers:
        lines.append(f"  (no papers{': ' + note if note else ''})")
    for rp in ranking.papers[:top]:
        lines.append(f"{rp.rank:>3}. {' '.join(rp.paper.title.split())}")
        link = rp.paper.abs_url or f"https://arxiv.org/abs/{rp.paper.arxiv_id}"
        lines.append(f"     {' '.join(rp.paper.categories)} · {link}")
        lines.append(f"     {explain(rp, config.ranking.weights)}")
    return "\n".join(lines) + "\n"


def format_run(result: JobResult) -> str:
    """Requests per source, skipped and failed sources, time taken."""
    requests = ", ".join(f"{s} {n}" for s, n in result.requests.items()) or "none"
    lines = [
        f"requests: {requests}; {result.candidates} candidates; {result.duration:.1f} s",
    ]
    lines += [f"skipped: {s} ({why})" for s, why in result.skipped.items()]
    lines += [f"failed: {s} ({why})" for s, why in result.failed.items()]
    return "\n".join(lines) + "\n"


def cmd_rank(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """Rank DATE now (default: yesterday), store it, print it with the run's figures."""
    day = _day(args.date, config, clock)
    store = Store.open(config.database_path)
    try:
        result = asyncio.run(rank_once(day, config, store, clock))
    finally:
        store.close()
    sys.stdout.write(format_ranking(result.ranking, config))
    sys.stdout.write(format_run(result))
    return 0


def cmd_digest(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """Print DATE's digest, ranking the day first if it is not stored (or stored partial)."""
    if args.top is not None and args.top < 1:
        print("hotpapers digest: --top must be at least 1", file=sys.stderr)
        return 2
    day = _day(args.date, config, clock)
    store = Store.open(config.database_path)
    try:
        category = archive_cli.resolve_category(store, args.category) if args.category else None
        summary = store.day_summary(day)
        if summary is None or (summary.partial and summary.origin == "live"):
            result = asyncio.run(rank_once(day, config, store, clock))
            _progress(format_run(result).rstrip().replace("\n", "; "))
            summary = store.day_summary(day)
        assert summary is not None
        ranking = store.load_day(day, category=category, top=args.top)
    finally:
        store.close()
    assert ranking is not None
    if getattr(args, "webhook", None):
        from bot.bot_cli import send_webhook  # the Discord half lives with the bot
        from bot.render import digest_messages

        ids = send_webhook(config, args.webhook, digest_messages(ranking, now=clock()))
        print(f"posted the digest of {day} to the webhook ({len(ids)} message(s))")
        return 0
    sys.stdout.write(archive_cli.format_table(shown(ranking), summary.papers))
    if ranking.partial:
        print(f"partial: {', '.join(ranking.failed_sources)} failed (retried on the next run)")
    elif not ranking.papers and ranking.extra.get("note"):
        print(f"({ranking.extra['note']}: nothing announced)")
    return 0


HANDLERS = {"rank": cmd_rank, "digest": cmd_digest}
