"""bot.store basics: days round trip, category filter, idempotence, migrations, bad files."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import StoreError
from bot.models import DayRanking, Paper, Post, RankedPaper, Subscription
from bot.store import SCHEMA_VERSION, Store


def _day(day: dt.date = dt.date(2021, 8, 3)) -> DayRanking:
    papers = [
        RankedPaper(
            rank=1,
            paper=Paper("2108.00946", "StyleGAN-NADA", ("Rinon Gal",), ("cs.CV", "cs.LG")),
            score=6697.0,
            signals={"twitter": {"retweets": 6396, "favorites": 301}},
            posts=[Post("twitter", "https://twitter.com/a/status/1", "2108.00946", "A", "a")],
            extra={"counted_at": "2021-08-04T09:49:00+00:00"},
        ),
        RankedPaper(rank=2, paper=Paper("2108.01039", "Quantum", (), ("quant-ph",)), score=3.0),
    ]
    return DayRanking(
        day=day,
        generated_at=dt.datetime(2021, 8, 4, 9, 49, tzinfo=dt.UTC),
        papers=papers,
        origin="archive",
        extra={"lead_blank_lines": 2},
    )


def test_save_and_load_a_day(store: Store):
    store.save_day(_day())
    loaded = store.load_day(dt.date(2021, 8, 3))
    assert loaded == _day()
    assert store.load_day(dt.date(2021, 8, 4)) is None
    assert store.has_day(dt.date(2021, 8, 3)) and store.days() == [dt.date(2021, 8, 3)]


def test_category_filter_and_top_keep_overall_ranks(store: Store):
    store.save_day(_day())
    only = store.load_day(dt.date(2021, 8, 3), category="quant-ph")
    assert [rp.rank for rp in only.papers] == [2]
    assert [rp.rank for rp in store.load_day(dt.date(2021, 8, 3), top=1).papers] == [1]
    assert store.categories(dt.date(2021, 8, 3)) == {"cs.CV", "cs.LG", "quant-ph"}


def test_saving_a_day_twice_is_idempotent(store: Store):
    store.save_day(_day())
    counts = store.counts()
    store.save_day(_day())
    assert store.counts() == counts and store.load_day(dt.date(2021, 8, 3)) == _day()


def test_nearest_and_latest_days(store: Store):
    for d in (1, 5, 9):
        store.save_day(_day(dt.date(2021, 8, d)))
    assert store.latest_day() == dt.date(2021, 8, 9)
    # A later day that ranked nothing (a weekend) is the latest day, not the latest with papers.
    empty = _day(dt.date(2021, 8, 10))
    empty.papers = []
    store.save_day(empty)
    assert store.latest_day() == dt.date(2021, 8, 10)
    assert store.latest_day(with_papers=True) == dt.date(2021, 8, 9)
    assert store.nearest_days(dt.date(2021, 8, 6), n=1) == [
        dt.date(2021, 8, 5),
        dt.date(2021, 8, 9),
    ]


def test_migration_version_is_recorded_and_rerunning_is_a_no_op(tmp_path: Path):
    path = tmp_path / "m.db"
    store = Store.open(path)
    assert store.schema_version == SCHEMA_VERSION
    store.save_day(_day())
    assert store.migrate() == SCHEMA_VERSION
    store.close()
    again = Store.open(path)
    assert again.schema_version == SCHEMA_VERSION and again.days() == [dt.date(2021, 8, 3)]
    again.close()


def test_a_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "new.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)]
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store.open(path)


def test_a_file_that_is_not_sqlite_gives_store_error(tmp_path: Path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        Store.open(path)


def test_a_failed_write_rolls_back(store: Store):
    store.save_day(_day())
    with pytest.raises(RuntimeError), store.transaction():
        store.db.execute("DELETE FROM days")
        raise RuntimeError("boom")
    assert store.has_day(dt.date(2021, 8, 3))


def test_posts_per_paper_keeps_each_papers_most_engaging_posts(store: Store):
    def post(n: int, likes: int, reposts: int, arxiv_id: str = "2108.00946") -> Post:
        url = f"https://twitter.com/u/status/{arxiv_id}{n}"
        return Post("twitter", url, arxiv_id, f"U{n}", f"u{n}", likes=likes, reposts=reposts)

    ranking = _day()
    first, second = ranking.papers
    first.posts = [post(1, 5, 0), post(2, 4, 5), post(3, 9, 0), post(4, 1, 1)]
    second.posts = [post(5, 0, 0, "2108.01039")]
    store.save_day(ranking)
    day = ranking.day

    def urls(n: int | None) -> list[list[str]]:
        loaded = store.load_day(day, posts_per_paper=n)
        return [[p.url[-1] for p in rp.posts] for rp in loaded.papers]

    assert urls(None) == [["1", "2", "3", "4"], ["5"]]
    assert urls(1) == [["2"], ["5"]]  # 9 twice: the earlier one
    assert urls(2) == [["2", "3"], ["5"]]  # stored order kept
    full = store.load_day(day)
    assert store.load_day(day, posts_per_paper=1).papers[0].posts[0] == full.papers[0].posts[1]


def test_due_deliveries_compare_instants_across_time_zones(store):
    """A Tokyo digest due at 17:30+09:00 (08:30 UTC) is due at 09:30 UTC, though '17:30' sorts
    after '09:30' as text; a New York one due at 16:00-04:00 (20:00 UTC) is not."""
    day = dt.date(2021, 8, 3)
    now = dt.datetime(2021, 8, 4, 9, 30, tzinfo=dt.UTC)
    due = {
        1: dt.datetime(2021, 8, 4, 17, 30, tzinfo=ZoneInfo("Asia/Tokyo")),
        2: dt.datetime(2021, 8, 4, 16, 0, tzinfo=ZoneInfo("America/New_York")),
        3: dt.datetime(2021, 8, 4, 9, 0, tzinfo=dt.UTC),
    }
    for channel, at in due.items():
        sub = store.save_subscription(Subscription(id=None, guild_id=1, channel_id=channel), now)
        store.enqueue_delivery(sub, day, at)
    rows = store.deliveries(status="pending", due_before=now)
    assert [r.channel_id for r in rows] == [1, 3]  # oldest due first: 08:30 UTC, 09:00 UTC
    assert [r.channel_id for r in store.deliveries()] == [1, 3, 2]
