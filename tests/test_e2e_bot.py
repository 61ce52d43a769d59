"""End to end: the real bot (`serve`, what `hotpapers run --config …` runs) against the loopback
fake Discord, with a seeded database, every source disabled and a clock the test moves.

Scheduled posts are driven, not waited for: the test moves the bot's clock to the post time and
makes the subscription's APScheduler job due now (APScheduler itself runs on the wall clock).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot import config as config_mod
from bot import posting
from bot.bot_cli import serve
from bot.client import HotPapersBot
from bot.store import Store
from tests.cogs.helpers import MutableClock, make_ranking
from tests.fakes.discord import MEMBER_PERMISSIONS, FakeDiscord

GUILD = 10
CHANNEL = 11
LOST = 12  # answers 403 Missing Access
OWNER = 200
D = dt.date(2021, 8, 3)
BEFORE = dt.datetime(2021, 8, 4, 8, 0, tzinfo=dt.UTC)
AT_POST_TIME = dt.datetime(2021, 8, 4, 9, 0, 5, tzinfo=dt.UTC)


class Running:
    """The fake Discord plus one bot process (restartable), sharing one database file."""

    def __init__(self, fake: FakeDiscord, tmp: Path) -> None:
        self.fake = fake
        self.clock = MutableClock(BEFORE)
        self.db = tmp / "hotpapers.db"
        store = Store.open(self.db)
        ranking = make_ranking(D, 25)
        ranking.origin = "archive"  # never re-ranked by the daily job
        store.save_day(ranking)
        store.close()
        path = tmp / "config.toml"
        disabled = "".join(
            f"[sources.{s}]\nenabled = false\n"
            for s in ("arxiv", "huggingface", "hackernews", "bluesky", "x", "mastodon")
        )
        path.write_text(
            f'[database]\npath = "{self.db}"\n'
            "[schedule]\ncatch_up_days = 1\n"
            f"{disabled}"
            f'[discord]\napi_base = "{fake.api_url}"\ngateway_url = "{fake.gateway_url}"\n'
            "global_rate = 500.0\n"
        )
        self.config = config_mod.load(path, env={"HOTPAPERS_DISCORD_TOKEN": fake.token})
        self.bot: HotPapersBot | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> HotPapersBot:
        bots: list[HotPapersBot] = []
        self.task = asyncio.create_task(
            serve(self.config, self.clock, started=bots.append, guild_ready_timeout=0.05)
        )
        await self.fake.wait_until(lambda: bool(bots) and bots[0].is_ready(), timeout=10)
        self.bot = bots[0]
        await self.bot.catch_up_task
        return self.bot

    async def stop(self, *, kill: bool = False) -> None:
        assert self.task is not None and self.bot is not None
        if kill:  # as abrupt as in-process gets: cancel whatever it is doing
            self.task.cancel()
        else:
            await self.bot.close()
        with pytest.raises(asyncio.CancelledError) if kill else _nothing():
            await asyncio.wait_for(self.task, 10)

    async def shutdown(self) -> None:
        """Close the bot if it still runs, then the fake."""
        if self.task is not None and not self.task.done():
            assert self.bot is not None
            await self.bot.close()
            await asyncio.wait_for(self.task, 10)
        await self.fake.close()

    async def command(self, name: str, options=None, **kw):
        kw.setdefault("guild_id", GUILD)
        kw.setdefault("channel_id", CHANNEL)
        kw.setdefault("user_id", OWNER)
        inter = await self.fake.interact(self.fake.slash(name, options), **kw)
        await self.fake.wait_until(lambda: inter.responded, timeout=5)
        return inter

    async def fire(self, sub_id: int) -> None:
        """Make the subscription's posting job due now; wait until it has run."""
        assert self.bot is not None
        job = self.bot.scheduler.get_job(posting.job_id(sub_id))
        assert job is not None
        ran = asyncio.Event()

        def listener(event) -> None:
            if event.job_id == job.id:
                ran.set()

        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

        self.bot.scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        job.modify(next_run_time=dt.datetime.now(dt.UTC))
        self.bot.scheduler.wakeup()
        await asyncio.wait_for(ran.wait(), 10)
        self.bot.scheduler.remove_listener(listener)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def opt(name: str, value, type_: int = 3, **extra) -> dict:
    return {"name": name, "type": type_, "value": value, **extra}


def data(inter) -> dict:
    return inter.response["data"]


def ephemeral(inter) -> bool:
    return bool(int(data(inter).get("flags") or 0) & 64)


@pytest.fixture
async def running(tmp_path):
    fake = FakeDiscord()
    await fake.start()
    fake.add_guild(GUILD, "Papers club", channels={CHANNEL: "hot-papers", LOST: "gone"})
    fake.set_channel_state(LOST, "no_access")
    run = Running(fake, tmp_path)
    await run.start()
    yield run
    await run.shutdown()


