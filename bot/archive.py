"""Hot Papers markdown posts <-> DayRanking, both ways (markdown-it-py + an HTML parser).

A post is YAML-ish front matter (title "Hot Papers YYYY-MM-DD", generated-at `date`) and one
block per ranked paper:

    # 1. Title
    <blank>
    Author One, Author Two
    <blank>
    - retweets: 6396, favorites: 301 (08/04/2021 09:49:00)
    <blank>
    - links: [abs](https://arxiv.org/abs/ID) | [pdf](https://arxiv.org/pdf/ID)
    - [cs.CV](https://arxiv.org/list/cs.CV/recent) | ...
    <blank>
    Abstract
    <blank>
    <blockquote class="twitter-tweet">...</blockquote>   (zero or more embeds, each with
    <script async src="..."></script>                     Twitter's widget script)

markdown-it-py finds the blocks (headings, paragraphs, list items, HTML blocks) and their source
lines; the fields come from those exact lines, so the text is kept as the authors wrote it.
Everything a renderer needs to reproduce the file byte for byte is either a structured field
(title, authors, counts, links, categories, abstract, the embed HTML) or a small format detail
in `extra` (per-paper count timestamp, a non-standard front matter or leading blank lines).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from bot import arxiv_ids
from bot.embeds import EmbedError, parse_tweet_embed
from bot.errors import ArchiveParseError, InvalidArxivId
from bot.models import DayRanking, Paper, Post, RankedPaper

log = logging.getLogger(__name__)

SOURCE = "twitter"
# Paper fields a post shows; when a later day changes one, earlier days keep theirs in extra.
SHOWN_FIELDS = ("title", "authors", "categories", "abstract", "abs_url", "pdf_url")

_HEADING = re.compile(r"^# (\d+)\. (.*)$")
_COUNTS = re.compile(
    r"^- retweets: (\d+), favorites: (\d+)"
    r"(?: \((\d\d)/(\d\d)/(\d{4}) (\d\d:\d\d:\d\d)\))?$"  # (MM/DD/YYYY HH:MM:SS)
)
_LINKS = re.compile(r"^- links: \[abs\]\(([^()\s]+)\) \| \[pdf\]\(([^()\s]+)\)$")
_CATEGORY = re.compile(r"^\[([^\]\s]+)\]\(https://arxiv\.org/list/([^/\s]+)/recent\)$")
_TITLE = re.compile(r"^Hot Papers (\d{4}-\d{2}-\d{2})$")
_GENERATED = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d*)?(Z|\.Z|[+-]\d\d:\d\d)?$")
_STAMP_FORMAT = "%m/%d/%Y %H:%M:%S"
_EMBED_START = "<blockquote"

# Block-level parsing only (headings, paragraphs, lists, HTML blocks): the fields are read
# from the source lines of each block, so inline parsing and the other block rules are off.
_MD = MarkdownIt("commonmark").disable(
    ["inline", "code", "fence", "blockquote", "hr", "reference", "lheading"]
)


# -- mojibake ---------------------------------------------------------------------------------

# UTF-8 bytes that were decoded as Mac Roman: a lead byte (0xC2-0xF4) then continuation bytes
# (0x80-0xBF), each shown as its Mac Roman character.
_MAC_LEAD = bytes(range(0xC2, 0xF5)).decode("mac_roman")
_MAC_CONT = bytes(range(0x80, 0xC0)).decode("mac_roman")
_MOJIBAKE = re.compile(f"[{re.escape(_MAC_LEAD)}][{re.escape(_MAC_CONT)}]{{1,3}}")
# Pairs that never occur in clean text: "√©" (é), "‚Ä" (’ “ ” — …), "¬†" (no-break space) ...
_TELLTALE = re.compile(f"[√‚¬ƒ≈][{re.escape(_MAC_CONT)}]")


def _repair_sequence(match: re.Match[str]) -> str:
    raw = match.group().encode("mac_roman")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return match.group()


def repair_mojibake(text: str) -> tuple[str, int]:
    """Undo UTF-8 text that went through a Mac Roman decode ("Thimoth√©e" -> "Thimothée").

    Only acts when the text carries the telltale pairs of that damage; clean text (including
    a lone "√" as in "O(N√N)") is returned unchanged. Returns (text, sequences repaired).
    """
    if not _TELLTALE.search(text):
        return text, 0
    count = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal count
        fixed = _repair_sequence(match)
        if fixed != match.group():
            count += 1
        return fixed

    return _MOJIBAKE.sub(fix, text), count


# -- reading ----------------------------------------------------------------------------------


def decode(data: bytes, path: str) -> str:
    """Bytes -> text; binary or non-UTF-8 content is an ArchiveParseError at its line."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ArchiveParseError(path, data.count(b"\n", 0, nul) + 1, "binary data (NUL byte)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ArchiveParseError(path, line, f"not UTF-8 text (byte {exc.start})") from None


