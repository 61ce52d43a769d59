"""Generate a store holding years of history (for the latency and memory benchmarks).

Deterministic: the same arguments give the same database. Days are consecutive, each with
`per_day` ranked papers (some papers rank again on the next day, as hot papers do) and
`posts_per_paper` social posts per paper.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.models import DayRanking, Paper, Post, RankedPaper
from bot.store import Store

CATEGORIES = ["cs.CV", "cs.LG", "cs.CL", "cs.AI", "stat.ML", "cs.RO", "eess.IV", "quant-ph"]
WORDS = [
    "learning",
    "neural",
    "diffusion",
    "graph",
    "robust",
    "causal",
    "transformer",
    "vision",
    "language",
    "model",
]


def build(path: Path, days: int = 1826, per_day: int = 30, posts_per_paper: int = 10) -> Store:
    """Create (or reuse, when complete) the history database at path."""
    store = Store.open(path)
    if len(store.days()) == days:
        return store
    rng = random.Random(42)
    start = dt.date(2017, 1, 1)
    serial = 0
    previous: list[RankedPaper] = []
    for d in range(days):
        day = start + dt.timedelta(days=d)
        yymm = f"{day.year % 100:02d}{day.month:02d}"
        ranked = []
        repeats = previous[: per_day // 10]  # ~10% rank again the next day
        for i in range(per_day):
            if i < len(repeats):
                paper = repeats[i].paper
            else:
                serial += 1
                cats = tuple(rng.sample(CATEGORIES, k=rng.randint(1, 3)))
                paper = Paper(
                    arxiv_id=f"{yymm}.{serial % 100000:05d}",
                    title=" ".join(rng.choices(WORDS, k=8)).title(),
                    authors=tuple(
                        f"Author {rng.randint(1, 5000)}" for _ in range(rng.randint(1, 12))
                    ),
                    categories=cats,
                    abstract=" ".join(rng.choices(WORDS, k=150)),
                    primary_category=cats[0],
                )
            posts = [
                Post(
                    source="twitter",
                    url=f"https://twitter.com/u{rng.randint(1, 9999)}/status/{serial}{k}{d}",
                    arxiv_id=paper.arxiv_id,
                    author=f"User {k}",
                    handle=f"user{k}",
                    text=" ".join(rng.choices(WORDS, k=30)),
                    posted=day.isoformat(),
                    likes=rng.randint(0, 3000),
                    reposts=rng.randint(0, 800),
                )
                for k in range(posts_per_paper)
            ]
            rt = sum(p.reposts for p in posts)
            fav = sum(p.likes for p in posts)
            ranked.append(
                RankedPaper(
                    rank=0,
                    paper=paper,
                    score=float(rt + fav),
                    signals={"twitter": {"retweets": rt, "favorites": fav}},
                    posts=posts,
                )
            )
        ranked.sort(key=lambda r: (-r.score, r.paper.arxiv_id))
        for n, r in enumerate(ranked, 1):
            r.rank = n
        store.save_day(
            DayRanking(
                day=day,
                generated_at=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9), dt.UTC),
                papers=ranked,
            )
        )
        previous = ranked
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--days", type=int, default=1826)
    args = parser.parse_args()
    started = time.perf_counter()
    store = build(args.path, days=args.days)
    print(f"built in {time.perf_counter() - started:.1f} s: {store.counts()}")


if __name__ == "__main__":
    main()
