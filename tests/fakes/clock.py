"""A fake monotonic clock whose sleep records the wait and advances the clock (no real waits)."""

from __future__ import annotations


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
