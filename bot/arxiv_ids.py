"""Every arXiv URL or identifier form -> the canonical arXiv id (no version)."""

from __future__ import annotations

import re

from bot.errors import InvalidArxivId

# New style: YYMM.NNNN (2007-2014) or YYMM.NNNNN (2015-), optional version.
_NEW = r"(?P<new>\d{4}\.\d{4,5})"
# Old style: archive(.SUBJ)?/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD = r"(?P<old>[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{2})?/\d{7})"
_VERSION = r"(?P<version>v\d+)?"
_ID = rf"(?:{_NEW}|{_OLD}){_VERSION}"

_BARE = re.compile(rf"^(?:arxiv:)?\s*{_ID}$", re.IGNORECASE)
_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.|browse\.)?arxiv\.org/"
    r"(?:abs|pdf|html|format|ps)/"
    rf"{_ID}"
    r"(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_OAI = re.compile(rf"^oai:arxiv\.org:{_ID}$", re.IGNORECASE)
# An id anywhere inside text or a URL (for scanning posts).
_FIND = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{2})?/\d{7})(?:v\d+)?",
    re.IGNORECASE,
)


def _canonical(match: re.Match[str]) -> str:
    new = match.group("new")
    if new is not None:
        month = int(new[2:4])
        if not 1 <= month <= 12:
            raise InvalidArxivId(f"not an arXiv id (month {month:02d}): {match.string[:80]!r}")
        # 0704-1412 used 4 digits after the dot, 1501 onwards 5.
        if (len(new) == 10) != (int(new[:4]) >= 1501):
            raise InvalidArxivId(f"not an arXiv id (digit count): {match.string[:80]!r}")
        return new
    old = match.group("old")
    archive, _, number = old.partition("/")
    # Archive names are lower case; the subject class after the dot keeps its case (math.GT).
    name, dot, subject = archive.partition(".")
    return f"{name.lower()}{dot}{subject.upper() if dot else ''}/{number}"


def parse(value: str) -> str:
    """Return the canonical id (no version) for any id or URL form, or raise InvalidArxivId."""
    text = value.strip()
    if len(text) > 300:
        raise InvalidArxivId("not an arXiv id or URL (too long)")
    for pattern in (_BARE, _URL, _OAI):
        match = pattern.match(text)
        if match:
            return _canonical(match)
    raise InvalidArxivId(f"not an arXiv id or URL: {text[:80]!r}")


def parse_versioned(value: str) -> tuple[str, int | None]:
    """Return (canonical id, version number or None)."""
    text = value.strip()
    for pattern in (_BARE, _URL, _OAI):
        match = pattern.match(text)
        if match:
            version = match.group("version")
            return _canonical(match), int(version[1:]) if version else None
    raise InvalidArxivId(f"not an arXiv id or URL: {text[:80]!r}")


def find_all(text: str) -> list[str]:
    """Every canonical arXiv id linked from a text, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _FIND.finditer(text):
        try:
            seen.setdefault(parse(match.group(0)), None)
        except InvalidArxivId:
            continue
    return list(seen)


def abs_url(arxiv_id: str) -> str:
    """The abstract page of a canonical id."""
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    """The PDF of a canonical id."""
    return f"https://arxiv.org/pdf/{arxiv_id}"
