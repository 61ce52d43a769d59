"""`hotpapers rank` and `hotpapers digest` end to end: the real CLI, sources and store, with
every source's base URL pointing at fake servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import cli
from bot.config import ENV_X_BEARER
from bot.store import Store
from tests.fakes.arxiv import FakePaper
from tests.fakes.hackernews import story_hit
from tests.fakes.huggingface import daily_item
from tests.fakes.mastodon import FakeMastodon, trend_link
from tests.fakes.server import serve
from tests.fakes.sources import FakeSources
from tests.fakes.x import BEARER, FakeX, tweet

DAY = "2024-05-02"  # a Thursday: the fakes' mailing
NOW = dt.datetime(2024, 5, 3, 9, 30, tzinfo=dt.UTC)


def papers() -> list[FakePaper]:
    return [
        FakePaper("2405.00001", title="Vision Paper", categories=("cs.CV", "cs.LG")),
        FakePaper("2405.00002", title="Language Paper", categories=("cs.CL",)),
        FakePaper("2405.00003", title="Quiet Paper", categories=("cs.LG",)),
    ]


def tweets():
    return [
        tweet("1790000000000000001", urls=["https://arxiv.org/abs/2405.00001v1"], retweets=30,
              likes=70),
        tweet("1790000000000000002", urls=["https://arxiv.org/abs/2405.00002v2"], likes=12,
              username="someone"),
        tweet("1790000000000000003", urls=["https://arxiv.org/abs/2405.00002"], retweets=1,
              likes=2, username="another"),
    ]  # fmt: skip


def write_config(tmp_path: Path, fake: FakeSources, x_url: str, mastodon_url: str) -> Path:
    urls = fake.base_urls
    path = tmp_path / "hotpapers.toml"
    path.write_text(
        f"""
[database]
path = "{tmp_path / "hp.db"}"

[http]
timeout = 5.0
max_retries = 1
max_retry_wait = 0.1

[sources.arxiv]
categories = ["cs.CV", "cs.CL", "cs.LG"]
rss_url = "{urls["arxiv_rss"]}"
api_url = "{urls["arxiv_api"]}"
min_interval = 0.0

[sources.huggingface]
base_url = "{urls["huggingface"]}"
min_interval = 0.0

[sources.hackernews]
base_url = "{urls["hackernews"]}"
min_interval = 0.0

[sources.x]
base_url = "{x_url}"
min_interval = 0.0

[sources.bluesky]
base_url = "http://127.0.0.1:9"   # never contacted: no handle or app password

