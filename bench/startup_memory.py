"""Start-up, memory and idle CPU of the bot with 2,000 guilds and 2,000 subscriptions.

The bot runs as `python -m bot --config FILE run` (a subprocess, so its memory is its own)
against the loopback fake Discord in this process, which sends READY and then one GUILD_CREATE
per guild (three text channels each). The store holds a month of rankings and one subscription
per guild (varied times and time zones). Figures:

- start to READY and jobs scheduled: process start until the bot logged both the gateway's
  READY and "scheduled N subscription posting job(s)" (goal <= 3 s); also until discord.py's
  on_ready, which it fires only after 2 s without a GUILD_CREATE (guild_ready_timeout);
- resident memory (VmRSS) once every GUILD_CREATE is handled (goal <= 150 MB);
- idle CPU: CPU time over the next --idle seconds, as % of one core (goal ~0; ceiling 1 %).

The baseline, measured in the same run, is the same bot with one guild and no subscription.

    uv run python bench/startup_memory.py [--guilds N] [--idle SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.botproc import BotProcess, TimedFakeDiscord, write_config
from bench.history import build
from bench.hot_latency import load_note
from bot.models import Subscription

START_GOAL_S = 3.0
RSS_GOAL_MB = 150.0
IDLE_CEILING_PCT = 1.0
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


@dataclass
class Figures:
    guilds: int
    jobs: int
    identify_s: float
    ready_s: float
    scheduled_s: float
    on_ready_s: float
    start_cpu_s: float
    rss_mb: float
    idle_cpu_pct: float | None

    @property
    def start_s(self) -> float:
        """Start to READY received and every posting job added."""
        return max(self.ready_s, self.scheduled_s)


def make_store(path: Path, guilds: int, days: int) -> None:
    """A month of rankings and one subscription per guild, in its first channel."""
    store = build(path, days=days)
    rng = random.Random(5)
    now = dt.datetime.now(dt.UTC)
    with store.transaction():
        for g in range(1, guilds + 1):
            store.save_subscription(
                Subscription(
                    id=None,
                    guild_id=guild_id(g),
                    channel_id=channel_id(g, 0),
                    categories=tuple(rng.sample(["cs.CV", "cs.LG", "cs.CL"], k=rng.randint(0, 2))),
                    post_time=f"{rng.randint(0, 23):02d}:{rng.choice([0, 15, 30, 45]):02d}",
                    timezone=rng.choice(ZONES),
                    top=10,
                ),
                now,
            )
    store.close()


def guild_id(g: int) -> int:
    return 10**15 + g * 10


def channel_id(g: int, n: int) -> int:
    return guild_id(g) + 1 + n


async def measure(guilds: int, subscriptions: bool, idle: float, days: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="hp-startup-") as tmp:
        db = Path(tmp) / "hotpapers.db"
        make_store(db, guilds if subscriptions else 0, days)
        async with TimedFakeDiscord() as fake:
            for g in range(1, guilds + 1):
                names = {
                    channel_id(g, n): name for n, name in enumerate(["papers", "general", "ml"])
                }
                fake.add_guild(guild_id(g), f"Guild {g}", channels=names)
            bot = BotProcess(write_config(Path(tmp), db, fake), fake.token)
            await bot.start()
            try:
                ready = await bot.wait_for_line("has connected to Gateway")
                scheduled = await bot.wait_for_line("subscription posting job(s)")
                start_cpu = bot.cpu_seconds()
                on_ready = await bot.wait_for_line("ready:")
                rss = bot.rss_mb()
                idle_pct = None
                if idle > 0:
                    cpu0 = bot.cpu_seconds()
                    await asyncio.sleep(idle)
                    idle_pct = (bot.cpu_seconds() - cpu0) / idle * 100
                jobs = next(int(s.split()[-4]) for _, s in bot.lines if "posting job(s)" in s)
                t0 = bot.started_at
                assert fake.identified_at is not None
                return Figures(
                    guilds=guilds,
                    jobs=jobs,
                    identify_s=fake.identified_at - t0,
                    ready_s=ready - t0,
                    scheduled_s=scheduled - t0,
                    on_ready_s=on_ready - t0,
                    start_cpu_s=start_cpu,
                    rss_mb=rss,
                    idle_cpu_pct=idle_pct,
                )
            finally:
                await bot.stop()


def ratio(value: float, goal: float) -> str:
    return f"{value / goal:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=2000)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle to time")
    parser.add_argument("--days", type=int, default=30, help="days of rankings in the store")
    args = parser.parse_args(argv)
    base = asyncio.run(measure(1, False, 0.0, args.days))
    full = asyncio.run(measure(args.guilds, True, args.idle, args.days))
    print(load_note())
    print(f"{full.guilds} guilds, {full.jobs} subscription jobs (baseline: 1 guild, no jobs)")
    print(
        f"  process start -> IDENTIFY {full.identify_s:.2f} s, READY {full.ready_s:.2f} s, "
        f"jobs scheduled {full.scheduled_s:.2f} s (baseline READY {base.ready_s:.2f} s)"
    )
    print(
        f"  start to READY and jobs scheduled: {full.start_s:.2f} s "
        f"(goal {START_GOAL_S:.0f} s: ratio {ratio(full.start_s, START_GOAL_S)}; "
        f"baseline {base.start_s:.2f} s: ratio {ratio(full.start_s, base.start_s)})"
    )
    print(
        f"  CPU time the bot used by then: {full.start_cpu_s:.2f} s "
        f"(baseline {base.start_cpu_s:.2f} s; wall above CPU is waiting, mostly for a busy machine)"
    )
    print(
        f"  start to on_ready (every GUILD_CREATE, then discord.py's 2 s quiet wait): "
        f"{full.on_ready_s:.2f} s (baseline {base.on_ready_s:.2f} s)"
    )
    print(
        f"  resident memory after every GUILD_CREATE: {full.rss_mb:.1f} MB "
        f"(goal {RSS_GOAL_MB:.0f} MB: ratio {ratio(full.rss_mb, RSS_GOAL_MB)}; "
        f"baseline {base.rss_mb:.1f} MB: +{full.rss_mb - base.rss_mb:.1f} MB, "
        f"{(full.rss_mb - base.rss_mb) * 1024 / max(full.guilds - 1, 1):.1f} KB per guild)"
    )
    if full.idle_cpu_pct is not None:
        print(
            f"  idle CPU over {args.idle:.0f} s: {full.idle_cpu_pct:.2f} % of one core "
            f"(ceiling {IDLE_CEILING_PCT:.0f} %: "
            f"ratio {ratio(full.idle_cpu_pct, IDLE_CEILING_PCT)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
