"""Downtime: the bot is down across its channels' posting times; on start it posts each
missed digest once, within a minute of starting (on the bot's own, running clock), posts
nothing early for a channel whose time has not come, and nothing for a channel unsubscribed
meanwhile, nor for one unsubscribed while its digest was still waiting in the outbox.

Subscriptions are in several time zones on purpose: a digest's due time is stored with its
zone's offset, and the catch-up must compare instants, not strings.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from bot import posting
from tests.fakes.discord import FakeDiscord
from tests.test_e2e_bot import BEFORE, CHANNEL, GUILD, D, Running, data, opt

START = dt.datetime(2021, 8, 4, 9, 30, tzinfo=dt.UTC)  # the bot comes back at 09:30 UTC
DUE = {  # channel -> (time zone, local post time, posted on start?)
    CHANNEL: ("UTC", "09:00", True),  # due 09:00 UTC
    32: ("Asia/Tokyo", "17:30", True),  # due 08:30 UTC (+09:00)
    33: ("America/New_York", "05:00", True),  # due 09:00 UTC (-04:00)
    35: ("America/Los_Angeles", "12:00", False),  # due 19:00 UTC: not yet
}
UNSUBSCRIBED = 34  # unsubscribed before the downtime
LEFT_PENDING = 36  # its digest waited in the outbox when the channel unsubscribed


class RunningClock:
    """The bot's clock: from `now`, running at real speed once `run()` is called."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._since: float | None = None

    def run(self) -> None:
        self._since = time.monotonic()

    def __call__(self) -> dt.datetime:
        if self._since is None:
            return self.now
        return self.now + dt.timedelta(seconds=time.monotonic() - self._since)


@pytest.fixture
async def running(tmp_path):
    fake = FakeDiscord()
    await fake.start()
    channels = {c: f"c{c}" for c in (*DUE, UNSUBSCRIBED, LEFT_PENDING)}
    fake.add_guild(GUILD, "Papers club", channels=channels)
    run = Running(fake, tmp_path)
    await run.start()
    yield run
    await run.shutdown()


async def test_missed_digests_posted_once_on_start_not_unsubscribed_ones(running, figures):
    fake, bot = running.fake, running.bot
    for channel, (zone, at, _) in DUE.items():
        ok = await running.command(
            "subscribe",
            [opt("categories", "cs.CV"), opt("time", at), opt("timezone", zone)],
            channel_id=channel,
        )
        assert data(ok)["content"].startswith("Subscribed"), data(ok)["content"]
    for channel in (UNSUBSCRIBED, LEFT_PENDING):
        await running.command("subscribe", [opt("categories", "cs.CL")], channel_id=channel)
    await running.command("unsubscribe", channel_id=UNSUBSCRIBED)
    # LEFT_PENDING's digest is in the outbox (say Discord failed it with 5xx), then it leaves.
    pending = bot.store.subscription_for_channel(LEFT_PENDING)
    bot.store.enqueue_delivery(pending, D, posting.due_time(pending, D))
    await running.command("unsubscribe", channel_id=LEFT_PENDING)
    assert bot.store.get_delivery(pending.id, D) is None

    assert min(posting.due_time(bot.store.subscription_for_channel(c), D) for c in DUE) > BEFORE
    await running.stop()  # down from 08:00 UTC ...
    assert fake.messages == {}
    clock = RunningClock(START)  # ... to 09:30 UTC: three posting times missed
    running.clock = clock
    clock.run()
    bot = await running.start()  # start() waits for the catch-up it runs on start

    for channel, (_zone, _at, due_now) in DUE.items():
        sub = bot.store.subscription_for_channel(channel)
        posted = fake.posted(channel)
        if due_now:
            assert len(posted) == 1, (channel, bot.store.get_delivery(sub.id, D))
            (message,) = posted
            assert message["content"].startswith(f"**Hot Papers {D}** · cs.CV")
            row = bot.store.get_delivery(sub.id, D)
            assert row.status == "sent" and row.sent_at - START < dt.timedelta(minutes=1)
        else:
            assert posted == []  # not early
            assert bot.store.get_delivery(sub.id, D) is None
    assert fake.posted(UNSUBSCRIBED) == [] and fake.posted(LEFT_PENDING) == []
    started_within = max(
        (bot.store.get_delivery(bot.store.subscription_for_channel(c).id, D).sent_at - START)
        for c, (_, _, due_now) in DUE.items()
        if due_now
    )

    # Nothing is posted twice: the catch-up and the jobs run again.
    await bot.catch_up()
    for channel in DUE:
        await bot.post_subscription(bot.store.subscription_for_channel(channel).id)
    assert [len(fake.posted(c)) for c in DUE] == [1, 1, 1, 0]

    # The one not yet due posts at its own time, once.
    clock.now = dt.datetime(2021, 8, 4, 19, 0, 5, tzinfo=dt.UTC)
    clock.run()
    await running.fire(bot.store.subscription_for_channel(35).id)
    await bot.catch_up()
    assert [len(fake.posted(c)) for c in DUE] == [1, 1, 1, 1]
    figures.set(
        "downtime",
        missed=3,
        posted_on_start=3,
        seconds_after_start=round(started_within.total_seconds(), 2),
        posted_early=0,
        posted_unsubscribed=len(fake.posted(UNSUBSCRIBED)) + len(fake.posted(LEFT_PENDING)),
        duplicates=sum(max(0, len(fake.posted(c)) - 1) for c in DUE),
    )
