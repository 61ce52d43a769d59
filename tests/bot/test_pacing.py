"""GlobalPacer spaces request starts; ChannelBuckets waits out exhausted channel buckets."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.pacing import ChannelBuckets, GlobalPacer, InvalidRequestBudget


class ManualTime:
    """A clock whose sleep advances it (so waits are exact and instant)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        GlobalPacer(0)


async def starts_of(pacer: GlobalPacer, t: ManualTime, n: int) -> list[float]:
    starts: list[float] = []

    async def call():
        await pacer.acquire()
        starts.append(t.now)

    await asyncio.gather(*(call() for _ in range(n)))
    return starts


async def test_concurrent_callers_start_in_order_at_the_rate():
    t = ManualTime()
    pacer = GlobalPacer(50, clock=t, sleep=t.sleep)
    starts = await starts_of(pacer, t, 6)
    assert starts == sorted(starts)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g >= 0.02 - pacer.tolerance - 1e-9 for g in gaps)  # early by tolerance at most
    assert starts[-1] - starts[0] == pytest.approx(5 * 0.02 - pacer.tolerance)  # rate exact


async def test_any_window_holds_at_most_rate_plus_one_and_a_quarter():
    t = ManualTime()
    pacer = GlobalPacer(10, clock=t, sleep=t.sleep)
    starts = await starts_of(pacer, t, 60)
    for i, a in enumerate(starts):
        in_window = [b for b in starts[i:] if b - a < 1.0]
        assert len(in_window) <= 11


async def test_burst_allows_quick_starts_after_idle():
    t = ManualTime()
    pacer = GlobalPacer(10, burst=3, clock=t, sleep=t.sleep)
    t.now += 10
    starts = await starts_of(pacer, t, 4)
    assert starts[:3] == [110.0, 110.0, 110.0] and starts[3] > 110.0


async def test_block_for_holds_every_start():
    t = ManualTime()
    pacer = GlobalPacer(100, clock=t, sleep=t.sleep)
    await pacer.acquire()
    pacer.block_for(2.0)
    starts = await starts_of(pacer, t, 2)
    assert starts[0] == pytest.approx(102.0) and starts[1] > starts[0]


async def test_channel_bucket_waits_until_reset_only_when_exhausted():
    t = ManualTime()
    buckets = ChannelBuckets(clock=t, sleep=t.sleep)
    await buckets.wait(1)
    buckets.update(1, {"x-ratelimit-remaining": "2", "x-ratelimit-reset-after": "5.0"})
    await buckets.wait(1)
    assert t.sleeps == []
    buckets.update(1, {"x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "4.5"})
    await buckets.wait(2)  # other channels are not held
    await buckets.wait(1)
    assert t.sleeps == [4.5]
    buckets.update(1, {"x-ratelimit-remaining": "x", "x-ratelimit-reset-after": "1"})
    buckets.block(3, 1.5)
    await buckets.wait(3)
    assert t.sleeps == [4.5, 1.5] and len(buckets) == 0


async def test_a_stall_is_not_made_up_in_a_burst():
    t = ManualTime()
    pacer = GlobalPacer(10, clock=t, sleep=t.sleep)
    await starts_of(pacer, t, 5)
    t.now += 5  # the event loop stalls for five seconds
    starts = await starts_of(pacer, t, 4)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g >= 0.05 - 1e-9 for g in gaps)


async def test_invalid_request_budget_holds_requests_once_spent():
    t = ManualTime()
    budget = InvalidRequestBudget(limit=3, window=600, clock=t, sleep=t.sleep)
    for _ in range(3):
        await budget.wait()
        budget.record()
        t.now += 1
    await budget.wait()  # three in the window: wait for the oldest to age out
    assert t.now == pytest.approx(700.0) and len(budget) == 2
