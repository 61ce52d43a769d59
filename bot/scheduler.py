"""APScheduler 3.x wiring for the daily job: ranking, listing recording, retries, catch-up.

The scheduler only says *when* to look; the database says *what* is due (`jobs.due_days`), so
a restart, a misfire or two jobs firing close together never rank a day twice for nothing.
The Discord bot adds its per-subscription posting jobs to the same scheduler.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.dates import Clock
from bot.jobs import ANNOUNCE_TZ, JobDeps, JobResult, record_listing, run_due

log = logging.getLogger(__name__)

RANK_JOB = "rank-due-days"
RETRY_JOB = "retry-partial-days"
LISTING_JOB = "record-arxiv-listing"
CATCH_UP_JOB = "catch-up-on-start"
# arXiv's RSS switches to the new mailing at midnight US Eastern; record it shortly after, and
# again later in the morning in case the first attempt failed (recording is idempotent).
LISTING_HOURS = "0,6,12"
LISTING_MINUTE = 30
RETRY_EVERY = dt.timedelta(hours=1)
JOB_DEFAULTS = {
    "coalesce": True,  # many missed fire times run once
    "max_instances": 1,
    "misfire_grace_time": 6 * 3600,  # a late start still runs; the database decides what to do
}


class DailyJobs:
    """The scheduled job functions, serialised by one lock; callable directly in tests."""

    def __init__(self, deps: JobDeps, clock: Clock) -> None:
        self.deps = deps
        self.clock = clock
        self.lock = asyncio.Lock()

    async def rank_due(self) -> list[JobResult]:
        """Rank every due day (never ranked, or partial and due a retry), once each."""
        async with self.lock:
            results = await run_due(self.deps, self.clock())
        for result in results:
            log.info(
                "ranked %s: %d papers%s in %.1fs",
                result.day,
                len(result.ranking.papers),
                f" (partial: {', '.join(result.failed)} failed)" if result.partial else "",
                result.duration,
            )
        return results

    async def record_listing(self) -> tuple[dt.date | None, int]:
        """Record today's arXiv mailing; errors are logged (the next attempt retries)."""
        async with self.lock:
            try:
                return await record_listing(self.deps)
            except Exception:
                log.exception("recording the arXiv listing failed")
                return None, 0


def rank_trigger(config_timezone: str, rank_time: str) -> CronTrigger:
    """Every day at rank_time (HH:MM) in the configured time zone, DST included."""
    hour, _, minute = rank_time.partition(":")
    return CronTrigger(hour=int(hour), minute=int(minute), timezone=ZoneInfo(config_timezone))


def listing_trigger() -> CronTrigger:
    """Weekdays shortly after arXiv's midnight US Eastern mailing change."""
    return CronTrigger(
        day_of_week="mon-fri", hour=LISTING_HOURS, minute=LISTING_MINUTE, timezone=ANNOUNCE_TZ
    )


def build_scheduler(
    deps: JobDeps, clock: Clock, *, catch_up: bool = True
) -> tuple[AsyncIOScheduler, DailyJobs]:
    """An AsyncIOScheduler (not started) with the ranking, retry and listing jobs.

    With catch_up, the missed days are ranked once as soon as it starts. The caller (the bot)
    may add its own jobs, then calls .start() inside the running event loop.
    """
    schedule = deps.config.schedule
    jobs = DailyJobs(deps, clock)
    scheduler = AsyncIOScheduler(timezone=ZoneInfo(schedule.timezone), job_defaults=JOB_DEFAULTS)
    scheduler.add_job(
        jobs.rank_due,
        rank_trigger(schedule.timezone, schedule.rank_time),
        id=RANK_JOB,
        replace_existing=True,
    )
    scheduler.add_job(
        jobs.rank_due,
        IntervalTrigger(seconds=RETRY_EVERY.total_seconds(), timezone=dt.UTC),
        id=RETRY_JOB,
        replace_existing=True,
    )
    if deps.arxiv is not None:
        scheduler.add_job(
            jobs.record_listing, listing_trigger(), id=LISTING_JOB, replace_existing=True
        )
    if catch_up:
        # no trigger: once, as soon as the scheduler starts
        scheduler.add_job(jobs.rank_due, id=CATCH_UP_JOB, replace_existing=True)
    return scheduler, jobs