async def test_hot_for_the_stored_day_with_paging(running):
    fake = running.fake
    inter = await running.command("hot")
    assert inter.response["type"] == 4 and not ephemeral(inter)
    assert data(inter)["content"] == "**Hot Papers 2021-08-03** · 25 papers · page 1/5"
    assert [e["title"].split(" · ")[0] for e in data(inter)["embeds"]] == [
        "#1",
        "#2",
        "#3",
        "#4",
        "#5",
    ]
    buttons = data(inter)["components"][0]["components"]
    next_id = buttons[1]["custom_id"]
    message = fake._public(inter.original)

    # Someone else cannot turn the pages.
    click = await fake.interact(
        {"custom_id": next_id, "component_type": 2},
        type=3,
        guild_id=GUILD,
        channel_id=CHANNEL,
        user_id=201,
        message=message,
    )
    await fake.wait_until(lambda: click.responded, timeout=5)
    assert ephemeral(click) and "Only the person who ran this /hot" in data(click)["content"]

    click = await fake.interact(
        {"custom_id": next_id, "component_type": 2},
        type=3,
        guild_id=GUILD,
        channel_id=CHANNEL,
        user_id=OWNER,
        message=message,
    )
    await fake.wait_until(lambda: click.responded, timeout=5)
    assert click.response["type"] == 7  # update the message in place
    assert data(click)["content"].endswith("page 2/5")
    assert data(click)["embeds"][0]["title"].startswith("#6 · ")


async def test_hot_with_date_category_and_top(running):
    inter = await running.command(
        "hot", [opt("date", "2021-08-03"), opt("category", "cs.cl"), opt("top", 3, 4)]
    )
    assert data(inter)["content"] == "**Hot Papers 2021-08-03** · cs.CL · 3 papers · page 1/1"
    assert [e["title"].split(" · ")[0] for e in data(inter)["embeds"]] == ["#2", "#4", "#6"]
    assert "components" not in data(inter) or not data(inter)["components"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([opt("date", "2021-13-01")], "is not a valid date"),
        ([opt("date", "2030-01-01")], "is in the future (today is 2021-08-04)"),
        ([opt("date", "next week")], "is not a date: use YYYY-MM-DD"),
        ([opt("date", "2021-07-01")], "No ranking is stored for 2021-07-01"),
        ([opt("category", "cs.XX")], "'cs.XX' is not an arXiv category"),
        ([opt("category", "math.AG")], "No paper in math.AG ranked on 2021-08-03"),
        ([opt("top", 0, 4)], "top must be between 1 and 100"),
    ],
)
async def test_hot_bad_inputs_get_an_ephemeral_explanation(running, options, expected):
    inter = await running.command("hot", options)
    assert inter.response["type"] == 4 and ephemeral(inter)
    assert expected in data(inter)["content"]


async def test_category_autocomplete_is_within_discord_limits(running):
    inter = await running.fake.interact(
        running.fake.slash("hot", [opt("category", "c", focused=True)]),
        type=4,
        guild_id=GUILD,
        channel_id=CHANNEL,
    )
    await running.fake.wait_until(lambda: inter.responded, timeout=5)
    choices = data(inter)["choices"]
    assert inter.response["type"] == 8 and 0 < len(choices) <= 25


async def test_subscribe_then_the_post_arrives_once_at_its_time(running):
    fake, bot = running.fake, running.bot
    # A member without Manage Channels, and a DM, are refused; nothing is saved.
    refused = await running.command(
        "subscribe", [opt("categories", "cs.CV")], permissions=MEMBER_PERMISSIONS
    )
    assert ephemeral(refused) and "Manage Channels" in data(refused)["content"]
    dm = await running.command("subscribe", [opt("categories", "cs.CV")], guild_id=None)
    assert "only works in a server" in data(dm)["content"]
    bad = await running.command("subscribe", [opt("categories", "cs.CV"), opt("time", "9h")])
    assert "is not a time" in data(bad)["content"]
    assert bot.store.subscriptions() == []

    ok = await running.command(
        "subscribe",
        [
            opt("categories", "cs.CV"),
            opt("time", "09:00"),
            opt("timezone", "UTC"),
            opt("top", 5, 4),
        ],
    )
    assert ephemeral(ok) and data(ok)["content"].startswith("Subscribed: <#11> · cs.CV · top 5")
    (sub,) = bot.store.subscriptions()
    assert bot.next_post_time(sub) == dt.datetime(2021, 8, 4, 9, tzinfo=dt.UTC)

    await running.fire(sub.id)  # at 08:00 nothing is due yet
    assert fake.posted(CHANNEL) == []
    running.clock.now = AT_POST_TIME
    await running.fire(sub.id)
    await running.fire(sub.id)  # the job firing twice posts once
    await bot.catch_up()
    (posted,) = fake.posted(CHANNEL)
    assert posted["content"] == "**Hot Papers 2021-08-03** · cs.CV · 5 papers"
    assert [e["title"].split(" · ")[0] for e in posted["embeds"]] == ["#1", "#3", "#5", "#7", "#9"]
    assert posted["_allowed_mentions"] == {"parse": []}
    assert bot.store.get_delivery(sub.id, D).status == "sent"

    listed = await running.command("subscriptions")
    assert "next <t:1628154000:R>" in data(listed)["embeds"][0]["description"]  # 08-05 09:00


