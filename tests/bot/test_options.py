"""Slash-command option validation: specific errors, never a crash, never a ping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import options
from bot.errors import HotPapersError, InvalidOption, UnknownCategory


def test_time():
    assert options.parse_time("9:05") == "09:05"
    assert options.parse_time(" 23:59 ") == "23:59"
    for bad in ["24:00", "12:60", "noon", "12", "12:5", ""]:
        with pytest.raises(InvalidOption):
            options.parse_time(bad)


def test_timezone():
    assert options.parse_timezone("america/new_york") == "America/New_York"
    with pytest.raises(InvalidOption, match="did you mean America/New_York"):
        options.parse_timezone("America/NewYork")


def test_categories():
    assert options.parse_categories("cs.cv,cs.LG  stat.ml;cs.CV") == ("cs.CV", "cs.LG", "stat.ML")
    with pytest.raises(UnknownCategory, match=r"'cs\.XY' is not an arXiv category"):
        options.parse_categories("cs.CV cs.XY")
    with pytest.raises(InvalidOption, match="at most 20"):
        options.parse_categories("cs.CV " * 21)


def test_top_and_min_score():
    assert options.parse_top(None, 10) == 10
    assert options.parse_top(25, 10) == 25
    with pytest.raises(InvalidOption):
        options.parse_top(26, 10)
    assert options.parse_min_score(None) == 0.0
    with pytest.raises(InvalidOption):
        options.parse_min_score(float("inf"))


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=300) | st.sampled_from(["@everyone", "<@&1234567890123456789>", "**x**"])
)
def test_any_input_gives_a_value_or_a_specific_error(text):
    for parse in (options.parse_time, options.parse_timezone, options.parse_categories):
        try:
            parse(text)
        except HotPapersError as exc:
            message = str(exc)
            assert "@everyone" not in message and "<@&" not in message
            assert len(message) < 1000
