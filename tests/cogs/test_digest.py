"""/digest preview and /admin sync."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from bot.client import UserError
from bot.models import Subscription
from cogs.digest import Admin, Digest
from tests.cogs.helpers import (
    CHANNEL,
    GUILD,
    MutableClock,
    make_bot,
    make_interaction,
    make_ranking,
    sent,
)

NOW = dt.datetime(2021, 8, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def bot(store):
    return make_bot(store, MutableClock(NOW), default_top=12)


async def test_preview_uses_the_channel_subscription(bot):
    bot.store.save_day(make_ranking(dt.date(2021, 8, 3), 12))
    bot.store.save_subscription(
        Subscription(None, GUILD, CHANNEL, categories=("cs.CL",), top=2), NOW
    )
    cog = Digest(bot)
    inter = make_interaction()
    await cog.preview.callback(cog, inter)
    content, kw = sent(inter)
    assert content.startswith("Preview of the latest ranked day with this channel's settings:")
    assert "cs.CL · 2 papers" in content
    assert [e.title.split(" · ")[0] for e in kw["embeds"]] == ["#2", "#4"]
    assert kw["ephemeral"] is True


async def test_preview_without_subscription_sends_every_part(bot):
    bot.store.save_day(make_ranking(dt.date(2021, 8, 3), 12))
    cog = Digest(bot)
    inter = make_interaction(channel_id=9)
    await cog.preview.callback(cog, inter)
    content, kw = sent(inter)
    assert "no subscription" in content and len(kw["embeds"]) == 10
    follow = inter.followup.send.await_args
    assert len(follow.kwargs["embeds"]) == 2 and follow.kwargs["ephemeral"] is True


async def test_preview_with_nothing_ranked(bot):
    with pytest.raises(UserError, match="No day has been ranked yet"):
        await Digest(bot).preview.callback(Digest(bot), make_interaction())


async def test_sync_is_owner_only(bot):
    cog = Admin(bot)
    bot.is_owner = mock.AsyncMock(return_value=False)
    with pytest.raises(UserError, match="Only the bot's owner"):
        await cog.sync.callback(cog, make_interaction(), scope="guild")
    bot.is_owner = mock.AsyncMock(return_value=True)
    bot.tree.sync = mock.AsyncMock(return_value=[1, 2, 3])
    inter = make_interaction()
    await cog.sync.callback(cog, inter, scope="global")
    bot.tree.sync.assert_awaited_once_with()
    assert inter.followup.send.await_args.args[0].startswith("Synced 3 command(s) globally")
    assert cog.__cog_app_commands_group__.default_permissions.administrator
