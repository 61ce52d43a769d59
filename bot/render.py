"""Pure rendering of rankings into Discord messages (content + embeds), within every limit.

A rendered message is a `Message`: `content` (a string) and `embeds` (a tuple of plain embed
dicts, exactly the JSON Discord expects). `Message.payload()` gives the body for
`POST /channels/{id}/messages` or a webhook, with `allowed_mentions` empty;
`Message.embed_objects()` gives `discord.Embed` objects for interaction responses.

Every Discord limit holds by construction (see LIMITS): each piece is cut to its own limit,
each embed is far below the 6,000-character message total, and messages are packed with at
most 10 embeds and 6,000 embed characters, in rank order. Text that comes from outside
(titles, authors, posts, category names) goes through `clean()`: markdown escaped, masked
links broken, mentions neutralised with a zero-width space so they can neither ping nor render.
URLs from outside go through `safe_url()` (http/https only, no characters that could end a
masked link early).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import discord

from bot.models import DayRanking, Paper, Post, RankedPaper

# Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
FIELDS_MAX = 25
EMBEDS_PER_MESSAGE = 10
EMBED_CHARS_PER_MESSAGE = 6000
CONTENT_MAX = 2000
URL_MAX = 2048

# Our own, tighter budgets, so one paper's embed stays well under the per-message total.
AUTHORS_BUDGET = 300
EXCERPT_BUDGET = 400
DESCRIPTION_BUDGET = 1500
AUTHORS_SHOWN = 6

ZWSP = "\u200b"
ELLIPSIS = "…"
SOURCE_NAMES = {
    "twitter": "Twitter",
    "x": "X",
    "bluesky": "Bluesky",
    "mastodon": "Mastodon",
    "huggingface": "Hugging Face",
    "hackernews": "Hacker News",
}

# -- escaping ---------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A bare URL is kept as is (so it still links), but never with brackets or parentheses in it.
_TOKEN = re.compile(r"(?P<url>https?://[^\s<>\[\]()]+)|(?P<md>[\\*_~|`\[\]()])")
_LINE_START = re.compile(r"^([ \t]*)([#>\-+])", re.MULTILINE)
_NUMBERED = re.compile(r"^([ \t]*\d+)\.(?=\s)", re.MULTILINE)
_ANGLE_MENTION = re.compile(r"<(?=[@#:/!&]|a:|t:|id:)")
_AT_MENTION = re.compile(r"@(?=everyone|here|[!&]?\d)", re.IGNORECASE)
_HTTP_URL = re.compile(r"^https?://[^\s/?#]+", re.IGNORECASE)
_SPACE = re.compile(r"\s")  # the characters str.isspace() accepts


def _strip_controls(text: str) -> str:
    return _CONTROL.sub("", text)


def neutralise_mentions(text: str) -> str:
    """Break @everyone, @here, <@id>, <@&id>, <#id>, <t:…>, </cmd:id> with a zero-width space."""
    text = _ANGLE_MENTION.sub("<" + ZWSP, text)
    return _AT_MENTION.sub("@" + ZWSP, text)


@functools.lru_cache(maxsize=8192)  # names, categories and count labels repeat a lot
def clean(text: str | None, *, one_line: bool = True) -> str:
    """Outside text made inert: no controls, markdown escaped, links unmasked, no mentions."""
    if not text:
        return ""
    text = _strip_controls(unicodedata.normalize("NFC", str(text)))
    text = " ".join(text.split()) if one_line else text.replace("\r", "")

    def replace(match: re.Match[str]) -> str:
        url = match.group("url")
        return url if url is not None else "\\" + match.group("md")

    text = _TOKEN.sub(replace, text)
    text = _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)
    text = _NUMBERED.sub(lambda m: f"{m.group(1)}\\.", text)
    return neutralise_mentions(text)


def plain(text: str | None) -> str:
    """Outside text where Discord does not format (footer, author): no controls, no mentions."""
    if not text:
        return ""
    return neutralise_mentions(" ".join(_strip_controls(str(text)).split()))


