"""Tokens and passwords never reach logs or error messages.

Known, distinctive fake secrets are set; full job runs go through every source on the loopback
fakes (accepted, then refused: Bluesky 401 on login, X 401 and 403 with the token echoed back
in the error body), with every logger at DEBUG (httpx and httpcore included). Then the captured
logs, the failure reasons stored in the database, the exceptions' messages and the stderr of a
CLI run (`hotpapers -v rank`) are searched for the secrets: zero occurrences.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from pathlib import Path

import pytest

from bot import cli
from bot.config import ENV_BLUESKY_PASSWORD, ENV_DISCORD_TOKEN, ENV_X_BEARER, Secrets
from bot.jobs import run_day
from bot.store import Store
from tests.reliability.harness import DAY, DUE, World, running_world

BLUESKY_SECRET = "bsky-SECRET-pw-1111-2222"
X_SECRET = "AAAAxSECRETbearerTOKEN9876543210"
DISCORD_SECRET = "MTIzNDU2Nzg5.SECRET-discord.token_abcdef"
SECRETS = Secrets(
    discord_token=DISCORD_SECRET, bluesky_password=BLUESKY_SECRET, x_bearer_token=X_SECRET
)
VALUES = (BLUESKY_SECRET, X_SECRET, DISCORD_SECRET)


def leaks(text: str) -> list[str]:
    """The secrets (or recognisable halves of them) found in text."""
    found = []
    for value in VALUES:
        half = len(value) // 2
        if value in text or value[:half] in text or value[half:] in text:
            found.append(value)
    return found


def _stored_errors(store: Store) -> str:
    rows = store.db.execute("SELECT error FROM source_runs WHERE error IS NOT NULL").fetchall()
    return "\n".join(r[0] for r in rows)


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "bot", "aiohttp"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


@pytest.mark.parametrize("case", ["accepted", "refused", "x-403-echoes-the-token"], ids=lambda c: c)
async def test_a_full_run_logs_no_secret(case, tmp_path, debug_logs, figures):
    accepted = case == "accepted"
    async with running_world(
        secrets=SECRETS,
        bluesky_password=BLUESKY_SECRET if accepted else "another-password",
        bearer=X_SECRET if case != "refused" else "another-token",
    ) as world:
        world.x.echo_token_403 = case == "x-403-echoes-the-token"
        store = Store.open(tmp_path / "hp.db")
        deps = world.deps(store)
        result = await run_day(DAY, deps, DUE)
        if accepted:
            assert not result.partial
            assert world.bluesky.passwords_seen == [BLUESKY_SECRET]  # the secret was used
        else:
            assert "x" in result.failed
        text = "\n".join(
            [
                debug_logs.text,
                *(r.getMessage() for r in debug_logs.records),
                *result.failed.values(),
                _stored_errors(store),
                repr(world.config),
                repr(deps),
            ]
        )
        store.close()
    assert any(r.levelno == logging.DEBUG for r in debug_logs.records)
    assert leaks(text) == []
    figures.record("secrets", runs=1, log_records=len(debug_logs.records), occurrences=0)


def _toml(world: World, db: Path) -> str:
    c = world.config
    s = c.sources
    return f"""
[database]
path = "{db}"
[http]
timeout = {c.http.timeout}
max_retries = 1
max_retry_wait = 5.0
[schedule]
catch_up_days = 1
[sources.arxiv]
categories = {s.arxiv.categories!r}
rss_url = "{s.arxiv.rss_url}"
api_url = "{s.arxiv.api_url}"
min_interval = 0.0
[sources.huggingface]
base_url = "{s.huggingface.base_url}"
min_interval = 0.0
[sources.hackernews]
base_url = "{s.hackernews.base_url}"
min_interval = 0.0
[sources.bluesky]
base_url = "{s.bluesky.base_url}"
handle = "{s.bluesky.handle}"
min_interval = 0.0
[sources.x]
base_url = "{s.x.base_url}"
min_interval = 0.0
[sources.mastodon]
instances = {s.mastodon.instances!r}
min_interval = 0.0
""".replace("'", '"')


class _FakesInAThread:
    """The fakes on their own event loop, so the CLI can run its own asyncio.run."""

    def __init__(self, **kw: object) -> None:
        self.kw = kw
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.world: World | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        async with running_world(**self.kw) as world:
            self.world = world
            self.ready.set()
            await self.stop.wait()

    def __enter__(self) -> World:
        self.thread.start()
        assert self.ready.wait(10)
        assert self.world is not None
        return self.world

    def __exit__(self, *exc: object) -> None:
        assert self.loop is not None and self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted", "refused"])
def test_the_cli_rank_command_at_debug_prints_no_secret(
    accepted, tmp_path, monkeypatch, capfd, debug_logs, figures
):
    monkeypatch.setenv(ENV_BLUESKY_PASSWORD, BLUESKY_SECRET)
    monkeypatch.setenv(ENV_X_BEARER, X_SECRET)
    monkeypatch.setenv(ENV_DISCORD_TOKEN, DISCORD_SECRET)
    kw = {} if accepted else {"bluesky_password": "nope", "bearer": "nope"}
    with _FakesInAThread(
        secrets=SECRETS,
        **({"bluesky_password": BLUESKY_SECRET, "bearer": X_SECRET} if accepted else kw),
    ) as world:
        path = tmp_path / "hotpapers.toml"
        path.write_text(_toml(world, tmp_path / "hp.db"))
        code = cli.main(["-v", "--config", str(path), "rank", DAY.isoformat()], clock=lambda: DUE)
    out, err = capfd.readouterr()
    assert code == 0, err
    assert "Hot Papers 2024-05-02" in out
    if not accepted:
        assert "bluesky" in err and "x" in err
    text = "\n".join([out, err, debug_logs.text])
    assert leaks(text) == []
    figures.record("secrets", cli_runs=1, occurrences=0)


def test_secrets_repr_and_config_repr_show_only_whether_set():
    config = dataclasses.replace(
        __import__("bot.config", fromlist=["Config"]).Config(), secrets=SECRETS
    )
    assert leaks(repr(config)) == []
    assert "bluesky_password=set" in repr(SECRETS)
