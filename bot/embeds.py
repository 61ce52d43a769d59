"""Embedded tweet HTML (Twitter's blockquote embed code) -> author, handle, status URL, date, text.

Parsed with the standard library's HTML parser, not with regular expressions, so entities,
nested links and line breaks come out as a reader would see them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser

log = logging.getLogger(__name__)

_BYLINE = re.compile(r"^\s*(?:\u2014|-)?\s*(?P<author>.*?)\s*\(@(?P<handle>[^()\s]+)\)\s*$", re.S)


class EmbedError(ValueError):
    """The HTML is not a tweet embed (no blockquote, no status link, no byline)."""


@dataclass(frozen=True, slots=True)
class TweetEmbed:
    """What an embedded tweet shows."""

    url: str  # status URL without tracking query, e.g. https://twitter.com/ak92501/status/1
    author: str  # display name
    handle: str  # without the leading @
    posted: str  # the date as shown, e.g. "August 3, 2021"
    text: str  # the tweet text, <br> as newlines, links as their text
    lang: str | None = None


class _EmbedParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside <blockquote class="twitter-tweet">
        self.blockquotes = 0
        self.in_p = False
        self.lang: str | None = None
        self.text: list[str] = []
        self.after_p: list[str] = []  # the byline text and the date link's text
        self.last_href: str | None = None
        self.link_text: list[str] = []
        self.in_link = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "blockquote":
            self.blockquotes += 1
            self.depth += 1
        elif not self.depth:
            return
        elif tag == "p" and not self.in_p and not self.text:
            self.in_p = True
            self.lang = dict(attrs).get("lang")
        elif tag == "br":
            (self.text if self.in_p else self.after_p).append("\n")
        elif tag == "a" and not self.in_p:
            self.last_href = dict(attrs).get("href")
            self.in_link = True
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self.depth -= 1
        elif tag == "p" and self.in_p:
            self.in_p = False
        elif tag == "a" and self.in_link:
            self.in_link = False

    def handle_data(self, data: str) -> None:
        if not self.depth:
            return
        if self.in_p:
            self.text.append(data)
        elif self.in_link:
            self.link_text.append(data)
        else:
            self.after_p.append(data)


def parse_tweet_embed(html: str) -> TweetEmbed:
    """Parse one tweet embed; raise EmbedError naming what is missing."""
    parser = _EmbedParser()
    parser.feed(html)
    parser.close()
    if parser.blockquotes == 0:
        raise EmbedError("no <blockquote> in the embedded post")
    if parser.blockquotes > 1:
        raise EmbedError("two embedded posts without a blank line between them")
    if not parser.last_href or "/status/" not in parser.last_href:
        raise EmbedError("embedded post has no status link")
    byline = _BYLINE.match("".join(parser.after_p))
    if byline is None:
        raise EmbedError("embedded post has no '— Name (@handle)' byline")
    return TweetEmbed(
        url=parser.last_href.split("?", 1)[0],
        author=byline["author"],
        handle=byline["handle"],
        posted="".join(parser.link_text).strip(),
        text="".join(parser.text),
        lang=parser.lang,
    )
