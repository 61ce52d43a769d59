"""The outbox against the fake Discord: exactly once through crashes, 429 storms, 5xx and lost
channels; global pacing; webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import httpx
import pytest

from bot.delivery import (
    DiscordPoster,
    Outbox,
    RetryPolicy,
    message_payload,
    part_nonce,
    post_webhook,
)
from bot.errors import ChannelUnavailable, DiscordUnauthorized
from bot.models import Subscription
from bot.pacing import GlobalPacer
from bot.store import Store, delivery_nonce
from tests.fakes.clock import LockstepTime
from tests.fakes.discord import FakeDiscord, Faults

TOKEN = "fake-bot-token"
DAY = dt.date(2021, 8, 3)
NOW = dt.datetime(2021, 8, 4, 9, 0, tzinfo=dt.UTC)
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.01, retry_later=60)


def digest(channel_id: int, parts: int = 3) -> list[dict]:
    return [
        {
            "content": f"Hot Papers {DAY} @everyone ({i + 1}/{parts})",
            "embeds": [{"title": f"paper {channel_id}-{i}", "description": "x" * 300}],
        }
        for i in range(parts)
    ]


def build(parts: int = 3):
    return lambda row, sub: digest(sub.channel_id, parts)


def subscribe(store: Store, channel_ids, webhook_url=None) -> None:
    for cid in channel_ids:
        sub = store.save_subscription(
            Subscription(id=None, guild_id=1, channel_id=cid, webhook_url=webhook_url), NOW
        )
        store.enqueue_delivery(sub, DAY, NOW)


def poster_for(fake: FakeDiscord, client: httpx.AsyncClient, rate: float = 10_000, **kw):
    return DiscordPoster(
        client,
        api_base=fake.api_url,
        token=kw.pop("token", TOKEN),
        pacer=kw.pop("pacer", None) or GlobalPacer(rate),
        policy=kw.pop("policy", FAST),
        **kw,
    )


def assert_exactly_once(fake: FakeDiscord, store: Store, channel_ids, parts: int = 3) -> None:
    """Every channel has its digest's parts once each, in order, and the row says so."""
    for cid in channel_ids:
        posted = fake.posted(cid)
        assert [m["content"] for m in posted] == [m["content"] for m in digest(cid, parts)], cid
        sub = store.subscription_for_channel(cid)
        row = store.get_delivery(sub.id, DAY)
        assert row.status == "sent" and row.sent_at is not None
        assert list(row.message_ids) == [int(m["id"]) for m in posted]


@pytest.fixture
async def fake():
    async with FakeDiscord(token=TOKEN) as f:
        yield f


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


@pytest.fixture
def mem_store():
    s = Store.memory()
    yield s
    s.close()


# -- payloads ---------------------------------------------------------------------------------


def test_part_nonces_are_deterministic_and_short():
    nonce = delivery_nonce(10**12, DAY)
    parts = [part_nonce(nonce, i) for i in range(12)]
    assert len(set(parts)) == 12 and all(len(p) <= 25 for p in parts)
    assert part_nonce(nonce, 3) == part_nonce(nonce, 3)


def test_payload_never_pings_and_carries_the_nonce():
    body = message_payload(
        {
            "content": "hi @everyone",
            "embeds": [{"title": "t"}],
            "allowed_mentions": {"parse": ["everyone"]},
        },
        "hp1d20210803p0",
    )
    assert body["allowed_mentions"] == {"parse": []}
    assert body["nonce"] == "hp1d20210803p0" and body["enforce_nonce"] is True
    with pytest.raises(ValueError):
        message_payload({"content": "x"}, "n" * 26)


def test_payload_from_render_message():
    render = pytest.importorskip("bot.render")
    msg = render.Message(content="head", embeds=({"title": "a"},))
    body = message_payload(msg, "abc")
    assert body["content"] == "head" and body["embeds"] == [{"title": "a"}]
    assert body["allowed_mentions"] == {"parse": []} and body["nonce"] == "abc"


# -- the happy path ---------------------------------------------------------------------------


async def test_each_digest_is_posted_once_in_rank_order(fake, client, mem_store):
    channels = [101, 102, 103]
    subscribe(mem_store, channels)
    outbox = Outbox(mem_store, poster_for(fake, client), clock=lambda: NOW)
    report = await outbox.run_due(build(), NOW)
    assert (report.sent, report.messages) == (3, 9)
    assert_exactly_once(fake, mem_store, channels)
    for cid in channels:
        nonce = delivery_nonce(mem_store.subscription_for_channel(cid).id, DAY)
        for i, m in enumerate(fake.posted(cid)):
            assert m["nonce"] == part_nonce(nonce, i) == f"{nonce}p{i}"
            assert m["_allowed_mentions"] == {"parse": []}
    before = len(fake.requests)
    again = await outbox.run_due(build(), NOW)
    assert again.sent == 0 and len(fake.requests) == before  # nothing pending, nothing sent


