"""In-process fakes of the source interfaces (ArxivCatalog, SignalSource) for job tests.

They return what they are given, count calls, and fail on demand; the HTTP behaviour of the
real sources is tested against the loopback fake servers instead.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.config import Config
from bot.errors import SourceError
from bot.jobs import JobDeps
from bot.models import ListingEntry, Paper, Post, Signal
from bot.sources.base import SourceResult

DAY = dt.date(2021, 8, 3)  # a Tuesday
NOW = dt.datetime(2021, 8, 4, 9, 0, tzinfo=dt.UTC)


def paper(aid: str, *cats: str, title: str | None = None) -> Paper:
    return Paper(
        arxiv_id=aid,
        title=title or f"Title of {aid}",
        authors=("A. Author",),
        categories=cats or ("cs.LG",),
    )


@dataclass
class FakeListing:
    day: dt.date | None
    entries: list[ListingEntry] = field(default_factory=list)


class FakeArxiv:
    """Mailings per day and a metadata catalogue; results count requests like ArxivSource."""

    def __init__(self, listings=None, catalogue=None, batch=100):
        self.listings: dict[dt.date, list[Paper]] = listings or {}
        self.catalogue: dict[str, Paper] = catalogue or {}
        self.batch = batch
        self.fail: str | None = None
        self.current = FakeListing(None)
        self.asked: list[list[str]] = []
        self.calls = 0

    async def listing(self):
        self.calls += 1
        return self.current

    async def submitted(self, day):
        self.calls += 1
        if self.fail:
            raise SourceError("arxiv", self.fail)
        return SourceResult("arxiv", papers=list(self.listings.get(day, [])), requests=1)

    async def papers(self, ids: Sequence[str]):
        self.calls += 1
        self.asked.append(list(ids))
        if self.fail:
            raise SourceError("arxiv", self.fail)
        return SourceResult(
            "arxiv",
            papers=[self.catalogue[i] for i in ids if i in self.catalogue],
            requests=math.ceil(len(ids) / self.batch),
        )


class FakeSource:
    def __init__(self, name, signals=(), posts=(), papers=(), requests=1, reason=None):
        self.name = name
        self.signals = list(signals)
        self.posts = list(posts)
        self.papers = list(papers)
        self.requests = requests
        self.reason = reason
        self.error: Exception | None = None
        self.calls: list[tuple] = []

    def unavailable_reason(self):
        return self.reason

    async def collect(self, day, ids, since, until):
        self.calls.append((day, list(ids), since, until))
        if self.error is not None:
            raise self.error
        return SourceResult(
            source=self.name,
            signals=list(self.signals),
            posts=list(self.posts),
            papers=list(self.papers),
            requests=self.requests,
            errors=["item 3: no id"] if self.name == "hackernews" else [],
        )


def world():
    listing = [
        paper("2108.00001", "cs.CV", "cs.LG"),
        paper("2108.00002", "cs.CL"),
        paper("2108.00003", "cs.LG"),
        paper("2108.00004", "cs.LG"),  # nobody talks about it
    ]
    arxiv = FakeArxiv(
        listings={DAY: listing},
        catalogue={
            "2107.12345": paper("2107.12345", "cs.RO", title="Older paper linked on HN"),
        },
    )
    hf = FakeSource(
        "huggingface",
        signals=[
            Signal("2108.00001", "huggingface", {"upvotes": 20, "comments": 2}),
            Signal("2108.00002v2", "huggingface", {"upvotes": 3}),  # versioned id
        ],
        papers=[
            Paper("2108.00001", "Title of 2108.00001", code_url="https://github.com/a/b"),
        ],
        requests=2,
    )
    hn = FakeSource(
        "hackernews",
        signals=[
            Signal("2108.00003", "hackernews", {"points": 40, "comments": 10}),
            Signal("2107.12345", "hackernews", {"points": 12}),  # seen only on HN
            Signal("not-an-id", "hackernews", {"points": 999}),
        ],
        posts=[
            Post(
                "hackernews",
                "https://news.ycombinator.com/item?id=1",
                "arxiv.org/abs/2108.00003v1",
                text="Show HN",
                likes=40,
            )
        ],
    )
    bsky = FakeSource("bluesky", reason="no HOTPAPERS_BLUESKY_APP_PASSWORD")
    return arxiv, [hf, hn, bsky]


def deps(store, arxiv, sources, cfg: Config | None = None) -> JobDeps:
    return JobDeps(config=cfg or Config(), store=store, arxiv=arxiv, sources=sources)
