"""bot.export: the JSON schema and a valid Atom 1.0 feed."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

from bot.archive import parse_post
from bot.export import ATOM_NS, to_atom, to_dict, to_json
from bot.models import DayRanking, Paper, RankedPaper
from tests.fakes.hot_papers import paper, post, tweet

A = f"{{{ATOM_NS}}}"


def _day() -> DayRanking:
    return parse_post(
        post(
            paper(title="Fish & <Chips>", authors="Ada Lovelace, Nicolò C", tweets=(tweet(),)),
            paper(rank=2, arxiv_id="2108.01005", categories=("quant-ph",), retweets=3),
        )
    )


def test_json_schema_exactly():
    data = json.loads(to_json(_day()))
    assert set(data) == {"date", "papers"} and data["date"] == "2021-08-03"
    first = data["papers"][0]
    assert set(first) == {
        "rank",
        "arxiv_id",
        "title",
        "authors",
        "categories",
        "abstract",
        "score",
        "signals",
        "posts",
    }
    assert first["rank"] == 1 and first["arxiv_id"] == "2108.00946"
    assert first["title"] == "Fish & <Chips>"
    assert first["authors"] == ["Ada Lovelace", "Nicolò C"]
    assert first["categories"] == ["cs.CV", "cs.LG"]
    assert first["score"] == 15 and isinstance(first["score"], int)
    assert first["signals"] == {"twitter": {"retweets": 10, "favorites": 5}}
    (p,) = first["posts"]
    assert set(p) == {"source", "author", "handle", "url", "text", "posted"}
    assert p["source"] == "twitter" and p["handle"] == "ada"
    assert p["url"] == "https://twitter.com/ada/status/1422383627384594434"
    assert p["posted"] == "August 3, 2021"
    assert data["papers"][1]["posts"] == [] and data["papers"][1]["score"] == 8
    assert "Nicolò" in to_json(_day())  # not ASCII-escaped


def test_json_of_an_empty_day_and_fractional_scores():
    day = DayRanking(day=dt.date(2020, 12, 7), generated_at=dt.datetime(2020, 12, 8, tzinfo=dt.UTC))
    assert to_dict(day) == {"date": "2020-12-07", "papers": []}
    day.papers.append(RankedPaper(rank=1, paper=Paper("2101.00001", "T"), score=2.5))
    assert to_dict(day)["papers"][0]["score"] == 2.5


def test_atom_is_a_valid_feed():
    text = to_atom(_day())
    assert text.startswith("<?xml")
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}id") == "urn:hotpapers:day:2021-08-03"
    assert root.findtext(f"{A}title") == "Hot Papers 2021-08-03"
    updated = root.findtext(f"{A}updated")
    assert dt.datetime.fromisoformat(updated.replace("Z", "+00:00")).tzinfo is not None
    assert root.find(f"{A}author/{A}name").text == "hotpapers"
    entries = root.findall(f"{A}entry")
    assert len(entries) == 2
    ids = [e.findtext(f"{A}id") for e in entries]
    assert len(set(ids)) == 2
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert entry.findtext(f"{A}{tag}")
        link = entry.find(f"{A}link[@rel='alternate']")
        assert link is not None and link.get("href").startswith("https://arxiv.org/abs/")
    first = entries[0]
    assert first.findtext(f"{A}title") == "1. Fish & <Chips>"
    assert [c.get("term") for c in first.findall(f"{A}category")] == ["cs.CV", "cs.LG"]
    assert [a.findtext(f"{A}name") for a in first.findall(f"{A}author")] == [
        "Ada Lovelace",
        "Nicolò C",
    ]


def test_atom_of_an_empty_day_is_still_a_feed():
    day = DayRanking(day=dt.date(2020, 12, 7), generated_at=dt.datetime(2020, 12, 8, tzinfo=dt.UTC))
    root = ET.fromstring(to_atom(day).encode())
    assert (
        root.findall(f"{A}entry") == [] and root.findtext(f"{A}updated") == "2020-12-08T00:00:00Z"
    )
