"""Bluesky: posts that link to arXiv, found with app.bsky.feed.searchPosts (app password needed).

One search covers every paper: `q=arxiv.org` filtered with `domain=arxiv.org` over the window
(`since`/`until`), paged by cursor, 100 posts a page. Each post's links (rich-text link facets,
the external embed, the text) map to canonical arXiv ids. Search needs a session
(`com.atproto.server.createSession`); an expired access token (`ExpiredToken`) is refreshed
with the refresh token (`com.atproto.server.refreshSession`) and the request retried once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from bot import arxiv_ids
from bot.config import ENV_BLUESKY_PASSWORD, Config
from bot.errors import InvalidArxivId, MalformedResponse, SourceError
from bot.http import SourceContext, ensure_ok, scrub
from bot.models import Post
from bot.sources.base import SourceResult
from bot.sources.posts import (
    Page,
    about,
    counter_value,
    dedupe,
    follow_pages,
    iso_z,
    json_list,
    tally,
)

log = logging.getLogger(__name__)

NAME = "bluesky"
SEARCH_QUERY = "arxiv.org"
SEARCH_DOMAIN = "arxiv.org"
PAGE_SIZE = 100  # the lexicon's maximum
MAX_PAGES = 100  # 10,000 posts a run; search may not page further anyway
_LINK_FACET = "app.bsky.richtext.facet#link"


# -- parsing (pure) ----------------------------------------------------------------------------


def web_url(at_uri: str, handle: str) -> str:
    """https://bsky.app/profile/HANDLE/post/RKEY for at://DID/app.bsky.feed.post/RKEY."""
    prefix = "at://"
    parts = at_uri[len(prefix) :].split("/") if at_uri.startswith(prefix) else []
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post" or not parts[2]:
        raise ValueError(f"uri is not a post's at:// uri: {at_uri[:100]!r}")
    return f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}"


def _external_uri(embed: Any) -> str | None:
    """The external link of an embed (record embed or view), looking inside recordWithMedia."""
    if not isinstance(embed, dict):
        return None
    external = embed.get("external")
    if isinstance(external, dict) and isinstance(external.get("uri"), str):
        return external["uri"]
    # recordWithMedia: the media part may be an external card; the quoted record is not ours.
    return _external_uri(embed.get("media"))


def linked_urls(view: dict[str, Any]) -> list[str]:
    """Every URL a post links to: link facets, external embed (record and view)."""
    urls: list[str] = []
    record = view.get("record") if isinstance(view.get("record"), dict) else {}
    for facet in json_list(record.get("facets")):
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in json_list(features):
            if (
                isinstance(feature, dict)
                and feature.get("$type") == _LINK_FACET
                and isinstance(feature.get("uri"), str)
            ):
                urls.append(feature["uri"])
    for embed in (view.get("embed"), record.get("embed")):
        uri = _external_uri(embed)
        if uri:
            urls.append(uri)
    return urls


def paper_ids(urls: Sequence[str], text: str) -> list[str]:
    """Canonical arXiv ids from a post's links (any form), then its text, first seen first."""
    found: dict[str, None] = {}
    for url in urls:
        try:
            found.setdefault(arxiv_ids.parse(url), None)
        except InvalidArxivId:
            for arxiv_id in arxiv_ids.find_all(url):
                found.setdefault(arxiv_id, None)
    for arxiv_id in arxiv_ids.find_all(text):
        found.setdefault(arxiv_id, None)
    return list(found)


def parse_post_view(view: Any) -> list[Post]:
    """One Post per paper a postView links to (none if it links to no paper).

    Raises ValueError saying what is wrong when the record is malformed.
    """
    if not isinstance(view, dict):
        raise ValueError(f"post is not an object: {type(view).__name__}")
    uri, author, record = view.get("uri"), view.get("author"), view.get("record")
    if not isinstance(uri, str):
        raise ValueError("post has no uri")
    if not isinstance(author, dict) or not isinstance(author.get("handle"), str):
        raise ValueError(f"post {uri[:100]} has no author handle")
    if not isinstance(record, dict):
        raise ValueError(f"post {uri[:100]} has no record")
    text = record.get("text") if isinstance(record.get("text"), str) else ""
    handle = author["handle"]
    url = web_url(uri, handle)
    counts = {
        name: counter_value(view.get(key), key)
        for name, key in (
            ("likes", "likeCount"),
            ("reposts", "repostCount"),
            ("quotes", "quoteCount"),
            ("replies", "replyCount"),
        )
    }
    posted = record.get("createdAt") or view.get("indexedAt") or ""
    return [
        Post(
            source=NAME,
            url=url,
            arxiv_id=arxiv_id,
            author=str(author.get("displayName") or "") or handle,
            handle=handle,
            text=text,
            posted=str(posted),
            **counts,
        )
        for arxiv_id in paper_ids(linked_urls(view), text)
    ]


def parse_search_page(body: Any) -> Page:
    """Parse a searchPosts body; malformed posts are skipped and described in `errors`.

    `next` is the cursor, None at the end (no cursor, or an empty page).
    """
    if not isinstance(body, dict) or not isinstance(body.get("posts"), list):
        raise ValueError("searchPosts answer has no 'posts' list")
    cursor = body.get("cursor")
    page = Page(next=cursor if isinstance(cursor, str) and cursor and body["posts"] else None)
    for n, view in enumerate(body["posts"]):
        try:
            page.posts.extend(parse_post_view(view))
        except ValueError as exc:
            page.errors.append(f"post {n}: {exc}")
    return page


