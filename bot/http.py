"""The shared HTTP layer: one client per process, per-source rate limits, retries, counting.

Every source calls `SourceContext.request` (or the lower-level `request`), which
- waits for the source's `RateLimiter` (one request at a time, `min_interval` between starts),
- counts every attempt in a `RequestCounter` (per source, for "requests per source per run"),
- retries 429/500/502/503/504, timeouts and transport errors with exponential backoff and
  jitter, honouring `Retry-After` (seconds or HTTP date) on 429/503 up to `max_wait`
  (and X's `x-rate-limit-reset` on a 429 without Retry-After),
- returns the final 2xx/3xx/4xx response, or raises `SourceError` once it gives up.

URLs are logged with secret-looking query values redacted; headers and bodies never are.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from bot.config import Config, HttpConfig
from bot.dates import Clock, utc_now
from bot.errors import MalformedResponse, SourceError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_BODY_BYTES = 32 * 1024 * 1024  # a listing or search page is far smaller; more is a fault
_SECRET_PARAM = re.compile(r"token|key|secret|pass|auth|sig|session|cookie", re.IGNORECASE)


def make_client(
    config: Config, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The process's one AsyncClient: configured timeout, descriptive User-Agent, redirects.

    `transport` lets tests plug in an httpx.MockTransport.
    """
    _install_log_redaction()
    return httpx.AsyncClient(
        timeout=httpx.Timeout(config.http.timeout),
        headers={"User-Agent": config.http.user_agent},
        follow_redirects=True,
        transport=transport,
    )


class _RedactUrls(logging.Filter):
    """Rewrites URLs in httpx's own log records (it logs every request at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(a) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


def _install_log_redaction() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrls) for f in logger.filters):
        logger.addFilter(_RedactUrls())


class RequestCounter(Counter[str]):
    """Request attempts per source (a Counter: missing sources count 0)."""

    def add(self, source: str, n: int = 1) -> None:
        self[source] += n

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.items()))


class RateLimiter:
    """One request at a time, and at least `min_interval` seconds between request starts."""

    def __init__(
        self,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.min_interval = max(0.0, min_interval)
        self.clock = clock
        self.sleep = sleep
        self._lock = asyncio.Lock()
        self._last_start: float | None = None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold the source's only slot for one request, after waiting out the interval."""
        async with self._lock:
            if self._last_start is not None:
                wait = self._last_start + self.min_interval - self.clock()
                if wait > 0:
                    await self.sleep(wait)
            self._last_start = self.clock()
            yield


_CREDENTIAL = re.compile(r"\b(Bearer|Basic)\s+[^\s\"',;]+", re.IGNORECASE)


def scrub(text: str, response: httpx.Response | None = None, *secrets: str | None) -> str:
    """Server-supplied text made safe to log or store: any Bearer/Basic credential, the
    request's own Authorization value and password field, and `secrets` become '***'."""
    values = [s for s in secrets if s]
    if response is not None:
        request = response.request
        auth = request.headers.get("Authorization", "")
        values += [auth, auth.partition(" ")[2]]
        try:
            sent = json.loads(request.content) if request.content else None
        except (ValueError, UnicodeDecodeError):
            sent = None
        if isinstance(sent, dict) and isinstance(sent.get("password"), str):
            values.append(sent["password"])
    for value in sorted((v for v in values if len(v) >= 4), key=len, reverse=True):
        text = text.replace(value, "***")
    return _CREDENTIAL.sub(lambda m: f"{m.group(1)} ***", text)


def redact_url(url: str | httpx.URL) -> str:
    """The URL with secret-looking query values replaced (safe to log or show)."""
    parts = urlsplit(str(url))
    if not parts.query:
        return str(url)
    query = [
        (k, "***" if _SECRET_PARAM.search(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    netloc = parts.netloc.rpartition("@")[2]  # drop user:password@
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe=":/[]+,"), ""))


