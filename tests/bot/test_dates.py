import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dates import parse_day
from bot.errors import InvalidDate

TODAY = dt.date(2021, 8, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-08-03", dt.date(2021, 8, 3)),
        (" 2021-8-3 ", dt.date(2021, 8, 3)),
        ("today", TODAY),
        ("Yesterday", dt.date(2021, 8, 3)),
    ],
)
def test_accepted_forms(text, expected):
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2021-02-30", "not a valid date"),
        ("03/08/2021", "did you mean 2021-08-03"),
        ("2021/08/03", "did you mean 2021-08-03"),
        ("tomorrow", "use YYYY-MM-DD"),
        ("2021-08-05", "in the future (today is 2021-08-04)"),
        ("2021 " + "1" * 4400 + " 01", "use YYYY-MM-DD"),  # int() would refuse 4,300+ digits
    ],
)
def test_rejections_say_how_to_fix(text, fragment):
    with pytest.raises(InvalidDate, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_day(text, TODAY)


def test_future_allowed_when_asked():
    assert parse_day("2030-01-01", TODAY, allow_future=True) == dt.date(2030, 1, 1)


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_a_one_line_invalid_date(text):
    try:
        day = parse_day(text, TODAY)
    except InvalidDate as exc:
        assert "\n" not in str(exc)
        assert len(str(exc)) < 200
    else:
        assert day <= TODAY
