"""When each subscription posts, and which day: per-subscription jobs on the shared scheduler.

The digest of announcement day D is due for a subscription at its post time (its own time
zone) on D+1, the day D is ranked. A posting job fires at that local time (a CronTrigger per
subscription, DST included); a periodic catch-up job covers a ranking that arrived after the
post time and downtime across it. Either way the job asks `day_to_post`: the newest stored day
that is due, not older than MAX_AGE, and due after the subscription was created. The outbox row
(subscription, day) is written before anything is sent, so a day is posted at most once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.dates import Clock
from bot.delivery import DeliveryReport, Outbox
from bot.errors import DiscordUnauthorized
from bot.models import DayRanking, Delivery, Subscription
from bot.render import Message, digest_messages
from bot.store import Store

log = logging.getLogger(__name__)

MAX_AGE = dt.timedelta(days=2)  # a digest more than this late is skipped, not posted
CATCH_UP_JOB = "post-catch-up"
CATCH_UP_EVERY = dt.timedelta(minutes=5)


def job_id(sub_id: int) -> str:
    """The scheduler id of a subscription's posting job."""
    return f"post-subscription-{sub_id}"


def _hour_minute(post_time: str) -> tuple[int, int]:
    hour, _, minute = post_time.partition(":")
    return int(hour), int(minute)


def post_trigger(sub: Subscription) -> CronTrigger:
    """Every day at the subscription's HH:MM in its time zone."""
    return _daily_trigger(sub.post_time, sub.timezone)


@functools.lru_cache(maxsize=4096)
def _daily_trigger(post_time: str, timezone: str) -> CronTrigger:
    # A CronTrigger holds no state between fire times, so subscriptions posting at the same
    # local time share one: building thousands of them was most of the start-up time.
    hour, minute = _hour_minute(post_time)
    return CronTrigger(hour=hour, minute=minute, second=0, timezone=ZoneInfo(timezone))


def due_time(sub: Subscription, day: dt.date) -> dt.datetime:
    """When the digest of announcement day `day` is due for sub (aware, in sub's zone)."""
    hour, minute = _hour_minute(sub.post_time)
    local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(hour, minute))
    return local.replace(tzinfo=ZoneInfo(sub.timezone))


def next_post_time(sub: Subscription, now: dt.datetime) -> dt.datetime:
    """The next time sub's job fires after now (aware, in sub's zone)."""
    fire = post_trigger(sub).get_next_fire_time(None, now)
    assert fire is not None
    return fire


def day_to_post(store: Store, sub: Subscription, now: dt.datetime) -> dt.date | None:
    """The newest stored day whose digest is due for sub now, or None."""
    today = now.astimezone(dt.UTC).date()
    for day in reversed(store.nearest_days(today + dt.timedelta(days=2), n=4)):
        due = due_time(sub, day)
        if due > now:
            continue
        if now - due > MAX_AGE:
            return None
        if sub.created_at is not None and due < sub.created_at:
            return None
        return day
    return None


def subscription_ranking(store: Store, sub: Subscription, day: dt.date) -> DayRanking | None:
    """The stored ranking of day (all categories: the subscription filters while rendering)."""
    return store.load_day(day)


def render_for(
    store: Store, sub: Subscription, day: dt.date, now: dt.datetime
) -> list[Message] | None:
    """The messages of sub's digest of day (its categories, top and minimum score)."""
    ranking = subscription_ranking(store, sub, day)
    if ranking is None:
        return None
    return digest_messages(
        ranking,
        category=sub.categories or None,
        top=sub.top,
        min_score=sub.min_score,
        now=now,
    )


PostJob = Callable[[int], Awaitable[object]]


def schedule_subscription(scheduler: BaseScheduler, sub: Subscription, job: PostJob) -> None:
    """Add or replace sub's posting job (removed when the subscription is paused)."""
    assert sub.id is not None
    if sub.state != "active":
        unschedule_subscription(scheduler, sub.id)
        return
    scheduler.add_job(
        job,
        post_trigger(sub),
        args=[sub.id],
        id=job_id(sub.id),
        name=f"post digest to channel {sub.channel_id}",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=int(MAX_AGE.total_seconds()),
    )


