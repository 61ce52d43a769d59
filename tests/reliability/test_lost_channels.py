"""Lost channels: a channel that answers 403 (50001 Missing Access, 50013 Missing
Permissions) or 404 (10003 Unknown Channel) pauses its subscription at the first such answer;
it is never asked again by the scheduled runs of the following days; /subscriptions says why;
the other channels get every day's digest.

The real bot (`serve`, what `hotpapers run` runs) against the loopback fake Discord, its clock
driven across three days (tests/test_e2e_bot.py's harness).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot import posting
from bot.models import Subscription
from tests.cogs.helpers import make_ranking
from tests.fakes.discord import FakeDiscord
from tests.test_e2e_bot import AT_POST_TIME, CHANNEL, GUILD, D, Running, data

LOST = {  # channel -> (fake state, what /subscriptions must say)
    21: ("no_access", "Missing Access (HTTP 403, code 50001)"),
    22: ("no_permission", "Missing Permissions (HTTP 403, code 50013)"),
    23: ("unknown", "Unknown Channel (HTTP 404, code 10003)"),
}
HEALTHY = (CHANNEL, 24)
DAYS = 3


@pytest.fixture
async def running(tmp_path):
    fake = FakeDiscord()
    await fake.start()
    channels = {c: f"c{c}" for c in (*HEALTHY, *LOST)}
    fake.add_guild(GUILD, "Papers club", channels=channels)
    for channel, (state, _) in LOST.items():
        fake.set_channel_state(channel, state)
    run = Running(fake, tmp_path)
    await run.start()
    yield run
    await run.shutdown()


def message_posts(fake: FakeDiscord, channel: int) -> int:
    path = f"/channels/{channel}/messages"
    return sum(1 for r in fake.requests if r.method == "POST" and r.path == path)


async def test_lost_channels_are_paused_once_and_never_retried(running, figures):
    fake, bot = running.fake, running.bot
    for day in range(1, DAYS):
        ranking = make_ranking(D + dt.timedelta(days=day), 8)
        ranking.origin = "archive"
        bot.store.save_day(ranking)
    subs = {}
    for channel in (*HEALTHY, *LOST):
        sub = bot.store.save_subscription(
            Subscription(id=None, guild_id=GUILD, channel_id=channel, top=5),
            AT_POST_TIME - dt.timedelta(days=1),
        )
        bot.schedule(sub)
        subs[channel] = sub.id

    for day in range(DAYS):  # each day: every job fires at 09:00, twice, and the catch-up runs
        running.clock.now = AT_POST_TIME + dt.timedelta(days=day)
        for sub_id in subs.values():
            if bot.scheduler.get_job(posting.job_id(sub_id)) is not None:
                await running.fire(sub_id)
            await bot.post_subscription(sub_id)
        await bot.catch_up()

    for channel, (_state, reason) in LOST.items():
        sub = bot.store.subscription_for_channel(channel)
        assert sub.state == "paused" and sub.paused_reason.startswith(reason)
        assert message_posts(fake, channel) == 1  # the first answer, then never again
        assert fake.posted(channel) == []
    for channel in HEALTHY:
        assert bot.store.subscription_for_channel(channel).state == "active"
        posted = fake.posted(channel)
        assert [m["content"].split(" · ")[0] for m in posted] == [
            f"**Hot Papers {D + dt.timedelta(days=day)}**" for day in range(DAYS)
        ]
        assert message_posts(fake, channel) == DAYS

    listed = await running.command("subscriptions")
    description = data(listed)["embeds"][0]["description"]
    for channel, (_state, reason) in LOST.items():
        line = next(x for x in description.splitlines() if x.startswith(f"<#{channel}>"))
        line = line.replace("\\", "")  # markdown escapes, invisible in Discord
        assert f"**paused**: {reason}" in line and "run /subscribe again to resume" in line
    for channel in HEALTHY:
        line = next(x for x in description.splitlines() if x.startswith(f"<#{channel}>"))
        assert "paused" not in line and "next <t:" in line

    figures.set(
        "lost-channels",
        lost_channels=len(LOST),
        scheduled_days=DAYS,
        requests_per_lost_channel=max(message_posts(fake, c) for c in LOST),
        invalid_answers=fake.invalid_requests,
        healthy_digests=sum(len(fake.posted(c)) for c in HEALTHY),
    )
    assert fake.invalid_requests == 2  # the two 403s (Discord does not count a 404)
