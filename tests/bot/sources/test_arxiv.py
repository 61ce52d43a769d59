"""arXiv source against the loopback fake: listing, id_list batches, submittedDate search."""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.errors import MalformedResponse, SourceError
from bot.sources.arxiv import ArxivSource, submission_window
from tests.fakes.arxiv import FakePaper, many_papers
from tests.fakes.sources import Failure


def query_of(path_qs: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(path_qs).query)


async def test_listing_is_one_request_for_all_categories(fake, make_ctx):
    fake.add_papers(
        [
            FakePaper("2405.00001", categories=("cs.CV",)),
            FakePaper("2405.00002", categories=("cs.LG", "cs.CV"), announce_type="cross"),
            FakePaper("2405.00003", categories=("cs.CV",), announce_type="replace"),
            FakePaper("2405.00004", categories=("math.AG",)),
        ]
    )
    ctx, config = make_ctx()
    listing = await ArxivSource(ctx, config.sources.arxiv).listing(["cs.CV", "cs.LG"])
    assert [e.arxiv_id for e in listing.entries] == ["2405.00001", "2405.00002"]
    assert listing.day == dt.date(2024, 5, 2)
    assert listing.requests == 1
    assert fake.requests == [("arxiv_rss", "/arxiv-rss/rss/cs.CV+cs.LG")]


async def test_weekend_listing_is_empty(fake, make_ctx):
    fake.rss_day = dt.date(2024, 5, 4)
    ctx, config = make_ctx()
    listing = await ArxivSource(ctx, config.sources.arxiv).listing()
    assert listing.entries == [] and listing.errors == []
    assert listing.day == dt.date(2024, 5, 4)


async def test_listing_survives_429_with_retry_after(fake, make_ctx, fake_time):
    fake.add_papers(many_papers(2))
    fake.fail("arxiv_rss", Failure(429, retry_after="4"))
    ctx, config = make_ctx()
    listing = await ArxivSource(ctx, config.sources.arxiv).listing(["cs.CV"])
    assert len(listing.entries) == 2
    assert listing.requests == 2
    assert fake_time.sleeps == [4.0]


async def test_listing_malformed_feed_is_a_clear_error(fake, make_ctx):
    fake.fail("arxiv_rss", Failure(200, body="<rss><channel><item><title>cut off"))
    ctx, config = make_ctx()
    with pytest.raises(MalformedResponse, match="arXiv RSS feed is not well-formed XML"):
        await ArxivSource(ctx, config.sources.arxiv).listing()


async def test_listing_gives_up_after_repeated_503(fake, make_ctx):
    fake.fail("arxiv", *[Failure(503)] * 10)
    ctx, config = make_ctx()
    with pytest.raises(SourceError, match="HTTP 503, gave up after 4 attempts"):
        await ArxivSource(ctx, config.sources.arxiv).listing()
    assert ctx.counter["arxiv"] == 4


async def test_listing_timeout_then_success(fake, make_ctx):
    fake.add_papers(many_papers(1))
    fake.fail("arxiv_rss", Failure(hang=True))
    ctx, config = make_ctx()
    listing = await ArxivSource(ctx, config.sources.arxiv).listing(["cs.CV"])
    assert len(listing.entries) == 1
    assert ctx.counter["arxiv"] == 2


async def test_papers_in_batches_with_max_results_set(fake, make_ctx):
    fake.add_papers(many_papers(7), listed=False)
    ctx, config = make_ctx()
    arxiv = dataclasses.replace(config.sources.arxiv, batch_size=3)
    ids = [f"2405.{i:05d}" for i in range(1, 8)]
    result = await ArxivSource(ctx, arxiv).papers(ids)
    assert sorted(p.arxiv_id for p in result.papers) == ids
    assert result.requests == 3
    sizes = [query_of(q)["max_results"] for _, q in fake.requests]
    assert sizes == [["3"], ["3"], ["1"]]
    assert query_of(fake.requests[0][1])["id_list"] == ["2405.00001,2405.00002,2405.00003"]


async def test_papers_dedupes_versions_and_url_forms_and_drops_invalid(fake, make_ctx):
    fake.add_papers([FakePaper("2405.00001", version=4)], listed=False)
    ctx, config = make_ctx()
    result = await ArxivSource(ctx, config.sources.arxiv).papers(
        ["2405.00001v2", "https://arxiv.org/pdf/2405.00001v1", "arXiv:2405.00001", "24o5.1"]
    )
    assert [p.arxiv_id for p in result.papers] == ["2405.00001"]
    assert result.requests == 1
    assert query_of(fake.requests[0][1])["id_list"] == ["2405.00001"]
    assert len(result.errors) == 1 and "24o5.1" in result.errors[0]