def read_post(path: str | Path) -> tuple[DayRanking, int]:
    """Read, repair and parse one post file. Returns (ranking, mojibake sequences repaired)."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ArchiveParseError(name, 0, f"cannot read: {exc.strerror}") from None
    text, repaired = repair_mojibake(decode(data, name))
    if repaired:
        log.info("%s: repaired %d mis-decoded (Mac Roman) sequences", name, repaired)
    return parse_post(text, name), repaired


def standard_front_matter(day: dt.date, generated_at: dt.datetime) -> str:
    """The front matter every Hot Papers post carries."""
    iso = day.isoformat()
    stamp = generated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return (
        f"---\ntitle: Hot Papers {iso}\ndate: {stamp}.Z\n"
        'template: "post"\ndraft: false\n'
        f'slug: "hot-papers-{iso}"\ncategory: "arXiv"\n'
        'tags:\n  - "arXiv"\n  - "Twitter"\n  - "Machine Learning"\n  - "Computer Science"\n'
        f'description: "Hot papers {iso}"\nsocialImage: "/media/flying-marine.jpg"\n\n---\n'
    )


def _front_field(
    fields: dict[str, tuple[int, str]],
    key: str,
    pattern: re.Pattern[str],
    expected: str,
    path: str,
    end: int,
) -> tuple[int, re.Match[str]]:
    if key not in fields:
        raise ArchiveParseError(path, end + 1, f"front matter has no '{key}'")
    line, value = fields[key]
    match = pattern.match(value.strip("\"'"))
    if not match:
        raise ArchiveParseError(path, line, f"{key} {value!r} is not {expected}")
    return line, match


def _front_matter(lines: list[str], path: str) -> tuple[dt.date, dt.datetime, int]:
    """(day, generated_at, index of the closing '---' line)."""
    if not lines or lines[0].rstrip("\r") != "---":
        raise ArchiveParseError(path, 1, "no front matter (a post starts with a '---' line)")
    try:
        end = lines.index("---", 1)
    except ValueError:
        raise ArchiveParseError(
            path, len(lines), "front matter is not closed by '---' (truncated?)"
        ) from None
    fields: dict[str, tuple[int, str]] = {}
    for n in range(1, end):
        key, sep, value = lines[n].partition(":")
        if sep and not key.startswith((" ", "-")):
            fields[key.strip()] = (n + 1, value.strip())
    line, match = _front_field(fields, "title", _TITLE, "'Hot Papers YYYY-MM-DD'", path, end)
    try:
        day = dt.date.fromisoformat(match[1])
    except ValueError as exc:
        raise ArchiveParseError(path, line, f"bad date in title: {exc}") from None
    line, stamp = _front_field(fields, "date", _GENERATED, "an ISO timestamp", path, end)
    zone = stamp[2] if stamp[2] and stamp[2][0] in "+-" else "+00:00"
    try:
        generated = dt.datetime.fromisoformat(stamp[1] + zone)
    except ValueError as exc:
        raise ArchiveParseError(path, line, f"bad date: {exc}") from None
    return day, generated, end


def _blocks(body: str) -> tuple[list[tuple[str, int, int]], dict[int, list[int]]]:
    """Top-level markdown blocks of body: (token type, first line, end line), 0-based; and
    for each list block (by first line) the lines where its items start."""
    blocks: list[tuple[str, int, int]] = []
    items: dict[int, list[int]] = {}
    for tok in _MD.parse(body):
        if tok.map is None or tok.nesting < 0:
            continue
        if tok.level == 0:
            blocks.append((tok.type, tok.map[0], tok.map[1]))
        elif tok.level == 1 and tok.type == "list_item_open":
            items.setdefault(blocks[-1][1], []).append(tok.map[0])
    return blocks, items


def parse_post(text: str, path: str = "<text>") -> DayRanking:
    """Parse a Hot Papers post; raise ArchiveParseError (file, line, reason) if it is broken."""
    lines = text.split("\n")
    day, generated_at, fm_end = _front_matter(lines, path)
    offset = fm_end + 1  # body line i is file line offset + i + 1 (1-based)
    body_lines = lines[offset:]
    body = "\n".join(body_lines)
    extra: dict[str, Any] = {}
    front = "\n".join(lines[:offset]) + "\n"
    if front != standard_front_matter(day, generated_at):
        extra["front_matter"] = front

    blocks, list_items = _blocks(body) if body.strip() else ([], {})
    headings = [i for i, b in enumerate(blocks) if b[0] == "heading_open"]
    if blocks and (not headings or headings[0] != 0):
        raise ArchiveParseError(path, offset + blocks[0][1] + 1, "text before the first paper")
    if blocks:
        if not text.endswith("\n\n\n\n"):
            raise ArchiveParseError(
                path, len(lines), "file ends inside the last paper (truncated?)"
            )
        lead = blocks[0][1]
        if lead != 1:
            extra["lead_blank_lines"] = lead

    papers: list[RankedPaper] = []
    seen: dict[str, int] = {}
    for n, first in enumerate(headings):
        last = headings[n + 1] if n + 1 < len(headings) else len(blocks)
        rp = _parse_paper(blocks[first:last], list_items, body_lines, offset, path)
        aid = rp.paper.arxiv_id
        if aid in seen:
            raise ArchiveParseError(
                path,
                offset + blocks[first][1] + 1,
                f"paper {aid} is listed twice (ranks {seen[aid]} and {rp.rank})",
            )
        seen[aid] = rp.rank
        papers.append(rp)

    ranking = DayRanking(
        day=day, generated_at=generated_at, papers=papers, origin="archive", extra=extra
    )
    if render_markdown(ranking) != text:
        # A layout this module does not model: keep the exact text so export stays identical.
        log.warning("%s: unusual layout; keeping the original text for export", path)
        ranking.extra["source"] = text
    return ranking


def _parse_paper(
    blocks: list[tuple[str, int, int]],
    list_items: dict[int, list[int]],
    body_lines: list[str],
    offset: int,
    path: str,
) -> RankedPaper:
    head_line = blocks[0][1]

    def fail(line: int, message: str) -> ArchiveParseError:
        return ArchiveParseError(path, offset + line + 1, message)

    match = _HEADING.match(body_lines[head_line])
    if not match:
        raise fail(head_line, "paper heading is not '# N. Title'")
    rank, title = int(match[1]), match[2]
    label = f"paper {rank}"
    if len(blocks) < 2 or blocks[1][0] != "paragraph_open":
        raise fail(head_line + 1, f"{label}: missing the authors line")
    authors_line = blocks[1][1]
    authors = tuple(body_lines[authors_line].split(", "))

    if len(blocks) < 3 or blocks[2][0] != "bullet_list_open":
        raise fail(blocks[1][2], f"{label}: missing the retweets/links/categories list")
    items = list_items.get(blocks[2][1], [])
    found: dict[str, int] = {}
    for line in items:
        item = body_lines[line]
        key = (
            "counts"
            if item.startswith("- retweets:")
            else "links"
            if item.startswith("- links:")
            else "categories"
            if item.startswith("- [")
            else None
        )
        if key is None or key in found:
            raise fail(line, f"{label}: unexpected list item {item[:40]!r}")
        found[key] = line
    for key, what in (
        ("counts", "'- retweets: N, favorites: N' line"),
        ("links", "'- links: [abs](...) | [pdf](...)' line"),
        ("categories", "categories line"),
    ):
        if key not in found:
            raise fail(blocks[2][1], f"{label}: missing the {what}")

    counts = _COUNTS.match(body_lines[found["counts"]])
    if not counts:
        raise fail(found["counts"], f"{label}: malformed retweets/favorites line")
    retweets, favorites = int(counts[1]), int(counts[2])
    links = _LINKS.match(body_lines[found["links"]])
    if not links:
        raise fail(found["links"], f"{label}: malformed links line")
    abs_url, pdf_url = links[1], links[2]
    try:
        arxiv_id = arxiv_ids.parse(abs_url)
    except InvalidArxivId:
        raise fail(found["links"], f"{label}: abs link {abs_url!r} is not an arXiv URL") from None
    categories: list[str] = []
    for part in body_lines[found["categories"]][2:].split(" | "):
        cat = _CATEGORY.match(part)
        if not cat or cat[1] != cat[2]:
            raise fail(found["categories"], f"{label}: malformed category link {part[:60]!r}")
        categories.append(cat[1])

    # The abstract: the lines after the categories, up to the first embedded post.
    embeds = [b for b in blocks[3:] if b[0] == "html_block"]
    first_embed = next((b for b in embeds if body_lines[b[1]].startswith(_EMBED_START)), None)
    abstract_end = first_embed[1] if first_embed else blocks[-1][2]
    abstract = "\n".join(body_lines[found["categories"] + 1 : abstract_end]).strip("\n")

    posts: list[Post] = []
    if first_embed is not None:
        for kind, start, end in blocks[blocks.index(first_embed) :]:
            if kind != "html_block" or not body_lines[start].startswith(_EMBED_START):
                raise fail(start, f"{label}: unexpected text after the embedded posts")
            html = "\n".join(body_lines[start:end]).rstrip("\n")
            try:
                embed = parse_tweet_embed(html)
            except EmbedError as exc:
                raise fail(start, f"{label}: {exc}") from None
            posts.append(
                Post(
                    source=SOURCE,
                    url=embed.url,
                    arxiv_id=arxiv_id,
                    author=embed.author,
                    handle=embed.handle,
                    text=embed.text,
                    posted=embed.posted,
                    html=html,
                )
            )

    extra: dict[str, Any] = {}
    if counts[3]:
        month, mday, year, clock = counts[3], counts[4], counts[5], counts[6]
        extra["counted_at"] = f"{year}-{month}-{mday}T{clock}+00:00"
    paper = Paper(
        arxiv_id=arxiv_id,
        title=title,
        authors=authors,
        categories=tuple(categories),
        abstract=abstract,
        primary_category=categories[0] if categories else None,
        abs_url=abs_url,
        pdf_url=pdf_url,
    )
    return RankedPaper(
        rank=rank,
        paper=paper,
        score=float(retweets + favorites),
        signals={SOURCE: {"retweets": retweets, "favorites": favorites}},
        posts=posts,
        extra=extra,
    )


# -- the day as it was shown -----------------------------------------------------------------


def shown(ranking: DayRanking) -> DayRanking:
    """The day as its post showed it: per-day snapshots in extra applied to papers and posts.

    When a later day changes a paper (e.g. a cross-list adds a category), earlier days keep
    what they showed under extra["shown"] (paper fields) and extra["post_html"] (url -> HTML).
    """
    papers = []
    for rp in ranking.papers:
        snap = rp.extra.get("shown") or {}
        html = rp.extra.get("post_html") or {}
        if not snap and not html:
            papers.append(rp)
            continue
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in snap.items()}
        if "categories" in fields:
            cats = fields["categories"]
            fields["primary_category"] = cats[0] if cats else None
        paper = dataclasses.replace(rp.paper, **fields)
        posts = [dataclasses.replace(p, html=html[p.url]) if p.url in html else p for p in rp.posts]
        rest = {k: v for k, v in rp.extra.items() if k not in ("shown", "post_html")}
        papers.append(dataclasses.replace(rp, paper=paper, posts=posts, extra=rest))
    return dataclasses.replace(ranking, papers=papers)


# -- writing ----------------------------------------------------------------------------------


def _render_paper(rp: RankedPaper) -> str:
    p = rp.paper
    counts = rp.signals.get(SOURCE, {})
    stamp = rp.extra.get("counted_at")
    when = f" ({dt.datetime.fromisoformat(stamp).strftime(_STAMP_FORMAT)})" if stamp else ""
    cats = " | ".join(f"[{c}](https://arxiv.org/list/{c}/recent)" for c in p.categories)
    abs_url = p.abs_url or arxiv_ids.abs_url(p.arxiv_id)
    pdf_url = p.pdf_url or arxiv_ids.pdf_url(p.arxiv_id)
    retweets, favorites = counts.get("retweets", 0), counts.get("favorites", 0)
    parts = [
        f"# {rp.rank}. {p.title}\n\n{', '.join(p.authors)}\n\n",
        f"- retweets: {retweets}, favorites: {favorites}{when}\n\n",
        f"- links: [abs]({abs_url}) | [pdf]({pdf_url})\n- {cats}\n\n{p.abstract}\n\n",
    ]
    parts.extend(f"{post.html}\n\n" for post in rp.posts if post.html)
    parts.append("\n\n")
    return "".join(parts)


def render_markdown(ranking: DayRanking) -> str:
    """The Hot Papers post for a day; byte-identical to the imported file for archive days."""
    if "source" in ranking.extra:
        return ranking.extra["source"]
    day = shown(ranking)
    front = day.extra.get("front_matter") or standard_front_matter(day.day, day.generated_at)
    if not day.papers:
        return front
    lead = "\n" * day.extra.get("lead_blank_lines", 1)
    return front + lead + "\n".join(_render_paper(rp) for rp in day.papers)