def cut(text: str, limit: int) -> str:
    """text within limit characters, ending in '…' when shortened, never on a dangling escape."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)]
    # Never end on an odd run of backslashes (it would escape the ellipsis) or a bare '<'/'@'.
    head = head.rstrip("<@" + ZWSP)
    trailing = len(head) - len(head.rstrip("\\"))
    if trailing % 2:
        head = head[:-1]
    return head + ELLIPSIS if limit >= 1 else ""


def code(text: str, limit: int = 40) -> str:
    """Outside text as an inline code span (no backticks inside, so it cannot end early)."""
    return "`" + (plain(text).replace("`", "'")[:limit] or " ") + "`"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL that cannot break out of a masked link or an embed field, else None."""
    if not url:
        return None
    url = url.strip()
    if not _HTTP_URL.match(url) or _CONTROL.search(url) or _SPACE.search(url):
        return None
    url = quote(url, safe=":/?#@!$&'*+,;=%-._~")
    return url if len(url) <= URL_MAX else None


def link(label: str, url: str | None) -> str | None:
    """A masked link with our own label, or None when the URL is unusable."""
    target = safe_url(url)
    return f"[{label}]({target})" if target else None


# -- pieces -----------------------------------------------------------------------------------


def abs_url(paper: Paper) -> str:
    return safe_url(paper.abs_url) or f"https://arxiv.org/abs/{quote(paper.arxiv_id, safe='/.')}"


def pdf_url(paper: Paper) -> str:
    return safe_url(paper.pdf_url) or f"https://arxiv.org/pdf/{quote(paper.arxiv_id, safe='/.')}"


def authors_line(authors: Sequence[str], *, shown: int = AUTHORS_SHOWN) -> str:
    """'A, B, C' or 'A, B, C, D, E, F et al.' when long (and within AUTHORS_BUDGET)."""
    present = [a for a in authors if a and a.strip()]
    if not present:
        return ""
    names = [clean(a) for a in present[:shown]]  # only the names shown are cleaned
    text = ", ".join(names) + (" et al." if len(present) > shown else "")
    if len(text) > AUTHORS_BUDGET:
        text = cut(names[0], AUTHORS_BUDGET - len(" et al.")) + " et al."
    return text


