"""SQLite store (sqlite-utils): schema, migrations and queries. SQLite is the source of truth.

Schema setup is explicit and re-runnable: each migration runs once, in order, inside a
transaction, and the version reached is recorded in `meta`. WAL mode; one writer.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.errors import StoreError
from bot.models import (
    DayRanking,
    DaySummary,
    Delivery,
    ListingEntry,
    Paper,
    Post,
    RankedPaper,
    SourceRun,
    Subscription,
)

log = logging.getLogger(__name__)


def _m1_initial(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["papers"].create(
        {
            "arxiv_id": str,
            "title": str,
            "abstract": str,
            "primary_category": str,
            "comment": str,
            "abs_url": str,
            "pdf_url": str,
            "code_url": str,
            "project_url": str,
            "hf_url": str,
            "published": str,
            "updated_at": str,
        },
        pk="arxiv_id",
        not_null={"title"},
    )
    db["paper_authors"].create(
        {"arxiv_id": str, "position": int, "name": str},
        pk=("arxiv_id", "position"),
        foreign_keys=[("arxiv_id", "papers")],
    )
    db["paper_categories"].create(
        {"arxiv_id": str, "position": int, "category": str},
        pk=("arxiv_id", "position"),
        foreign_keys=[("arxiv_id", "papers")],
    )
    db["paper_categories"].create_index(["category", "arxiv_id"])
    db["posts"].create(
        {
            "url": str,
            "arxiv_id": str,
            "source": str,
            "author": str,
            "handle": str,
            "text": str,
            "posted": str,
            "html": str,
            "likes": int,
            "reposts": int,
            "quotes": int,
            "replies": int,
            "updated_at": str,
        },
        pk=("url", "arxiv_id"),
    )
    db["posts"].create_index(["arxiv_id"])
    db["days"].create(
        {
            "day": str,
            "generated_at": str,
            "origin": str,
            "partial": int,
            "failed_sources": str,
            "extra": str,
            "updated_at": str,
        },
        pk="day",
    )
    db["rankings"].create(
        {"day": str, "arxiv_id": str, "rank": int, "score": float, "extra": str},
        pk=("day", "arxiv_id"),
        foreign_keys=[("day", "days"), ("arxiv_id", "papers")],
    )
    db["rankings"].create_index(["day", "rank"])
    db["rankings"].create_index(["arxiv_id"])
    db["signals"].create(
        {"day": str, "arxiv_id": str, "source": str, "counts": str},
        pk=("day", "arxiv_id", "source"),
    )
    db["ranking_posts"].create(
        {"day": str, "arxiv_id": str, "position": int, "post_url": str},
        pk=("day", "arxiv_id", "position"),
    )
    db["subscriptions"].create(
        {
            "id": int,
            "guild_id": int,
            "channel_id": int,
            "categories": str,
            "post_time": str,
            "timezone": str,
            "top": int,
            "min_score": float,
            "webhook_url": str,
            "state": str,
            "paused_reason": str,
            "created_at": str,
        },
        pk="id",
    )
    db["subscriptions"].create_index(["channel_id"], unique=True)
    db["subscriptions"].create_index(["guild_id"])
    db["deliveries"].create(
        {
            "subscription_id": int,
            "day": str,
            "channel_id": int,
            "status": str,
            "nonce": str,
            "attempts": int,
            "error": str,
            "message_ids": str,
            "due_at": str,
            "sent_at": str,
            "updated_at": str,
        },
        pk=("subscription_id", "day"),
    )
    db["deliveries"].create_index(["status", "due_at"])
    db["source_runs"].create(
        {
            "day": str,
            "source": str,
            "status": str,
            "requests": int,
            "error": str,
            "ran_at": str,
        },
        pk=("day", "source"),
    )


def _m2_listings(db: sqlite_utils.Database) -> None:
    """arXiv listings recorded on their day, so D can be ranked on D+1 (RSS shows only today)."""
    db["listing_days"].create({"day": str, "entries": int, "recorded_at": str}, pk="day")
    db["listings"].create(
        {
            "day": str,
            "arxiv_id": str,
            "position": int,
            "announce_type": str,
            "categories": str,
            "version": int,
            "title": str,
        },
        pk=("day", "arxiv_id"),
    )
    db["listings"].create_index(["arxiv_id"])


# Append new migrations here; never edit one that has shipped.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_m1_initial, _m2_listings]
SCHEMA_VERSION = len(MIGRATIONS)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: str | None) -> dt.datetime | None:
    return None if not value else dt.datetime.fromisoformat(value)


def _utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Store:
    """The hotpapers database. Open with Store.open(path) (creates and migrates)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    # -- setup -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, migrate: bool = True, busy_timeout: float = 5.0) -> Store:
        """Open (creating the folder and file if needed) and bring the schema up to date."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None)
            db = sqlite_utils.Database(conn)
            if str(path) != ":memory:":
                db.enable_wal()
            db.execute("PRAGMA foreign_keys = OFF")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA cache_size = -32768")  # 32 MiB of page cache
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open database: {_explain(exc)}") from None
        store = cls(db)
        if migrate:
            store.migrate()
        return store

    @classmethod
    def memory(cls) -> Store:
        """A fresh in-memory store (tests, previews)."""
        return cls.open(":memory:")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @property
    def schema_version(self) -> int:
        if "meta" not in self.db.table_names():
            return 0
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> int:
        """Apply every pending migration in order; return the version reached."""
        try:
            current = self.schema_version
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"not a hotpapers database or damaged: {_explain(exc)}") from None
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"database schema version {current} is newer than this hotpapers "
                f"({SCHEMA_VERSION}); upgrade hotpapers"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            try:
                with self.transaction():
                    MIGRATIONS[version - 1](self.db)
                    self.db["meta"].upsert(
                        {"key": "schema_version", "value": str(version)}, pk="key"
                    )
            except (sqlite3.OperationalError, StoreError) as exc:
                raise StoreError(f"migration to schema version {version} failed: {exc}") from None
            log.info("database migrated to schema version %d", version)
        return SCHEMA_VERSION

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all or nothing. Nested calls join the outer transaction."""
        conn = self.db.conn
        if conn.in_transaction:
            yield
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"could not start a write: {_explain(exc)}") from None
        try:
            yield
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"could not write to the database: {_explain(exc)}") from None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(f"could not write to the database: {_explain(exc)}") from None

    def counts(self) -> dict[str, int]:
        """Row counts per table (for reports)."""
        return {name: self.db[name].count for name in self.db.table_names()}

    # -- papers and posts ------------------------------------------------------------------

    def _upsert(
        self, table: str, rows: Iterable[dict[str, Any]], pk: str | tuple[str, ...]
    ) -> None:
        """Insert or update many rows with one prepared statement (much faster than upsert_all)."""
        rows = list(rows)
        if not rows:
            return
        cols = list(rows[0])
        keys = (pk,) if isinstance(pk, str) else pk
        updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in cols if c not in keys)
        action = f"UPDATE SET {updates}" if updates else "NOTHING"
        self.db.conn.executemany(
            f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(cols))}) ON CONFLICT ({', '.join(keys)}) DO {action}",
            [tuple(row[c] for c in cols) for row in rows],
        )

    def _insert(
        self,
        table: str,
        rows: Iterable[dict[str, Any]],
        pk: str | tuple[str, ...],
        replace: bool = False,
    ) -> None:
        """Insert many rows with one prepared statement (replacing rows with the same pk)."""
        rows = list(rows)
        if not rows:
            return
        cols = list(rows[0])
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        self.db.conn.executemany(
            f"{verb} INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) "
            f"VALUES ({', '.join('?' * len(cols))})",
            [tuple(row[c] for c in cols) for row in rows],
        )

    def save_papers(self, papers: Iterable[Paper]) -> None:
        """Upsert papers with their ordered authors and categories."""
        now = _utcnow()
        papers = list(papers)
        if not papers:
            return
        with self.transaction():
            self._upsert(
                "papers",
                (
                    {
                        "arxiv_id": p.arxiv_id,
                        "title": p.title,
                        "abstract": p.abstract,
                        "primary_category": p.primary_category,
                        "comment": p.comment,
                        "abs_url": p.abs_url,
                        "pdf_url": p.pdf_url,
                        "code_url": p.code_url,
                        "project_url": p.project_url,
                        "hf_url": p.hf_url,
                        "published": _iso(p.published),
                        "updated_at": now,
                    }
                    for p in papers
                ),
                pk="arxiv_id",
            )
            ids = [p.arxiv_id for p in papers]
            for table in ("paper_authors", "paper_categories"):
                self.db.conn.executemany(
                    f"DELETE FROM {table} WHERE arxiv_id = ?",  # noqa: S608 - fixed table names
                    [(i,) for i in ids],
                )
            self._insert(
                "paper_authors",
                (
                    {"arxiv_id": p.arxiv_id, "position": n, "name": name}
                    for p in papers
                    for n, name in enumerate(p.authors)
                ),
                pk=("arxiv_id", "position"),
            )
            self._insert(
                "paper_categories",
                (
                    {"arxiv_id": p.arxiv_id, "position": n, "category": cat}
                    for p in papers
                    for n, cat in enumerate(p.categories)
                ),
                pk=("arxiv_id", "position"),
            )

    def save_posts(self, posts: Iterable[Post]) -> None:
        """Upsert social posts (keyed by URL and paper)."""
        now = _utcnow()
        with self.transaction():
            self._upsert(
                "posts",
                (
                    {
                        "url": p.url,
                        "arxiv_id": p.arxiv_id,
                        "source": p.source,
                        "author": p.author,
                        "handle": p.handle,
                        "text": p.text,
                        "posted": p.posted,
                        "html": p.html,
                        "likes": p.likes,
                        "reposts": p.reposts,
                        "quotes": p.quotes,
                        "replies": p.replies,
                        "updated_at": now,
                    }
                    for p in posts
                ),
                pk=("url", "arxiv_id"),
            )

    def get_papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        """Papers by id (missing ids are absent from the result)."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        out: dict[str, Paper] = {}
        authors: dict[str, list[str]] = {i: [] for i in ids}
        cats: dict[str, list[str]] = {i: [] for i in ids}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for aid, name in self.db.conn.execute(
                f"SELECT arxiv_id, name FROM paper_authors WHERE arxiv_id IN ({marks}) "  # noqa: S608
                "ORDER BY arxiv_id, position",
                chunk,
            ):
                authors[aid].append(name)
            for aid, cat in self.db.conn.execute(
                f"SELECT arxiv_id, category FROM paper_categories WHERE arxiv_id IN ({marks}) "  # noqa: S608
                "ORDER BY arxiv_id, position",
                chunk,
            ):
                cats[aid].append(cat)
            sql = (
                "SELECT arxiv_id, title, abstract, primary_category, comment, abs_url, pdf_url, "  # noqa: S608 - placeholders only
                f"code_url, project_url, hf_url, published FROM papers WHERE arxiv_id IN ({marks})"
            )
            for row in self.db.conn.execute(sql, chunk):
                aid, title, abstract, primary, comment, abs_, pdf, code, project, hf, pub = row
                out[aid] = Paper(
                    arxiv_id=aid,
                    title=title,
                    authors=tuple(authors[aid]),
                    categories=tuple(cats[aid]),
                    abstract=abstract or "",
                    primary_category=primary,
                    comment=comment,
                    abs_url=abs_,
                    pdf_url=pdf,
                    code_url=code,
                    project_url=project,
                    hf_url=hf,
                    published=_dt(pub),
                )
        return out

    def get_paper(self, arxiv_id: str) -> Paper | None:
        """One paper, or None."""
        return self.get_papers([arxiv_id]).get(arxiv_id)

    def posts_for(self, arxiv_id: str) -> list[Post]:
        """Every stored post about a paper, most engaging first."""
        rows = self.db.conn.execute(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE arxiv_id = ? "  # noqa: S608
            "ORDER BY reposts + likes DESC, url",
            [arxiv_id],
        )
        return [_post(r) for r in rows]

    def paper_days(self, arxiv_id: str) -> list[tuple[dt.date, int, float]]:
        """Every day a paper ranked: (day, rank, score), oldest first."""
        return [
            (dt.date.fromisoformat(d), r, s)
            for d, r, s in self.db.execute(
                "SELECT day, rank, score FROM rankings WHERE arxiv_id = ? ORDER BY day",
                [arxiv_id],
            )
        ]

    # -- arXiv listings --------------------------------------------------------------------------

    def save_listing(self, day: dt.date, entries: Iterable[ListingEntry]) -> None:
        """Record the listing arXiv announced on `day` (replacing any earlier record of it).

        An empty listing (weekend, holiday) is recorded too: `has_listing` then says so.
        """
        key = day.isoformat()
        unique = list({e.arxiv_id: e for e in entries}.values())
        with self.transaction():
            self.db.execute("DELETE FROM listings WHERE day = ?", [key])
            self.db["listings"].insert_all(
                (
                    {
                        "day": key,
                        "arxiv_id": e.arxiv_id,
                        "position": n,
                        "announce_type": e.announce_type,
                        "categories": json.dumps(list(e.categories)),
                        "version": e.version,
                        "title": e.title,
                    }
                    for n, e in enumerate(unique)
                ),
                pk=("day", "arxiv_id"),
            )
            self.db["listing_days"].upsert(
                {"day": key, "entries": len(unique), "recorded_at": _utcnow()}, pk="day"
            )

    def has_listing(self, day: dt.date) -> bool:
        """Whether `day`'s listing was recorded (possibly empty)."""
        row = self.db.execute(
            "SELECT 1 FROM listing_days WHERE day = ?", [day.isoformat()]
        ).fetchone()
        return row is not None

    def listing(self, day: dt.date) -> list[ListingEntry]:
        """The recorded listing of `day`, in feed order; [] when none (see has_listing)."""
        return [
            ListingEntry(
                arxiv_id=row["arxiv_id"],
                announce_type=row["announce_type"],
                categories=tuple(json.loads(row["categories"] or "[]")),
                version=row["version"],
                title=row["title"] or "",
            )
            for row in self.db.query(
                "SELECT * FROM listings WHERE day = ? ORDER BY position", [day.isoformat()]
            )
        ]

    # -- days and rankings -----------------------------------------------------------------

    def save_day(self, ranking: DayRanking) -> None:
        """Store a day's full ranking, replacing what was stored for that day, atomically."""
        day = ranking.day.isoformat()
        now = _utcnow()
        with self.transaction():
            self.save_papers(rp.paper for rp in ranking.papers)
            self.save_posts(post for rp in ranking.papers for post in rp.posts)
            for table in ("rankings", "signals", "ranking_posts"):
                self.db.execute(f"DELETE FROM {table} WHERE day = ?", [day])  # noqa: S608
            self._upsert(
                "days",
                [
                    {
                        "day": day,
                        "generated_at": _iso(ranking.generated_at),
                        "origin": ranking.origin,
                        "partial": int(ranking.partial),
                        "failed_sources": json.dumps(list(ranking.failed_sources)),
                        "extra": json.dumps(ranking.extra, ensure_ascii=False),
                        "updated_at": now,
                    }
                ],
                pk="day",
            )
            self._insert(
                "rankings",
                (
                    {
                        "day": day,
                        "arxiv_id": rp.paper.arxiv_id,
                        "rank": rp.rank,
                        "score": rp.score,
                        "extra": json.dumps(rp.extra, ensure_ascii=False),
                    }
                    for rp in ranking.papers
                ),
                pk=("day", "arxiv_id"),
                replace=True,
            )
            self._insert(
                "signals",
                (
                    {
                        "day": day,
                        "arxiv_id": rp.paper.arxiv_id,
                        "source": source,
                        "counts": json.dumps(counts),
                    }
                    for rp in ranking.papers
                    for source, counts in rp.signals.items()
                ),
                pk=("day", "arxiv_id", "source"),
                replace=True,
            )
            self._insert(
                "ranking_posts",
                (
                    {"day": day, "arxiv_id": rp.paper.arxiv_id, "position": n, "post_url": post.url}
                    for rp in ranking.papers
                    for n, post in enumerate(rp.posts)
                ),
                pk=("day", "arxiv_id", "position"),
                replace=True,
            )

    def has_day(self, day: dt.date) -> bool:
        """Whether a ranking (possibly empty) is stored for day."""
        return (
            self.db.execute("SELECT 1 FROM days WHERE day = ?", [day.isoformat()]).fetchone()
            is not None
        )

    def days(self) -> list[dt.date]:
        """Every stored day, oldest first."""
        return [
            dt.date.fromisoformat(d)
            for (d,) in self.db.execute("SELECT day FROM days ORDER BY day")
        ]

    def latest_day(self, *, with_papers: bool = False) -> dt.date | None:
        """The newest stored day (with_papers: the newest that ranked any paper), or None."""
        table = "rankings" if with_papers else "days"
        row = self.db.conn.execute(f"SELECT max(day) FROM {table}").fetchone()  # noqa: S608
        return dt.date.fromisoformat(row[0]) if row and row[0] else None

    def nearest_days(self, day: dt.date, n: int = 2) -> list[dt.date]:
        """The stored days closest to day (for 'did you mean' messages)."""
        iso = day.isoformat()
        before = [
            d
            for (d,) in self.db.execute(
                "SELECT day FROM days WHERE day < ? ORDER BY day DESC LIMIT ?", [iso, n]
            )
        ]
        after = [
            d
            for (d,) in self.db.execute(
                "SELECT day FROM days WHERE day > ? ORDER BY day LIMIT ?", [iso, n]
            )
        ]
        return [dt.date.fromisoformat(d) for d in sorted(before + after)]

    def categories(self, day: dt.date | None = None) -> set[str]:
        """Categories of ranked papers (on one day, or ever)."""
        if day is None:
            sql, args = "SELECT DISTINCT category FROM paper_categories", []
        else:
            sql = (
                "SELECT DISTINCT c.category FROM rankings r JOIN paper_categories c "
                "ON c.arxiv_id = r.arxiv_id WHERE r.day = ?"
            )
            args = [day.isoformat()]
        return {c for (c,) in self.db.execute(sql, args)}

    def load_day(
        self,
        day: dt.date,
        category: str | None = None,
        top: int | None = None,
        *,
        posts_per_paper: int | None = None,
    ) -> DayRanking | None:
        """A stored day's ranking, optionally only papers in category, at most top. None if absent.

        Ranks stay the day's overall ranks; filtered views keep them so "#3" means the same
        everywhere. With posts_per_paper, each paper keeps only its most engaging posts
        (reposts + likes; the earlier one on ties), which is all an embed shows.
        """
        iso = day.isoformat()
        head = self.db.conn.execute(
            "SELECT generated_at, origin, partial, failed_sources, extra FROM days WHERE day = ?",
            [iso],
        ).fetchone()
        if head is None:
            return None
        if category is None:
            sql = "SELECT arxiv_id, rank, score, extra FROM rankings WHERE day = ? ORDER BY rank"
            args: list[Any] = [iso]
        else:
            sql = (
                "SELECT r.arxiv_id, r.rank, r.score, r.extra FROM rankings r WHERE r.day = ? "
                "AND EXISTS (SELECT 1 FROM paper_categories c WHERE c.arxiv_id = r.arxiv_id "
                "AND c.category = ?) ORDER BY r.rank"
            )
            args = [iso, category]
        if top is not None:
            sql += " LIMIT ?"
            args.append(top)
        rows = self.db.conn.execute(sql, args).fetchall()
        ids = [r[0] for r in rows]
        papers = self.get_papers(ids)
        signals: dict[str, dict[str, dict[str, int]]] = {i: {} for i in ids}
        posts: dict[str, list[Post]] = {i: [] for i in ids}
        if ids:
            marks = ",".join("?" * len(ids))
            for aid, source, counts in self.db.conn.execute(
                f"SELECT arxiv_id, source, counts FROM signals WHERE day = ? "  # noqa: S608
                f"AND arxiv_id IN ({marks}) ORDER BY rowid",
                [iso, *ids],
            ):
                signals[aid][source] = json.loads(counts)
            for row in self.db.conn.execute(
                _ranking_posts_sql(marks, posts_per_paper),
                [iso, *ids] if posts_per_paper is None else [iso, *ids, posts_per_paper],
            ):
                posts[row[2]].append(_post(row))
        return DayRanking(
            day=day,
            generated_at=dt.datetime.fromisoformat(head[0]),
            papers=[
                RankedPaper(
                    rank=rank,
                    paper=papers[aid],
                    score=score,
                    signals=signals[aid],
                    posts=posts[aid],
                    extra=json.loads(extra) if extra else {},
                )
                for aid, rank, score, extra in rows
            ],
            partial=bool(head[2]),
            failed_sources=tuple(json.loads(head[3] or "[]")),
            origin=head[1],
            category=category,
            extra=json.loads(head[4]) if head[4] else {},
        )

    def day_summary(self, day: dt.date) -> DaySummary | None:
        """A stored day's header (origin, partial, failed sources, paper count), or None."""
        row = self.db.execute(
            "SELECT d.generated_at, d.origin, d.partial, d.failed_sources, "
            "(SELECT count(*) FROM rankings r WHERE r.day = d.day) FROM days d WHERE d.day = ?",
            [day.isoformat()],
        ).fetchone()
        if row is None:
            return None
        return DaySummary(
            day=day,
            generated_at=dt.datetime.fromisoformat(row[0]),
            origin=row[1],
            partial=bool(row[2]),
            failed_sources=tuple(json.loads(row[3] or "[]")),
            papers=row[4],
        )

    # -- source runs -------------------------------------------------------------------------

    def save_source_runs(self, runs: Iterable[SourceRun]) -> None:
        """Record how each source did for a day (replacing that day's earlier record)."""
        with self.transaction():
            self.db["source_runs"].upsert_all(
                (
                    {
                        "day": run.day.isoformat(),
                        "source": run.source,
                        "status": run.status,
                        "requests": run.requests,
                        "error": run.error,
                        "ran_at": _iso(run.ran_at),
                    }
                    for run in runs
                ),
                pk=("day", "source"),
            )

    def source_runs(self, day: dt.date) -> list[SourceRun]:
        """How each source did in the latest run for day, by source name."""
        return [
            SourceRun(
                day=day,
                source=row["source"],
                status=row["status"],
                requests=row["requests"] or 0,
                error=row["error"],
                ran_at=_dt(row["ran_at"]),
            )
            for row in self.db.query(
                "SELECT * FROM source_runs WHERE day = ? ORDER BY source", [day.isoformat()]
            )
        ]

    # -- subscriptions -----------------------------------------------------------------------

    def save_subscription(self, sub: Subscription, now: dt.datetime) -> Subscription:
        """Create or replace the subscription of sub.channel_id; returns it with its id."""
        with self.transaction():
            existing = self.db.execute(
                "SELECT id, created_at FROM subscriptions WHERE channel_id = ?", [sub.channel_id]
            ).fetchone()
            row = {
                "guild_id": sub.guild_id,
                "channel_id": sub.channel_id,
                "categories": json.dumps(list(sub.categories)),
                "post_time": sub.post_time,
                "timezone": sub.timezone,
                "top": sub.top,
                "min_score": sub.min_score,
                "webhook_url": sub.webhook_url,
                "state": sub.state,
                "paused_reason": sub.paused_reason,
                "created_at": existing[1] if existing else _iso(now),
            }
            if existing:
                self.db["subscriptions"].update(existing[0], row)
                sub_id = existing[0]
            else:
                sub_id = self.db["subscriptions"].insert(row).last_pk
        found = self.get_subscription(sub_id)
        assert found is not None
        return found

    def get_subscription(self, sub_id: int) -> Subscription | None:
        rows = list(self.db.query("SELECT * FROM subscriptions WHERE id = ?", [sub_id]))
        return _subscription(rows[0]) if rows else None

    def subscription_for_channel(self, channel_id: int) -> Subscription | None:
        rows = list(self.db.query("SELECT * FROM subscriptions WHERE channel_id = ?", [channel_id]))
        return _subscription(rows[0]) if rows else None

    def subscriptions(
        self, guild_id: int | None = None, *, active_only: bool = False
    ) -> list[Subscription]:
        """Subscriptions (of one guild, or all), oldest first."""
        sql, args = "SELECT * FROM subscriptions WHERE 1", []
        if guild_id is not None:
            sql += " AND guild_id = ?"
            args.append(guild_id)
        if active_only:
            sql += " AND state = 'active'"
        return [_subscription(r) for r in self.db.query(sql + " ORDER BY id", args)]

    def delete_subscription(self, channel_id: int) -> bool:
        """Remove a channel's subscription and its pending deliveries; False if there was none."""
        with self.transaction():
            sub = self.subscription_for_channel(channel_id)
            if sub is None:
                return False
            self.db.execute(
                "DELETE FROM deliveries WHERE subscription_id = ? AND status = 'pending'", [sub.id]
            )
            self.db.execute("DELETE FROM subscriptions WHERE id = ?", [sub.id])
        return True

    def set_subscription_state(self, sub_id: int, state: str, reason: str | None = None) -> None:
        """Pause (with a reason) or resume a subscription."""
        with self.transaction():
            self.db["subscriptions"].update(sub_id, {"state": state, "paused_reason": reason})

    # -- deliveries (outbox) -------------------------------------------------------------------

    def enqueue_delivery(self, sub: Subscription, day: dt.date, due_at: dt.datetime) -> Delivery:
        """Write the (subscription, day) outbox row if absent; return the stored row."""
        assert sub.id is not None
        with self.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO deliveries (subscription_id, day, channel_id, status, "
                "nonce, attempts, due_at, updated_at) VALUES (?, ?, ?, 'pending', ?, 0, ?, ?)",
                [
                    sub.id,
                    day.isoformat(),
                    sub.channel_id,
                    delivery_nonce(sub.id, day),
                    _iso(due_at),
                    _utcnow(),
                ],
            )
        found = self.get_delivery(sub.id, day)
        assert found is not None
        return found

    def get_delivery(self, sub_id: int, day: dt.date) -> Delivery | None:
        rows = list(
            self.db.query(
                "SELECT * FROM deliveries WHERE subscription_id = ? AND day = ?",
                [sub_id, day.isoformat()],
            )
        )
        return _delivery(rows[0]) if rows else None

    def deliveries(
        self, status: str | None = None, due_before: dt.datetime | None = None
    ) -> list[Delivery]:
        """Outbox rows, by status and due time, oldest due first."""
        sql, args = "SELECT * FROM deliveries WHERE 1", []
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if due_before is not None:
            # Instants, not strings: due_at keeps its subscription's UTC offset (+09:00, -04:00).
            sql += " AND julianday(due_at) <= julianday(?)"
            args.append(_iso(due_before))
        order = " ORDER BY julianday(due_at), subscription_id"
        return [_delivery(r) for r in self.db.query(sql + order, args)]

    def update_delivery(self, sub_id: int, day: dt.date, **changes: Any) -> None:
        """Record progress on an outbox row (status, attempts, error, message_ids, sent_at)."""
        if "message_ids" in changes:
            changes["message_ids"] = json.dumps(list(changes["message_ids"]))
        if "sent_at" in changes and isinstance(changes["sent_at"], dt.datetime):
            changes["sent_at"] = _iso(changes["sent_at"])
        changes["updated_at"] = _utcnow()
        with self.transaction():
            self.db["deliveries"].update((sub_id, day.isoformat()), changes)


