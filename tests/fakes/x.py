"""A fake X API v2 recent search on loopback (GET /2/tweets/search/recent).

Build tweets with `tweet(...)`: the text carries only t.co links, and the real URLs sit in
`entities.urls[].expanded_url` (plus `unwound_url` when asked), as X serves them. Then:

    fake = FakeX([tweet("1790000000000000001", urls=["https://arxiv.org/abs/2405.01234"])])
    async with serve(fake.app()) as base_url:  # config: sources.x.base_url = base_url
        ...

The endpoint (name "search" for `fake.fail` / `fake.hits`) checks what X checks: the bearer
token (401 otherwise), `query` at most 512 characters, `max_results` 10-100, `start_time` not
older than 7 days before `fake.now` and `end_time` at least 10 s before it (400 problem
documents otherwise). It matches a tweet when any `url:"..."` clause of the query is a
substring of one of its expanded/unwound URLs, filters on `created_at` in [start, end),
answers newest first with `data`, `includes.users`, `meta` (result_count, newest_id,
oldest_id, next_token), and pages with `next_token`. `fake.queries` records each query's
parameters.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.server import Failures

BEARER = "AAAAAAAAAAAAAAAAAAAAAFakeBearerTokenForTests%2Fxyz"
_CLAUSE = re.compile(r'url:"([^"]+)"')


@dataclass
class FakeTweet:
    """A tweet object (as in `data`) and its author (as in `includes.users`)."""

    tweet: dict[str, Any]
    user: dict[str, Any]


def tweet(
    tweet_id: str,
    *,
    username: str = "ak92501",
    name: str = "AK",
    text: str = "New paper",
    urls: list[str | tuple[str, str]] | tuple = (),
    retweets: int = 0,
    likes: int = 0,
    quotes: int = 0,
    replies: int = 0,
    created_at: str = "2024-05-02T10:00:00.000Z",
) -> FakeTweet:
    """A tweet linking to `urls` (each an expanded URL, or (expanded, unwound))."""
    user_id = str(abs(hash(username)) % 10**12)
    body = text
    entities = []
    for n, url in enumerate(urls):
        expanded, unwound = url if isinstance(url, tuple) else (url, None)
        short = f"https://t.co/{tweet_id[-6:]}{n:04d}"
        body += " "
        start = len(body)
        body += short
        entity = {
            "start": start,
            "end": len(body),
            "url": short,
            "expanded_url": expanded,
            "display_url": expanded.split("://", 1)[-1][:24] + "…",
        }
        if unwound:
            entity.update(unwound_url=unwound, status=200, title="arXiv paper")
        entities.append(entity)
    data: dict[str, Any] = {
        "id": tweet_id,
        "text": body,
        "author_id": user_id,
        "created_at": created_at,
        "edit_history_tweet_ids": [tweet_id],
        "public_metrics": {
            "retweet_count": retweets,
            "reply_count": replies,
            "like_count": likes,
            "quote_count": quotes,
            "bookmark_count": 0,
            "impression_count": 1000,
        },
    }
    if entities:
        data["entities"] = {"urls": entities}
    return FakeTweet(data, {"id": user_id, "name": name, "username": username})


def _problem(status: int, title: str, detail: str, kind: str) -> web.Response:
    body = {"title": title, "detail": detail, "type": kind, "status": status}
    if status == 400:
        body = {"errors": [{"parameters": {}, "message": detail}], **body}
    return web.json_response(body, status=status)


def _invalid(detail: str) -> web.Response:
    return _problem(
        400, "Invalid Request", detail, "https://api.twitter.com/2/problems/invalid-request"
    )


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeX(Failures):
    """The fake API's state; see the module docstring."""

    def __init__(
        self,
        tweets: list[FakeTweet] | None = None,
        *,
        bearer: str = BEARER,
        now: dt.datetime = dt.datetime(2024, 5, 3, 9, 30, tzinfo=dt.UTC),
    ) -> None:
        super().__init__()
        self.tweets = list(tweets or [])
        self.bearer = bearer
        self.now = now
        self.queries: list[dict[str, str]] = []

    async def search(self, request: web.Request) -> web.Response:
        if failure := await self.scripted("search", request):
            return failure
        if request.headers.get("Authorization") != f"Bearer {self.bearer}":
            return _problem(401, "Unauthorized", "Unauthorized", "about:blank")
        q = request.query
        self.queries.append(dict(q))
        query = q.get("query", "")
        if not query or len(query) > 512:
            return _invalid(f"There were errors processing your request: query length {len(query)}")
        max_results = int(q.get("max_results", "10"))
        if not 10 <= max_results <= 100:
            return _invalid(
                f"The `max_results` query parameter value [{max_results}] is not between 10 and 100"
            )
        start = _time(q["start_time"]) if "start_time" in q else self.now - dt.timedelta(days=7)
        end = _time(q["end_time"]) if "end_time" in q else self.now - dt.timedelta(seconds=10)
        if start < self.now - dt.timedelta(days=7):
            return _invalid("Invalid 'start_time':'...'. 'start_time' must be on or after ...")
        if end > self.now - dt.timedelta(seconds=10):
            return _invalid("Invalid 'end_time':'...'. 'end_time' must be a minimum of 10 seconds")
        wanted = _CLAUSE.findall(query)
        matches = [
            t
            for t in self.tweets
            if start <= _time(t.tweet["created_at"]) < end
            and any(
                w in str(u.get(key, ""))
                for w in wanted
                for u in t.tweet.get("entities", {}).get("urls", [])
                for key in ("expanded_url", "unwound_url")
            )
        ]
        matches.sort(key=lambda t: int(t.tweet["id"]), reverse=True)
        offset = int(q.get("next_token", "0x0"), 16)
        page = matches[offset : offset + max_results]
        if not page:
            return web.json_response({"meta": {"result_count": 0}})
        users = {t.user["id"]: t.user for t in page}
        meta: dict[str, Any] = {
            "newest_id": page[0].tweet["id"],
            "oldest_id": page[-1].tweet["id"],
            "result_count": len(page),
        }
        if offset + max_results < len(matches):
            meta["next_token"] = hex(offset + max_results)
        body = {
            "data": [t.tweet for t in page],
            "includes": {"users": list(users.values())},
            "meta": meta,
        }
        return web.json_response(body)

    def app(self) -> web.Application:
        """The aiohttp application serving this fake."""
        app = web.Application()
        app.router.add_get("/2/tweets/search/recent", self.search)
        return app
