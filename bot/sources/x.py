"""X: tweets that link to the day's papers, from API v2 recent search (bearer token needed).

The candidates' ids are packed into as few queries as fit X's 512-character limit,
`url:"arxiv.org/abs/ID1" OR url:"arxiv.org/abs/ID2" ...`, 100 tweets a page, paged with
`next_token`. Recent search only reaches 7 days back (and not the last seconds): the window is
clamped to that and the result notes it. Tweet text carries only t.co links; the real URLs are
in `entities.urls[].expanded_url` / `unwound_url`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from bot import arxiv_ids
from bot.config import ENV_X_BEARER, Config
from bot.errors import SourceError
from bot.http import SourceContext, ensure_ok, scrub
from bot.models import Post
from bot.sources.base import SourceResult
from bot.sources.posts import (
    Page,
    about,
    counter_value,
    dedupe,
    follow_pages,
    iso_z,
    json_list,
    tally,
)

log = logging.getLogger(__name__)

NAME = "x"
SEARCH_PATH = "/2/tweets/search/recent"
MAX_QUERY = 512  # characters, self-serve recent search
PAGE_SIZE = 100  # max_results: 10-100
MAX_PAGES_PER_QUERY = 20
RECENT_REACH = dt.timedelta(days=7)
REACH_MARGIN = dt.timedelta(minutes=1)  # start a little inside the 7 days
END_MARGIN = dt.timedelta(seconds=30)  # end_time must be at least 10 s before the request
TWEET_FIELDS = "public_metrics,created_at,entities,author_id"
_JOIN = " OR "


# -- queries and the window (pure) -------------------------------------------------------------


def clause(arxiv_id: str) -> str:
    """The search clause for one paper, e.g. url:"arxiv.org/abs/2108.01234"."""
    return f'url:"arxiv.org/abs/{arxiv_id}"'


def build_queries(ids: Sequence[str], max_len: int = MAX_QUERY) -> list[str]:
    """Pack one clause per distinct id into OR-queries of at most `max_len` characters."""
    queries: list[str] = []
    current = ""
    for arxiv_id in dict.fromkeys(ids):
        part = clause(arxiv_id)
        if len(part) > max_len:
            raise ValueError(f"one clause is longer than {max_len} characters: {part[:80]}")
        candidate = f"{current}{_JOIN}{part}" if current else part
        if len(candidate) <= max_len:
            current = candidate
        else:
            queries.append(current)
            current = part
    if current:
        queries.append(current)
    return queries


def clamp_window(
    since: dt.datetime, until: dt.datetime, now: dt.datetime
) -> tuple[tuple[dt.datetime, dt.datetime] | None, str | None]:
    """The part of [since, until) recent search can cover at `now`, and a note if it shrank.

    Returns (None, note) when nothing of the window is within reach.
    """
    earliest = now - RECENT_REACH + REACH_MARGIN
    latest = now - END_MARGIN
    start, end = max(since, earliest), min(until, latest)
    if start >= end:
        return None, (
            f"window {iso_z(since)}..{iso_z(until)} is outside X recent search's reach "
            f"(the last 7 days); nothing collected"
        )
    note = None
    if start > since:
        note = (
            f"window clamped to X recent search's 7 days: from {iso_z(start)} "
            f"instead of {iso_z(since)}"
        )
    return (start, end), note


# -- parsing (pure) ----------------------------------------------------------------------------


def tweet_urls(tweet: dict[str, Any]) -> list[str]:
    """The real URLs behind a tweet's t.co links (unwound_url, else expanded_url)."""
    entities = tweet.get("entities")
    urls: list[str] = []
    for entity in json_list(entities.get("urls") if isinstance(entities, dict) else None):
        if not isinstance(entity, dict):
            continue
        for key in ("unwound_url", "expanded_url"):
            if isinstance(entity.get(key), str):
                urls.append(entity[key])
    return urls


def _paper_ids(urls: Sequence[str]) -> list[str]:
    found: dict[str, None] = {}
    for url in urls:
        for arxiv_id in arxiv_ids.find_all(url):
            found.setdefault(arxiv_id, None)
    return list(found)


def parse_tweet(tweet: Any, users: dict[str, dict[str, Any]]) -> list[Post]:
    """One Post per paper a tweet links to; ValueError saying what is wrong if malformed."""
    if not isinstance(tweet, dict):
        raise ValueError(f"tweet is not an object: {type(tweet).__name__}")
    tweet_id = tweet.get("id")
    if not isinstance(tweet_id, str) or not tweet_id.isdigit():
        raise ValueError(f"tweet has no valid id: {str(tweet_id)[:40]!r}")
    metrics = tweet.get("public_metrics")
    if not isinstance(metrics, dict):
        raise ValueError(f"tweet {tweet_id} has no public_metrics")
    user = users.get(str(tweet.get("author_id")))
    username = str(user.get("username") or "") if user else ""
    if not username:
        raise ValueError(f"tweet {tweet_id}: author {tweet.get('author_id')!r} not in includes")
    counts = {
        name: counter_value(metrics.get(key), key)
        for name, key in (
            ("likes", "like_count"),
            ("reposts", "retweet_count"),
            ("quotes", "quote_count"),
            ("replies", "reply_count"),
        )
    }
    text = tweet.get("text") if isinstance(tweet.get("text"), str) else ""
    return [
        Post(
            source=NAME,
            url=f"https://x.com/{username}/status/{tweet_id}",
            arxiv_id=arxiv_id,
            author=str(user.get("name") or username),
            handle=username,
            text=text,
            posted=str(tweet.get("created_at") or ""),
            **counts,
        )
        for arxiv_id in _paper_ids(tweet_urls(tweet))
    ]


