"""Typed, frozen settings read from TOML (tomllib); secrets come only from the environment.

Every section is a frozen dataclass; the loader checks each key against its field's type, so a
wrong type, an unknown key or a missing value stops start-up with one line naming the file, the
key and what was expected.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from bot.errors import ConfigError

ENV_CONFIG = "HOTPAPERS_CONFIG"
ENV_DISCORD_TOKEN = "HOTPAPERS_DISCORD_TOKEN"  # noqa: S105 - the variable's name, not a secret
ENV_BLUESKY_PASSWORD = "HOTPAPERS_BLUESKY_APP_PASSWORD"  # noqa: S105
ENV_X_BEARER = "HOTPAPERS_X_BEARER_TOKEN"
ENV_DATABASE = "HOTPAPERS_DATABASE"
USER_AGENT = "hotpapers/0.1 (Discord bot ranking discussed arXiv papers; +https://pypi.org/project/hotpapers)"


def default_database_path() -> str:
    """The database file in the user's data directory."""
    return str(Path(platformdirs.user_data_dir("hotpapers")) / "hotpapers.db")


@dataclass(frozen=True)
class DatabaseConfig:
    path: str = ""  # empty: $HOTPAPERS_DATABASE, else the user data directory


@dataclass(frozen=True)
class HttpConfig:
    timeout: float = 20.0
    user_agent: str = USER_AGENT
    max_retries: int = 4
    max_retry_wait: float = 120.0


@dataclass(frozen=True)
class ScheduleConfig:
    timezone: str = "UTC"
    rank_time: str = "09:00"  # the digest for day D is ranked on D+1 at this local time
    window_days: int = 1  # engagement window after the announcement day
    catch_up_days: int = 7  # after downtime, rank at most this many missed days


@dataclass(frozen=True)
class RankingConfig:
    min_score: float = 0.0
    max_posts: int = 10
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "twitter": 1.0,
            "x": 1.0,
            "bluesky": 1.0,
            "mastodon": 1.0,
            "huggingface": 5.0,
            "hackernews": 2.0,
        }
    )


@dataclass(frozen=True)
class ArxivConfig:
    enabled: bool = True
    categories: list[str] = field(
        default_factory=lambda: ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "stat.ML"]
    )
    rss_url: str = "https://rss.arxiv.org"
    api_url: str = "https://export.arxiv.org/api/query"
    min_interval: float = 3.0  # seconds between requests (arXiv's terms)
    batch_size: int = 100


@dataclass(frozen=True)
class HuggingFaceConfig:
    enabled: bool = True
    base_url: str = "https://huggingface.co"
    min_interval: float = 0.2


@dataclass(frozen=True)
class HackerNewsConfig:
    enabled: bool = True
    base_url: str = "https://hn.algolia.com"
    min_interval: float = 0.1


@dataclass(frozen=True)
class BlueskyConfig:
    enabled: bool = True
    base_url: str = "https://bsky.social"
    handle: str = ""  # the app password comes from HOTPAPERS_BLUESKY_APP_PASSWORD
    min_interval: float = 0.2


@dataclass(frozen=True)
class XConfig:
    enabled: bool = True
    base_url: str = "https://api.x.com"  # the bearer token comes from HOTPAPERS_X_BEARER_TOKEN
    min_interval: float = 1.0


@dataclass(frozen=True)
class MastodonConfig:
    enabled: bool = True
    instances: list[str] = field(default_factory=list)  # e.g. ["https://sigmoid.social"]
    min_interval: float = 0.5


@dataclass(frozen=True)
class SourcesConfig:
    arxiv: ArxivConfig = field(default_factory=ArxivConfig)
    huggingface: HuggingFaceConfig = field(default_factory=HuggingFaceConfig)
    hackernews: HackerNewsConfig = field(default_factory=HackerNewsConfig)
    bluesky: BlueskyConfig = field(default_factory=BlueskyConfig)
    x: XConfig = field(default_factory=XConfig)
    mastodon: MastodonConfig = field(default_factory=MastodonConfig)


@dataclass(frozen=True)
class DiscordConfig:
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = ""  # empty: ask Discord (GET /gateway/bot)
    dev_guild_id: int = 0  # commands sync here automatically at start; 0 = never auto-sync
    owner_ids: list[int] = field(default_factory=list)
    global_rate: float = 48.0  # requests per second the bot allows itself (Discord: 50)
    default_top: int = 10