def format_count(value: float) -> str:
    """1234 -> '1234', 12.5 -> '12.5'."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def counts_text(signals: dict[str, dict[str, int]]) -> str:
    """'Twitter: retweets: 6396, favorites: 301 · Hacker News: points: 120'."""
    parts = []
    for source, counts in signals.items():
        if not counts:
            continue
        name = SOURCE_NAMES.get(source, clean(source))
        inner = ", ".join(f"{clean(k)}: {format_count(v)}" for k, v in counts.items())
        parts.append(f"{name}: {inner}")
    return " · ".join(parts)


def links_text(paper: Paper) -> str:
    """abs · pdf · code · project page · Hugging Face, whichever are known."""
    items = [
        link("abs", abs_url(paper)),
        link("pdf", pdf_url(paper)),
        link("code", paper.code_url),
        link("project page", paper.project_url),
        link("Hugging Face", paper.hf_url),
    ]
    return " · ".join(i for i in items if i)


def best_post(posts: Sequence[Post]) -> Post | None:
    """The post with the most engagement (the first one on ties)."""
    best: Post | None = None
    for post in posts:
        if best is None or post.engagement > best.engagement:
            best = post
    return best


def post_quote(post: Post, *, budget: int = EXCERPT_BUDGET) -> str:
    """A quoted excerpt, then '— author (@handle) · link' (always within FIELD_VALUE_MAX)."""
    text = cut(clean(post.text), budget) or "(no text)"
    who = clean(post.author) or clean(post.handle) or SOURCE_NAMES.get(post.source, "someone")
    handle = clean(post.handle)
    if handle and handle != who:
        who = f"{who} (@{ZWSP}{handle.lstrip('@')})"
    who = cut(who, 120)
    where = link(f"on {SOURCE_NAMES.get(post.source, 'the web')}", post.url)
    tail = f"— {who}" + (f" · {where}" if where else "")
    return cut(f"> {text}\n{tail}", FIELD_VALUE_MAX)


def _field(name: str, value: str, inline: bool = False) -> dict[str, Any]:
    return {
        "name": cut(name, FIELD_NAME_MAX) or ZWSP,
        "value": cut(value, FIELD_VALUE_MAX) or ZWSP,
        "inline": inline,
    }


def paper_embed_dict(
    paper: Paper,
    *,
    rank: int | None = None,
    score: float | None = None,
    signals: dict[str, dict[str, int]] | None = None,
    posts: Sequence[Post] = (),
    days: Sequence[tuple[dt.date, int, float]] = (),
) -> dict[str, Any]:
    """One paper as an embed dict (the shape Discord's API takes)."""
    title = clean(paper.title) or paper.arxiv_id
    prefix = f"#{rank} · " if rank is not None else ""
    lines = []
    authors = authors_line(paper.authors)
    if authors:
        lines.append(authors)
    if paper.categories:
        lines.append(" · ".join(code(c) for c in paper.categories[:8]))
    description = cut("\n".join(lines), DESCRIPTION_BUDGET)
    fields = []
    if score is not None:
        counts = counts_text(signals or {})
        value = f"**{format_count(score)}**" + (f" — {counts}" if counts else "")
        fields.append(_field("Score", value))
    elif signals:
        fields.append(_field("Counts", counts_text(signals) or "none"))
    fields.append(_field("Links", links_text(paper)))
    post = best_post(posts)
    if post is not None:
        fields.append(_field("Top post", post_quote(post)))
    if days:
        shown = [f"{d.isoformat()}: #{r} ({format_count(s)})" for d, r, s in days[-20:]]
        more = f" and {len(days) - 20} earlier" if len(days) > 20 else ""
        fields.append(_field(f"Ranked on {len(days)} day(s)", ", ".join(shown) + more))
    embed: dict[str, Any] = {
        "type": "rich",
        "title": cut(prefix + title, TITLE_MAX),
        "url": abs_url(paper),
        "color": 0xB31B1B,
        "fields": fields[:FIELDS_MAX],
        "footer": {"text": cut(plain(f"arXiv:{paper.arxiv_id}"), FOOTER_MAX)},
    }
    if description:
        embed["description"] = description
    return embed


def ranked_embed(item: RankedPaper) -> dict[str, Any]:
    """One line of a day's ranking as an embed dict."""
    return paper_embed_dict(
        item.paper, rank=item.rank, score=item.score, signals=item.signals, posts=item.posts
    )


def embed_chars(embed: dict[str, Any]) -> int:
    """Characters Discord counts towards the 6,000 per message."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    for f in embed.get("fields", []):
        total += len(f["name"]) + len(f["value"])
    return total


# -- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """One Discord message: content plus up to 10 embed dicts (within 6,000 characters)."""

    content: str
    embeds: tuple[dict[str, Any], ...] = ()
    # For /hot paging: which page this is (1-based) of how many.
    page: int = 1
    pages: int = 1
    arxiv_ids: tuple[str, ...] = field(default=())

    def payload(self, nonce: str | None = None) -> dict[str, Any]:
        """The JSON body to POST (channel message or webhook); never pings anyone."""
        body: dict[str, Any] = {
            "content": self.content,
            "embeds": [dict(e) for e in self.embeds],
            "allowed_mentions": {"parse": []},
        }
        if nonce is not None:
            body["nonce"] = nonce
            body["enforce_nonce"] = True
        return body

    def embed_objects(self) -> list[discord.Embed]:
        """The embeds as discord.Embed (for interaction responses)."""
        return [discord.Embed.from_dict(dict(e)) for e in self.embeds]


def _categories_label(category: str | Sequence[str] | None) -> str:
    if not category:
        return ""
    cats = [category] if isinstance(category, str) else list(category)
    return ", ".join(clean(c)[:40] for c in cats[:10]) + (" …" if len(cats) > 10 else "")


def select(
    ranking: DayRanking,
    *,
    category: str | Sequence[str] | None = None,
    top: int | None = None,
    min_score: float = 0.0,
) -> list[RankedPaper]:
    """The papers of a ranking in one of the categories, at or above min_score, at most top."""
    cats = {category} if isinstance(category, str) else set(category or ())
    chosen = [
        rp
        for rp in sorted(ranking.papers, key=lambda r: r.rank)
        if (not cats or cats & set(rp.paper.categories)) and rp.score >= min_score
    ]
    return chosen if top is None else chosen[: max(top, 0)]


def header(ranking: DayRanking, count: int, category: str | Sequence[str] | None = None) -> str:
    """'Hot Papers 2021-08-03 · cs.CV · 12 papers' (+ ' · partial: huggingface unavailable')."""
    parts = [f"**Hot Papers {ranking.day.isoformat()}**"]
    label = _categories_label(category or ranking.category)
    if label:
        parts.append(label)
    parts.append(f"{count} paper" + ("" if count == 1 else "s"))
    text = " · ".join(parts)
    if ranking.partial:
        failed = ", ".join(clean(s)[:30] for s in ranking.failed_sources[:10]) or "some sources"
        text += f" · partial: {failed} unavailable"
    return cut(text, 500)


def pack(
    embeds: Iterable[dict[str, Any]], *, max_embeds: int = EMBEDS_PER_MESSAGE
) -> list[list[dict[str, Any]]]:
    """Group embeds in order into messages of ≤ max_embeds and ≤ 6,000 characters each."""
    max_embeds = max(1, min(max_embeds, EMBEDS_PER_MESSAGE))
    groups: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for embed in embeds:
        n = embed_chars(embed)
        if current and (len(current) >= max_embeds or size + n > EMBED_CHARS_PER_MESSAGE):
            groups.append(current)
            current, size = [], 0
        current.append(embed)
        size += n
    if current:
        groups.append(current)
    return groups


def digest_messages(
    ranking: DayRanking,
    *,
    category: str | Sequence[str] | None = None,
    top: int | None = None,
    min_score: float = 0.0,
    now: dt.datetime | None = None,
) -> list[Message]:
    """A day's digest as messages in rank order: the header on the first, ≤10 embeds each."""
    chosen = select(ranking, category=category, top=top, min_score=min_score)
    head = header(ranking, len(chosen), category)
    if not chosen:
        return [Message(content=f"{head}\nNo papers ranked for this day.")]
    groups = _paged(chosen, EMBEDS_PER_MESSAGE)
    return [
        Message(
            content=head if n == 1 else f"{head} ({n}/{len(groups)})",
            embeds=tuple(e for e, _ in group),
            arxiv_ids=tuple(i for _, i in group),
        )
        for n, group in enumerate(groups, 1)
    ]


def _paged(chosen: Sequence[RankedPaper], per: int) -> list[list[tuple[dict[str, Any], str]]]:
    embeds = [ranked_embed(rp) for rp in chosen]
    ids = iter([rp.paper.arxiv_id for rp in chosen])
    return [[(e, next(ids)) for e in group] for group in pack(embeds, max_embeds=per)]


def hot_pages(
    ranking: DayRanking,
    *,
    category: str | Sequence[str] | None = None,
    top: int | None = None,
    per_page: int = 5,
    now: dt.datetime | None = None,
) -> list[Message]:
    """/hot's pages: ≤ per_page papers each (fewer if 6,000 characters would be exceeded)."""
    chosen = select(ranking, category=category, top=top)
    head = header(ranking, len(chosen), category)
    if not chosen:
        return [Message(content=f"{head}\nNo papers ranked for this day.")]
    groups = _paged(chosen, per_page)
    return [
        Message(
            content=f"{head} · page {n}/{len(groups)}",
            embeds=tuple(e for e, _ in group),
            page=n,
            pages=len(groups),
            arxiv_ids=tuple(i for _, i in group),
        )
        for n, group in enumerate(groups, 1)
    ]


def paper_embed(
    paper: Paper,
    signals: dict[str, dict[str, int]],
    days: Sequence[tuple[dt.date, int, float]],
    *,
    posts: Sequence[Post] = (),
) -> Message:
    """/paper's answer: one paper, its counts per source and every day it ranked."""
    embed = paper_embed_dict(paper, signals=signals, posts=posts, days=days)
    if not days:
        content = f"arXiv:{clean(paper.arxiv_id)} has not ranked on any stored day."
    else:
        best = min(days, key=lambda d: d[1])
        content = (
            f"arXiv:{clean(paper.arxiv_id)} ranked on {len(days)} day(s); "
            f"best #{best[1]} on {best[0].isoformat()}."
        )
    return Message(content=cut(content, CONTENT_MAX), embeds=(embed,), arxiv_ids=(paper.arxiv_id,))
