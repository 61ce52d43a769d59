"""Webhook subscriptions from the terminal, and `hotpapers run` posting them with no bot."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot import config as config_mod
from bot.bot_cli import serve_webhooks
from bot.cli import main
from bot.models import Subscription
from bot.store import Store
from tests.cogs.helpers import MutableClock, make_ranking
from tests.fakes.discord import FakeDiscord

DAY = dt.date(2021, 8, 3)
CREATED = dt.datetime(2021, 8, 1, 12, 0, tzinfo=dt.UTC)
AFTER_POST_TIME = dt.datetime(2021, 8, 4, 9, 0, 30, tzinfo=dt.UTC)
HOOK = "https://discord.com/api/webhooks/123456789012345678/AbCdEf-token_value1234567890"
SOURCES_OFF = "".join(
    f"[sources.{s}]\nenabled = false\n"
    for s in ("arxiv", "huggingface", "hackernews", "bluesky", "x", "mastodon")
)


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "hp.db"
    monkeypatch.setenv("HOTPAPERS_DATABASE", str(path))
    monkeypatch.delenv("HOTPAPERS_CONFIG", raising=False)
    monkeypatch.delenv("HOTPAPERS_DISCORD_TOKEN", raising=False)
    return path


def run(*argv: str) -> int:
    return main(list(argv), clock=lambda: CREATED)


def test_subscribe_list_change_and_unsubscribe_a_webhook(db, capsys):
    assert (
        run(
            "subscribe",
            "--webhook",
            HOOK,
            "--categories",
            "cs.cv, cs.LG",
            "--time",
            "8:30",
            "--timezone",
            "europe/paris",
            "--top",
            "5",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "subscribed webhook 123456789012345678: cs.CV, cs.LG, top 5, 08:30 Europe/Paris" in out
    assert "next post 2021-08-02T08:30:00+02:00" in out
    assert "token_value" not in out

    assert run("subscribe", "--webhook", HOOK, "--categories", "cs.CL") == 0
    assert "updated webhook 123456789012345678: cs.CL, top 10, 09:00 UTC" in capsys.readouterr().out

    assert run("subscriptions") == 0
    listing = capsys.readouterr().out
    assert listing.count("webhook 123456789012345678") == 1 and "token_value" not in listing
    with Store.open(db) as store:
        (sub,) = store.subscriptions()
        assert sub.webhook_url == HOOK and sub.guild_id is None

    assert run("unsubscribe", "--webhook", HOOK) == 0
    assert run("subscriptions") == 0
    assert "no subscriptions" in capsys.readouterr().out
    assert run("unsubscribe", "--webhook", HOOK) == 1
    assert "has no subscription" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--webhook", "https://example.com/hook"], "not a Discord webhook URL"),
        (["--webhook", HOOK.replace("https", "http")], "not a Discord webhook URL"),
        (["--webhook", HOOK, "--time", "25:00"], "is not a time"),
        (["--webhook", HOOK, "--timezone", "Mars/Base"], "time zone"),
        (["--webhook", HOOK, "--categories", "cs.CVV"], "did you mean cs.CV"),
        (["--webhook", HOOK, "--top", "0"], "top"),
    ],
)
def test_bad_options_are_one_line_errors_and_store_nothing(db, capsys, argv, error):
    if "--categories" not in argv:
        argv = [*argv, "--categories", "cs.CV"]
    assert run("subscribe", *argv) == 1
    err = capsys.readouterr().err.strip()
    assert error in err and "\n" not in err
    with Store.open(db) as store:
        assert store.subscriptions() == []


def test_run_without_token_or_webhooks_says_how_to_get_a_token(db, capsys):
    assert run("run") == 2
    assert "HOTPAPERS_DISCORD_TOKEN is not set" in capsys.readouterr().err


async def test_run_without_a_bot_posts_webhook_digests_once(tmp_path):
    async with FakeDiscord() as fake:
        channel = 4242
        fake.add_channel(channel)
        hook = fake.add_webhook(channel)
        db = tmp_path / "hp.db"
        config_path = tmp_path / "config.toml"
        config_path.write_text(
            f'[database]\npath = "{db}"\n[schedule]\ncatch_up_days = 1\n{SOURCES_OFF}'
            f'[discord]\napi_base = "{fake.api_url}"\n'
        )
        config = config_mod.load(config_path, env={})
        clock = MutableClock(CREATED)
        assert (
            main(
                [
                    "--config",
                    str(config_path),
                    "subscribe",
                    "--webhook",
                    hook,
                    "--categories",
                    "cs.CV",
                ],
                clock=clock,
            )
            == 0
        )
        with Store.open(db) as store:
            ranking = make_ranking(DAY, 12)
            ranking.origin = "archive"
            store.save_day(ranking)
            bot_channel = store.save_subscription(
                Subscription(id=None, guild_id=1, channel_id=999), CREATED
            )
            store.enqueue_delivery(bot_channel, DAY, AFTER_POST_TIME - dt.timedelta(minutes=1))

        clock.now = AFTER_POST_TIME
        services = []
        task = asyncio.create_task(serve_webhooks(config, clock, started=services.append))
        try:
            await fake.wait_until(lambda: bool(fake.messages.get(channel)), timeout=10)
            await services[0].catch_up()  # the 5-minute catch-up firing again: nothing more
            await services[0].post_subscription(1)  # the posting job firing: nothing more
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        posted = fake.messages[channel]
        assert len(posted) == 1
        assert posted[0]["content"].startswith("**Hot Papers 2021-08-03** · cs.CV")
        assert posted[0]["webhook_id"]
        with Store.open(db) as store:
            assert store.get_delivery(1, DAY).status == "sent"
            # A channel subscription needs the bot: this process leaves its row pending.
            assert store.get_delivery(bot_channel.id, DAY).status == "pending"
        assert 999 not in fake.messages
