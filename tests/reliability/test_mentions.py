"""Nothing the bot posts can ping or smuggle formatting: hostile outside text, checked on the
JSON Discord would receive (bot.render messages through bot.delivery.message_payload).

Titles, authors, abstracts, categories, post texts, author names and handles carry every
mention form (@everyone, @here, <@123>, <@!123>, <@&123>, <#123>), masked links and markdown.
Every payload must have `allowed_mentions: {"parse": []}`, no active mention syntax, no masked
link but the bot's own (abs, pdf, code, ...), and no live markdown from outside text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render
from bot.delivery import message_payload
from bot.models import DayRanking, Paper, Post, RankedPaper

HOSTILE = [
    "@everyone",
    "@here",
    "@Everyone",
    "<@123>",
    "<@!123>",
    "<@&123>",
    "<#123>",
    "</hot:123>",
    "<t:1700000000:R>",
    "[click](https://evil.example)",
    "[https://arxiv.org/abs/2108.00001](https://evil.example/phish)",
    "**bold**",
    "__underline__",
    "~~strike~~",
    "||spoiler||",
    "# Header",
    "## Sub",
    "```py\nprint('x')\n```",
    "`code`",
    "> quote",
    "-# subtext",
    "\u202eevil",
    "@\u200beveryone",  # already broken: must stay broken
]
HOSTILE_TEXT = " ".join(HOSTILE)
OWN_LINK_LABELS = {"abs", "pdf", "code", "project page", "Hugging Face"}
_OWN_LINK_LABEL = re.compile(r"^on [A-Za-z ]+$")  # "on X", "on Hacker News" (post links)

MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)\d+>|</[\w-]+:\d+>|<t:\d+", re.IGNORECASE)
MASKED_LINK = re.compile(r"(?<!\\)\[([^\]\n]*)(?<!\\)\]\((\S+?)\)")
LIVE_MARKDOWN = re.compile(r"(?<!\\)(\*\*|__|~~|\|\||```)")
HEADER_LINE = re.compile(r"^[ \t]*(#{1,3} |-# )", re.MULTILINE)
CODE_SPAN = re.compile(r"(?<!\\)`[^`\n]*`")
# The bot's own formatting, removed before looking for live markdown from outside text.
OWN_MARKUP = re.compile(r"\*\*Hot Papers \d{4}-\d{2}-\d{2}\*\*|\*\*[\d.]+\*\*")

NOW = dt.datetime(2021, 8, 4, 9, 0, tzinfo=dt.UTC)


def hostile_ranking(text: str = HOSTILE_TEXT, n: int = 3) -> DayRanking:
    papers = []
    for i in range(n):
        aid = f"2108.{i + 1:05d}"
        paper = Paper(
            arxiv_id=aid,
            title=f"{text} title {i}",
            authors=(text, "Ada @here Lovelace", "<@&987>"),
            categories=("cs.CV", text[:30]),
            abstract=text,
            code_url="https://evil.example/)[x](https://evil.example",
            project_url="javascript:alert(1)",
            hf_url=f"https://huggingface.co/papers/{aid}",
        )
        post = Post(
            source="x",
            url="https://x.com/u/status/1",
            arxiv_id=aid,
            author=text,
            handle="@everyone",
            text=text,
            likes=10,
            reposts=5,
        )
        papers.append(
            RankedPaper(
                rank=i + 1,
                paper=paper,
                score=float(100 - i),
                signals={"x": {"likes": 10, "retweets": 5}, text[:20]: {"likes": 1}},
                posts=[post],
            )
        )
    return DayRanking(
        day=dt.date(2021, 8, 3),
        generated_at=NOW,
        papers=papers,
        partial=True,
        failed_sources=("<@123>", "@everyone"),
    )


def payloads(ranking: DayRanking) -> list[dict[str, Any]]:
    """Every payload the bot would send for this ranking: digest, /hot pages, /paper."""
    messages = [
        *render.digest_messages(ranking),
        *render.digest_messages(ranking, category="@everyone"),
        *render.hot_pages(ranking),
    ]
    first = ranking.papers[0]
    messages.append(
        render.paper_embed(
            first.paper, first.signals, [(ranking.day, 1, first.score)], posts=first.posts
        )
    )
    out = []
    for n, message in enumerate(messages):
        # Through the delivery payload builder, then through JSON, as Discord receives it.
        body = message_payload(message, nonce=f"hp{n}")
        out.append(json.loads(json.dumps(body)))
        out.append(json.loads(json.dumps(message.payload())))
    return out


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in ("url", "nonce") for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def assert_inert(body: dict[str, Any]) -> None:
    assert body["allowed_mentions"] == {"parse": []}
    for raw in strings({k: v for k, v in body.items() if k != "allowed_mentions"}):
        assert not MENTION.search(raw), raw
        text = CODE_SPAN.sub("", raw)  # nothing renders inside a code span
        for label, target in MASKED_LINK.findall(text):
            # Our own label; the target (a source's URL, e.g. HF's code link) cannot break out.
            assert label in OWN_LINK_LABELS or _OWN_LINK_LABEL.match(label), (label, text)
            assert target.startswith(("https://", "http://")), target
            assert not re.search(r"[()\[\]<>\s]", target), target
        assert not LIVE_MARKDOWN.search(OWN_MARKUP.sub("", text)), text
        assert not HEADER_LINE.search(text), text
        assert "\u202e" not in text


def test_every_payload_of_a_hostile_day_is_inert(figures):
    bodies = payloads(hostile_ranking())
    for body in bodies:
        assert_inert(body)
    # The hostile text is still readable (escaped, not dropped).
    everything = json.dumps(bodies, ensure_ascii=False)
    assert "everyone" in everything and "click" in everything and "spoiler" in everything
    figures.record("mentions", payloads=len(bodies), active_mentions=0, foreign_masked_links=0)


@settings(max_examples=60, deadline=None)
@given(
    text=st.lists(
        st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), min_size=1, max_size=8
    ).map(" ".join)
)
def test_any_mix_of_hostile_fragments_is_inert(text, figures):
    bodies = payloads(hostile_ranking(text, n=1))
    for body in bodies:
        assert_inert(body)
    figures.record("mentions", payloads=len(bodies), active_mentions=0, foreign_masked_links=0)


def test_a_mapping_message_with_its_own_allowed_mentions_is_overridden():
    body = message_payload(
        {"content": "hi", "embeds": [], "allowed_mentions": {"parse": ["everyone"]}}
    )
    assert body["allowed_mentions"] == {"parse": []}