async def test_nothing_to_post_and_paused_subscriptions_are_skipped(fake, client, mem_store):
    subscribe(mem_store, [201, 202])
    sub = mem_store.subscription_for_channel(202)
    mem_store.set_subscription_state(sub.id, "paused", "by a moderator")
    outbox = Outbox(mem_store, poster_for(fake, client), clock=lambda: NOW)
    report = await outbox.run_due(lambda row, s: [], NOW)
    assert report.skipped == 2 and fake.requests == []
    assert mem_store.get_delivery(sub.id, DAY).error == "subscription paused"


# -- crashes and restarts ---------------------------------------------------------------------


class SimulatedCrash(BaseException):
    """The process dies (not an Exception: nothing may catch it)."""


class CrashAfter(httpx.AsyncBaseTransport):
    """Passes requests through; after the n-th response arrives the process 'dies'
    (Discord accepted the message, the bot never recorded it)."""

    def __init__(self, n: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.n = n
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.count += 1
        if self.count == self.n:
            await response.aread()
            raise SimulatedCrash
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_crash_after_any_request_neither_duplicates_nor_skips(client):
    channels = list(range(301, 309))
    total = len(channels) * 3
    prevented = 0
    for crash_at in range(1, total + 1, 2):
        store = Store.memory()
        subscribe(store, channels)
        async with (
            FakeDiscord(token=TOKEN) as fake,
            httpx.AsyncClient(transport=CrashAfter(crash_at)) as crashing,
        ):
            outbox = Outbox(store, poster_for(fake, crashing), clock=lambda: NOW, concurrency=4)
            with pytest.raises(BaseExceptionGroup) as died:
                await outbox.run_due(build(), NOW)
            assert died.group_contains(SimulatedCrash)
            assert sum(len(fake.posted(c)) for c in channels) <= total
            restarted = Outbox(store, poster_for(fake, client), clock=lambda: NOW)
            await restarted.run_due(build(), NOW)
            assert_exactly_once(fake, store, channels)
            prevented += fake.duplicates_prevented
        store.close()
    assert prevented >= total // 2  # the nonce caught the parts sent but never recorded


class CancelAt(httpx.AsyncBaseTransport):
    """Passes requests through and, at the n-th request, cancels the `target` task (the whole
    run): before sending it (Discord never sees it) or after Discord answered (the message
    exists, the bot never records it). Deterministic: no timing decides where it lands."""

    def __init__(self, n: int, *, after: bool) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.n = n
        self.after = after
        self.count = 0
        self.target: asyncio.Task | None = None
        self.hit = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.count == self.n and not self.after:
            await self._cancel()
        response = await self.inner.handle_async_request(request)
        if self.count == self.n and self.after:
            await response.aread()
            await self._cancel()
        return response

    async def _cancel(self) -> None:
        assert self.target is not None
        self.hit = True
        self.target.cancel()
        await asyncio.Event().wait()  # this request's task is cancelled here with the run

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_cancelled_between_messages_resumes_at_the_next_part(client, mem_store):
    channels = [401, 402, 403, 404]
    subscribe(mem_store, channels)
    async with FakeDiscord(token=TOKEN, channel_window=0.1) as fake:
        hits = await cancel_repeatedly_then_finish(fake, client, mem_store, channels)
    assert hits == 5


async def cancel_repeatedly_then_finish(fake, client, mem_store, channels) -> int:
    """Cancel five runs at chosen requests (before sending, after the answer), then finish."""
    hits = answered = 0
    for n, after in ((1, False), (2, True), (3, False), (2, True), (4, True)):
        transport = CancelAt(n, after=after)
        async with httpx.AsyncClient(transport=transport) as cancelling:
            outbox = Outbox(
                mem_store, poster_for(fake, cancelling), clock=lambda: NOW, concurrency=2
            )
            task = asyncio.create_task(outbox.run_due(build(), NOW))
            transport.target = task
            with contextlib.suppress(asyncio.CancelledError):
                await task
        hits += transport.hit
        answered += transport.hit and after
    await Outbox(mem_store, poster_for(fake, client), clock=lambda: NOW).run_due(build(), NOW)
    assert_exactly_once(fake, mem_store, channels)
    assert fake.duplicates_prevented >= answered  # each answer never recorded was re-sent
    return hits


# -- rate limits and server errors ------------------------------------------------------------


async def test_429_storm_delivers_everything_once(client, mem_store):
    faults = Faults(rate_limit=0.3, retry_after=0.01, seed=7)
    channels = list(range(501, 541))
    subscribe(mem_store, channels)
    # The storm is the injected 429s (global and per route); no real-time global limit on top:
    # against a 10,000/s pacer, how many extra 429s a sliding 50/s window adds depends on load.
    async with FakeDiscord(
        token=TOKEN, faults=faults, channel_window=0.1, global_limit=100_000
    ) as fake:
        poster = poster_for(fake, client)
        report = await Outbox(mem_store, poster, clock=lambda: NOW).run_due(build(), NOW)
        assert report.sent == len(channels)
        assert_exactly_once(fake, mem_store, channels)
        assert fake.injected_429s > 20
        assert poster.stats.global_429s + poster.stats.route_429s == fake.status_counts[429]
        per_1000 = 1000 * fake.invalid_requests / report.messages
        print(f"401/403/429 answers per 1,000 messages: {per_1000:.0f}")
        assert fake.status_counts[401] == fake.status_counts[403] == 0
        assert len(poster.budget) == fake.status_counts[429]  # every 429 counted in the budget


async def test_server_errors_and_lost_responses_are_retried_without_duplicates(client, mem_store):
    faults = Faults(server_error=0.2, lost_response=0.2, seed=3)
    channels = list(range(601, 621))
    subscribe(mem_store, channels)
    # No real-time global limit here: this test is about 5xx and lost answers, and a sliding
    # 50/s window against a 10,000/s pacer made the number of 429s depend on the machine's load.
    async with FakeDiscord(
        token=TOKEN, faults=faults, channel_window=0.1, global_limit=100_000
    ) as fake:
        patient = RetryPolicy(max_server_errors=30, backoff_base=0.001, backoff_cap=0.01)
        poster = poster_for(fake, client, policy=patient)
        report = await Outbox(mem_store, poster, clock=lambda: NOW).run_due(build(), NOW)
        assert report.sent == len(channels)
        assert_exactly_once(fake, mem_store, channels)
        assert fake.duplicates_prevented > 0  # lost responses were re-sent and matched


async def test_discord_down_leaves_the_digest_pending_for_later(client, mem_store):
    subscribe(mem_store, [701])
    async with FakeDiscord(token=TOKEN, faults=Faults(server_error=1.0)) as fake:
        report = await Outbox(mem_store, poster_for(fake, client), clock=lambda: NOW).run_due(
            build(), NOW
        )
        assert report.pending == 1
        assert len(fake.requests) == FAST.max_server_errors + 1  # bounded: no request loop
        row = mem_store.deliveries()[0]
        assert row.status == "pending" and "HTTP 50" in row.error
        assert row.due_at == NOW + dt.timedelta(seconds=FAST.retry_later)
        fake.faults.server_error = 0.0
        later = NOW + dt.timedelta(minutes=5)
        outbox = Outbox(mem_store, poster_for(fake, client), clock=lambda: later)
        assert (await outbox.run_due(build(), later)).sent == 1
        assert_exactly_once(fake, mem_store, [701])


async def test_a_long_global_wait_is_rescheduled_not_slept(client, mem_store):
    subscribe(mem_store, [702])
    storm = Faults(rate_limit=1.0, global_share=1.0, retry_after=100.0)
    async with FakeDiscord(token=TOKEN, faults=storm) as fake:
        policy = RetryPolicy(max_wait=5.0, retry_later=60)
        outbox = Outbox(mem_store, poster_for(fake, client, policy=policy), clock=lambda: NOW)
        report = await outbox.run_due(build(), NOW)
        assert report.pending == 1 and len(fake.requests) == 1


# -- lost channels ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status", "code"),
    [("no_access", 403, 50001), ("no_permission", 403, 50013), ("unknown", 404, 10003)],
)
async def test_lost_channel_is_paused_at_once_others_unaffected(
    fake, client, mem_store, state, status, code
):
    fake.add_channel(801, state=state)
    subscribe(mem_store, [801, 802])
    outbox = Outbox(mem_store, poster_for(fake, client), clock=lambda: NOW)
    report = await outbox.run_due(build(), NOW)
    assert (report.paused, report.sent) == (1, 1)
    sub = mem_store.subscription_for_channel(801)
    assert sub.state == "paused"
    assert (
        f"HTTP {status}, code {code}" in sub.paused_reason
        and "2021-08-04 09:00 UTC" in sub.paused_reason
    )
    assert mem_store.get_delivery(sub.id, DAY).status == "failed"
    assert [r.status for r in fake.requests if r.path == "/channels/801/messages"] == [status]
    assert_exactly_once(fake, mem_store, [802])
    await outbox.run_due(build(), NOW)  # never retried automatically
    assert len([r for r in fake.requests if r.path == "/channels/801/messages"]) == 1


