"""Dataclasses shared by every layer: papers, posts, rankings, subscriptions, deliveries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Paper:
    """An arXiv paper's metadata (canonical id, no version)."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    abstract: str = ""
    primary_category: str | None = None
    comment: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    hf_url: str | None = None
    published: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One paper in an arXiv announcement listing (what rss.arxiv.org showed that day)."""

    arxiv_id: str  # canonical, no version
    announce_type: str  # "new", "cross", "replace", "replace-cross"
    categories: tuple[str, ...] = ()
    version: int | None = None
    title: str = ""


@dataclass(frozen=True, slots=True)
class Post:
    """A social post (tweet, skeet, HN story, HF discussion) that links to a paper."""

    source: str  # "twitter", "x", "bluesky", "hackernews", "huggingface", "mastodon"
    url: str
    arxiv_id: str
    author: str = ""
    handle: str = ""
    text: str = ""
    posted: str = ""  # as the source gave it, e.g. "August 3, 2021" or an ISO timestamp
    html: str | None = None  # the original embed HTML, when there was one
    likes: int = 0
    reposts: int = 0
    quotes: int = 0
    replies: int = 0

    @property
    def engagement(self) -> int:
        """Reposts + likes, the original blog's measure of a post."""
        return self.reposts + self.likes


@dataclass(frozen=True, slots=True)
class Signal:
    """Per-source engagement counts for one paper, e.g. {"retweets": 6396, "favorites": 301}."""

    arxiv_id: str
    source: str
    counts: dict[str, int]


@dataclass(slots=True)
class RankedPaper:
    """One line of a day's ranking, with everything needed to explain its score."""

    rank: int
    paper: Paper
    score: float
    signals: dict[str, dict[str, int]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)
    # Format details a renderer needs to reproduce a source document exactly (archive import).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DayRanking:
    """The ranking of one arXiv announcement day (optionally filtered to one category)."""

    day: dt.date
    generated_at: dt.datetime
    papers: list[RankedPaper] = field(default_factory=list)
    partial: bool = False
    failed_sources: tuple[str, ...] = ()
    origin: str = "live"  # "live" or "archive"
    category: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel's standing order: which categories, when (local time), how many papers."""

    id: int | None
    guild_id: int | None
    channel_id: int
    categories: tuple[str, ...] = ()
    post_time: str = "09:00"  # HH:MM local time
    timezone: str = "UTC"
    top: int = 10
    min_score: float = 0.0
    webhook_url: str | None = None
    state: str = "active"  # "active" or "paused"
    paused_reason: str | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One (subscription, day) digest in the outbox."""

    subscription_id: int
    day: dt.date
    channel_id: int
    status: str  # "pending", "sent", "failed", "skipped"
    nonce: str
    attempts: int = 0
    error: str | None = None
    message_ids: tuple[int, ...] = ()
    due_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SourceRun:
    """How one source did in one day's ranking run."""

    day: dt.date
    source: str
    status: str  # "ok", "failed" or "skipped"
    requests: int = 0
    error: str | None = None
    ran_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class DaySummary:
    """A stored day's header: when, where from, and whether it is complete."""

    day: dt.date
    generated_at: dt.datetime
    origin: str
    partial: bool
    failed_sources: tuple[str, ...] = ()
    papers: int = 0
