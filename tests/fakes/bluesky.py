"""A fake Bluesky PDS/AppView on loopback: sessions and app.bsky.feed.searchPosts.

Build posts with `post_view(...)` (a realistic app.bsky.feed.defs#postView), hand them to
`FakeBluesky(posts=[...])`, and serve `fake.app()` with tests.fakes.server.serve:

    fake = FakeBluesky(posts=[post_view("3kabc", links=["https://arxiv.org/abs/2405.01234"])])
    async with serve(fake.app()) as base_url:  # config: sources.bluesky.base_url = base_url
        ...

Endpoints (names for `fake.fail(name, ...)` and `fake.hits[name]`):
- "createSession"  POST /xrpc/com.atproto.server.createSession {identifier, password}:
  the configured handle/password -> {accessJwt, refreshJwt, handle, did}; anything else ->
  401 {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}.
- "refreshSession" POST /xrpc/com.atproto.server.refreshSession (Bearer refreshJwt) -> a new
  pair; an unknown or used refresh token -> 400 ExpiredToken.
- "searchPosts"    GET /xrpc/app.bsky.feed.searchPosts (Bearer accessJwt): q required, limit
  1-100 (default 25), since/until on indexedAt, domain (link hostname), sort latest, cursor
  (an offset). No token -> 401 AuthenticationRequired; expired -> 400 ExpiredToken.

Knobs: `fake.expire_tokens()` expires every access token handed out so far;
`fake.expire_after = N` expires each access token after N searches; `fake.searches` records
each search's query parameters; `fake.passwords_seen` every password sent to createSession.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tests.fakes.server import Failures

HANDLE = "hotpapers.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"  # an app password's shape

_counter = itertools.count(1)


def _display(url: str) -> str:
    """How Bluesky clients show a link in post text: no scheme, shortened with an ellipsis."""
    shown = url.split("://", 1)[-1]
    return shown if len(shown) <= 27 else shown[:24] + "..."


def post_view(
    rkey: str,
    *,
    handle: str = "alice.bsky.social",
    display_name: str | None = "Alice Example",
    text: str = "Great paper",
    links: tuple[str, ...] | list[str] = (),
    external: str | None = None,
    likes: int = 0,
    reposts: int = 0,
    quotes: int = 0,
    replies: int = 0,
    indexed_at: str = "2024-05-02T10:00:00.000Z",
    created_at: str | None = None,
) -> dict[str, Any]:
    """A postView: `links` become shortened text with link facets (correct UTF-8 byte
    offsets); `external` becomes an external link card (record embed and view embed)."""
    did = f"did:plc:{handle.split('.')[0][:16]:x<16}"
    body = text
    facets = []
    for url in links:
        body += " "
        start = len(body.encode())
        body += _display(url)
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": start, "byteEnd": len(body.encode())},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": body,
        "createdAt": created_at or indexed_at,
        "langs": ["en"],
    }
    if facets:
        record["facets"] = facets
    view: dict[str, Any] = {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": f"bafyreib{rkey}{'a' * 40}"[:59],
        "author": {
            "did": did,
            "handle": handle,
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkrei@jpeg",
            "labels": [],
            "createdAt": "2023-04-01T00:00:00.000Z",
        },
        "record": record,
        "replyCount": replies,
        "repostCount": reposts,
        "likeCount": likes,
        "quoteCount": quotes,
        "indexedAt": indexed_at,
        "labels": [],
    }
    if display_name is not None:
        view["author"]["displayName"] = display_name
    if external:
        card = {"uri": external, "title": "A paper on arXiv", "description": "Abstract: ..."}
        record["embed"] = {"$type": "app.bsky.embed.external", "external": card}
        view["embed"] = {
            "$type": "app.bsky.embed.external#view",
            "external": {**card, "thumb": "https://cdn.bsky.app/img/feed_thumbnail/x@jpeg"},
        }
    return view


def _error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


def _parse_time(value: str) -> dt.datetime:
    if len(value) == 10:
        value += "T00:00:00Z"
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _hosts(view: dict[str, Any]) -> set[str]:
    record = view.get("record") or {}
    urls = [
        f.get("uri", "")
        for facet in record.get("facets") or []
        for f in facet.get("features") or []
    ]
    external = ((view.get("embed") or {}).get("external") or {}).get("uri")
    if external:
        urls.append(external)
    return {urlsplit(u).hostname or "" for u in urls}


class FakeBluesky(Failures):
    """The fake server's state; see the module docstring."""

    def __init__(
        self,
        posts: list[dict[str, Any]] | None = None,
        *,
        handle: str = HANDLE,
        password: str = PASSWORD,
    ) -> None:
        super().__init__()
        self.posts = list(posts or [])
        self.handle = handle
        self.password = password
        self.access: dict[str, int] = {}  # valid access token -> searches made with it
        self.refresh: set[str] = set()
        self.expire_after: int | None = None
        self.searches: list[dict[str, str]] = []
        self.passwords_seen: list[str] = []

    def expire_tokens(self) -> None:
        """Every access token handed out so far answers ExpiredToken from now on."""
        self.access.clear()

    def _session(self) -> dict[str, str]:
        n = next(_counter)
        access, refresh = f"eyJhbGciOi.access{n}.sig", f"eyJhbGciOi.refresh{n}.sig"
        self.access[access] = 0
        self.refresh.add(refresh)
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": self.handle,
            "did": "did:plc:hotpapers0000000",
            "active": True,
        }

    @staticmethod
    def _bearer(request: web.Request) -> str | None:
        value = request.headers.get("Authorization", "")
        return value[len("Bearer ") :] if value.startswith("Bearer ") else None

    async def create_session(self, request: web.Request) -> web.Response:
        if failure := await self.scripted("createSession", request):
            return failure
        body = await request.json()
        self.passwords_seen.append(str(body.get("password")))
        if body.get("identifier") != self.handle or body.get("password") != self.password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        return web.json_response(self._session())

    async def refresh_session(self, request: web.Request) -> web.Response:
        if failure := await self.scripted("refreshSession", request):
            return failure
        token = self._bearer(request)
        if token not in self.refresh:
            return _error(400, "ExpiredToken", "Token has expired")
        self.refresh.discard(token)
        return web.json_response(self._session())

    async def search_posts(self, request: web.Request) -> web.Response:
        if failure := await self.scripted("searchPosts", request):
            return failure
        token = self._bearer(request)
        if token is None:
            return _error(401, "AuthenticationRequired", "Authentication Required")
        if token not in self.access:
            return _error(400, "ExpiredToken", "Token has expired")
        self.access[token] += 1
        if self.expire_after is not None and self.access[token] > self.expire_after:
            del self.access[token]
            return _error(400, "ExpiredToken", "Token has expired")
        q = request.query
        self.searches.append(dict(q))
        if not q.get("q"):
            return _error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        limit = int(q.get("limit", "25"))
        if not 1 <= limit <= 100:
            return _error(400, "InvalidRequest", "Error: limit must be between 1 and 100")
        matches = sorted(self.posts, key=lambda p: p["indexedAt"], reverse=True)
        if "since" in q:
            matches = [p for p in matches if _parse_time(p["indexedAt"]) >= _parse_time(q["since"])]
        if "until" in q:
            matches = [p for p in matches if _parse_time(p["indexedAt"]) < _parse_time(q["until"])]
        if "domain" in q:
            matches = [p for p in matches if q["domain"] in _hosts(p)]
        offset = int(q.get("cursor", "0"))
        page = matches[offset : offset + limit]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(matches)}
        if offset + limit < len(matches):
            body["cursor"] = str(offset + limit)
        return web.json_response(body)

    def app(self) -> web.Application:
        """The aiohttp application serving this fake."""
        app = web.Application()
        app.router.add_post("/xrpc/com.atproto.server.createSession", self.create_session)
        app.router.add_post("/xrpc/com.atproto.server.refreshSession", self.refresh_session)
        app.router.add_get("/xrpc/app.bsky.feed.searchPosts", self.search_posts)
        return app
