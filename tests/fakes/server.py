"""Loopback fake servers: start an aiohttp app on 127.0.0.1, and script failures per endpoint.

    async with serve(fake.app()) as base_url:   # e.g. "http://127.0.0.1:41234"
        ...

`Failures` is a mixin for fakes: `fake.fail("search", status=429, headers={"Retry-After": "1"})`
queues a failure that the endpoint named "search" serves on its next request (FIFO, `times`
copies, after `after` normal answers); `status=200` with a `body` serves a malformed answer;
`hang=True` never answers (a client timeout).

Timeouts without racing the clock: a fake that wants a request to time out calls `hang(request)`
and never answers it (until the server closes), so the client's timeout is certain to fire
however loaded the machine is: no "answer after 1 s, time out after 0.3 s" race, and normal
answers can have a generous timeout. A client whose transport is `TimeoutOnHang()` does not even
wait for its timeout: the moment the server starts hanging its request, it raises the
httpx.ReadTimeout that httpx raises when the timeout expires (`hang_client(config)`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.config import Config
from bot.http import SourceContext, make_client

HANG_HEADER = "X-Fake-Request"  # set by TimeoutOnHang: which client request this is
_request_ids = itertools.count(1)
_deadlines: dict[str, asyncio.Timeout] = {}  # client request id -> its deadline
_hanging: set[asyncio.Future[None]] = set()  # hung server handlers, released at close


async def hang(request: web.Request) -> None:
    """Never answer `request` (until `release_hangs()`, when the server closes): the client
    times out. A TimeoutOnHang client is told at once instead of waiting for its timeout."""
    loop = asyncio.get_running_loop()
    released: asyncio.Future[None] = loop.create_future()
    _hanging.add(released)
    deadline = _deadlines.get(request.headers.get(HANG_HEADER, ""))
    if deadline is not None:
        deadline.reschedule(loop.time())  # the client's timeout expires now
    try:
        await released
    finally:
        _hanging.discard(released)


def release_hangs() -> None:
    """Let every hung handler of this event loop finish (a closing server does not wait for
    them); forget any left by an earlier test's loop (closed with its test)."""
    loop = asyncio.get_running_loop()
    for released in list(_hanging):
        if released.get_loop() is not loop:
            _hanging.discard(released)
        elif not released.done():
            released.set_result(None)


class TimeoutOnHang(httpx.AsyncBaseTransport):
    """The real HTTP transport, except that a request the fake server hangs (see `hang`) fails
    at once with httpx.ReadTimeout, exactly as it would once the client's timeout expired."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = str(next(_request_ids))
        request.headers[HANG_HEADER] = key
        try:
            async with asyncio.timeout(None) as deadline:
                _deadlines[key] = deadline
                return await self.inner.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("the server never answered", request=request) from None
        finally:
            _deadlines.pop(key, None)

    async def aclose(self) -> None:
        await self.inner.aclose()


def hang_client(config: Config) -> httpx.AsyncClient:
    """`make_client(config)` whose requests fail at once when a fake hangs them."""
    return make_client(config, transport=TimeoutOnHang())


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1 (a free port) and yield its base URL (no trailing slash)."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        release_hangs()
        await server.close()


@dataclass
class Failure:
    """One scripted answer that replaces an endpoint's normal one."""

    status: int = 503
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer: the client times out
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
        hang: bool = False,
        times: int = 1,
        content_type: str = "application/json",
        after: int = 0,
    ) -> None:
        """Serve this failure on `times` requests to `endpoint`, after `after` normal ones."""
        queue = self.failures.setdefault(endpoint, deque())
        queue.append(Failure(status, body, dict(headers or {}), hang, content_type, after))
        queue.extend(
            Failure(status, body, dict(headers or {}), hang, content_type) for _ in range(times - 1)
        )

    async def scripted(self, endpoint: str, request: web.Request) -> web.Response | None:
        """Count a request to `endpoint`; return its next scripted failure, if any (a hung
        request returns only when the server closes)."""
        self.hits[endpoint] += 1
        queue = self.failures.get(endpoint)
        if not queue:
            return None
        if queue[0].after > 0:
            queue[0].after -= 1
            return None
        failure = queue.popleft()
        if failure.hang:
            await hang(request)
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
    ctx = SourceContext.from_config(config, hang_client(config), **kwargs)
    try:
        yield ctx
    finally:
        await ctx.aclose()
