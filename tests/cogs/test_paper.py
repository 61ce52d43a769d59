"""/paper: one paper by id or URL, its counts per source and the days it ranked."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.client import UserError
from bot.errors import InvalidArxivId
from cogs.paper import PaperCog
from tests.cogs.helpers import MutableClock, make_bot, make_interaction, make_ranking, sent

NOW = dt.datetime(2021, 8, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def cog(store):
    first = make_ranking(dt.date(2021, 8, 2), 3)
    second = make_ranking(dt.date(2021, 8, 3), 3)
    # The same paper ranks on both days (#3 then #1).
    second.papers[0].paper = first.papers[2].paper
    for post in second.papers[0].posts:
        object.__setattr__(post, "arxiv_id", first.papers[2].paper.arxiv_id)
    store.save_day(first)
    store.save_day(second)
    return PaperCog(make_bot(store, MutableClock(NOW)))


@pytest.mark.parametrize(
    "text",
    [
        "2108.02003",
        "arXiv:2108.02003v2",
        "https://arxiv.org/abs/2108.02003v1",
        "arxiv.org/pdf/2108.02003.pdf",
    ],
)
async def test_paper_by_any_form(cog, text):
    inter = make_interaction()
    await cog.paper.callback(cog, inter, paper=text)
    content, kw = sent(inter)
    assert content == "arXiv:2108.02003 ranked on 2 day(s); best #1 on 2021-08-03."
    fields = {f.name: f.value for f in kw["embeds"][0].fields}
    assert fields["Ranked on 2 day(s)"] == "2021-08-02: #3 (997), 2021-08-03: #1 (999)"
    assert fields["Counts"] == "Hacker News: points: 99"
    assert "Discussion 1" in fields["Top post"]


async def test_bad_and_unknown_ids(cog):
    with pytest.raises(InvalidArxivId, match="not an arXiv id or URL"):
        await cog.paper.callback(cog, make_interaction(), paper="hello @everyone")
    with pytest.raises(UserError, match=r"arXiv:2101.00001 is not in the database"):
        await cog.paper.callback(cog, make_interaction(), paper="2101.00001")
