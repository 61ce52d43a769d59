"""arXiv: the day's listing (rss.arxiv.org) and metadata (export.arxiv.org/api/query).

Request-efficient and within arXiv's terms: one RSS request for all configured categories
(`cs.CV+cs.LG`), `id_list` batches of `batch_size` ids (with `max_results` set, since it
defaults to 10), one request at a time at least `min_interval` (3 s) apart.

The RSS feed only shows the current mailing, so the listing of day D must be recorded on D
(`Store.save_listing`); for a day that was missed, `ArxivSource.submitted(D)` finds D's papers
through the API by `submittedDate` (see `submission_window`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot import arxiv_ids
from bot.config import ArxivConfig
from bot.errors import InvalidArxivId
from bot.http import SourceContext, ensure_ok
from bot.models import ListingEntry, Paper
from bot.sources.arxiv_xml import DEFAULT_ANNOUNCE_TYPES, parse_atom, parse_rss
from bot.sources.base import SourceResult

log = logging.getLogger(__name__)

NAME = "arxiv"
EASTERN = ZoneInfo("America/New_York")
SEARCH_PAGE_SIZE = 500  # arXiv asks for at most 2,000 results per call; fewer keeps pages light


@dataclass(slots=True)
class Listing:
    """What rss.arxiv.org shows now: the mailing's day (US Eastern), its entries, skipped items."""

    day: dt.date | None
    entries: list[ListingEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0


def _cutoff(announced: dt.date) -> dt.datetime:
    """The 14:00 US Eastern submission deadline for the announcement made on `announced`."""
    deadline_day = announced - dt.timedelta(days=2) if announced.weekday() == 6 else announced
    return dt.datetime.combine(deadline_day, dt.time(14, 0), tzinfo=EASTERN)


def submission_window(day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """The submission times (UTC) of the papers in the RSS mailing dated `day` (Mon-Fri).

    The mailing dated D is announced at 20:00 US Eastern on D-1 (Sunday for Monday) and holds
    what was submitted between the two previous 14:00 deadlines (Thu-Fri for Sunday's,
    Fri-Mon for Monday's). Weekends have no mailing: None. Holidays are not modelled.
    """
    if day.weekday() >= 5:
        return None
    announced = day - dt.timedelta(days=1)
    previous = announced - dt.timedelta(days=3 if announced.weekday() == 6 else 1)
    return _cutoff(previous).astimezone(dt.UTC), _cutoff(announced).astimezone(dt.UTC)


class ArxivSource:
    """Listing, metadata and submittedDate search against arXiv (configurable base URLs)."""

    name = NAME

    def __init__(self, ctx: SourceContext, config: ArxivConfig) -> None:
        self.ctx = ctx
        self.config = config

    async def _get(self, url: str, **params: str | int) -> bytes:
        response = await self.ctx.request(
            "GET", url, source=NAME, min_interval=self.config.min_interval, params=params
        )
        return ensure_ok(response, NAME).content

    def _log_errors(self, errors: list[str]) -> None:
        for error in errors:
            log.warning("arxiv: %s", error)

    async def listing(
        self,
        categories: Sequence[str] | None = None,
        *,
        announce_types: tuple[str, ...] = DEFAULT_ANNOUNCE_TYPES,
    ) -> Listing:
        """Today's mailing for the categories (one request); empty on weekends and holidays."""
        cats = list(dict.fromkeys(categories or self.config.categories))
        before = self.ctx.counter[NAME]
        url = f"{self.config.rss_url.rstrip('/')}/rss/{'+'.join(cats)}"
        parsed = parse_rss(await self._get(url), announce_types)
        self._log_errors(parsed.errors)
        log.info("arxiv: listing for %s: %d entries", parsed.day, len(parsed.entries))
        return Listing(
            day=parsed.day,
            entries=parsed.entries,
            errors=parsed.errors,
            requests=self.ctx.counter[NAME] - before,
        )

    async def papers(self, ids: Iterable[str]) -> SourceResult:
        """Metadata for the ids, in batches. Invalid ids are dropped (reported in errors);
        ids arXiv does not know are silently absent, as the API itself does."""
        result = SourceResult(source=NAME)
        before = self.ctx.counter[NAME]
        wanted: dict[str, None] = {}
        for raw in ids:
            try:
                wanted.setdefault(arxiv_ids.parse(raw), None)
            except InvalidArxivId as exc:
                result.errors.append(f"dropped before asking arXiv: {exc}")
        ordered = list(wanted)
        size = self.config.batch_size
        for start in range(0, len(ordered), size):
            await self._batch(ordered[start : start + size], result)
        result.requests = self.ctx.counter[NAME] - before
        self._log_errors(result.errors)
        return result

    async def _batch(self, ids: list[str], result: SourceResult) -> None:
        body = await self._get(
            self.config.api_url, id_list=",".join(ids), max_results=len(ids), start=0
        )
        parsed = parse_atom(body)
        if parsed.api_errors:
            # One id arXiv rejects fails the whole request: bisect to isolate it.
            if len(ids) == 1:
                result.errors.append(f"arXiv rejected id {ids[0]}: {'; '.join(parsed.api_errors)}")
                return
            half = len(ids) // 2
            await self._batch(ids[:half], result)
            await self._batch(ids[half:], result)
            return
        result.errors.extend(parsed.errors)
        result.papers.extend(parsed.papers)

    async def submitted(
        self,
        day: dt.date,
        categories: Sequence[str] | None = None,
        *,
        window: tuple[dt.datetime, dt.datetime] | None = None,
    ) -> SourceResult:
        """Papers of the mailing dated `day`, found by submittedDate (for unrecorded days).

        `window` overrides `submission_window(day)`. Cross-lists into the categories are
        included (as `cat:` matches them); replacements are not (their v1 is older).
        """
        result = SourceResult(source=NAME)
        window = window or submission_window(day)
        if window is None:
            return result
        before = self.ctx.counter[NAME]
        cats = list(dict.fromkeys(categories or self.config.categories))
        fmt = "%Y%m%d%H%M"
        start_s, end_s = (w.astimezone(dt.UTC).strftime(fmt) for w in window)
        any_cat = " OR ".join(f"cat:{c}" for c in cats)
        query = f"({any_cat}) AND submittedDate:[{start_s} TO {end_s}]"
        seen: dict[str, Paper] = {}
        start = 0
        while True:
            parsed = parse_atom(
                await self._get(
                    self.config.api_url,
                    search_query=query,
                    start=start,
                    max_results=SEARCH_PAGE_SIZE,
                    sortBy="submittedDate",
                    sortOrder="ascending",
                )
            )
            if parsed.api_errors:
                result.errors.append(f"arXiv rejected the search: {'; '.join(parsed.api_errors)}")
                break
            result.errors.extend(parsed.errors)
            for paper in parsed.papers:
                seen.setdefault(paper.arxiv_id, paper)
            total = parsed.total or 0
            start += SEARCH_PAGE_SIZE
            if start >= total:
                break
            if not parsed.papers:
                result.errors.append(
                    f"search page at {start - SEARCH_PAGE_SIZE} was empty though arXiv "
                    f"reported {total} results; stopped there"
                )
                break
        result.papers = list(seen.values())
        result.requests = self.ctx.counter[NAME] - before
        self._log_errors(result.errors)
        return result
