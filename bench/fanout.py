"""Delivery fan-out: one day's digest to 2,000 channels at Discord's ceiling.

A fake Discord (its own thread and event loop, 127.0.0.1) enforces the global limit of
50 requests/s and 5 messages per 5 s per channel with real headers and 429s. The outbox
delivers a 10-paper digest (rendered by bot.render: 1-2 messages) to every subscribed channel,
all due at the same moment, through one shared GlobalPacer. Prints:

- sustained request rate / the 50 req/s ceiling (goal ≥ 0.9);
- global 429s (goal 0), per-route 429s, duplicates and misses (goal 0 and 0);
- p99 lateness of a channel's digest against its due time, and the ideal p99 at the ceiling;
- with --faults: 401/403/429 answers per 1,000 messages.

    uv run python bench/fanout.py [--channels 2000] [--rate 48] [--faults 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools
from multiprocessing.connection import Connection

import httpx

from bot import render
from bot.config import Config
from bot.delivery import DiscordPoster, Outbox
from bot.models import DayRanking, Paper, Post, RankedPaper, Subscription
from bot.pacing import GlobalPacer
from bot.store import Store
from tests.fakes.discord import API_PREFIX, FakeDiscord, Faults

CEILING = 50.0
TOKEN = "bench-token"
DAY = dt.date(2021, 8, 3)


def ranking() -> DayRanking:
    """Ten papers of realistic size (long titles, many authors, abstracts, a post each)."""
    papers = []
    for n in range(10):
        aid = f"2108.{n + 1:05d}"
        paper = Paper(
            arxiv_id=aid,
            title=f"Paper {n}: scaling vision transformers with sparse mixtures of experts " * 2,
            authors=tuple(f"Author {k} Surname{n}" for k in range(12)),
            categories=("cs.CV", "cs.LG"),
            abstract=("We study how sparse experts scale. " * 40).strip(),
            abs_url=f"https://arxiv.org/abs/{aid}",
            pdf_url=f"https://arxiv.org/pdf/{aid}",
            code_url="https://github.com/example/code",
        )
        post = Post(
            source="bluesky",
            url=f"https://bsky.app/profile/x/post/{n}",
            arxiv_id=aid,
            author="Researcher",
            handle="r.bsky.social",
            text=("This paper is a big deal for anyone training large models. " * 5).strip(),
            likes=400 - n,
            reposts=120 - n,
        )
        papers.append(
            RankedPaper(
                rank=n + 1,
                paper=paper,
                score=1000.0 - n * 50,
                signals={"bluesky": {"likes": 400 - n, "reposts": 120 - n}},
                posts=[post],
            )
        )
    return DayRanking(day=DAY, generated_at=dt.datetime(2021, 8, 4, tzinfo=dt.UTC), papers=papers)


def _serve(conn: Connection, kwargs: dict) -> None:
    """Child process: run the fake until told to stop, then send back what it recorded."""

    async def serve() -> None:
        # The fake keeps every message it receives; its garbage collector's full passes over
        # that growing heap would stall it for ~0.1 s (time stamps bunch up and look like a
        # burst from the bot). Discord has no such pauses, so neither may its stand-in.
        gc.disable()
        fake = FakeDiscord(**kwargs)
        await fake.start()
        conn.send(fake.url)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await fake.close()
        conn.send(
            {
                "requests": [(r.path, r.status, r.wall, r.scope) for r in fake.requests],
                "contents": {c: [m["content"] for m in ms] for c, ms in fake.messages.items()},
                "status_counts": dict(fake.status_counts),
                "global_429s": fake.global_429s,
                "route_429s": fake.route_429s,
                "injected_429s": fake.injected_429s,
                "duplicates_prevented": fake.duplicates_prevented,
                "invalid_requests": fake.invalid_requests,
            }
        )

    asyncio.run(serve())


class FakeProcess:
    """The fake Discord in its own process (like the real one: no shared GIL or event loop)."""

    def __init__(self, **kwargs: object) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve, args=(child, kwargs), daemon=True)
        self.url = ""
        self.recorded: dict = {}

    def __enter__(self) -> FakeProcess:
        self.process.start()
        self.url = self.conn.recv()
        return self

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    def stop(self) -> dict:
        """Stop the fake; what it recorded."""
        self.conn.send("stop")
        self.recorded = self.conn.recv()
        return self.recorded

    def __exit__(self, *exc: object) -> None:
        self.process.join(10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run(args: argparse.Namespace, fake: FakeProcess, store: Store) -> None:
    messages = render.digest_messages(ranking())
    sizes = [sum(render.embed_chars(e) for e in m.embeds) for m in messages]
    print(f"digest: {len(messages)} messages, {sizes} embed characters")
    due = dt.datetime.now(dt.UTC)
    channels = [10_000 + n for n in range(args.channels)]
    for cid in channels:
        sub = store.save_subscription(Subscription(id=None, guild_id=1, channel_id=cid), due)
        store.enqueue_delivery(sub, DAY, due)
    async with httpx.AsyncClient(
        timeout=30, limits=httpx.Limits(max_connections=args.concurrency)
    ) as client:
        poster = DiscordPoster(
            client, api_base=fake.api_url, token=TOKEN, pacer=GlobalPacer(args.rate)
        )
        outbox = Outbox(store, poster, concurrency=args.concurrency)
        started = time.monotonic()
        report = await outbox.run_due(lambda row, sub: messages, due)
        elapsed = time.monotonic() - started
    rec = fake.stop()

    counted = [r for r in rec["requests"] if r[0].startswith("/channels/")]
    t0 = counted[0][2]
    if args.verbose:
        for a, b in itertools.pairwise(counted):
            if b[2] - a[2] > 0.1:
                print(f"gap {b[2] - a[2]:.3f}s at {a[2] - t0:.2f}s: {a[:2]} -> {b[:2]}")
        print("first arrivals (ms):", [round(1000 * (r[2] - t0)) for r in counted[:55]])
        for path, status, wall, scope in counted:
            if status == 429:
                print(f"429 at {wall - t0:.2f}s {scope} {path}")
    rate = (len(counted) - 1) / (counted[-1][2] - t0)
    expected = [m.content for m in messages]
    duplicates = misses = 0
    for cid in channels:
        got = rec["contents"].get(cid, [])
        duplicates += max(0, len(got) - len(expected))
        misses += sum(1 for c in expected if c not in got)
    # Lateness: when the channel's last message was accepted, against the due time.
    lateness = [
        (row.sent_at - row.due_at).total_seconds()
        for row in store.deliveries(status="sent")
        if row.sent_at and row.due_at
    ]
    total_msgs = len(channels) * len(messages)
    ideal_p99 = 0.99 * total_msgs / CEILING
    p99 = percentile(lateness, 0.99)
    per_1000 = 1000 * rec["invalid_requests"] / max(1, report.messages)

    print(f"channels: {len(channels)}, messages expected: {total_msgs}; {report}")
    print(f"wall time: {elapsed:.1f} s; requests: {len(counted)} {rec['status_counts']}")
    print(f"pacer: {args.rate} req/s, concurrency {args.concurrency}")
    print(f"sustained rate: {rate:.2f} req/s; ceiling {CEILING:.0f}; ratio {rate / CEILING:.3f}")
    print(f"global 429s: {rec['global_429s']}; per-route 429s: {rec['route_429s']}")
    print(
        f"injected 429s: {rec['injected_429s']}; re-sent parts matched by nonce: "
        f"{rec['duplicates_prevented']}"
    )
    print(f"duplicates: {duplicates}; misses: {misses}")
    print(
        f"lateness p50 {percentile(lateness, 0.5):.1f} s, p99 {p99:.1f} s; ideal p99 at the "
        f"ceiling {ideal_p99:.1f} s; ratio ideal/actual {ideal_p99 / p99:.3f}"
    )
    print(
        f"401/403/429 answers per 1,000 messages: {per_1000:.1f} "
        "(Discord bans at 10,000 per 10 minutes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument(
        "--rate",
        type=float,
        default=Config().discord.global_rate,
        help="the bot's global pacer, req/s (default: config discord.global_rate)",
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--faults", type=float, default=0.0, help="share of posts answered 429")
    parser.add_argument("--verbose", action="store_true", help="print gaps and 429s")
    args = parser.parse_args()
    fake = FakeProcess(
        token=TOKEN,
        global_limit=int(CEILING),
        global_window=1.0,
        channel_limit=5,
        channel_window=5.0,
        faults=Faults(rate_limit=args.faults, retry_after=0.05),
    )
    with tempfile.TemporaryDirectory() as tmp, fake:
        store = Store.open(Path(tmp) / "fanout.db")
        try:
            asyncio.run(run(args, fake, store))
        finally:
            store.close()


if __name__ == "__main__":
    main()
