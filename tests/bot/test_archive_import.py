"""bot.archive_import: idempotent import of files and folders, broken files skipped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.archive import render_markdown
from bot.archive_import import discover, import_paths
from bot.store import Store
from tests.fakes.hot_papers import paper, post, tweet


def content(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, without bookkeeping timestamps."""
    out = {}
    for name in store.db.table_names():
        cols = [c for c in store.db[name].columns_dict if c != "updated_at"]
        rows = store.db.execute(
            f"SELECT {', '.join(cols)} FROM [{name}] ORDER BY {', '.join(cols)}"
        ).fetchall()
        out[name] = rows
    return out


@pytest.fixture(scope="module")
def archive_store(tmp_path_factory, request) -> Store:
    from tests.conftest import ARCHIVE

    if not ARCHIVE.is_dir():
        pytest.skip("../shared/archive is not present")
    store = Store.open(tmp_path_factory.mktemp("db") / "archive.db")
    report = import_paths(store, [ARCHIVE])
    store.report = report  # type: ignore[attr-defined]
    yield store
    store.close()


def test_whole_archive_imports(archive_store: Store):
    report = archive_store.report  # type: ignore[attr-defined]
    assert report.files == 294 and report.skipped == [] and report.repaired == []
    assert (report.days, report.papers, report.posts) == (294, 3347, 3740)
    counts = archive_store.counts()
    assert counts["days"] == 294
    assert counts["rankings"] == 3347
    assert counts["ranking_posts"] == 3740
    empty = archive_store.load_day(dt.date(2020, 12, 7))
    assert empty is not None and empty.papers == []


def test_every_day_exports_byte_identical_from_the_store(archive_store: Store, archive_dir):
    for path in sorted(archive_dir.glob("*.md")):
        day = dt.date.fromisoformat(path.name[:10])
        ranking = archive_store.load_day(day)
        assert ranking is not None, path
        assert render_markdown(ranking).encode("utf-8") == path.read_bytes(), path


def test_importing_again_changes_nothing(archive_store: Store, archive_dir):
    before = content(archive_store)
    report = import_paths(archive_store, [archive_dir])
    assert report.imported == [] and len(report.unchanged) == 294
    assert content(archive_store) == before


def test_a_paper_shown_differently_on_two_days_keeps_each_day(tmp_path: Path, store: Store):
    one = post(paper(categories=("cs.LG",), tweets=(tweet(),)), day="2020-10-29")
    two = post(paper(categories=("cs.LG", "stat.ML"), title="A Paper v2"), day="2020-11-03")
    (tmp_path / "a.md").write_text(one)
    (tmp_path / "b.md").write_text(two)
    for order in (["a.md", "b.md"], ["b.md", "a.md"], ["a.md", "b.md"]):
        import_paths(store, [tmp_path / name for name in order])
        for name, text in (("a.md", one), ("b.md", two)):
            day = dt.date(2020, 10, 29) if name == "a.md" else dt.date(2020, 11, 3)
            ranking = store.load_day(day)
            assert ranking is not None
            assert render_markdown(ranking) == text
    assert store.counts()["papers"] == 1
    snapshot = content(store)
    import_paths(store, [tmp_path / "a.md", tmp_path / "b.md"])
    assert content(store) == snapshot


def test_broken_files_are_skipped_and_the_rest_imported(tmp_path: Path, store: Store):
    good = post(paper(), day="2021-08-03")
    (tmp_path / "good.md").write_text(good)
    (tmp_path / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "nofm.md").write_text("# 1. A Paper\n")
    (tmp_path / "notes.txt").write_text("not a post")
    report = import_paths(store, [tmp_path, tmp_path / "missing.md"])
    assert report.imported == ["2021-08-03"]
    reasons = sorted(f"{Path(e.path).name}:{e.line}" for e in report.skipped)
    assert reasons == ["binary.md:3", "missing.md:0", "nofm.md:1"]


def test_a_broken_reimport_loses_nothing(tmp_path: Path, store: Store):
    path = tmp_path / "day.md"
    path.write_text(post(paper(), day="2021-08-03"))
    import_paths(store, [path])
    before = content(store)
    path.write_text(post(paper(), day="2021-08-03").replace("- retweets", "- rts"))
    report = import_paths(store, [path])
    assert len(report.skipped) == 1
    assert content(store) == before


def test_discover_sorts_and_deduplicates(tmp_path: Path):
    for name in ("b.md", "a.md", "c.txt"):
        (tmp_path / name).write_text("x")
    files, missing = discover([tmp_path, tmp_path / "a.md"])
    assert [f.name for f in files] == ["a.md", "b.md"] and missing == []
