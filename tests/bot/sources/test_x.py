"""X source against a fake API v2 recent search on 127.0.0.1 (tests/fakes/x.py)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from bot.config import Config, HttpConfig, Secrets, SourcesConfig, XConfig
from bot.errors import SourceError
from bot.sources.x import XSource, build_queries, clamp_window, clause, parse_search_page
from tests.fakes.server import serve, source_context
from tests.fakes.x import BEARER, FakeX, tweet

NOW = dt.datetime(2024, 5, 3, 9, 30, tzinfo=dt.UTC)
DAY = dt.date(2024, 5, 1)
SINCE = dt.datetime(2024, 5, 1, 18, tzinfo=dt.UTC)
UNTIL = dt.datetime(2024, 5, 3, 9, tzinfo=dt.UTC)
ABS = "https://arxiv.org/abs/2405.01234"


def make_config(base_url: str, *, token: str | None = BEARER, **x) -> Config:
    return Config(
        http=HttpConfig(timeout=5.0, max_retries=2, max_retry_wait=30.0),
        sources=SourcesConfig(x=XConfig(base_url=base_url, min_interval=0.0, **x)),
        secrets=Secrets(x_bearer_token=token),
    )


async def run(fake: FakeX, ids=("2405.01234",), since=SINCE, until=UNTIL, **kw):
    async with (
        serve(fake.app()) as url,
        source_context(make_config(url, **kw), now=lambda: NOW) as ctx,
    ):
        result = await XSource(make_config(url, **kw), ctx).collect(DAY, list(ids), since, until)
        return result, ctx


def ids_for(n: int) -> list[str]:
    return [f"2405.{i:05d}" for i in range(n)]


# -- pure --------------------------------------------------------------------------------------


def test_queries_batch_ids_with_or_within_512_characters():
    ids = [*ids_for(40), "hep-th/9901001", "2405.00003"]  # a duplicate and an old-style id
    queries = build_queries(ids)
    assert all(len(q) <= 512 for q in queries)
    clauses = [c for q in queries for c in q.split(" OR ")]
    assert clauses == [clause(i) for i in dict.fromkeys(ids)]
    assert queries[0].startswith('url:"arxiv.org/abs/2405.00000" OR url:"arxiv.org/abs/2405.00001"')
    assert [q.count(" OR ") + 1 for q in queries] == [15, 15, 11]  # 15 x 30 chars + " OR "s
    assert len(queries[0]) + len(" OR " + clause("2405.99999")) > 512
    assert build_queries([]) == []


def test_window_is_clamped_to_seven_days_and_ten_seconds():
    window, note = clamp_window(SINCE, UNTIL, NOW)
    assert window == (SINCE, UNTIL) and note is None
    (start, end), note = clamp_window(NOW - dt.timedelta(days=9), NOW, NOW)
    assert start == NOW - dt.timedelta(days=7) + dt.timedelta(minutes=1)
    assert end == NOW - dt.timedelta(seconds=30)
    assert "clamped" in note
    window, note = clamp_window(NOW - dt.timedelta(days=10), NOW - dt.timedelta(days=8), NOW)
    assert window is None and "outside X recent search's reach" in note


def test_page_maps_tco_links_through_entities_and_skips_bad_tweets():
    good = tweet(
        "1790000000000000001",
        username="hardmaru",
        name="hardmaru",
        text="Look at this https://t.co/zzz",
        urls=[("https://t.co/redirect", ABS + "v2"), "https://github.com/x/y"],
        retweets=12,
        likes=80,
        quotes=3,
        replies=4,
    )
    no_metrics = tweet("1790000000000000002", urls=[ABS])
    del no_metrics.tweet["public_metrics"]
    orphan = tweet("1790000000000000003", username="gone", urls=[ABS])
    body = {
        "data": [good.tweet, no_metrics.tweet, orphan.tweet, {"id": "abc"}],
        "includes": {"users": [good.user, no_metrics.user]},
        "meta": {"result_count": 4, "next_token": "b26v89c19zqg8o3fo7"},
        "errors": [{"detail": "Could not find user with ids: [42].", "title": "Not Found Error"}],
    }
    page = parse_search_page(body)
    (post,) = page.posts
    assert post.url == "https://x.com/hardmaru/status/1790000000000000001"
    assert post.arxiv_id == "2405.01234"
    assert (post.reposts, post.likes, post.quotes, post.replies) == (12, 80, 3, 4)
    assert "https://t.co/" in post.text and post.posted == "2024-05-02T10:00:00.000Z"
    assert page.next == "b26v89c19zqg8o3fo7"
    assert [e.split(":")[0] for e in page.errors] == ["tweet 1", "tweet 2", "tweet 3", "X reported"]
    assert parse_search_page({"meta": {"result_count": 0}}).posts == []
    with pytest.raises(ValueError):
        parse_search_page({"data": "nope", "meta": {}})


# -- against the fake --------------------------------------------------------------------------


async def test_normal_day_with_counts_and_the_documented_parameters():
    fake = FakeX(
        [
            tweet("1790000000000000010", urls=[ABS], retweets=100, likes=400, quotes=7, replies=9),
            tweet("1790000000000000011", username="other", urls=[ABS + "v1"], likes=5),
            tweet("1790000000000000012", urls=["https://arxiv.org/abs/2405.00002"], likes=1),
            tweet("1790000000000000013", urls=[ABS], likes=999, created_at="2024-04-30T00:00:00Z"),
        ]
    )
    result, _ = await run(fake, ids=["2405.01234", "2405.00002"])
    counts = {s.arxiv_id: s.counts for s in result.signals}
    assert counts["2405.01234"] == {
        "posts": 2,
        "likes": 405,
        "retweets": 100,
        "quotes": 7,
        "replies": 9,
    }
    assert counts["2405.00002"]["posts"] == 1
    (q,) = fake.queries
    assert q["query"] == 'url:"arxiv.org/abs/2405.01234" OR url:"arxiv.org/abs/2405.00002"'
    assert (q["start_time"], q["end_time"]) == ("2024-05-01T18:00:00Z", "2024-05-03T09:00:00Z")
    assert q["max_results"] == "100" and q["expansions"] == "author_id"
    assert q["tweet.fields"] == "public_metrics,created_at,entities,author_id"
    assert q["user.fields"] == "username,name"
    assert result.requests == 1 and result.notes == []


async def test_a_tweet_also_linking_another_paper_counts_only_for_the_days_papers():
    fake = FakeX([tweet("1790000000000000010", urls=[ABS, "https://arxiv.org/abs/1706.03762"])])
    result, _ = await run(fake)
    assert [s.arxiv_id for s in result.signals] == ["2405.01234"]


async def test_empty_window_and_no_ids():
    result, _ = await run(FakeX())
    assert (result.signals, result.posts, result.requests) == ([], [], 1)
    result, _ = await run(FakeX(), ids=[])
    assert result.requests == 0


async def test_many_ids_are_batched_and_pages_followed():
    ids = ids_for(30)
    tweets = [
        tweet(f"17900000000000{n:05d}", urls=[f"https://arxiv.org/abs/{ids[n % 30]}"], likes=1)
        for n in range(250)
    ]
    fake = FakeX(tweets)
    result, _ = await run(fake, ids=ids)
    assert all(len(q["query"]) <= 512 for q in fake.queries)
    assert len({q["query"] for q in fake.queries}) == 2  # 30 ids -> 2 queries of 15
    assert sum(s.counts["posts"] for s in result.signals) == 250
    assert len(result.signals) == 30
    assert result.requests == len(fake.queries)
    assert any("next_token" in q for q in fake.queries)


async def test_old_window_is_clamped_and_noted():
    fake = FakeX([tweet("1790000000000000010", urls=[ABS], likes=3)])
    result, _ = await run(fake, since=NOW - dt.timedelta(days=8))
    assert result.signals[0].counts["likes"] == 3
    assert "clamped" in result.notes[0]
    result, _ = await run(fake, since=NOW - dt.timedelta(days=12), until=NOW - dt.timedelta(days=9))
    assert result.requests == 0 and "outside" in result.notes[0]


async def test_429_with_retry_after_and_503_are_retried():
    fake = FakeX([tweet("1790000000000000010", urls=[ABS], likes=3)])
    fake.fail("search", 429, headers={"Retry-After": "5"})
    fake.fail("search", 503)
    result, ctx = await run(fake)
    assert 5.0 in ctx.sleep.waits
    assert result.signals[0].counts["likes"] == 3 and result.requests == 3


async def test_429_with_only_x_rate_limit_reset_waits_until_the_reset():
    fake = FakeX([tweet("1790000000000000010", urls=[ABS], likes=3)])
    reset = int(NOW.timestamp()) + 12
    fake.fail(
        "search", 429, headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    )
    result, ctx = await run(fake)
    assert 12.0 in ctx.sleep.waits and result.signals[0].counts["likes"] == 3
    fake.fail("search", 429, headers={"x-rate-limit-reset": str(int(NOW.timestamp()) + 900)})
    with pytest.raises(SourceError, match="longer than the 30s allowed"):
        await run(fake)


async def test_timeouts_then_giving_up():
    fake = FakeX([tweet("1790000000000000010", urls=[ABS], likes=3)])
    fake.fail("search", hang=True)
    result, _ = await run(fake)
    assert result.signals[0].counts["likes"] == 3
    fake.fail("search", hang=True, times=3)
    with pytest.raises(SourceError, match="timed out"):
        await run(fake)


async def test_malformed_json_skips_the_rest_of_that_query_only():
    ids = ids_for(30)
    fake = FakeX([tweet("1790000000000000010", urls=[f"https://arxiv.org/abs/{ids[29]}"], likes=3)])
    fake.fail("search", 200, body='{"data": [', after=0)
    result, _ = await run(fake, ids=ids)
    assert result.signals[0].arxiv_id == ids[29]
    assert len(result.errors) == 1 and "malformed answer" in result.errors[0]


async def test_rejected_token_and_forbidden_are_clear(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeX(bearer="another-token")
    with pytest.raises(SourceError, match=r"X rejected the bearer token \(HTTP 401\)"):
        await run(fake)
    fake.fail(
        "search",
        403,
        body='{"title":"Client Forbidden","detail":"This request must be made using an '
        'approved developer account that is enrolled in the requested endpoint.",'
        '"type":"https://api.twitter.com/2/problems/client-forbidden"}',
    )
    with pytest.raises(SourceError, match="HTTP 403 Client Forbidden"):
        await run(fake)
    assert BEARER not in caplog.text


async def test_duplicate_and_versioned_links_count_once():
    both = tweet(
        "1790000000000000010",
        urls=[ABS + "v1", ("https://t.co/a", ABS + "v2"), "https://arxiv.org/pdf/2405.01234"],
        likes=10,
    )
    fake = FakeX([both])
    result, _ = await run(fake, ids=["2405.01234", "2405.01234"])
    assert len(result.posts) == 1 and result.signals[0].counts["likes"] == 10


def test_unavailable_reasons():
    assert XSource(make_config("http://x"), None).unavailable_reason() is None
    assert XSource(make_config("http://x", enabled=False), None).unavailable_reason() == (
        "disabled in config"
    )
    assert XSource(make_config("http://x", token=None), None).unavailable_reason() == (
        "no HOTPAPERS_X_BEARER_TOKEN in the environment"
    )


async def test_no_secret_in_logs_after_a_run_with_failures(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeX([tweet("1790000000000000010", urls=[ABS], likes=3)])
    fake.fail("search", 429, headers={"Retry-After": "1"})
    fake.fail("search", hang=True)
    await run(fake)
    fake.fail("search", 503, times=3)
    with pytest.raises(SourceError) as info:
        await run(fake)
    assert BEARER not in caplog.text and BEARER not in str(info.value)
