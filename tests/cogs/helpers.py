"""Mocks spec'd on the real discord.py classes (after python-discord/bot tests/helpers.py),
a bot built with `build_bot` on a temporary store, and ranking factories."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import discord
import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.client import HotPapersBot, build_bot
from bot.config import Config, DiscordConfig
from bot.delivery import Outbox
from bot.models import DayRanking, Paper, Post, RankedPaper
from bot.store import Store

GUILD = 1000
CHANNEL = 2000
USER = 200
OTHER_USER = 201


class MutableClock:
    """A clock the test can move (always timezone-aware)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_ranking(day: dt.date, n: int = 12, *, cats=("cs.CV", "cs.CL")) -> DayRanking:
    """n papers; odd ranks in cats[0], even ranks in cats[1]."""
    papers = []
    for i in range(1, n + 1):
        aid = f"{day:%y%m}.{day.day:02d}{i:03d}"
        papers.append(
            RankedPaper(
                rank=i,
                paper=Paper(
                    arxiv_id=aid,
                    title=f"Paper {i} of {day}",
                    authors=("Ada Lovelace", "Alan Turing"),
                    categories=(cats[0] if i % 2 else cats[1],),
                    abs_url=f"https://arxiv.org/abs/{aid}",
                ),
                score=float(1000 - i),
                signals={"hackernews": {"points": 100 - i}},
                posts=[
                    Post(
                        "hackernews",
                        f"https://news.ycombinator.com/item?id={i}",
                        aid,
                        author="pg",
                        text=f"Discussion {i}",
                        likes=100 - i,
                    )
                ],
            )
        )
    return DayRanking(
        day=day, generated_at=dt.datetime.combine(day, dt.time(9), dt.UTC), papers=papers
    )


def make_bot(store: Store, clock, **discord_kw) -> HotPapersBot:
    config = Config(discord=DiscordConfig(**discord_kw))
    return build_bot(
        config,
        store,
        mock.MagicMock(spec_set=httpx.AsyncClient),
        AsyncIOScheduler(timezone=dt.UTC),
        clock,
        outbox=mock.MagicMock(spec_set=Outbox),
    )


def make_interaction(
    *,
    user_id: int = USER,
    guild_id: int | None = GUILD,
    channel_id: int | None = CHANNEL,
    manage_channels: bool = True,
) -> mock.MagicMock:
    """An Interaction mock whose attributes and methods all exist on the real classes."""
    inter = mock.MagicMock(spec_set=discord.Interaction)
    inter.id = 555
    inter.guild_id = guild_id
    inter.channel_id = channel_id
    inter.user = mock.MagicMock(spec_set=discord.Member if guild_id else discord.User)
    inter.user.id = user_id
    inter.permissions = discord.Permissions(manage_channels=manage_channels, send_messages=True)
    inter.data = {"options": []}
    inter.command = None
    response = mock.MagicMock(spec_set=discord.InteractionResponse)
    response.send_message = mock.AsyncMock()
    response.edit_message = mock.AsyncMock()
    response.defer = mock.AsyncMock()
    response.is_done = mock.MagicMock(return_value=False)
    inter.response = response
    followup = mock.MagicMock(spec_set=discord.Webhook)
    followup.send = mock.AsyncMock()
    inter.followup = followup
    return inter


def sent(inter: mock.MagicMock) -> tuple[str, dict]:
    """(content, kwargs) of the interaction's response.send_message call."""
    call = inter.response.send_message.await_args
    assert call is not None, "no response was sent"
    content = call.args[0] if call.args else call.kwargs.get("content", "")
    return content or "", call.kwargs
