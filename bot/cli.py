"""The `hotpapers` command line: run | rank | digest | import | export | show | sync."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from bot import config as config_mod
from bot.config import Config
from bot.dates import Clock, utc_now
from bot.errors import HotPapersError
from bot.store import Store

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace, Config, Clock], int]


def open_store(config: Config) -> Store:
    """The configured database, migrated."""
    return Store.open(config.database_path)


# -- handlers (thin: parse, call the core, print) ---------------------------------------------


def cmd_not_ready(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    print(f"hotpapers {args.command}: not available yet", file=sys.stderr)
    return 2


# Each command's module, imported only when that command runs (`hotpapers run` starts faster
# without the archive parser, and `hotpapers show` without discord.py).
HANDLER_MODULES: dict[str, str] = {
    "rank": "bot.job_cli",
    "digest": "bot.job_cli",
    "import": "bot.archive_cli",
    "export": "bot.archive_cli",
    "show": "bot.archive_cli",
    "run": "bot.bot_cli",
    "sync": "bot.bot_cli",
    "subscribe": "bot.subscribe_cli",
    "unsubscribe": "bot.subscribe_cli",
    "subscriptions": "bot.subscribe_cli",
}


def _handler(name: str) -> Handler:
    module = HANDLER_MODULES.get(name)
    if module is None:
        return cmd_not_ready
    return importlib.import_module(module).HANDLERS[name]


# -- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every subcommand has --help."""
    parser = argparse.ArgumentParser(
        prog="hotpapers",
        description="Rank the arXiv papers people are talking about; post them to Discord.",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"TOML settings file (default: ${config_mod.ENV_CONFIG}, else built-in defaults)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser(
        "run",
        help="run the Discord bot (daily job, scheduled posts, slash commands)",
        description=(
            "Run the Discord bot (needs HOTPAPERS_DISCORD_TOKEN). Without a token but with "
            "webhook subscriptions, run the daily job and post those through their webhooks."
        ),
    )

    p = sub.add_parser(
        "rank",
        help="run the ranking job for a day once and print the ranking",
        description="Collect candidates and signals for DATE, rank them, store and print.",
    )
    p.add_argument("date", nargs="?", help="YYYY-MM-DD, today or yesterday (default: yesterday)")

    p = sub.add_parser(
        "digest",
        help="print a day's digest (ranking it first if needed), or post it to a webhook",
        description="Print the digest of DATE in the terminal, ranking the day first if needed.",
    )
    p.add_argument("date", nargs="?", help="YYYY-MM-DD, today or yesterday (default: yesterday)")
    p.add_argument("--category", help="only papers in this arXiv category, e.g. cs.CV")
    p.add_argument("--top", type=int, help="at most this many papers")
    p.add_argument("--webhook", metavar="URL", help="post the digest to this Discord webhook")

    p = sub.add_parser(
        "import",
        help="import Hot Papers markdown posts (files or folders)",
        description=(
            "Import Hot Papers markdown posts. Idempotent; broken files are reported and skipped."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="a .md file or a folder of them")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, only the summary")

    p = sub.add_parser(
        "export",
        help="write a stored day as markdown, json or atom",
        description="Write a stored day to standard output (or --output).",
    )
    p.add_argument("date", help="YYYY-MM-DD, today or yesterday")
    p.add_argument("--format", choices=["markdown", "json", "atom"], default="markdown")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    p = sub.add_parser(
        "show",
        help="show a stored day's ranking in the terminal",
        description="Show a stored day's ranking: rank, title, counts, categories, link.",
    )
    p.add_argument(
        "date", nargs="?", help="YYYY-MM-DD, today or yesterday (default: latest stored)"
    )
    p.add_argument("--category", help="only papers in this arXiv category, e.g. cs.CV")
    p.add_argument("--top", type=int, help="at most this many papers")

    p = sub.add_parser(
        "subscribe",
        help="post a daily digest through a Discord webhook (no bot needed)",
        description=(
            "Subscribe a Discord webhook to the daily digest; `hotpapers run` posts it, with or "
            "without a bot token. Running it again for the same webhook changes the settings."
        ),
    )
    p.add_argument("--webhook", metavar="URL", required=True, help="the Discord webhook URL")
    p.add_argument(
        "--categories", required=True, help="arXiv categories, comma-separated, e.g. cs.CV,cs.LG"
    )
    p.add_argument("--time", default="09:00", help="local posting time, HH:MM (default 09:00)")
    p.add_argument("--timezone", default="UTC", help="IANA time zone name (default UTC)")
    p.add_argument("--top", type=int, help="papers per digest (default: discord.default_top)")
    p.add_argument("--min-score", type=float, help="leave out papers scoring less")

    p = sub.add_parser(
        "unsubscribe",
        help="stop a webhook's daily digest",
        description="Remove a webhook subscription (its pending posts are dropped).",
    )
    p.add_argument("--webhook", metavar="URL", required=True, help="the Discord webhook URL")

    sub.add_parser(
        "subscriptions",
        help="list every subscription (channels and webhooks), next post time and state",
        description="List every subscription: where, categories, time, next post, state.",
    )

    p = sub.add_parser(
        "sync",
        help="sync slash commands with Discord (globally, or to one guild)",
        description="Register the slash commands. Global sync can take up to an hour to show.",
    )
    p.add_argument("--guild", type=int, help="sync only to this guild (instant)")
    return parser


def main(argv: Sequence[str] | None = None, clock: Clock = utc_now) -> int:
    """Entry point of the `hotpapers` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # The bot is a service: it logs its work. One-shot commands print their own progress,
    # so their logs show only warnings unless -v asks for everything.
    quiet_level = logging.INFO if args.command == "run" else logging.WARNING
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else quiet_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = config_mod.load(args.config)
        return _handler(args.command)(args, config, clock)
    except HotPapersError as exc:
        print(f"hotpapers {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
