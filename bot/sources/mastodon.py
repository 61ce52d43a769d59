"""Mastodon: arXiv links trending on the configured instances (public, no credentials).

`GET /api/v1/trends/links` lists an instance's trending links (PreviewCards) with a `history`
of the last days: per UTC day, how many times it was shared (`uses`) by how many `accounts`.
Pages of 20 (the server's maximum) by `offset`. Links whose URL is an arXiv paper count for
that paper: the window's days are summed, across instances, into {"shares", "accounts"}; each
link also becomes one Post (its card title and description as the excerpt).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot import arxiv_ids
from bot.config import Config
from bot.errors import InvalidArxivId, SourceError
from bot.http import SourceContext, ensure_ok
from bot.models import Post, Signal
from bot.sources.base import SourceResult

log = logging.getLogger(__name__)

NAME = "mastodon"
LINKS_PATH = "/api/v1/trends/links"
PAGE_SIZE = 20  # Mastodon caps `limit` at 20 for trending links
MAX_PAGES = 10  # trending lists are short; this is a guard, not a budget


# -- parsing (pure) ----------------------------------------------------------------------------


def window_days(since: dt.datetime, until: dt.datetime) -> set[dt.date]:
    """The UTC days that overlap [since, until) (trend history counts per UTC day)."""
    first = since.astimezone(dt.UTC).date()
    last = (until.astimezone(dt.UTC) - dt.timedelta(microseconds=1)).date()
    days: set[dt.date] = set()
    day = first
    while day <= last:
        days.add(day)
        day += dt.timedelta(days=1)
    return days


def _count(value: Any, what: str) -> int:
    """History counts are decimal strings ("13"); accept ints too."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"history {what} is not a count: {str(value)[:40]!r}")


@dataclass(frozen=True, slots=True)
class TrendingPaper:
    """An arXiv link trending on one instance, with its uses in the window."""

    arxiv_id: str
    url: str
    instance: str
    title: str
    description: str
    provider: str
    shares: int
    accounts: int


