"""A strict fake Discord on 127.0.0.1: REST (/api/v10) and the websocket gateway.

Start it with ``async with FakeDiscord(...) as fake`` (or ``await fake.start()``), point
discord.py at it with ``point_discord_py_at(fake)`` (a context manager that sets
``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` and restores them), and
assert on what it recorded: ``fake.messages[channel_id]``, ``fake.callbacks``,
``fake.requests``, ``fake.status_counts``.

Tips for fast tests with a real ``discord.Client``/``commands.Bot``: pass
``guild_ready_timeout=0.05`` (discord.py otherwise waits 2 s after the last GUILD_CREATE before
``on_ready``) and override ``before_identify_hook`` to skip its 5 s sleep before a re-IDENTIFY.
The gateway speaks ``zlib-stream`` when asked (as discord.py does by default), else text.

It behaves like Discord where the bot can tell the difference:
- answers carry ``Content-Type: application/json`` exactly and a ``Via`` header;
- message payloads are checked against every embed/content limit (400, code 50035);
- ``nonce`` + ``enforce_nonce`` in one channel within ``nonce_window`` returns the original
  message instead of posting a duplicate;
- a global limit (``global_limit`` requests per ``global_window`` seconds, bot requests except
  interaction callbacks) and a per-channel message bucket (``channel_limit`` per
  ``channel_window`` seconds) are enforced with real ``X-RateLimit-*`` headers and 429 bodies;
- channels can be ``ok``, ``no_access`` (403/50001), ``no_permission`` (403/50013) or
  ``unknown`` (404/10003); unknown webhooks are 404/10015;
- interaction callbacks later than ``interaction_deadline`` seconds get 404/10062, a second
  callback 400/40060;
- faults can be injected into message posts (``faults``): 429s (per-route or global), 5xx,
  and "lost responses" (the message is created, then a 500 is answered). Each message has its
  own fault sequence (drawn from the seed, the message and the attempt number), so which message
  meets which fault does not depend on the order concurrent requests happen to arrive in.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import math
import random
import secrets
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
API_PREFIX = "/api/v10"
EVERYONE_PERMISSIONS = "2248473465835073"  # typical @everyone: view, send, embed, read history...
ADMIN_PERMISSIONS = "2251799813685247"  # every permission bit (manage channels included)
MEMBER_PERMISSIONS = "2248473465835073"  # no Manage Channels (bit 4)

CHANNEL_STATES = {
    "ok": None,
    "no_access": (403, 50001, "Missing Access"),
    "no_permission": (403, 50013, "Missing Permissions"),
    "unknown": (404, 10003, "Unknown Channel"),
}

# Embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
LIMITS = {
    "content": 2000,
    "title": 256,
    "description": 4096,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "fields": 25,
    "embeds": 10,
    "total": 6000,
    "nonce": 25,
    "choices": 25,
}


class FakeClock:
    """A manual monotonic clock for the fake (``fake.clock = FakeClock()``; ``advance(s)``)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Faults:
    """Faults injected into message posts (channel messages and webhook executions).

    ``rate_limit``: share of posts answered 429 (``global_share`` of them global);
    ``server_error``: share answered 500/502 before anything is created;
    ``lost_response``: share where the message IS created, then a 500 is answered.
    """

    rate_limit: float = 0.0
    global_share: float = 0.5
    retry_after: float = 0.05
    server_error: float = 0.0
    lost_response: float = 0.0
    seed: int = 1


@dataclass
class RequestRecord:
    """One answered request, for assertions and figures."""

    method: str
    path: str
    status: int
    at: float  # fake clock
    wall: float  # time.monotonic(), for rate figures
    code: int | None = None
    scope: str | None = None  # for 429s: "global", "user" (bucket) or "injected"


@dataclass
class _Bucket:
    limit: int
    window: float
    bucket_hash: str
    reset_at: float = 0.0
    used: int = 0

    def take(self, now: float) -> tuple[bool, float]:
        """Count one request; (allowed, seconds until reset)."""
        if now >= self.reset_at:
            self.reset_at = now + self.window
            self.used = 0
        if self.used >= self.limit:
            return False, self.reset_at - now
        self.used += 1
        return True, self.reset_at - now


@dataclass
class Interaction:
    """An interaction the fake sent over the gateway, and what the bot answered."""

    id: int
    token: str
    payload: dict[str, Any]
    created_at: float
    responded: bool = False
    response: dict[str, Any] | None = None
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Webhook:
    id: int
    token: str
    channel_id: int


class _FormError(Exception):
    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("Invalid Form Body")
        self.errors = errors


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        scope: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        self.headers = headers or {}
        self.scope = scope