async def test_rejected_payload_fails_without_pausing(fake, client, mem_store):
    subscribe(mem_store, [901])
    outbox = Outbox(mem_store, poster_for(fake, client), clock=lambda: NOW)
    report = await outbox.run_due(lambda row, sub: [{"content": "x" * 2001}], NOW)
    assert report.failed == 1 and len(fake.requests) == 1
    sub = mem_store.subscription_for_channel(901)
    assert sub.state == "active"
    assert "50035" in mem_store.get_delivery(sub.id, DAY).error


async def test_bad_token_stops_the_run(fake, client, mem_store):
    subscribe(mem_store, range(1001, 1021))
    outbox = Outbox(
        mem_store, poster_for(fake, client, token="wrong"), clock=lambda: NOW, concurrency=4
    )
    with pytest.raises(DiscordUnauthorized):
        await outbox.run_due(build(), NOW)
    assert fake.status_counts[401] <= 4  # one per in-flight channel, then stop
    assert all(r.status == "pending" for r in mem_store.deliveries())
    assert all(s.state == "active" for s in mem_store.subscriptions())


# -- pacing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("paced", [True, False])
async def test_pacing_keeps_a_fan_out_under_the_global_limit(mem_store, paced):
    channels = list(range(1101, 1161))
    subscribe(mem_store, channels)
    # Discord's ceiling (50/s), counted over half-second windows, on a lockstep virtual clock:
    # the fake sees each request at the very time the pacer started it (on a loaded machine,
    # real arrivals bunch up by chance and would decide the outcome instead of the pacer).
    time_ = LockstepTime()
    async with (
        FakeDiscord(token=TOKEN, global_limit=25, global_window=0.5, clock=time_.clock) as fake,
        httpx.AsyncClient(transport=time_.transport(), timeout=10) as client,
    ):
        pacer = GlobalPacer(40 if paced else 100_000, clock=time_.clock, sleep=time_.sleep)
        poster = poster_for(fake, client, pacer=pacer, monotonic=time_.clock, sleep=time_.sleep)
        report = await Outbox(mem_store, poster, clock=lambda: NOW).run_due(build(1), NOW)
        assert report.sent == len(channels)  # unpaced: still delivered, by waiting out 429s
        assert_exactly_once(fake, mem_store, channels, parts=1)
        if paced:
            assert fake.global_429s == 0 and poster.stats.global_429s == 0
        else:
            assert fake.global_429s > 0