[sources.mastodon]
instances = ["{mastodon_url}"]
min_interval = 0.0
"""
    )
    return path


@contextlib.asynccontextmanager
async def servers(tmp_path: Path):
    """The fakes, running, and a config file pointing every source at them."""
    fake = FakeSources()
    fake.add_papers(papers())
    fake.rss_day = dt.date(2024, 5, 2)
    fake.hf_daily["2024-05-03"] = [
        daily_item("2405.00003", upvotes=4, github="https://github.com/quiet/paper")
    ]
    fake.hn_hits.append(
        story_hit(
            40000001,
            "https://arxiv.org/abs/2405.00001v1",
            created=dt.datetime(2024, 5, 2, 12, 0, tzinfo=dt.UTC),
            points=25,
        )
    )
    x = FakeX(tweets(), now=NOW)
    mastodon = FakeMastodon(
        [trend_link("https://arxiv.org/abs/2405.00002", {dt.date(2024, 5, 2): (9, 7)})]
    )
    async with fake, serve(x.app()) as x_url, serve(mastodon.app()) as m_url:
        config = write_config(tmp_path, fake, x_url, m_url)
        yield SimpleNamespace(fake=fake, x=x, mastodon=mastodon, config=str(config))


async def hotpapers(*argv: str) -> int:
    """The real entry point, in a thread (it runs its own event loop, the fakes run in ours)."""
    return await asyncio.to_thread(cli.main, list(argv), lambda: NOW)


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    monkeypatch.setenv(ENV_X_BEARER, BEARER)
    monkeypatch.delenv("HOTPAPERS_BLUESKY_APP_PASSWORD", raising=False)
    monkeypatch.delenv("HOTPAPERS_CONFIG", raising=False)


async def test_rank_then_digest_end_to_end(tmp_path, capsys):
    async with servers(tmp_path) as env:
        config = env.config
        assert await hotpapers("--config", config, "rank", DAY) == 0
        out, err = capsys.readouterr()
        lines = out.splitlines()
        assert lines[0] == f"Hot Papers {DAY}: 3 papers"
        assert lines[1] == "  1. Vision Paper"
        assert "cs.CV cs.LG · https://arxiv.org/abs/2405.00001" in lines[2]
        assert lines[3].strip() == (
            "score 150 = x 100 (retweets 30 + likes 70) + hackernews 2×25 (points 25)"
        )
        assert lines[4] == "  2. Language Paper"
        assert lines[6].strip() == (
            "score 24 = x 15 (retweets 1 + likes 14) + mastodon 9 (shares 9)"
        )
        # the API's listing of the day carries the metadata: one arXiv request in all
        assert lines[9].strip() == "score 20 = huggingface 5×4 (upvotes 4)"
        assert "requests: arxiv 1, hackernews 1, huggingface 2, mastodon 1, x 1;" in out
        assert "skipped: bluesky (no sources.bluesky.handle in the config)" in out
        assert "PARTIAL" not in out
        assert "hotpapers: x: done" in err and "hotpapers: bluesky: skipped" in err
        assert env.fake.count("arxiv") == 1 and env.x.hits["search"] == 1

        # digest of a stored, complete day: no request at all
        before = (env.fake.count("arxiv"), env.x.hits["search"])
        code = await hotpapers("--config", config, "digest", DAY, "--category", "cs.CL")
        assert code == 0
        out, _ = capsys.readouterr()
        lines = out.splitlines()
        assert lines[0] == f"Hot Papers {DAY} in cs.CL: 1 of 3 papers"
        assert lines[1].split() == ["#", "score", "counts", "title", "categories", "link"]
        assert lines[2].split("  ")[0] == "2"  # the day's overall rank
        assert "mastodon 9 shares, x 1 retweets 14 likes" in lines[2]
        assert lines[2].endswith("Language Paper  cs.CL       https://arxiv.org/abs/2405.00002")
        assert len(lines) == 3
        assert (env.fake.count("arxiv"), env.x.hits["search"]) == before

    store = Store.open(tmp_path / "hp.db")
    try:
        runs = {r.source: (r.status, r.requests) for r in store.source_runs(dt.date(2024, 5, 2))}
    finally:
        store.close()
    assert runs["x"] == ("ok", 1) and runs["bluesky"] == ("skipped", 0)


async def test_source_down_partial_then_digest_retries(tmp_path, capsys):
    async with servers(tmp_path) as env:
        config = env.config
        env.x.fail("search", status=503, times=2)  # the first attempt and its one retry
        assert await hotpapers("--config", config, "rank", DAY) == 0
        out, _ = capsys.readouterr()
        assert out.splitlines()[0] == f"Hot Papers {DAY}: 3 papers (PARTIAL: x failed)"
        assert "score 50 = hackernews 2×25 (points 25)" in out
        assert "failed: x (" in out

        # digest re-ranks a partial day; X is back, so the day is complete now
        assert await hotpapers("--config", config, "digest", DAY, "--top", "1") == 0
        out, err = capsys.readouterr()
        lines = out.splitlines()
        assert lines[0] == f"Hot Papers {DAY}: 1 of 3 papers"
        assert "hackernews 25 points, x 30 retweets 70 likes  Vision Paper" in lines[2]
        assert lines[2].split()[:2] == ["1", "150"]
        assert "PARTIAL" not in out
        assert "requests: arxiv" in err


async def test_weekend_digest_is_empty_without_requests(tmp_path, capsys):
    async with servers(tmp_path) as env:
        config = env.config
        assert await hotpapers("--config", config, "digest", "2024-04-27") == 0
        out, _ = capsys.readouterr()
        assert out.splitlines() == [
            "Hot Papers 2024-04-27: 0 of 0 papers",
            "  (no papers)",
            "(weekend: nothing announced)",
        ]
        assert env.fake.requests == [] and env.x.hits["search"] == 0


async def test_bad_date_is_one_line_error(tmp_path, capsys):
    async with servers(tmp_path) as env:
        config = env.config
        assert await hotpapers("--config", config, "rank", "2024-13-01") == 1
        assert await hotpapers("--config", config, "digest", "tomorrow") == 1
        _, err = capsys.readouterr()
        assert "hotpapers rank: '2024-13-01' is not a valid date" in err
        assert "hotpapers digest: 'tomorrow' is not a date" in err
        assert await hotpapers("--config", config, "digest", DAY, "--category", "cs.CVV") == 1
        _, err = capsys.readouterr()
        assert "unknown arXiv category 'cs.CVV' (did you mean cs.CV?)" in err
        assert env.fake.requests == []  # nothing was ranked for a bad argument
