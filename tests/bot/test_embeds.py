"""bot.embeds: Twitter blockquote embeds parsed with an HTML parser."""

from __future__ import annotations

import pytest

from bot.embeds import EmbedError, parse_tweet_embed
from tests.fakes.hot_papers import tweet


def test_parses_author_handle_url_date_and_text():
    html = tweet(
        text='Fish &amp; chips<br>see <a href="https://t.co/a">https://t.co/a</a> '
        '<a href="https://twitter.com/x?ref_src=twsrc%5Etfw">@x</a>',
        author="Jane (she/her) Doe",
        handle="jane_d",
        status="42",
        date="June 29, 2020",
    )
    embed = parse_tweet_embed(html)
    assert embed.author == "Jane (she/her) Doe"
    assert embed.handle == "jane_d"
    assert embed.url == "https://twitter.com/jane_d/status/42"
    assert embed.posted == "June 29, 2020"
    assert embed.text == "Fish & chips\nsee https://t.co/a @x"
    assert embed.lang == "en"


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<p>hello</p>", "no <blockquote>"),
        ('<blockquote class="twitter-tweet"><p>x</p>&mdash; A (@a)</blockquote>', "status link"),
        (
            '<blockquote class="twitter-tweet"><p>x</p> A <a href="https://twitter.com/a/status/1">'
            "d</a></blockquote>",
            "byline",
        ),
        (tweet() + "\n" + tweet(), "two embedded posts"),
    ],
)
def test_broken_embeds(html, message):
    with pytest.raises(EmbedError, match=message):
        parse_tweet_embed(html)
