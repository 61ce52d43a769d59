"""Mastodon trending links against fake instances on 127.0.0.1 (tests/fakes/mastodon.py)."""

from __future__ import annotations

import datetime as dt
from contextlib import AsyncExitStack

import pytest

from bot.config import Config, HttpConfig, MastodonConfig, SourcesConfig
from bot.errors import SourceError
from bot.sources.mastodon import MastodonSource, parse_link, window_days
from tests.fakes.mastodon import FakeMastodon, trend_link
from tests.fakes.server import serve, source_context

DAY = dt.date(2024, 5, 1)
SINCE = dt.datetime(2024, 5, 1, 18, tzinfo=dt.UTC)
UNTIL = dt.datetime(2024, 5, 3, 9, tzinfo=dt.UTC)
ABS = "https://arxiv.org/abs/2405.01234"
D1, D2, D3 = dt.date(2024, 5, 1), dt.date(2024, 5, 2), dt.date(2024, 5, 3)


def make_config(instances: list[str], **mastodon) -> Config:
    return Config(
        http=HttpConfig(timeout=5.0, max_retries=1, max_retry_wait=30.0),
        sources=SourcesConfig(
            mastodon=MastodonConfig(instances=instances, min_interval=0.0, **mastodon)
        ),
    )


async def run(
    *fakes: FakeMastodon, extra_instances: tuple[str, ...] = (), ids=("2405.01234", "2405.07777")
):
    async with AsyncExitStack() as stack:
        urls = [await stack.enter_async_context(serve(f.app())) for f in fakes]
        config = make_config([*urls, *extra_instances])
        ctx = await stack.enter_async_context(source_context(config))
        result = await MastodonSource(config, ctx).collect(DAY, list(ids), SINCE, UNTIL)
        return result, urls


def test_window_days_are_the_utc_days_the_window_touches():
    assert window_days(SINCE, UNTIL) == {D1, D2, D3}
    assert window_days(SINCE, dt.datetime(2024, 5, 2, tzinfo=dt.UTC)) == {D1}
    paris = dt.timezone(dt.timedelta(hours=2))
    assert window_days(
        dt.datetime(2024, 5, 2, 1, tzinfo=paris), dt.datetime(2024, 5, 2, 3, tzinfo=paris)
    ) == {D1, D2}


def test_parse_link_sums_the_window_and_ignores_other_links():
    entry = trend_link(ABS + "v2", {D1: (3, 2), D2: (10, 8), dt.date(2024, 4, 28): (50, 40)})
    paper = parse_link(entry, "https://sigmoid.social", {D1, D2, D3})
    assert (paper.arxiv_id, paper.shares, paper.accounts) == ("2405.01234", 13, 10)
    assert paper.title == "Attention Is Still All You Need" and paper.provider == "arXiv.org"
    assert parse_link(trend_link("https://example.com/news"), "i", {D1}) is None
    with pytest.raises(ValueError, match="history uses is not a count"):
        bad = trend_link(ABS, {D1: (1, 1)})
        bad["history"][2]["uses"] = "lots"
        parse_link(bad, "i", {D1})
    with pytest.raises(ValueError, match="no history"):
        parse_link({"url": ABS}, "i", {D1})


async def test_two_instances_sum_per_paper_and_make_one_post_per_link():
    a = FakeMastodon(
        [
            trend_link("https://www.nytimes.com/2024/05/02/science.html", {D2: (500, 400)}),
            trend_link(ABS, {D2: (12, 9), D3: (3, 3)}),
            trend_link("https://arxiv.org/abs/2405.07777", {dt.date(2024, 4, 29): (30, 30)}),
        ]
    )
    b = FakeMastodon(
        [
            trend_link(ABS, {D1: (5, 4)}),
            trend_link("https://arxiv.org/pdf/2405.01234v1", {D2: (2, 2)}),
        ]
    )
    result, urls = await run(a, b)
    assert [(s.arxiv_id, s.counts) for s in result.signals] == [
        ("2405.01234", {"shares": 22, "accounts": 18})
    ]
    by_url = {p.url: p for p in result.posts}
    assert set(by_url) == {ABS, "https://arxiv.org/pdf/2405.01234v1"}
    post = by_url[ABS]
    assert post.reposts == 20 and post.author == "arXiv.org"
    hosts = [u.split("://")[1] for u in urls]
    assert post.handle == ", ".join(hosts)
    assert post.text == "Attention Is Still All You Need — We revisit the transformer..."
    assert result.requests == 2 and result.errors == []
    assert a.requests == [{"limit": "20", "offset": "0"}]


