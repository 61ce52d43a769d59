"""Rendering: the digest format, and every Discord limit / escaping rule for any input."""

from __future__ import annotations

import datetime as dt
import re

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import render
from bot.models import DayRanking, Paper, Post, RankedPaper

NOW = dt.datetime(2021, 8, 4, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2021, 8, 3)

MENTION = re.compile(r"@everyone|@here|<@!?\d+>|<@&\d+>|<#\d+>|<t:\d+|</\w+:\d+>", re.I)
# A masked link whose '[' is not escaped: only our own labels may appear.
MASKED = re.compile(r"(?<!\\)\[([^\]\n]*)\]\(([^)\s]*)\)")
OUR_LABELS = {"abs", "pdf", "code", "project page", "Hugging Face"} | {
    f"on {n}"
    for n in ["Twitter", "X", "Bluesky", "Mastodon", "Hugging Face", "Hacker News", "the web"]
}


def make_paper(n: int = 1, **kw) -> Paper:
    base = dict(
        arxiv_id=f"2108.{n:05d}",
        title=f"Paper number {n}",
        authors=("Ada Lovelace", "Alan Turing"),
        categories=("cs.CV", "cs.LG"),
        abs_url=f"https://arxiv.org/abs/2108.{n:05d}",
        pdf_url=f"https://arxiv.org/pdf/2108.{n:05d}",
    )
    base.update(kw)
    return Paper(**base)


def make_ranking(n: int = 12, **kw) -> DayRanking:
    papers = [
        RankedPaper(
            rank=i,
            paper=make_paper(i, categories=("cs.CV",) if i % 2 else ("cs.CL",)),
            score=1000.0 - i,
            signals={"twitter": {"retweets": 6396, "favorites": 301}},
            posts=[
                Post(
                    source="twitter",
                    url=f"https://twitter.com/a/status/{i}",
                    arxiv_id=f"2108.{i:05d}",
                    author="Someone",
                    handle="someone",
                    text="Wow, look at this paper",
                    likes=301,
                    reposts=6396,
                )
            ],
        )
        for i in range(1, n + 1)
    ]
    return DayRanking(day=DAY, generated_at=NOW, papers=papers, **kw)


def all_text(msg: render.Message) -> list[str]:
    out = [msg.content]
    for e in msg.embeds:
        out += [e.get("title", ""), e.get("description", ""), e.get("footer", {}).get("text", "")]
        out += [e.get("author", {}).get("name", "")]
        for f in e.get("fields", []):
            out += [f["name"], f["value"]]
    return out


def assert_within_limits(messages: list[render.Message]) -> None:
    for msg in messages:
        assert len(msg.content) <= render.CONTENT_MAX
        assert msg.content or msg.embeds
        assert len(msg.embeds) <= render.EMBEDS_PER_MESSAGE
        total = 0
        for e in msg.embeds:
            assert len(e.get("title", "")) <= render.TITLE_MAX
            assert len(e.get("description", "")) <= render.DESCRIPTION_MAX
            assert len(e["footer"]["text"]) <= render.FOOTER_MAX
            assert len(e.get("author", {}).get("name", "")) <= render.AUTHOR_MAX
            assert len(e["fields"]) <= render.FIELDS_MAX
            for f in e["fields"]:
                assert 0 < len(f["name"]) <= render.FIELD_NAME_MAX
                assert 0 < len(f["value"]) <= render.FIELD_VALUE_MAX
            assert e["url"].startswith("https://")
            total += render.embed_chars(e)
            # discord.py agrees on the count.
            assert len(discord.Embed.from_dict(dict(e))) == render.embed_chars(e)
        assert total <= render.EMBED_CHARS_PER_MESSAGE


LINK_TARGET = re.compile(r"\]\(https?://[^)\s]*\)")
CODE_SPAN = re.compile(r"`[^`\n]*`")


def assert_inert(messages: list[render.Message]) -> None:
    for msg in messages:
        for text in all_text(msg):
            # Link targets are URLs (percent-encoded, never rendered as mentions).
            assert not MENTION.search(LINK_TARGET.sub("](", text)), text
            text = CODE_SPAN.sub("", text)  # nothing renders inside a code span
            for label, _url in MASKED.findall(text):
                assert label in OUR_LABELS, (label, text)


# -- format -----------------------------------------------------------------------------------


def test_header_and_one_embed_per_paper_in_rank_order():
    msgs = render.digest_messages(make_ranking(12), now=NOW)
    assert msgs[0].content == "**Hot Papers 2021-08-03** · 12 papers"
    embeds = [e for m in msgs for e in m.embeds]
    assert [e["title"] for e in embeds] == [f"#{i} · Paper number {i}" for i in range(1, 13)]
    assert len(msgs) == 2 and len(msgs[0].embeds) == 10
    assert msgs[1].content.endswith("(2/2)")
    assert [i for m in msgs for i in m.arxiv_ids] == [f"2108.{i:05d}" for i in range(1, 13)]
    assert_within_limits(msgs)


