"""Import Hot Papers posts into the store: files and folders, idempotent, one transaction per day.

A broken file is reported (file, line, reason) and skipped; the others are imported and nothing
already stored is touched by a failure. Importing the same file again changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.archive import SHOWN_FIELDS, read_post, shown
from bot.errors import ArchiveParseError
from bot.models import DayRanking
from bot.store import Store

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """What an import did."""

    files: int = 0
    imported: list[str] = field(default_factory=list)  # days newly stored or updated
    unchanged: list[str] = field(default_factory=list)  # days already stored exactly so
    papers: int = 0  # ranked papers in the imported (or unchanged) files
    posts: int = 0  # embedded posts in those files
    repaired: list[str] = field(default_factory=list)  # files whose encoding damage was fixed
    skipped: list[ArchiveParseError] = field(default_factory=list)

    @property
    def days(self) -> int:
        return len(self.imported) + len(self.unchanged)


Progress = Callable[[int, int, Path, "DayRanking | ArchiveParseError", str], None]


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[ArchiveParseError]]:
    """The .md files named by paths (folders are searched recursively, sorted)."""
    files: list[Path] = []
    missing: list[ArchiveParseError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.md") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(ArchiveParseError(str(path), 0, "no such file or folder"))
    return list(dict.fromkeys(files)), missing


def _snapshot(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _freeze_other_days(store: Store, ranking: DayRanking) -> None:
    """Before this day overwrites shared paper/post rows, let other days keep what they showed."""
    day = ranking.day.isoformat()
    ids = [rp.paper.arxiv_id for rp in ranking.papers]
    stored = store.get_papers(ids)
    changed_fields: dict[str, dict[str, Any]] = {}
    for rp in ranking.papers:
        old = stored.get(rp.paper.arxiv_id)
        if old is None:
            continue
        diff = {
            f: _snapshot(getattr(old, f))
            for f in SHOWN_FIELDS
            if getattr(old, f) != getattr(rp.paper, f)
        }
        if diff:
            changed_fields[rp.paper.arxiv_id] = diff
    changed_html: dict[str, dict[str, str]] = {}
    keys = [(p.url, p.arxiv_id, p.html) for rp in ranking.papers for p in rp.posts]
    for url, aid, html in keys:
        row = store.db.execute(
            "SELECT html FROM posts WHERE url = ? AND arxiv_id = ?", [url, aid]
        ).fetchone()
        if row is not None and row[0] != html:
            changed_html.setdefault(aid, {})[url] = row[0]
    for aid in set(changed_fields) | set(changed_html):
        rows = store.db.execute(
            "SELECT day, extra FROM rankings WHERE arxiv_id = ? AND day != ?", [aid, day]
        ).fetchall()
        for other_day, extra_json in rows:
            extra = json.loads(extra_json) if extra_json else {}
            snap = extra.setdefault("shown", {})
            for name, value in changed_fields.get(aid, {}).items():
                snap.setdefault(name, value)
            if not snap:
                del extra["shown"]
            html_snap = extra.setdefault("post_html", {})
            for url, html in changed_html.get(aid, {}).items():
                html_snap.setdefault(url, html)
            if not html_snap:
                del extra["post_html"]
            store.db.execute(
                "UPDATE rankings SET extra = ? WHERE day = ? AND arxiv_id = ?",
                [json.dumps(extra, ensure_ascii=False), other_day, aid],
            )
            log.debug("%s: kept what %s showed for %s", day, other_day, aid)


def store_day(store: Store, ranking: DayRanking) -> bool:
    """Store an archive day atomically; False (and nothing written) if it is stored already."""
    with store.transaction():
        existing = store.load_day(ranking.day)
        if existing is not None and shown(existing) == ranking:
            return False
        _freeze_other_days(store, ranking)
        store.save_day(ranking)
    return True


def import_paths(
    store: Store, paths: Iterable[str | Path], progress: Progress | None = None
) -> ImportReport:
    """Import every post under paths; broken files go to report.skipped, the rest is stored."""
    files, missing = discover(paths)
    report = ImportReport(files=len(files), skipped=list(missing))
    for n, path in enumerate(files, start=1):
        try:
            ranking, repaired = read_post(path)
        except ArchiveParseError as exc:
            log.debug("skipped %s", exc)
            report.skipped.append(exc)
            if progress:
                progress(n, len(files), path, exc, "skipped")
            continue
        changed = store_day(store, ranking)
        (report.imported if changed else report.unchanged).append(ranking.day.isoformat())
        report.papers += len(ranking.papers)
        report.posts += sum(len(rp.posts) for rp in ranking.papers)
        if repaired:
            report.repaired.append(str(path))
        if progress:
            progress(n, len(files), path, ranking, "imported" if changed else "unchanged")
    return report
