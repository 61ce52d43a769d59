"""Fake monotonic clocks: sleeps advance them instead of waiting."""

from __future__ import annotations

import asyncio

import httpx


class FakeTime:
    """Pass `.clock` and `.sleep` to RateLimiter/SourceContext; read `.sleeps` afterwards."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


class LockstepTime(FakeTime):
    """A virtual clock shared by a client and a loopback fake server: it moves only when the
    client sleeps, and only once none of its requests is in flight. The server therefore sees
    each request at exactly the virtual time the client started it, free of the scheduling
    jitter that makes real arrival times bunch up on a loaded machine.

    Send the client's requests through `.transport()` so that they are counted.
    """

    def __init__(self, start: float = 1000.0) -> None:
        super().__init__(start)
        self.inflight = 0
        self._settled = asyncio.Condition()

    async def sleep(self, seconds: float) -> None:
        async with self._settled:
            await self._settled.wait_for(lambda: self.inflight == 0)
        await super().sleep(seconds)

    def transport(self, inner: httpx.AsyncBaseTransport | None = None) -> _Counted:
        return _Counted(self, inner or httpx.AsyncHTTPTransport())


class _Counted(httpx.AsyncBaseTransport):
    def __init__(self, time: LockstepTime, inner: httpx.AsyncBaseTransport) -> None:
        self.time = time
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.time.inflight += 1
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.time.inflight -= 1
            async with self.time._settled:
                self.time._settled.notify_all()

    async def aclose(self) -> None:
        await self.inner.aclose()
