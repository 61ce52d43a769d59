"""Fixtures for source tests: the loopback fake server and a SourceContext that never waits."""

from __future__ import annotations

import pytest

from bot.http import SourceContext
from tests.fakes.clock import FakeTime
from tests.fakes.server import hang_client
from tests.fakes.sources import FakeSources


@pytest.fixture
async def fake():
    async with FakeSources() as server:
        yield server


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def make_ctx(fake: FakeSources, fake_time: FakeTime):
    """make_ctx(**http_overrides) -> (SourceContext, Config) pointed at the fake server."""
    made: list[SourceContext] = []

    def make(config=None, **http):
        config = config or fake.config(**http)
        ctx = SourceContext(
            client=hang_client(config),
            settings=config.http,
            sleep=fake_time.sleep,
            clock=fake_time.clock,
        )
        made.append(ctx)
        return ctx, config

    yield make
    for ctx in made:
        await ctx.aclose()
