from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bot.models import Paper, Post, Signal
from bot.ranking import (
    best_posts,
    engagement,
    explain,
    for_category,
    merge_signals,
    rank,
)

DAY = dt.date(2021, 8, 3)
NOW = dt.datetime(2021, 8, 4, 9, 0, tzinfo=dt.UTC)
UNIT = {"twitter": 1.0, "x": 1.0, "bluesky": 1.0, "mastodon": 1.0}
WEIGHTS = {**UNIT, "huggingface": 5.0, "hackernews": 2.0}


def paper(arxiv_id: str, *cats: str) -> Paper:
    return Paper(arxiv_id=arxiv_id, title=f"Paper {arxiv_id}", categories=cats or ("cs.LG",))


def post(arxiv_id: str, url: str, likes: int, reposts: int = 0, source: str = "x") -> Post:
    return Post(source=source, url=url, arxiv_id=arxiv_id, likes=likes, reposts=reposts)


def run(papers, signals, posts=(), weights=WEIGHTS, min_score=0.0, max_posts=10, failed=()):
    return rank(
        DAY,
        {p.arxiv_id: p for p in papers},
        list(signals),
        list(posts),
        weights,
        min_score,
        max_posts,
        NOW,
        failed,
    )


def test_engagement_per_source():
    assert engagement("twitter", {"retweets": 6396, "favorites": 301}) == 6697
    assert engagement("x", {"retweets": 3, "likes": 4, "quotes": 100}) == 7
    assert engagement("bluesky", {"reposts": 2, "likes": 5, "replies": 9}) == 7
    assert engagement("mastodon", {"shares": 3, "accounts": 2}) == 3
    assert engagement("huggingface", {"upvotes": 21, "comments": 4}) == 21
    assert engagement("hackernews", {"points": 13, "comments": 50}) == 13
    # a post source reporting other spellings still counts its reposts + likes
    assert engagement("mastodon", {"reposts": 1, "likes": 2}) == 3
    # Mastodon trending links: times shared in the window (accounts is not added on top)
    assert engagement("mastodon", {"shares": 22, "accounts": 18}) == 22
    assert engagement("mastodon", {"reblogs": 1, "favourites": 2}) == 3
    assert engagement("newsource", {"likes": 2, "points": 1}) == 3


def test_weighted_sum_and_contributions():
    papers = [paper("2108.00001"), paper("2108.00002")]
    signals = [
        Signal("2108.00001", "huggingface", {"upvotes": 10, "comments": 3}),  # 50
        Signal("2108.00001", "hackernews", {"points": 5}),  # 10
        Signal("2108.00002", "x", {"retweets": 40, "likes": 30}),  # 70
    ]
    ranking = run(papers, signals)
    assert [(rp.rank, rp.paper.arxiv_id, rp.score) for rp in ranking.papers] == [
        (1, "2108.00002", 70.0),
        (2, "2108.00001", 60.0),
    ]
    first = ranking.papers[1]
    assert first.signals == {
        "hackernews": {"points": 5},
        "huggingface": {"upvotes": 10, "comments": 3},
    }
    assert first.extra["contributions"] == {"hackernews": 10.0, "huggingface": 50.0}
    assert not ranking.partial and ranking.failed_sources == ()
    # changing a weight changes the order
    reweighted = run(papers, signals, weights={**WEIGHTS, "huggingface": 10.0})
    assert reweighted.papers[0].paper.arxiv_id == "2108.00001"
    assert reweighted.papers[0].score == 110.0


def test_unweighted_source_counts_once():
    ranking = run([paper("2108.00001")], [Signal("2108.00001", "reddit", {"upvotes": 7})])
    assert ranking.papers[0].score == 7.0


def test_min_score_and_zero_scores_left_out():
    papers = [paper("2108.00001"), paper("2108.00002"), paper("2108.00003")]
    signals = [
        Signal("2108.00001", "x", {"retweets": 30, "likes": 20}),
        Signal("2108.00002", "x", {"retweets": 30, "likes": 19}),
        Signal("2108.00003", "x", {"retweets": 0, "likes": 0}),
    ]
    assert [rp.paper.arxiv_id for rp in run(papers, signals).papers] == [
        "2108.00001",
        "2108.00002",
    ]
    kept = run(papers, signals, min_score=50).papers
    assert [(rp.rank, rp.paper.arxiv_id) for rp in kept] == [(1, "2108.00001")]


def test_signals_without_metadata_are_ignored():
    ranking = run([paper("2108.00001")], [Signal("2108.99999", "x", {"likes": 100})])
    assert ranking.papers == []


def test_ties_broken_by_raw_engagement_then_id():
    papers = [paper("2108.00003"), paper("2108.00002"), paper("2108.00001")]
    signals = [
        Signal("2108.00003", "huggingface", {"upvotes": 2}),  # 10, raw 2
        Signal("2108.00002", "x", {"likes": 10}),  # 10, raw 10
        Signal("2108.00001", "huggingface", {"upvotes": 2}),  # 10, raw 2
    ]
    order = [rp.paper.arxiv_id for rp in run(papers, signals).papers]
    assert order == ["2108.00002", "2108.00001", "2108.00003"]