def _err(path: list[str], code: str, message: str) -> dict[str, Any]:
    node: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        node = {key: node}
    return node


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if key in into and isinstance(into[key], dict) and isinstance(value, dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _check_len(errors: dict, path: list[str], value: Any, limit: int, required=False) -> int:
    if value is None:
        if required:
            _merge(errors, _err(path, "BASE_TYPE_REQUIRED", "This field is required"))
        return 0
    if not isinstance(value, str):
        _merge(errors, _err(path, "STRING_TYPE_CONVERT", "Could not interpret as string."))
        return 0
    if len(value) > limit:
        _merge(
            errors,
            _err(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."),
        )
    if required and not value.strip():
        _merge(errors, _err(path, "BASE_TYPE_REQUIRED", "This field is required"))
    return len(value)


def validate_message(payload: Any) -> None:
    """Raise _FormError (-> 400/50035) when a message payload breaks a Discord limit."""
    if not isinstance(payload, dict):
        raise _FormError({"_errors": [{"code": "DICT_TYPE_CONVERT", "message": "Not a dict"}]})
    errors: dict[str, Any] = {}
    _check_len(errors, ["content"], payload.get("content"), LIMITS["content"])
    nonce = payload.get("nonce")
    if nonce is not None and isinstance(nonce, str) and len(nonce) > LIMITS["nonce"]:
        _merge(errors, _err(["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
    embeds = payload.get("embeds") or []
    if not isinstance(embeds, list):
        _merge(errors, _err(["embeds"], "LIST_TYPE_CONVERT", "Must be a list."))
        embeds = []
    if len(embeds) > LIMITS["embeds"]:
        _merge(errors, _err(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."))
    total = 0
    for i, embed in enumerate(embeds):
        p = ["embeds", str(i)]
        if not isinstance(embed, dict):
            _merge(errors, _err(p, "DICT_TYPE_CONVERT", "Only dictionaries may be used."))
            continue
        total += _check_len(errors, [*p, "title"], embed.get("title"), LIMITS["title"])
        total += _check_len(
            errors, [*p, "description"], embed.get("description"), LIMITS["description"]
        )
        footer = embed.get("footer")
        if isinstance(footer, dict):
            total += _check_len(
                errors, [*p, "footer", "text"], footer.get("text"), LIMITS["footer"], True
            )
        author = embed.get("author")
        if isinstance(author, dict):
            total += _check_len(
                errors, [*p, "author", "name"], author.get("name"), LIMITS["author"], True
            )
        fields = embed.get("fields") or []
        if len(fields) > LIMITS["fields"]:
            _merge(
                errors,
                _err([*p, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."),
            )
        for j, fld in enumerate(fields):
            fp = [*p, "fields", str(j)]
            if not isinstance(fld, dict):
                _merge(errors, _err(fp, "DICT_TYPE_CONVERT", "Only dictionaries may be used."))
                continue
            total += _check_len(errors, [*fp, "name"], fld.get("name"), LIMITS["field_name"], True)
            total += _check_len(
                errors, [*fp, "value"], fld.get("value"), LIMITS["field_value"], True
            )
        url = embed.get("url")
        if url is not None and not (
            isinstance(url, str) and url.startswith(("http://", "https://"))
        ):
            _merge(errors, _err([*p, "url"], "URL_TYPE_INVALID_URL", "Not a well formed URL."))
    if total > LIMITS["total"]:
        _merge(
            errors,
            _err(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"),
        )
    if errors:
        raise _FormError(errors)
    if not payload.get("content") and not embeds and not payload.get("components"):
        raise _ApiError(400, 50006, "Cannot send an empty message")


def embed_size(embed: dict[str, Any]) -> int:
    """Characters Discord counts toward the 6,000 per message."""
    n = len(embed.get("title") or "") + len(embed.get("description") or "")
    n += len((embed.get("footer") or {}).get("text") or "")
    n += len((embed.get("author") or {}).get("name") or "")
    for fld in embed.get("fields") or []:
        n += len(fld.get("name") or "") + len(fld.get("value") or "")
    return n


class FakeDiscord:
    """The fake Discord server. See the module docstring."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        application_id: int = 900000000000000001,
        bot_user_id: int | None = None,
        bot_name: str = "hotpapers",
        global_limit: int = 50,
        global_window: float = 1.0,
        channel_limit: int = 5,
        channel_window: float = 5.0,
        webhook_limit: int = 5,
        webhook_window: float = 2.0,
        default_channel_state: str = "ok",
        interaction_deadline: float = 3.0,
        nonce_window: float = 300.0,
        heartbeat_interval_ms: int = 41250,
        clock: Callable[[], float] | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user = _user(bot_user_id or application_id, bot_name, bot=True)
        self.global_limit = global_limit
        self.global_window = global_window
        self.channel_limit = channel_limit
        self.channel_window = channel_window
        self.webhook_limit = webhook_limit
        self.webhook_window = webhook_window
        self.default_channel_state = default_channel_state
        self.interaction_deadline = interaction_deadline
        self.nonce_window = nonce_window
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.clock: Callable[[], float] = clock or time.monotonic
        self.faults = faults or Faults()
        self._fault_attempts: Counter[str] = Counter()  # message key -> posts seen

        self.guilds: dict[int, dict[str, Any]] = {}
        self.channel_states: dict[int, str] = {}
        self.channel_guild: dict[int, int] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.interactions: dict[str, Interaction] = {}
        self.callbacks: list[dict[str, Any]] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.requests: list[RequestRecord] = []
        self.status_counts: Counter[int] = Counter()
        self.global_429s = 0
        self.route_429s = 0
        self.injected_429s = 0
        self.duplicates_prevented = 0
        self.gateway_log: list[dict[str, Any]] = []  # what the bot sent (op, d without token)
        self.identifies = 0
        self.resumes = 0
        self.sessions_ready = 0  # READY and every GUILD_CREATE sent: events sent now come after

        self._ids = itertools.count()
        self._global_hits: deque[float] = deque()
        self._buckets: dict[tuple[str, int], _Bucket] = {}
        self._nonces: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
        self._sessions: dict[str, int] = {}  # session_id -> last seq
        self._sockets: list[_GatewayConn] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on a random 127.0.0.1 port; return the base URL (http://127.0.0.1:PORT)."""
        app = web.Application(middlewares=[self._middleware], client_max_size=8 * 1024 * 1024)
        app.router.add_get("/", self._gateway)
        app.router.add_get("/gateway-ws", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        for conn in list(self._sockets):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/"

    # -- configuration ------------------------------------------------------------------------

    def add_guild(
        self, guild_id: int, name: str = "Test guild", channels: dict[int, str] | None = None
    ) -> dict[str, Any]:
        """A guild with text channels {channel_id: name}; it is sent as GUILD_CREATE on READY."""
        guild = {"id": guild_id, "name": name, "channels": {}}
        self.guilds[guild_id] = guild
        for channel_id, channel_name in (channels or {}).items():
            self.add_channel(channel_id, guild_id=guild_id, name=channel_name)
        return guild

    def add_channel(
        self, channel_id: int, *, guild_id: int | None = None, name: str = "papers", state="ok"
    ) -> None:
        """Declare a channel and its state: ok, no_access, no_permission or unknown."""
        if state not in CHANNEL_STATES:
            raise ValueError(f"unknown channel state {state!r}")
        self.channel_states[channel_id] = state
        if guild_id is not None:
            self.channel_guild[channel_id] = guild_id
            self.guilds[guild_id]["channels"][channel_id] = name

    def set_channel_state(self, channel_id: int, state: str) -> None:
        if state not in CHANNEL_STATES:
            raise ValueError(f"unknown channel state {state!r}")
        self.channel_states[channel_id] = state

    def add_webhook(self, channel_id: int, webhook_id: int | None = None) -> str:
        """Create a webhook on a channel; return its execute URL (as Discord shows it)."""
        wid = webhook_id or self._snowflake()
        hook = Webhook(wid, secrets.token_urlsafe(24), channel_id)
        self.webhooks[wid] = hook
        return f"{self.api_url}/webhooks/{wid}/{hook.token}"

    # -- figures ------------------------------------------------------------------------------

    @property
    def invalid_requests(self) -> int:
        """401 + 403 + 429 answers (what Discord counts toward its 10,000 / 10 min ban)."""
        return self.status_counts[401] + self.status_counts[403] + self.status_counts[429]

    def posted(self, channel_id: int) -> list[dict[str, Any]]:
        """The messages in a channel, oldest first."""
        return self.messages.get(channel_id, [])

    # -- helpers ------------------------------------------------------------------------------

    def _snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (1 << 17) | (next(self._ids) & 0x1FFFF)

    def _json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        if status == 204:
            return web.Response(status=204, headers=headers)
        body = json.dumps(data, separators=(",", ":")).encode()
        return web.Response(
            status=status,
            body=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        code = scope = None
        try:
            response = await handler(request)
        except _FormError as exc:
            code = 50035
            response = self._json(
                {"code": 50035, "errors": exc.errors, "message": "Invalid Form Body"}, 400
            )
        except _ApiError as exc:
            code, scope = exc.code, exc.scope
            response = self._json(
                exc.body or {"message": exc.message, "code": exc.code}, exc.status, exc.headers
            )
        response.headers.setdefault("Via", "1.1 google")
        if request.path.startswith(API_PREFIX):
            self.status_counts[response.status] += 1
            self.requests.append(
                RequestRecord(
                    request.method,
                    request.path.removeprefix(API_PREFIX),
                    response.status,
                    self.clock(),
                    time.monotonic(),
                    code,
                    scope,
                )
            )
        return response

    def _auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise _ApiError(401, 0, "401: Unauthorized")

    def _global(self) -> None:
        now = self.clock()
        hits = self._global_hits
        while hits and hits[0] <= now - self.global_window:
            hits.popleft()
        if len(hits) >= self.global_limit:
            oldest = hits[0] if hits else now
            retry = max(0.001, oldest + self.global_window - now)
            self.global_429s += 1
            raise self._too_many(retry, is_global=True, scope="global")
        hits.append(now)

    def _too_many(
        self,
        retry_after: float,
        *,
        is_global: bool,
        scope: str,
        bucket: _Bucket | None = None,
    ) -> _ApiError:
        retry_after = _ms_up(retry_after)
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": "user" if scope == "injected" else scope,
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        if bucket is not None:
            headers.update(self._bucket_headers(bucket, remaining=0, reset_after=retry_after))
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        return _ApiError(429, 0, body["message"], body, headers, scope)

    def _bucket_headers(self, bucket: _Bucket, remaining: int, reset_after: float) -> dict:
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{_ms_up(time.time() + reset_after):.3f}",
            "X-RateLimit-Reset-After": f"{_ms_up(reset_after):.3f}",
            "X-RateLimit-Bucket": bucket.bucket_hash,
        }

    def _take_bucket(self, kind: str, key: int) -> dict[str, str]:
        bucket = self._buckets.get((kind, key))
        if bucket is None:
            if kind == "webhook":
                bucket = _Bucket(self.webhook_limit, self.webhook_window, "fakewebhookbucket")
            else:
                bucket = _Bucket(self.channel_limit, self.channel_window, "fakemessagebucket")
            self._buckets[(kind, key)] = bucket
        allowed, reset_after = bucket.take(self.clock())
        if not allowed:
            self.route_429s += 1
            raise self._too_many(reset_after, is_global=False, scope="user", bucket=bucket)
        return self._bucket_headers(bucket, bucket.limit - bucket.used, reset_after)

    def _inject(self, target: str, payload: Any) -> bool:
        """Apply the fault plan to a message post; True means 'lose the response'.

        The dice are seeded by (seed, target, message, attempt): a message is named by its nonce
        (else by its content), so each message meets the same faults on its n-th try whatever
        other senders do meanwhile (one shared random stream would hand them out in arrival
        order, which depends on scheduling).
        """
        f = self.faults
        if not (f.rate_limit or f.server_error or f.lost_response):
            return False
        nonce = payload.get("nonce") if isinstance(payload, dict) else None
        if nonce is None:
            content = json.dumps(payload, sort_keys=True, separators=(",", ":"))
            nonce = hashlib.sha256(content.encode()).hexdigest()[:16]
        key = f"{target}:{nonce}"
        self._fault_attempts[key] += 1
        rng = random.Random(f"{f.seed}:{key}:{self._fault_attempts[key]}")
        roll = rng.random()
        if roll < f.rate_limit:
            self.injected_429s += 1
            is_global = rng.random() < f.global_share
            retry = f.retry_after * (0.5 + rng.random())
            raise self._too_many(
                retry, is_global=is_global, scope="global" if is_global else "injected"
            )
        roll -= f.rate_limit
        if roll < f.server_error:
            status = rng.choice([500, 502])
            raise _ApiError(status, 0, f"{status}: Internal Server Error", scope="injected")
        roll -= f.server_error
        return roll < f.lost_response

    def _channel(self, channel_id: int) -> None:
        state = self.channel_states.get(channel_id, self.default_channel_state)
        failure = CHANNEL_STATES[state]
        if failure is not None:
            raise _ApiError(*failure)

    async def _body(self, request: web.Request) -> Any:
        if request.content_type == "multipart/form-data":
            form = await request.post()
            raw = form.get("payload_json")
            text = raw if isinstance(raw, str) else ""
        else:
            text = await request.text()
        if not text:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise _ApiError(400, 50109, "The request body contains invalid JSON.") from None

    def _message(
        self,
        channel_id: int,
        payload: dict[str, Any],
        *,
        author: dict[str, Any] | None = None,
        webhook_id: int | None = None,
        interaction: Interaction | None = None,
    ) -> dict[str, Any]:
        embeds = []
        for embed in payload.get("embeds") or []:
            embeds.append({"type": "rich", **embed})
        message: dict[str, Any] = {
            "id": str(self._snowflake()),
            "type": 0 if interaction is None else 20,
            "channel_id": str(channel_id),
            "author": author or self.bot_user,
            "content": payload.get("content") or "",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": embeds,
            "pinned": False,
            "flags": int(payload.get("flags") or 0),
            "components": payload.get("components") or [],
        }
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        if webhook_id is not None:
            message["webhook_id"] = str(webhook_id)
        if interaction is not None:
            data = interaction.payload
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": data["type"],
                "user": _invoker(data),
                "authorizing_integration_owners": {},
            }
        # What the bot asked for, kept for assertions (not part of Discord's answer).
        message["_allowed_mentions"] = payload.get("allowed_mentions")
        return message

    def _public(self, message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if not k.startswith("_")}

    def _create(self, channel_id: int, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """Create a message (or return the original for a repeated enforced nonce)."""
        nonce = payload.get("nonce")
        now = self.clock()
        key = (channel_id, str(nonce))
        if nonce is not None and payload.get("enforce_nonce"):
            seen = self._nonces.get(key)
            if seen is not None and now - seen[0] <= self.nonce_window:
                self.duplicates_prevented += 1
                return seen[1]
        message = self._message(channel_id, payload, **kw)
        self.messages.setdefault(channel_id, []).append(message)
        if nonce is not None and payload.get("enforce_nonce"):
            self._nonces[key] = (now, message)
        return message

    # -- REST routing -------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = request.match_info["tail"].strip("/").split("/")
        method = request.method
        match parts:
            case ["users", "@me"] if method == "GET":
                self._auth(request)
                self._global()
                return self._json(self.bot_user)
            case ["oauth2", "applications", "@me"] if method == "GET":
                self._auth(request)
                self._global()
                return self._json(self._application())
            case ["gateway"] if method == "GET":
                return self._json({"url": self.gateway_url.rstrip("/")})
            case ["gateway", "bot"] if method == "GET":
                self._auth(request)
                self._global()
                return self._json(
                    {
                        "url": self.gateway_url.rstrip("/"),
                        "shards": 1,
                        "session_start_limit": {
                            "total": 1000,
                            "remaining": 999,
                            "reset_after": 14400000,
                            "max_concurrency": 1,
                        },
                    }
                )
            case ["channels", cid, "messages"] if method == "POST":
                return await self._post_message(request, _int(cid))
            case ["channels", cid, "messages"] if method == "GET":
                self._auth(request)
                self._global()
                self._channel(_int(cid))
                limit = int(request.query.get("limit", "50"))
                msgs = [self._public(m) for m in reversed(self.posted(_int(cid)))][:limit]
                return self._json(msgs)
            case ["interactions", iid, token, "callback"] if method == "POST":
                return await self._callback(request, iid, token)
            case ["webhooks", wid, token] if method == "POST":
                return await self._execute_webhook(request, _int(wid), token)
            case ["webhooks", wid, token, "messages", "@original"] if method in ("PATCH", "GET"):
                return await self._original(request, _int(wid), token)
            case ["applications", aid, "commands"] if method in ("PUT", "GET"):
                return await self._commands(request, _int(aid), None)
            case ["applications", aid, "guilds", gid, "commands"] if method in ("PUT", "GET"):
                return await self._commands(request, _int(aid), _int(gid))
        raise _ApiError(404, 0, "404: Not Found")

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "Daily hot arXiv papers",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": _user(100, "owner"),
            "team": None,
            "bot": self.bot_user,
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "install_params": None,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
        }

    async def _post_message(self, request: web.Request, channel_id: int) -> web.Response:
        self._auth(request)
        self._global()
        payload = await self._body(request)
        lose = self._inject(f"channel{channel_id}", payload)
        self._channel(channel_id)
        validate_message(payload)
        headers = self._take_bucket("channel", channel_id)
        message = self._create(channel_id, payload)
        if lose:
            raise _ApiError(500, 0, "500: Internal Server Error", scope="lost")
        return self._json(self._public(message), headers=headers)

    async def _execute_webhook(self, request: web.Request, wid: int, token: str) -> web.Response:
        if wid == self.application_id:  # an interaction follow-up
            inter = self._interaction(token, followup=True)
            payload = await self._body(request)
            validate_message(payload)
            message = self._message(
                _channel_of(inter.payload), payload, author=self.bot_user, interaction=inter
            )
            inter.followups.append(message)
            return self._json(self._public(message))
        hook = self.webhooks.get(wid)
        if hook is None or hook.token != token:
            raise _ApiError(404, 10015, "Unknown Webhook")
        payload = await self._body(request)
        lose = self._inject(f"webhook{wid}", payload)
        self._channel(hook.channel_id)
        validate_message(payload)
        headers = self._take_bucket("webhook", wid)
        author = {**_user(wid, payload.get("username") or "Hot Papers", bot=True)}
        message = self._create(hook.channel_id, payload, author=author, webhook_id=wid)
        if lose:
            raise _ApiError(500, 0, "500: Internal Server Error", scope="lost")
        if request.query.get("wait", "false").lower() not in ("true", "1"):
            return self._json(None, 204, headers)
        return self._json(self._public(message), headers=headers)

    def _interaction(self, token: str, *, followup: bool = False) -> Interaction:
        inter = self.interactions.get(token)
        if inter is None:
            raise _ApiError(404, 10062, "Unknown interaction")
        age = self.clock() - inter.created_at
        if followup:
            if age > 15 * 60:
                raise _ApiError(401, 50027, "Invalid Webhook Token")
            if not inter.responded:
                raise _ApiError(404, 10015, "Unknown Webhook")
        elif age > self.interaction_deadline:
            raise _ApiError(404, 10062, "Unknown interaction")
        return inter

    async def _callback(self, request: web.Request, iid: str, token: str) -> web.Response:
        inter = self._interaction(token)
        if str(inter.id) != iid:
            raise _ApiError(404, 10062, "Unknown interaction")
        if inter.responded:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = await self._body(request)
        kind = body.get("type")
        data = body.get("data") or {}
        if kind not in (1, 4, 5, 6, 7, 8, 9):
            raise _FormError(_err(["type"], "BASE_TYPE_CHOICES", "Value must be one of ..."))
        if kind in (4, 7):
            validate_message(data)
        if kind == 8:
            choices = data.get("choices") or []
            if len(choices) > LIMITS["choices"]:
                raise _FormError(
                    _err(
                        ["data", "choices"],
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 25 or fewer in length.",
                    )
                )
            for i, choice in enumerate(choices):
                name = choice.get("name", "")
                value = choice.get("value")
                if not 1 <= len(name) <= 100 or (isinstance(value, str) and len(value) > 100):
                    raise _FormError(
                        _err(
                            ["data", "choices", str(i)],
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.",
                        )
                    )
        inter.responded = True
        inter.response = body
        self.callbacks.append({"interaction_id": inter.id, "token": token, **body})
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(inter.id),
                "type": inter.payload["type"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
            }
        }
        if kind in (4, 5, 7):
            message = self._message(
                _channel_of(inter.payload),
                data if kind != 5 else {**data, "content": ""},
                interaction=inter,
            )
            inter.original = message
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"] = {"type": kind, "message": self._public(message)}
        elif kind in (6, 8, 9):
            answer["resource"] = {"type": kind}
        if request.query.get("with_response") in ("1", "true", "True"):
            return self._json(answer)
        return self._json(None, 204)

    async def _original(self, request: web.Request, app_id: int, token: str) -> web.Response:
        if app_id != self.application_id:
            raise _ApiError(404, 10015, "Unknown Webhook")
        inter = self._interaction(token, followup=True)
        if inter.original is None:
            raise _ApiError(404, 10008, "Unknown Message")
        if request.method == "PATCH":
            payload = await self._body(request)
            validate_message({"content": "x", **payload} if "content" not in payload else payload)
            for key in ("content", "components", "flags"):
                if key in payload:
                    inter.original[key] = payload[key]
            if "embeds" in payload:
                inter.original["embeds"] = [{"type": "rich", **e} for e in payload["embeds"] or []]
            inter.original["edited_timestamp"] = dt.datetime.now(dt.UTC).isoformat()
            inter.edits.append(payload)
        return self._json(self._public(inter.original))

    async def _commands(self, request: web.Request, app_id: int, guild_id: int | None):
        self._auth(request)
        self._global()
        if app_id != self.application_id:
            raise _ApiError(403, 50001, "Missing Access")
        if request.method == "GET":
            return self._json(self.commands.get(guild_id, []))
        body = await self._body(request)
        if not isinstance(body, list) or len(body) > 100:
            raise _FormError(_err([], "LIST_TYPE_CONVERT", "Must be a list of at most 100."))
        stored = []
        for i, cmd in enumerate(body):
            name = cmd.get("name", "")
            kind = cmd.get("type", 1)
            if not 1 <= len(name) <= 32 or (kind == 1 and name != name.lower()):
                raise _FormError(_err([str(i), "name"], "APPLICATION_COMMAND_INVALID_NAME", name))
            if kind == 1 and not 1 <= len(cmd.get("description", "")) <= 100:
                raise _FormError(
                    _err([str(i), "description"], "BASE_TYPE_BAD_LENGTH", "1 to 100 characters")
                )
            if len(cmd.get("options") or []) > 25:
                raise _FormError(
                    _err([str(i), "options"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")
                )
            stored.append(
                {
                    "id": str(self._snowflake()),
                    "application_id": str(self.application_id),
                    "version": str(self._snowflake()),
                    "type": kind,
                    "options": [],
                    "default_member_permissions": None,
                    "dm_permission": True,
                    "nsfw": False,
                    "integration_types": [0],
                    "contexts": None,
                    **({"guild_id": str(guild_id)} if guild_id else {}),
                    **cmd,
                }
            )
        self.commands[guild_id] = stored
        return self._json(stored)

    # -- interactions -------------------------------------------------------------------------

    async def interact(
        self,
        data: dict[str, Any],
        *,
        type: int = 2,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user_id: int = 200,
        permissions: str = ADMIN_PERMISSIONS,
        message: dict[str, Any] | None = None,
    ) -> Interaction:
        """Send an INTERACTION_CREATE over the gateway (type 2 command, 3 component, 4
        autocomplete); the bot's answers are recorded on the returned Interaction."""
        iid = self._snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        user = _user(user_id, f"user{user_id}")
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": type,
            "data": data,
            "token": token,
            "version": 1,
            "app_permissions": ADMIN_PERMISSIONS,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10485760,
        }
        if channel_id is not None:
            payload["channel_id"] = str(channel_id)
            payload["channel"] = _channel_payload(channel_id, guild_id, "papers")
            if guild_id is None:
                payload["channel"] = {
                    "id": str(channel_id),
                    "type": 1,
                    "recipients": [user],
                    "last_message_id": None,
                    "flags": 0,
                }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["member"] = {**_member(user), "permissions": permissions}
            payload["context"] = 0
            payload["authorizing_integration_owners"] = {"0": str(guild_id)}
        else:
            payload["user"] = user
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"1": str(user_id)}
        if message is not None:
            payload["message"] = message
        inter = Interaction(iid, token, payload, self.clock())
        self.interactions[token] = inter
        await self.dispatch_event("INTERACTION_CREATE", payload)
        return inter

    def slash(self, name: str, options: list[dict[str, Any]] | None = None, **kw: Any) -> dict:
        """The ``data`` of a chat-input command interaction (options as Discord sends them)."""
        return {"id": str(self._snowflake()), "name": name, "type": 1, "options": options or []}

    # -- gateway ------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = _GatewayConn(ws, request.query.get("compress") == "zlib-stream")
        self._sockets.append(conn)
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_gateway(conn, json.loads(msg.data))
        except (ConnectionResetError, RuntimeError):
            pass
        finally:
            if conn in self._sockets:
                self._sockets.remove(conn)
        return ws

    async def _on_gateway(self, conn: _GatewayConn, msg: dict[str, Any]) -> None:
        op, d = msg.get("op"), msg.get("d")
        logged = dict(d) if isinstance(d, dict) else d
        if isinstance(logged, dict) and "token" in logged:
            logged["token"] = "<redacted>"
        self.gateway_log.append({"op": op, "d": logged})
        if op == 1:
            await conn.send({"op": 11})
        elif op == 2:
            if d.get("token") != self.token:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            self.identifies += 1
            conn.session_id = secrets.token_hex(16)
            conn.identified = True
            await self._send_ready(conn)
            self.sessions_ready += 1
        elif op == 6:
            session = d.get("session_id")
            if d.get("token") != self.token:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            if session not in self._sessions:
                await conn.send({"op": 9, "d": False})
                return
            self.resumes += 1
            conn.session_id = session
            conn.seq = self._sessions[session]
            conn.identified = True
            await conn.dispatch("RESUMED", {}, self._sessions)
        elif op in (3, 4, 8):
            pass  # presence, voice, request members: accepted, ignored
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")

    async def _send_ready(self, conn: _GatewayConn) -> None:
        ready = {
            "v": 10,
            "user": self.bot_user,
            "user_settings": {},
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "session_id": conn.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": ["us-east"],
            "application": {"id": str(self.application_id), "flags": 0},
            "_trace": ['["fake-gateway",{"micros":1}]'],
        }
        await conn.dispatch("READY", ready, self._sessions)
        for guild_id in self.guilds:
            await conn.dispatch("GUILD_CREATE", self._guild_payload(guild_id), self._sessions)

    def _guild_payload(self, guild_id: int) -> dict[str, Any]:
        guild = self.guilds[guild_id]
        gid = str(guild_id)
        return {
            "id": gid,
            "name": guild["name"],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": "100",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "features": [],
            "roles": [
                {
                    "id": gid,
                    "name": "@everyone",
                    "permissions": EVERYONE_PERMISSIONS,
                    "position": 0,
                    "color": 0,
                    "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "icon": None,
                    "unicode_emoji": None,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "joined_at": "2021-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "member_count": 2,
            "members": [_member(self.bot_user)],
            "channels": [
                _channel_payload(cid, None, name, position=n)
                for n, (cid, name) in enumerate(guild["channels"].items())
            ],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "application_id": None,
            "hub_type": None,
            "latest_onboarding_question_id": None,
            "home_header": None,
            "incidents_data": None,
            "version": 1,
        }

    async def dispatch_event(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH to every identified gateway connection."""
        for conn in list(self._sockets):
            if conn.identified:
                with contextlib.suppress(ConnectionResetError, RuntimeError):
                    await conn.dispatch(event, data, self._sessions)

    async def send_reconnect(self) -> None:
        """Op 7 RECONNECT: the client should close and RESUME."""
        for conn in list(self._sockets):
            await conn.send({"op": 7, "d": None})

    async def send_invalid_session(self, resumable: bool = False) -> None:
        """Op 9 INVALID_SESSION; when not resumable the sessions are forgotten."""
        if not resumable:
            self._sessions.clear()
        for conn in list(self._sockets):
            await conn.send({"op": 9, "d": resumable})

    async def drop_sockets(self, code: int | None = None) -> None:
        """Drop every gateway socket: abruptly (no close frame) or with a close code."""
        for conn in list(self._sockets):
            conn.identified = False
            if code is None:
                transport = conn.ws._req.transport if conn.ws._req else None
                if transport is not None:
                    transport.abort()
            else:
                await conn.ws.close(code=code)

    @property
    def connected(self) -> int:
        """Identified (or resumed) gateway connections."""
        return sum(1 for c in self._sockets if c.identified)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll predicate until it holds (TimeoutError after timeout seconds)."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.01)


class _GatewayConn:
    def __init__(self, ws: web.WebSocketResponse, zlib_stream: bool) -> None:
        self.ws = ws
        self.session_id: str | None = None
        self.identified = False
        self.seq = 0
        self._zlib = zlib.compressobj() if zlib_stream else None

    async def send(self, payload: dict[str, Any]) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        if self._zlib is None:
            await self.ws.send_str(text)
        else:
            data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)

    async def dispatch(self, event: str, data: dict[str, Any], sessions: dict[str, int]) -> None:
        self.seq += 1
        if self.session_id is not None:
            sessions[self.session_id] = self.seq
        await self.send({"op": 0, "t": event, "s": self.seq, "d": data})


def _ms_up(seconds: float) -> float:
    """Seconds rounded up to the millisecond: a client that waits exactly what it is told is
    never early (rounding to nearest could tell it to come back up to 0.5 ms too soon)."""
    return math.ceil(seconds * 1000) / 1000


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _FormError(
            _err([], "NUMBER_TYPE_COERCE", f"Value {value!r} is not snowflake.")
        ) from None


def _user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    user = {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": None if bot else name.title(),
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
    }
    if bot:
        user["bot"] = True
        user["verified"] = True
        user["mfa_enabled"] = False
    return user


def _member(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "user": user,
        "roles": [],
        "joined_at": "2021-01-01T00:00:00+00:00",
        "nick": None,
        "avatar": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }


def _channel_payload(
    channel_id: int, guild_id: int | None, name: str, position: int = 0
) -> dict[str, Any]:
    channel = {
        "id": str(channel_id),
        "type": 0,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": None,
        "topic": None,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
    if guild_id is not None:
        channel["guild_id"] = str(guild_id)
    return channel


def _channel_of(payload: dict[str, Any]) -> int:
    return int(payload.get("channel_id") or 0)


def _invoker(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["member"]["user"] if "member" in payload else payload["user"]


@contextlib.contextmanager
def point_discord_py_at(fake: FakeDiscord | str) -> Iterator[None]:
    """Point discord.py (REST base and default gateway) at the fake; restore on exit."""
    import discord.http
    import yarl
    from discord.gateway import DiscordWebSocket

    url = fake.url if isinstance(fake, FakeDiscord) else fake
    old_base, old_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = f"{url}{API_PREFIX}"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("ws" + url.removeprefix("http") + "/")
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
