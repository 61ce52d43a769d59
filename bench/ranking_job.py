"""The daily ranking job on a simulated day of 1,000 candidate papers, every source faked.

Every source runs against loopback fake servers (tests/fakes) with realistic bodies: the arXiv
RSS listing and API, Hugging Face Daily Papers, Hacker News (Algolia), X, Bluesky, Mastodon.
Rate limits are real but scaled down by SCALE (arXiv's 3 s becomes 0.05 s), so the figures
are printed both as measured and projected to real intervals (measured x SCALE; a projection
that assumes the fakes answer instantly, as they nearly do here).

For each source: the requests made, the fewest its API's batching allows for this day, and
the ratio. Then wall time, against arXiv's own floor (its requests x its min_interval) and
against that floor plus the slowest other source's floor (they run concurrently).

    uv run python bench/ranking_job.py [--papers 1000] [--scale 60]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import math
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Config, Secrets
from bot.http import SourceContext
from bot.jobs import record_listing, run_day
from bot.sources.registry import job_deps
from bot.sources.x import build_queries
from bot.store import Store
from tests.fakes.arxiv import many_papers
from tests.fakes.bluesky import HANDLE, PASSWORD, FakeBluesky, post_view
from tests.fakes.hackernews import story_hit
from tests.fakes.huggingface import daily_item
from tests.fakes.mastodon import FakeMastodon, trend_link
from tests.fakes.server import serve
from tests.fakes.sources import FakeSources
from tests.fakes.x import BEARER, FakeX, tweet

DAY = dt.date(2024, 5, 2)
NOW = dt.datetime(2024, 5, 3, 9, 30, tzinfo=dt.UTC)
CATEGORIES = ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "stat.ML"]


def abs_url(aid: str) -> str:
    return f"https://arxiv.org/abs/{aid}v1"


def simulate(n: int, rng: random.Random):
    """The day's content: listing, and who talked about which papers where."""
    papers = many_papers(n, prefix="2405")
    for p in papers:
        p.categories = tuple(rng.sample(CATEGORIES, rng.randint(1, 2)))
    ids = [p.arxiv_id for p in papers]
    hf = {d: rng.sample(ids, 30) for d in ("2024-05-02", "2024-05-03")}
    hn = rng.sample(ids, 40)
    x_ids = rng.sample(ids, 250)
    bsky_ids = rng.sample(ids, 200)
    masto_ids = rng.sample(ids, 30)
    return papers, ids, hf, hn, x_ids, bsky_ids, masto_ids