def test_category_header_partial_and_filter_keeps_overall_ranks():
    ranking = make_ranking(12, partial=True, failed_sources=("huggingface",))
    msgs = render.digest_messages(ranking, category="cs.CV", now=NOW)
    assert msgs[0].content == (
        "**Hot Papers 2021-08-03** · cs.CV · 6 papers · partial: huggingface unavailable"
    )
    assert [e["title"].split(" · ")[0] for e in msgs[0].embeds] == [
        "#1",
        "#3",
        "#5",
        "#7",
        "#9",
        "#11",
    ]


def test_top_and_min_score():
    msgs = render.digest_messages(make_ranking(12), top=3, now=NOW)
    assert msgs[0].content.endswith("3 papers") and len(msgs[0].embeds) == 3
    msgs = render.digest_messages(make_ranking(12), min_score=995, now=NOW)
    assert len(msgs[0].embeds) == 5


def test_empty_day_says_so():
    msgs = render.digest_messages(make_ranking(0), now=NOW)
    assert len(msgs) == 1 and not msgs[0].embeds
    assert "0 papers" in msgs[0].content and "No papers" in msgs[0].content


def test_embed_content_counts_links_and_post():
    paper = make_paper(
        7,
        authors=tuple(f"Author {i}" for i in range(9)),
        code_url="https://github.com/a/b",
        project_url="https://a.github.io/b",
        hf_url="https://huggingface.co/papers/2108.00007",
    )
    item = RankedPaper(
        rank=1,
        paper=paper,
        score=6697,
        signals={
            "twitter": {"retweets": 6396, "favorites": 301},
            "huggingface": {"upvotes": 12},
            "hackernews": {"points": 40},
        },
        posts=[
            Post("twitter", "https://twitter.com/x/status/1", "2108.00007", "Low", "low", "meh"),
            Post(
                "twitter",
                "https://twitter.com/y/status/2",
                "2108.00007",
                "Yann",
                "ylecun",
                "Great *work*",
                likes=10,
                reposts=5,
            ),
        ],
    )
    e = render.ranked_embed(item)
    assert e["url"] == "https://arxiv.org/abs/2108.00007"
    assert e["description"].startswith(
        "Author 0, Author 1, Author 2, Author 3, Author 4, Author 5 et al."
    )
    assert "`cs.CV` · `cs.LG`" in e["description"]
    fields = {f["name"]: f["value"] for f in e["fields"]}
    assert fields["Score"] == (
        "**6697** — Twitter: retweets: 6396, favorites: 301 · Hugging Face: upvotes: 12"
        " · Hacker News: points: 40"
    )
    assert fields["Links"] == (
        "[abs](https://arxiv.org/abs/2108.00007) · [pdf](https://arxiv.org/pdf/2108.00007)"
        " · [code](https://github.com/a/b) · [project page](https://a.github.io/b)"
        " · [Hugging Face](https://huggingface.co/papers/2108.00007)"
    )
    assert fields["Top post"] == (
        "> Great \\*work\\*\n— Yann (@\u200bylecun) · [on Twitter](https://twitter.com/y/status/2)"
    )


def test_paper_embed_lists_days():
    days = [(dt.date(2021, 8, 2), 3, 120.0), (dt.date(2021, 8, 3), 1, 900.0)]
    msg = render.paper_embed(make_paper(1), {"hackernews": {"points": 5}}, days)
    assert "ranked on 2 day(s); best #1 on 2021-08-03" in msg.content
    fields = {f["name"]: f["value"] for f in msg.embeds[0]["fields"]}
    assert fields["Ranked on 2 day(s)"] == "2021-08-02: #3 (120), 2021-08-03: #1 (900)"
    assert fields["Counts"] == "Hacker News: points: 5"
    none = render.paper_embed(make_paper(1), {}, [])
    assert "has not ranked" in none.content


def test_hot_pages():
    pages = render.hot_pages(make_ranking(12), per_page=5, now=NOW)
    assert [len(p.embeds) for p in pages] == [5, 5, 2]
    assert [(p.page, p.pages) for p in pages] == [(1, 3), (2, 3), (3, 3)]
    assert pages[2].content.endswith("page 3/3")


def test_payload_never_pings_and_carries_nonce():
    msg = render.digest_messages(make_ranking(1), now=NOW)[0]
    body = msg.payload(nonce="hp1d20210803")
    assert body["allowed_mentions"] == {"parse": []}
    assert body["nonce"] == "hp1d20210803" and body["enforce_nonce"] is True
    assert [e.title for e in msg.embed_objects()] == ["#1 · Paper number 1"]


