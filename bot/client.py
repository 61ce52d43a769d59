"""HotPapersBot: the discord.py client, built in one place with its dependencies passed in.

Only the guilds intent (no message content, no members, nothing privileged); messages never
ping (`AllowedMentions.none()`). `setup_hook` loads the cogs, rebuilds each subscription's
posting job from the database, starts the shared scheduler and, only when
`discord.dev_guild_id` is set, syncs the commands to that one guild (never globally at start:
use `hotpapers sync` or `/admin sync`). The REST base and gateway URL come from the config, so a
proxy or the test fake can sit in front of Discord.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import discord
import httpx
import yarl
from apscheduler.schedulers.base import BaseScheduler
from discord import app_commands
from discord.ext import commands

from bot import posting
from bot.config import Config
from bot.dates import Clock
from bot.delivery import DeliveryReport, DiscordPoster, Outbox
from bot.errors import HotPapersError
from bot.models import Subscription
from bot.render import CONTENT_MAX, cut, neutralise_mentions
from bot.store import Store

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.hot", "cogs.paper", "cogs.subscriptions", "cogs.digest")
DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY = yarl.URL("wss://gateway.discord.gg/")
SOMETHING_WENT_WRONG = (
    "Something went wrong on our side; it has been logged. Please try again later."
)


def configure_endpoints(config: Config) -> None:
    """Point discord.py's REST base and gateway at the configured URLs (or Discord's)."""
    discord.http.Route.BASE = config.discord.api_base.rstrip("/") or DEFAULT_API_BASE
    gateway = config.discord.gateway_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = (
        yarl.URL(gateway) if gateway else DEFAULT_GATEWAY
    )


def intents() -> discord.Intents:
    """Only what the bot needs: guild create/update events for its channels and commands."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    return chosen


class UserError(HotPapersError):
    """An error whose message is meant for the user who ran the command (shown ephemerally)."""


def user_message(error: app_commands.AppCommandError) -> str | None:
    """The specific message for an error the user caused, or None if it is ours."""
    original = getattr(error, "original", None)
    if isinstance(original, ValueError) and isinstance(original, HotPapersError):
        return str(original)
    if isinstance(original, UserError):
        return str(original)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server channel, not in direct messages."
    if isinstance(error, app_commands.MissingPermissions):
        perms = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"You need the {perms} permission to change this channel's subscription."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError):
        return f"'{error.value}' is not a valid value for this option."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You are not allowed to use this command."
    return None


class HotPapersTree(app_commands.CommandTree):
    """The command tree with one error handler: specific for users, logged for us."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        text = user_message(error)
        if text is None:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error(
                "command /%s failed (guild %s, channel %s, user %s, options %s)",
                command,
                interaction.guild_id,
                interaction.channel_id,
                interaction.user.id if interaction.user else None,
                _options(interaction),
                exc_info=getattr(error, "original", error),
            )
            text = SOMETHING_WENT_WRONG
        await reply(interaction, text)


def _options(interaction: discord.Interaction) -> Any:
    data = interaction.data or {}
    return data.get("options")


async def reply(interaction: discord.Interaction, text: str, **kwargs: Any) -> None:
    """An ephemeral answer, whether or not the interaction was already answered/deferred."""
    text = cut(neutralise_mentions(text), CONTENT_MAX)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, **kwargs)
        else:
            await interaction.response.send_message(text, ephemeral=True, **kwargs)
    except discord.HTTPException:
        log.warning("could not answer interaction %s", interaction.id, exc_info=True)


class HotPapersBot(commands.Bot):
    """The Discord bot. Build it with `build_bot`; everything it uses is passed in."""

    def __init__(
        self,
        *,
        config: Config,
        store: Store,
        http_client: httpx.AsyncClient,
        scheduler: BaseScheduler,
        clock: Clock,
        outbox: Outbox,
        extensions: Sequence[str] = EXTENSIONS,
        start_jobs: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("owner_ids", set(config.discord.owner_ids) or None)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=HotPapersTree,
            help_command=None,
            **kwargs,
        )
        self.config = config
        self.store = store
        self.http_client = http_client
        self.scheduler = scheduler
        self.clock = clock
        self.outbox = outbox
        self.initial_extensions = tuple(extensions)
        self.start_jobs = start_jobs  # False for `hotpapers sync`: commands only, no posting
        self.posting = posting.PostingService(store, outbox, scheduler, clock)
        self.catch_up_task: asyncio.Task[Any] | None = None

    # -- start-up -------------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        for extension in self.initial_extensions:
            await self.load_extension(extension)
        if not self.start_jobs:
            return
        self.posting.schedule_all()
        if not self.scheduler.running:
            self.scheduler.start()
        guild_id = self.config.discord.dev_guild_id
        if guild_id:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d command(s) to dev guild %s", len(synced), guild_id)
        # Deliver what was due while we were down (pending rows, missed posting times).
        self.catch_up_task = asyncio.create_task(self.catch_up(), name="hotpapers-catch-up")

    async def on_ready(self) -> None:
        log.info(
            "ready: %d guild(s), %d job(s) scheduled",
            len(self.guilds),
            len(self.scheduler.get_jobs()),
        )

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await super().close()

    # -- subscriptions --------------------------------------------------------------------------

    def schedule(self, sub: Subscription) -> None:
        """(Re)schedule one subscription's posting job after a change."""
        self.posting.schedule(sub)

    def unschedule(self, sub_id: int) -> None:
        self.posting.unschedule(sub_id)

    def next_post_time(self, sub: Subscription) -> dt.datetime | None:
        return self.posting.next_post_time(sub)

    async def post_subscription(self, sub_id: int) -> DeliveryReport | None:
        """The posting job of one subscription (see PostingService.post_subscription)."""
        return await self.posting.post_subscription(sub_id)

    async def catch_up(self) -> DeliveryReport | None:
        """Deliver what is due: pending rows and missed posting times."""
        return await self.posting.catch_up()


def build_bot(
    config: Config,
    store: Store,
    http_client: httpx.AsyncClient,
    scheduler: BaseScheduler,
    clock: Clock,
    *,
    outbox: Outbox | None = None,
    extensions: Sequence[str] = EXTENSIONS,
    start_jobs: bool = True,
    **kwargs: Any,
) -> HotPapersBot:
    """The bot, wired: endpoints configured, outbox on the shared HTTP client."""
    configure_endpoints(config)
    if outbox is None:
        outbox = Outbox(store, DiscordPoster.from_config(config, http_client), clock=clock)
    return HotPapersBot(
        config=config,
        store=store,
        http_client=http_client,
        scheduler=scheduler,
        clock=clock,
        outbox=outbox,
        extensions=extensions,
        start_jobs=start_jobs,
        **kwargs,
    )