async def main_async(args: argparse.Namespace) -> None:
    rng = random.Random(3)
    papers, ids, hf, hn, x_ids, bsky_ids, masto_ids = simulate(args.papers, rng)
    fake = FakeSources()
    fake.add_papers(papers)
    fake.rss_day = DAY
    for date, chosen in hf.items():
        fake.hf_daily[date] = [daily_item(i, upvotes=rng.randint(1, 90)) for i in chosen]
    created = dt.datetime(2024, 5, 2, 12, 0, tzinfo=dt.UTC)
    fake.hn_hits = [
        story_hit(40_000_000 + k, abs_url(i), created=created, points=rng.randint(1, 400))
        for k, i in enumerate(hn)
    ]
    tweets = [
        tweet(
            f"17900000000{k:08d}",
            urls=[abs_url(rng.choice(x_ids))],
            retweets=rng.randint(0, 50),
            likes=rng.randint(0, 300),
            username=f"user{k}",
        )
        for k in range(400)
    ]
    fake_x = FakeX(tweets, now=NOW)
    posts = [
        post_view(
            f"3k{k:010d}",
            handle=f"u{k}.bsky.social",
            links=(abs_url(rng.choice(bsky_ids)),),
            likes=rng.randint(0, 80),
            reposts=rng.randint(0, 20),
        )
        for k in range(300)
    ]
    fake_bsky = FakeBluesky(posts)
    links = [
        trend_link(abs_url(i), {dt.date(2024, 5, 2): (rng.randint(1, 40), 5)}) for i in masto_ids
    ]
    fake_masto = FakeMastodon(links)

    async with (
        fake,
        serve(fake_x.app()) as x_url,
        serve(fake_bsky.app()) as b_url,
        serve(fake_masto.app()) as m_url,
    ):
        base = fake.config(max_retries=0)
        s = base.sources
        scale = args.scale
        sources = dataclasses.replace(
            s,
            arxiv=dataclasses.replace(s.arxiv, categories=CATEGORIES, min_interval=3.0 / scale),
            huggingface=dataclasses.replace(s.huggingface, min_interval=0.2 / scale),
            hackernews=dataclasses.replace(s.hackernews, min_interval=0.1 / scale),
            x=dataclasses.replace(s.x, base_url=x_url, min_interval=1.0 / scale),
            bluesky=dataclasses.replace(
                s.bluesky, base_url=b_url, handle=HANDLE, min_interval=0.2 / scale
            ),
            mastodon=dataclasses.replace(s.mastodon, instances=[m_url], min_interval=0.5 / scale),
        )
        config: Config = dataclasses.replace(
            base,
            sources=sources,
            secrets=Secrets(bluesky_password=PASSWORD, x_bearer_token=BEARER),
        )
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(Path(tmp) / "bench.db")
            ctx = SourceContext.from_config(config, now=lambda: NOW)
            deps = job_deps(config, store, ctx)
            t0 = time.perf_counter()
            listed_day, listed = await record_listing(deps)
            t_listing = time.perf_counter() - t0
            listing_requests = ctx.counter["arxiv"]
            t1 = time.perf_counter()
            result = await run_day(DAY, deps, NOW)
            t_run = time.perf_counter() - t1
            await ctx.aclose()
            store.close()

    talked = {
        rp.paper.arxiv_id for rp in result.ranking.papers
    }  # every paper with engagement ranks (min_score 0)
    intervals = {
        "arxiv": config.sources.arxiv.min_interval,
        "huggingface": config.sources.huggingface.min_interval,
        "hackernews": config.sources.hackernews.min_interval,
        "x": config.sources.x.min_interval,
        "bluesky": config.sources.bluesky.min_interval,
        "mastodon": config.sources.mastodon.min_interval,
    }
    requests = dict(result.requests)
    requests["arxiv"] = requests.get("arxiv", 0) + listing_requests
    x_queries = build_queries(ids)
    minimum = {
        # the RSS listing (recorded on the day) + metadata in id_list batches for the papers
        # that have engagement (the listing has titles and categories, not authors/abstracts)
        "arxiv": 1 + math.ceil(len(talked) / config.sources.arxiv.batch_size),
        # one daily_papers page per featured date (<= 100 papers each)
        "huggingface": sum(max(1, math.ceil(len(v) / 100)) for v in hf.values()),
        # one search_by_date request: the window holds < 1,000 stories
        "hackernews": max(1, math.ceil(len(hn) / 1000)),
        # candidate ids packed into 512-character OR queries, <= 100 tweets a page
        "x": max(len(x_queries), math.ceil(len(tweets) / 100)),
        # one session + one search paged by 100 posts
        "bluesky": 1 + math.ceil(len(posts) / 100),
        # trending links, 20 a page, per instance
        "mastodon": math.ceil(len(links) / 20),
    }
    print(
        f"simulated day {DAY}: {args.papers} candidate papers listed "
        f"(recorded listing of {listed_day}: {listed} entries), "
        f"{len(result.ranking.papers)} ranked, partial={result.partial}"
    )
    print(f"rate limits scaled 1/{scale:g}: arXiv min_interval {intervals['arxiv']:.3f} s")
    print()
    print(
        f"{'source':<12} {'requests':>8} {'minimum':>8} {'ratio':>6}   how the minimum is counted"
    )
    notes = {
        "arxiv": f"1 RSS + ceil({len(talked)} papers with engagement / 100)",
        "huggingface": f"{len(hf)} featured dates, 1 page each",
        "hackernews": f"{len(hn)} stories < 1,000 hits: no split",
        "x": f"{len(ids)} ids -> {len(x_queries)} queries of <= 512 chars",
        "bluesky": f"session + {len(posts)} posts / 100 per page",
        "mastodon": f"{len(links)} trending links / 20 per page",
    }
    for source in minimum:
        made = requests.get(source, 0)
        print(
            f"{source:<12} {made:>8} {minimum[source]:>8} {made / minimum[source]:>6.2f}"
            f"   {notes[source]}"
        )
    naive = 1 + math.ceil(args.papers / config.sources.arxiv.batch_size)
    print(f"(arXiv metadata for every candidate would take 1 + ceil({args.papers}/100) = {naive})")
    print()
    floors = {s: requests.get(s, 0) * intervals[s] for s in intervals}
    arxiv_floor = floors["arxiv"]
    slowest = max((s for s in floors if s != "arxiv"), key=lambda s: floors[s])
    wall = t_listing + t_run
    bound = arxiv_floor + floors[slowest]
    print(f"wall time: {wall:.3f} s (record listing {t_listing:.3f} s + run {t_run:.3f} s)")
    print(
        f"arXiv floor: {requests['arxiv']} requests x {intervals['arxiv']:.3f} s = "
        f"{arxiv_floor:.3f} s; wall / arXiv floor = {wall / arxiv_floor:.2f}"
    )
    print(
        f"arXiv floor + slowest other source ({slowest}: {requests.get(slowest, 0)} x "
        f"{intervals[slowest]:.4f} s = {floors[slowest]:.3f} s) = {bound:.3f} s; "
        f"wall / that = {wall / bound:.2f}"
    )
    print(
        f"projected at real intervals (x{scale:g}): wall ~{wall * scale:.1f} s, "
        f"arXiv floor {arxiv_floor * scale:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=60.0)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
