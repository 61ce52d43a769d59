"""The daily job against small in-process fakes of the source interfaces."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.config import Config, RankingConfig, ScheduleConfig
from bot.errors import JobRefused, SourceError
from bot.http import SourceContext
from bot.jobs import due_at, due_days, latest_due_day, record_listing, run_day, run_due, window
from bot.models import DayRanking, ListingEntry, Post, Signal
from bot.sources.registry import job_deps
from tests.fakes.arxiv import FakePaper
from tests.fakes.clock import FakeTime
from tests.fakes.hackernews import story_hit
from tests.fakes.huggingface import daily_item
from tests.fakes.inprocess import DAY, NOW, FakeListing, FakeSource, deps, paper, world
from tests.fakes.server import hang_client
from tests.fakes.sources import Failure, FakeSources


def config(**ranking) -> Config:
    return Config(ranking=RankingConfig(**ranking)) if ranking else Config()


async def test_normal_day_ranks_stores_and_explains(store):
    arxiv, sources = world()
    result = await run_day(DAY, deps(store, arxiv, sources), NOW)
    ranking = result.ranking
    assert [(rp.rank, rp.paper.arxiv_id, rp.score) for rp in ranking.papers] == [
        (1, "2108.00001", 100.0),
        (2, "2108.00003", 80.0),
        (3, "2107.12345", 24.0),
        (4, "2108.00002", 15.0),
    ]
    assert not result.partial and result.failed == {}
    assert result.skipped == {"bluesky": "no HOTPAPERS_BLUESKY_APP_PASSWORD"}
    # arXiv: one listing request + one metadata batch for the paper seen only on HN
    assert result.requests == {"arxiv": 2, "hackernews": 1, "huggingface": 2}
    assert arxiv.asked == [["2107.12345"]]
    assert result.candidates == 5
    # enrichment from HF and the HN post under its canonical id
    top = ranking.papers[0]
    assert top.paper.code_url == "https://github.com/a/b"
    assert top.paper.categories == ("cs.CV", "cs.LG")
    assert ranking.papers[1].posts[0].arxiv_id == "2108.00003"

    stored = store.load_day(DAY)
    assert [rp.paper.arxiv_id for rp in stored.papers] == [
        rp.paper.arxiv_id for rp in ranking.papers
    ]
    assert stored.papers[0].signals == {"huggingface": {"upvotes": 20, "comments": 2}}
    assert stored.papers[0].extra["contributions"] == {"huggingface": 100.0}
    assert stored.extra["requests"] == {"arxiv": 2, "hackernews": 1, "huggingface": 2}
    runs = {r.source: (r.status, r.requests, r.error) for r in store.source_runs(DAY)}
    assert runs == {
        "arxiv": ("ok", 2, None),
        "huggingface": ("ok", 2, None),
        "hackernews": ("ok", 1, None),
        "bluesky": ("skipped", 0, "no HOTPAPERS_BLUESKY_APP_PASSWORD"),
    }
    cv = store.load_day(DAY, category="cs.CV")
    assert [(rp.rank, rp.paper.arxiv_id) for rp in cv.papers] == [(1, "2108.00001")]


async def test_sources_get_the_days_ids_and_window(store):
    arxiv, sources = world()
    await run_day(DAY, deps(store, arxiv, sources), NOW)
    day, ids, since, until = sources[0].calls[0]
    assert day == DAY
    assert ids == ["2108.00001", "2108.00002", "2108.00003", "2108.00004"]
    assert since == dt.datetime(2021, 8, 3, 0, 0, tzinfo=dt.UTC)  # 20:00 EDT on Aug 2
    assert until == NOW
    assert sources[2].calls == []  # skipped: never called


async def test_source_down_gives_partial_ranking_then_rerun_fills_in(store):
    arxiv, sources = world()
    hf = sources[0]
    await run_day(DAY, deps(store, arxiv, sources), NOW)  # a full run first
    hf.error = SourceError("huggingface", "HTTP 503 after 4 retries")
    hf.signals = [Signal("2108.00001", "huggingface", {"upvotes": 999})]  # never seen
    later = NOW + dt.timedelta(hours=1)
    result = await run_day(DAY, deps(store, arxiv, sources), later)
    assert result.partial
    assert result.ranking.failed_sources == ("huggingface",)
    assert result.failed == {"huggingface": "huggingface: HTTP 503 after 4 retries"}
    # the previous HF counts are kept, so the failure does not reshuffle the day
    assert result.ranking.papers[0].signals["huggingface"] == {"upvotes": 20, "comments": 2}
    stored = store.load_day(DAY)
    assert stored.partial and stored.failed_sources == ("huggingface",)
    runs = {r.source: r.status for r in store.source_runs(DAY)}
    assert runs["huggingface"] == "failed" and runs["hackernews"] == "ok"
    errors = {r.source: r.error for r in store.source_runs(DAY)}
    assert errors["huggingface"] == "huggingface: HTTP 503 after 4 retries"

    hf.error = None
    result = await run_day(DAY, deps(store, arxiv, sources), later + dt.timedelta(hours=1))
    assert not result.partial
    stored = store.load_day(DAY)
    assert not stored.partial and stored.failed_sources == ()
    assert stored.papers[0].signals["huggingface"] == {"upvotes": 999}


async def test_first_run_with_a_source_down_still_ranks_the_others(store):
    arxiv, sources = world()
    sources[1].error = TimeoutError()  # even an unexpected error only loses that source
    result = await run_day(DAY, deps(store, arxiv, sources), NOW)
    assert result.failed == {"hackernews": "TimeoutError"}
    assert [rp.paper.arxiv_id for rp in result.ranking.papers] == ["2108.00001", "2108.00002"]


async def test_arxiv_down_ranks_what_the_sources_know(store):
    arxiv, sources = world()
    arxiv.fail = "HTTP 503"
    sources[0].papers = [paper("2108.00001", "cs.CV")]  # HF knows this paper's metadata
    result = await run_day(DAY, deps(store, arxiv, sources), NOW)
    assert result.partial and "arxiv" in result.failed
    assert [rp.paper.arxiv_id for rp in result.ranking.papers] == ["2108.00001"]
    assert sources[0].calls[0][1] == []  # no listing: sources got no ids
    assert arxiv.asked == []  # arXiv failed once this run: not asked again for metadata


async def test_weekend_is_an_empty_ranking_without_requests(store):
    arxiv, sources = world()
    saturday = dt.date(2021, 8, 7)
    result = await run_day(saturday, deps(store, arxiv, sources), NOW + dt.timedelta(days=4))
    assert result.ranking.papers == [] and not result.partial
    assert arxiv.calls == 0 and all(not s.calls for s in sources)
    assert store.has_day(saturday)
    assert store.load_day(saturday).extra["note"] == "weekend"


async def test_holiday_with_empty_listing_is_an_empty_ranking(store):
    arxiv, sources = world()
    holiday = dt.date(2021, 12, 24)
    result = await run_day(holiday, deps(store, arxiv, sources), NOW + dt.timedelta(days=200))
    assert result.ranking.papers == [] and not result.partial
    assert all(not s.calls for s in sources)
    assert store.load_day(holiday).extra["note"] == "no announcements"


async def test_recorded_listing_is_preferred_to_the_api(store):
    arxiv, sources = world()
    arxiv.current = FakeListing(
        DAY,
        [
            ListingEntry("2108.00001", "new", ("cs.CV",), 1, "Title of 2108.00001"),
            ListingEntry("2108.00005", "cross", ("cs.LG",), 2, "Cross-listed"),
        ],
    )
    assert await record_listing(deps(store, arxiv, sources)) == (DAY, 2)
    assert [e.arxiv_id for e in store.listing(DAY)] == ["2108.00001", "2108.00005"]
    arxiv.calls = 0
    result = await run_day(DAY, deps(store, arxiv, sources), NOW)
    assert sources[0].calls[0][1] == ["2108.00001", "2108.00005"]
    # no listing request; one metadata batch for the papers people talked about
    assert arxiv.calls == 1 and result.requests["arxiv"] == 1
    assert arxiv.asked == [["2107.12345", "2108.00001", "2108.00002", "2108.00003"]]
    # the listing's categories stand in until arXiv's metadata arrives
    top = result.ranking.papers[0]
    assert top.paper.arxiv_id == "2108.00001" and top.paper.categories == ("cs.CV",)


async def test_recorded_empty_listing_is_a_holiday(store):
    arxiv, sources = world()
    arxiv.current = FakeListing(DAY, [])
    assert await record_listing(deps(store, arxiv, sources)) == (DAY, 0)
    result = await run_day(DAY, deps(store, arxiv, sources), NOW)
    assert result.ranking.papers == [] and all(not s.calls for s in sources)


async def test_record_listing_without_a_mailing_stores_nothing(store):
    arxiv, sources = world()
    assert await record_listing(deps(store, arxiv, sources)) == (None, 0)
    arxiv.current = FakeListing(dt.date(2021, 8, 7), [])  # a Saturday's empty channel
    assert await record_listing(deps(store, arxiv, sources)) == (None, 0)
    assert not store.has_listing(DAY) and not store.has_listing(dt.date(2021, 8, 7))


async def test_duplicate_and_versioned_ids_merge(store):
    arxiv, _ = world()
    x = FakeSource(
        "x",
        signals=[
            Signal("2108.00001v1", "x", {"retweets": 1, "likes": 2}),
            Signal("https://arxiv.org/pdf/2108.00001v3", "x", {"retweets": 3, "likes": 4}),
        ],
        posts=[
            Post("x", "https://x.com/a/status/1", "2108.00001v1", likes=2, reposts=1),
            Post("x", "https://x.com/a/status/1", "2108.00001", likes=2, reposts=1),
            Post("x", "https://x.com/b/status/2", "2108.00001v3", likes=4, reposts=3),
        ],
    )
    result = await run_day(DAY, deps(store, arxiv, [x]), NOW)
    (only,) = result.ranking.papers
    assert only.paper.arxiv_id == "2108.00001"
    assert only.signals == {"x": {"retweets": 4, "likes": 6}}
    assert only.score == 10.0
    assert [p.url for p in only.posts] == ["https://x.com/b/status/2", "https://x.com/a/status/1"]


async def test_min_score_and_max_posts_from_config(store):
    arxiv, sources = world()
    cfg = config(min_score=50.0, max_posts=1)
    result = await run_day(DAY, deps(store, arxiv, sources, cfg=cfg), NOW)
    assert [rp.paper.arxiv_id for rp in result.ranking.papers] == ["2108.00001", "2108.00003"]


async def test_unknown_linked_ids_are_dropped(store):
    arxiv, _ = world()
    hn = FakeSource("hackernews", signals=[Signal("2108.99999", "hackernews", {"points": 5})])
    result = await run_day(DAY, deps(store, arxiv, [hn]), NOW)
    assert result.ranking.papers == []
    assert arxiv.asked == [["2108.99999"]]


async def test_archive_days_are_not_reranked(store):
    store.save_day(DayRanking(day=DAY, generated_at=NOW, origin="archive"))
    arxiv, sources = world()
    with pytest.raises(JobRefused, match="imported"):
        await run_day(DAY, deps(store, arxiv, sources), NOW)


async def test_naive_now_is_refused(store):
    arxiv, sources = world()
    with pytest.raises(ValueError, match="timezone-aware"):
        await run_day(DAY, deps(store, arxiv, sources), NOW.replace(tzinfo=None))


# -- what is due ----------------------------------------------------------------------------


def paris(**schedule) -> Config:
    return Config(schedule=ScheduleConfig(timezone="Europe/Paris", **schedule))


def test_due_at_and_window_in_the_configured_zone():
    cfg = paris(rank_time="09:00", window_days=1)
    assert due_at(DAY, cfg) == dt.datetime(2021, 8, 4, 7, 0, tzinfo=dt.UTC)  # CEST
    since, until = window(DAY, cfg, NOW)
    assert until == dt.datetime(2021, 8, 4, 7, 0, tzinfo=dt.UTC)  # capped at the due time
    early = dt.datetime(2021, 8, 3, 12, 0, tzinfo=dt.UTC)
    assert window(DAY, cfg, early) == (since, early)
    weekly = paris(window_days=7)
    assert due_at(DAY, weekly) == dt.datetime(2021, 8, 10, 7, 0, tzinfo=dt.UTC)


def test_latest_due_day_flips_at_rank_time():
    cfg = paris()
    before = dt.datetime(2021, 8, 4, 6, 59, tzinfo=dt.UTC)  # 08:59 in Paris
    after = dt.datetime(2021, 8, 4, 7, 0, tzinfo=dt.UTC)
    assert latest_due_day(before, cfg) == dt.date(2021, 8, 2)
    assert latest_due_day(after, cfg) == DAY


def test_due_days_catch_up_once_each_in_order(store):
    cfg = paris(catch_up_days=4)
    now = dt.datetime(2021, 8, 6, 7, 30, tzinfo=dt.UTC)  # Friday 09:30 Paris
    assert due_days(store, now, cfg) == [
        dt.date(2021, 8, 2),
        dt.date(2021, 8, 3),
        dt.date(2021, 8, 4),
        dt.date(2021, 8, 5),
    ]
    store.save_day(DayRanking(day=dt.date(2021, 8, 3), generated_at=now))
    store.save_day(DayRanking(day=dt.date(2021, 8, 2), generated_at=now, origin="archive"))
    store.save_day(
        DayRanking(day=dt.date(2021, 8, 4), generated_at=now, partial=True, failed_sources=("x",))
    )
    # the partial day waits for the retry interval
    assert due_days(store, now, cfg) == [dt.date(2021, 8, 5)]
    later = now + dt.timedelta(hours=1)
    assert due_days(store, later, cfg) == [dt.date(2021, 8, 4), dt.date(2021, 8, 5)]


async def test_run_due_then_nothing_is_due(store):
    arxiv, sources = world()
    cfg = dataclasses.replace(config(), schedule=ScheduleConfig(catch_up_days=3))
    d = deps(store, arxiv, sources, cfg=cfg)
    results = await run_due(d, NOW)  # Wed 09:00 UTC: Aug 1 (Sun), 2 and 3 are due
    assert [r.day for r in results] == [dt.date(2021, 8, 1), dt.date(2021, 8, 2), DAY]
    assert [len(r.ranking.papers) for r in results] == [0, 0, 4]
    assert await run_due(d, NOW) == []


# -- the whole job through the real sources, against the loopback fake server ---------------


async def test_real_sources_survive_429_503_timeouts_and_malformed_bodies(store):
    day = dt.date(2024, 5, 2)
    now = dt.datetime(2024, 5, 3, 9, 30, tzinfo=dt.UTC)
    created = dt.datetime(2024, 5, 2, 12, tzinfo=dt.UTC)
    async with FakeSources() as fake:
        fake.add_papers(
            [FakePaper("2405.00001", title="Seen by HF"), FakePaper("2405.00002", title="HN")]
        )
        fake.hf_daily["2024-05-02"] = [daily_item("2405.00001", upvotes=7)]
        fake.hn_hits.append(story_hit(1, "https://arxiv.org/pdf/2405.00002v3", created=created))
        fake.hn_hits.append(story_hit(2, "https://arxiv.org/abs/2405.00002", created=created))
        config = fake.config()  # no credentials: X and Bluesky are skipped
        time_ = FakeTime()
        ctx = SourceContext.from_config(
            config, hang_client(config), sleep=time_.sleep, clock=time_.clock, now=lambda: now
        )
        deps = job_deps(config, store, ctx)
        try:
            # the RSS first answers 503, then 429 with Retry-After, then the listing
            fake.fail("arxiv_rss", Failure(503), Failure(429, retry_after="2"))
            assert await record_listing(deps) == (day, 2)
            assert 2.0 in time_.sleeps  # Retry-After honoured
            # HF answers garbage every time: that source fails; HN times out once
            fake.fail("huggingface", *[Failure(200, body="{not json") for _ in range(8)])
            fake.fail("hackernews", Failure(hang=True))
            first = await run_day(day, deps, now)
            assert first.partial and set(first.failed) == {"huggingface"}
            assert [(rp.paper.arxiv_id, rp.score) for rp in first.ranking.papers] == [
                ("2405.00002", 400.0)  # two stories, 100 points each, weight 2
            ]
            assert first.ranking.papers[0].paper.title == "HN"  # metadata from the API
            assert first.requests["hackernews"] == 2  # the timeout and its retry
            assert first.skipped["x"].startswith("no HOTPAPERS_X_BEARER_TOKEN")

            fake.failures.clear()
            second = await run_day(day, deps, now)
            assert not second.partial
            assert [rp.paper.arxiv_id for rp in second.ranking.papers] == [
                "2405.00002",
                "2405.00001",
            ]
            assert second.requests["arxiv"] == 1  # only the new paper's metadata
        finally:
            await ctx.aclose()
