"""Proactive pacing for Discord: one global request pacer and per-channel bucket awareness.

discord.py reacts to 429s but never paces itself; a fan-out to thousands of channels would
hit Discord's global limit (50 requests/s) at once. `GlobalPacer` spaces request starts
evenly (GCRA / virtual scheduling: each caller reserves the next free slot, so thousands of
waiters cost one timer each and no polling), and can be held shut until a global 429 is over.
`ChannelBuckets` remembers each channel's `X-RateLimit-Remaining` / `Reset-After` and makes
the next post to an exhausted channel wait for its reset instead of earning a 429.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]


class GlobalPacer:
    """At most `rate` request starts per second, shared by every sender (GCRA).

    Callers queue in order (a FIFO lock) and start at their theoretical arrival time (TAT),
    each start pushing it `1/rate` further. A start may come up to `tolerance` early, which
    absorbs timer overshoot (so the long-run rate is exactly `rate`) without allowing bursts:
    after an idle spell or an event-loop stall the TAT restarts from now, so missed slots are
    never made up in a burst that would trip Discord's limit. In any window of W seconds there
    are at most rate*W + 1.25 starts (`burst` > 1 widens the tolerance).
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate
        self.tolerance = self.interval * (0.25 + max(0, burst - 1))
        self.clock = clock
        self.sleep = sleep
        self._tat = float("-inf")
        self._blocked_until = float("-inf")
        self._lock = asyncio.Lock()
        self.waited = 0.0  # total seconds callers spent waiting (a figure for benchmarks)
        self.acquired = 0

    async def acquire(self) -> None:
        """Wait for this caller's turn (FIFO), then count its start."""
        async with self._lock:
            while True:
                now = self.clock()
                tat = max(self._tat, self._blocked_until)
                wait = max(tat - self.tolerance, self._blocked_until) - now
                if wait <= 0:
                    break
                self.waited += wait
                await self.sleep(wait)
            self._tat = max(tat, now) + self.interval
            self.acquired += 1

    def block_for(self, seconds: float) -> None:
        """Hold every start for `seconds` (a global 429 says so)."""
        until = self.clock() + max(0.0, seconds)
        if until > self._blocked_until:
            log.warning("global rate limit: pausing all Discord requests for %.2fs", seconds)
            self._blocked_until = until


class ChannelBuckets:
    """Per-channel rate-limit state learnt from Discord's headers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep):
        self.clock = clock
        self.sleep = sleep
        self._reset_at: dict[int | str, float] = {}  # key -> when an exhausted bucket refills

    async def wait(self, key: int | str) -> None:
        """Wait until the key's bucket has room (returns at once when it has, or is unknown)."""
        reset_at = self._reset_at.get(key)
        if reset_at is None:
            return
        delay = reset_at - self.clock()
        if delay > 0:
            await self.sleep(delay)
        self._reset_at.pop(key, None)

    def update(self, key: int | str, headers: Mapping[str, str]) -> None:
        """Learn from a response: an exhausted bucket (Remaining 0) blocks until its reset."""
        remaining = headers.get("x-ratelimit-remaining")
        reset_after = headers.get("x-ratelimit-reset-after")
        if remaining is None or reset_after is None:
            return
        try:
            exhausted = int(remaining) <= 0
            seconds = float(reset_after)
        except ValueError:
            return
        if exhausted:
            self.block(key, seconds)
        else:
            self._reset_at.pop(key, None)

    def block(self, key: int | str, seconds: float) -> None:
        """The key's bucket is empty for `seconds` (a per-route 429 or Remaining 0)."""
        self._reset_at[key] = max(self._reset_at.get(key, 0.0), self.clock() + seconds)

    def __len__(self) -> int:
        return len(self._reset_at)


class InvalidRequestBudget:
    """Keeps 401/403/429 answers under a budget per window (Discord bans an IP for a while at
    10,000 per 10 minutes): once `limit` were seen in the last `window` seconds, the next
    request waits until the oldest leaves the window. Default: a quarter of Discord's limit."""

    def __init__(
        self,
        limit: int = 2500,
        window: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = max(1, limit)
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self._seen: deque[float] = deque()
        self.waited = 0.0

    def record(self) -> None:
        """Count one 401/403/429 answer."""
        self._seen.append(self.clock())

    async def wait(self) -> None:
        """Return when one more invalid answer would still fit the budget."""
        while True:
            now = self.clock()
            while self._seen and self._seen[0] <= now - self.window:
                self._seen.popleft()
            if len(self._seen) < self.limit:
                return
            delay = self._seen[0] + self.window - now
            log.warning("invalid-request budget spent: holding Discord requests %.0fs", delay)
            self.waited += delay
            await self.sleep(delay)

    def __len__(self) -> int:
        return len(self._seen)
