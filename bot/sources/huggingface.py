"""Hugging Face Daily Papers: upvotes, comments, code and project links, and who submitted it.

`/api/daily_papers?date=YYYY-MM-DD` lists the papers *featured* on that date, which for the
papers announced on day D means D and D+1; so one listing request per date from D to the end
of the window (usually two) covers every candidate, whatever their number. `/api/papers/{id}`
is asked only for up to `max_lookups` candidates missing from those listings (default 0: a
paper nobody featured has no upvotes worth a request each).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import arxiv_ids
from bot.config import HuggingFaceConfig
from bot.errors import InvalidArxivId
from bot.http import SourceContext, parse_json
from bot.models import Paper, Post, Signal
from bot.sources.base import SourceResult

log = logging.getLogger(__name__)

NAME = "huggingface"
PAGE_LIMIT = 100
MAX_PAGES = 10
MAX_DATES = 8


def hf_url(arxiv_id: str) -> str:
    """The paper's page on Hugging Face."""
    return f"https://huggingface.co/papers/{arxiv_id}"


def featured_dates(day: dt.date, until: dt.datetime) -> list[dt.date]:
    """The `date` values to ask for: D through the window's last day (at most MAX_DATES)."""
    last = max(day, until.astimezone(dt.UTC).date())
    count = min((last - day).days + 1, MAX_DATES)
    return [day + dt.timedelta(days=n) for n in range(count)]


@dataclass(slots=True)
class _Entry:
    paper: Paper
    upvotes: int
    comments: int | None
    post: Post | None


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} is {value!r}, not a count")
    return value


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_paper(paper: Any, item: dict[str, Any] | None = None) -> _Entry:
    """A paper object (daily item's `paper`, or /api/papers/{id}) -> entry; ValueError if bad."""
    if not isinstance(paper, dict):
        raise ValueError("no paper object")
    try:
        arxiv_id = arxiv_ids.parse(str(paper.get("id", "")))
    except InvalidArxivId as exc:
        raise ValueError(str(exc)) from None
    upvotes = _count(paper.get("upvotes", 0), f"{arxiv_id}: upvotes")
    comments = None
    if item is not None and "numComments" in item:
        comments = _count(item["numComments"], f"{arxiv_id}: numComments")
    authors = paper.get("authors")
    authors = authors if isinstance(authors, list) else []
    title = " ".join(_text(paper.get("title")).split()) or arxiv_id
    enriched = Paper(
        arxiv_id=arxiv_id,
        title=title,
        authors=tuple(
            name for a in authors if isinstance(a, dict) and (name := _text(a.get("name")))
        ),
        code_url=_text(paper.get("githubRepo")) or None,
        project_url=_text(paper.get("projectPage")) or None,
        hf_url=hf_url(arxiv_id),
    )
    submitter = (item or {}).get("submittedBy") or paper.get("submittedOnDailyBy") or {}
    post = None
    if isinstance(submitter, dict) and (submitter.get("name") or submitter.get("user")):
        handle = _text(submitter.get("name") or submitter.get("user"))
        post = Post(
            source=NAME,
            url=hf_url(arxiv_id),
            arxiv_id=arxiv_id,
            author=_text(submitter.get("fullname")) or handle,
            handle=handle,
            text=title,
            posted=_text((item or {}).get("publishedAt") or paper.get("submittedOnDailyAt")),
            likes=upvotes,
            replies=comments or 0,
        )
    return _Entry(enriched, upvotes, comments, post)


class HuggingFaceSource:
    """SignalSource for Hugging Face Daily Papers (no credentials)."""

    name = NAME

    def __init__(
        self,
        ctx: SourceContext,
        config: HuggingFaceConfig,
        *,
        max_lookups: int = 0,
        include_unlisted: bool = False,
    ) -> None:
        self.ctx = ctx
        self.config = config
        self.max_lookups = max_lookups
        self.include_unlisted = include_unlisted

    def unavailable_reason(self) -> str | None:
        return None if self.config.enabled else "disabled (sources.huggingface.enabled = false)"

    async def _get(self, path: str, **params: str | int) -> Any:
        url = f"{self.config.base_url.rstrip('/')}{path}"
        response = await self.ctx.request(
            "GET", url, source=NAME, min_interval=self.config.min_interval, params=params
        )
        if response.status_code == 404:
            return None
        return parse_json(response, NAME)

    async def _daily(self, date: dt.date, result: SourceResult) -> dict[str, _Entry]:
        found: dict[str, _Entry] = {}
        for page in range(MAX_PAGES):
            items = await self._get(
                "/api/daily_papers", date=date.isoformat(), limit=PAGE_LIMIT, p=page
            )
            if items is None:
                break
            if not isinstance(items, list):
                result.errors.append(
                    f"daily_papers {date}: expected a list, got {type(items).__name__}"
                )
                break
            new = 0
            for n, item in enumerate(items, 1):
                try:
                    entry = parse_paper(item.get("paper") if isinstance(item, dict) else None, item)
                except ValueError as exc:
                    result.errors.append(f"daily_papers {date} item {n} skipped: {exc}")
                    continue
                if entry.paper.arxiv_id not in found:
                    new += 1
                found[entry.paper.arxiv_id] = entry
            if len(items) < PAGE_LIMIT or not new:
                break
        return found

    async def collect(
        self, day: dt.date, ids: Sequence[str], since: dt.datetime, until: dt.datetime
    ) -> SourceResult:
        """Upvotes and comments for the day's papers from the listings of their featured dates.

        With `ids`, only those papers are reported (unless include_unlisted); without, every
        paper featured on those dates is.
        """
        result = SourceResult(source=NAME)
        before = self.ctx.counter[NAME]
        seen: dict[str, _Entry] = {}
        for date in featured_dates(day, until):
            for arxiv_id, entry in (await self._daily(date, result)).items():
                old = seen.get(arxiv_id)
                if old is None or entry.upvotes >= old.upvotes:
                    seen[arxiv_id] = entry
        wanted = list(dict.fromkeys(ids))
        for arxiv_id in [i for i in wanted if i not in seen][: self.max_lookups]:
            data = await self._get(f"/api/papers/{arxiv_id}")
            if data is None:
                continue
            try:
                seen[arxiv_id] = parse_paper(data)
            except ValueError as exc:
                result.errors.append(f"papers/{arxiv_id} skipped: {exc}")
        if wanted and not self.include_unlisted:
            keep = set(wanted)
            seen = {k: v for k, v in seen.items() if k in keep}
        for arxiv_id, entry in seen.items():
            counts = {"upvotes": entry.upvotes}
            if entry.comments is not None:
                counts["comments"] = entry.comments
            result.signals.append(Signal(arxiv_id=arxiv_id, source=NAME, counts=counts))
            result.papers.append(entry.paper)
            if entry.post is not None:
                result.posts.append(entry.post)
        for error in result.errors:
            log.warning("huggingface: %s", error)
        result.requests = self.ctx.counter[NAME] - before
        return result
