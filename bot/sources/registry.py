"""Which sources a run uses, built from the configuration (one place to wire a new source)."""

from __future__ import annotations

from bot.config import Config
from bot.http import SourceContext
from bot.sources.arxiv import ArxivSource
from bot.sources.base import SignalSource
from bot.sources.bluesky import BlueskySource
from bot.sources.hackernews import HackerNewsSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.mastodon import MastodonSource
from bot.sources.x import XSource


def arxiv_source(config: Config, ctx: SourceContext) -> ArxivSource | None:
    """The arXiv listing/metadata client, or None when sources.arxiv.enabled is false."""
    return ArxivSource(ctx, config.sources.arxiv) if config.sources.arxiv.enabled else None


def signal_sources(config: Config, ctx: SourceContext) -> list[SignalSource]:
    """Every engagement source; each says itself whether it can run (credentials, enabled)."""
    return [
        HuggingFaceSource(ctx, config.sources.huggingface),
        HackerNewsSource(ctx, config.sources.hackernews),
        XSource(config, ctx),
        BlueskySource(config, ctx),
        MastodonSource(config, ctx),
    ]