def retry_after_seconds(value: str | None, now: dt.datetime) -> float | None:
    """Retry-After as seconds from `now` (delta-seconds or HTTP date), or None if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def rate_limit_reset_seconds(value: str | None, now: dt.datetime) -> float | None:
    """X's `x-rate-limit-reset` (epoch seconds when the window resets) as seconds from `now`."""
    if value is None or not value.strip().isdigit():
        return None
    return max(0.0, int(value.strip()) - now.timestamp())


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with jitter: base * 2**attempt, capped, scaled into [50%, 100%]."""
    return min(cap, base * 2**attempt) * (0.5 + rng() / 2)


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    source: str,
    limiter: RateLimiter,
    counter: RequestCounter,
    max_retries: int,
    max_wait: float,
    sleep: Sleep = asyncio.sleep,
    now: Clock = utc_now,
    backoff_base: float = 1.0,
    rng: Callable[[], float] = random.random,
    **kwargs: Any,
) -> httpx.Response:
    """Send one logical request with retries; return the final non-retryable response.

    Raises SourceError when retries are exhausted, or when the server asks (Retry-After)
    for a longer wait than `max_wait`.
    """
    shown = redact_url(url)
    attempt = 0
    while True:
        response: httpx.Response | None = None
        async with limiter.slot():
            counter.add(source)
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                failure = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                failure = f"connection failed ({type(exc).__name__})"
            except (httpx.RequestError, httpx.InvalidURL) as exc:
                # Not transient (too many redirects, undecodable body, bad URL): no retry.
                # The exception's text may carry the raw URL, so only its type is shown.
                raise SourceError(source, f"{method} {shown}: {type(exc).__name__}") from None
        retry_after: float | None = None
        if response is not None:
            if response.status_code not in RETRY_STATUSES:
                return response
            failure = f"HTTP {response.status_code}"
            if response.status_code in RETRY_AFTER_STATUSES:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"), now())
                if retry_after is None and response.status_code == 429:
                    # X sends no Retry-After, only when its rate-limit window resets.
                    retry_after = rate_limit_reset_seconds(
                        response.headers.get("x-rate-limit-reset"), now()
                    )
            await response.aclose()
        if attempt >= max_retries:
            raise SourceError(
                source, f"{method} {shown}: {failure}, gave up after {attempt + 1} attempts"
            )
        if retry_after is not None:
            if retry_after > max_wait:
                raise SourceError(
                    source,
                    f"{method} {shown}: {failure} with Retry-After {retry_after:.0f}s, "
                    f"longer than the {max_wait:.0f}s allowed; giving up for this run",
                )
            delay = retry_after
        else:
            delay = backoff_delay(attempt, backoff_base, max_wait, rng)
        log.warning(
            "%s: %s %s: %s; retry %d/%d in %.1fs",
            source,
            method,
            shown,
            failure,
            attempt + 1,
            max_retries,
            delay,
        )
        await sleep(delay)
        attempt += 1


@dataclass
class SourceContext:
    """What every source needs to talk HTTP: client, counter, settings, injectable time.

    One per run (or process). `request` creates the source's RateLimiter on first use.
    """

    client: httpx.AsyncClient
    settings: HttpConfig = field(default_factory=HttpConfig)
    counter: RequestCounter = field(default_factory=RequestCounter)
    sleep: Sleep = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    now: Clock = utc_now
    backoff_base: float = 1.0
    limiters: dict[str, RateLimiter] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls, config: Config, client: httpx.AsyncClient | None = None, **kw: Any
    ) -> SourceContext:
        """A context with the process client (or a new one) and the config's HTTP settings."""
        return cls(client=client or make_client(config), settings=config.http, **kw)

    def limiter(self, source: str, min_interval: float) -> RateLimiter:
        """The source's limiter (created once, with the interval first asked for)."""
        if source not in self.limiters:
            self.limiters[source] = RateLimiter(min_interval, clock=self.clock, sleep=self.sleep)
        return self.limiters[source]

    async def request(
        self, method: str, url: str, *, source: str, min_interval: float = 0.0, **kwargs: Any
    ) -> httpx.Response:
        """`request` with this context's client, limiter, counter and retry settings."""
        return await request(
            self.client,
            method,
            url,
            source=source,
            limiter=self.limiter(source, min_interval),
            counter=self.counter,
            max_retries=self.settings.max_retries,
            max_wait=self.settings.max_retry_wait,
            sleep=self.sleep,
            now=self.now,
            backoff_base=self.backoff_base,
            **kwargs,
        )

    async def aclose(self) -> None:
        await self.client.aclose()


def ensure_ok(response: httpx.Response, source: str) -> httpx.Response:
    """Return a 2xx response; raise SourceError naming the status (and redacted URL) otherwise."""
    if response.is_success:
        if len(response.content) > MAX_BODY_BYTES:
            raise MalformedResponse(
                source,
                f"{redact_url(response.url)}: body of {len(response.content)} bytes is too large",
            )
        return response
    raise SourceError(
        source,
        f"{response.request.method} {redact_url(response.url)}: HTTP {response.status_code} "
        f"{response.reason_phrase}".rstrip(),
    )


def parse_json(response: httpx.Response, source: str) -> Any:
    """The JSON body of a 2xx response, or MalformedResponse saying what was wrong."""
    ensure_ok(response, source)
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedResponse(
            source,
            f"{redact_url(response.url)}: body is not JSON ({exc})",
        ) from None
