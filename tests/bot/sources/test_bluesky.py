"""Bluesky source against a fake PDS on 127.0.0.1 (tests/fakes/bluesky.py)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from bot.config import BlueskyConfig, Config, HttpConfig, Secrets, SourcesConfig
from bot.errors import SourceError
from bot.sources.bluesky import BlueskySource, parse_post_view, parse_search_page, web_url
from tests.fakes.bluesky import HANDLE, PASSWORD, FakeBluesky, post_view
from tests.fakes.server import serve, source_context

DAY = dt.date(2024, 5, 1)
SINCE = dt.datetime(2024, 5, 1, 18, tzinfo=dt.UTC)
UNTIL = dt.datetime(2024, 5, 3, 9, tzinfo=dt.UTC)
ABS = "https://arxiv.org/abs/2405.01234"


def make_config(base_url: str, *, password: str | None = PASSWORD, **bluesky) -> Config:
    bluesky = {"base_url": base_url, "handle": HANDLE, "min_interval": 0.0, **bluesky}
    return Config(
        http=HttpConfig(timeout=5.0, max_retries=2, max_retry_wait=30.0),
        sources=SourcesConfig(bluesky=BlueskyConfig(**bluesky)),
        secrets=Secrets(bluesky_password=password),
    )


async def run(fake: FakeBluesky, ids=("2405.01234",), **kw):
    async with serve(fake.app()) as url, source_context(make_config(url, **kw)) as ctx:
        result = await BlueskySource(make_config(url, **kw), ctx).collect(
            DAY, list(ids), SINCE, UNTIL
        )
        return result, ctx


# -- pure parsing ------------------------------------------------------------------------------


def test_web_url_from_at_uri():
    uri = "at://did:plc:abc/app.bsky.feed.post/3kq2x"
    assert (
        web_url(uri, "alice.bsky.social") == "https://bsky.app/profile/alice.bsky.social/post/3kq2x"
    )
    with pytest.raises(ValueError, match="at:// uri"):
        web_url("https://bsky.app/x", "a")


def test_post_view_maps_facets_embeds_and_counts():
    view = post_view(
        "3kaaa",
        text="Two papers, one café ☕",
        links=["https://arxiv.org/abs/2405.01234v2", "https://example.com/blog"],
        external="https://arxiv.org/pdf/2405.05678.pdf",
        likes=10,
        reposts=3,
        quotes=2,
        replies=1,
        indexed_at="2024-05-02T10:00:00.000Z",
    )
    posts = parse_post_view(view)
    assert [p.arxiv_id for p in posts] == ["2405.01234", "2405.05678"]
    first = posts[0]
    assert first.url == "https://bsky.app/profile/alice.bsky.social/post/3kaaa"
    assert (first.author, first.handle) == ("Alice Example", "alice.bsky.social")
    assert (first.likes, first.reposts, first.quotes, first.replies) == (10, 3, 2, 1)
    assert first.posted == "2024-05-02T10:00:00.000Z"
    assert first.text.startswith("Two papers, one café ☕ arxiv.org/abs/")
    # Facet offsets are UTF-8 bytes and cover the shortened link text.
    facet = view["record"]["facets"][0]["index"]
    raw = view["record"]["text"].encode()
    assert raw[facet["byteStart"] : facet["byteEnd"]].decode().startswith("arxiv.org/abs/2405")


def test_post_without_display_name_uses_handle_and_text_links_count():
    view = post_view("3kbbb", display_name=None, text="see arxiv.org/abs/2405.09999 !")
    (post,) = parse_post_view(view)
    assert (post.arxiv_id, post.author) == ("2405.09999", "alice.bsky.social")


def test_malformed_records_are_skipped_with_reasons():
    good = post_view("3kgood", links=[ABS], likes=1)
    no_author = {**post_view("3knoauth", links=[ABS]), "author": {}}
    bad_count = {**post_view("3kcount", links=[ABS]), "likeCount": "many"}
    bad_uri = {**post_view("3kuri", links=[ABS]), "uri": "https://example.com"}
    page = parse_search_page({"posts": [no_author, good, bad_count, bad_uri, "junk"]})
    assert [p.url.rsplit("/", 1)[1] for p in page.posts] == ["3kgood"]
    assert len(page.errors) == 4
    assert "no author handle" in page.errors[0]
    assert "likeCount is not a count" in page.errors[1]
    assert "at:// uri" in page.errors[2]
    with pytest.raises(ValueError, match="no 'posts' list"):
        parse_search_page({"cursor": "x"})


# -- against the fake server -------------------------------------------------------------------


async def test_normal_day_counts_per_paper_and_sends_the_documented_query():
    fake = FakeBluesky(
        posts=[
            post_view("3k1", links=[ABS], likes=40, reposts=5, quotes=1, replies=2),
            post_view("3k2", handle="bob.bsky.social", external=ABS + "v3", likes=2, reposts=1),
            post_view("3k3", links=["https://arxiv.org/abs/2405.07777"], likes=7),
            post_view("3k4", links=["https://example.com/not-a-paper"], likes=99),
            post_view("3k5", links=[ABS], likes=1000, indexed_at="2024-04-20T00:00:00.000Z"),
        ]
    )
    result, ctx = await run(fake, ids=["2405.01234", "2405.07777"])
    counts = {s.arxiv_id: s.counts for s in result.signals}
    assert counts == {
        "2405.01234": {"posts": 2, "likes": 42, "reposts": 6, "quotes": 1, "replies": 2},
        "2405.07777": {"posts": 1, "likes": 7, "reposts": 0, "quotes": 0, "replies": 0},
    }
    assert {p.url for p in result.posts} == {
        "https://bsky.app/profile/alice.bsky.social/post/3k1",
        "https://bsky.app/profile/bob.bsky.social/post/3k2",
        "https://bsky.app/profile/alice.bsky.social/post/3k3",
    }
    (search,) = fake.searches
    assert search == {
        "q": "arxiv.org",
        "domain": "arxiv.org",
        "sort": "latest",
        "since": "2024-05-01T18:00:00Z",
        "until": "2024-05-03T09:00:00Z",
        "limit": "100",
    }
    assert result.requests == 2 == ctx.counter["bluesky"]  # login + one page
    assert result.errors == []


async def test_only_the_days_papers_count_unless_there_is_no_listing():
    fake = FakeBluesky(
        posts=[
            post_view("3k1", links=[ABS], likes=4),
            post_view("3k2", links=["https://arxiv.org/abs/1706.03762"], likes=500),
        ]
    )
    result, _ = await run(fake)
    assert [s.arxiv_id for s in result.signals] == ["2405.01234"]
    assert [p.arxiv_id for p in result.posts] == ["2405.01234"]
    result, _ = await run(fake, ids=[])
    assert [s.arxiv_id for s in result.signals] == ["1706.03762", "2405.01234"]


async def test_empty_window():
    result, _ = await run(FakeBluesky())
    assert (result.signals, result.posts, result.errors) == ([], [], [])


async def test_pagination_follows_the_cursor_and_dedupes():
    posts = [
        post_view(
            f"3k{n:03d}",
            links=[ABS],
            likes=1,
            indexed_at=f"2024-05-02T{n // 60:02d}:{n % 60:02d}:00.000Z",
        )
        for n in range(250)
    ]
    fake = FakeBluesky(posts=posts)
    result, _ = await run(fake)
    assert [s.get("cursor") for s in fake.searches] == [None, "100", "200"]
    assert result.signals[0].counts["posts"] == 250
    assert result.requests == 4


async def test_429_with_retry_after_is_honoured():
    fake = FakeBluesky(posts=[post_view("3k1", links=[ABS], likes=3)])
    fake.fail(
        "searchPosts", 429, headers={"Retry-After": "7"}, body='{"error":"RateLimitExceeded"}'
    )
    result, ctx = await run(fake)
    assert 7.0 in ctx.sleep.waits
    assert result.signals[0].counts["likes"] == 3
    assert fake.hits["searchPosts"] == 2 and result.requests == 3


async def test_503_then_success_and_503_forever_fails_the_source():
    fake = FakeBluesky(posts=[post_view("3k1", links=[ABS], likes=3)])
    fake.fail("searchPosts", 503)
    result, _ = await run(fake)
    assert result.signals[0].counts["likes"] == 3
    fake.fail("searchPosts", 503, times=3)
    with pytest.raises(SourceError, match="HTTP 503, gave up after 3 attempts"):
        await run(fake)


async def test_timeouts_are_retried():
    fake = FakeBluesky(posts=[post_view("3k1", links=[ABS], likes=3)])
    fake.fail("searchPosts", hang=True)
    result, _ = await run(fake)
    assert result.signals[0].counts["likes"] == 3
    fake.fail("createSession", hang=True, times=3)
    with pytest.raises(SourceError, match="timed out"):
        await run(fake)


async def test_malformed_page_keeps_earlier_pages():
    posts = [post_view(f"3k{n:03d}", links=[ABS], likes=1) for n in range(150)]
    fake = FakeBluesky(posts=posts)
    fake.fail("searchPosts", 200, body="<html>gateway</html>", content_type="text/html", after=1)
    result, _ = await run(fake)
    assert result.signals[0].counts["posts"] == 100
    assert len(result.errors) == 1 and "page 2: malformed answer" in result.errors[0]


async def test_malformed_records_are_reported_and_the_rest_kept():
    bad = {**post_view("3kbad", links=[ABS]), "repostCount": -4}
    fake = FakeBluesky(posts=[bad, post_view("3kok", links=[ABS], likes=5)])
    result, _ = await run(fake)
    assert result.signals[0].counts == {
        "posts": 1,
        "likes": 5,
        "reposts": 0,
        "quotes": 0,
        "replies": 0,
    }
    assert len(result.errors) == 1 and "repostCount is not a count" in result.errors[0]


async def test_expired_token_is_refreshed_and_the_search_retried():
    posts = [post_view(f"3k{n:03d}", links=[ABS], likes=1) for n in range(150)]
    fake = FakeBluesky(posts=posts)
    fake.expire_after = 1
    result, _ = await run(fake)
    assert result.signals[0].counts["posts"] == 150
    assert fake.hits["refreshSession"] == 1 and fake.hits["createSession"] == 1


async def test_refused_refresh_falls_back_to_a_new_login():
    fake = FakeBluesky(posts=[post_view("3k1", links=[ABS], likes=1)])
    fake.expire_after = 0
    fake.fail("refreshSession", 400, body='{"error":"ExpiredToken","message":"Token has expired"}')
    # after the second login the new token expires too: the retry-once rule gives up clearly.
    with pytest.raises(SourceError, match=r"searchPosts refused .*ExpiredToken"):
        await run(fake)
    assert fake.hits["createSession"] == 2
    fake.expire_after = None
    fake.fail("refreshSession", 400, body='{"error":"ExpiredToken","message":"expired"}')
    fake.expire_tokens()
    result, _ = await run(fake)
    assert result.signals[0].counts["posts"] == 1


async def test_login_rejected_is_a_clear_error_without_the_password(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeBluesky(password="the-right-one")
    with pytest.raises(SourceError) as info:
        await run(fake)
    message = str(info.value)
    assert "login as hotpapers.bsky.social rejected (HTTP 401 AuthenticationRequired)" in message
    assert "HOTPAPERS_BLUESKY_APP_PASSWORD" in message
    assert PASSWORD not in message and PASSWORD not in caplog.text
    assert fake.passwords_seen == [PASSWORD]


async def test_duplicate_and_versioned_links_count_once_per_post():
    view = post_view(
        "3kdup",
        links=[ABS + "v1", ABS + "v2", "https://arxiv.org/pdf/2405.01234v2"],
        external="http://www.arxiv.org/abs/2405.01234",
        likes=9,
    )
    fake = FakeBluesky(posts=[view, view])
    result, _ = await run(fake)
    assert len(result.posts) == 1
    assert result.signals[0].counts["likes"] == 9


def test_unavailable_reasons():
    ok = make_config("http://127.0.0.1:1")
    assert BlueskySource(ok, None).unavailable_reason() is None
    assert (
        BlueskySource(make_config("http://x", enabled=False), None).unavailable_reason()
        == "disabled in config"
    )
    assert (
        "sources.bluesky.handle"
        in BlueskySource(make_config("http://x", handle=""), None).unavailable_reason()
    )
    assert BlueskySource(make_config("http://x", password=None), None).unavailable_reason() == (
        "no HOTPAPERS_BLUESKY_APP_PASSWORD in the environment"
    )


async def test_no_secret_reaches_the_log_in_a_run_with_failures(caplog):
    caplog.set_level(logging.DEBUG)
    posts = [post_view(f"3k{n:03d}", links=[ABS], likes=1) for n in range(150)]
    fake = FakeBluesky(posts=posts)
    fake.expire_after = 1
    fake.fail("searchPosts", 429, headers={"Retry-After": "1"})
    fake.fail("refreshSession", 503)
    result, _ = await run(fake)
    assert result.signals[0].counts["posts"] == 150
    fake.password = "changed"
    with pytest.raises(SourceError):
        await run(fake)
    issued = ["eyJhbGciOi.access", "eyJhbGciOi.refresh"]
    assert PASSWORD not in caplog.text
    assert not any(token in caplog.text for token in issued)
