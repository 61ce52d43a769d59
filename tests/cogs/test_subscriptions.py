"""/subscribe, /unsubscribe, /subscriptions: validation, permissions, DMs, scheduling."""

from __future__ import annotations

import datetime as dt

import pytest
from discord import app_commands

from bot import posting
from bot.client import UserError
from bot.errors import InvalidOption, UnknownCategory
from cogs.subscriptions import (
    Subscriptions,
    category_choices,
    guild_only_check,
    manage_channels_check,
)
from tests.cogs.helpers import CHANNEL, GUILD, MutableClock, make_bot, make_interaction, sent

NOW = dt.datetime(2021, 8, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def cog(store):
    return Subscriptions(make_bot(store, MutableClock(NOW)))


async def subscribe(cog, inter=None, **kw):
    inter = inter or make_interaction()
    kw.setdefault("categories", "cs.CV")
    kw.setdefault("time", "09:00")
    kw.setdefault("timezone", "UTC")
    kw.setdefault("top", None)
    kw.setdefault("min_score", None)
    await cog.subscribe.callback(cog, inter, **kw)
    return inter


async def test_subscribe_saves_schedules_and_answers(cog):
    inter = await subscribe(
        cog, categories="cs.cv, cs.LG cs.CV", time="7:30", timezone="europe/paris", top=5
    )
    sub = cog.bot.store.subscription_for_channel(CHANNEL)
    assert sub.categories == ("cs.CV", "cs.LG")
    assert (sub.post_time, sub.timezone, sub.top, sub.guild_id) == (
        "07:30",
        "Europe/Paris",
        5,
        GUILD,
    )
    job = cog.bot.scheduler.get_job(posting.job_id(sub.id))
    assert job is not None and job.args == (sub.id,)
    assert str(job.trigger.timezone) == "Europe/Paris"
    content, kw = sent(inter)
    assert content.startswith(
        "Subscribed: <#2000> · cs.CV, cs.LG · top 5 · daily at 07:30 Europe/Paris"
    )
    # 2021-08-05 07:30 in Paris (CEST) = 05:30 UTC
    assert "<t:1628141400:f>" in content
    assert kw["ephemeral"] is True


async def test_resubscribe_updates_and_resumes(cog):
    await subscribe(cog)
    sub = cog.bot.store.subscription_for_channel(CHANNEL)
    cog.bot.store.set_subscription_state(sub.id, "paused", "Missing Access")
    cog.bot.unschedule(sub.id)
    inter = await subscribe(cog, time="10:00")
    assert sent(inter)[0].startswith("Updated (resumed):")
    again = cog.bot.store.subscription_for_channel(CHANNEL)
    assert again.id == sub.id and again.state == "active" and again.paused_reason is None
    assert cog.bot.scheduler.get_job(posting.job_id(sub.id)) is not None


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        (
            {"categories": "cs.CVV"},
            UnknownCategory,
            r"'cs\.CVV' is not an arXiv category \(did you mean cs\.CV\?\)",
        ),
        ({"categories": " , "}, UnknownCategory, "at least one arXiv category"),
        ({"categories": "cs.CV, nope.XX"}, UnknownCategory, "'nope.XX' is not an arXiv category"),
        ({"time": "25:00"}, InvalidOption, "'25:00' is not a time: use HH:MM"),
        ({"time": "9am"}, InvalidOption, "is not a time"),
        ({"timezone": "Europe/Pariss"}, InvalidOption, r"did you mean Europe/Paris\?"),
        ({"timezone": "CEST+2"}, InvalidOption, "is not an IANA time zone"),
        ({"top": 0}, InvalidOption, "between 1 and 25"),
        ({"top": 26}, InvalidOption, "between 1 and 25"),
        ({"min_score": -1.0}, InvalidOption, "min_score must be a number ≥ 0"),
        ({"min_score": float("nan")}, InvalidOption, "min_score"),
    ],
)
async def test_bad_options_are_refused_and_nothing_saved(cog, kw, error, message):
    inter = make_interaction()
    with pytest.raises(error, match=message):
        await subscribe(cog, inter, **kw)
    assert cog.bot.store.subscriptions() == []
    inter.response.send_message.assert_not_awaited()


