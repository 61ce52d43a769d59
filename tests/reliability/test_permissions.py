"""Permissions: every command that changes settings (/subscribe, /unsubscribe, /admin sync)
is refused to a member without Manage Channels (or, for /admin, to anyone but the bot's
owner) and in direct messages, and nothing changes: not the database, not the schedule, not
the registered commands. Discord hides them too (`default_permissions` on the top-level
command or group, guild-only contexts), and the code checks again, since a server can
override the defaults.
"""

from __future__ import annotations

import datetime as dt

import discord
import pytest

from bot.models import Subscription
from cogs.subscriptions import guild_only_check, manage_channels_check
from tests.cogs.helpers import MutableClock, make_bot
from tests.fakes.discord import MEMBER_PERMISSIONS, FakeDiscord
from tests.reliability.test_command_input import dump
from tests.test_e2e_bot import CHANNEL, GUILD, Running, data, ephemeral, opt

MANAGE_CHANNELS = discord.Permissions(manage_channels=True)
CHANGING = {  # command -> the permission Discord requires by default
    "subscribe": MANAGE_CHANNELS,
    "unsubscribe": MANAGE_CHANNELS,
    "admin": discord.Permissions(administrator=True),
}
READ_ONLY = {"hot", "paper", "subscriptions", "digest"}
APP_OWNER = 100  # the fake application's owner (the bot's owner)


@pytest.fixture
async def tree(store):
    bot = make_bot(store, MutableClock(dt.datetime(2021, 8, 4, tzinfo=dt.UTC)))
    for extension in bot.initial_extensions:
        await bot.load_extension(extension)
    return bot.tree


async def test_changing_commands_carry_default_permissions_and_code_checks(tree):
    commands = {c.name: c for c in tree.get_commands()}
    assert set(commands) == set(CHANGING) | READ_ONLY  # a new command must be classified here
    for name, needed in CHANGING.items():
        command = commands[name]
        assert command.default_permissions == needed, name
        payload = command.to_dict(tree)
        assert int(payload["default_member_permissions"]) == needed.value
        if name != "admin":  # /admin also works in the owner's DMs (owner check in code)
            assert command.guild_only and payload["contexts"] == [0]
            assert manage_channels_check.__name__ in [c.__name__ for c in command.checks]
    for name in READ_ONLY:
        payload = commands[name].to_dict(tree)
        assert payload.get("default_member_permissions") is None, name
    assert guild_only_check.__name__ in [c.__name__ for c in commands["subscriptions"].checks]
    # Sub-commands carry none: Discord ignores default_permissions there.
    for sub in commands["admin"].commands:
        assert "default_member_permissions" not in sub.to_dict(tree)


@pytest.fixture
async def running(tmp_path):
    fake = FakeDiscord()
    await fake.start()
    fake.add_guild(GUILD, "Papers club", channels={CHANNEL: "hot-papers"})
    run = Running(fake, tmp_path)
    bot = await run.start()
    sub = bot.store.save_subscription(
        Subscription(id=None, guild_id=GUILD, channel_id=CHANNEL, categories=("cs.CV",)),
        run.clock(),
    )
    bot.schedule(sub)
    yield run
    await run.shutdown()


ATTEMPTS = [
    ("subscribe", [opt("categories", "cs.LG"), opt("time", "06:00")]),
    ("unsubscribe", []),
]


def state(run: Running) -> tuple:
    bot = run.bot
    jobs = sorted((j.id, str(j.trigger)) for j in bot.scheduler.get_jobs())
    return dump(bot.store), jobs, dict(run.fake.commands)


@pytest.mark.parametrize(("name", "options"), ATTEMPTS)
@pytest.mark.parametrize("where", ["member without Manage Channels", "direct message"])
async def test_changing_commands_are_refused_and_change_nothing(
    running, name, options, where, figures
):
    before = state(running)
    if where == "direct message":
        inter = await running.command(name, options, guild_id=None, channel_id=9)
        expected = "only works in a server"
    else:
        inter = await running.command(name, options, permissions=MEMBER_PERMISSIONS)
        expected = "You need the Manage Channels permission"
    assert ephemeral(inter) and expected in data(inter)["content"]
    assert state(running) == before
    figures.record("permissions", refused=1, changed=0)


@pytest.mark.parametrize("where", ["admin who is not the owner", "direct message"])
async def test_admin_sync_is_for_the_owner_only(running, where, figures):
    before = state(running)
    if where == "direct message":
        inter = await running.command("admin", [_sync()], guild_id=None, channel_id=9)
    else:  # every permission bit, but not the bot's owner
        inter = await running.command("admin", [_sync()])
    assert ephemeral(inter) and "Only the bot's owner" in data(inter)["content"]
    assert state(running) == before
    # The owner can (the check is not simply refusing everyone).
    done = await running.command("admin", [_sync()], user_id=APP_OWNER)
    await running.fake.wait_until(lambda: GUILD in running.fake.commands, timeout=5)
    assert done.responded and running.fake.commands[GUILD]
    figures.record("permissions", refused=1, changed=0)


def _sync() -> dict:
    return {"name": "sync", "type": 1, "options": [opt("scope", "guild")]}
