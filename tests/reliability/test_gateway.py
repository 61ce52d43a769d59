"""Gateway trouble: RECONNECT (op 7), INVALID_SESSION (op 9, resumable or not) and a dropped
socket (no close frame), then the gateway refusing connections for a while: the bot RESUMEs
(or IDENTIFYs again when the session is gone) and its schedule keeps running: a digest due
while the gateway is down is posted anyway, since posting goes over REST, not the gateway.
"""

from __future__ import annotations

import datetime as dt

import discord.client
import pytest
from aiohttp import web

from bot.models import Subscription
from tests.fakes.discord import FakeDiscord
from tests.test_e2e_bot import AT_POST_TIME, CHANNEL, GUILD, D, Running, data


class FlakyGateway(FakeDiscord):
    """A fake whose gateway endpoint can refuse connections (503) while `gateway_down`."""

    gateway_down = False
    refused = 0

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.gateway_down:
            self.refused += 1
            raise web.HTTPServiceUnavailable()
        return await super()._gateway(request)


class QuickBackoff:
    """discord.py waits a random 0..2^k s before its k-th reconnect attempt (k is never reset
    during a run), so how long the bot takes to come back after the outage would depend on how
    many refused attempts a slow machine racked up meanwhile. Reconnecting is under test here,
    not that wait: retry every 50 ms."""

    def delay(self) -> float:
        return 0.05


@pytest.fixture
async def running(tmp_path, monkeypatch):
    monkeypatch.setattr(discord.client, "ExponentialBackoff", QuickBackoff)
    fake = FlakyGateway()
    await fake.start()
    fake.add_guild(GUILD, "Papers club", channels={CHANNEL: "hot-papers"})
    run = Running(fake, tmp_path)
    bot = await run.start()

    async def no_wait(shard_id, *, initial=False):  # discord.py sleeps 5 s before re-IDENTIFY
        return None

    bot.before_identify_hook = no_wait
    yield run
    await run.shutdown()


def sent_ops(fake: FakeDiscord, op: int) -> int:
    return sum(1 for m in fake.gateway_log if m["op"] == op)


async def until_connected(fake: FakeDiscord, *, identifies: int, resumes: int) -> None:
    await fake.wait_until(
        lambda: fake.identifies == identifies and fake.resumes == resumes and fake.connected == 1,
        timeout=15,
    )


async def test_the_bot_resumes_and_posts_through_gateway_trouble(running, figures):
    fake, bot = running.fake, running.bot
    sub = bot.store.save_subscription(
        Subscription(id=None, guild_id=GUILD, channel_id=CHANNEL, top=5),
        AT_POST_TIME - dt.timedelta(days=1),
    )
    bot.schedule(sub)
    await until_connected(fake, identifies=1, resumes=0)

    await fake.send_reconnect()  # op 7: close and RESUME
    await until_connected(fake, identifies=1, resumes=1)

    await fake.send_invalid_session(resumable=True)  # op 9 true: RESUME
    await until_connected(fake, identifies=1, resumes=2)

    await fake.send_invalid_session(resumable=False)  # op 9 false: session gone, IDENTIFY
    await until_connected(fake, identifies=2, resumes=2)

    await fake.drop_sockets()  # the TCP connection dies, no close frame: RESUME
    await until_connected(fake, identifies=2, resumes=3)

    # The gateway goes away for a while; the 09:00 posting job fires meanwhile.
    fake.gateway_down = True
    await fake.drop_sockets()
    await fake.wait_until(lambda: fake.refused >= 1, timeout=15)
    assert fake.connected == 0
    running.clock.now = AT_POST_TIME
    await running.fire(sub.id)
    assert fake.connected == 0  # still down, and yet:
    (posted,) = fake.posted(CHANNEL)
    assert posted["content"].startswith(f"**Hot Papers {D}**")
    assert bot.store.get_delivery(sub.id, D).status == "sent"
    fake.gateway_down = False
    await until_connected(fake, identifies=2, resumes=4)

    # Still alive afterwards: commands answered, the schedule in place, nothing posted twice.
    listed = await running.command("subscriptions")
    assert "next <t:" in data(listed)["embeds"][0]["description"]
    assert bot.scheduler.running and bot.scheduler.get_job(f"post-subscription-{sub.id}")
    await bot.catch_up()
    assert len(fake.posted(CHANNEL)) == 1
    assert (sent_ops(fake, 2), sent_ops(fake, 6)) == (2, 4)  # IDENTIFY, RESUME seen by the fake
    figures.set(
        "gateway",
        reconnects=1,
        invalid_sessions=2,
        dropped_sockets=2,
        refused_connections=fake.refused,
        identifies=fake.identifies,
        resumes=fake.resumes,
        posted_while_disconnected=1,
    )