async def test_restart_mid_delivery_neither_duplicates_nor_skips(running):
    fake = running.fake
    ok = await running.command("subscribe", [opt("categories", "cs.CV cs.CL"), opt("top", 25, 4)])
    assert ok.response["type"] == 4
    (sub,) = running.bot.store.subscriptions()
    # 25 papers = 3 messages; the channel accepts one message, then makes us wait 30 s.
    fake.channel_limit, fake.channel_window = 1, 30.0
    running.clock.now = AT_POST_TIME
    fire = asyncio.create_task(running.fire(sub.id))
    store = running.bot.store
    await fake.wait_until(lambda: len(fake.posted(CHANNEL)) == 1, timeout=5)
    # the first part is recorded; the second waits for the channel bucket (30 s)
    await fake.wait_until(lambda: len(store.get_delivery(sub.id, D).message_ids) == 1, timeout=5)
    fire.cancel()
    await running.stop(kill=True)
    assert len(fake.posted(CHANNEL)) == 1

    fake.channel_limit, fake.channel_window = 5, 5.0
    fake._buckets.clear()
    running.clock.now = AT_POST_TIME + dt.timedelta(minutes=1)
    bot = await running.start()  # catches up on start
    await fake.wait_until(lambda: len(fake.posted(CHANNEL)) == 3, timeout=5)
    posted = fake.posted(CHANNEL)
    titles = [e["title"].split(" · ")[0] for m in posted for e in m["embeds"]]
    assert titles == [f"#{i}" for i in range(1, 26)]  # each once, in rank order
    assert [m["nonce"] for m in posted] == [f"hp{sub.id}d20210803p{i}" for i in range(3)]
    assert bot.store.get_delivery(sub.id, D).status == "sent"
    await bot.catch_up()
    assert len(fake.posted(CHANNEL)) == 3


async def test_a_channel_answering_403_is_paused_and_shown(running):
    fake, bot = running.fake, running.bot
    ok = await running.command("subscribe", [opt("categories", "cs.CV")], channel_id=LOST)
    assert ok.response["type"] == 4
    sub = bot.store.subscription_for_channel(LOST)
    running.clock.now = AT_POST_TIME
    await running.fire(sub.id)
    sub = bot.store.subscription_for_channel(LOST)
    assert sub.state == "paused" and "Missing Access" in sub.paused_reason
    assert len([r for r in fake.requests if r.status == 403]) == 1  # paused at once: no loop
    await bot.post_subscription(sub.id)  # the job firing again does nothing
    await bot.catch_up()
    assert len([r for r in fake.requests if r.status == 403]) == 1
    listed = await running.command("subscriptions")
    description = data(listed)["embeds"][0]["description"]
    assert "<#12>" in description and "**paused**: Missing Access" in description


async def test_hotpapers_run_as_a_user_starts_it(tmp_path):
    """`python -m bot --config FILE run` in a subprocess: connects, answers /hot, posts nothing."""
    import os
    import sys

    async with FakeDiscord() as fake:
        fake.add_guild(GUILD, "Papers club", channels={CHANNEL: "hot-papers"})
        run = Running(fake, tmp_path)
        env = {**os.environ, "HOTPAPERS_DISCORD_TOKEN": fake.token}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(run.config.path),
            "run",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            # Commands are loaded before the bot identifies, and the gateway keeps order: once
            # READY and GUILD_CREATE are sent, an interaction sent next is handled after them.
            await fake.wait_until(lambda: fake.sessions_ready >= 1, timeout=60)
            # (the real clock: the daily job may have stored today's empty ranking meanwhile)
            hot = fake.slash("hot", [opt("date", "2021-08-03")])
            inter = await fake.interact(hot, guild_id=GUILD, channel_id=CHANNEL)
            await fake.wait_until(lambda: inter.responded, timeout=10)
            assert data(inter)["content"].startswith("**Hot Papers 2021-08-03** · 25 papers")
            assert fake.commands == {}  # never synced globally (nor anywhere) at start
            assert fake.messages == {}
        finally:
            proc.terminate()
            _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert fake.token.encode() not in err  # the token never reaches the logs