async def test_unknown_ids_are_silently_absent(fake, make_ctx):
    fake.add_papers([FakePaper("2405.00001")], listed=False)
    ctx, config = make_ctx()
    result = await ArxivSource(ctx, config.sources.arxiv).papers(["2405.00001", "2405.99999"])
    assert [p.arxiv_id for p in result.papers] == ["2405.00001"]
    assert result.errors == []


async def test_an_error_entry_is_bisected_to_the_rejected_id(fake, make_ctx):
    """If arXiv rejects an id our validation accepted, the rest of the batch still loads."""
    fake.add_papers(many_papers(4), listed=False)
    fake.api_rejected.add("2405.00003")
    ctx, config = make_ctx()
    ids = [f"2405.{i:05d}" for i in range(1, 5)]
    result = await ArxivSource(ctx, config.sources.arxiv).papers(ids)
    assert sorted(p.arxiv_id for p in result.papers) == ["2405.00001", "2405.00002", "2405.00004"]
    assert result.errors == ["arXiv rejected id 2405.00003: incorrect id format for 2405.00003"]
    assert result.requests == 5  # [1-4] -> [1,2] [3,4] -> [3] [4]


def test_submission_window_mailings():
    et = dt.timezone(dt.timedelta(hours=-4))
    # Wednesday's mailing: submitted Monday 14:00 ET to Tuesday 14:00 ET.
    assert submission_window(dt.date(2024, 5, 1)) == (
        dt.datetime(2024, 4, 29, 14, tzinfo=et),
        dt.datetime(2024, 4, 30, 14, tzinfo=et),
    )
    # Monday's: Thursday 14:00 to Friday 14:00. Tuesday's: Friday 14:00 to Monday 14:00.
    assert submission_window(dt.date(2024, 5, 6)) == (
        dt.datetime(2024, 5, 2, 14, tzinfo=et),
        dt.datetime(2024, 5, 3, 14, tzinfo=et),
    )
    assert submission_window(dt.date(2024, 5, 7)) == (
        dt.datetime(2024, 5, 3, 14, tzinfo=et),
        dt.datetime(2024, 5, 6, 14, tzinfo=et),
    )
    assert submission_window(dt.date(2024, 5, 4)) is None  # Saturday


async def test_submitted_pages_through_the_search(fake, make_ctx, monkeypatch):
    monkeypatch.setattr("bot.sources.arxiv.SEARCH_PAGE_SIZE", 4)
    inside = dt.datetime(2024, 4, 30, 12, tzinfo=dt.UTC)  # Tue 08:00 ET
    outside = dt.datetime(2024, 4, 30, 19, tzinfo=dt.UTC)  # Tue 15:00 ET, next mailing
    fake.add_papers(many_papers(9, submitted=inside), listed=False)
    fake.add_papers(many_papers(2, start=50, submitted=outside), listed=False)
    fake.add_papers(
        many_papers(1, start=70, submitted=inside, categories=("math.AG",)), listed=False
    )
    ctx, config = make_ctx()
    result = await ArxivSource(ctx, config.sources.arxiv).submitted(
        dt.date(2024, 5, 1), ["cs.CV", "cs.LG"]
    )
    assert sorted(p.arxiv_id for p in result.papers) == [f"2405.{i:05d}" for i in range(1, 10)]
    assert result.requests == 3
    q = query_of(fake.requests[0][1])
    assert q["search_query"] == [
        "(cat:cs.CV OR cat:cs.LG) AND submittedDate:[202404291800 TO 202404301800]"
    ]
    assert [query_of(r)["start"] for _, r in fake.requests] == [["0"], ["4"], ["8"]]


async def test_submitted_on_a_weekend_asks_nothing(fake, make_ctx):
    ctx, config = make_ctx()
    result = await ArxivSource(ctx, config.sources.arxiv).submitted(dt.date(2024, 5, 5))
    assert result.papers == [] and result.requests == 0


async def test_requests_are_spaced_by_min_interval(fake, make_ctx, fake_time):
    fake.add_papers(many_papers(3), listed=False)
    ctx, config = make_ctx()
    arxiv = dataclasses.replace(config.sources.arxiv, min_interval=3.0, batch_size=1)
    await ArxivSource(ctx, arxiv).papers(["2405.00001", "2405.00002", "2405.00003"])
    assert fake_time.sleeps == [3.0, 3.0]
