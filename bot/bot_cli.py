"""`hotpapers run | sync` and the webhook half of `hotpapers digest --webhook URL`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import discord

from bot.client import HotPapersBot, build_bot
from bot.config import ENV_DISCORD_TOKEN, Config
from bot.dates import Clock
from bot.delivery import DiscordPoster, Outbox, post_webhook
from bot.http import SourceContext, make_client
from bot.models import Subscription
from bot.posting import PostingService
from bot.render import Message
from bot.scheduler import build_scheduler
from bot.sources.registry import job_deps
from bot.store import Store

log = logging.getLogger(__name__)

NO_TOKEN = (
    f"{ENV_DISCORD_TOKEN} is not set: create a bot in the Discord developer portal, copy its "
    "token and export it (see README, 'The Discord bot')"
)
BAD_TOKEN = f"Discord rejected the token in {ENV_DISCORD_TOKEN} (401); reset it and try again"


async def serve(
    config: Config,
    clock: Clock,
    *,
    started: Callable[[HotPapersBot], object] | None = None,
    **bot_options: Any,
) -> None:
    """Run the bot until it is closed: daily job, posting jobs, slash commands.

    `started` gets the bot before it connects; `bot_options` go to discord.py (tests pass
    e.g. guild_ready_timeout).
    """
    token = config.secrets.discord_token
    if not token:
        raise discord.LoginFailure(NO_TOKEN)
    store = Store.open(config.database_path)
    try:
        async with make_client(config) as http_client:
            ctx = SourceContext.from_config(config, http_client, now=clock)
            scheduler, _jobs = build_scheduler(job_deps(config, store, ctx), clock)
            bot = build_bot(config, store, http_client, scheduler, clock, **bot_options)
            if started is not None:
                started(bot)
            async with bot:
                await bot.start(token)
    finally:
        store.close()


def _is_webhook(sub: Subscription) -> bool:
    return bool(sub.webhook_url)


async def serve_webhooks(
    config: Config, clock: Clock, *, started: Callable[[PostingService], object] | None = None
) -> None:
    """Run without a bot: the daily job, and webhook subscriptions posted on time, until
    cancelled. Channel subscriptions (which need the bot) are left for `run` with a token."""
    store = Store.open(config.database_path)
    try:
        async with make_client(config) as http_client:
            ctx = SourceContext.from_config(config, http_client, now=clock)
            scheduler, _jobs = build_scheduler(job_deps(config, store, ctx), clock)
            outbox = Outbox(store, DiscordPoster.from_config(config, http_client), clock=clock)
            service = PostingService(store, outbox, scheduler, clock, select=_is_webhook)
            service.schedule_all()
            scheduler.start()
            if started is not None:
                started(service)
            try:
                await service.catch_up()
                await asyncio.Event().wait()  # the scheduler runs the rest
            finally:
                scheduler.shutdown(wait=False)
    finally:
        store.close()


def cmd_run(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """`hotpapers run`: the long-running bot (or, with no token, the webhook poster)."""
    if not config.secrets.discord_token:
        with Store.open(config.database_path) as store:
            webhooks = [s for s in store.subscriptions(active_only=True) if _is_webhook(s)]
        if not webhooks:
            print(f"hotpapers run: {NO_TOKEN}", file=sys.stderr)
            return 2
        log.warning(
            "no %s: running without the bot (daily job and %d webhook subscription(s))",
            ENV_DISCORD_TOKEN,
            len(webhooks),
        )
        asyncio.run(serve_webhooks(config, clock))
        return 0
    try:
        asyncio.run(serve(config, clock))
    except discord.LoginFailure:
        print(f"hotpapers run: {BAD_TOKEN}", file=sys.stderr)
        return 1
    return 0


async def sync_commands(config: Config, clock: Clock, guild_id: int | None) -> int:
    """Log in over REST only (no gateway), register the commands; how many were synced."""
    store = Store.memory()
    async with make_client(config) as http_client:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        bot = build_bot(config, store, http_client, AsyncIOScheduler(), clock, start_jobs=False)
        async with bot:
            await bot.login(config.secrets.discord_token or "")  # setup_hook loads the cogs
            if guild_id:
                guild = discord.Object(guild_id)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
            else:
                synced = await bot.tree.sync()
    store.close()
    return len(synced)


def cmd_sync(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """`hotpapers sync [--guild ID]`: register the slash commands."""
    if not config.secrets.discord_token:
        print(f"hotpapers sync: {NO_TOKEN}", file=sys.stderr)
        return 2
    try:
        count = asyncio.run(sync_commands(config, clock, args.guild))
    except discord.LoginFailure:
        print(f"hotpapers sync: {BAD_TOKEN}", file=sys.stderr)
        return 1
    where = f"to guild {args.guild} (visible now)" if args.guild else "globally (up to an hour)"
    print(f"synced {count} command(s) {where}")
    return 0


def send_webhook(config: Config, url: str, messages: Sequence[Message]) -> list[int]:
    """Post rendered messages through a Discord webhook (no bot process); their ids."""

    async def go() -> list[int]:
        async with make_client(config) as client:
            return await post_webhook(url, messages, client=client)

    return asyncio.run(go())


HANDLERS = {"run": cmd_run, "sync": cmd_sync}
