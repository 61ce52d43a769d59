"""Which sources a run uses, built from the configuration (one place to wire a new source)."""

from __future__ import annotations

from bot.config import Config
from bot.http import SourceContext
from bot.jobs import JobDeps, Progress
from bot.sources.arxiv import ArxivSource
from bot.sources.base import SignalSource
from bot.sources.bluesky import BlueskySource
from bot.sources.hackernews import HackerNewsSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.mastodon import MastodonSource
from bot.sources.x import XSource
from bot.store import Store


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


def job_deps(
    config: Config, store: Store, ctx: SourceContext, progress: Progress | None = None
) -> JobDeps:
    """Everything the daily job needs, from the configuration (for the CLI, bot, benchmark)."""
    deps = JobDeps(
        config=config,
        store=store,
        arxiv=arxiv_source(config, ctx),
        sources=signal_sources(config, ctx),
        requests=ctx.counter,
    )
    if progress is not None:
        deps.progress = progress
    return deps
