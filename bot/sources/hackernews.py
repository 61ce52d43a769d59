"""Hacker News via Algolia's search API: stories linking to arXiv, their points and comments.

One `search_by_date` request covers the whole window (`query=arxiv.org` restricted to the
story URL, `hitsPerPage=1000`). Algolia serves at most 1,000 hits per query whatever `nbHits`
says, so a window with more is split into equal parts (recursively) until each fits.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
from collections.abc import Sequence
from typing import Any

from bot import arxiv_ids
from bot.config import HackerNewsConfig
from bot.errors import InvalidArxivId, MalformedResponse
from bot.http import SourceContext, parse_json
from bot.models import Post, Signal
from bot.sources.base import SourceResult

log = logging.getLogger(__name__)

NAME = "hackernews"
HITS_PER_PAGE = 1000  # Algolia's maximum, and its cap on reachable hits per query
SPLIT_TARGET = 800  # aim below the cap when splitting, so one split usually suffices
MAX_REQUESTS = 100  # per collect: a window never needs this many; more means nbHits lies


def story_url(object_id: str) -> str:
    return f"https://news.ycombinator.com/item?id={object_id}"


def arxiv_id_of(url: str) -> str | None:
    """The canonical id a story URL points to (abs/pdf/html, any version), or None."""
    try:
        return arxiv_ids.parse(url)
    except InvalidArxivId:
        found = arxiv_ids.find_all(url)
        return found[0] if found else None


def _count(hit: dict[str, Any], key: str) -> int:
    value = hit.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} is {value!r}, not a count")
    return max(0, value)


def parse_hit(hit: Any) -> Post | None:
    """A story hit -> Post about its paper; None if it links elsewhere; ValueError if bad."""
    if not isinstance(hit, dict):
        raise ValueError("hit is not an object")
    object_id = str(hit.get("objectID") or "").strip()
    if not object_id:
        raise ValueError("hit has no objectID")
    url = hit.get("url")
    arxiv_id = arxiv_id_of(url) if isinstance(url, str) else None
    if arxiv_id is None:
        return None
    return Post(
        source=NAME,
        url=story_url(object_id),
        arxiv_id=arxiv_id,
        author=str(hit.get("author") or ""),
        handle=str(hit.get("author") or ""),
        text=" ".join(str(hit.get("title") or "").split()),
        posted=str(hit.get("created_at") or ""),
        likes=_count(hit, "points"),
        replies=_count(hit, "num_comments"),
    )


class HackerNewsSource:
    """SignalSource for Hacker News stories whose URL is an arXiv link (no credentials)."""

    name = NAME

    def __init__(
        self, ctx: SourceContext, config: HackerNewsConfig, *, include_unlisted: bool = False
    ) -> None:
        self.ctx = ctx
        self.config = config
        self.include_unlisted = include_unlisted

    def unavailable_reason(self) -> str | None:
        return None if self.config.enabled else "disabled (sources.hackernews.enabled = false)"

    async def _search(self, lo: int, hi: int) -> dict[str, Any]:
        url = f"{self.config.base_url.rstrip('/')}/api/v1/search_by_date"
        response = await self.ctx.request(
            "GET",
            url,
            source=NAME,
            min_interval=self.config.min_interval,
            params={
                "query": "arxiv.org",
                "restrictSearchableAttributes": "url",
                "tags": "story",
                "numericFilters": f"created_at_i>={lo},created_at_i<{hi}",
                "hitsPerPage": HITS_PER_PAGE,
                "page": 0,
            },
        )
        data = parse_json(response, NAME)
        if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
            raise MalformedResponse(NAME, "search answer has no 'hits' list")
        return data

    async def _window(self, lo: int, hi: int, result: SourceResult, budget: list[int]) -> list[Any]:
        """Every hit created in [lo, hi), splitting the window while Algolia caps it.

        `budget` holds the requests this collect may still make (a one-item list).
        """
        if budget[0] <= 0:
            result.errors.append(
                f"stopped splitting at [{lo}, {hi}) after {MAX_REQUESTS} requests; "
                "some stories may be missing"
            )
            return []
        budget[0] -= 1
        data = await self._search(lo, hi)
        hits: list[Any] = data["hits"]
        total = data.get("nbHits")
        # Algolia caps a query at HITS_PER_PAGE hits; a short page holds everything there is.
        if not isinstance(total, int) or total <= len(hits) or len(hits) < HITS_PER_PAGE:
            return hits
        if hi - lo <= 1:
            result.errors.append(
                f"{total} stories in one second at {lo}; only {len(hits)} are reachable"
            )
            return hits
        parts = min(hi - lo, max(2, math.ceil(total / SPLIT_TARGET)))
        bounds = [lo + (hi - lo) * n // parts for n in range(parts)] + [hi]
        log.info("hackernews: %d hits in [%d, %d): splitting in %d", total, lo, hi, parts)
        out: list[Any] = []
        for a, b in itertools.pairwise(bounds):
            if a < b:
                out.extend(await self._window(a, b, result, budget))
        return out

    async def collect(
        self, day: dt.date, ids: Sequence[str], since: dt.datetime, until: dt.datetime
    ) -> SourceResult:
        """Points and comments of stories created in [since, until) that link the day's papers.

        With `ids`, only those papers are reported (unless include_unlisted); without, every
        arXiv paper linked in the window is.
        """
        result = SourceResult(source=NAME)
        before = self.ctx.counter[NAME]
        span = (int(since.timestamp()), int(until.timestamp()))
        hits = await self._window(*span, result, [MAX_REQUESTS])
        wanted = set(ids)
        posts: dict[str, Post] = {}
        for n, hit in enumerate(hits, 1):
            try:
                post = parse_hit(hit)
            except ValueError as exc:
                result.errors.append(f"hit {n} skipped: {exc}")
                continue
            if post is None or (
                wanted and not self.include_unlisted and post.arxiv_id not in wanted
            ):
                continue
            posts[post.url] = post  # one per story, even if windows overlapped
        totals: dict[str, dict[str, int]] = {}
        for post in posts.values():
            counts = totals.setdefault(post.arxiv_id, {"points": 0, "comments": 0})
            counts["points"] += post.likes
            counts["comments"] += post.replies
        result.posts = list(posts.values())
        result.signals = [Signal(arxiv_id=i, source=NAME, counts=c) for i, c in totals.items()]
        for error in result.errors:
            log.warning("hackernews: %s", error)
        result.requests = self.ctx.counter[NAME] - before
        return result
