"""Helpers shared by the post-based sources: dedupe posts, sum them into per-paper signals."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.models import Post, Signal
from bot.sources.base import SourceResult

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Page:
    """One page of a search: posts about papers, the next page's token, skipped records."""

    posts: list[Post] = field(default_factory=list)
    next: str | None = None
    errors: list[str] = field(default_factory=list)


async def follow_pages(
    fetch: Callable[[dict[str, Any]], Awaitable[httpx.Response]],
    parse: Callable[[Any], Page],
    params: dict[str, Any],
    *,
    page_param: str,
    max_pages: int,
    result: SourceResult,
    what: str,
) -> list[Post]:
    """Fetch and parse pages, passing each page's token as `page_param`, until none is left.

    Skipped records go to `result.errors`; a malformed page is recorded there too and ends
    the paging (its token is lost), keeping the posts of the pages before it.
    """
    params = dict(params)
    posts: list[Post] = []
    for number in range(1, max_pages + 1):
        response = await fetch(params)
        try:
            page = parse(json.loads(response.content))
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            reason = f"{what} page {number}: malformed answer ({str(exc)[:120]})"
            log.warning("%s: %s; stopping there", result.source, reason)
            result.errors.append(reason)
            break
        for error in page.errors:
            log.warning("%s: %s page %d: skipped %s", result.source, what, number, error)
        result.errors.extend(f"{what} page {number}: {e}" for e in page.errors)
        posts.extend(page.posts)
        if page.next is None:
            break
        params[page_param] = page.next
    else:
        log.warning("%s: stopped %s after %d pages; there are more", result.source, what, max_pages)
    return posts


def dedupe(posts: Iterable[Post]) -> list[Post]:
    """One post per (url, paper); a later copy (fresher counts) replaces an earlier one."""
    seen: dict[tuple[str, str], Post] = {}
    for post in posts:
        seen.pop((post.url, post.arxiv_id), None)
        seen[(post.url, post.arxiv_id)] = post
    return list(seen.values())


def about(posts: Iterable[Post], ids: Sequence[str]) -> list[Post]:
    """The posts about the papers in `ids`; all of them when `ids` is empty (no listing)."""
    wanted = set(ids)
    return [p for p in posts if not wanted or p.arxiv_id in wanted]


def tally(source: str, posts: Iterable[Post], *, repost_key: str = "reposts") -> list[Signal]:
    """One Signal per paper: how many posts, and their summed likes, reposts, quotes, replies.

    `repost_key` names the repost count as the source calls it (X: "retweets").
    """
    totals: dict[str, dict[str, int]] = {}
    for post in posts:
        counts = totals.setdefault(
            post.arxiv_id, {"posts": 0, "likes": 0, repost_key: 0, "quotes": 0, "replies": 0}
        )
        counts["posts"] += 1
        counts["likes"] += post.likes
        counts[repost_key] += post.reposts
        counts["quotes"] += post.quotes
        counts["replies"] += post.replies
    return [Signal(arxiv_id=i, source=source, counts=totals[i]) for i in sorted(totals)]


def iso_z(moment: dt.datetime) -> str:
    """A timezone-aware datetime as RFC 3339 UTC with a Z, e.g. 2024-01-02T03:04:05Z."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass timezone-aware times")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_list(value: object) -> list[Any]:
    """A JSON array as a list; anything else (null, a number, an object...) as empty."""
    return value if isinstance(value, list) else []


def counter_value(value: object, field: str) -> int:
    """A non-negative integer count from a JSON value; ValueError naming the field otherwise."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{field} is not a count: {value!r}"[:120])
    return value
