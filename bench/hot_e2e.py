"""Interactive latency end to end: /hot through the fake Discord to the real bot and back.

The bot runs as `python -m bot --config FILE run` (a subprocess, what `hotpapers run` runs) on a
copy of the five-year history store (bench/history.py, cached in the temp directory),
connected to the loopback fake Discord running in this process. Each query is an
INTERACTION_CREATE for /hot with a random date and category, sent over the gateway; the
figure is the time until the fake receives the interaction callback. Queries go one at a
time. Prints p50/p99 against the 100 ms goal and against Discord's 3-second deadline.

    uv run python bench/hot_e2e.py [--db PATH] [--queries N]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.botproc import BotProcess, TimedFakeDiscord, write_config
from bench.history import build
from bench.hot_latency import DEFAULT_DB, load_note, random_queries, report

GOAL_MS = 100.0
GUILD, CHANNEL = 10, 11


def option(name: str, value: str) -> dict:
    return {"name": name, "type": 3, "value": value}


async def run(db: Path, days: list, queries: int, warmup: int) -> list[float]:
    """Milliseconds per /hot round trip, against a bot on a copy of db."""
    with tempfile.TemporaryDirectory(prefix="hp-e2e-") as tmp:
        copy = Path(tmp) / "hotpapers.db"
        shutil.copyfile(db, copy)  # the bot writes (today's ranking): keep the cache pristine
        async with TimedFakeDiscord() as fake:
            fake.add_guild(GUILD, "Papers club", channels={CHANNEL: "hot-papers"})
            bot = BotProcess(write_config(Path(tmp), copy, fake), fake.token)
            await bot.start()
            try:
                await bot.wait_for_line("has connected to Gateway")  # READY: it answers now
                timings = []
                for n, (date, category) in enumerate(random_queries(days, warmup + queries)):
                    opts = [option("date", date)]
                    if category is not None:
                        opts.append(option("category", category))
                    took = await fake.round_trip(
                        fake.slash("hot", opts), guild_id=GUILD, channel_id=CHANNEL
                    )
                    if n >= warmup:
                        timings.append(took * 1000)
                late = fake.status_counts[404]
                if late:
                    print(f"  {late} callback(s) answered 404 (past the deadline)")
                return timings
            finally:
                await bot.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--days", type=int, default=1826, help="days of history to generate")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    store = build(args.db, days=args.days)
    print(f"store: {args.db} ready in {time.perf_counter() - started:.1f} s; {store.counts()}")
    days = store.days()
    store.close()
    timings = asyncio.run(run(args.db, days, args.queries, args.warmup))
    print(load_note())
    report("end-to-end /hot (gateway in, callback out; bot in a subprocess)", timings, GOAL_MS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
