"""Realistic arXiv bodies: the rss.arxiv.org feed and the export.arxiv.org Atom API.

Hand-written from the documented formats (RSS 2.0 with the `arxiv:` and `dc:` namespaces as
served since 2024; the API's Atom 1.0 with `opensearch:` and `arxiv:` extensions).
`FakePaper` describes one paper once; `rss_feed` and `atom_feed` render it either way.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

ET = dt.timezone(dt.timedelta(hours=-4), "EDT")


@dataclass
class FakePaper:
    """One arXiv paper as the fakes serve it (id without version)."""

    arxiv_id: str
    title: str = "A Paper"
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing")
    abstract: str = "We study things.\nAt length."
    categories: tuple[str, ...] = ("cs.CV",)
    version: int = 1
    comment: str | None = None
    announce_type: str = "new"
    submitted: dt.datetime = field(
        default_factory=lambda: dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    )

    @property
    def primary(self) -> str:
        return self.categories[0]


def many_papers(n: int, *, prefix: str = "2405", start: int = 1, **kw) -> list[FakePaper]:
    """n distinct papers with ids prefix.00001, prefix.00002, ..."""
    return [
        FakePaper(f"{prefix}.{start + i:05d}", title=f"Paper number {start + i}", **kw)
        for i in range(n)
    ]


def rfc822(when: dt.datetime) -> str:
    return email.utils.format_datetime(when)


def rss_item(p: FakePaper, *, announce_type: str | None = None) -> str:
    kind = announce_type or p.announce_type
    cats = "".join(f"<category>{c}</category>" for c in p.categories)
    abstract = escape(p.abstract)
    return f"""
    <item>
      <title>{escape(p.title)}</title>
      <link>https://arxiv.org/abs/{p.arxiv_id}</link>
      <description>arXiv:{p.arxiv_id}v{p.version} Announce Type: {kind}
Abstract: {abstract}</description>
      <guid isPermaLink="false">oai:arXiv.org:{p.arxiv_id}v{p.version}</guid>
      {cats}
      <pubDate>Thu, 02 May 2024 00:00:00 -0400</pubDate>
      <arxiv:announce_type>{kind}</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
      <dc:creator>{escape(", ".join(p.authors))}</dc:creator>
    </item>"""


def rss_feed(
    categories: Sequence[str],
    papers: Iterable[FakePaper] = (),
    *,
    day: dt.date = dt.date(2024, 5, 2),
    raw_items: Iterable[str] = (),
) -> str:
    """The feed of rss.arxiv.org/rss/CAT+CAT for the mailing of `day`; no papers = weekend."""
    key = "+".join(categories)
    stamp = rfc822(dt.datetime(day.year, day.month, day.day, tzinfo=ET))
    items = "".join(rss_item(p) for p in papers) + "".join(raw_items)
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  version="2.0">
  <channel>
    <title>{key} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{key}</link>
    <description>{key} updates on the arXiv.org e-print archive.</description>
    <atom:link href="https://rss.arxiv.org/rss/{key}" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{stamp}</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{stamp}</pubDate>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>{items}
  </channel>
</rss>
"""


def atom_entry(p: FakePaper) -> str:
    stamp = p.submitted.strftime("%Y-%m-%dT%H:%M:%SZ")
    authors = "".join(
        f"\n    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in p.authors
    )
    comment = (
        f'\n    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">{escape(p.comment)}</arxiv:comment>'
        if p.comment
        else ""
    )
    cats = "".join(
        f'\n    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in p.categories
    )
    # Titles and summaries come hard-wrapped with leading spaces, as the real API sends them.
    title = escape(p.title).replace(" ", "\n  ", 1) if " " in p.title else escape(p.title)
    return f"""
  <entry>
    <id>http://arxiv.org/abs/{p.arxiv_id}v{p.version}</id>
    <updated>{stamp}</updated>
    <published>{stamp}</published>
    <title>{title}</title>
    <summary>  {escape(p.abstract)}
</summary>{authors}{comment}
    <link href="http://arxiv.org/abs/{p.arxiv_id}v{p.version}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{p.arxiv_id}v{p.version}" rel="related"
      type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{p.primary}"
      scheme="http://arxiv.org/schemas/atom"/>{cats}
  </entry>"""


def error_entry(bad_id: str) -> str:
    """The entry the API returns (alone) when an id in id_list is malformed."""
    slug = f"incorrect_id_format_for_{bad_id}"
    return f"""
  <entry>
    <id>http://arxiv.org/api/errors#{slug}</id>
    <title>Error</title>
    <summary>incorrect id format for {escape(bad_id)}</summary>
    <updated>2024-05-02T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#{slug}" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>"""


def atom_feed(
    entries: Iterable[str], *, total: int | None = None, start: int = 0, query: str = ""
) -> str:
    """An API answer; `entries` are atom_entry()/error_entry() strings."""
    entries = list(entries)
    total = len(entries) if total is None else total
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?{escape(query)}" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: {escape(query)}</title>
  <id>http://arxiv.org/api/cHxbiOdZaP56ODnBPIenZhzg5f8</id>
  <updated>2024-05-02T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{start}</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{len(entries)}</opensearch:itemsPerPage>{"".join(entries)}
</feed>
"""
