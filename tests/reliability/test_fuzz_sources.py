"""Fuzzing every source parser with mutated realistic bodies (built by the fakes' builders).

Two kinds of damage:
- one record damaged (keys deleted, replaced or added, types changed, huge strings, control
  characters): the source returns a result, the other records of the same body are all kept,
  and the damaged one is either kept or reported in `errors`;
- the whole body damaged (truncated, invalid UTF-8, binary junk, duplicated blocks, wrong
  top-level type, XML entity bombs): the source returns what it could read or raises
  SourceError (MalformedResponse) naming the source and what was wrong; nothing else.

The JSON sources run for real (`collect`) on an httpx.MockTransport serving the body; the
arXiv feeds go through `parse_rss` / `parse_atom`, what ArxivSource calls on every body.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import re
import tracemalloc
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Config, Secrets
from bot.errors import MalformedResponse, SourceError
from bot.http import SourceContext
from bot.sources import hackernews
from bot.sources.arxiv_xml import parse_atom, parse_rss
from bot.sources.base import SourceResult
from bot.sources.bluesky import BlueskySource
from bot.sources.hackernews import HackerNewsSource
from bot.sources.huggingface import HuggingFaceSource
from bot.sources.mastodon import MastodonSource
from bot.sources.x import XSource
from tests.fakes import bluesky as fake_bluesky
from tests.fakes import x as fake_x
from tests.fakes.arxiv import atom_entry, atom_feed, many_papers, rss_feed
from tests.fakes.bluesky import post_view
from tests.fakes.hackernews import search_response, story_hit
from tests.fakes.huggingface import daily_item
from tests.fakes.mastodon import trend_link
from tests.fakes.x import tweet

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DAY = dt.date(2024, 5, 2)
SINCE = dt.datetime(2024, 5, 2, 0, tzinfo=dt.UTC)
UNTIL = dt.datetime(2024, 5, 3, 9, tzinfo=dt.UTC)
NOW = dt.datetime(2024, 5, 3, 9, 30, tzinfo=dt.UTC)
N = 4  # records per body
IDS = [f"2405.{i:05d}" for i in range(1, N + 1)]
HUGE = "x" * 200_000

# -- realistic bodies, one record per paper ---------------------------------------------------


def hf_body() -> list[Any]:
    return [daily_item(aid, upvotes=10 + i) for i, aid in enumerate(IDS)]


def hn_body() -> dict[str, Any]:
    hits = [
        story_hit(100 + i, f"https://arxiv.org/abs/{aid}v1", created=SINCE + dt.timedelta(hours=1))
        for i, aid in enumerate(IDS)
    ]
    return search_response(
        hits, nb_hits=N, page=0, hits_per_page=1000, query="arxiv.org", params=""
    )


def bluesky_body() -> dict[str, Any]:
    posts = [
        post_view(f"3k{i}aaa", links=[f"https://arxiv.org/abs/{aid}"], likes=i + 1)
        for i, aid in enumerate(IDS)
    ]
    return {"posts": posts, "hitsTotal": N}


def x_body() -> dict[str, Any]:
    tweets = [
        tweet(
            f"17900000000000000{i:02d}", username=f"user{i}", urls=[f"https://arxiv.org/abs/{aid}"]
        )
        for i, aid in enumerate(IDS)
    ]
    return {
        "data": [t.tweet for t in tweets],
        "includes": {"users": [t.user for t in tweets]},
        "meta": {"result_count": N},
    }


def mastodon_body() -> list[Any]:
    return [
        trend_link(f"https://arxiv.org/abs/{aid}", {DAY: (3 + i, 2)}, today=dt.date(2024, 5, 3))
        for i, aid in enumerate(IDS)
    ]


def records(source: str, body: Any) -> list[Any]:
    """The list of records inside a body (what a one-record mutation picks from)."""
    return {
        "huggingface": lambda b: b,
        "hackernews": lambda b: b["hits"],
        "bluesky": lambda b: b["posts"],
        "x": lambda b: b["data"],
        "mastodon": lambda b: b,
    }[source](body)


BODIES: dict[str, Callable[[], Any]] = {
    "huggingface": hf_body,
    "hackernews": hn_body,
    "bluesky": bluesky_body,
    "x": x_body,
    "mastodon": mastodon_body,
}

# -- running a source on one body -------------------------------------------------------------


def _json(data: Any) -> httpx.Response:
    return httpx.Response(200, json=data)


def _handler(source: str, body: bytes) -> Callable[[httpx.Request], httpx.Response]:
    served: list[str] = []

    def first(kind: str, empty: Any) -> httpx.Response:
        if kind in served:
            return _json(empty)
        served.append(kind)
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if source == "huggingface":
            if request.url.params.get("date") == DAY.isoformat() and request.url.params.get(
                "p"
            ) in (None, "0"):
                return first("daily", [])
            return _json([])
        if source == "hackernews":
            return first(
                "search",
                search_response([], nb_hits=0, page=0, hits_per_page=1000, query="", params=""),
            )
        if source == "bluesky":
            if path.endswith("createSession"):
                return _json(
                    {"accessJwt": "a.b.c", "refreshJwt": "d.e.f", "handle": "h", "did": "d"}
                )
            return first("search", {"posts": []})
        if source == "x":
            return first("search", {"meta": {"result_count": 0}})
        return first("links", [])  # mastodon

    return handle


def _config() -> Config:
    base = Config()
    s = base.sources
    import dataclasses

    sources = dataclasses.replace(
        s,
        huggingface=dataclasses.replace(s.huggingface, base_url="http://hf.test", min_interval=0),
        hackernews=dataclasses.replace(s.hackernews, base_url="http://hn.test", min_interval=0),
        bluesky=dataclasses.replace(
            s.bluesky, base_url="http://bsky.test", handle="h.bsky.social", min_interval=0
        ),
        x=dataclasses.replace(s.x, base_url="http://x.test", min_interval=0),
        mastodon=dataclasses.replace(s.mastodon, instances=["http://masto.test"], min_interval=0),
    )
    http = dataclasses.replace(base.http, max_retries=0)
    secrets = Secrets(bluesky_password=fake_bluesky.PASSWORD, x_bearer_token=fake_x.BEARER)
    return dataclasses.replace(base, sources=sources, http=http, secrets=secrets)


CONFIG = _config()


async def _nosleep(seconds: float) -> None:
    return None


async def _collect(source: str, body: bytes, ids: list[str]) -> SourceResult:
    client = httpx.AsyncClient(transport=httpx.MockTransport(_handler(source, body)))
    ctx = SourceContext(client=client, settings=CONFIG.http, sleep=_nosleep, now=lambda: NOW)
    made = {
        "huggingface": lambda: HuggingFaceSource(ctx, CONFIG.sources.huggingface),
        "hackernews": lambda: HackerNewsSource(ctx, CONFIG.sources.hackernews),
        "bluesky": lambda: BlueskySource(CONFIG, ctx),
        "x": lambda: XSource(CONFIG, ctx),
        "mastodon": lambda: MastodonSource(CONFIG, ctx),
    }[source]()
    try:
        return await made.collect(DAY, ids, SINCE, UNTIL)
    finally:
        await client.aclose()


def collect(source: str, body: bytes, ids: list[str] | None = None) -> SourceResult:
    return asyncio.run(_collect(source, body, IDS if ids is None else ids))


def found_ids(result: SourceResult) -> set[str]:
    return {s.arxiv_id for s in result.signals}


# -- mutations --------------------------------------------------------------------------------

CONTROL = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), min_size=1)
JUNK_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    CONTROL,
    st.just(HUGE),
    st.just("2405.00001"),
    st.just("https://arxiv.org/abs/2405.99999"),
    st.just("99999999999999999999999"),
    st.just("²³"),
)
JUNK = st.recursive(
    JUNK_SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _swap_type(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return int(value) if value.isdigit() and len(value) < 30 else [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return {}


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """value with one damage somewhere inside (a deep copy)."""
    value = copy.deepcopy(value)
    descend = depth < 6 and draw(st.booleans())
    if isinstance(value, dict) and value and descend:
        key = draw(st.sampled_from(sorted(value)))
        value[key] = draw(mutated(value[key], depth + 1))
        return value
    if isinstance(value, list) and value and descend:
        i = draw(st.integers(0, len(value) - 1))
        value[i] = draw(mutated(value[i], depth + 1))
        return value
    op = draw(st.sampled_from(["replace", "swap", "null", "delete", "add", "duplicate"]))
    if op == "delete" and isinstance(value, dict) and value:
        value.pop(draw(st.sampled_from(sorted(value))))
        return value
    if op == "add" and isinstance(value, dict):
        value[draw(st.text(max_size=10))] = draw(JUNK)
        return value
    if op == "duplicate" and isinstance(value, list) and value:
        return value + value
    if op == "swap":
        return _swap_type(value)
    if op == "null":
        return None
    return draw(JUNK)


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def broken_bytes(draw: st.DrawFn, body: bytes) -> bytes:
    """The serialized body damaged as bytes."""
    op = draw(
        st.sampled_from(
            ["truncate", "flip", "invalid_utf8", "junk", "duplicate", "controls", "empty"]
        )
    )
    at = draw(st.integers(0, max(len(body) - 1, 0)))
    if op == "truncate":
        return body[:at]
    if op == "flip":
        flipped = bytearray(body)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(flipped) - 1))
            flipped[i] = draw(st.integers(0, 255))
        return bytes(flipped)
    if op == "invalid_utf8":
        return (
            body[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"]))
            + body[at:]
        )
    if op == "junk":
        return draw(st.binary(min_size=0, max_size=200))
    if op == "duplicate":
        end = draw(st.integers(at, len(body)))
        return body[:end] + body[at:end] + body[end:]
    if op == "controls":
        return body[:at] + draw(CONTROL).encode() + body[at:]
    return b""


def assert_clear_error(exc: SourceError, source: str) -> None:
    assert exc.source == source
    text = str(exc)
    assert text.startswith(f"{source}: ") and len(text) > len(source) + 10
    assert len(text) < 2000  # a huge string in the body is not copied into the message


# -- the JSON sources -------------------------------------------------------------------------

JSON_SOURCES = sorted(BODIES)


@pytest.mark.parametrize("source", JSON_SOURCES)
def test_realistic_bodies_parse_completely(source):
    result = collect(source, _dump(BODIES[source]()))
    assert found_ids(result) == set(IDS)
    assert result.errors == []


@pytest.mark.parametrize("source", JSON_SOURCES)
@FUZZ
@given(data=st.data())
def test_one_damaged_record_loses_nothing_else(source, data, figures):
    body = BODIES[source]()
    items = records(source, body)
    k = data.draw(st.integers(0, N - 1), label="record")
    items[k] = data.draw(mutated(items[k]), label="damaged record")
    result = collect(source, _dump(body))  # must not raise
    others = set(IDS) - {IDS[k]}
    assert others <= found_ids(result), result.errors
    figures.record(f"fuzz-sources {source}", record_examples=1, records_reported=len(result.errors))


@pytest.mark.parametrize("source", JSON_SOURCES)
@FUZZ
@given(data=st.data())
def test_a_damaged_body_is_read_or_refused_with_a_clear_error(source, data, figures):
    body = BODIES[source]()
    if data.draw(st.booleans(), label="as bytes"):
        raw = data.draw(broken_bytes(_dump(body)), label="body bytes")
    else:
        raw = _dump(data.draw(mutated(body), label="body"))
    try:
        collect(source, raw)
    except SourceError as exc:
        assert_clear_error(exc, source)
        figures.record(f"fuzz-sources {source}", body_examples=1, refused=1)
    else:
        figures.record(f"fuzz-sources {source}", body_examples=1, read=1)


def test_x_record_damage_in_includes_costs_only_that_author():
    body = x_body()
    body["includes"]["users"][0] = 7
    result = collect("x", _dump(body))
    assert found_ids(result) == set(IDS[1:])


# -- arXiv XML --------------------------------------------------------------------------------

PAPERS = many_papers(N, categories=("cs.CV",))


def rss_body(items: list[str] | None = None) -> str:
    return rss_feed(["cs.CV"], [] if items is not None else PAPERS, day=DAY, raw_items=items or ())


def rss_items() -> list[str]:
    from tests.fakes.arxiv import rss_item

    return [rss_item(p) for p in PAPERS]


def atom_items() -> list[str]:
    return [atom_entry(p) for p in PAPERS]


_ELEMENT = re.compile(r"<(\w+:?\w*)[^>]*>[^<]*</\1>|<[\w:]+[^>]*/>", re.S)
XML_TEXT = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0x20), max_size=40),
    st.just(HUGE),
    st.just("2405.99999"),
    st.just("not-an-id"),
    st.just("2024-13-45T99:99:99Z"),
)


def _xml_escape(text: str) -> str:
    text = text.replace("\ufffe", "").replace("\uffff", "")  # not XML characters
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


@st.composite
def mutated_xml_record(draw: st.DrawFn, item: str) -> str:
    elements = [m for m in _ELEMENT.finditer(item)]
    op = draw(st.sampled_from(["delete", "text", "duplicate", "replace", "attr"]))
    if op == "replace":
        return f"<item>{_xml_escape(draw(XML_TEXT))}</item>"
    if op == "duplicate":
        return item + item
    m = draw(st.sampled_from(elements))
    if op == "delete":
        return item[: m.start()] + item[m.end() :]
    if op == "attr":
        return (
            item[: m.start()]
            + re.sub(
                r'\b(term|href|scheme|rel|type|title|isPermaLink)="[^"]*"',
                lambda a: f'{a.group(1)}="{_xml_escape(draw(XML_TEXT))}"',
                m.group(0),
            )
            + item[m.end() :]
        )
    tag = m.group(1) or "x"
    new = f"<{tag}>{_xml_escape(draw(XML_TEXT))}</{tag}>" if m.group(1) else m.group(0)
    return item[: m.start()] + new + item[m.end() :]


def _parse_rss_ids(body: bytes) -> set[str]:
    return {e.arxiv_id for e in parse_rss(body).entries}


def _parse_atom_ids(body: bytes) -> set[str]:
    return {p.arxiv_id for p in parse_atom(body).papers}


def _xml_body(kind: str, items: list[str]) -> bytes:
    if kind == "rss":
        return rss_feed(["cs.CV"], [], day=DAY, raw_items=items).encode()
    return atom_feed(items).encode()


XML_KINDS = {"rss": (rss_items, _parse_rss_ids), "atom": (atom_items, _parse_atom_ids)}


@pytest.mark.parametrize("kind", sorted(XML_KINDS))
def test_realistic_arxiv_feeds_parse_completely(kind):
    items, ids_of = XML_KINDS[kind]
    assert ids_of(_xml_body(kind, items())) == set(IDS)


@pytest.mark.parametrize("kind", sorted(XML_KINDS))
@FUZZ
@given(data=st.data())
def test_one_damaged_arxiv_entry_loses_nothing_else(kind, data, figures):
    make, ids_of = XML_KINDS[kind]
    items = make()
    k = data.draw(st.integers(0, N - 1), label="entry")
    items[k] = data.draw(mutated_xml_record(items[k]), label="damaged entry")
    body = _xml_body(kind, items)
    assert set(IDS) - {IDS[k]} <= ids_of(body)
    figures.record(f"fuzz-sources arxiv-{kind}", record_examples=1)


@pytest.mark.parametrize("kind", sorted(XML_KINDS))
@FUZZ
@given(data=st.data())
def test_a_damaged_arxiv_body_is_read_or_refused_with_a_clear_error(kind, data, figures):
    make, ids_of = XML_KINDS[kind]
    raw = data.draw(broken_bytes(_xml_body(kind, make())), label="body bytes")
    try:
        ids_of(raw)
    except MalformedResponse as exc:
        assert_clear_error(exc, "arxiv")
        figures.record(f"fuzz-sources arxiv-{kind}", body_examples=1, refused=1)
    else:
        figures.record(f"fuzz-sources arxiv-{kind}", body_examples=1, read=1)


def _bomb(levels: int = 10, fanout: int = 10) -> bytes:
    entities = '<!ENTITY lol0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * fanout}">' for i in range(1, levels)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]>'
        f"<rss><channel><title>&lol{levels - 1};</title></channel></rss>"
    ).encode()


ATTACKS = {
    "billion-laughs": _bomb(),
    "quadratic-blowup": (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"x" * 50_000}">]>'
        f"<rss><channel><title>{'&a;' * 20_000}</title></channel></rss>"
    ).encode(),
    "external-entity": (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><title>&x;</title></channel></rss>"
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
@pytest.mark.parametrize("parse", [parse_rss, parse_atom], ids=["rss", "atom"])
def test_xml_entity_attacks_are_refused_without_expanding(attack, parse, figures):
    tracemalloc.start()
    try:
        with pytest.raises(MalformedResponse, match="XML entities; refused"):
            parse(ATTACKS[attack])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak  # bytes: nothing was expanded
    figures.record("fuzz-sources xml-attacks", refused=1)
    figures.set("fuzz-sources xml-attacks", peak_kib_max=max(peak // 1024, 0))


def test_a_mastodon_history_day_out_of_range_costs_only_that_link():
    body = mastodon_body()
    body[0]["history"][0]["day"] = "99999999999999999999"
    result = collect("mastodon", _dump(body))
    assert found_ids(result) == set(IDS[1:])
    assert any("history day" in e for e in result.errors)


def test_hacker_news_overstating_its_hits_does_not_multiply_requests():
    body = hn_body()
    body["nbHits"] = 10**9  # more than the window could split into
    result = collect("hackernews", _dump(body))
    assert found_ids(result) == set(IDS)
    assert result.requests <= 60


def test_hacker_news_lying_about_its_hits_everywhere_stops_at_a_request_budget(monkeypatch):
    monkeypatch.setattr(hackernews, "MAX_REQUESTS", 5)
    hits = [
        story_hit(i, f"https://arxiv.org/abs/2405.{i % 9999 + 1:05d}", created=SINCE)
        for i in range(1000)
    ]
    page = _dump(
        search_response(hits, nb_hits=10**9, page=0, hits_per_page=1000, query="", params="")
    )

    async def run() -> SourceResult:
        client = httpx.AsyncClient(
            transport=httpx.MockTransport(lambda r: httpx.Response(200, content=page))
        )
        ctx = SourceContext(client=client, settings=CONFIG.http, sleep=_nosleep, now=lambda: NOW)
        try:
            return await HackerNewsSource(ctx, CONFIG.sources.hackernews).collect(
                DAY, [], SINCE, UNTIL
            )
        finally:
            await client.aclose()

    result = asyncio.run(run())
    assert result.requests == 5
    assert any("stopped splitting" in e for e in result.errors)
    assert len(result.posts) == 1000  # the stories it did read are kept
