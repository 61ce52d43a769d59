"""Pure parsers for arXiv's two XML formats: the rss.arxiv.org listing and the API's Atom feed.

A body that is not XML at all raises MalformedResponse; a single bad item is skipped and the
reason is returned in `errors` (and logged by the caller), so one broken record loses nothing
else. Bodies are parsed with defusedxml: a document that declares entities (billion laughs,
quadratic blowup) or references external ones is refused outright, whatever expat version
Python was built with (expat only caps entity amplification, after expanding megabytes).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import defusedxml.ElementTree as defused
from defusedxml import DefusedXmlException

from bot import arxiv_ids
from bot.errors import InvalidArxivId, MalformedResponse
from bot.models import ListingEntry, Paper

SOURCE = "arxiv"
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
DC = "{http://purl.org/dc/elements/1.1/}"
API_ERROR_PREFIX = "arxiv.org/api/errors"
DEFAULT_ANNOUNCE_TYPES = ("new", "cross")
_ANNOUNCE_IN_TEXT = re.compile(r"Announce Type:\s*(\S+)")


def collapse(text: str | None) -> str:
    """Whitespace runs (arXiv hard-wraps titles and abstracts) -> single spaces."""
    return " ".join((text or "").split())


def _root(body: bytes | str, what: str) -> ET.Element:
    try:
        return defused.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedResponse(SOURCE, f"{what} is not well-formed XML ({exc})") from None
    except LookupError as exc:  # <?xml encoding="U-F-8"?>: the parser knows no such codec
        raise MalformedResponse(SOURCE, f"{what} declares an unknown encoding ({exc})") from None
    except DefusedXmlException as exc:
        raise MalformedResponse(
            SOURCE, f"{what} declares or references XML entities; refused ({exc})"[:300]
        ) from None


@dataclass(slots=True)
class ParsedListing:
    """An RSS listing: the mailing's day (per the feed, US Eastern), entries, skipped items."""

    day: dt.date | None
    entries: list[ListingEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_rss(
    body: bytes | str, announce_types: tuple[str, ...] = DEFAULT_ANNOUNCE_TYPES
) -> ParsedListing:
    """Parse an rss.arxiv.org feed, keeping items whose announce_type is in `announce_types`.

    An empty channel (weekend, holiday) gives no entries and no error. Duplicates (an item
    listed under two requested categories) are kept once.
    """
    root = _root(body, "arXiv RSS feed")
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise MalformedResponse(SOURCE, f"arXiv RSS feed has no <rss><channel> (root <{root.tag}>)")
    result = ParsedListing(day=_feed_day(channel))
    seen: set[str] = set()
    for n, item in enumerate(channel.iter("item"), 1):
        try:
            entry = _listing_entry(item)
        except ValueError as exc:
            result.errors.append(f"RSS item {n} skipped: {exc}")
            continue
        if entry.announce_type not in announce_types or entry.arxiv_id in seen:
            continue
        seen.add(entry.arxiv_id)
        result.entries.append(entry)
    return result


def _feed_day(channel: ET.Element) -> dt.date | None:
    for tag in ("pubDate", "lastBuildDate"):
        text = channel.findtext(tag)
        if text:
            try:
                return email.utils.parsedate_to_datetime(text.strip()).date()
            except (TypeError, ValueError, IndexError):
                continue
    return None


def _listing_entry(item: ET.Element) -> ListingEntry:
    guid = (item.findtext("guid") or "").strip()
    link = (item.findtext("link") or "").strip()
    try:
        arxiv_id, version = arxiv_ids.parse_versioned(guid or link)
    except InvalidArxivId:
        raise ValueError(f"no arXiv id in guid {guid[:60]!r} or link {link[:60]!r}") from None
    kind = (item.findtext(f"{ARXIV}announce_type") or "").strip()
    if not kind:
        found = _ANNOUNCE_IN_TEXT.search(item.findtext("description") or "")
        kind = found.group(1) if found else ""
    if not kind:
        raise ValueError(f"{arxiv_id}: no announce_type")
    categories = tuple(
        c.text.strip() for c in item.findall("category") if c.text and c.text.strip()
    )
    return ListingEntry(
        arxiv_id=arxiv_id,
        announce_type=kind,
        categories=categories,
        version=version,
        title=collapse(item.findtext("title")),
    )


@dataclass(slots=True)
class ParsedFeed:
    """An API answer: papers, their versions, skipped entries, API error entries, total hits."""

    papers: list[Paper] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    api_errors: list[str] = field(default_factory=list)
    total: int | None = None


def parse_atom(body: bytes | str) -> ParsedFeed:
    """Parse an export.arxiv.org/api/query answer into Papers (canonical ids, no version)."""
    root = _root(body, "arXiv API answer")
    if root.tag != f"{ATOM}feed":
        raise MalformedResponse(SOURCE, f"arXiv API answer is not an Atom feed (root <{root.tag}>)")
    result = ParsedFeed()
    total = root.findtext(f"{OPENSEARCH}totalResults")
    if total and total.strip().isdigit():
        result.total = int(total)
    for n, entry in enumerate(root.findall(f"{ATOM}entry"), 1):
        raw_id = (entry.findtext(f"{ATOM}id") or "").strip()
        if API_ERROR_PREFIX in raw_id:
            result.api_errors.append(collapse(entry.findtext(f"{ATOM}summary")) or raw_id)
            continue
        try:
            paper, version = _paper(entry, raw_id)
        except ValueError as exc:
            result.errors.append(f"API entry {n} skipped: {exc}")
            continue
        result.papers.append(paper)
        if version is not None:
            result.versions[paper.arxiv_id] = version
    return result


def _paper(entry: ET.Element, raw_id: str) -> tuple[Paper, int | None]:
    try:
        arxiv_id, version = arxiv_ids.parse_versioned(raw_id)
    except InvalidArxivId:
        raise ValueError(f"id {raw_id[:80]!r} is not an arXiv id") from None
    title = collapse(entry.findtext(f"{ATOM}title"))
    if not title:
        raise ValueError(f"{arxiv_id}: no title")
    primary = entry.find(f"{ARXIV}primary_category")
    categories = tuple(
        dict.fromkeys(
            c.get("term", "").strip()
            for c in entry.findall(f"{ATOM}category")
            if c.get("term", "").strip()
        )
    )
    primary_term = primary.get("term") if primary is not None else None
    if primary_term and primary_term not in categories:
        categories = (primary_term, *categories)
    comment = collapse(entry.findtext(f"{ARXIV}comment")) or None
    published = None
    stamp = (entry.findtext(f"{ATOM}published") or "").strip()
    if stamp:
        try:
            published = dt.datetime.fromisoformat(stamp)
        except ValueError:
            raise ValueError(f"{arxiv_id}: bad published date {stamp[:40]!r}") from None
        if published.tzinfo is None:
            published = published.replace(tzinfo=dt.UTC)
    paper = Paper(
        arxiv_id=arxiv_id,
        title=title,
        authors=tuple(
            name
            for a in entry.findall(f"{ATOM}author")
            if (name := collapse(a.findtext(f"{ATOM}name")))
        ),
        categories=categories,
        abstract=collapse(entry.findtext(f"{ATOM}summary")),
        primary_category=primary_term or (categories[0] if categories else None),
        comment=comment,
        abs_url=arxiv_ids.abs_url(arxiv_id),
        pdf_url=arxiv_ids.pdf_url(arxiv_id),
        published=published,
    )
    return paper, version