def parse_search_page(body: Any) -> Page:
    """Parse a recent-search body (data / includes.users / meta); skip malformed tweets."""
    if not isinstance(body, dict) or not isinstance(body.get("meta", {}), dict):
        raise ValueError("recent search answer is not an object with 'meta'")
    data = body.get("data", [])
    if not isinstance(data, list):
        raise ValueError("recent search 'data' is not a list")
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    users = {
        str(u["id"]): u
        for u in json_list(includes.get("users"))
        if isinstance(u, dict) and isinstance(u.get("id"), str)
    }
    token = body.get("meta", {}).get("next_token")
    page = Page(next=token if isinstance(token, str) and token else None)
    for n, tweet in enumerate(data):
        try:
            page.posts.extend(parse_tweet(tweet, users))
        except ValueError as exc:
            page.errors.append(f"tweet {n}: {exc}")
    # Partial errors (e.g. a deleted author) come beside the data; they cost nothing else.
    for error in json_list(body.get("errors")):
        if isinstance(error, dict):
            page.errors.append(f"X reported: {str(error.get('detail') or error)[:160]}")
    return page


def _problem(response: httpx.Response) -> str:
    """X's problem text (title: detail) for an error answer, without the request itself."""
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get(k)) for k in ("title", "detail") if body.get(k)]
    return scrub(": ".join(parts), response)[:200]


# -- the source --------------------------------------------------------------------------------


class XSource:
    """The X signal source (SignalSource)."""

    name = NAME

    def __init__(self, config: Config, ctx: SourceContext) -> None:
        self.config = config
        self.settings = config.sources.x
        self.ctx = ctx

    def unavailable_reason(self) -> str | None:
        """Why X cannot run (disabled, no bearer token), or None."""
        if not self.settings.enabled:
            return "disabled in config"
        if not self.config.secrets.x_bearer_token:
            return f"no {ENV_X_BEARER} in the environment"
        return None

    async def _page(self, params: dict[str, Any]) -> httpx.Response:
        response = await self.ctx.request(
            "GET",
            f"{self.settings.base_url.rstrip('/')}{SEARCH_PATH}",
            source=NAME,
            min_interval=self.settings.min_interval,
            params=params,
            headers={"Authorization": f"Bearer {self.config.secrets.x_bearer_token}"},
        )
        if response.status_code == 401:
            raise SourceError(NAME, f"X rejected the bearer token (HTTP 401); check {ENV_X_BEARER}")
        if response.status_code == 403:
            raise SourceError(
                NAME, f"X refused recent search for this app (HTTP 403 {_problem(response)})"
            )
        if response.status_code == 400:
            raise SourceError(NAME, f"X refused the query (HTTP 400 {_problem(response)})")
        return ensure_ok(response, NAME)

    async def _search(
        self, query: str, start: dt.datetime, end: dt.datetime, result: SourceResult
    ) -> list[Post]:
        params: dict[str, Any] = {
            "query": query,
            "start_time": iso_z(start),
            "end_time": iso_z(end),
            "max_results": PAGE_SIZE,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username,name",
        }
        return await follow_pages(
            self._page,
            parse_search_page,
            params,
            page_param="next_token",
            max_pages=MAX_PAGES_PER_QUERY,
            result=result,
            what="recent search",
        )

    async def collect(
        self, day: dt.date, ids: Sequence[str], since: dt.datetime, until: dt.datetime
    ) -> SourceResult:
        """Tweets linking to the papers in `ids` within [since, until) (clamped to 7 days).

        A tweet that also links to a paper outside `ids` counts only for those in `ids`.
        """
        result = SourceResult(source=NAME)
        window, note = clamp_window(since, until, self.ctx.now())
        if note:
            log.info("x: %s", note)
            result.notes.append(note)
        if window is None or not ids:
            return result
        before = self.ctx.counter[NAME]
        posts: list[Post] = []
        try:
            for query in build_queries(ids):
                posts.extend(await self._search(query, *window, result))
        finally:
            result.requests = self.ctx.counter[NAME] - before
        result.posts = about(dedupe(posts), ids)
        result.signals = tally(NAME, result.posts, repost_key="retweets")
        log.info(
            "x: %d tweets about %d papers for %s (%d requests)",
            len(result.posts),
            len(result.signals),
            day.isoformat(),
            result.requests,
        )
        return result
