"""A stored day as JSON (the machine interface) or as an Atom 1.0 feed. Pure: DayRanking -> str.

Markdown export lives in bot.archive (render_markdown), next to the parser it mirrors.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import xml.etree.ElementTree as ET
from typing import Any

from bot import arxiv_ids
from bot.archive import shown
from bot.models import DayRanking, RankedPaper

log = logging.getLogger(__name__)

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ID_PREFIX = "urn:hotpapers:day:"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def paper_dict(rp: RankedPaper) -> dict[str, Any]:
    """One ranked paper in the JSON schema."""
    p = rp.paper
    return {
        "rank": rp.rank,
        "arxiv_id": p.arxiv_id,
        "title": p.title,
        "authors": list(p.authors),
        "categories": list(p.categories),
        "abstract": p.abstract,
        "score": _number(rp.score),
        "signals": {source: dict(counts) for source, counts in rp.signals.items()},
        "posts": [
            {
                "source": post.source,
                "author": post.author,
                "handle": post.handle,
                "url": post.url,
                "text": post.text,
                "posted": post.posted,
            }
            for post in rp.posts
        ],
    }


def to_dict(ranking: DayRanking) -> dict[str, Any]:
    """{"date": "YYYY-MM-DD", "papers": [...]}: the day as its post showed it."""
    day = shown(ranking)
    return {"date": day.day.isoformat(), "papers": [paper_dict(rp) for rp in day.papers]}


def to_json(ranking: DayRanking) -> str:
    """The JSON export (UTF-8 text, not ASCII-escaped, newline-terminated)."""
    return json.dumps(to_dict(ranking), ensure_ascii=False, indent=2) + "\n"


def _rfc3339(value: dt.datetime) -> str:
    if value.tzinfo is None:  # never stored so, but a feed must carry an offset
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _counts(rp: RankedPaper) -> str:
    parts = []
    for source, counts in rp.signals.items():
        shown_counts = ", ".join(f"{n} {k}" for k, n in counts.items())
        parts.append(f"{source}: {shown_counts}")
    return "; ".join(parts)


def to_atom(ranking: DayRanking) -> str:
    """An Atom 1.0 feed of the day: one entry per ranked paper, best first."""
    day = shown(ranking)
    iso = day.day.isoformat()
    updated = _rfc3339(day.generated_at)
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", f"{FEED_ID_PREFIX}{iso}")
    title = f"Hot Papers {iso}" + (f" ({day.category})" if day.category else "")
    sub(feed, "title", title)
    sub(feed, "updated", updated)
    author = sub(feed, "author")
    sub(author, "name", "hotpapers")
    sub(feed, "generator", "hotpapers")
    sub(feed, "subtitle", "arXiv papers ranked by how much people talked about them")
    for rp in day.papers:
        p = rp.paper
        link = p.abs_url or arxiv_ids.abs_url(p.arxiv_id)
        entry = sub(feed, "entry")
        sub(entry, "id", f"{FEED_ID_PREFIX}{iso}:{p.arxiv_id}")
        sub(entry, "title", f"{rp.rank}. {p.title}")
        sub(entry, "updated", updated)
        sub(entry, "link", href=link, rel="alternate", type="text/html")
        if p.pdf_url:
            sub(entry, "link", href=p.pdf_url, rel="related", type="application/pdf")
        for name in p.authors:
            sub(sub(entry, "author"), "name", name)
        for cat in p.categories:
            sub(entry, "category", term=cat, scheme="https://arxiv.org/archive/")
        summary = f"Score {_number(rp.score)} ({_counts(rp)}). {p.abstract}".strip()
        sub(entry, "summary", summary, type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"
