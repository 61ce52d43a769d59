"""/subscribe, /unsubscribe, /subscriptions: a channel's daily digest.

Changing commands are hidden from members without Manage Channels (`default_permissions` on
the top-level command) and checked again in code (server owners can override the default);
all three are guild-only (DMs are refused).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import options, taxonomy
from bot.client import UserError
from bot.models import Subscription
from bot.render import DESCRIPTION_MAX, clean, cut, format_count

if TYPE_CHECKING:
    from bot.client import HotPapersBot


def guild_only_check(interaction: discord.Interaction) -> bool:
    """Refuse direct messages (Discord hides guild-only commands there, but check anyway)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return True


def manage_channels_check(interaction: discord.Interaction) -> bool:
    """Only members with Manage Channels (in this channel) may change subscriptions."""
    guild_only_check(interaction)
    if not interaction.permissions.manage_channels:
        raise app_commands.MissingPermissions(["manage_channels"])
    return True


def timestamp(when: dt.datetime, style: str = "f") -> str:
    """A Discord timestamp (shown in each reader's own time zone)."""
    return f"<t:{int(when.timestamp())}:{style}>"


def describe(sub: Subscription, next_post: dt.datetime | None) -> str:
    """One line per subscription: channel, categories, time, top, state."""
    cats = ", ".join(sub.categories) or "all categories"
    line = f"<#{sub.channel_id}> · {cats} · top {sub.top}"
    if sub.min_score:
        line += f" · score ≥ {format_count(sub.min_score)}"
    line += f" · daily at {sub.post_time} {sub.timezone}"
    if sub.webhook_url:
        line += " · via webhook"
    if sub.state == "active":
        line += f" · next {timestamp(next_post, 'R')}" if next_post else " · active"
    else:
        why = clean(sub.paused_reason) or "no reason recorded"
        line += f" · **paused**: {cut(why, 200)} (run /subscribe again to resume)"
    return line


def category_choices(current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete the last of comma/space separated categories (≤ 25 choices, ≤ 100 chars)."""
    *done, last = re.split(r"[,\s]+", current[:100])
    prefix = ", ".join(p for p in done if p)
    choices = []
    for code, _name in taxonomy.search(last, limit=25):
        value = f"{prefix}, {code}" if prefix else code
        if len(value) <= 100:
            choices.append(app_commands.Choice(name=value, value=value))
    return choices[:25]


class Subscriptions(commands.Cog):
    """Per-channel subscriptions."""

    def __init__(self, bot: HotPapersBot) -> None:
        self.bot = bot

    @app_commands.command(name="subscribe", description="Post the daily digest in this channel")
    @app_commands.describe(
        categories="arXiv categories, comma or space separated, e.g. cs.CV, cs.LG",
        time="local time to post, HH:MM 24-hour (default 09:00)",
        timezone="IANA time zone, e.g. Europe/Paris (default UTC)",
        top="papers per digest, 1-25 (default 10)",
        min_score="leave out papers below this score (default 0)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.check(manage_channels_check)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        categories: app_commands.Range[str, 1, 300],
        time: app_commands.Range[str, 1, 20] = "09:00",
        timezone: app_commands.Range[str, 1, 64] = "UTC",
        top: int | None = None,
        min_score: float | None = None,
    ) -> None:
        bot = self.bot
        cats = options.parse_categories(categories)
        post_time = options.parse_time(time)
        zone = options.parse_timezone(timezone)
        count = options.parse_top(top, min(bot.config.discord.default_top, options.TOP_MAX))
        floor = options.parse_min_score(min_score)
        assert interaction.channel_id is not None
        previous = bot.store.subscription_for_channel(interaction.channel_id)
        sub = bot.store.save_subscription(
            Subscription(
                id=None,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                categories=cats,
                post_time=post_time,
                timezone=zone,
                top=count or 10,
                min_score=floor,
                webhook_url=previous.webhook_url if previous else None,
                state="active",
                paused_reason=None,
            ),
            bot.clock(),
        )
        bot.schedule(sub)
        verb = "Updated" if previous else "Subscribed"
        resumed = " (resumed)" if previous and previous.state != "active" else ""
        next_post = bot.next_post_time(sub)
        await interaction.response.send_message(
            f"{verb}{resumed}: {describe(sub, next_post)}.\n"
            f"The next digest is posted {timestamp(next_post) if next_post else 'soon'}.",
            ephemeral=True,
        )

    @app_commands.command(name="unsubscribe", description="Stop the daily digest in this channel")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.check(manage_channels_check)
    async def unsubscribe(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        assert interaction.channel_id is not None
        sub = bot.store.subscription_for_channel(interaction.channel_id)
        if sub is None or not bot.store.delete_subscription(interaction.channel_id):
            raise UserError("This channel has no subscription; /subscriptions lists this server's.")
        assert sub.id is not None
        bot.unschedule(sub.id)
        await interaction.response.send_message(
            f"Unsubscribed <#{sub.channel_id}>: no more daily digests here.", ephemeral=True
        )

    @app_commands.command(
        name="subscriptions", description="This server's subscriptions, next posts and state"
    )
    @app_commands.guild_only()
    @app_commands.check(guild_only_check)
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        subs = bot.store.subscriptions(interaction.guild_id)
        if not subs:
            await interaction.response.send_message(
                "No channel in this server is subscribed. Use /subscribe in a channel.",
                ephemeral=True,
            )
            return
        lines = [describe(s, bot.next_post_time(s)) for s in subs]
        text = ""
        for n, line in enumerate(lines):
            if len(text) + len(line) + 60 > DESCRIPTION_MAX:
                text += f"… and {len(lines) - n} more"
                break
            text += line + "\n"
        embed = discord.Embed(title=f"Subscriptions ({len(subs)})", description=text.strip())
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @subscribe.autocomplete("categories")
    async def _categories(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return category_choices(current)

    @subscribe.autocomplete("timezone")
    async def _timezone(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=z, value=z) for z in options.search_timezones(current[:64])
        ]


async def setup(bot: HotPapersBot) -> None:
    await bot.add_cog(Subscriptions(bot))
