"""Validation of slash-command options at the boundary (pure): each raises a specific error.

Messages quote the user's input only after `shown()`: cut short, control characters removed,
markdown and mentions neutralised, so an error message can never ping or format.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import zoneinfo

from bot import taxonomy
from bot.errors import InvalidOption, UnknownCategory
from bot.render import clean

TOP_MAX = 25
_WEBHOOK = re.compile(r"^/api(?:/v\d+)?/webhooks/(\d{1,20})/([\w-]{10,100})/?$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_SPLIT = re.compile(r"[\s,;]+")


def shown(text: str, limit: int = 40) -> str:
    """User input made safe to echo in a message."""
    flat = clean(text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_time(text: str) -> str:
    """'9:00' / '09:00' -> '09:00'; anything else raises InvalidOption."""
    match = _HHMM.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InvalidOption(f"'{shown(text)}' is not a time: use HH:MM, 24-hour (e.g. 09:00)")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


@functools.cache
def timezones() -> tuple[str, ...]:
    """Every IANA time zone name this system knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


@functools.cache
def _tz_by_lower() -> dict[str, str]:
    return {name.lower(): name for name in timezones()}


def parse_timezone(text: str) -> str:
    """An IANA time zone name (case-insensitive), e.g. 'Europe/Paris'; else InvalidOption."""
    value = text.strip()
    found = _tz_by_lower().get(value.lower())
    if found is None or len(value) > 64:
        close = difflib.get_close_matches(value, timezones(), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InvalidOption(
            f"'{shown(value)}' is not an IANA time zone such as Europe/Paris or "
            f"America/New_York{hint}"
        )
    return found


def search_timezones(query: str, limit: int = 25) -> list[str]:
    """Time zones for autocomplete: prefix matches first, then substring matches."""
    q = query.strip().lower()
    names = timezones()
    first = [n for n in names if n.lower().startswith(q)]
    rest = [n for n in names if q in n.lower() and n not in first] if q else []
    return (first + rest)[:limit]


def parse_category(text: str) -> str:
    """One arXiv category, canonical spelling ('cs.cv' -> 'cs.CV'); else UnknownCategory."""
    value = text.strip()
    found = taxonomy.canonical(value) if len(value) <= 40 else None
    if found is None:
        close = taxonomy.closest(value) if len(value) <= 40 else None
        hint = f" (did you mean {close}?)" if close else ""
        raise UnknownCategory(f"'{shown(value)}' is not an arXiv category{hint}")
    return found


def parse_categories(text: str, *, limit: int = 20) -> tuple[str, ...]:
    """Comma- or space-separated categories, each checked; duplicates dropped, order kept."""
    parts = [p for p in _SPLIT.split(text.strip()) if p]
    if not parts:
        raise UnknownCategory("give at least one arXiv category, e.g. cs.CV or cs.CL, cs.LG")
    if len(parts) > limit:
        raise InvalidOption(f"at most {limit} categories per subscription (got {len(parts)})")
    bad = []
    good: list[str] = []
    for part in parts:
        try:
            code = parse_category(part)
        except UnknownCategory as exc:
            bad.append(str(exc))
            continue
        if code not in good:
            good.append(code)
    if bad:
        raise UnknownCategory("; ".join(bad[:5]))
    return tuple(good)


def parse_top(value: int | None, default: int | None, maximum: int = TOP_MAX) -> int | None:
    """Papers per digest: 1..maximum (default when not given)."""
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise InvalidOption(f"top must be between 1 and {maximum} (got {value})")
    return value


def parse_min_score(value: float | None) -> float:
    """A minimum score: a finite number ≥ 0."""
    if value is None:
        return 0.0
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise InvalidOption(f"min_score must be a number ≥ 0 (got {value})")
    return float(value)


def local_today(now: dt.datetime) -> dt.date:
    """The UTC date of an aware datetime (the bot's notion of 'today' for dates)."""
    return now.astimezone(dt.UTC).date()


def parse_webhook_url(text: str) -> tuple[int, str]:
    """A Discord webhook URL -> (webhook id, normalised URL); InvalidOption otherwise.

    https only (plain http is accepted for loopback test servers and proxies).
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(text.strip())
    match = _WEBHOOK.match(parts.path)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not (match and secure and parts.hostname):
        raise InvalidOption(
            "not a Discord webhook URL: expected https://discord.com/api/webhooks/ID/TOKEN "
            "(channel settings → Integrations → Webhooks → Copy Webhook URL)"
        )
    return int(match.group(1)), urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
