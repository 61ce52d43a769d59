"""/hot [date] [category] [top]: a stored day's ranking, paginated with buttons."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import options, taxonomy
from bot.client import UserError
from bot.dates import parse_day
from bot.errors import InvalidDate
from bot.render import Message, hot_pages
from bot.store import Store

if TYPE_CHECKING:
    from bot.client import HotPapersBot

log = logging.getLogger(__name__)

PER_PAGE = 5
HOT_TOP_MAX = 100
PAGER_TIMEOUT = 600.0


def available(store: Store, around: dt.date | None = None) -> str:
    """What the user can ask for instead: the nearest stored days and the latest one."""
    latest = store.latest_day()
    if latest is None:
        return "No day has been ranked yet."
    parts = []
    if around is not None:
        near = [d.isoformat() for d in store.nearest_days(around, n=2)]
        if near:
            parts.append(f"Nearest stored days: {', '.join(near)}.")
    parts.append(f"Latest: {latest.isoformat()}.")
    return " ".join(parts)


def resolve_day(store: Store, text: str | None, now: dt.datetime) -> dt.date:
    """The day asked for (default: the latest ranked); UserError saying what exists otherwise."""
    if text is None or not text.strip():
        latest = store.latest_day(with_papers=True) or store.latest_day()
        if latest is None:
            raise UserError("No day has been ranked yet; try again after the daily job has run.")
        return latest
    try:
        day = parse_day(text, options.local_today(now))
    except InvalidDate as exc:
        raise UserError(f"{exc}. {available(store)}") from None
    if not store.has_day(day):
        raise UserError(f"No ranking is stored for {day.isoformat()}. {available(store, day)}")
    return day


def category_choices(current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete: at most 25 categories, names within Discord's 100 characters."""
    return [
        app_commands.Choice(name=f"{code} — {name}"[:100], value=code)
        for code, name in taxonomy.search(current[:100], limit=25)[:25]
    ]


def hot_answer(
    store: Store, date: str | None, category: str | None, top: int | None, now: dt.datetime
) -> list[Message]:
    """The pages /hot shows for these options (parse, read the store, render); UserError if
    the options name nothing stored. Pure apart from the store read: the latency bench times it.
    """
    day = resolve_day(store, date, now)
    cat = options.parse_category(category) if category else None
    limit = options.parse_top(top, None, maximum=HOT_TOP_MAX)
    # An embed shows one post per paper (the most engaging): read only that one.
    ranking = store.load_day(day, category=cat, top=limit, posts_per_paper=1)
    if ranking is None:  # removed between the two reads
        raise UserError(f"No ranking is stored for {day.isoformat()}. {available(store)}")
    if cat and not ranking.papers:
        there = sorted(store.categories(day))[:20]
        listed = f" Categories that day: {', '.join(there)}." if there else ""
        raise UserError(f"No paper in {cat} ranked on {day.isoformat()}.{listed}")
    return hot_pages(ranking, per_page=PER_PAGE, now=now)


class HotPager(discord.ui.View):
    """Previous / next buttons over precomputed pages; only the caller can turn them."""

    def __init__(self, pages: list[Message], owner_id: int, timeout: float = PAGER_TIMEOUT):
        super().__init__(timeout=timeout)
        self.pages = pages
        self.owner_id = owner_id
        self.index = 0
        self._update()

    def _update(self) -> None:
        self.previous.disabled = self.index <= 0
        self.next.disabled = self.index >= len(self.pages) - 1

    @property
    def page(self) -> Message:
        return self.pages[self.index]

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only the person who ran this /hot can turn its pages; run /hot yourself.",
                ephemeral=True,
            )
            return False
        return True

    async def _show(self, interaction: discord.Interaction) -> None:
        self._update()
        page = self.page
        await interaction.response.edit_message(
            content=page.content, embeds=page.embed_objects(), view=self
        )

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.index = max(0, self.index - 1)
        await self._show(interaction)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.index = min(len(self.pages) - 1, self.index + 1)
        await self._show(interaction)


class Hot(commands.Cog):
    """The /hot command."""

    def __init__(self, bot: HotPapersBot) -> None:
        self.bot = bot

    @app_commands.command(name="hot", description="The papers people talked about on a day")
    @app_commands.describe(
        date="YYYY-MM-DD, today or yesterday (default: the latest ranked day)",
        category="only papers in this arXiv category, e.g. cs.CV",
        top="at most this many papers",
    )
    async def hot(
        self,
        interaction: discord.Interaction,
        date: app_commands.Range[str, 1, 100] | None = None,
        category: app_commands.Range[str, 1, 100] | None = None,
        top: app_commands.Range[int, 1, HOT_TOP_MAX] | None = None,
    ) -> None:
        pages = hot_answer(self.bot.store, date, category, top, self.bot.clock())
        first = pages[0]
        if len(pages) == 1:
            await interaction.response.send_message(first.content, embeds=first.embed_objects())
            return
        view = HotPager(pages, interaction.user.id)
        await interaction.response.send_message(
            first.content, embeds=first.embed_objects(), view=view
        )

    @hot.autocomplete("category")
    async def _category(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return category_choices(current)


async def setup(bot: HotPapersBot) -> None:
    await bot.add_cog(Hot(bot))
