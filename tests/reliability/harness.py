"""Every source on loopback at once, the real job and scheduler on top, and a fake clock.

`World` starts the fakes (arXiv + Hugging Face + Hacker News on one server, Bluesky, X and
Mastodon on their own), builds a Config pointing every source at them with tiny rate-limit
intervals, and makes `JobDeps` with the real sources and a `SourceContext` whose sleeps only
advance the fake clock. `outage(source, until)` makes a source fail until the fake clock
passes `until`, the way it fails in life:

- "arxiv": 503 with Retry-After (the seconds left), on the RSS feed and the API;
- "huggingface": answers too late (the client times out);
- "hackernews": 200 with a truncated, malformed JSON body;
- "bluesky": createSession answers 401 AuthenticationRequired (a revoked app password);
- "x": 401 for the bearer token; "mastodon": 503 on every instance.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from aiohttp import web

from bot.config import Config, Secrets
from bot.http import SourceContext
from bot.jobs import JobDeps
from bot.sources.arxiv import ArxivSource
from bot.sources.bluesky import BlueskySource
from bot.sources.hackernews import HackerNewsSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.mastodon import MastodonSource
from bot.sources.x import XSource
from bot.store import Store
from tests.fakes import bluesky as fake_bluesky
from tests.fakes import x as fake_x
from tests.fakes.arxiv import FakePaper, many_papers
from tests.fakes.bluesky import FakeBluesky, post_view
from tests.fakes.hackernews import story_hit
from tests.fakes.huggingface import daily_item
from tests.fakes.mastodon import FakeMastodon, trend_link
from tests.fakes.server import hang, hang_client, serve
from tests.fakes.sources import FakeSources
from tests.fakes.x import FakeX, tweet

DAY = dt.date(2024, 5, 2)  # a Thursday
DUE = dt.datetime(2024, 5, 3, 9, 0, tzinfo=dt.UTC)  # DAY's ranking time (09:00 UTC, D+1)
OLD_PAPER = "2404.09999"  # linked on HN in DAY's window, but not announced on DAY

# Who talks about which paper (and how much) when every source works.
EXPECTED = {
    "2405.00001": {"huggingface", "hackernews", "x"},
    "2405.00002": {"huggingface", "bluesky"},
    "2405.00003": {"huggingface"},
    "2405.00004": {"bluesky"},
    "2405.00005": {"mastodon"},
}
SOURCES = ("arxiv", "huggingface", "hackernews", "bluesky", "x", "mastodon")


class FakeNow:
    """A settable UTC clock (a `Clock`); `monotonic` and `sleep` follow it for the limiter."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta

    def monotonic(self) -> float:
        return self.now.timestamp()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += dt.timedelta(seconds=seconds)
        await asyncio.sleep(0)


class _Outages:
    def __init__(self, clock: FakeNow) -> None:
        self.clock = clock
        self.until: dict[str, dt.datetime] = {}

    def down(self, source: str) -> float | None:
        """Seconds left of source's outage, or None when it works."""
        end = self.until.get(source)
        if end is None or self.clock() >= end:
            return None
        return (end - self.clock()).total_seconds()


class OutageSources(FakeSources):
    """FakeSources whose arXiv, Hugging Face and Hacker News fail during scripted outages."""

    def __init__(self, outages: _Outages) -> None:
        super().__init__()
        self.outages = outages

    async def _scripted(self, key: str, request: web.Request) -> web.Response | None:
        general = key.split("_")[0]
        left = self.outages.down(general)
        if left is None:
            return await super()._scripted(key, request)
        self.requests.append((key, request.path_qs))
        if general == "arxiv":
            return web.Response(
                status=503,
                text="Service Unavailable: arXiv is being maintained",
                headers={"Retry-After": str(int(left) + 1)},
            )
        if general == "huggingface":
            await hang(request)  # no answer: the client times out (at once, see hang_client)
            return None
        return web.Response(  # hackernews
            status=200,
            text='{"hits": [{"objectID": "1", "url": "https://arx',
            content_type="application/json",
        )


class OutageBluesky(FakeBluesky):
    """FakeBluesky whose createSession rejects the app password during an outage."""

    def __init__(self, outages: _Outages, **kw: Any) -> None:
        super().__init__(**kw)
        self.outages = outages

    async def create_session(self, request: web.Request) -> web.Response:
        if self.outages.down("bluesky") is not None:
            self.hits["createSession"] += 1
            return web.json_response(
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                status=401,
            )
        return await super().create_session(request)


class OutageX(FakeX):
    """FakeX that follows the fake clock and rejects the bearer token during an outage."""

    def __init__(self, outages: _Outages, **kw: Any) -> None:
        super().__init__(**kw)
        self.outages = outages
        self.echo_token_403 = False  # answer 403 quoting the Authorization header back

    @property  # type: ignore[override]
    def now(self) -> dt.datetime:
        return self.outages.clock()

    @now.setter
    def now(self, value: dt.datetime) -> None:
        pass

    async def search(self, request: web.Request) -> web.Response:
        if self.echo_token_403:
            self.hits["search"] += 1
            auth = request.headers.get("Authorization")
            return web.json_response(
                {"title": "Forbidden", "detail": f"{auth} may not use this endpoint"}, status=403
            )
        if self.outages.down("x") is not None:
            self.hits["search"] += 1
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        return await super().search(request)


