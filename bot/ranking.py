"""Pure ranking: per-source signals -> an ordered, explained ranking of one day's papers.

A paper's score is the weighted sum of its engagement per source:

    score = Σ_source weights[source] × engagement(source, counts)

where engagement is reposts + likes for post-based sources (the original blog's retweets +
favorites; for Mastodon's trending links, shares), upvotes for Hugging Face and points for
Hacker News. Ties are broken by total raw engagement, then by arXiv id, so the same inputs
always give the same order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence

from bot.models import DayRanking, Paper, Post, RankedPaper, Signal

log = logging.getLogger(__name__)

# The counts that make a source's engagement, in the order explanations show them.
ENGAGEMENT_KEYS: dict[str, tuple[str, ...]] = {
    "twitter": ("retweets", "favorites"),
    "x": ("retweets", "likes"),
    "bluesky": ("reposts", "likes"),
    "mastodon": ("shares",),  # trending links: times the paper's link was shared
    "huggingface": ("upvotes",),
    "hackernews": ("points",),
}
# Any other source: the repost/like style counts it reports.
_GENERIC_KEYS = (
    "shares",
    "retweets",
    "reposts",
    "reblogs",
    "boosts",
    "favorites",
    "favourites",
    "likes",
    "upvotes",
    "points",
)
DEFAULT_WEIGHT = 1.0  # for a source the weights table does not name


def engagement_parts(source: str, counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """The (name, value) counts that make up a source's engagement, in display order."""
    keys = ENGAGEMENT_KEYS.get(source)
    if keys is None or not any(k in counts for k in keys):
        keys = tuple(k for k in _GENERIC_KEYS if k in counts) or (keys or ())
    return [(k, int(counts.get(k, 0))) for k in keys]


def engagement(source: str, counts: Mapping[str, int]) -> int:
    """Raw engagement of one source's counts (reposts + likes, upvotes, or points)."""
    return sum(v for _, v in engagement_parts(source, counts))


def weight_of(weights: Mapping[str, float], source: str) -> float:
    """A source's weight (DEFAULT_WEIGHT when the table does not name it)."""
    return float(weights.get(source, DEFAULT_WEIGHT))


def merge_signals(signals: Iterable[Signal]) -> dict[str, dict[str, dict[str, int]]]:
    """{arxiv_id: {source: counts}}; several signals of one (paper, source) add up."""
    merged: dict[str, dict[str, dict[str, int]]] = {}
    for sig in signals:
        counts = merged.setdefault(sig.arxiv_id, {}).setdefault(sig.source, {})
        for key, value in sig.counts.items():
            counts[key] = counts.get(key, 0) + int(value)
    return merged


def best_posts(posts: Iterable[Post], max_posts: int) -> list[Post]:
    """At most max_posts posts, most engagement first (ties: source, then URL); no duplicates."""
    unique: dict[str, Post] = {}
    for post in posts:
        kept = unique.get(post.url)
        if kept is None or post.engagement > kept.engagement:
            unique[post.url] = post
    ordered = sorted(unique.values(), key=lambda p: (-p.engagement, p.source, p.url))
    return ordered[: max(0, max_posts)]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def rank(
    day: dt.date,
    papers: Mapping[str, Paper],
    signals: Sequence[Signal],
    posts: Sequence[Post],
    weights: Mapping[str, float],
    min_score: float,
    max_posts: int,
    generated_at: dt.datetime,
    failed_sources: Sequence[str] = (),
) -> DayRanking:
    """Score every paper in `papers` that has engagement, and order them.

    Papers with a score of zero, or below min_score, are left out; signals and posts about
    papers not in `papers` are ignored. The ranking is partial when a source failed.
    """
    merged = merge_signals(signals)
    posts_by_paper: dict[str, list[Post]] = {}
    for post in posts:
        posts_by_paper.setdefault(post.arxiv_id, []).append(post)

    scored: list[tuple[float, int, str, dict[str, dict[str, int]], dict[str, float]]] = []
    for arxiv_id, by_source in merged.items():
        if arxiv_id not in papers:
            continue
        contributions = {
            source: weight_of(weights, source) * engagement(source, counts)
            for source, counts in by_source.items()
        }
        score = sum(contributions.values())
        raw = sum(engagement(source, counts) for source, counts in by_source.items())
        if score <= 0 or score < min_score:
            continue
        scored.append((score, raw, arxiv_id, by_source, contributions))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))

    ranked = [
        RankedPaper(
            rank=n,
            paper=papers[arxiv_id],
            score=score,
            signals={source: dict(by_source[source]) for source in sorted(by_source)},
            posts=best_posts(posts_by_paper.get(arxiv_id, ()), max_posts),
            extra={"contributions": {s: contributions[s] for s in sorted(contributions)}},
        )
        for n, (score, _raw, arxiv_id, by_source, contributions) in enumerate(scored, start=1)
    ]
    failed = tuple(sorted(set(failed_sources)))
    return DayRanking(
        day=day,
        generated_at=generated_at,
        papers=ranked,
        partial=bool(failed),
        failed_sources=failed,
        origin="live",
    )


def for_category(ranking: DayRanking, category: str) -> DayRanking:
    """The papers of `ranking` in `category` (any of their categories), keeping global ranks."""
    return dataclasses.replace(
        ranking,
        papers=[rp for rp in ranking.papers if category in rp.paper.categories],
        category=category,
    )


def explain(ranked: RankedPaper, weights: Mapping[str, float]) -> str:
    """How a score was made, e.g. 'score 6697 = twitter 6697 (retweets 6396 + favorites 301)'."""
    terms = []
    for source, counts in sorted(
        ranked.signals.items(),
        key=lambda item: (-weight_of(weights, item[0]) * engagement(*item), item[0]),
    ):
        parts = engagement_parts(source, counts)
        total = sum(v for _, v in parts)
        weight = weight_of(weights, source)
        shown = _fmt(total) if weight == 1 else f"{_fmt(weight)}×{_fmt(total)}"
        detail = " + ".join(f"{name} {value}" for name, value in parts)
        terms.append(f"{source} {shown} ({detail})" if detail else f"{source} {shown}")
    return f"score {_fmt(ranked.score)} = " + (" + ".join(terms) if terms else "0")
