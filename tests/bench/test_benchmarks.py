"""The benchmarks still run (on tiny inputs, so they do not rot). No timing is asserted."""

from __future__ import annotations

import datetime as dt

from bench import hot_e2e, hot_latency, startup_memory
from bench.history import build


def test_hot_latency_runs_on_a_tiny_store(tmp_path, capsys):
    args = ["--db", str(tmp_path / "h.db"), "--days", "3", "--queries", "20"]
    assert hot_latency.main(args) == 0
    out = capsys.readouterr().out
    assert "p99 / goal 10 ms" in out and "p99 / Discord deadline 3000 ms" in out


def test_hot_latency_asks_what_the_command_would_be_asked(tmp_path):
    store = build(tmp_path / "h.db", days=3)
    queries = hot_latency.random_queries(store.days(), 50)
    assert {dt.date.fromisoformat(d) for d, _ in queries} <= set(store.days())
    assert any(c is None for _, c in queries) and any(c for _, c in queries)
    wall, cpu = hot_latency.time_queries(store, queries)
    assert len(wall) == len(cpu) == 50


async def test_hot_e2e_round_trips_through_the_bot(tmp_path):
    db = tmp_path / "h.db"
    store = build(db, days=2)
    days = store.days()
    store.close()
    timings = await hot_e2e.run(db, days, queries=3, warmup=1)
    assert len(timings) == 3 and all(t > 0 for t in timings)


async def test_startup_measures_the_bot_with_its_guilds_and_jobs():
    figures = await startup_memory.measure(3, True, idle=0.0, days=2)
    assert figures.guilds == 3 and figures.jobs == 3
    assert 0 < figures.start_s <= figures.on_ready_s
    assert figures.rss_mb > 10 and figures.idle_cpu_pct is None
