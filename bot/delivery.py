"""The outbox: each (subscription, day) digest is posted exactly once, in rank order.

The row is written before anything is sent (`Store.enqueue_delivery`); every message part
carries a deterministic nonce (`hp<sub>d<YYYYMMDD>p<part>`, ≤ 25 characters) with
`enforce_nonce`, so a retry or a restart that re-sends a part Discord already accepted gets the
original message back instead of a duplicate; each accepted part's id is recorded at once, so
a restart resumes at the next unsent part and never skips one.

Failures, by what Discord answers:
- 429: wait exactly as Discord says (`retry_after`); a global 429 holds every sender shut;
- 5xx, timeouts, connection errors: retry with exponential backoff and jitter;
- 403 / 404 on the channel (50001 Missing Access, 50013 Missing Permissions, 10003 Unknown
  Channel; 10015 Unknown Webhook): the subscription is paused at once with the reason, and
  never retried automatically;
- any other 4xx: the digest is marked failed (a rendering bug), nothing is retried;
- 401: the token is wrong: the run stops (retrying would only earn a Cloudflare ban).
When retries run out, the row stays pending with the error and a later `due_at`.

Requests go over plain HTTP (httpx), not through the gateway: posting works while the gateway
reconnects, and from `hotpapers digest --webhook URL` with no bot at all. All senders share
one `GlobalPacer` (config `discord.global_rate`), so a fan-out to thousands of channels stays
under Discord's global limit instead of bouncing off it. Every payload has
`allowed_mentions: {"parse": []}`: nothing the bot posts can ping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import sqlite_utils

from bot.config import Config
from bot.dates import Clock, utc_now
from bot.errors import (
    ChannelUnavailable,
    DeliveryError,
    DeliveryRejected,
    DeliveryRetryLater,
    DiscordUnauthorized,
)
from bot.http import backoff_delay
from bot.models import Delivery, Subscription
from bot.pacing import ChannelBuckets, GlobalPacer, InvalidRequestBudget, Sleep
from bot.store import Store

log = logging.getLogger(__name__)

NONCE_MAX = 25
NO_MENTIONS: dict[str, Any] = {"parse": []}
USER_AGENT = "DiscordBot (https://github.com/hotpapers/hotpapers, 0.1) hotpapers"
SERVER_ERRORS = frozenset({500, 502, 503, 504, 520, 521, 522, 523, 524})
# Answers that mean "this channel (or webhook) is gone for us": pause, never loop.
LOST_CODES = {50001: "Missing Access", 50013: "Missing Permissions", 10003: "Unknown Channel"}


class HasPayload(Protocol):
    def payload(self, nonce: str | None = None) -> dict[str, Any]: ...


MessageLike = Mapping[str, Any] | HasPayload
Build = Callable[[Delivery, Subscription], Sequence[MessageLike] | Awaitable[Any] | None]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one message is retried before the digest is left for a later run."""

    max_server_errors: int = 5  # 5xx / timeouts / connection errors per message
    max_rate_limits: int = 10  # 429s per message
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_wait: float = 300.0  # a retry_after longer than this: give up for now
    retry_later: float = 300.0  # a digest given up on is due again this much later


def part_nonce(nonce: str, index: int) -> str:
    """The nonce of message part `index` of a digest: deterministic and ≤ 25 characters."""
    suffix = f"p{index}"
    return nonce[: NONCE_MAX - len(suffix)] + suffix


def message_payload(message: MessageLike, nonce: str | None = None) -> dict[str, Any]:
    """The JSON body for one message (render.Message or a dict with content/embeds).

    Never pings: allowed_mentions is always empty, whatever the input said.
    """
    if isinstance(message, Mapping):
        body: dict[str, Any] = {}
        if message.get("content"):
            body["content"] = message["content"]
        body["embeds"] = [dict(e) for e in message.get("embeds") or ()]
    else:
        body = message.payload()
        body.pop("nonce", None)
        body.pop("enforce_nonce", None)
    body["allowed_mentions"] = dict(NO_MENTIONS)
    if nonce is not None:
        if len(nonce) > NONCE_MAX:
            raise ValueError(f"nonce {nonce!r} is longer than {NONCE_MAX} characters")
        body["nonce"] = nonce
        body["enforce_nonce"] = True
    return body