def unschedule_subscription(scheduler: BaseScheduler, sub_id: int) -> None:
    """Remove a subscription's posting job if there is one."""
    if scheduler.get_job(job_id(sub_id)) is not None:
        scheduler.remove_job(job_id(sub_id))


class PostingService:
    """Posts subscriptions' digests on time through the outbox; needs no gateway.

    The bot holds one (all subscriptions); `hotpapers run` without a bot token runs one for the
    webhook subscriptions only (`select`). Rows of subscriptions outside `select` are left alone.
    """

    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        scheduler: BaseScheduler,
        clock: Clock,
        *,
        select: Callable[[Subscription], bool] | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.scheduler = scheduler
        self.clock = clock
        self.select = select or (lambda sub: True)
        self.lock = asyncio.Lock()

    def _active(self) -> list[Subscription]:
        return [s for s in self.store.subscriptions(active_only=True) if self.select(s)]

    def schedule_all(self) -> int:
        """Rebuild every selected active subscription's job from the table, plus catch-up."""
        count = 0
        for sub in self._active():
            schedule_subscription(self.scheduler, sub, self.post_subscription)
            count += 1
        self.scheduler.add_job(
            self.catch_up,
            IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds(), timezone=dt.UTC),
            id=CATCH_UP_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        log.info("scheduled %d subscription posting job(s)", count)
        return count

    def schedule(self, sub: Subscription) -> None:
        """(Re)schedule one subscription's posting job after a change."""
        schedule_subscription(self.scheduler, sub, self.post_subscription)

    def unschedule(self, sub_id: int) -> None:
        unschedule_subscription(self.scheduler, sub_id)

    def next_post_time(self, sub: Subscription) -> dt.datetime | None:
        """When sub posts next (None when paused)."""
        return next_post_time(sub, self.clock()) if sub.state == "active" else None

    def _build(self, row: Delivery, sub: Subscription) -> list[Message] | None:
        return render_for(self.store, sub, row.day, self.clock())

    def _enqueue_due(self, sub: Subscription, now: dt.datetime) -> Delivery | None:
        day = day_to_post(self.store, sub, now)
        if day is None:
            return None
        return self.store.enqueue_delivery(sub, day, due_time(sub, day))

    async def post_subscription(self, sub_id: int) -> DeliveryReport | None:
        """The posting job: write the due (channel, day) outbox row, then send what is pending."""
        sub = self.store.get_subscription(sub_id)
        if sub is None or sub.state != "active" or not self.select(sub):
            return None
        try:
            async with self.lock:
                row = self._enqueue_due(sub, self.clock())
                if row is None or row.status != "pending":
                    return None
                messages = self._build(row, sub)
                if not messages:
                    self.store.update_delivery(
                        sub_id, row.day, status="skipped", error="nothing to post"
                    )
                    return None
                report = DeliveryReport()
                await self.outbox.deliver(row, messages, report)
                return report
        except DiscordUnauthorized:
            log.critical("Discord rejected the bot token; posting stopped")
        except Exception:
            log.exception("posting to channel %s (subscription %s) failed", sub.channel_id, sub_id)
        return None

    async def catch_up(self) -> DeliveryReport | None:
        """Enqueue every selected subscription's due day, then deliver what is due by now."""
        try:
            async with self.lock:
                now = self.clock()
                for sub in self._active():
                    self._enqueue_due(sub, now)
                report = await self.outbox.run_due(self._build, now, select=self.select)
        except DiscordUnauthorized:
            log.critical("Discord rejected the bot token; posting stopped")
            return None
        except Exception:
            log.exception("catching up on due digests failed")
            return None
        if report.sent or report.paused or report.failed:
            log.info(
                "catch-up: %d sent, %d paused, %d failed, %d pending",
                report.sent,
                report.paused,
                report.failed,
                report.pending,
            )
        return report
