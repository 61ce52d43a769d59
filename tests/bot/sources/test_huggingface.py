"""Hugging Face Daily Papers source against the loopback fake."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.errors import MalformedResponse, SourceError
from bot.models import Signal
from bot.sources.base import SignalSource
from bot.sources.huggingface import HuggingFaceSource, featured_dates
from tests.fakes.huggingface import daily_item, paper_json
from tests.fakes.sources import Failure

DAY = dt.date(2024, 5, 2)
SINCE = dt.datetime(2024, 5, 2, 0, tzinfo=dt.UTC)
UNTIL = dt.datetime(2024, 5, 3, 9, tzinfo=dt.UTC)


def source(make_ctx, **kw) -> HuggingFaceSource:
    ctx, config = make_ctx()
    return HuggingFaceSource(ctx, config.sources.huggingface, **kw)


def test_featured_dates_cover_the_day_and_the_window():
    assert featured_dates(DAY, UNTIL) == [DAY, DAY + dt.timedelta(days=1)]
    assert featured_dates(DAY, dt.datetime(2024, 5, 2, 20, tzinfo=dt.UTC)) == [DAY]
    assert len(featured_dates(DAY, UNTIL + dt.timedelta(days=30))) == 8


async def test_collect_reads_both_featured_dates(fake, make_ctx):
    fake.hf_daily["2024-05-02"] = [
        daily_item(
            "2405.00001",
            upvotes=57,
            comments=4,
            title="Seeing  Things",
            github="https://github.com/org/seeing",
            project="https://seeing.github.io",
            submitter="akhaliq",
        )
    ]
    fake.hf_daily["2024-05-03"] = [daily_item("2405.00002", upvotes=3, comments=0)]
    src = source(make_ctx)
    _typed: SignalSource = src  # satisfies the protocol (checked by type checkers)
    result = await src.collect(DAY, ["2405.00001", "2405.00002", "2405.00003"], SINCE, UNTIL)
    assert result.signals == [
        Signal("2405.00001", "huggingface", {"upvotes": 57, "comments": 4}),
        Signal("2405.00002", "huggingface", {"upvotes": 3, "comments": 0}),
    ]
    paper = result.papers[0]
    assert paper.title == "Seeing Things"
    assert paper.code_url == "https://github.com/org/seeing"
    assert paper.project_url == "https://seeing.github.io"
    assert paper.hf_url == "https://huggingface.co/papers/2405.00001"
    assert result.papers[1].code_url is None
    post = result.posts[0]
    assert (post.source, post.handle, post.author, post.likes, post.replies) == (
        "huggingface",
        "akhaliq",
        "AK",
        57,
        4,
    )
    assert result.requests == 2
    dates = [parse_qs(urlsplit(q).query)["date"] for _, q in fake.requests]
    assert dates == [["2024-05-02"], ["2024-05-03"]]
    assert result.errors == []


async def test_papers_outside_ids_are_left_out_unless_asked(fake, make_ctx):
    fake.hf_daily["2024-05-02"] = [daily_item("2405.00001"), daily_item("2311.01234")]
    result = await source(make_ctx).collect(DAY, ["2405.00001"], SINCE, UNTIL)
    assert [s.arxiv_id for s in result.signals] == ["2405.00001"]
    everything = await source(make_ctx, include_unlisted=True).collect(
        DAY, ["2405.00001"], SINCE, UNTIL
    )
    assert {s.arxiv_id for s in everything.signals} == {"2405.00001", "2311.01234"}
    no_ids = await source(make_ctx).collect(DAY, [], SINCE, UNTIL)
    assert len(no_ids.signals) == 2


async def test_a_paper_on_both_dates_counts_once_with_its_latest_counts(fake, make_ctx):
    fake.hf_daily["2024-05-02"] = [daily_item("2405.00001", upvotes=10)]
    fake.hf_daily["2024-05-03"] = [daily_item("2405.00001", upvotes=12)]
    result = await source(make_ctx).collect(DAY, [], SINCE, UNTIL)
    assert result.signals == [Signal("2405.00001", "huggingface", {"upvotes": 12, "comments": 2})]


async def test_large_days_are_paged(fake, make_ctx):
    fake.hf_daily["2024-05-02"] = [daily_item(f"2405.{i:05d}") for i in range(1, 151)]
    result = await source(make_ctx).collect(DAY, [], SINCE, SINCE + dt.timedelta(hours=1))
    assert len(result.signals) == 150
    assert result.requests == 2


async def test_lookups_only_when_allowed_and_counted(fake, make_ctx):
    fake.hf_papers["2405.00009"] = paper_json("2405.00009", upvotes=5, github="https://g/x")
    ids = ["2405.00009", "2405.00010"]
    none = await source(make_ctx).collect(DAY, ids, SINCE, UNTIL)
    assert none.signals == [] and none.requests == 2
    fake.requests.clear()
    some = await source(make_ctx, max_lookups=5).collect(DAY, ids, SINCE, UNTIL)
    assert some.signals == [Signal("2405.00009", "huggingface", {"upvotes": 5})]
    assert some.papers[0].code_url == "https://g/x"
    assert some.requests == 4  # two dates + two lookups (one 404)


async def test_malformed_items_are_skipped_with_reasons(fake, make_ctx):
    good = daily_item("2405.00001", upvotes=7)
    bad_votes = daily_item("2405.00002")
    bad_votes["paper"]["upvotes"] = "many"
    not_arxiv = daily_item("2405.00003")
    not_arxiv["paper"]["id"] = "not-an-id"
    fake.hf_daily["2024-05-02"] = [good, bad_votes, not_arxiv, "junk", {"paper": None}]
    result = await source(make_ctx).collect(DAY, [], SINCE, UNTIL)
    assert [s.arxiv_id for s in result.signals] == ["2405.00001"]
    assert len(result.errors) == 4
    assert "upvotes is 'many'" in result.errors[0]
    assert "not-an-id" in result.errors[1]


async def test_429_with_retry_after_then_success(fake, make_ctx, fake_time):
    fake.hf_daily["2024-05-02"] = [daily_item("2405.00001")]
    fake.fail("huggingface", Failure(429, retry_after="2"), Failure(503))
    result = await source(make_ctx).collect(DAY, [], SINCE, UNTIL)
    assert len(result.signals) == 1
    assert fake_time.sleeps[0] == 2.0
    assert result.requests == 4


async def test_timeouts_exhaust_retries_into_source_error(fake, make_ctx):
    fake.fail("huggingface", *[Failure(hang=True)] * 4)
    ctx, config = make_ctx()
    src = HuggingFaceSource(ctx, config.sources.huggingface)
    with pytest.raises(SourceError, match="timed out"):
        await src.collect(DAY, [], SINCE, UNTIL)
    assert ctx.counter["huggingface"] == 4


async def test_malformed_json_is_a_clear_error(fake, make_ctx):
    fake.fail("huggingface", Failure(200, body="<!DOCTYPE html><title>Hugging Face</title>"))
    with pytest.raises(MalformedResponse, match="not JSON"):
        await source(make_ctx).collect(DAY, [], SINCE, UNTIL)


def test_disabled_source_says_why(make_ctx):
    import dataclasses

    ctx, config = make_ctx()
    off = dataclasses.replace(config.sources.huggingface, enabled=False)
    assert "disabled" in HuggingFaceSource(ctx, off).unavailable_reason()
    assert HuggingFaceSource(ctx, config.sources.huggingface).unavailable_reason() is None
