"""Rate limits: the fake Discord answers 30% of message posts with 429 (half per-route, half
global, `Retry-After` around 0.05 s): the bot's outbox still delivers every digest, each part
once and in order, waits as long as each 429 says, and the invalid answers (401/403/429, what
Discord counts toward its 10,000-per-10-minutes ban) stay a small, bounded figure per 1,000
messages.

The outbox and poster are the bot's own (`DiscordPoster.from_config`, as `build_bot` makes
them) over real HTTP to the loopback fake; the fake's global limit is scaled up (500/s, the
bot paced at 450/s). The poster's pacer and waits and the fake's limits share a lockstep
virtual clock (tests.fakes.clock.LockstepTime): the fake sees each request at the moment the
pacer started it, so whether pacing kept under the limit does not depend on how a loaded
machine happens to bunch real arrivals, and the 429 waits cost no real time.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot import posting
from bot.config import Config, DiscordConfig, Secrets
from bot.delivery import DiscordPoster, Outbox
from bot.models import Subscription
from bot.pacing import GlobalPacer
from bot.store import Store
from tests.cogs.helpers import make_ranking
from tests.fakes.clock import LockstepTime
from tests.fakes.discord import FakeDiscord, Faults, _ApiError

DAY = dt.date(2021, 8, 3)
NOW = dt.datetime(2021, 8, 4, 9, 0, 5, tzinfo=dt.UTC)
FIRST_CHANNEL = 700_000
MESSAGES = 1000  # 300 three-part digests + 100 one-part digests
DISCORD_BAN_THRESHOLD = 10_000  # invalid requests per 10 minutes (Cloudflare ban)


class RecordingDiscord(FakeDiscord):
    """Records each message post per channel: (fake clock, status, retry_after, scope)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.timeline: dict[int, list[tuple[float, int, float, str | None]]] = defaultdict(list)

    async def _post_message(self, request: web.Request, channel_id: int) -> web.Response:
        try:
            response = await super()._post_message(request, channel_id)
        except _ApiError as exc:
            retry = float((exc.body or {}).get("retry_after", 0.0)) if exc.status == 429 else 0.0
            self.timeline[channel_id].append((self.clock(), exc.status, retry, exc.scope))
            raise
        self.timeline[channel_id].append((self.clock(), response.status, 0.0, None))
        return response


def subscribe_all(store: Store) -> list[Subscription]:
    subs = []
    for n in range(400):
        sub = Subscription(
            id=None, guild_id=1, channel_id=FIRST_CHANNEL + n, top=25 if n < 300 else 5
        )
        subs.append(store.save_subscription(sub, NOW - dt.timedelta(days=3)))
        store.enqueue_delivery(subs[-1], DAY, posting.due_time(subs[-1], DAY))
    return subs


@pytest.mark.slow
async def test_thirty_percent_429s_everything_delivered_waits_honoured(store, figures):
    ranking = make_ranking(DAY, 25)
    store.save_day(ranking)
    subs = subscribe_all(store)
    time_ = LockstepTime()
    fake = RecordingDiscord(
        global_limit=500,
        channel_limit=5,
        faults=Faults(rate_limit=0.30, global_share=0.5, retry_after=0.05, seed=5),
        clock=time_.clock,
    )
    async with fake:
        config = Config(
            discord=DiscordConfig(api_base=fake.api_url, global_rate=450.0),
            secrets=Secrets(discord_token=fake.token),
        )
        async with httpx.AsyncClient(timeout=10.0, transport=time_.transport()) as client:
            pacer = GlobalPacer(config.discord.global_rate, clock=time_.clock, sleep=time_.sleep)
            poster = DiscordPoster.from_config(
                config, client, pacer=pacer, monotonic=time_.clock, sleep=time_.sleep
            )
            outbox = Outbox(store, poster, clock=lambda: NOW)
            report = await outbox.run_due(
                lambda row, sub: posting.render_for(store, sub, row.day, NOW), NOW
            )

    # Everything delivered, each part once, in order.
    assert (report.sent, report.pending, report.failed, report.paused) == (400, 0, 0, 0)
    assert report.messages == MESSAGES
    for sub in subs:
        posted = fake.posted(sub.channel_id)
        want = posting.render_for(store, sub, DAY, NOW)
        assert [m["content"] for m in posted] == [m.content for m in want]
        assert store.get_delivery(sub.id, DAY).status == "sent"

    # Every 429 was waited out: the channel's next post came at least retry_after later.
    early = 0
    for events in fake.timeline.values():
        for (at, status, retry, _), (next_at, *_rest) in itertools.pairwise(events):
            if status == 429 and next_at - at < retry * 0.95:
                early += 1
    injected = fake.injected_429s
    earned = fake.status_counts[429] - injected  # 429s the bot's own pacing did not prevent
    invalid = fake.invalid_requests
    per_1000 = invalid * 1000 / MESSAGES
    requests = sum(len(e) for e in fake.timeline.values())
    figures.set(
        "rate-limits",
        messages=MESSAGES,
        requests=requests,
        injected_429s=injected,
        global_429s=sum(1 for e in fake.timeline.values() for x in e if x[3] == "global"),
        earned_429s=earned,
        retried_too_early=early,
        invalid_per_1000_messages=per_1000,
        invalid_cap_per_10_min=poster.budget.limit,
    )
    assert early == 0
    assert earned == 0
    assert fake.status_counts[401] == fake.status_counts[403] == 0
    assert 0.2 < injected / requests < 0.4  # the fault plan really hit ~30% of posts
    assert per_1000 < 600  # each injected 429 costs one retry, never a loop
    assert invalid * 10 < DISCORD_BAN_THRESHOLD  # this whole run: far below a ban
    # Were Discord to keep answering 429 like this, the poster's budget holds the bot to a
    # quarter of the ban threshold per 10 minutes; it counted every invalid answer.
    assert len(poster.budget) == invalid and poster.budget.limit * 4 <= DISCORD_BAN_THRESHOLD