def parse_link(entry: Any, instance: str, days: set[dt.date]) -> TrendingPaper | None:
    """A trending link if it is an arXiv paper (None otherwise); ValueError if malformed."""
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise ValueError("link has no url")
    url = entry["url"]
    try:
        arxiv_id = arxiv_ids.parse(url)
    except InvalidArxivId:
        return None
    history = entry.get("history")
    if not isinstance(history, list):
        raise ValueError(f"link {url[:100]} has no history list")
    shares = accounts = 0
    for item in history:
        if not isinstance(item, dict):
            raise ValueError(f"link {url[:100]}: history entry is not an object")
        stamp = item.get("day")
        if not (isinstance(stamp, str | int) and str(stamp).isdigit()):
            raise ValueError(f"link {url[:100]}: history day is not a timestamp: {stamp!r}"[:160])
        try:
            day = dt.datetime.fromtimestamp(int(stamp), dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            raise ValueError(
                f"link {url[:100]}: history day is out of range: {stamp!r}"[:160]
            ) from None
        if day in days:
            shares += _count(item.get("uses"), "uses")
            accounts += _count(item.get("accounts"), "accounts")

    def text(key: str) -> str:
        value = entry.get(key)
        return value.strip() if isinstance(value, str) else ""

    return TrendingPaper(
        arxiv_id=arxiv_id,
        url=url,
        instance=instance,
        title=text("title"),
        description=text("description"),
        provider=text("provider_name"),
        shares=shares,
        accounts=accounts,
    )


def parse_links_page(
    body: Any, instance: str, days: set[dt.date]
) -> tuple[int, list[TrendingPaper], list[str]]:
    """(entries in the page, arXiv links found, skipped records with why)."""
    if not isinstance(body, list):
        raise ValueError("trends/links answer is not a list")
    found: list[TrendingPaper] = []
    errors: list[str] = []
    for n, entry in enumerate(body):
        try:
            paper = parse_link(entry, instance, days)
        except ValueError as exc:
            errors.append(f"{instance} link {n}: {exc}")
            continue
        if paper is not None:
            found.append(paper)
    return len(body), found, errors


def summarize(trending: Sequence[TrendingPaper]) -> tuple[list[Signal], list[Post]]:
    """Signals per paper (shares, accounts summed over links and instances) and one Post per
    link URL (shares summed over instances; instances listed in `handle`)."""
    totals: dict[str, dict[str, int]] = {}
    by_url: dict[tuple[str, str], list[TrendingPaper]] = {}
    for t in trending:
        if t.shares == 0 and t.accounts == 0:
            continue  # trending, but not within the window
        counts = totals.setdefault(t.arxiv_id, {"shares": 0, "accounts": 0})
        counts["shares"] += t.shares
        counts["accounts"] += t.accounts
        by_url.setdefault((t.url, t.arxiv_id), []).append(t)
    signals = [Signal(arxiv_id=i, source=NAME, counts=totals[i]) for i in sorted(totals)]
    posts = []
    for (url, arxiv_id), group in by_url.items():
        first = group[0]
        text = " — ".join(p for p in (first.title, first.description) if p)
        hosts = ", ".join(dict.fromkeys(urlsplit(t.instance).netloc or t.instance for t in group))
        posts.append(
            Post(
                source=NAME,
                url=url,
                arxiv_id=arxiv_id,
                author=first.provider or hosts,
                handle=hosts,
                text=text,
                reposts=sum(t.shares for t in group),
            )
        )
    return signals, posts


# -- the source --------------------------------------------------------------------------------


class MastodonSource:
    """The Mastodon trending-links signal source (SignalSource)."""

    name = NAME

    def __init__(self, config: Config, ctx: SourceContext) -> None:
        self.settings = config.sources.mastodon
        self.ctx = ctx

    def unavailable_reason(self) -> str | None:
        """Why Mastodon cannot run (disabled, no instances configured), or None."""
        if not self.settings.enabled:
            return "disabled in config"
        if not self.settings.instances:
            return "no sources.mastodon.instances in the config"
        return None

    async def _instance(
        self, instance: str, days: set[dt.date], result: SourceResult
    ) -> list[TrendingPaper]:
        found: list[TrendingPaper] = []
        url = f"{instance.rstrip('/')}{LINKS_PATH}"
        for number in range(MAX_PAGES):
            response = await self.ctx.request(
                "GET",
                url,
                source=NAME,
                min_interval=self.settings.min_interval,
                params={"limit": PAGE_SIZE, "offset": number * PAGE_SIZE},
            )
            ensure_ok(response, NAME)
            try:
                count, papers, errors = parse_links_page(
                    json.loads(response.content), instance, days
                )
            except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
                reason = f"{instance} page {number + 1}: malformed answer ({str(exc)[:120]})"
                log.warning("mastodon: %s; skipping the rest of this instance", reason)
                result.errors.append(reason)
                break
            for error in errors:
                log.warning("mastodon: skipped %s", error)
            result.errors.extend(errors)
            found.extend(papers)
            if count < PAGE_SIZE:
                break
        return found

    async def collect(
        self, day: dt.date, ids: Sequence[str], since: dt.datetime, until: dt.datetime
    ) -> SourceResult:
        """Trending arXiv links on every configured instance, counted over the window's days.

        Only links to papers in `ids` count (every arXiv link when `ids` is empty). One
        instance failing is recorded in `errors` and the others still count; only when every
        instance fails does the source fail (SourceError).
        """
        result = SourceResult(source=NAME)
        days = window_days(since, until)
        before = self.ctx.counter[NAME]
        trending: list[TrendingPaper] = []
        failures: list[str] = []
        for instance in dict.fromkeys(self.settings.instances):
            try:
                trending.extend(await self._instance(instance, days, result))
            except SourceError as exc:
                log.warning("mastodon: %s failed: %s", instance, exc)
                failures.append(str(exc))
                result.errors.append(f"{instance}: {exc}")
        result.requests = self.ctx.counter[NAME] - before
        if failures and len(failures) == len(dict.fromkeys(self.settings.instances)):
            raise SourceError(NAME, f"every instance failed; first: {failures[0]}")
        wanted = set(ids)
        result.signals, result.posts = summarize(
            [t for t in trending if not wanted or t.arxiv_id in wanted]
        )
        log.info(
            "mastodon: %d trending arXiv links, %d papers for %s (%d requests)",
            len(result.posts),
            len(result.signals),
            day.isoformat(),
            result.requests,
        )
        return result
