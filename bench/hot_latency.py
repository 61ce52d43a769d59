"""Interactive latency: /hot for any day and category over five years of history.

Builds (once, cached) a store of 1,826 days x 30 ranked papers (~50,000 papers, ~550,000
posts), then answers random (day, category) queries in process: read the store and render
the first page of embeds, exactly what the /hot command does. Prints p50/p99 against the
10 ms goal and against Discord's 3-second interaction deadline.

    uv run python bench/hot_latency.py [--db PATH] [--queries N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.history import CATEGORIES, build

GOAL_MS = 10.0
DISCORD_DEADLINE_MS = 3000.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "hp-history.db")
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()

    started = time.perf_counter()
    store = build(args.db)
    print(f"store: {args.db} ready in {time.perf_counter() - started:.1f} s; {store.counts()}")
    days = store.days()
    try:
        from bot import render
    except ImportError:
        render = None
        print("bot.render not available: timing the store read only")

    rng = random.Random(7)
    timings: list[float] = []
    for _ in range(args.queries):
        day = rng.choice(days)
        category = rng.choice([None, *CATEGORIES])
        t0 = time.perf_counter()
        ranking = store.load_day(day, category=category)
        if render is not None:
            render.hot_pages(ranking)
        timings.append((time.perf_counter() - t0) * 1000)
    p50, p99 = statistics.median(timings), percentile(timings, 0.99)
    print(f"in-process /hot (store read + render), {args.queries} queries:")
    print(f"  p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(timings):.2f} ms")
    print(f"  p99 / goal {GOAL_MS:.0f} ms = {p99 / GOAL_MS:.2f}")
    print(
        f"  p99 / Discord deadline {DISCORD_DEADLINE_MS:.0f} ms = {p99 / DISCORD_DEADLINE_MS:.4f}"
    )


if __name__ == "__main__":
    main()
