"""GlobalPacer spaces request starts; ChannelBuckets waits out exhausted channel buckets."""

from __future__ import annotations

import asyncio

import pytest

from bot.pacing import ChannelBuckets, GlobalPacer


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


async def test_slots_are_evenly_spaced():
    t = ManualTime()
    pacer = GlobalPacer(50, clock=t, sleep=t.sleep)
    delays = [pacer.reserve() for _ in range(5)]
    assert delays == pytest.approx([0, 0.02, 0.04, 0.06, 0.08])


async def test_concurrent_callers_never_exceed_the_rate():
    t = ManualTime()
    pacer = GlobalPacer(10, clock=t, sleep=t.sleep)
    starts: list[float] = []

    async def call():
        await pacer.acquire()
        starts.append(t.now)

    await asyncio.gather(*(call() for _ in range(30)))
    starts.sort()
    for a, b in zip(starts, starts[10:], strict=False):
        assert b - a >= 1.0 - 1e-9  # any 11 consecutive starts span at least a second


async def test_burst_allows_immediate_starts_then_paces():
    t = ManualTime()
    pacer = GlobalPacer(10, burst=3, clock=t, sleep=t.sleep)
    t.now += 10  # idle for a while
    delays = [pacer.reserve() for _ in range(5)]
    assert delays[:3] == [0, 0, 0] and delays[3] > 0


async def test_block_for_holds_every_slot():
    t = ManualTime()
    pacer = GlobalPacer(100, clock=t, sleep=t.sleep)
    pacer.reserve()
    pacer.block_for(2.0)
    assert pacer.reserve() == pytest.approx(2.0)
    assert pacer.reserve() == pytest.approx(2.01)


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
