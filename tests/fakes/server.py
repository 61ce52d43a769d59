"""Loopback fake servers: start an aiohttp app on 127.0.0.1, and script failures per endpoint.

    async with serve(fake.app()) as base_url:   # e.g. "http://127.0.0.1:41234"
        ...

`Failures` is a mixin for fakes: `fake.fail("search", status=429, headers={"Retry-After": "1"})`
queues a failure that the endpoint named "search" serves on its next request (FIFO, `times`
copies, after `after` normal answers); `status=200` with a `body` serves a malformed answer;
`delay` seconds of sleep before answering provoke client timeouts.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.config import Config
from bot.http import SourceContext


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1 (a free port) and yield its base URL (no trailing slash)."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@dataclass
class Failure:
    """One scripted answer that replaces an endpoint's normal one."""

    status: int = 503
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (longer than the client timeout)
    content_type: str = "application/json"
    after: int = 0  # normal answers to serve first


class Failures:
    """Scripted failures per endpoint name, and a request count per endpoint name."""

    def __init__(self) -> None:
        self.failures: dict[str, deque[Failure]] = {}
        self.hits: Counter[str] = Counter()

    def fail(
        self,
        endpoint: str,
        status: int = 503,
        *,
        body: str = "",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
        content_type: str = "application/json",
        after: int = 0,
    ) -> None:
        """Serve this failure on `times` requests to `endpoint`, after `after` normal ones."""
        queue = self.failures.setdefault(endpoint, deque())
        queue.append(Failure(status, body, dict(headers or {}), delay, content_type, after))
        queue.extend(
            Failure(status, body, dict(headers or {}), delay, content_type)
            for _ in range(times - 1)
        )

    async def scripted(self, endpoint: str) -> web.Response | None:
        """Count a request to `endpoint`; return its next scripted failure, if any."""
        self.hits[endpoint] += 1
        queue = self.failures.get(endpoint)
        if not queue:
            return None
        if queue[0].after > 0:
            queue[0].after -= 1
            return None
        failure = queue.popleft()
        if failure.delay:
            await asyncio.sleep(failure.delay)
        return web.Response(
            status=failure.status,
            text=failure.body,
            headers=failure.headers,
            content_type=failure.content_type,
        )


class SleepLog:
    """An injected sleep that returns at once and records every wait (for retry assertions)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@asynccontextmanager
async def source_context(config: Config, **kwargs: Any) -> AsyncIterator[SourceContext]:
    """A SourceContext for `config` whose sleeps are recorded, not waited (`ctx.sleep.waits`)."""
    kwargs.setdefault("sleep", SleepLog())
    kwargs.setdefault("backoff_base", 0.01)
    ctx = SourceContext.from_config(config, **kwargs)
    try:
        yield ctx
    finally:
        await ctx.aclose()
