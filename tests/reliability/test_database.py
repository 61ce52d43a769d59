"""Database faults: a locked file, a full disk, old and foreign schemas. Clear errors, no damage."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import sqlite_utils

from bot import store as store_mod
from bot.errors import StoreError
from bot.models import DayRanking, Paper, Post, RankedPaper
from bot.store import Store

DAY = dt.date(2021, 8, 3)
NOW = dt.datetime(2021, 8, 4, 9, 49, tzinfo=dt.UTC)


def ranking(day: dt.date, n: int, title_size: int = 20) -> DayRanking:
    papers = [
        RankedPaper(
            rank=i + 1,
            paper=Paper(f"2108.{i:05d}", "T" * title_size, ("A. Author",), ("cs.CV",), "x" * 200),
            score=float(100 - i),
            signals={"twitter": {"retweets": 90 - i, "favorites": 10}},
            posts=[Post("twitter", f"https://twitter.com/a/status/{i}", f"2108.{i:05d}", "A")],
        )
        for i in range(n)
    ]
    return DayRanking(day=day, generated_at=NOW, papers=papers)


def test_a_database_locked_by_another_process_gives_a_clear_error_and_loses_nothing(tmp_path):
    path = tmp_path / "hp.db"
    store = Store.open(path, busy_timeout=0.2)
    store.save_day(ranking(DAY, 3))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sqlite3, sys, time
                conn = sqlite3.connect({str(path)!r}, isolation_level=None)
                conn.execute("BEGIN EXCLUSIVE")
                print("locked", flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match="another process holds the database"):
            store.save_day(ranking(DAY + dt.timedelta(days=1), 2))
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=10)
    # The lock is gone: the earlier day is intact and writing works again.
    assert [p.rank for p in store.load_day(DAY).papers] == [1, 2, 3]
    store.save_day(ranking(DAY + dt.timedelta(days=1), 2))
    assert store.days() == [DAY, DAY + dt.timedelta(days=1)]


def test_a_full_disk_rolls_back_the_whole_day_and_says_so(tmp_path):
    path = tmp_path / "hp.db"
    store = Store.open(path)
    store.save_day(ranking(DAY, 5))
    before = store.counts()
    # Simulate a full disk: SQLite refuses to grow the file past its current size.
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="free some disk space"):
        store.save_day(ranking(DAY + dt.timedelta(days=1), 400, title_size=2000))
    assert store.counts() == before
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [p.rank for p in store.load_day(DAY).papers] == [1, 2, 3, 4, 5]
    assert not store.has_day(DAY + dt.timedelta(days=1))


def test_an_older_schema_migrates_forward_keeping_its_data(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    store_mod.MIGRATIONS[0](db)
    db["meta"].insert({"key": "schema_version", "value": "1"})
    db["papers"].insert({"arxiv_id": "2108.00946", "title": "StyleGAN-NADA"})
    db.close()

    store = Store.open(path)
    assert store.schema_version == store_mod.SCHEMA_VERSION
    assert store.get_paper("2108.00946").title == "StyleGAN-NADA"
    assert store.migrate() == store_mod.SCHEMA_VERSION  # re-running is a no-op


def test_a_newer_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "new.db"
    Store.open(path).db["meta"].upsert({"key": "schema_version", "value": "999"}, pk="key")
    with pytest.raises(StoreError, match="newer than this hotpapers"):
        Store.open(path)


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match=r"not a database|cannot open"):
        Store.open(path)
    assert path.read_bytes().startswith(b"these are my notes")