@given(st.permutations(list(range(6))))
def test_order_independent_of_input_order(perm):
    ids = [f"2108.0000{i}" for i in range(6)]
    signals = [Signal(ids[i], "x", {"likes": i % 3 + 1}) for i in range(6)]
    base = [rp.paper.arxiv_id for rp in run([paper(i) for i in ids], signals).papers]
    shuffled = [signals[i] for i in perm]
    papers = [paper(ids[i]) for i in reversed(perm)]
    assert [rp.paper.arxiv_id for rp in run(papers, shuffled).papers] == base


def test_several_signals_of_one_source_add_up():
    merged = merge_signals(
        [
            Signal("2108.00001", "hackernews", {"points": 5, "comments": 1}),
            Signal("2108.00001", "hackernews", {"points": 7}),
        ]
    )
    assert merged == {"2108.00001": {"hackernews": {"points": 12, "comments": 1}}}


def test_best_posts_by_engagement_capped_and_deduplicated():
    posts = [
        post("2108.00001", "https://x.com/a/status/1", likes=5),
        post("2108.00001", "https://x.com/a/status/2", likes=50, reposts=10),
        post("2108.00001", "https://x.com/a/status/3", likes=7),
        post("2108.00001", "https://x.com/a/status/2", likes=3),  # same post, older counts
        post("2108.00001", "https://bsky.app/p/1", likes=7, source="bluesky"),
    ]
    top = best_posts(posts, 3)
    assert [p.url for p in top] == [
        "https://x.com/a/status/2",
        "https://bsky.app/p/1",
        "https://x.com/a/status/3",
    ]
    assert top[0].engagement == 60
    assert best_posts(posts, 0) == []


def test_ranking_keeps_best_posts_per_paper():
    posts = [post("2108.00001", f"https://x.com/u/status/{i}", likes=i) for i in range(15)]
    posts.append(post("2108.00002", "https://x.com/v/status/1", likes=1))
    ranking = run(
        [paper("2108.00001"), paper("2108.00002")],
        [Signal("2108.00001", "x", {"likes": 105}), Signal("2108.00002", "x", {"likes": 1})],
        posts,
        max_posts=10,
    )
    first = ranking.papers[0]
    assert len(first.posts) == 10
    assert first.posts[0].url == "https://x.com/u/status/14"
    assert all(p.arxiv_id == "2108.00001" for p in first.posts)
    assert [p.url for p in ranking.papers[1].posts] == ["https://x.com/v/status/1"]


def test_partial_when_sources_failed():
    ranking = run(
        [paper("2108.00001")],
        [Signal("2108.00001", "x", {"likes": 1})],
        failed=["huggingface", "hackernews", "huggingface"],
    )
    assert ranking.partial
    assert ranking.failed_sources == ("hackernews", "huggingface")


def test_category_view_keeps_global_ranks():
    papers = [
        paper("2108.00001", "cs.CV", "cs.LG"),
        paper("2108.00002", "cs.CL"),
        paper("2108.00003", "cs.LG"),
    ]
    signals = [
        Signal("2108.00001", "x", {"likes": 30}),
        Signal("2108.00002", "x", {"likes": 20}),
        Signal("2108.00003", "x", {"likes": 10}),
    ]
    ranking = run(papers, signals)
    lg = for_category(ranking, "cs.LG")
    assert lg.category == "cs.LG"
    assert [(rp.rank, rp.paper.arxiv_id) for rp in lg.papers] == [
        (1, "2108.00001"),
        (3, "2108.00003"),
    ]
    assert [rp.paper.arxiv_id for rp in for_category(ranking, "cs.CV").papers] == ["2108.00001"]
    assert for_category(ranking, "math.GT").papers == []
    assert len(ranking.papers) == 3  # the full ranking is untouched


def test_explain_twitter_like_the_original():
    ranking = run(
        [paper("2108.00946")],
        [Signal("2108.00946", "twitter", {"retweets": 6396, "favorites": 301})],
    )
    assert (
        explain(ranking.papers[0], WEIGHTS)
        == "score 6697 = twitter 6697 (retweets 6396 + favorites 301)"
    )


def test_explain_weighted_sources_biggest_first():
    ranking = run(
        [paper("2108.00001")],
        [
            Signal("2108.00001", "hackernews", {"points": 13, "comments": 40}),
            Signal("2108.00001", "huggingface", {"upvotes": 21}),
            Signal("2108.00001", "bluesky", {"reposts": 2, "likes": 9}),
        ],
    )
    assert explain(ranking.papers[0], WEIGHTS) == (
        "score 142 = huggingface 5×21 (upvotes 21) + hackernews 2×13 (points 13)"
        " + bluesky 11 (reposts 2 + likes 9)"
    )
