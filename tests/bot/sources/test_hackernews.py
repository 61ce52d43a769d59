"""Hacker News (Algolia) source against the loopback fake."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.errors import MalformedResponse
from bot.models import Signal
from bot.sources.base import SignalSource
from bot.sources.hackernews import HackerNewsSource, arxiv_id_of
from tests.fakes.hackernews import story_hit
from tests.fakes.sources import Failure

DAY = dt.date(2024, 5, 2)
SINCE = dt.datetime(2024, 5, 2, 0, tzinfo=dt.UTC)
UNTIL = dt.datetime(2024, 5, 3, 9, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    return SINCE + dt.timedelta(hours=hours)


def source(make_ctx, **kw) -> HackerNewsSource:
    ctx, config = make_ctx()
    return HackerNewsSource(ctx, config.sources.hackernews, **kw)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2405.00001", "2405.00001"),
        ("https://arxiv.org/abs/2405.00001v3", "2405.00001"),
        ("http://arxiv.org/pdf/2405.00001v2.pdf", "2405.00001"),
        ("https://arxiv.org/html/2405.00001v1", "2405.00001"),
        ("https://www.arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
        ("https://export.arxiv.org/abs/2405.00001?context=cs", "2405.00001"),
        ("https://arxiv.org/list/cs.CV/new", None),
        ("https://example.org/?ref=arxiv.org", None),
    ],
)
def test_story_urls_map_to_canonical_ids(url, expected):
    assert arxiv_id_of(url) == expected


async def test_collect_one_request_for_the_window(fake, make_ctx):
    fake.hn_hits += [
        story_hit(
            101,
            "https://arxiv.org/abs/2405.00001v2",
            created=at(3),
            points=250,
            comments=80,
            title="Seeing  Things",
            author="alice",
        ),
        story_hit(102, "https://arxiv.org/pdf/2405.00001", created=at(5), points=12, comments=3),
        story_hit(
            103, "https://arxiv.org/abs/2405.00002", created=at(6), points=None, comments=None
        ),
        story_hit(104, "https://arxiv.org/abs/2405.00003", created=at(40)),  # after the window
        story_hit(105, "https://arxiv.org/list/cs.CV/new", created=at(7)),
    ]
    src = source(make_ctx)
    _typed: SignalSource = src  # satisfies the protocol (checked by type checkers)
    result = await src.collect(DAY, [], SINCE, UNTIL)
    assert sorted(result.signals, key=lambda s: s.arxiv_id) == [
        Signal("2405.00001", "hackernews", {"points": 262, "comments": 83}),
        Signal("2405.00002", "hackernews", {"points": 0, "comments": 0}),
    ]
    post = next(p for p in result.posts if p.url.endswith("=101"))
    assert post.url == "https://news.ycombinator.com/item?id=101"
    assert (post.author, post.text, post.likes, post.replies) == ("alice", "Seeing Things", 250, 80)
    assert post.posted == "2024-05-02T03:00:00Z"
    assert result.requests == 1
    q = parse_qs(urlsplit(fake.requests[0][1]).query)
    assert q["numericFilters"] == [
        f"created_at_i>={int(SINCE.timestamp())},created_at_i<{int(UNTIL.timestamp())}"
    ]
    assert q["hitsPerPage"] == ["1000"]
    assert q["restrictSearchableAttributes"] == ["url"]
    assert q["tags"] == ["story"]


async def test_ids_filter_the_papers_reported(fake, make_ctx):
    fake.hn_hits += [
        story_hit(1, "https://arxiv.org/abs/2405.00001", created=at(1)),
        story_hit(2, "https://arxiv.org/abs/1706.03762", created=at(2)),
    ]
    result = await source(make_ctx).collect(DAY, ["2405.00001"], SINCE, UNTIL)
    assert [s.arxiv_id for s in result.signals] == ["2405.00001"]
    both = await source(make_ctx, include_unlisted=True).collect(DAY, ["2405.00001"], SINCE, UNTIL)
    assert len(both.signals) == 2


async def test_more_than_1000_hits_splits_the_window(fake, make_ctx):
    span = (UNTIL - SINCE).total_seconds()
    fake.hn_hits += [
        story_hit(
            10_000 + i,
            f"https://arxiv.org/abs/2405.{i + 1:05d}",
            created=SINCE + dt.timedelta(seconds=span * i / 2500),
            points=1,
        )
        for i in range(2500)
    ]
    result = await source(make_ctx).collect(DAY, [], SINCE, UNTIL)
    assert len(result.posts) == 2500
    assert len(result.signals) == 2500
    # 1 probe + 4 parts (2500 / 800 -> 4), each part under the cap
    assert result.requests == 5
    assert result.errors == []


async def test_malformed_hits_are_skipped(fake, make_ctx):
    bad = story_hit(7, "https://arxiv.org/abs/2405.00007", created=at(1))
    bad["points"] = "lots"
    no_id = story_hit(8, "https://arxiv.org/abs/2405.00008", created=at(1))
    no_id["objectID"] = ""
    fake.hn_hits += [bad, no_id, story_hit(9, "https://arxiv.org/abs/2405.00009", created=at(1))]
    result = await source(make_ctx).collect(DAY, [], SINCE, UNTIL)
    assert [s.arxiv_id for s in result.signals] == ["2405.00009"]
    assert len(result.errors) == 2 and "points is 'lots'" in " ".join(result.errors)


async def test_503_then_429_http_date_then_success(fake, make_ctx, fake_time):
    fake.hn_hits.append(story_hit(1, "https://arxiv.org/abs/2405.00001", created=at(1)))
    fake.fail("hackernews", Failure(503), Failure(429, retry_after="Thu, 01 Jan 2099 00:00:00 GMT"))
    ctx, config = make_ctx()
    src = HackerNewsSource(ctx, config.sources.hackernews)
    # A Retry-After far beyond max_retry_wait: give up for this run rather than wait.
    from bot.errors import SourceError

    with pytest.raises(SourceError, match="Retry-After"):
        await src.collect(DAY, [], SINCE, UNTIL)
    assert ctx.counter["hackernews"] == 2
    result = await src.collect(DAY, [], SINCE, UNTIL)
    assert len(result.signals) == 1


async def test_answer_without_hits_is_malformed(fake, make_ctx):
    fake.fail("hackernews", Failure(200, body='{"message": "Invalid numericFilters"}'))
    with pytest.raises(MalformedResponse, match="no 'hits' list"):
        await source(make_ctx).collect(DAY, [], SINCE, UNTIL)
