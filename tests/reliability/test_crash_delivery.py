"""Crash mid-delivery: the real bot (`python -m bot --config CFG run`) is SIGKILLed 20 times
while it posts a day's digest to 200 channels, and restarted each time; at the end every
channel holds its digest exactly once (every part, once, in order).

The kills are placed by the fake Discord itself, at random points of the fan-out and in the
two worst windows: just before a message is created, and just after it is created but before
the bot hears the answer (the message exists, the bot's database does not know it). The second
kind is what the per-part nonce with `enforce_nonce` guards: the restarted bot sends the same
nonce and gets the original message back instead of a duplicate.

The bot runs on the real clock, so the stored day is yesterday (UTC) and every subscription's
post time (00:00 UTC today) has passed: all 200 are due at start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot import config as config_mod
from bot import posting
from bot.models import Subscription
from bot.store import Store, delivery_nonce
from tests.cogs.helpers import make_ranking
from tests.fakes.discord import FakeDiscord

pytestmark = pytest.mark.slow

CHANNELS = 200
KILLS = 20
GUILD = 10
FIRST_CHANNEL = 500_000
TOPS = (25, 10, 5)  # 3, 2 and 1 message parts: the 25-paper digest is split in rank order
RUN_TIMEOUT = 60.0


class KillingDiscord(FakeDiscord):
    """A fake Discord that SIGKILLs the bot when the n-th message is about to be (or was just)
    created, so the kill lands in the exact window under test."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.created = 0
        self.process: asyncio.subprocess.Process | None = None
        self.kill_at: int | None = None  # kill when `created` reaches this
        self.kill_after_create = False  # True: create the message, then kill (answer lost)
        self.kills: list[tuple[int, str]] = []
        self.dead = False  # between a kill and the next start

    def _kill_now(self, when: str) -> None:
        proc, self.process, self.kill_at = self.process, None, None
        if proc is None or proc.returncode is not None:
            return
        self.dead = True  # requests still in flight are lost with the process
        os.kill(proc.pid, signal.SIGKILL)
        self.kills.append((self.created, when))

    async def _kill(self) -> None:
        proc = self.process
        self._kill_now("after create, answer lost")
        if proc is not None:
            await proc.wait()  # dead before the answer is written
        raise web.HTTPServiceUnavailable()  # never read: the client is gone

    async def _post_message(self, request: web.Request, channel_id: int) -> web.Response:
        before = self.created
        response = await super()._post_message(request, channel_id)
        if (
            self.kill_after_create
            and self.kill_at is not None
            and self.created > before
            and self.created >= self.kill_at
        ):
            await self._kill()  # the message exists; the bot never hears about it
        return response

    def _create(self, channel_id: int, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        if self.kill_at is not None and not self.kill_after_create and self.created >= self.kill_at:
            self._kill_now("before create")
        if self.dead:
            raise web.HTTPServiceUnavailable()  # the bot died before this request was done
        count = len(self.messages.get(channel_id, ()))
        message = super()._create(channel_id, payload, **kw)
        if len(self.messages.get(channel_id, ())) > count:
            self.created += 1
        return message


def write_world(tmp: Path, fake: FakeDiscord, now: dt.datetime) -> tuple[Path, dt.date]:
    """A database with yesterday's ranking and 200 due subscriptions; a config pointing at the
    fake with every source disabled. Returns (config path, day)."""
    day = now.date() - dt.timedelta(days=1)
    db = tmp / "hotpapers.db"
    store = Store.open(db)
    ranking = make_ranking(day, 25)
    ranking.origin = "archive"  # never re-ranked by the daily job
    store.save_day(ranking)
    created = now - dt.timedelta(days=3)
    for n in range(CHANNELS):
        store.save_subscription(
            Subscription(
                id=None,
                guild_id=GUILD,
                channel_id=FIRST_CHANNEL + n,
                post_time="00:00",
                timezone="UTC",
                top=TOPS[n % len(TOPS)],
            ),
            created,
        )
    store.close()
    disabled = "".join(
        f"[sources.{s}]\nenabled = false\n"
        for s in ("arxiv", "huggingface", "hackernews", "bluesky", "x", "mastodon")
    )
    path = tmp / "config.toml"
    path.write_text(
        f'[database]\npath = "{db}"\n'
        "[schedule]\ncatch_up_days = 1\n"
        f"{disabled}"
        f'[discord]\napi_base = "{fake.api_url}"\ngateway_url = "{fake.gateway_url}"\n'
        "global_rate = 2000.0\n"
    )
    config_mod.load(path, env={})  # fails here, not in the subprocess, if the file is wrong
    return path, day


def expected_parts(db: Path, day: dt.date, now: dt.datetime) -> dict[int, list[list[str]]]:
    """channel -> its digest's parts, each the list of its embed titles (rank order)."""
    store = Store.open(db)
    try:
        out = {}
        for sub in store.subscriptions():
            messages = posting.render_for(store, sub, day, now)
            assert messages
            out[sub.channel_id] = [[e["title"] for e in m.payload()["embeds"]] for m in messages]
        return out
    finally:
        store.close()


async def start_bot(config: Path, fake: FakeDiscord, log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "HOTPAPERS_DISCORD_TOKEN": fake.token}
    env.pop("HOTPAPERS_CONFIG", None)
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(config),
            "run",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=out,
            cwd=Path(__file__).resolve().parents[2],
        )


