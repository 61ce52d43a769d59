"""Parsing user-given days: YYYY-MM-DD, 'today', 'yesterday' (relative to a passed-in clock)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from bot.errors import InvalidDate

Clock = Callable[[], dt.datetime]

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def utc_now() -> dt.datetime:
    """The real clock (timezone-aware UTC). Pass a different callable in tests."""
    return dt.datetime.now(dt.UTC)


def parse_day(text: str, today: dt.date, *, allow_future: bool = False) -> dt.date:
    """Parse a day; raise InvalidDate with a message that suggests the fix."""
    value = text.strip().lower()
    if value == "today":
        return today
    if value == "yesterday":
        return today - dt.timedelta(days=1)
    shown = re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]", "?", text.strip()[:40])
    match = _ISO.match(value)
    if not match:
        digits = re.findall(r"\d+", value)
        hint = ""
        if len(digits) == 3 and max(map(len, digits)) > 4:
            pass  # no hint; and int() of 4,300+ digits would raise ValueError
        elif len(digits) == 3 and len(digits[0]) == 4:
            hint = (
                f" (did you mean {int(digits[0]):04d}-{int(digits[1]):02d}-{int(digits[2]):02d}?)"
            )
        elif len(digits) == 3 and len(digits[2]) == 4:
            hint = (
                f" (did you mean {int(digits[2]):04d}-{int(digits[1]):02d}-{int(digits[0]):02d}?)"
            )
        raise InvalidDate(f"'{shown}' is not a date: use YYYY-MM-DD, 'today' or 'yesterday'{hint}")
    year, month, day = (int(g) for g in match.groups())
    try:
        parsed = dt.date(year, month, day)
    except ValueError as exc:
        raise InvalidDate(f"'{shown}' is not a valid date: {exc}") from None
    if not allow_future and parsed > today:
        raise InvalidDate(f"{parsed.isoformat()} is in the future (today is {today.isoformat()})")
    return parsed
