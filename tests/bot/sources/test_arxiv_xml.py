"""Parsing arXiv's RSS listing and API Atom feed (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.errors import MalformedResponse
from bot.models import ListingEntry
from bot.sources.arxiv_xml import parse_atom, parse_rss
from tests.fakes.arxiv import FakePaper, atom_entry, atom_feed, error_entry, rss_feed, rss_item

CV = FakePaper("2405.00001", title="Seeing  Things", categories=("cs.CV", "cs.LG"), version=2)
CROSS = FakePaper("2405.00002", categories=("cs.LG", "cs.CV"), announce_type="cross")
REPLACED = FakePaper("2404.09999", categories=("cs.CV",), announce_type="replace", version=3)
OLD = FakePaper("hep-th/9901001", categories=("hep-th",), title="Old Style")


def test_rss_new_and_cross_kept_replacements_dropped():
    listing = parse_rss(rss_feed(["cs.CV", "cs.LG"], [CV, CROSS, REPLACED]))
    assert listing.day == dt.date(2024, 5, 2)
    assert listing.entries == [
        ListingEntry("2405.00001", "new", ("cs.CV", "cs.LG"), 2, "Seeing Things"),
        ListingEntry("2405.00002", "cross", ("cs.LG", "cs.CV"), 1, "A Paper"),
    ]
    assert listing.errors == []


def test_rss_replacements_on_request():
    listing = parse_rss(rss_feed(["cs.CV"], [CV, REPLACED]), ("new", "replace"))
    assert [(e.arxiv_id, e.version) for e in listing.entries] == [
        ("2405.00001", 2),
        ("2404.09999", 3),
    ]


def test_weekend_empty_channel_is_an_empty_listing_not_an_error():
    listing = parse_rss(rss_feed(["cs.CV"], [], day=dt.date(2024, 5, 4)))
    assert listing.entries == [] and listing.errors == []
    assert listing.day == dt.date(2024, 5, 4)


def test_rss_duplicate_items_kept_once_and_old_style_ids():
    listing = parse_rss(rss_feed(["cs.CV", "hep-th"], [CV, OLD, CV]))
    assert [e.arxiv_id for e in listing.entries] == ["2405.00001", "hep-th/9901001"]


def test_rss_bad_item_skipped_with_reason_rest_kept():
    broken = "<item><title>No id</title><guid>something-else</guid></item>"
    untyped = (
        "<item><title>T</title><guid>oai:arXiv.org:2405.00005v1</guid>"
        "<description>no type here</description></item>"
    )
    listing = parse_rss(rss_feed(["cs.CV"], [CV], raw_items=[broken, untyped]))
    assert [e.arxiv_id for e in listing.entries] == ["2405.00001"]
    assert len(listing.errors) == 2
    assert "no arXiv id in guid 'something-else'" in listing.errors[0]
    assert "2405.00005: no announce_type" in listing.errors[1]


def test_rss_announce_type_falls_back_to_description():
    item = rss_item(CROSS).replace("<arxiv:announce_type>cross</arxiv:announce_type>", "")
    listing = parse_rss(rss_feed(["cs.CV"], raw_items=[item]))
    assert listing.entries[0].announce_type == "cross"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<rss><channel><item>", "not well-formed XML"),
        ("<html><body>Service Unavailable</body></html>", "no <rss><channel>"),
        ("", "not well-formed XML"),
    ],
)
def test_rss_malformed_body_is_a_clear_error(body, message):
    with pytest.raises(MalformedResponse, match=message) as info:
        parse_rss(body)
    assert info.value.source == "arxiv"


def test_atom_entry_fields():
    paper = FakePaper(
        "2405.00001",
        title="A  Long\n   Title",
        authors=("Ada Lovelace", "Alan Turing"),
        abstract="Line one\n  line two.",
        categories=("cs.CV", "cs.LG"),
        version=3,
        comment="10 pages, CVPR 2024",
        submitted=dt.datetime(2024, 5, 1, 17, 59, 59, tzinfo=dt.UTC),
    )
    feed = parse_atom(atom_feed([atom_entry(paper)]))
    (p,) = feed.papers
    assert p.arxiv_id == "2405.00001"
    assert feed.versions == {"2405.00001": 3}
    assert p.title == "A Long Title"
    assert p.authors == ("Ada Lovelace", "Alan Turing")
    assert p.abstract == "Line one line two."
    assert p.primary_category == "cs.CV"
    assert p.categories == ("cs.CV", "cs.LG")
    assert p.comment == "10 pages, CVPR 2024"
    assert p.abs_url == "https://arxiv.org/abs/2405.00001"
    assert p.pdf_url == "https://arxiv.org/pdf/2405.00001"
    assert p.published == dt.datetime(2024, 5, 1, 17, 59, 59, tzinfo=dt.UTC)
    assert feed.total == 1


def test_atom_error_entry_is_reported_not_parsed_as_a_paper():
    feed = parse_atom(atom_feed([error_entry("1234.1234v")]))
    assert feed.papers == []
    assert feed.api_errors == ["incorrect id format for 1234.1234v"]


def test_atom_bad_entry_skipped_rest_kept():
    good = atom_entry(FakePaper("2405.00001"))
    no_title = atom_entry(FakePaper("2405.00002")).replace("<title>A\n  Paper</title>", "<title/>")
    bad_id = atom_entry(FakePaper("2405.00003")).replace(
        "<id>http://arxiv.org/abs/2405.00003v1</id>", "<id>http://example.org/x</id>"
    )
    feed = parse_atom(atom_feed([good, no_title, bad_id]))
    assert [p.arxiv_id for p in feed.papers] == ["2405.00001"]
    assert feed.errors == [
        "API entry 2 skipped: 2405.00002: no title",
        "API entry 3 skipped: id 'http://example.org/x' is not an arXiv id",
    ]


def test_atom_malformed():
    with pytest.raises(MalformedResponse, match="not an Atom feed"):
        parse_atom("<rss/>")
    with pytest.raises(MalformedResponse, match="not well-formed"):
        parse_atom(b"\x00\x01garbage")


def test_an_unknown_encoding_declaration_is_a_malformed_response():
    body = b"<?xml version='1.0' encoding='U-F-8'?><rss version='2.0'><channel/></rss>"
    with pytest.raises(MalformedResponse, match="unknown encoding"):
        parse_rss(body)
    with pytest.raises(MalformedResponse, match="unknown encoding"):
        parse_atom(body)
