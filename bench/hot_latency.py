"""Interactive latency in process: /hot for any day and category over five years of history.

Builds (once, cached in the temp directory) a store of 1,826 days x 30 ranked papers (~50,000
papers, ~550,000 posts), then answers random (date, category) queries exactly as the /hot
command does (`cogs.hot.hot_answer`: parse the options, check the day, read the store with the
category, render every page; then the first page's `discord.Embed` objects). A fifth of the
queries have no category. Prints p50/p99 against the 10 ms goal and against Discord's
3-second interaction deadline.

    uv run python bench/hot_latency.py [--db PATH] [--queries N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.history import CATEGORIES, build
from bot.errors import HotPapersError
from bot.store import Store
from cogs.hot import hot_answer

GOAL_MS = 10.0
DISCORD_DEADLINE_MS = 3000.0
DEFAULT_DB = Path(tempfile.gettempdir()) / "hp-history.db"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def random_queries(days: list[dt.date], n: int, seed: int = 7) -> list[tuple[str, str | None]]:
    """n (date text, category or None) pairs, as a user would type them."""
    rng = random.Random(seed)
    return [(rng.choice(days).isoformat(), rng.choice([None, None, *CATEGORIES])) for _ in range(n)]


def time_queries(
    store: Store, queries: list[tuple[str, str | None]]
) -> tuple[list[float], list[float]]:
    """Milliseconds per query, wall and CPU: what /hot does before it sends the first page.

    The CPU figure is this process's own time, so it leaves out time the machine gave to
    other processes (the wall-clock tail on a busy machine is mostly that).
    """
    now = dt.datetime.combine(store.days()[-1] + dt.timedelta(days=2), dt.time(12), dt.UTC)
    wall, cpu = [], []
    for date, category in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            pages = hot_answer(store, date, category, None, now)
            pages[0].embed_objects()
        except HotPapersError:  # no paper in that category that day: /hot says so
            pass
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    return wall, cpu


def report(label: str, timings: list[float], goal_ms: float) -> None:
    """Print p50/p99/max, p99 against the goal and against Discord's deadline."""
    p50, p99 = statistics.median(timings), percentile(timings, 0.99)
    print(f"{label}, {len(timings)} queries:")
    print(f"  p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(timings):.2f} ms")
    print(f"  p99 / goal {goal_ms:.0f} ms = {p99 / goal_ms:.2f}")
    print(
        f"  p99 / Discord deadline {DISCORD_DEADLINE_MS:.0f} ms = {p99 / DISCORD_DEADLINE_MS:.4f}"
    )


def load_note() -> str:
    """The machine's load, to read the tail figures by."""
    one, five, _ = os.getloadavg()
    return f"machine: {os.cpu_count()} cores, load average {one:.1f} (1 min), {five:.1f} (5 min)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--days", type=int, default=1826, help="days of history to generate")
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    store = build(args.db, days=args.days)
    print(f"store: {args.db} ready in {time.perf_counter() - started:.1f} s; {store.counts()}")
    queries = random_queries(store.days(), args.queries)
    time_queries(store, queries[:50])  # warm the page cache
    wall, cpu = time_queries(store, queries)
    print(load_note())
    report("in-process /hot (options, store read, render), wall clock", wall, GOAL_MS)
    report("the same, CPU time of this process", cpu, GOAL_MS)
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