def _explain(exc: sqlite3.Error) -> str:
    """A user-facing reason for a SQLite failure."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{text} (another process holds the database; is a second hotpapers running?)"
    if "full" in text:
        return f"{text} (free some disk space; nothing was written)"
    if "readonly" in text or "read-only" in text:
        return f"{text} (the database file or its folder is not writable)"
    return text


def delivery_nonce(sub_id: int, day: dt.date) -> str:
    """A deterministic message nonce for a (subscription, day), within Discord's 25 characters."""
    return f"hp{sub_id}d{day.strftime('%Y%m%d')}"[:25]


_POST_COLUMNS = (
    "source, url, arxiv_id, author, handle, text, posted, html, likes, reposts, quotes, replies"
)


def _ranking_posts_sql(marks: str, per_paper: int | None) -> str:
    """The posts of a day's ranked papers (all, or each paper's most engaging per_paper)."""
    columns = ", ".join(f"p.{c}" for c in _POST_COLUMNS.split(", "))
    source = (
        "FROM ranking_posts rp JOIN posts p ON p.url = rp.post_url AND p.arxiv_id = rp.arxiv_id "
        f"WHERE rp.day = ? AND rp.arxiv_id IN ({marks})"
    )
    if per_paper is None:
        return f"SELECT {columns} {source} ORDER BY rp.arxiv_id, rp.position"
    # Pick by the two counts first, then read the chosen posts' text only.
    head = "rp.post_url AS url, rp.arxiv_id AS arxiv_id, rp.position AS pos"
    pick = (
        "ROW_NUMBER() OVER (PARTITION BY rp.arxiv_id ORDER BY "
        "COALESCE(p.reposts, 0) + COALESCE(p.likes, 0) DESC, rp.position) AS n"
    )
    ranked = f"SELECT {head}, {pick} {source}"
    return (
        f"WITH ranked AS ({ranked}) SELECT {columns} FROM ranked r "  # noqa: S608
        "JOIN posts p ON p.url = r.url AND p.arxiv_id = r.arxiv_id "
        "WHERE r.n <= ? ORDER BY r.arxiv_id, r.pos"
    )