def test_malicious_text_is_inert():
    evil = (
        "@everyone @here <@123456789012345678> <@&123456789012345678> <#123456789012345678> "
        "[free nitro](https://evil.example) **bold** `code` ||spoiler|| # heading\n> quote "
        "[a](https://b.c) and [c](https://d.e) https://x.com/a_b(c)[d](https://evil.example)"
    )
    paper = make_paper(1, title=evil, authors=(evil,), categories=(evil,), code_url=evil)
    item = RankedPaper(
        1,
        paper,
        1.0,
        {evil: {evil: 1}},
        [Post(evil, "javascript:alert(1)", "2108.00001", evil, evil, evil)],
    )
    ranking = DayRanking(DAY, NOW, [item], partial=True, failed_sources=(evil,))
    msgs = render.digest_messages(ranking, category=evil, now=NOW)
    assert_within_limits(msgs)
    assert_inert(msgs)
    text = "\n".join(all_text(msgs[0]))
    assert "evil.example)" not in text.replace("\\", "") or "](https://evil" not in text
    assert "javascript:" not in "".join(f["value"] for f in msgs[0].embeds[0]["fields"])


def test_safe_url():
    assert render.safe_url("https://a.b/c(d)") == "https://a.b/c%28d%29"
    assert render.safe_url("javascript:alert(1)") is None
    assert render.safe_url("https://a.b/ c") is None
    assert render.safe_url("ftp://a.b") is None
    assert render.safe_url("https://" + "a" * 3000) is None


def test_cut_never_leaves_dangling_escape():
    assert render.cut("ab\\*cd", 4) == "ab…"
    assert render.cut("abc", 3) == "abc"
    assert render.cut("abcdef", 4) == "abc…"


# -- properties -------------------------------------------------------------------------------

NASTY = st.sampled_from(
    [
        "@everyone",
        "@here",
        "<@123456789012345678>",
        "<@!123456789012345678>",
        "<@&123456789012345678>",
        "<#123456789012345678>",
        "<t:1600000000:R>",
        "</hot:123456789012345678>",
        "[x](https://evil.example)",
        "**",
        "`",
        "\\",
        "||",
        "\n# ",
        "\n> ",
        "\u202e",
        "\x00",
        "https://a.b/_x_",
        "é" * 50,
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=40), NASTY), max_size=6).map("".join)
HUGE = st.one_of(TEXT, st.builds(lambda t, n: t * n, TEXT, st.sampled_from([2, 300])))
URL = st.one_of(st.none(), TEXT, st.builds("https://x.y/{}".format, TEXT))


@st.composite
def rankings(draw) -> DayRanking:
    n = draw(st.integers(0, 13))
    items = []
    for i in range(1, n + 1):
        paper = Paper(
            arxiv_id=f"2108.{i:05d}",
            title=draw(HUGE),
            authors=tuple(draw(st.lists(TEXT, max_size=5)) * draw(st.sampled_from([1, 10]))),
            categories=tuple(draw(st.lists(TEXT, max_size=12))),
            abs_url=draw(URL),
            pdf_url=draw(URL),
            code_url=draw(URL),
            project_url=draw(URL),
            hf_url=draw(URL),
        )
        posts = [
            Post(
                source=draw(TEXT),
                url=draw(URL) or "",
                arxiv_id=paper.arxiv_id,
                author=draw(HUGE),
                handle=draw(TEXT),
                text=draw(HUGE),
                likes=draw(st.integers(0, 10**9)),
            )
            for _ in range(draw(st.integers(0, 3)))
        ]
        signals = draw(
            st.dictionaries(TEXT, st.dictionaries(TEXT, st.integers(0, 10**12)), max_size=5)
        )
        items.append(RankedPaper(i, paper, draw(st.floats(0, 1e12)), signals, posts))
    return DayRanking(
        DAY,
        NOW,
        items,
        partial=draw(st.booleans()),
        failed_sources=tuple(draw(st.lists(TEXT, max_size=5))),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    ranking=rankings(),
    category=st.one_of(st.none(), TEXT),
    top=st.one_of(st.none(), st.integers(0, 40)),
)
def test_digest_always_within_limits_and_inert(ranking, category, top):
    msgs = render.digest_messages(ranking, top=top, now=NOW)
    assert_within_limits(msgs)
    assert_inert(msgs)
    shown = [i for m in msgs for i in m.arxiv_ids]
    expected = [rp.paper.arxiv_id for rp in ranking.papers][: top if top is not None else None]
    assert shown == expected  # nothing lost, rank order kept
    pages = render.hot_pages(ranking, category=category, per_page=5, now=NOW)
    assert_within_limits(pages)
    assert_inert(pages)
    assert all(len(p.embeds) <= 5 for p in pages)


@settings(max_examples=40, deadline=None)
@given(text=HUGE)
def test_clean_is_inert(text):
    out = render.clean(text)
    assert not MENTION.search(out)
    assert all(label in OUR_LABELS for label, _ in MASKED.findall(out))
    assert not MENTION.search(render.plain(text))