async def test_user_input_in_errors_cannot_ping(cog):
    with pytest.raises(InvalidOption) as info:
        await subscribe(cog, timezone="@everyone <@123456789012345678>")
    assert "@everyone" not in str(info.value) and "<@1" not in str(info.value)


def test_permission_and_dm_checks():
    assert manage_channels_check(make_interaction()) is True
    with pytest.raises(app_commands.MissingPermissions):
        manage_channels_check(make_interaction(manage_channels=False))
    with pytest.raises(app_commands.NoPrivateMessage):
        manage_channels_check(make_interaction(guild_id=None))
    with pytest.raises(app_commands.NoPrivateMessage):
        guild_only_check(make_interaction(guild_id=None))


def test_commands_declare_permissions_and_guild_only(cog):
    for command in (cog.subscribe, cog.unsubscribe):
        assert command.default_permissions.manage_channels
        assert command.guild_only
        assert manage_channels_check in command.checks
    assert cog.subscriptions.guild_only and cog.subscriptions.default_permissions is None


async def test_unsubscribe(cog):
    await subscribe(cog)
    sub = cog.bot.store.subscription_for_channel(CHANNEL)
    inter = make_interaction()
    await cog.unsubscribe.callback(cog, inter)
    assert "Unsubscribed <#2000>" in sent(inter)[0]
    assert cog.bot.store.subscription_for_channel(CHANNEL) is None
    assert cog.bot.scheduler.get_job(posting.job_id(sub.id)) is None
    with pytest.raises(UserError, match="This channel has no subscription"):
        await cog.unsubscribe.callback(cog, make_interaction())


async def test_subscriptions_lists_state_next_post_and_pause_reason(cog):
    await subscribe(cog, top=3, min_score=50.0)
    await subscribe(
        cog, make_interaction(channel_id=2001), categories="cs.LG", timezone="Asia/Tokyo"
    )
    paused = cog.bot.store.subscription_for_channel(2001)
    cog.bot.store.set_subscription_state(
        paused.id, "paused", "Missing Access (HTTP 403, code 50001) @everyone"
    )
    inter = make_interaction()
    await cog.subscriptions.callback(cog, inter)
    embed = sent(inter)[1]["embed"]
    lines = embed.description.splitlines()
    assert embed.title == "Subscriptions (2)"
    # next post: 2021-08-05 09:00 UTC
    assert (
        lines[0]
        == "<#2000> · cs.CV · top 3 · score ≥ 50 · daily at 09:00 UTC · next <t:1628154000:R>"
    )
    assert lines[1].startswith(
        "<#2001> · cs.LG · top 10 · daily at 09:00 Asia/Tokyo · **paused**: "
        "Missing Access \\(HTTP 403, code 50001\\) @\u200beveryone"
    )


async def test_subscriptions_empty(cog):
    inter = make_interaction()
    await cog.subscriptions.callback(cog, inter)
    assert "No channel in this server is subscribed" in sent(inter)[0]


def test_category_autocomplete_completes_the_last_item():
    choices = category_choices("cs.CV, cs.l")
    assert choices and all(c.value.startswith("cs.CV, cs.L") for c in choices)
    assert len(category_choices("")) <= 25
    assert all(len(c.value) <= 100 for c in category_choices("cs.CV " * 30 + "cs."))


async def test_timezone_autocomplete(cog):
    choices = await cog._timezone(make_interaction(), "europe/pa")
    assert [c.value for c in choices] == ["Europe/Paris"]
    assert len(await cog._timezone(make_interaction(), "")) == 25
