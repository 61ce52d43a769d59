"""Store: arXiv listings recorded on their day (migration 2)."""

from __future__ import annotations

import datetime as dt

from bot.models import ListingEntry
from bot.store import Store

DAY = dt.date(2024, 5, 2)


def test_listing_round_trip_in_feed_order(store: Store):
    entries = [
        ListingEntry("2405.00002", "new", ("cs.CV", "cs.LG"), 1, "B"),
        ListingEntry("2405.00001", "cross", ("cs.CL",), 2, "A"),
    ]
    store.save_listing(DAY, entries)
    assert store.listing(DAY) == entries
    assert store.has_listing(DAY)


def test_saving_again_replaces_and_dedupes(store: Store):
    store.save_listing(DAY, [ListingEntry("2405.00001", "new")])
    store.save_listing(
        DAY, [ListingEntry("2405.00003", "new"), ListingEntry("2405.00003", "new", ("cs.AI",))]
    )
    assert store.listing(DAY) == [ListingEntry("2405.00003", "new", ("cs.AI",))]


def test_empty_day_is_recorded_and_distinct_from_unrecorded(store: Store):
    store.save_listing(DAY, [])
    assert store.has_listing(DAY)
    assert store.listing(DAY) == []
    other = DAY + dt.timedelta(days=1)
    assert not store.has_listing(other)
    assert store.listing(other) == []


def test_listing_survives_reopen(tmp_path):
    path = tmp_path / "db.sqlite"
    s = Store.open(path)
    s.save_listing(DAY, [ListingEntry("hep-th/9901001", "new", ("hep-th",))])
    s.close()
    s = Store.open(path)
    assert [e.arxiv_id for e in s.listing(DAY)] == ["hep-th/9901001"]
    s.close()
