"""The three credential-free sources together on one fake server: a day of 1,000 candidates."""

from __future__ import annotations

import datetime as dt

from bot.sources.arxiv import ArxivSource
from bot.sources.hackernews import HackerNewsSource
from bot.sources.huggingface import HuggingFaceSource
from bot.store import Store
from tests.fakes.arxiv import many_papers
from tests.fakes.hackernews import story_hit
from tests.fakes.huggingface import daily_item

DAY = dt.date(2024, 5, 2)
SINCE = dt.datetime(2024, 5, 2, 0, tzinfo=dt.UTC)
UNTIL = dt.datetime(2024, 5, 3, 9, tzinfo=dt.UTC)


async def test_a_day_of_1000_candidates_costs_a_handful_of_requests(fake, make_ctx, store: Store):
    fake.add_papers(many_papers(1000, categories=("cs.CV", "cs.LG")))
    fake.hf_daily["2024-05-02"] = [daily_item(f"2405.{i:05d}", upvotes=i) for i in range(1, 41)]
    fake.hf_daily["2024-05-03"] = [daily_item("2405.00041", upvotes=9)]
    fake.hn_hits += [
        # the same paper under two URL forms and versions, and one only HN saw
        story_hit(1, "https://arxiv.org/abs/2405.00005v2", created=SINCE + dt.timedelta(hours=2)),
        story_hit(2, "https://arxiv.org/pdf/2405.00005", created=SINCE + dt.timedelta(hours=3)),
        story_hit(3, "https://arxiv.org/abs/2405.00999", created=SINCE + dt.timedelta(hours=4)),
    ]
    ctx, config = make_ctx()
    arxiv = ArxivSource(ctx, config.sources.arxiv)

    listing = await arxiv.listing()
    store.save_listing(listing.day, listing.entries)
    ids = [e.arxiv_id for e in store.listing(DAY)]
    assert len(ids) == 1000

    meta = await arxiv.papers(ids)
    hf = await HuggingFaceSource(ctx, config.sources.huggingface).collect(DAY, ids, SINCE, UNTIL)
    hn = await HackerNewsSource(ctx, config.sources.hackernews).collect(DAY, ids, SINCE, UNTIL)

    assert len(meta.papers) == 1000
    assert len(hf.signals) == 41
    hn_counts = {s.arxiv_id: s.counts for s in hn.signals}
    assert hn_counts["2405.00005"] == {"points": 200, "comments": 40}
    assert set(hn_counts) == {"2405.00005", "2405.00999"}  # 999: seen by HN only
    assert ctx.counter.as_dict() == {"arxiv": 11, "hackernews": 1, "huggingface": 2}