async def test_channel_bucket_headers_are_honoured(client, mem_store):
    subscribe(mem_store, [1201])
    async with FakeDiscord(token=TOKEN, channel_limit=5, channel_window=0.2) as fake:
        outbox = Outbox(mem_store, poster_for(fake, client), clock=lambda: NOW)
        await outbox.run_due(build(8), NOW)
        assert fake.route_429s == 0
        assert_exactly_once(fake, mem_store, [1201], parts=8)


# -- webhooks ---------------------------------------------------------------------------------


async def test_post_webhook_posts_in_order_with_wait(fake, client):
    url = fake.add_webhook(channel_id=1301)
    ids = await post_webhook(url, digest(1301), client=client)
    posted = fake.posted(1301)
    assert ids == [int(m["id"]) for m in posted]
    assert [m["content"] for m in posted] == [m["content"] for m in digest(1301)]
    assert all(m["webhook_id"] and m["_allowed_mentions"] == {"parse": []} for m in posted)
    assert [r.status for r in fake.requests] == [200, 200, 200]  # ?wait=true: 200 + message


async def test_post_webhook_retries_429_and_5xx(client):
    faults = Faults(rate_limit=0.3, server_error=0.2, retry_after=0.01)
    async with FakeDiscord(token=TOKEN, faults=faults, webhook_window=0.1) as fake:
        url = fake.add_webhook(channel_id=1302)
        poster = poster_for(fake, client)
        ids = await post_webhook(url, digest(1302, 6), poster=poster)
        assert len(ids) == 6 == len(fake.posted(1302))


async def test_deleted_webhook_pauses_the_subscription(fake, client, mem_store):
    url = fake.add_webhook(channel_id=1401)
    subscribe(mem_store, [1401], webhook_url=url + "broken")
    subscribe(mem_store, [1402], webhook_url=fake.add_webhook(channel_id=1402))
    report = await Outbox(mem_store, poster_for(fake, client), clock=lambda: NOW).run_due(
        build(), NOW
    )
    assert (report.paused, report.sent) == (1, 1)
    assert "Unknown Webhook" in mem_store.subscription_for_channel(1401).paused_reason
    assert_exactly_once(fake, mem_store, [1402])
    with pytest.raises(ChannelUnavailable):
        await post_webhook(url + "broken", digest(1), client=client)