async def test_sigkill_mid_delivery_neither_duplicates_nor_misses(tmp_path, figures):
    fake = KillingDiscord(global_limit=100_000, channel_limit=10)
    await fake.start()
    fake.add_guild(GUILD, "Papers club", channels={FIRST_CHANNEL: "hot-papers"})
    now = dt.datetime.now(dt.UTC)
    if now.hour == 23 and now.minute >= 58:  # the day would roll over mid-test
        await asyncio.sleep((60 - now.minute) * 60 - now.second + 1)
        now = dt.datetime.now(dt.UTC)
    config, day = write_world(tmp_path, fake, now)
    db = tmp_path / "hotpapers.db"
    expected = expected_parts(db, day, now)
    total = sum(len(parts) for parts in expected.values())
    rng = random.Random(20260805)
    targets = sorted(rng.sample(range(1, total - 1), KILLS))
    log = tmp_path / "bot.log"
    try:
        for target in targets:
            fake.kill_at = max(target, fake.created + 1)
            fake.kill_after_create = rng.random() < 0.5
            fake.process = await start_bot(config, fake, log)
            fake.dead = False
            proc = fake.process
            await asyncio.wait_for(proc.wait(), RUN_TIMEOUT)
            assert proc.returncode == -signal.SIGKILL, log.read_text()[-3000:]
        assert len(fake.kills) == KILLS
        # Then let it finish.
        proc = await start_bot(config, fake, log)
        fake.dead = False
        try:
            await _wait_all_sent(db, day, RUN_TIMEOUT)
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 20)
    finally:
        await fake.close()

    duplicates = misses = out_of_order = 0
    nonces_ok = rows_ok = True
    store = Store.open(db)
    try:
        for sub in store.subscriptions():
            want = expected[sub.channel_id]
            posted = fake.posted(sub.channel_id)
            got = [[e["title"] for e in m["embeds"]] for m in posted]
            duplicates += max(0, len(got) - len({tuple(p) for p in got}))
            misses += sum(1 for part in want if part not in got)
            if got != want:
                out_of_order += 1
            nonce = delivery_nonce(sub.id, day)  # deterministic: survives a restart
            nonces_ok &= [m["nonce"] for m in posted] == [f"{nonce}p{i}" for i in range(len(want))]
            row = store.get_delivery(sub.id, day)
            rows_ok &= row is not None and row.status == "sent"
            rows_ok &= row is not None and list(row.message_ids) == [int(m["id"]) for m in posted]
    finally:
        store.close()
    lost_answers = sum(1 for _, when in fake.kills if when.startswith("after"))
    figures.set(
        "crash-delivery",
        channels=CHANNELS,
        messages=total,
        kills=len(fake.kills),
        kills_with_lost_answer=lost_answers,
        nonce_dedups=fake.duplicates_prevented,
        duplicates=duplicates,
        misses=misses,
    )
    assert (duplicates, misses, out_of_order) == (0, 0, 0)
    assert nonces_ok and rows_ok
    assert sum(len(fake.posted(c)) for c in expected) == total


async def _wait_all_sent(db: Path, day: dt.date, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while True:
            store = Store.open(db, migrate=False)
            try:
                rows = [store.get_delivery(s.id, day) for s in store.subscriptions()]
            finally:
                store.close()
            if all(r is not None and r.status == "sent" for r in rows):
                return
            await asyncio.sleep(0.1)
