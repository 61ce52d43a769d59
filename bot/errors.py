"""Domain errors: every error a user or an outside system can cause, in one place."""

from __future__ import annotations


class HotPapersError(Exception):
    """Base class for every error hotpapers raises on purpose."""


class ConfigError(HotPapersError):
    """The configuration file or environment is wrong; the message names the key."""


class InvalidArxivId(HotPapersError, ValueError):
    """A string is not an arXiv identifier or URL."""


class InvalidDate(HotPapersError, ValueError):
    """A date argument is malformed or out of range."""


class UnknownCategory(HotPapersError, ValueError):
    """An arXiv category that does not exist."""


class ArchiveParseError(HotPapersError):
    """A Hot Papers markdown file could not be parsed; carries file and line."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.reason = message


class StoreError(HotPapersError):
    """The database cannot be opened, is locked, or is from an unknown schema."""


class SourceError(HotPapersError):
    """A source failed for this run (after retries); the job continues without it."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class MalformedResponse(SourceError):
    """A source answered with a body that does not parse."""


class DeliveryError(HotPapersError):
    """A digest could not be delivered to a channel."""


class ChannelUnavailable(DeliveryError):
    """Discord says the channel is gone or the bot lost access (403/404); pause it."""

    def __init__(self, channel_id: int, status: int, code: int, message: str) -> None:
        super().__init__(f"channel {channel_id}: HTTP {status} (code {code}): {message}")
        self.channel_id = channel_id
        self.status = status
        self.code = code
        self.reason = message


class DeliveryRejected(DeliveryError):
    """Discord refused a message for what it contains (HTTP 400 and the like); not retried."""

    def __init__(self, status: int, code: int, message: str, body: object = None) -> None:
        errors = body.get("errors") if isinstance(body, dict) else None
        detail = f": {errors}" if errors else ""
        super().__init__(f"HTTP {status} (code {code}): {message}{detail}")
        self.status = status
        self.code = code
        self.body = body


class DeliveryRetryLater(DeliveryError):
    """Discord kept failing (5xx, timeouts) or asked for a long wait; try the digest later."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DiscordUnauthorized(DeliveryError):
    """The bot token is missing or rejected (401): stop, do not retry."""


class JobRefused(HotPapersError):
    """The ranking job will not run for this day (e.g. it was imported from the archive)."""


class InvalidOption(HotPapersError, ValueError):
    """A command option (time, time zone, top, score...) is malformed; the message says why."""