def _xrpc_error(response: httpx.Response) -> tuple[str, str]:
    """(error, message) of an XRPC error body, empty strings when absent or unreadable."""
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    error, message = str(body.get("error") or ""), str(body.get("message") or "")
    return scrub(error, response)[:60], scrub(message, response)[:200]


# -- the source --------------------------------------------------------------------------------


class BlueskySource:
    """The Bluesky signal source (SignalSource)."""

    name = NAME

    def __init__(self, config: Config, ctx: SourceContext) -> None:
        self.config = config
        self.settings = config.sources.bluesky
        self.ctx = ctx
        self._access: str | None = None
        self._refresh: str | None = None

    def unavailable_reason(self) -> str | None:
        """Why Bluesky cannot run (disabled, no handle, no app password), or None."""
        if not self.settings.enabled:
            return "disabled in config"
        if not self.settings.handle:
            return "no sources.bluesky.handle in the config"
        if not self.config.secrets.bluesky_password:
            return f"no {ENV_BLUESKY_PASSWORD} in the environment"
        return None

    def _url(self, nsid: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/xrpc/{nsid}"

    async def _send(self, method: str, nsid: str, **kwargs: Any) -> httpx.Response:
        return await self.ctx.request(
            method,
            self._url(nsid),
            source=NAME,
            min_interval=self.settings.min_interval,
            **kwargs,
        )

    def _take_session(self, response: httpx.Response, what: str) -> None:
        try:
            body = json.loads(response.content)
            access, refresh = body["accessJwt"], body["refreshJwt"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
            raise MalformedResponse(NAME, f"{what}: answer has no accessJwt/refreshJwt") from None
        if not (isinstance(access, str) and isinstance(refresh, str) and access and refresh):
            raise MalformedResponse(NAME, f"{what}: accessJwt/refreshJwt are not strings")
        self._access, self._refresh = access, refresh

    async def login(self) -> None:
        """Open a session with the configured handle and app password."""
        handle = self.settings.handle
        response = await self._send(
            "POST",
            "com.atproto.server.createSession",
            json={"identifier": handle, "password": self.config.secrets.bluesky_password},
        )
        if response.status_code in (400, 401):
            error, _ = _xrpc_error(response)
            raise SourceError(
                NAME,
                f"login as {handle} rejected (HTTP {response.status_code}"
                f"{' ' + error if error else ''}); check sources.bluesky.handle and "
                f"{ENV_BLUESKY_PASSWORD} (an app password, not the account password)",
            )
        ensure_ok(response, NAME)
        self._take_session(response, "createSession")
        log.info("bluesky: logged in as %s", handle)

    async def _refresh_session(self) -> None:
        """Swap the refresh token for a new session; log in again if it is refused."""
        response = await self._send(
            "POST",
            "com.atproto.server.refreshSession",
            headers={"Authorization": f"Bearer {self._refresh}"},
        )
        if response.status_code in (400, 401):
            error, _ = _xrpc_error(response)
            log.info("bluesky: refresh refused (%s); logging in again", error or "no reason")
            await self.login()
            return
        ensure_ok(response, NAME)
        self._take_session(response, "refreshSession")
        log.info("bluesky: session refreshed")

    async def _search(self, params: dict[str, Any]) -> httpx.Response:
        """One searchPosts request; on ExpiredToken, refresh the session and retry once."""
        if self._access is None:
            await self.login()
        for attempt in range(2):
            response = await self._send(
                "GET",
                "app.bsky.feed.searchPosts",
                params=params,
                headers={"Authorization": f"Bearer {self._access}"},
            )
            if response.status_code in (400, 401) and attempt == 0:
                error, _ = _xrpc_error(response)
                if error in ("ExpiredToken", "InvalidToken"):
                    log.info("bluesky: access token expired; refreshing the session")
                    await self._refresh_session()
                    continue
            if response.status_code in (400, 401):
                error, message = _xrpc_error(response)
                raise SourceError(
                    NAME,
                    f"searchPosts refused (HTTP {response.status_code} {error}: {message})",
                )
            return ensure_ok(response, NAME)
        raise AssertionError("unreachable")  # pragma: no cover

    async def collect(
        self, day: dt.date, ids: Sequence[str], since: dt.datetime, until: dt.datetime
    ) -> SourceResult:
        """Posts linking to arXiv in [since, until), with likes/reposts/quotes/replies per paper.

        The search finds every arXiv link of the window; only posts about `ids` are kept
        (all of them when `ids` is empty), so old papers do not become the day's candidates.
        """
        result = SourceResult(source=NAME)
        before = self.ctx.counter[NAME]
        try:
            params: dict[str, Any] = {
                "q": SEARCH_QUERY,
                "domain": SEARCH_DOMAIN,
                "sort": "latest",
                "since": iso_z(since),
                "until": iso_z(until),
                "limit": PAGE_SIZE,
            }
            posts = await follow_pages(
                self._search,
                parse_search_page,
                params,
                page_param="cursor",
                max_pages=MAX_PAGES,
                result=result,
                what="searchPosts",
            )
        finally:
            result.requests = self.ctx.counter[NAME] - before
        result.posts = about(dedupe(posts), ids)
        result.signals = tally(NAME, result.posts)
        log.info(
            "bluesky: %d posts about %d papers for %s (%d requests)",
            len(result.posts),
            len(result.signals),
            day.isoformat(),
            result.requests,
        )
        return result
