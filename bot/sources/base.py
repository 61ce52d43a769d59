"""The small interface every source implements, and what a source run returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.models import Paper, Post, Signal


@dataclass(slots=True)
class SourceResult:
    """What one source found for one day: counts, posts, metadata, and how it went."""

    source: str
    signals: list[Signal] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    papers: list[Paper] = field(default_factory=list)  # metadata or enrichment (code, project)
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # records skipped as malformed, with why
    skipped: str | None = None  # set when the source did not run (e.g. no credentials)
    notes: list[str] = field(default_factory=list)  # e.g. "window clamped to X's 7 days"


class SignalSource(Protocol):
    """A source of engagement for papers (HF, HN, Bluesky, X, Mastodon)."""

    name: str

    def unavailable_reason(self) -> str | None:
        """Why this source cannot run (missing credentials, disabled), or None."""
        ...

    async def collect(
        self, day: dt.date, ids: Sequence[str], since: dt.datetime, until: dt.datetime
    ) -> SourceResult:
        """Engagement for papers of announcement day `day`, counted in [since, until).

        `ids` are the day's candidate papers (canonical ids). A source may also report
        papers outside `ids` that it saw linked for that day (they become candidates).
        Raises SourceError only when the whole source failed after retries.
        """
        ...
