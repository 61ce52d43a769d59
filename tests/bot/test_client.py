"""HotPapersBot: wiring, endpoints, start-up, error handling and the posting job."""

from __future__ import annotations

import datetime as dt
import logging
from unittest import mock

import discord
import pytest
from discord import app_commands

from bot import client, posting
from bot.config import Config, DiscordConfig
from bot.delivery import DeliveryReport
from bot.errors import InvalidDate, StoreError
from bot.models import Subscription
from tests.cogs.helpers import (
    CHANNEL,
    GUILD,
    MutableClock,
    make_bot,
    make_interaction,
    make_ranking,
)

NOW = dt.datetime(2021, 8, 4, 9, 0, 30, tzinfo=dt.UTC)
D = dt.date(2021, 8, 3)


@pytest.fixture
def restore_endpoints():
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


def test_endpoints_come_from_config(restore_endpoints):
    cfg = Config(
        discord=DiscordConfig(
            api_base="http://127.0.0.1:9/api/v10/", gateway_url="ws://127.0.0.1:9/"
        )
    )
    client.configure_endpoints(cfg)
    assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/"
    client.configure_endpoints(Config())
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


def test_intents_and_mentions(store, restore_endpoints):
    bot = make_bot(store, MutableClock(NOW))
    assert bot.intents.value == discord.Intents(guilds=True).value
    assert not bot.intents.message_content and not bot.intents.members
    mentions = bot.allowed_mentions.to_dict()
    assert mentions["parse"] == [] and not mentions.get("replied_user")
    assert isinstance(bot.tree, client.HotPapersTree)


async def test_setup_hook_loads_cogs_schedules_and_never_syncs_globally(store, restore_endpoints):
    sub = store.save_subscription(Subscription(None, GUILD, CHANNEL), NOW)
    bot = make_bot(store, MutableClock(NOW))
    bot.tree.sync = mock.AsyncMock(return_value=[])
    bot.scheduler.start = mock.MagicMock()
    with mock.patch.object(bot, "catch_up", mock.AsyncMock()):
        await bot.setup_hook()
        await bot.catch_up_task
        bot.catch_up.assert_awaited_once()
    assert {c.name for c in bot.tree.get_commands()} == {
        "hot",
        "paper",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "digest",
        "admin",
    }
    assert bot.scheduler.get_job(posting.job_id(sub.id)) is not None
    bot.scheduler.start.assert_called_once()
    bot.tree.sync.assert_not_awaited()


async def test_setup_hook_syncs_only_to_the_dev_guild(store, restore_endpoints):
    bot = make_bot(store, MutableClock(NOW), dev_guild_id=77)
    bot.tree.sync = mock.AsyncMock(return_value=[])
    bot.scheduler.start = mock.MagicMock()
    with mock.patch.object(bot, "catch_up", mock.AsyncMock()):
        await bot.setup_hook()
    (call,) = bot.tree.sync.await_args_list
    assert call.kwargs["guild"].id == 77


def invoke_error(exc: Exception) -> app_commands.CommandInvokeError:
    async def hot(interaction: discord.Interaction) -> None: ...

    command = app_commands.Command(name="hot", description="hot", callback=hot)
    return app_commands.CommandInvokeError(command, exc)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (invoke_error(InvalidDate("'x' is not a date")), "'x' is not a date"),
        (invoke_error(client.UserError("No day")), "No day"),
        (app_commands.NoPrivateMessage(), "only works in a server channel"),
        (
            app_commands.MissingPermissions(["manage_channels"]),
            "You need the Manage Channels permission",
        ),
    ],
)
async def test_user_errors_get_a_specific_ephemeral_answer(store, error, expected):
    bot = make_bot(store, MutableClock(NOW))
    inter = make_interaction()
    await bot.tree.on_error(inter, error)
    call = inter.response.send_message.await_args
    assert expected in call.args[0] and call.kwargs["ephemeral"] is True


async def test_our_errors_are_logged_and_hidden(store, caplog):
    bot = make_bot(store, MutableClock(NOW))
    inter = make_interaction()
    inter.response.is_done.return_value = True  # deferred: answered through the follow-up
    with caplog.at_level(logging.ERROR, logger="bot.client"):
        await bot.tree.on_error(inter, invoke_error(StoreError("database is locked")))
    text = inter.followup.send.await_args.args[0]
    assert text == client.SOMETHING_WENT_WRONG and "Traceback" not in text
    (record,) = caplog.records
    assert "guild 1000, channel 2000, user 200" in record.getMessage()
    assert isinstance(record.exc_info[1], StoreError)


async def test_posting_job_enqueues_then_delivers_once(store):
    store.save_day(make_ranking(D, 3))
    sub = store.save_subscription(
        Subscription(None, GUILD, CHANNEL, created_at=None), dt.datetime(2021, 8, 1, tzinfo=dt.UTC)
    )
    bot = make_bot(store, MutableClock(NOW))
    bot.outbox.deliver = mock.AsyncMock()
    await bot.post_subscription(sub.id)
    row = store.get_delivery(sub.id, D)
    assert row.status == "pending" and row.due_at == dt.datetime(2021, 8, 4, 9, tzinfo=dt.UTC)
    (call,) = bot.outbox.deliver.await_args_list
    delivered, messages = call.args[0], call.args[1]
    assert delivered.day == D and len(messages[0].embeds) == 3
    store.update_delivery(sub.id, D, status="sent")
    await bot.post_subscription(sub.id)  # the job firing again: nothing more
    assert bot.outbox.deliver.await_count == 1


async def test_posting_job_skips_paused_and_removed(store):
    store.save_day(make_ranking(D, 3))
    sub = store.save_subscription(
        Subscription(None, GUILD, CHANNEL, state="paused"), dt.datetime(2021, 8, 1, tzinfo=dt.UTC)
    )
    bot = make_bot(store, MutableClock(NOW))
    bot.outbox.deliver = mock.AsyncMock()
    assert await bot.post_subscription(sub.id) is None
    assert await bot.post_subscription(999) is None
    bot.outbox.deliver.assert_not_awaited()


async def test_posting_job_failure_is_logged_not_raised(store, caplog):
    store.save_day(make_ranking(D, 3))
    sub = store.save_subscription(
        Subscription(None, GUILD, CHANNEL), dt.datetime(2021, 8, 1, tzinfo=dt.UTC)
    )
    bot = make_bot(store, MutableClock(NOW))
    bot.outbox.deliver = mock.AsyncMock(side_effect=RuntimeError("boom"))
    with caplog.at_level(logging.ERROR):
        assert await bot.post_subscription(sub.id) is None
    assert "posting to channel 2000" in caplog.text


async def test_catch_up_enqueues_due_days_and_runs_the_outbox(store):
    store.save_day(make_ranking(D, 3))
    sub = store.save_subscription(
        Subscription(None, GUILD, CHANNEL), dt.datetime(2021, 8, 1, tzinfo=dt.UTC)
    )
    bot = make_bot(store, MutableClock(NOW))
    bot.outbox.run_due = mock.AsyncMock(return_value=DeliveryReport())
    await bot.catch_up()
    assert store.get_delivery(sub.id, D).status == "pending"
    build = bot.outbox.run_due.await_args.args[0]
    assert len(build(store.get_delivery(sub.id, D), sub)[0].embeds) == 3
