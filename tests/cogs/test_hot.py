"""/hot: stored days, categories, paging, and every bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.client import UserError
from bot.errors import UnknownCategory
from cogs.hot import Hot, HotPager, category_choices
from tests.cogs.helpers import (
    OTHER_USER,
    MutableClock,
    make_bot,
    make_interaction,
    make_ranking,
    sent,
)

D1 = dt.date(2021, 8, 2)
D2 = dt.date(2021, 8, 3)
NOW = dt.datetime(2021, 8, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def cog(store):
    store.save_day(make_ranking(D1, 3))
    store.save_day(make_ranking(D2, 12))
    return Hot(make_bot(store, MutableClock(NOW)))


async def run(cog, inter, **kw):
    await cog.hot.callback(cog, inter, **kw)


async def test_default_is_latest_day_paginated(cog):
    inter = make_interaction()
    await run(cog, inter)
    content, kw = sent(inter)
    assert content == "**Hot Papers 2021-08-03** · 12 papers · page 1/3"
    assert [e.title.split(" · ")[0] for e in kw["embeds"]] == ["#1", "#2", "#3", "#4", "#5"]
    assert isinstance(kw["view"], HotPager)
    assert kw["view"].previous.disabled and not kw["view"].next.disabled


async def test_default_skips_a_later_day_that_ranked_nothing(cog):
    empty = cog.bot.store.load_day(dt.date(2021, 8, 3))
    empty.day, empty.papers = dt.date(2021, 8, 4), []
    cog.bot.store.save_day(empty)
    inter = make_interaction()
    await run(cog, inter)
    assert sent(inter)[0].startswith("**Hot Papers 2021-08-03** · 12 papers")


async def test_date_and_category_keep_overall_ranks(cog):
    inter = make_interaction()
    await run(cog, inter, date="2021-08-03", category="cs.cl", top=3)
    content, kw = sent(inter)
    assert content == "**Hot Papers 2021-08-03** · cs.CL · 3 papers · page 1/1"
    assert [e.title.split(" · ")[0] for e in kw["embeds"]] == ["#2", "#4", "#6"]
    assert "view" not in kw  # one page: no buttons


async def test_yesterday_and_today(cog):
    inter = make_interaction()
    await run(cog, inter, date="yesterday")
    assert sent(inter)[0].startswith("**Hot Papers 2021-08-03**")
    with pytest.raises(UserError, match=r"No ranking is stored for 2021-08-04.*Latest: 2021-08-03"):
        await run(cog, make_interaction(), date="today")


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2021-08-09", r"in the future \(today is 2021-08-04\).*Latest: 2021-08-03"),
        ("03/08/2021", r"did you mean 2021-08-03\?.*Latest: 2021-08-03"),
        ("2021-02-30", r"not a valid date"),
        ("2021-08-01", r"No ranking is stored for 2021-08-01. Nearest stored days: 2021-08-02"),
        ("@everyone", r"is not a date"),
    ],
)
async def test_bad_dates_say_what_is_available(cog, date, expected):
    inter = make_interaction()
    with pytest.raises(UserError, match=expected):
        await run(cog, inter, date=date)
    inter.response.send_message.assert_not_awaited()


async def test_unknown_and_empty_category(cog):
    with pytest.raises(
        UnknownCategory, match=r"'cs\.CVV' is not an arXiv category \(did you mean cs\.CV\?\)"
    ):
        await run(cog, make_interaction(), category="cs.CVV")
    with pytest.raises(UserError, match=r"No paper in math.AG ranked on 2021-08-03.*cs.CL, cs.CV"):
        await run(cog, make_interaction(), category="math.AG")


async def test_no_day_ranked_yet(tmp_path):
    from bot.store import Store

    empty = Store.open(tmp_path / "e.db")
    cog = Hot(make_bot(empty, MutableClock(NOW)))
    with pytest.raises(UserError, match="No day has been ranked yet"):
        await run(cog, make_interaction())


async def test_top_out_of_range_is_refused(cog):
    from bot.errors import InvalidOption

    with pytest.raises(InvalidOption, match="between 1 and 100"):
        await run(cog, make_interaction(), top=0)


async def test_paging_only_by_the_caller(cog):
    inter = make_interaction()
    await run(cog, inter)
    view: HotPager = sent(inter)[1]["view"]
    stranger = make_interaction(user_id=OTHER_USER)
    assert await view.interaction_check(stranger) is False
    assert "Only the person who ran this /hot" in sent(stranger)[0]
    me = make_interaction()
    assert await view.interaction_check(me) is True
    await view.next.callback(me)
    kw = me.response.edit_message.await_args.kwargs
    assert kw["content"].endswith("page 2/3")
    assert [e.title.split(" · ")[0] for e in kw["embeds"]] == ["#6", "#7", "#8", "#9", "#10"]
    for _ in range(3):
        await view.next.callback(make_interaction())
    assert view.index == 2 and view.next.disabled and not view.previous.disabled
    await view.previous.callback(make_interaction())
    assert view.index == 1


def test_category_autocomplete_is_capped():
    choices = category_choices("")
    assert 0 < len(choices) <= 25
    assert all(len(c.name) <= 100 for c in choices)
    assert category_choices("cs.c")[0].value.startswith("cs.C")
    assert len(category_choices("x" * 5000)) <= 25