class OutageMastodon(FakeMastodon):
    def __init__(self, outages: _Outages, **kw: Any) -> None:
        super().__init__(**kw)
        self.outages = outages

    async def trending_links(self, request: web.Request) -> web.Response:
        if self.outages.down("mastodon") is not None:
            self.hits["links"] += 1
            return web.Response(status=503, text="Service Unavailable")
        return await super().trending_links(request)


def day_papers() -> list[FakePaper]:
    return many_papers(5, prefix="2405", categories=("cs.CV", "cs.LG"))


@dataclasses.dataclass
class World:
    """All fakes, running; `deps(store)` gives JobDeps with the real sources."""

    clock: FakeNow
    outages: _Outages
    arxiv_etc: OutageSources
    bluesky: OutageBluesky
    x: OutageX
    mastodon: OutageMastodon
    config: Config
    ctx: SourceContext

    def outage(self, source: str, until: dt.datetime) -> None:
        self.outages.until[source] = until

    def deps(self, store: Store, **kw: Any) -> JobDeps:
        config, ctx = self.config, self.ctx
        return JobDeps(
            config=config,
            store=store,
            arxiv=ArxivSource(ctx, config.sources.arxiv),
            sources=[
                HuggingFaceSource(ctx, config.sources.huggingface),
                HackerNewsSource(ctx, config.sources.hackernews),
                BlueskySource(config, ctx),
                XSource(config, ctx),
                MastodonSource(config, ctx),
            ],
            requests=ctx.counter,
            **kw,
        )


def _populate(world: World) -> None:
    fake = world.arxiv_etc
    fake.rss_day = DAY
    fake.add_papers(day_papers())
    fake.add_papers(
        [
            FakePaper(
                OLD_PAPER,
                title="An older paper",
                submitted=dt.datetime(2024, 4, 20, tzinfo=dt.UTC),
            )
        ],
        listed=False,
    )
    fake.hf_daily["2024-05-02"] = [
        daily_item("2405.00001", upvotes=50, title="Paper number 1"),
        daily_item("2405.00002", upvotes=5, title="Paper number 2"),
    ]
    fake.hf_daily["2024-05-03"] = [daily_item("2405.00003", upvotes=7, title="Paper number 3")]
    morning = dt.datetime(2024, 5, 2, 10, tzinfo=dt.UTC)
    fake.hn_hits += [
        story_hit(101, "https://arxiv.org/abs/2405.00001v1", created=morning, points=120),
        story_hit(102, f"https://arxiv.org/pdf/{OLD_PAPER}", created=morning, points=30),
    ]
    world.bluesky.posts += [
        post_view("3kaaa", links=["https://arxiv.org/abs/2405.00002"], likes=10, reposts=3),
        post_view("3kbbb", external="https://arxiv.org/abs/2405.00004", likes=4),
    ]
    world.x.tweets.append(
        tweet(
            "1786000000000000001", urls=["https://arxiv.org/abs/2405.00001"], retweets=6, likes=40
        )
    )
    world.mastodon.links.append(
        trend_link("https://arxiv.org/abs/2405.00005", {DAY: (12, 9)}, today=DUE.date())
    )


def _config(world_urls: dict[str, str], fake: FakeSources, secrets: Secrets) -> Config:
    base = fake.config(max_retries=2, max_retry_wait=30.0)
    s = base.sources
    sources = dataclasses.replace(
        s,
        arxiv=dataclasses.replace(s.arxiv, categories=["cs.CV", "cs.LG"], min_interval=0.01),
        huggingface=dataclasses.replace(s.huggingface, min_interval=0.01),
        hackernews=dataclasses.replace(s.hackernews, min_interval=0.01),
        bluesky=dataclasses.replace(
            s.bluesky,
            base_url=world_urls["bluesky"],
            handle=fake_bluesky.HANDLE,
            min_interval=0.01,
        ),
        x=dataclasses.replace(s.x, base_url=world_urls["x"], min_interval=0.01),
        mastodon=dataclasses.replace(
            s.mastodon, instances=[world_urls["mastodon"]], min_interval=0.01
        ),
    )
    schedule = dataclasses.replace(base.schedule, catch_up_days=1)
    return dataclasses.replace(base, sources=sources, schedule=schedule, secrets=secrets)


DEFAULT_SECRETS = Secrets(
    discord_token=None,
    bluesky_password=fake_bluesky.PASSWORD,
    x_bearer_token=fake_x.BEARER,
)


@asynccontextmanager
async def running_world(
    *,
    secrets: Secrets = DEFAULT_SECRETS,
    bluesky_password: str = fake_bluesky.PASSWORD,
    bearer: str = fake_x.BEARER,
) -> AsyncIterator[World]:
    """Every fake running, and a World at DUE (secrets: the fakes' own, unless given)."""
    async with AsyncExitStack() as stack:
        clock = FakeNow(DUE)
        outages = _Outages(clock)
        fake = await stack.enter_async_context(OutageSources(outages))
        bsky = OutageBluesky(outages, password=bluesky_password)
        x = OutageX(outages, bearer=bearer)
        masto = OutageMastodon(outages)
        urls = {
            "bluesky": await stack.enter_async_context(serve(bsky.app())),
            "x": await stack.enter_async_context(serve(x.app())),
            "mastodon": await stack.enter_async_context(serve(masto.app())),
        }
        config = _config(urls, fake, secrets)
        ctx = SourceContext(
            client=hang_client(config),
            settings=config.http,
            sleep=clock.sleep,
            clock=clock.monotonic,
            now=clock,
            backoff_base=0.01,
        )
        stack.push_async_callback(ctx.aclose)
        world = World(clock, outages, fake, bsky, x, masto, config, ctx)
        _populate(world)
        yield world
