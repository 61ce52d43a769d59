"""`hotpapers run` / `sync` / `digest --webhook` (the webhook half) against the fake Discord."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot import bot_cli, cli
from bot.config import Config, DiscordConfig, Secrets
from bot.render import digest_messages
from tests.cogs.helpers import make_ranking
from tests.fakes.discord import FakeDiscord


def test_run_and_sync_without_a_token_say_so_in_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("HOTPAPERS_DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("HOTPAPERS_DATABASE", str(tmp_path / "x.db"))
    for command in (["run"], ["sync", "--guild", "1"]):
        assert cli.main(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "HOTPAPERS_DISCORD_TOKEN is not set" in err[0]


async def test_sync_registers_commands_to_a_guild_or_globally(tmp_path):
    async with FakeDiscord() as fake:
        config = Config(
            discord=DiscordConfig(api_base=fake.api_url, gateway_url=fake.gateway_url),
            secrets=Secrets(discord_token=fake.token),
        )
        now = lambda: dt.datetime(2021, 8, 4, tzinfo=dt.UTC)  # noqa: E731
        assert await bot_cli.sync_commands(config, now, 77) == 7
        assert await bot_cli.sync_commands(config, now, None) == 7
        names = {c["name"] for c in fake.commands[77]}
        assert names == {
            "hot",
            "paper",
            "subscribe",
            "unsubscribe",
            "subscriptions",
            "digest",
            "admin",
        }
        subscribe = next(c for c in fake.commands[None] if c["name"] == "subscribe")
        assert str(subscribe["default_member_permissions"]) == "16"  # Manage Channels
        assert fake.messages == {}  # nothing posted: no jobs, no catch-up


async def test_bad_token_is_reported(capsys):
    async with FakeDiscord() as fake:
        config = Config(
            discord=DiscordConfig(api_base=fake.api_url, gateway_url=fake.gateway_url),
            secrets=Secrets(discord_token="wrong"),
        )
        code = await asyncio.to_thread(
            bot_cli.cmd_sync, type("A", (), {"guild": None})(), config, None
        )
    assert code == 1 and "Discord rejected the token" in capsys.readouterr().err


async def test_webhook_posts_the_digest_without_a_bot():
    async with FakeDiscord() as fake:
        url = fake.add_webhook(11)
        messages = digest_messages(make_ranking(dt.date(2021, 8, 3), 12), now=None)
        ids = await asyncio.to_thread(bot_cli.send_webhook, Config(), url, messages)
        assert len(ids) == 2
        posted = fake.posted(11)
        assert posted[0]["content"] == "**Hot Papers 2021-08-03** · 12 papers"
        assert sum(len(m["embeds"]) for m in posted) == 12


def test_digest_webhook_option_end_to_end(tmp_path, capsys, monkeypatch):
    """`hotpapers digest DATE --webhook URL` on a stored day: posted, nothing ranked again."""
    from bot.store import Store

    db = tmp_path / "h.db"
    store = Store.open(db)
    ranking = make_ranking(dt.date(2021, 8, 3), 12)
    ranking.origin = "archive"
    store.save_day(ranking)
    store.close()
    monkeypatch.setenv("HOTPAPERS_DATABASE", str(db))

    async def scenario() -> tuple[int, list]:
        async with FakeDiscord() as fake:
            url = fake.add_webhook(11)
            code = await asyncio.to_thread(
                cli.main, ["digest", "2021-08-03", "--category", "cs.CV", "--webhook", url]
            )
            bad = await asyncio.to_thread(
                cli.main,
                ["digest", "2021-08-03", "--webhook", url.replace("/webhooks/", "/webhooks/9")],
            )
            assert bad == 1
            return code, fake.posted(11)

    code, posted = asyncio.run(scenario())
    assert code == 0
    assert posted[0]["content"] == "**Hot Papers 2021-08-03** · cs.CV · 6 papers"
    out = capsys.readouterr()
    assert "posted the digest of 2021-08-03 to the webhook (1 message(s))" in out.out
    assert "Unknown Webhook" in out.err or "webhook" in out.err.lower()


def test_every_subcommand_has_a_handler_imported_only_when_it_runs():
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    assert set(sub.choices) == set(cli.HANDLER_MODULES)
    for name in sub.choices:
        assert callable(cli._handler(name))
    assert cli._handler("nonsense") is cli.cmd_not_ready
