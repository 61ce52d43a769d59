"""/paper <id or URL>: one paper, its counts per source, and every day it ranked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import arxiv_ids
from bot.client import UserError
from bot.options import shown
from bot.render import Message, paper_embed
from bot.store import Store

if TYPE_CHECKING:
    from bot.client import HotPapersBot


def paper_message(store: Store, text: str) -> Message:
    """The /paper answer for an id or URL; UserError when it is not one or not stored."""
    arxiv_id = arxiv_ids.parse(text)  # InvalidArxivId is a user error
    paper = store.get_paper(arxiv_id)
    if paper is None:
        raise UserError(
            f"arXiv:{shown(arxiv_id)} is not in the database: it has not been mentioned on any "
            "ranked day."
        )
    days = store.paper_days(arxiv_id)
    signals: dict[str, dict[str, int]] = {}
    posts = []
    if days:
        latest = store.load_day(days[-1][0])
        for item in latest.papers if latest else []:
            if item.paper.arxiv_id == arxiv_id:
                signals, posts = item.signals, item.posts
                break
    if not posts:
        posts = store.posts_for(arxiv_id)
    return paper_embed(paper, signals, days, posts=posts)


class PaperCog(commands.Cog):
    """The /paper command."""

    def __init__(self, bot: HotPapersBot) -> None:
        self.bot = bot

    @app_commands.command(name="paper", description="One paper: its counts and the days it ranked")
    @app_commands.describe(paper="an arXiv id or URL, e.g. 2108.01234 or arxiv.org/abs/2108.01234")
    async def paper(
        self, interaction: discord.Interaction, paper: app_commands.Range[str, 1, 300]
    ) -> None:
        message = paper_message(self.bot.store, paper)
        await interaction.response.send_message(message.content, embeds=message.embed_objects())


async def setup(bot: HotPapersBot) -> None:
    await bot.add_cog(PaperCog(bot))
