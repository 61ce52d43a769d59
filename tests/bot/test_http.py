"""The shared HTTP layer: retries, Retry-After, giving up, rate limiting, counting, redaction."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
import pytest

from bot.config import Config, HttpConfig
from bot.errors import MalformedResponse, SourceError
from bot.http import (
    RateLimiter,
    RequestCounter,
    SourceContext,
    make_client,
    parse_json,
    rate_limit_reset_seconds,
    redact_url,
    request,
    retry_after_seconds,
)
from tests.fakes.clock import FakeTime

NOW = dt.datetime(2024, 5, 2, 12, 0, 0, tzinfo=dt.UTC)


def scripted(*steps):
    """A MockTransport answering with each step in turn (a Response, or an exception to raise)."""
    calls: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        step = steps[min(len(calls), len(steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step

    return httpx.MockTransport(handler), calls


def ctx_for(transport, fake: FakeTime, **http) -> SourceContext:
    settings = HttpConfig(**{"max_retries": 3, "max_retry_wait": 60.0, **http})
    client = make_client(Config(http=settings), transport=transport)
    return SourceContext(
        client=client, settings=settings, sleep=fake.sleep, clock=fake.clock, now=lambda: NOW
    )


async def test_429_with_retry_after_seconds_waits_exactly_that_long():
    transport, calls = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}, text="slow down"),
        httpx.Response(200, json={"ok": True}),
    )
    fake = FakeTime()
    ctx = ctx_for(transport, fake)
    resp = await ctx.request("GET", "https://example.org/x", source="hf")
    assert resp.status_code == 200
    assert fake.sleeps == [7.0]
    assert ctx.counter["hf"] == 2
    assert len(calls) == 2


async def test_503_with_retry_after_http_date():
    when = email_date(NOW + dt.timedelta(seconds=30))
    transport, _ = scripted(
        httpx.Response(503, headers={"Retry-After": when}),
        httpx.Response(200, text="fine"),
    )
    fake = FakeTime()
    ctx = ctx_for(transport, fake)
    resp = await ctx.request("GET", "https://example.org/x", source="arxiv")
    assert resp.text == "fine"
    assert fake.sleeps == [30.0]


def email_date(when: dt.datetime) -> str:
    import email.utils

    return email.utils.format_datetime(when, usegmt=True)


async def test_retry_after_longer_than_max_wait_gives_up_without_sleeping():
    transport, calls = scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    fake = FakeTime()
    ctx = ctx_for(transport, fake, max_retry_wait=120.0)
    with pytest.raises(SourceError, match=r"Retry-After 3600s.*120s") as info:
        await ctx.request("GET", "https://example.org/x", source="hn")
    assert info.value.source == "hn"
    assert fake.sleeps == []
    assert len(calls) == 1


async def test_503_without_retry_after_backs_off_exponentially_with_jitter():
    transport, _ = scripted(
        httpx.Response(503), httpx.Response(502), httpx.Response(500), httpx.Response(200)
    )
    fake = FakeTime()
    ctx = ctx_for(transport, fake)
    resp = await ctx.request("GET", "https://example.org/x", source="s")
    assert resp.status_code == 200
    # base 1s, doubled per attempt, jitter keeps each in [50%, 100%] of the step
    assert len(fake.sleeps) == 3
    for n, slept in enumerate(fake.sleeps):
        assert 0.5 * 2**n <= slept <= 2**n


async def test_timeouts_and_connection_errors_are_retried():
    transport, calls = scripted(
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.Response(200, text="ok"),
    )
    fake = FakeTime()
    ctx = ctx_for(transport, fake)
    resp = await ctx.request("GET", "https://example.org/x", source="s")
    assert resp.text == "ok"
    assert len(calls) == 3
    assert ctx.counter["s"] == 3


async def test_the_configured_timeout_is_a_real_one():
    """A loopback server that never answers: the client itself gives up (no simulated timeout;
    the server hangs, so the outcome does not depend on how fast the machine is)."""
    from aiohttp import web

    from tests.fakes.server import hang, serve

    async def never(request: web.Request) -> web.Response:
        await hang(request)
        return web.Response(text="too late")

    app = web.Application()
    app.router.add_get("/x", never)
    settings = HttpConfig(timeout=0.2, max_retries=1, max_retry_wait=60.0)
    fake = FakeTime()
    async with serve(app) as url, make_client(Config(http=settings)) as client:
        ctx = SourceContext(client=client, settings=settings, sleep=fake.sleep, clock=fake.clock)
        with pytest.raises(SourceError, match=r"timed out \(ReadTimeout\), gave up after 2"):
            await ctx.request("GET", f"{url}/x", source="s")


async def test_gives_up_after_max_retries_with_a_clear_error():
    transport, calls = scripted(httpx.ReadTimeout("slow"))
    fake = FakeTime()
    ctx = ctx_for(transport, fake, max_retries=2)
    with pytest.raises(SourceError, match=r"timed out.*gave up after 3 attempts"):
        await ctx.request("GET", "https://example.org/x", source="s")
    assert len(calls) == 3
    assert ctx.counter["s"] == 3
    assert len(fake.sleeps) == 2


async def test_4xx_is_returned_not_retried():
    transport, calls = scripted(httpx.Response(404, text="no"))
    fake = FakeTime()
    ctx = ctx_for(transport, fake)
    resp = await ctx.request("GET", "https://example.org/x", source="s")
    assert resp.status_code == 404
    assert len(calls) == 1 and fake.sleeps == []


async def test_limiter_spaces_request_starts():
    fake = FakeTime()
    limiter = RateLimiter(3.0, clock=fake.clock, sleep=fake.sleep)
    starts = []
    for _ in range(3):
        async with limiter.slot():
            starts.append(fake.t)
            fake.t += 0.5  # the request itself takes half a second
    assert starts == [1000.0, 1003.0, 1006.0]
    assert fake.sleeps == [2.5, 2.5]


async def test_limiter_allows_one_request_at_a_time():
    import asyncio

    limiter = RateLimiter(0.0)
    inside = 0
    peak = 0

    async def one():
        nonlocal inside, peak
        async with limiter.slot():
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(one() for _ in range(5)))
    assert peak == 1


async def test_retries_go_through_the_limiter_too():
    transport, _ = scripted(httpx.Response(503, headers={"Retry-After": "1"}), httpx.Response(200))
    fake = FakeTime()
    ctx = ctx_for(transport, fake)
    await ctx.request("GET", "https://example.org/x", source="arxiv", min_interval=3.0)
    # 1s Retry-After, then the limiter tops the gap up to 3s
    assert fake.sleeps == [1.0, 2.0]


async def test_counter_is_per_source():
    transport, _ = scripted(httpx.Response(200))
    fake = FakeTime()
    ctx = ctx_for(transport, fake)
    for source in ("a", "b", "a"):
        await ctx.request("GET", "https://example.org/", source=source)
    assert ctx.counter.as_dict() == {"a": 2, "b": 1}
    assert ctx.counter["never"] == 0
    assert isinstance(ctx.counter, RequestCounter)


async def test_low_level_request_function_works_without_a_context():
    transport, _ = scripted(httpx.Response(500), httpx.Response(201))
    fake = FakeTime()
    counter = RequestCounter()
    async with httpx.AsyncClient(transport=transport) as client:
        resp = await request(
            client,
            "POST",
            "https://example.org/",
            source="x",
            limiter=RateLimiter(0, clock=fake.clock, sleep=fake.sleep),
            counter=counter,
            max_retries=1,
            max_wait=5,
            sleep=fake.sleep,
            rng=lambda: 1.0,
            json={"a": 1},
        )
    assert resp.status_code == 201
    assert counter["x"] == 2
    assert fake.sleeps == [1.0]


async def test_client_sends_user_agent_and_follows_redirects():
    seen = []

    def handler(req):
        seen.append((str(req.url), req.headers["User-Agent"]))
        if req.url.path == "/old":
            return httpx.Response(301, headers={"Location": "https://example.org/new"})
        return httpx.Response(200)

    config = Config(http=HttpConfig(user_agent="hotpapers-test/1"))
    async with make_client(config, transport=httpx.MockTransport(handler)) as client:
        resp = await client.get("https://example.org/old")
    assert resp.status_code == 200
    assert seen == [
        ("https://example.org/old", "hotpapers-test/1"),
        ("https://example.org/new", "hotpapers-test/1"),
    ]


async def test_secrets_never_reach_the_log_or_the_error(caplog):
    transport, _ = scripted(httpx.Response(503))
    fake = FakeTime()
    ctx = ctx_for(transport, fake, max_retries=1)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as info:
        await ctx.request(
            "GET",
            "https://api.example.org/search?q=arxiv&access_token=SEKRIT",
            source="x",
            headers={"Authorization": "Bearer SEKRIT"},
        )
    assert "SEKRIT" not in str(info.value)
    assert "SEKRIT" not in caplog.text
    assert "q=arxiv" in str(info.value)


def test_redact_url():
    assert (
        redact_url("https://u:pw@h.org/p?api_key=1&q=2") == "https://h.org/p?api_key=%2A%2A%2A&q=2"
    )
    assert redact_url("https://h.org/p") == "https://h.org/p"


def test_retry_after_parsing():
    assert retry_after_seconds("120", NOW) == 120.0
    assert retry_after_seconds(email_date(NOW + dt.timedelta(minutes=2)), NOW) == 120.0
    assert retry_after_seconds(email_date(NOW - dt.timedelta(minutes=2)), NOW) == 0.0
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None


async def test_429_with_only_x_rate_limit_reset_waits_until_the_reset():
    reset = str(int(NOW.timestamp()) + 42)
    transport, _ = scripted(
        httpx.Response(429, headers={"x-rate-limit-reset": reset, "x-rate-limit-remaining": "0"}),
        httpx.Response(200, json={}),
    )
    fake = FakeTime()
    resp = await ctx_for(transport, fake).request("GET", "https://api.x.com/2/t", source="x")
    assert resp.status_code == 200 and fake.sleeps == [42.0]


def test_rate_limit_reset_parsing():
    assert rate_limit_reset_seconds(str(int(NOW.timestamp()) + 60), NOW) == 60.0
    assert rate_limit_reset_seconds(str(int(NOW.timestamp()) - 60), NOW) == 0.0
    assert rate_limit_reset_seconds("later", NOW) is None
    assert rate_limit_reset_seconds(None, NOW) is None


def test_parse_json_reports_malformed_bodies():
    req = httpx.Request("GET", "https://h.org/api")
    with pytest.raises(MalformedResponse, match="not JSON"):
        parse_json(httpx.Response(200, text="<html>oops", request=req), "hf")
    with pytest.raises(SourceError, match="HTTP 404"):
        parse_json(httpx.Response(404, request=req), "hf")
    assert parse_json(httpx.Response(200, json=[1], request=req), "hf") == [1]


async def test_non_transient_request_errors_fail_at_once_as_source_errors():
    transport, calls = scripted(httpx.TooManyRedirects("loop"))
    fake = FakeTime()
    ctx = ctx_for(transport, fake)
    with pytest.raises(SourceError, match="TooManyRedirects"):
        await ctx.request("GET", "https://example.org/x", source="s")
    assert len(calls) == 1 and fake.sleeps == []


def test_scrub_removes_credentials_a_server_echoes_back():
    from bot.http import scrub

    request = httpx.Request(
        "POST",
        "https://example.test/login",
        headers={"Authorization": "Bearer tok-123456"},
        json={"identifier": "me", "password": "pw-abcdef"},
    )
    response = httpx.Response(403, request=request)
    text = "token tok-123456 / Bearer other-999 / password pw-abcdef / extra s3cret-xyz"
    cleaned = scrub(text, response, "s3cret-xyz", None)
    for secret in ("tok-123456", "other-999", "pw-abcdef", "s3cret-xyz"):
        assert secret not in cleaned
    assert cleaned.startswith("token *** / Bearer *** / password ***")
