from __future__ import annotations

import asyncio
import datetime as dt

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from bot.config import Config, ScheduleConfig
from bot.errors import SourceError
from bot.models import DayRanking
from bot.scheduler import (
    CATCH_UP_JOB,
    LISTING_JOB,
    RANK_JOB,
    RETRY_JOB,
    build_scheduler,
    listing_trigger,
    rank_trigger,
)
from tests.fakes.inprocess import DAY, FakeListing, deps, world

UTC = dt.UTC


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def test_rank_trigger_follows_local_time_across_dst():
    trigger = rank_trigger("Europe/Paris", "09:00")
    # Europe/Paris leaves CET (UTC+1) for CEST (UTC+2) on 2021-03-28
    start = dt.datetime(2021, 3, 27, 6, 0, tzinfo=UTC)
    first = trigger.get_next_fire_time(None, start)
    assert first.astimezone(UTC) == dt.datetime(2021, 3, 27, 8, 0, tzinfo=UTC)
    second = trigger.get_next_fire_time(first, first + dt.timedelta(seconds=1))
    assert second.astimezone(UTC) == dt.datetime(2021, 3, 28, 7, 0, tzinfo=UTC)
    # and back in autumn (2021-10-31)
    autumn = trigger.get_next_fire_time(None, dt.datetime(2021, 10, 31, 0, 0, tzinfo=UTC))
    assert autumn.astimezone(UTC) == dt.datetime(2021, 10, 31, 8, 0, tzinfo=UTC)
    assert second.utcoffset() == dt.timedelta(hours=2)


def test_listing_trigger_weekdays_after_midnight_eastern():
    trigger = listing_trigger()
    friday_noon = dt.datetime(2021, 8, 6, 17, 0, tzinfo=UTC)  # 13:00 EDT
    nxt = trigger.get_next_fire_time(None, friday_noon)
    # skips the weekend: Monday 00:30 EDT = 04:30 UTC
    assert nxt.astimezone(UTC) == dt.datetime(2021, 8, 9, 4, 30, tzinfo=UTC)
    winter = trigger.get_next_fire_time(None, dt.datetime(2021, 12, 7, 0, 0, tzinfo=UTC))
    assert winter.astimezone(UTC) == dt.datetime(2021, 12, 7, 5, 30, tzinfo=UTC)  # EST


async def test_scheduler_has_its_jobs_and_catches_up_on_start(store):
    arxiv, sources = world()
    cfg = Config(schedule=ScheduleConfig(timezone="Europe/Paris", catch_up_days=2))
    clock = FakeClock(dt.datetime(2021, 8, 4, 7, 30, tzinfo=UTC))  # Wed 09:30 Paris
    scheduler, _jobs = build_scheduler(deps(store, arxiv, sources, cfg), clock)
    assert {j.id for j in scheduler.get_jobs()} == {RANK_JOB, RETRY_JOB, LISTING_JOB, CATCH_UP_JOB}
    caught_up = asyncio.Event()

    def on_job(event: JobExecutionEvent) -> None:
        if event.job_id == CATCH_UP_JOB:
            caught_up.set()

    scheduler.add_listener(on_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        await asyncio.wait_for(caught_up.wait(), 30)  # the catch-up job ran (however slowly)
        assert store.days() == [dt.date(2021, 8, 2), DAY]
        rank_job = scheduler.get_job(RANK_JOB)
        assert str(rank_job.next_run_time.tzinfo) == "Europe/Paris"
        assert rank_job.next_run_time.hour == 9 and rank_job.next_run_time.minute == 0
        assert scheduler.get_job(CATCH_UP_JOB) is None  # ran once, gone
    finally:
        scheduler.shutdown(wait=False)


async def test_jobs_with_a_fake_clock_run_each_day_once_and_retry_partial(store):
    arxiv, sources = world()
    cfg = Config(schedule=ScheduleConfig(catch_up_days=2))
    clock = FakeClock(dt.datetime(2021, 8, 4, 8, 0, tzinfo=UTC))  # before 09:00 UTC
    _scheduler, jobs = build_scheduler(deps(store, arxiv, sources, cfg), clock, catch_up=False)
    hf = sources[0]

    first = await jobs.rank_due()  # Aug 1 (Sun) and Aug 2 are due; Aug 3 not yet
    assert [r.day for r in first] == [dt.date(2021, 8, 1), dt.date(2021, 8, 2)]
    assert await jobs.rank_due() == []  # a double fire does nothing
    hf.error = SourceError("huggingface", "HTTP 503")

    clock.advance(hours=1)  # 09:00: Aug 3 becomes due; HF still down -> partial
    (third,) = await jobs.rank_due()
    assert third.day == DAY and third.partial and set(third.failed) == {"huggingface"}
    clock.advance(minutes=30)
    assert await jobs.rank_due() == []  # partial, but retried only after an hour

    hf.error = None
    clock.advance(minutes=30)
    (retried,) = await jobs.rank_due()
    assert retried.day == DAY and not retried.partial
    assert not store.day_summary(DAY).partial
    assert await jobs.rank_due() == []


async def test_listing_job_records_and_survives_errors(store):
    arxiv, sources = world()
    clock = FakeClock(dt.datetime(2021, 8, 3, 4, 30, tzinfo=UTC))
    _scheduler, jobs = build_scheduler(deps(store, arxiv, sources), clock, catch_up=False)
    arxiv.current = FakeListing(DAY, [])
    assert await jobs.record_listing() == (DAY, 0)
    assert store.has_listing(DAY)

    async def broken():
        raise SourceError("arxiv", "HTTP 503 after 4 retries")

    arxiv.listing = broken
    assert await jobs.record_listing() == (None, 0)


async def test_archive_day_in_range_is_left_alone(store):
    arxiv, sources = world()
    cfg = Config(schedule=ScheduleConfig(catch_up_days=1))
    store.save_day(DayRanking(day=DAY, generated_at=dt.datetime(2021, 8, 4, tzinfo=UTC)))
    clock = FakeClock(dt.datetime(2021, 8, 4, 9, 0, tzinfo=UTC))
    _scheduler, jobs = build_scheduler(deps(store, arxiv, sources, cfg), clock, catch_up=False)
    assert await jobs.rank_due() == []