def _post(row: tuple[Any, ...]) -> Post:
    """A Post from a row selected with _POST_COLUMNS."""
    source, url, arxiv_id, author, handle, text, posted, html, likes, reposts, quotes, replies = row
    return Post(
        source=source,
        url=url,
        arxiv_id=arxiv_id,
        author=author or "",
        handle=handle or "",
        text=text or "",
        posted=posted or "",
        html=html,
        likes=likes or 0,
        reposts=reposts or 0,
        quotes=quotes or 0,
        replies=replies or 0,
    )


def _subscription(row: dict[str, Any]) -> Subscription:
    return Subscription(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        categories=tuple(json.loads(row["categories"] or "[]")),
        post_time=row["post_time"],
        timezone=row["timezone"],
        top=row["top"],
        min_score=row["min_score"] or 0.0,
        webhook_url=row["webhook_url"],
        state=row["state"],
        paused_reason=row["paused_reason"],
        created_at=_dt(row["created_at"]),
    )


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(
        subscription_id=row["subscription_id"],
        day=dt.date.fromisoformat(row["day"]),
        channel_id=row["channel_id"],
        status=row["status"],
        nonce=row["nonce"],
        attempts=row["attempts"] or 0,
        error=row["error"],
        message_ids=tuple(json.loads(row["message_ids"] or "[]")),
        due_at=_dt(row["due_at"]),
        sent_at=_dt(row["sent_at"]),
    )