def webhook_execute_url(url: str) -> str:
    """The webhook URL with ?wait=true (so Discord answers with the message and its id)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "wait"] + [("wait", "true")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _redact_webhook(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.rsplit("/", 1)[0] + "/***" if "/webhooks/" in parts.path else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass
class PostStats:
    """What the poster saw (figures for tests and benchmarks)."""

    statuses: Counter[int] = field(default_factory=Counter)
    global_429s: int = 0
    route_429s: int = 0
    transport_errors: int = 0
    requests: int = 0


class DiscordPoster:
    """Posts single messages over HTTP with global pacing, per-channel buckets and retries."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base: str = "https://discord.com/api/v10",
        token: str | None = None,
        pacer: GlobalPacer | None = None,
        buckets: ChannelBuckets | None = None,
        budget: InvalidRequestBudget | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.api_base = api_base.rstrip("/")
        self._token = token
        self.sleep = sleep
        self.pacer = pacer or GlobalPacer(45.0, clock=monotonic, sleep=sleep)
        self.buckets = buckets or ChannelBuckets(clock=monotonic, sleep=sleep)
        self.budget = budget or InvalidRequestBudget(clock=monotonic, sleep=sleep)
        self.policy = policy or RetryPolicy()
        self.rng = rng
        self.stats = PostStats()

    def __repr__(self) -> str:  # never show the token
        return f"DiscordPoster(api_base={self.api_base!r}, token={'set' if self._token else None})"

    @classmethod
    def from_config(cls, config: Config, client: httpx.AsyncClient, **kwargs: Any) -> DiscordPoster:
        """A poster for the configured API base, bot token and global rate."""
        kwargs.setdefault("pacer", GlobalPacer(config.discord.global_rate))
        return cls(
            client,
            api_base=config.discord.api_base,
            token=config.secrets.discord_token,
            **kwargs,
        )

    async def post_channel(self, channel_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /channels/{id}/messages as the bot; the created (or nonce-matched) message."""
        if not self._token:
            raise DiscordUnauthorized("no Discord bot token (set HOTPAPERS_DISCORD_TOKEN)")
        url = f"{self.api_base}/channels/{channel_id}/messages"
        headers = {"Authorization": f"Bot {self._token}", "User-Agent": USER_AGENT}
        message = await self._post(channel_id, url, payload, headers, channel_id, webhook=False)
        assert message is not None
        return message

    async def post_webhook(
        self, url: str, payload: dict[str, Any], *, channel_id: int = 0
    ) -> dict[str, Any]:
        """Execute a webhook with ?wait=true; the created message."""
        key = "webhook:" + urlsplit(url).path
        message = await self._post(
            key, webhook_execute_url(url), payload, {"User-Agent": USER_AGENT}, channel_id, True
        )
        assert message is not None
        return message

    async def _post(
        self,
        key: int | str,
        url: str,
        payload: dict[str, Any],
        headers: dict[str, str],
        channel_id: int,
        webhook: bool,
    ) -> dict[str, Any] | None:
        policy = self.policy
        rate_limits = server_errors = 0
        shown = _redact_webhook(url) if webhook else url
        while True:
            await self.buckets.wait(key)
            await self.budget.wait()
            await self.pacer.acquire()
            self.stats.requests += 1
            try:
                response = await self.client.post(url, json=payload, headers=headers)
            except httpx.TransportError as exc:  # timeouts included
                self.stats.transport_errors += 1
                server_errors += 1
                if server_errors > policy.max_server_errors:
                    raise DeliveryRetryLater(
                        f"{shown}: {type(exc).__name__} after {server_errors} tries", 0.0
                    ) from None
                await self.sleep(self._backoff(server_errors))
                continue
            status = response.status_code
            self.stats.statuses[status] += 1
            if status in (401, 403, 429):
                self.budget.record()
            self.buckets.update(key, response.headers)
            body = _json_body(response)
            if 200 <= status < 300:
                return body if isinstance(body, dict) else None
            code = int(body.get("code") or 0) if isinstance(body, dict) else 0
            message = str(body.get("message", "")) if isinstance(body, dict) else response.text
            if status == 429:
                rate_limits += 1
                retry_after, is_global = _retry_after(response, body)
                if is_global:
                    self.stats.global_429s += 1
                    self.pacer.block_for(retry_after)
                else:
                    self.stats.route_429s += 1
                    self.buckets.block(key, retry_after)
                if rate_limits > policy.max_rate_limits or retry_after > policy.max_wait:
                    raise DeliveryRetryLater(
                        f"{shown}: rate limited {rate_limits} times (retry after {retry_after}s)",
                        retry_after,
                    )
                log.info("%s: 429, retrying in %.2fs (global=%s)", shown, retry_after, is_global)
                continue
            if status in SERVER_ERRORS:
                server_errors += 1
                if server_errors > policy.max_server_errors:
                    raise DeliveryRetryLater(f"{shown}: HTTP {status} {server_errors} times", 0.0)
                await self.sleep(self._backoff(server_errors))
                continue
            if status == 401 and not webhook:
                raise DiscordUnauthorized(f"Discord rejected the bot token (HTTP 401 {message})")
            if status in (401, 403, 404):
                reason = LOST_CODES.get(code) or message or f"HTTP {status}"
                raise ChannelUnavailable(channel_id, status, code, reason)
            raise DeliveryRejected(status, code, message, body)

    def _backoff(self, attempt: int) -> float:
        p = self.policy
        return backoff_delay(attempt - 1, p.backoff_base, p.backoff_cap, self.rng)


def _json_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response, body: Any) -> tuple[float, bool]:
    """Seconds to wait and whether the limit is global, from the body (else headers)."""
    is_global = response.headers.get("x-ratelimit-global", "").lower() == "true"
    retry: float | None = None
    if isinstance(body, dict):
        is_global = is_global or bool(body.get("global"))
        try:
            retry = float(body["retry_after"])
        except (KeyError, TypeError, ValueError):
            retry = None
    if retry is None:
        try:
            retry = float(response.headers.get("retry-after", "1"))
        except ValueError:
            retry = 1.0
        if not isinstance(body, dict):  # no JSON body: Cloudflare, not Discord; stop everyone
            is_global = True
    return max(0.0, retry), is_global


@dataclass
class DeliveryReport:
    """The outcome of a batch of deliveries."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    paused: int = 0
    pending: int = 0
    messages: int = 0
    lateness: list[float] = field(default_factory=list, repr=False)  # s after due_at, per digest

    def add(self, outcome: str, messages: int = 0, lateness: float | None = None) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.messages += messages
        if lateness is not None:
            self.lateness.append(lateness)


class Outbox:
    """Delivers outbox rows: concurrently across channels, in order within a digest."""

    def __init__(
        self,
        store: Store,
        poster: DiscordPoster,
        *,
        clock: Clock = utc_now,
        concurrency: int = 64,
    ) -> None:
        self.store = store
        self.poster = poster
        self.clock = clock
        self.concurrency = max(1, concurrency)
        self._inflight: set[tuple[int, dt.date]] = set()

    async def deliver(
        self,
        delivery: Delivery,
        messages: Sequence[MessageLike],
        report: DeliveryReport | None = None,
    ) -> Delivery | None:
        """Send what is still unsent of one digest; return its row afterwards."""
        report = report if report is not None else DeliveryReport()
        key = (delivery.subscription_id, delivery.day)
        if key in self._inflight:
            return delivery
        self._inflight.add(key)
        try:
            return await self._deliver(delivery, messages, report)
        finally:
            self._inflight.discard(key)

    async def _deliver(
        self, delivery: Delivery, messages: Sequence[MessageLike], report: DeliveryReport
    ) -> Delivery | None:
        sid, day = delivery.subscription_id, delivery.day
        row = self.store.get_delivery(sid, day)
        if row is None or row.status != "pending":
            return row
        sub = self.store.get_subscription(sid)
        if sub is None or sub.state != "active":
            why = "subscription removed" if sub is None else f"subscription {sub.state}"
            self._record(row, status="skipped", error=why)
            report.add("skipped")
            return self.store.get_delivery(sid, day)
        sent = list(row.message_ids)
        if not self._record(row, attempts=row.attempts + 1):
            return None
        try:
            for index in range(len(sent), len(messages)):
                if sub.webhook_url:
                    payload = message_payload(messages[index])
                    posted = await self.poster.post_webhook(
                        sub.webhook_url, payload, channel_id=sub.channel_id
                    )
                else:
                    payload = message_payload(messages[index], part_nonce(row.nonce, index))
                    posted = await self.poster.post_channel(sub.channel_id, payload)
                sent.append(int(posted["id"]))
                if not self._record(row, message_ids=sent):
                    return None
        except ChannelUnavailable as exc:
            reason = (
                f"{exc.reason} (HTTP {exc.status}, code {exc.code}) "
                f"on {self.clock().astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
            )
            log.warning("channel %s: pausing subscription %s: %s", sub.channel_id, sid, reason)
            with self.store.transaction():
                self.store.set_subscription_state(sid, "paused", reason)
                self._record(row, status="failed", error=reason, message_ids=sent)
            report.add("paused", len(sent) - len(row.message_ids))
        except DeliveryRejected as exc:
            log.error("channel %s: digest %s rejected by Discord: %s", sub.channel_id, day, exc)
            self._record(row, status="failed", error=str(exc)[:500], message_ids=sent)
            report.add("failed", len(sent) - len(row.message_ids))
        except DeliveryRetryLater as exc:
            later = self.clock() + dt.timedelta(
                seconds=max(exc.retry_after, self.poster.policy.retry_later)
            )
            log.warning(
                "channel %s: digest %s: %s; retrying at %s", sub.channel_id, day, exc, later
            )
            self._record(row, error=str(exc)[:500], due_at=later.isoformat(), message_ids=sent)
            report.add("pending", len(sent) - len(row.message_ids))
        except DiscordUnauthorized as exc:
            self._record(row, error=str(exc), message_ids=sent)
            raise
        else:
            now = self.clock()
            self._record(row, status="sent", sent_at=now, error=None)
            lateness = (now - row.due_at).total_seconds() if row.due_at else None
            report.add("sent", len(sent) - len(row.message_ids), lateness)
        return self.store.get_delivery(sid, day)

    def _record(self, row: Delivery, **changes: Any) -> bool:
        """Write progress; False when the row is gone (unsubscribed meanwhile)."""
        try:
            self.store.update_delivery(row.subscription_id, row.day, **changes)
        except sqlite_utils.db.NotFoundError:
            log.info("delivery %s/%s vanished (unsubscribed)", row.subscription_id, row.day)
            return False
        return True

    async def deliver_many(
        self, jobs: Iterable[tuple[Delivery, Sequence[MessageLike]]]
    ) -> DeliveryReport:
        """Deliver many digests: up to `concurrency` channels at once, each in order."""
        report = DeliveryReport()
        gate = asyncio.Semaphore(self.concurrency)
        unauthorized: list[DiscordUnauthorized] = []

        async def one(delivery: Delivery, messages: Sequence[MessageLike]) -> None:
            async with gate:
                if unauthorized:
                    return
                try:
                    await self.deliver(delivery, messages, report)
                except DiscordUnauthorized as exc:
                    unauthorized.append(exc)

        async with asyncio.TaskGroup() as group:
            for delivery, messages in jobs:
                group.create_task(one(delivery, messages))
        if unauthorized:
            raise unauthorized[0]
        return report

    async def run_due(
        self,
        build: Build,
        now: dt.datetime | None = None,
        *,
        select: Callable[[Subscription], bool] | None = None,
    ) -> DeliveryReport:
        """Deliver every pending row due by now; `build(row, subscription)` gives its messages
        (None or [] means nothing to post: the row is marked skipped). Rows whose subscription
        `select` rejects are left as they are (another sender owns them)."""
        now = now or self.clock()
        jobs: list[tuple[Delivery, Sequence[MessageLike]]] = []
        report = DeliveryReport()
        for row in self.store.deliveries(status="pending", due_before=now):
            sub = self.store.get_subscription(row.subscription_id)
            if sub is not None and select is not None and not select(sub):
                continue
            if sub is None or sub.state != "active":
                why = "subscription removed" if sub is None else f"subscription {sub.state}"
                self._record(row, status="skipped", error=why)
                report.add("skipped")
                continue
            built = build(row, sub)
            if inspect.isawaitable(built):
                built = await built
            if not built:
                self._record(row, status="skipped", error="nothing to post")
                report.add("skipped")
                continue
            jobs.append((row, list(built)))
        done = await self.deliver_many(jobs)
        for name in ("sent", "skipped", "failed", "paused", "pending", "messages"):
            setattr(done, name, getattr(done, name) + getattr(report, name))
        return done


async def post_webhook(
    url: str,
    messages: Sequence[MessageLike],
    *,
    client: httpx.AsyncClient | None = None,
    poster: DiscordPoster | None = None,
) -> list[int]:
    """Post messages in order through a Discord webhook (no bot needed); their ids.

    Same rules as the outbox: 429 waits, 5xx backs off, no mentions. Raises
    ChannelUnavailable if the webhook is gone, DeliveryError if Discord keeps failing.
    """
    owned = client is None and poster is None
    if poster is None:
        client = client or httpx.AsyncClient(timeout=20.0)
        poster = DiscordPoster(client)
    try:
        ids = []
        for message in messages:
            posted = await poster.post_webhook(url, message_payload(message))
            ids.append(int(posted["id"]))
        return ids
    finally:
        if owned and client is not None:
            await client.aclose()


__all__ = [
    "DeliveryError",
    "DeliveryReport",
    "DiscordPoster",
    "Outbox",
    "RetryPolicy",
    "message_payload",
    "part_nonce",
    "post_webhook",
]
