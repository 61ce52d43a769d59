"""One aiohttp fake server on 127.0.0.1 for arXiv (RSS + API), Hugging Face and Hacker News.

Usage (in an async test or benchmark)::

    async with FakeSources() as fake:
        fake.add_papers(many_papers(3))                 # listed today and known to the API
        fake.hf_daily["2024-05-02"] = [daily_item("2405.00001", upvotes=50)]
        fake.hn_hits.append(story_hit(1, "https://arxiv.org/abs/2405.00001v2", created=...))
        fake.fail("huggingface", Failure(429, retry_after="1"))  # next HF request gets a 429
        config = fake.config()                          # a Config pointing every source here
        ...
        fake.requests                                   # [(source, "/path?query"), ...]

Content (all plain attributes, change them at any time):
- `rss_papers`: the current mailing (FakePaper list; empty = weekend/holiday); `rss_day` its
  date. An item is served for a feed `cs.CV+cs.LG` when one of its categories is requested.
- `api_papers`: id -> FakePaper known to export.arxiv.org/api/query; supports `id_list`
  (malformed id -> the real API's single error entry; `max_results` defaults to 10) and
  `search_query=(cat:A OR cat:B) AND submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]` with
  `start`/`max_results` paging. `api_rejected`: ids answered with the error entry although
  they look valid (to exercise bisection).
- `hf_daily`: "YYYY-MM-DD" -> list of daily items (paged by `limit`, default 50, and `p`);
  `hf_papers`: id -> paper object for /api/papers/{id} (404 otherwise).
- `hn_hits`: story hits for /api/v1/search_by_date, filtered by `numericFilters` on
  created_at_i, `tags=story` and `query` within `url`; newest first; like Algolia, at most
  1,000 hits are reachable per query (`page * hitsPerPage >= 1000` gives no hits).

Failure modes, per source key ("arxiv", "arxiv_rss", "arxiv_api", "huggingface",
"hackernews"): `fail(key, *failures)` queues `Failure`s consumed by the next requests:
`Failure(503)`, `Failure(429, retry_after="2")` (seconds or an HTTP date),
`Failure(200, body="<rss><chan")` (malformed body), `Failure(hang=True)` (no answer at all:
the client times out; see tests.fakes.server.hang).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import unquote

from aiohttp import web

from bot import arxiv_ids
from bot.config import Config, HttpConfig
from bot.errors import InvalidArxivId
from tests.fakes.arxiv import FakePaper, atom_entry, atom_feed, error_entry, rss_feed
from tests.fakes.hackernews import search_response
from tests.fakes.server import hang, release_hangs


@dataclass
class Failure:
    """One scripted bad answer: a status (+ Retry-After), no answer (a timeout), or a bad body."""

    status: int = 503
    retry_after: str | None = None
    hang: bool = False
    body: str | None = None


_SUBMITTED = re.compile(r"submittedDate:\[(\d{12}) TO (\d{12})\]")
_CAT = re.compile(r"cat:([\w.-]+)")
_NUMERIC = re.compile(r"^(\w+)(>=|<=|>|<|=)(-?\d+)$")


class FakeSources:
    """The fake server; see the module docstring for content and failure modes."""

    def __init__(self) -> None:
        self.rss_papers: list[FakePaper] = []
        self.rss_day = dt.date(2024, 5, 2)
        self.api_papers: dict[str, FakePaper] = {}
        self.api_rejected: set[str] = set()
        self.hf_daily: dict[str, list[dict]] = {}
        self.hf_papers: dict[str, dict] = {}
        self.hn_hits: list[dict] = []
        self.failures: dict[str, list[Failure]] = defaultdict(list)
        self.requests: list[tuple[str, str]] = []
        self._runner: web.AppRunner | None = None
        self.root = ""

    # -- content helpers ---------------------------------------------------------------------

    def add_papers(self, papers: list[FakePaper], *, listed: bool = True) -> None:
        """Make papers known to the API and (if listed) part of the current mailing."""
        for p in papers:
            self.api_papers[p.arxiv_id] = p
        if listed:
            self.rss_papers.extend(papers)

    def fail(self, key: str, *failures: Failure) -> None:
        self.failures[key].extend(failures)

    def count(self, source: str) -> int:
        """Requests the server received for a source key."""
        return sum(1 for s, _ in self.requests if s == source or s.startswith(source + "_"))

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeSources:
        app = web.Application()
        app.router.add_get("/arxiv-rss/rss/{cats}", self._rss)
        app.router.add_get("/arxiv-api/api/query", self._api)
        app.router.add_get("/hf/api/daily_papers", self._hf_daily)
        app.router.add_get("/hf/api/papers/{id:.+}", self._hf_paper)
        app.router.add_get("/hn/api/v1/search_by_date", self._hn)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.root = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        release_hangs()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSources:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_urls(self) -> dict[str, str]:
        return {
            "arxiv_rss": f"{self.root}/arxiv-rss",
            "arxiv_api": f"{self.root}/arxiv-api/api/query",
            "huggingface": f"{self.root}/hf",
            "hackernews": f"{self.root}/hn",
        }

    def config(self, base: Config | None = None, **http: object) -> Config:
        """`base` (default: defaults) with every source here, no rate-limit waits, tiny
        retries; `http` overrides HttpConfig fields (e.g. max_retries=1)."""
        base = base or Config()
        urls = self.base_urls
        s = base.sources
        sources = dataclasses.replace(
            s,
            arxiv=dataclasses.replace(
                s.arxiv, rss_url=urls["arxiv_rss"], api_url=urls["arxiv_api"], min_interval=0.0
            ),
            huggingface=dataclasses.replace(
                s.huggingface, base_url=urls["huggingface"], min_interval=0.0
            ),
            hackernews=dataclasses.replace(
                s.hackernews, base_url=urls["hackernews"], min_interval=0.0
            ),
        )
        settings = dataclasses.replace(
            base.http, **{"max_retries": 3, "max_retry_wait": 5.0, "timeout": 5.0, **http}
        )
        assert isinstance(settings, HttpConfig)
        return dataclasses.replace(base, sources=sources, http=settings)

    # -- plumbing ----------------------------------------------------------------------------

    async def _scripted(self, key: str, request: web.Request) -> web.Response | None:
        self.requests.append((key, request.path_qs))
        general = key.split("_")[0]
        for k in (key, general):
            if self.failures.get(k):
                f = self.failures[k].pop(0)
                if f.hang:
                    await hang(request)  # returns when the server closes
                if f.status == 200 and f.body is None:
                    return None  # the normal answer
                headers = {"Retry-After": f.retry_after} if f.retry_after else {}
                body = f.body if f.body is not None else f"fake failure {f.status}"
                return web.Response(status=f.status, text=body, headers=headers)
        return None

    # -- arXiv -------------------------------------------------------------------------------

    async def _rss(self, request: web.Request) -> web.Response:
        if (bad := await self._scripted("arxiv_rss", request)) is not None:
            return bad
        cats = unquote(request.match_info["cats"]).split("+")
        seen: dict[str, FakePaper] = {}
        for p in self.rss_papers:
            if set(p.categories) & set(cats):
                seen.setdefault(p.arxiv_id, p)
        body = rss_feed(cats, seen.values(), day=self.rss_day)
        return web.Response(text=body, content_type="application/rss+xml", charset="utf-8")

    async def _api(self, request: web.Request) -> web.Response:
        if (bad := await self._scripted("arxiv_api", request)) is not None:
            return bad
        q = request.query
        start = int(q.get("start", "0"))
        size = int(q.get("max_results", "10"))
        query = request.query_string
        if q.get("id_list"):
            papers: list[FakePaper] = []
            for raw in q["id_list"].split(","):
                try:
                    canonical = arxiv_ids.parse(raw)
                    if raw in self.api_rejected:
                        raise InvalidArxivId(raw)
                except InvalidArxivId:
                    return self._atom(atom_feed([error_entry(raw)], query=query))
                if canonical in self.api_papers:
                    papers.append(self.api_papers[canonical])
        else:
            papers = self._search(q.get("search_query", ""))
        page = papers[start : start + size]
        body = atom_feed((atom_entry(p) for p in page), total=len(papers), start=start, query=query)
        return self._atom(body)

    def _search(self, query: str) -> list[FakePaper]:
        cats = set(_CAT.findall(query))
        window = _SUBMITTED.search(query)
        found = []
        for p in self.api_papers.values():
            if cats and not cats & set(p.categories):
                continue
            if window:
                stamp = p.submitted.astimezone(dt.UTC).strftime("%Y%m%d%H%M")
                if not window.group(1) <= stamp <= window.group(2):
                    continue
            found.append(p)
        return sorted(found, key=lambda p: (p.submitted, p.arxiv_id))

    @staticmethod
    def _atom(body: str) -> web.Response:
        return web.Response(text=body, content_type="application/atom+xml", charset="utf-8")

    # -- Hugging Face ------------------------------------------------------------------------

    async def _hf_daily(self, request: web.Request) -> web.Response:
        if (bad := await self._scripted("huggingface", request)) is not None:
            return bad
        items = self.hf_daily.get(request.query.get("date", ""), [])
        limit = int(request.query.get("limit", "50"))
        page = int(request.query.get("p", "0"))
        return web.json_response(items[page * limit : (page + 1) * limit])

    async def _hf_paper(self, request: web.Request) -> web.Response:
        if (bad := await self._scripted("huggingface", request)) is not None:
            return bad
        paper = self.hf_papers.get(request.match_info["id"])
        if paper is None:
            return web.json_response({"error": "Paper not found"}, status=404)
        return web.json_response(paper)

    # -- Hacker News -------------------------------------------------------------------------

    async def _hn(self, request: web.Request) -> web.Response:
        if (bad := await self._scripted("hackernews", request)) is not None:
            return bad
        q = request.query
        text = q.get("query", "").lower()
        tags = q.get("tags", "")
        filters = [f for f in q.get("numericFilters", "").split(",") if f]
        hits = [h for h in self.hn_hits if self._hn_match(h, text, tags, filters)]
        hits.sort(key=lambda h: h["created_at_i"], reverse=True)
        per_page = min(int(q.get("hitsPerPage", "20")), 1000)
        page = int(q.get("page", "0"))
        reachable = hits[: min(len(hits), 1000)]
        chunk = reachable[page * per_page : (page + 1) * per_page]
        body = search_response(
            chunk,
            nb_hits=len(hits),
            page=page,
            hits_per_page=per_page,
            query=q.get("query", ""),
            params=request.query_string,
        )
        return web.json_response(body)

    @staticmethod
    def _hn_match(hit: dict, text: str, tags: str, filters: list[str]) -> bool:
        if tags and tags not in hit.get("_tags", []):
            return False
        if text and text not in (hit.get("url") or "").lower():
            return False
        for f in filters:
            m = _NUMERIC.match(f.strip())
            if not m:
                continue
            value, op, bound = hit.get(m.group(1), 0), m.group(2), int(m.group(3))
            ok = {
                ">=": value >= bound,
                "<=": value <= bound,
                ">": value > bound,
                "<": value < bound,
                "=": value == bound,
            }[op]
            if not ok:
                return False
        return True