async def test_links_to_other_papers_count_only_without_a_listing():
    fake = FakeMastodon(
        [
            trend_link(ABS, {D2: (4, 3)}),
            trend_link("https://arxiv.org/abs/1706.03762", {D2: (9, 9)}),
        ]
    )
    result, _ = await run(fake)
    assert [s.arxiv_id for s in result.signals] == ["2405.01234"]
    result, _ = await run(fake, ids=())
    assert [s.arxiv_id for s in result.signals] == ["1706.03762", "2405.01234"]


async def test_empty_trends():
    result, _ = await run(FakeMastodon([]))
    assert (result.signals, result.posts, result.requests) == ([], [], 1)


async def test_pages_by_offset_until_a_short_page():
    links = [trend_link(f"https://example.com/{n}") for n in range(45)]
    links.append(trend_link(ABS, {D2: (1, 1)}))
    fake = FakeMastodon(links)
    result, _ = await run(fake)
    assert [r["offset"] for r in fake.requests] == ["0", "20", "40"]
    assert result.signals[0].counts == {"shares": 1, "accounts": 1}


async def test_429_503_and_timeouts_are_retried():
    fake = FakeMastodon([trend_link(ABS, {D2: (4, 3)})])
    fake.fail("links", 429, headers={"Retry-After": "3"}, body='{"error":"Too many requests"}')
    result, _ = await run(fake)
    assert result.signals[0].counts["shares"] == 4 and result.requests == 2
    fake.fail("links", 503)
    result, _ = await run(fake)
    assert result.requests == 2
    fake.fail("links", hang=True)
    result, _ = await run(fake)
    assert result.signals[0].counts["shares"] == 4


async def test_one_failing_instance_is_recorded_the_others_count():
    good = FakeMastodon([trend_link(ABS, {D2: (4, 3)})])
    result, _ = await run(good, extra_instances=("http://127.0.0.1:9",))
    assert result.signals[0].counts["shares"] == 4
    assert len(result.errors) == 1 and "http://127.0.0.1:9" in result.errors[0]
    down = FakeMastodon()
    down.fail("links", 404, body='{"error":"Not Found"}')
    with pytest.raises(SourceError, match="every instance failed"):
        await run(down)


async def test_malformed_json_and_records():
    fake = FakeMastodon()
    fake.fail("links", 200, body="<html>maintenance</html>", content_type="text/html")
    result, _ = await run(fake)
    assert result.signals == [] and "malformed answer" in result.errors[0]
    bad = trend_link(ABS, {D2: (1, 1)})
    bad["history"] = "n/a"
    fake = FakeMastodon(
        [{"title": "no url"}, bad, trend_link("https://arxiv.org/abs/2405.07777", {D3: (2, 1)})]
    )
    result, _ = await run(fake)
    assert [s.arxiv_id for s in result.signals] == ["2405.07777"]
    assert len(result.errors) == 2
    assert "link 0: link has no url" in result.errors[0] and "no history list" in result.errors[1]


def test_unavailable_reasons():
    assert (
        MastodonSource(make_config(["https://sigmoid.social"]), None).unavailable_reason() is None
    )
    assert MastodonSource(make_config([]), None).unavailable_reason() == (
        "no sources.mastodon.instances in the config"
    )
    assert MastodonSource(make_config(["https://a"], enabled=False), None).unavailable_reason() == (
        "disabled in config"
    )
