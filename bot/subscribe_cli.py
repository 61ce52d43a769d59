"""`hotpapers subscribe | unsubscribe | subscriptions`: webhook subscriptions from the terminal.

A webhook subscription needs no bot: `hotpapers run` posts it through the webhook, with or
without a bot token. Its key in the subscriptions table is the webhook's id (a snowflake, like a
channel id). The webhook's token is a secret: it is stored, never printed.
"""

from __future__ import annotations

import argparse
import sys

from bot import options, posting
from bot.config import Config
from bot.dates import Clock
from bot.models import Subscription
from bot.store import Store


def _describe(sub: Subscription, clock: Clock) -> str:
    where = f"webhook {sub.channel_id}" if sub.webhook_url else f"channel {sub.channel_id}"
    cats = ", ".join(sub.categories) or "all categories"
    line = f"{where}: {cats}, top {sub.top}, {sub.post_time} {sub.timezone}"
    if sub.min_score:
        line += f", min score {sub.min_score:g}"
    if sub.state == "active":
        return f"{line}; next post {posting.next_post_time(sub, clock()).isoformat()}"
    return f"{line}; {sub.state.upper()}: {sub.paused_reason or 'no reason recorded'}"


def cmd_subscribe(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """Create or change a webhook's subscription."""
    webhook_id, url = options.parse_webhook_url(args.webhook)
    sub = Subscription(
        id=None,
        guild_id=None,
        channel_id=webhook_id,
        categories=options.parse_categories(args.categories),
        post_time=options.parse_time(args.time),
        timezone=options.parse_timezone(args.timezone),
        top=options.parse_top(args.top, config.discord.default_top) or config.discord.default_top,
        min_score=options.parse_min_score(args.min_score),
        webhook_url=url,
    )
    with Store.open(config.database_path) as store:
        previous = store.subscription_for_channel(webhook_id)
        if previous is not None and not previous.webhook_url:
            print(
                f"hotpapers subscribe: {webhook_id} is a channel subscribed through the bot; "
                "change it with /subscribe in Discord",
                file=sys.stderr,
            )
            return 1
        saved = store.save_subscription(sub, clock())
    verb = "updated" if previous else "subscribed"
    print(f"{verb} {_describe(saved, clock)}")
    print("`hotpapers run` posts it (no bot token needed for webhooks).")
    return 0


def cmd_unsubscribe(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """Remove a webhook's subscription."""
    webhook_id, _ = options.parse_webhook_url(args.webhook)
    with Store.open(config.database_path) as store:
        sub = store.subscription_for_channel(webhook_id)
        if sub is None or not sub.webhook_url:
            print(
                f"hotpapers unsubscribe: webhook {webhook_id} has no subscription", file=sys.stderr
            )
            return 1
        store.delete_subscription(webhook_id)
    print(f"unsubscribed webhook {webhook_id}")
    return 0


def cmd_subscriptions(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """List every subscription."""
    with Store.open(config.database_path) as store:
        subs = store.subscriptions()
    if not subs:
        print("no subscriptions (use /subscribe in Discord, or hotpapers subscribe --webhook)")
        return 0
    for sub in subs:
        print(_describe(sub, clock))
    return 0


HANDLERS = {
    "subscribe": cmd_subscribe,
    "unsubscribe": cmd_unsubscribe,
    "subscriptions": cmd_subscriptions,
}
