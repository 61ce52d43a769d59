"""The daily pipeline: collect candidates and signals -> store -> rank, for one announcement day.

`run_day` ranks the papers announced on day D with the engagement gathered from every
available source in D's window; a source that fails is recorded and the ranking is marked
partial (its previous counts for that day, if any, are kept). `due_days` asks the database
which days still need a run; `record_listing` keeps today's arXiv listing for tomorrow's job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import arxiv_ids
from bot.config import Config
from bot.errors import HotPapersError, InvalidArxivId, JobRefused
from bot.models import DayRanking, ListingEntry, Paper, Post, Signal, SourceRun
from bot.ranking import rank
from bot.sources.base import SignalSource, SourceResult
from bot.store import Store

log = logging.getLogger(__name__)

ARXIV = "arxiv"
# arXiv announces at 20:00 US Eastern on the evening before the listing's date.
ANNOUNCE_TZ = ZoneInfo("America/New_York")
ANNOUNCE_TIME = dt.time(20, 0)
PARTIAL_RETRY_AFTER = dt.timedelta(hours=1)

Progress = Callable[[str], None]


class Listing(Protocol):
    """The current arXiv mailing as the RSS shows it."""

    day: dt.date | None
    entries: list[ListingEntry]


class ArxivCatalog(Protocol):
    """What the job needs from arXiv (bot.sources.arxiv.ArxivSource): listing and metadata."""

    async def listing(self) -> Listing:
        """The current mailing (one RSS request); empty on weekends and holidays."""
        ...

    async def submitted(self, day: dt.date) -> SourceResult:
        """The papers of the mailing dated day, found through the API by submittedDate."""
        ...

    async def papers(self, ids: Sequence[str]) -> SourceResult:
        """Metadata for ids (API id_list in batches); unknown ids are absent."""
        ...


def _quiet(message: str) -> None:
    pass


@dataclass
class JobDeps:
    """Everything a run needs, passed in (real sources in the app, fakes in tests)."""

    config: Config
    store: Store
    arxiv: ArxivCatalog | None
    sources: Sequence[SignalSource]
    requests: Mapping[str, int] | None = None  # the shared per-source request counter, if any
    progress: Progress = _quiet


@dataclass
class JobResult:
    """What one run of one day did."""

    day: dt.date
    ranking: DayRanking
    requests: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # source -> why
    skipped: dict[str, str] = field(default_factory=dict)  # source -> why (not a failure)
    candidates: int = 0
    duration: float = 0.0

    @property
    def partial(self) -> bool:
        return self.ranking.partial


# -- time -------------------------------------------------------------------------------------


def _local_time(text: str) -> dt.time:
    hh, _, mm = text.partition(":")
    return dt.time(int(hh), int(mm))


def due_at(day: dt.date, config: Config) -> dt.datetime:
    """When day's ranking is due: rank_time, window_days after day, in the configured zone."""
    schedule = config.schedule
    local = dt.datetime.combine(
        day + dt.timedelta(days=schedule.window_days),
        _local_time(schedule.rank_time),
        ZoneInfo(schedule.timezone),
    )
    return local.astimezone(dt.UTC)