@dataclass(frozen=True)
class Secrets:
    """Credentials from the environment. Never printed: repr shows only which are set."""

    discord_token: str | None = field(default=None, repr=False)
    bluesky_password: str | None = field(default=None, repr=False)
    x_bearer_token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        flags = ", ".join(
            f"{f.name}={'set' if getattr(self, f.name) else 'unset'}"
            for f in dataclasses.fields(self)
        )
        return f"Secrets({flags})"

    @classmethod
    def from_env(cls, env: typing.Mapping[str, str] | None = None) -> Secrets:
        env = os.environ if env is None else env
        return cls(
            discord_token=env.get(ENV_DISCORD_TOKEN) or None,
            bluesky_password=env.get(ENV_BLUESKY_PASSWORD) or None,
            x_bearer_token=env.get(ENV_X_BEARER) or None,
        )


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    ranking: RankingConfig = field(default_factory=RankingConfig)
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    secrets: Secrets = field(default_factory=Secrets)
    path: str | None = None  # the file it came from, if any

    @property
    def database_path(self) -> str:
        """Where the SQLite file lives: config, then $HOTPAPERS_DATABASE, then the data dir."""
        return self.database.path or os.environ.get(ENV_DATABASE) or default_database_path()


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        return f"a list of {_describe(item).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        _, value = typing.get_args(tp)
        return f"a table of {_describe(value).removeprefix('a ').removeprefix('an ')}s"
    return _TYPE_NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _check(tp: Any, value: Any) -> Any:
    """Return value converted to tp, or raise TypeError."""
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        for option in typing.get_args(tp):
            if option is type(None) and value is None:
                return None
            try:
                return _check(option, value)
            except TypeError:
                continue
        raise TypeError
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise TypeError
        return [_check(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(tp)
        if not isinstance(value, dict):
            raise TypeError
        return {str(k): _check(item, v) for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise TypeError
        return value
    raise TypeError


def _build(cls: type, data: dict[str, Any], prefix: str, source: str) -> Any:
    hints = typing.get_type_hints(cls)
    internal = ("secrets", "path") if cls is Config else ()
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in internal}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{source}: unknown key '{name}' (expected one of: {known})")
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: '{name}' must be a table ([{name}])")
            kwargs[key] = _build(tp, value, f"{name}.", source)
            continue
        try:
            kwargs[key] = _check(tp, value)
        except TypeError:
            raise ConfigError(
                f"{source}: '{name}' must be {_describe(tp)}, got {type(value).__name__} {value!r}"
            ) from None
    if cls is RankingConfig and "weights" in kwargs:
        kwargs["weights"] = {**RankingConfig().weights, **kwargs["weights"]}
    return cls(**kwargs)


def _validate(config: Config, source: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(config.schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{source}: 'schedule.timezone' must be an IANA time zone name such as "
            f"'Europe/Paris', got {config.schedule.timezone!r}"
        ) from None
    hh, sep, mm = config.schedule.rank_time.partition(":")
    if not (sep and hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise ConfigError(
            f"{source}: 'schedule.rank_time' must be HH:MM, got {config.schedule.rank_time!r}"
        )
    for key, value in (
        ("schedule.window_days", config.schedule.window_days),
        ("sources.arxiv.batch_size", config.sources.arxiv.batch_size),
        ("ranking.max_posts", config.ranking.max_posts),
        ("discord.default_top", config.discord.default_top),
    ):
        if value < 1:
            raise ConfigError(f"{source}: '{key}' must be at least 1, got {value}")
    if config.discord.global_rate <= 0:
        raise ConfigError(f"{source}: 'discord.global_rate' must be positive")


def load(
    path: str | os.PathLike[str] | None = None, env: typing.Mapping[str, str] | None = None
) -> Config:
    """Load settings from path (or $HOTPAPERS_CONFIG); no file at all means the defaults."""
    env = os.environ if env is None else env
    chosen = path if path is not None else env.get(ENV_CONFIG) or None
    data: dict[str, Any] = {}
    source = "defaults"
    if chosen is not None:
        source = str(chosen)
        try:
            with open(chosen, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"{source}: no such config file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read: {exc.strerror}") from None
    built = _build(Config, data, "", source)
    config = dataclasses.replace(
        built, secrets=Secrets.from_env(env), path=None if chosen is None else str(chosen)
    )
    _validate(config, source)
    return config
