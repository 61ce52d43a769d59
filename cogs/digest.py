"""/digest preview (the channel's next digest, ephemeral) and /admin sync (bot owners only)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import posting
from bot.client import UserError
from bot.models import Subscription
from bot.render import Message, digest_messages
from bot.store import Store

if TYPE_CHECKING:
    from bot.client import HotPapersBot

log = logging.getLogger(__name__)


def preview_messages(
    store: Store, sub: Subscription | None, default_top: int, now
) -> list[Message]:
    """What the channel would get next: its subscription's digest of the latest ranked day."""
    day = store.latest_day(with_papers=True) or store.latest_day()
    if day is None:
        raise UserError("No day has been ranked yet, so there is nothing to preview.")
    if sub is None:
        ranking = store.load_day(day)
        assert ranking is not None
        return digest_messages(ranking, top=default_top, now=now)
    messages = posting.render_for(store, sub, day, now)
    assert messages is not None
    return messages


class Digest(commands.GroupCog, group_name="digest"):
    """/digest preview."""

    def __init__(self, bot: HotPapersBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="preview", description="Preview this channel's next digest")
    async def preview(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        sub = (
            bot.store.subscription_for_channel(interaction.channel_id)
            if interaction.channel_id
            else None
        )
        messages = preview_messages(bot.store, sub, bot.config.discord.default_top, bot.clock())
        note = (
            "Preview of the latest ranked day with this channel's settings:"
            if sub
            else "This channel has no subscription; preview with the defaults:"
        )
        first, *rest = messages
        await interaction.response.send_message(
            f"{note}\n{first.content}"[:2000], embeds=first.embed_objects(), ephemeral=True
        )
        for message in rest:
            await interaction.followup.send(
                message.content, embeds=message.embed_objects(), ephemeral=True
            )


# On the group: Discord ignores default_permissions on sub-commands.
@app_commands.default_permissions(administrator=True)
class Admin(commands.GroupCog, group_name="admin"):
    """/admin sync: owner-only command registration."""

    def __init__(self, bot: HotPapersBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="sync", description="Register the slash commands (bot owner only)")
    @app_commands.describe(scope="'guild' (this server, instant) or 'global' (up to an hour)")
    @app_commands.choices(
        scope=[
            app_commands.Choice(name="this server", value="guild"),
            app_commands.Choice(name="global", value="global"),
        ]
    )
    async def sync(self, interaction: discord.Interaction, scope: str = "guild") -> None:
        if not await self.bot.is_owner(interaction.user):
            raise UserError("Only the bot's owner can sync its commands.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        if scope == "global" or interaction.guild is None:
            synced = await self.bot.tree.sync()
            where = "globally (may take up to an hour to appear)"
        else:
            self.bot.tree.copy_global_to(guild=interaction.guild)
            synced = await self.bot.tree.sync(guild=interaction.guild)
            where = "to this server"
        log.info("synced %d command(s) %s by %s", len(synced), where, interaction.user.id)
        await interaction.followup.send(f"Synced {len(synced)} command(s) {where}.", ephemeral=True)


async def setup(bot: HotPapersBot) -> None:
    await bot.add_cog(Digest(bot))
    await bot.add_cog(Admin(bot))
