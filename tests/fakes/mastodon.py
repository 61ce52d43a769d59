"""A fake Mastodon instance on loopback serving GET /api/v1/trends/links (public).

Build entries with `trend_link(...)` (a Trends::Link: a PreviewCard plus 7 days of
`history`, newest first, day = that UTC midnight as a string of epoch seconds, uses and
accounts as strings), then:

    fake = FakeMastodon([trend_link("https://arxiv.org/abs/2405.01234", {DAY: (12, 9)})])
    async with serve(fake.app()) as base_url:  # config: sources.mastodon.instances = [base_url]
        ...

Like Mastodon, `limit` defaults to 10 and is capped at 20; `offset` pages; a `Link` header
points at the next page. Endpoint name for `fake.fail` / `fake.hits`: "links";
`fake.requests` records each request's query parameters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from tests.fakes.server import Failures

TODAY = dt.date(2024, 5, 3)


def trend_link(
    url: str,
    history: dict[dt.date, tuple[int, int]] | None = None,
    *,
    title: str = "Attention Is Still All You Need",
    description: str = "We revisit the transformer...",
    provider_name: str = "arXiv.org",
    today: dt.date = TODAY,
) -> dict[str, Any]:
    """A trending link; `history` maps UTC days to (uses, accounts), 0 for the other days."""
    history = history or {}
    days = [today - dt.timedelta(days=n) for n in range(7)]
    return {
        "url": url,
        "title": title,
        "description": description,
        "language": "en",
        "type": "link",
        "author_name": "",
        "author_url": "",
        "provider_name": provider_name,
        "provider_url": "",
        "html": "",
        "width": 1200,
        "height": 700,
        "image": "https://files.example/cache/preview_cards/images/000/000/001/original/a.png",
        "image_description": "",
        "embed_url": "",
        "blurhash": "UcQmF#ay~qofj[WBj[j[~qof9Fayofofayay",
        "published_at": None,
        "authors": [],
        "history": [
            {
                "day": str(int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp())),
                "accounts": str(history.get(d, (0, 0))[1]),
                "uses": str(history.get(d, (0, 0))[0]),
            }
            for d in days
        ],
    }


class FakeMastodon(Failures):
    """One fake instance's trending links; see the module docstring."""

    def __init__(self, links: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.links = list(links or [])
        self.requests: list[dict[str, str]] = []

    async def trending_links(self, request: web.Request) -> web.Response:
        if failure := await self.scripted("links", request):
            return failure
        self.requests.append(dict(request.query))
        limit = min(int(request.query.get("limit", "10")), 20)
        offset = int(request.query.get("offset", "0"))
        page = self.links[offset : offset + limit]
        headers = {}
        if offset + limit < len(self.links):
            next_url = request.url.with_query(limit=limit, offset=offset + limit)
            headers["Link"] = f'<{next_url}>; rel="next"'
        return web.json_response(page, headers=headers)

    def app(self) -> web.Application:
        """The aiohttp application serving this fake."""
        app = web.Application()
        app.router.add_get("/api/v1/trends/links", self.trending_links)
        return app
