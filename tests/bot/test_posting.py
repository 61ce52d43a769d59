"""Which day a subscription posts, and when; its scheduler jobs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import posting
from bot.models import Subscription
from tests.cogs.helpers import make_ranking

D = dt.date(2021, 8, 3)
CREATED = dt.datetime(2021, 8, 1, tzinfo=dt.UTC)


def sub(**kw) -> Subscription:
    base = dict(
        id=1, guild_id=1, channel_id=10, post_time="09:00", timezone="UTC", created_at=CREATED
    )
    base.update(kw)
    return Subscription(**base)


def test_due_time_is_post_time_on_the_next_day_in_the_subscription_zone():
    assert posting.due_time(sub(), D) == dt.datetime(2021, 8, 4, 9, tzinfo=ZoneInfo("UTC"))
    paris = posting.due_time(sub(timezone="Europe/Paris", post_time="07:30"), D)
    assert paris.astimezone(dt.UTC) == dt.datetime(2021, 8, 4, 5, 30, tzinfo=dt.UTC)


def test_next_post_time_handles_dst():
    s = sub(timezone="Europe/Paris", post_time="09:00")
    before = dt.datetime(2021, 10, 30, 12, tzinfo=dt.UTC)  # CEST, switch on the 31st
    after = posting.next_post_time(s, before)
    assert after.astimezone(dt.UTC) == dt.datetime(2021, 10, 31, 8, tzinfo=dt.UTC)  # CET


def test_day_to_post(store):
    store.save_day(make_ranking(dt.date(2021, 8, 2), 2))
    store.save_day(make_ranking(D, 2))
    s = sub()
    at = lambda *a: dt.datetime(*a, tzinfo=dt.UTC)  # noqa: E731
    assert posting.day_to_post(store, s, at(2021, 8, 4, 8, 59)) == dt.date(2021, 8, 2)
    assert posting.day_to_post(store, s, at(2021, 8, 4, 9, 0)) == D
    assert posting.day_to_post(store, s, at(2021, 8, 5, 12, 0)) == D  # D+1 not ranked yet
    assert posting.day_to_post(store, s, at(2021, 8, 7, 12, 0)) is None  # too old
    fresh = sub(created_at=at(2021, 8, 4, 10, 0))
    assert posting.day_to_post(store, fresh, at(2021, 8, 4, 11, 0)) is None  # before it existed


def test_render_for_applies_the_subscription_filters(store):
    store.save_day(make_ranking(D, 12))
    msgs = posting.render_for(store, sub(categories=("cs.CL",), top=3, min_score=995), D, CREATED)
    assert [e["title"].split(" · ")[0] for e in msgs[0].embeds] == ["#2", "#4"]
    assert posting.render_for(store, sub(), dt.date(2020, 1, 1), CREATED) is None


async def test_jobs_rebuilt_from_the_table(store):
    active = store.save_subscription(sub(id=None, channel_id=10), CREATED)
    paused = store.save_subscription(sub(id=None, channel_id=11, state="paused"), CREATED)
    webhook = store.save_subscription(
        sub(id=None, channel_id=12, webhook_url="https://discord.com/api/webhooks/12/t"), CREATED
    )
    scheduler = AsyncIOScheduler(timezone=dt.UTC)

    async def job(sub_id: int) -> None: ...

    service = posting.PostingService(store, outbox=None, scheduler=scheduler, clock=lambda: CREATED)
    assert service.schedule_all() == 2
    assert scheduler.get_job(posting.job_id(webhook.id)) is not None
    only_webhooks = AsyncIOScheduler(timezone=dt.UTC)
    assert (
        posting.PostingService(
            store, None, only_webhooks, lambda: CREATED, select=lambda s: bool(s.webhook_url)
        ).schedule_all()
        == 1
    )
    assert only_webhooks.get_job(posting.job_id(active.id)) is None
    assert scheduler.get_job(posting.job_id(active.id)) is not None
    assert scheduler.get_job(posting.job_id(paused.id)) is None
    assert scheduler.get_job(posting.CATCH_UP_JOB) is not None
    posting.schedule_subscription(scheduler, paused, job)  # paused: stays unscheduled
    assert scheduler.get_job(posting.job_id(paused.id)) is None
    posting.unschedule_subscription(scheduler, active.id)
    assert scheduler.get_job(posting.job_id(active.id)) is None


def test_subscriptions_at_the_same_local_time_share_one_trigger():
    a = Subscription(id=1, guild_id=1, channel_id=2, post_time="09:30", timezone="Asia/Tokyo")
    b = Subscription(id=2, guild_id=1, channel_id=3, post_time="09:30", timezone="Asia/Tokyo")
    c = Subscription(id=3, guild_id=1, channel_id=4, post_time="09:30", timezone="UTC")
    assert posting.post_trigger(a) is posting.post_trigger(b)
    assert posting.post_trigger(a) is not posting.post_trigger(c)
    now = dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC)
    first = posting.next_post_time(a, now)
    assert first == dt.datetime(2024, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    # Asking from just after it (shared trigger, no state kept) moves on by a day.
    later = first + dt.timedelta(minutes=1)
    assert posting.next_post_time(b, later) == first + dt.timedelta(days=1)
    assert posting.next_post_time(a, now) == first