def window(day: dt.date, config: Config, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[since, until): from day's announcement (20:00 US Eastern the evening before) to the
    time it is due, or now if that is earlier."""
    since = dt.datetime.combine(day - dt.timedelta(days=1), ANNOUNCE_TIME, ANNOUNCE_TZ)
    until = min(now, due_at(day, config))
    return since.astimezone(dt.UTC), max(until, since).astimezone(dt.UTC)


def latest_due_day(now: dt.datetime, config: Config) -> dt.date:
    """The newest day whose ranking is due at now."""
    local_today = now.astimezone(ZoneInfo(config.schedule.timezone)).date()
    day = local_today - dt.timedelta(days=config.schedule.window_days)
    return day if due_at(day, config) <= now else day - dt.timedelta(days=1)


def due_days(
    store: Store,
    now: dt.datetime,
    config: Config,
    *,
    retry_after: dt.timedelta = PARTIAL_RETRY_AFTER,
) -> list[dt.date]:
    """Days of the last catch_up_days that need a run, oldest first: never ranked, or ranked
    partial at least retry_after ago. Imported archive days are never re-ranked."""
    latest = latest_due_day(now, config)
    days = []
    for back in range(config.schedule.catch_up_days - 1, -1, -1):
        day = latest - dt.timedelta(days=back)
        summary = store.day_summary(day)
        if summary is None or (
            summary.origin == "live"
            and summary.partial
            and summary.generated_at + retry_after <= now
        ):
            days.append(day)
    return days


# -- the run ----------------------------------------------------------------------------------

_logged_skips: set[tuple[str, str]] = set()


def _log_skip_once(source: str, reason: str) -> None:
    if (source, reason) not in _logged_skips:
        _logged_skips.add((source, reason))
        log.info("%s: skipped (%s)", source, reason)


def _canonical(value: str) -> str | None:
    try:
        return arxiv_ids.parse(value)
    except InvalidArxivId:
        log.warning("dropping a record with a bad arXiv id: %r", value[:80])
        return None


def _canonical_papers(papers: Sequence[Paper]) -> dict[str, Paper]:
    found: dict[str, Paper] = {}
    for paper in papers:
        aid = _canonical(paper.arxiv_id)
        if aid is not None:
            found[aid] = _enrich(found[aid], paper) if aid in found else _with_id(paper, aid)
    return found


def _with_id(paper: Paper, aid: str) -> Paper:
    return paper if paper.arxiv_id == aid else dataclasses.replace(paper, arxiv_id=aid)


def _enrich(base: Paper, other: Paper) -> Paper:
    """base, with its empty fields filled from other (e.g. code/project links from HF)."""
    changes = {
        f.name: getattr(other, f.name)
        for f in dataclasses.fields(Paper)
        if f.name != "arxiv_id" and not getattr(base, f.name) and getattr(other, f.name)
    }
    return dataclasses.replace(base, **changes) if changes else base


def _has_metadata(paper: Paper | None) -> bool:
    """Whether paper carries real metadata (a listing entry has only title and categories)."""
    return paper is not None and bool(paper.title) and bool(paper.authors)


def _from_entry(entry: ListingEntry) -> Paper:
    return Paper(arxiv_id=entry.arxiv_id, title=entry.title, categories=entry.categories)


def _weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


@dataclass
class _Run:
    """The bookkeeping of one run: requests, failures and skips per source."""

    day: dt.date
    deps: JobDeps
    now: dt.datetime
    requests: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    counter_before: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counter_before = self._counter()

    def _counter(self) -> dict[str, int]:
        return dict(self.deps.requests) if self.deps.requests is not None else {}

    def count(self, source: str, requests: int) -> None:
        self.requests[source] = self.requests.get(source, 0) + requests

    def fail(self, source: str, exc: BaseException) -> None:
        self.failed.setdefault(source, str(exc) or type(exc).__name__)

    def finish(self, ranking: DayRanking, candidates: int, *, ran: bool = True) -> JobResult:
        """Store the ranking and how each source did; the result of the run."""
        for source, count in self._counter().items():
            diff = count - self.counter_before.get(source, 0)
            if diff > self.requests.get(source, 0):
                self.requests[source] = diff  # attempts a failed source made count too
        requests = dict(sorted(self.requests.items()))
        ranking.extra.update({"requests": requests, "skipped": dict(sorted(self.skipped.items()))})
        ranking.extra["candidates"] = candidates
        store = self.deps.store
        with store.transaction():
            store.save_day(ranking)
            if ran:
                store.save_source_runs(self._source_runs())
        return JobResult(
            day=self.day,
            ranking=ranking,
            requests=requests,
            failed=dict(sorted(self.failed.items())),
            skipped=dict(sorted(self.skipped.items())),
            candidates=candidates,
            duration=time.perf_counter() - self.started,
        )

    def _source_runs(self) -> list[SourceRun]:
        names = [ARXIV] if self.deps.arxiv is not None else []
        names += [s.name for s in self.deps.sources]
        runs = []
        for name in names:
            if name in self.failed:
                status, error = "failed", self.failed[name]
            elif name in self.skipped:
                status, error = "skipped", self.skipped[name]
            else:
                status, error = "ok", None
            runs.append(
                SourceRun(self.day, name, status, self.requests.get(name, 0), error, self.now)
            )
        return runs


async def _listing(run: _Run) -> dict[str, Paper] | None:
    """The day's announced papers: the recorded listing, else the API; None if arXiv failed."""
    day, deps = run.day, run.deps
    store = deps.store
    if store.has_listing(day):
        entries = store.listing(day)
        deps.progress(f"arxiv: listing of {day} recorded on the day ({len(entries)} papers)")
        return _canonical_papers([_from_entry(e) for e in entries])
    if deps.arxiv is None:
        return {}
    try:
        result = await deps.arxiv.submitted(day)
    except HotPapersError as exc:
        log.warning("arxiv: listing of %s failed: %s", day, exc)
        run.fail(ARXIV, exc)
        return None
    run.count(ARXIV, result.requests)
    deps.progress(
        f"arxiv: listing of {day} from the API ({len(result.papers)} papers, "
        f"{result.requests} requests)"
    )
    return _canonical_papers(result.papers)


async def _collect_one(
    source: SignalSource,
    day: dt.date,
    ids: Sequence[str],
    since: dt.datetime,
    until: dt.datetime,
    progress: Progress,
) -> SourceResult | BaseException:
    try:
        result = await source.collect(day, ids, since, until)
    except Exception as exc:
        if not isinstance(exc, HotPapersError):
            log.exception("%s: unexpected error", source.name)
        progress(f"{source.name}: failed ({exc or type(exc).__name__})")
        return exc
    for error in result.errors:
        log.warning("%s: skipped a malformed record: %s", source.name, error)
    progress(
        f"{source.name}: done ({result.requests} requests, {len(result.signals)} papers"
        f"{f', {len(result.errors)} malformed records skipped' if result.errors else ''})"
    )
    return result


async def _collect(run: _Run, ids: Sequence[str]) -> list[SourceResult]:
    """Every available source, concurrently; failures are recorded, not raised."""
    deps = run.deps
    since, until = window(run.day, deps.config, run.now)
    active: list[SignalSource] = []
    for source in deps.sources:
        reason = source.unavailable_reason()
        if reason:
            run.skipped[source.name] = reason
            _log_skip_once(source.name, reason)
            deps.progress(f"{source.name}: skipped ({reason})")
        else:
            active.append(source)
    outcomes = await asyncio.gather(
        *(_collect_one(s, run.day, ids, since, until, deps.progress) for s in active)
    )
    results = []
    for source, outcome in zip(active, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            run.fail(source.name, outcome)
        else:
            results.append(outcome)
            run.count(source.name, outcome.requests)
    return results


async def run_day(day: dt.date, deps: JobDeps, now: dt.datetime) -> JobResult:
    """Collect, rank and store day; a failing source makes the ranking partial, not absent.

    Re-running a day replaces its stored ranking with fresh counts. Imported archive days are
    refused (JobRefused).
    """
    if now.tzinfo is None:
        raise ValueError("run_day needs a timezone-aware now")
    previous = deps.store.day_summary(day)
    if previous is not None and previous.origin != "live":
        raise JobRefused(
            f"{day} was imported from the {previous.origin}; it is not re-ranked from live sources"
        )
    run = _Run(day, deps, now)
    if _weekend(day):
        deps.progress(f"{day} is a {day:%A}: arXiv announces nothing on weekends")
        empty = DayRanking(day=day, generated_at=now, extra={"note": "weekend"})
        return run.finish(empty, 0, ran=False)

    listing = await _listing(run)
    if listing is None:
        listing = {}
    elif not listing and deps.arxiv is not None:
        deps.progress(f"{day}: no announcements (holiday)")
        empty = DayRanking(day=day, generated_at=now, extra={"note": "no announcements"})
        return run.finish(empty, 0, ran=False)

    results = await _collect(run, sorted(listing))
    signals = [
        Signal(aid, s.source, dict(s.counts))
        for r in results
        for s in r.signals
        if (aid := _canonical(s.arxiv_id)) is not None
    ]
    posts = [
        _post_with_id(p, aid) for r in results for p in r.posts if (aid := _canonical(p.arxiv_id))
    ]
    signals, posts = _carry_over(deps.store, day, run.failed, signals, posts)
    seen = _canonical_papers([p for r in results for p in r.papers])
    talked_about = {s.arxiv_id for s in signals}
    candidates = set(listing) | talked_about | set(seen)

    papers = await _metadata(run, talked_about, listing, seen)
    ranking = rank(
        day,
        papers,
        signals,
        posts,
        deps.config.ranking.weights,
        deps.config.ranking.min_score,
        deps.config.ranking.max_posts,
        now,
        tuple(run.failed),
    )
    if run.failed:
        log.warning("%s: partial ranking, failed sources: %s", day, ", ".join(sorted(run.failed)))
    return run.finish(ranking, len(candidates))


def _post_with_id(post: Post, aid: str) -> Post:
    return post if post.arxiv_id == aid else dataclasses.replace(post, arxiv_id=aid)


def _carry_over(
    store: Store,
    day: dt.date,
    failed: Mapping[str, str],
    signals: list[Signal],
    posts: list[Post],
) -> tuple[list[Signal], list[Post]]:
    """Keep the previously stored counts and posts of the sources that failed this time."""
    lost = set(failed) - {ARXIV}
    if not lost:
        return signals, posts
    previous = store.load_day(day)
    if previous is None:
        return signals, posts
    for rp in previous.papers:
        for source, counts in rp.signals.items():
            if source in lost:
                signals.append(Signal(rp.paper.arxiv_id, source, dict(counts)))
        posts.extend(p for p in rp.posts if p.source in lost)
    return signals, posts


async def _metadata(
    run: _Run, wanted: set[str], listing: Mapping[str, Paper], seen: Mapping[str, Paper]
) -> dict[str, Paper]:
    """Metadata for the papers that have engagement: store, arXiv API, then the sources."""
    deps = run.deps
    papers = {aid: p for aid, p in deps.store.get_papers(wanted).items() if _has_metadata(p)}
    missing = wanted - set(papers)
    papers.update((aid, listing[aid]) for aid in missing if _has_metadata(listing.get(aid)))
    missing -= set(papers)
    if missing and deps.arxiv is not None and ARXIV in run.failed:
        # arXiv already failed in this run (e.g. 503 with an hour's Retry-After): asking again
        # now would only hammer it; the retry of the partial day fetches the metadata.
        deps.progress(f"arxiv: metadata for {len(missing)} papers skipped (arXiv is down)")
    elif missing and deps.arxiv is not None:
        try:
            result = await deps.arxiv.papers(sorted(missing))
        except HotPapersError as exc:
            log.warning("arxiv: metadata for %d papers failed: %s", len(missing), exc)
            run.fail(ARXIV, exc)
        else:
            run.count(ARXIV, result.requests)
            fetched = _canonical_papers(result.papers)
            deps.progress(
                f"arxiv: metadata for {len(fetched)} of {len(missing)} papers "
                f"({result.requests} requests)"
            )
            papers.update((aid, p) for aid, p in fetched.items() if aid in missing)
    for aid in wanted - set(papers):
        known = listing.get(aid) or seen.get(aid)
        if known is not None and known.title:
            papers[aid] = known  # arXiv could not tell: what the sources or listing said
    unknown = wanted - set(papers)
    if unknown:
        why = "arXiv is down" if ARXIV in run.failed else "unknown to arXiv?"
        log.info("no metadata for %d linked ids (%s): not ranked", len(unknown), why)
    return {aid: _enrich(p, seen[aid]) if aid in seen else p for aid, p in papers.items()}


async def run_due(deps: JobDeps, now: dt.datetime) -> list[JobResult]:
    """Run every due day once, oldest first (the database decides what is due)."""
    results = []
    for day in due_days(deps.store, now, deps.config):
        log.info("ranking %s", day)
        try:
            results.append(await run_day(day, deps, now))
        except HotPapersError as exc:  # one bad day does not stop the others
            log.error("ranking %s failed: %s", day, exc)
    return results


async def record_listing(deps: JobDeps) -> tuple[dt.date | None, int]:
    """Store the current arXiv mailing (RSS) under its day; (day, entries) or (None, 0).

    arXiv's feed serves only the current mailing, so this must run every announcement day.
    An empty mailing on a weekday is recorded too (a holiday: that day ranks empty).
    """
    if deps.arxiv is None:
        return None, 0
    listing = await deps.arxiv.listing()
    if listing.day is None:
        log.info("arxiv: the current listing has no date (weekend?): nothing recorded")
        return None, 0
    if _weekend(listing.day) and not listing.entries:
        return None, 0
    deps.store.save_listing(listing.day, listing.entries)
    log.info("arxiv: recorded the listing of %s (%d papers)", listing.day, len(listing.entries))
    return listing.day, len(listing.entries)
