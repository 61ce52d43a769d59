"""bot.archive: parsing hand-made and real Hot Papers posts, rendering them back byte for byte."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.archive import (
    decode,
    parse_post,
    read_post,
    render_markdown,
    repair_mojibake,
    shown,
)
from bot.errors import ArchiveParseError
from tests.fakes.hot_papers import front_matter, paper, post, tweet


def test_parses_every_field_of_a_hand_made_post():
    text = post(
        paper(
            title="StyleGAN-NADA: CLIP-Guided  Domain Adaptation",
            authors="Rinon Gal, Thimothée Lesort",
            retweets=6396,
            favorites=301,
            abstract="Can a generative model be trained?",
            tweets=(tweet(), tweet(author="AK", handle="ak92501", status="1")),
        ),
        paper(rank=2, arxiv_id="2108.01005", categories=("quant-ph",), tweets=()),
    )
    day = parse_post(text, "x.md")
    assert day.day == dt.date(2021, 8, 3)
    assert day.generated_at == dt.datetime(2021, 8, 4, 9, 49, tzinfo=dt.UTC)
    assert day.origin == "archive"
    first, second = day.papers
    assert first.rank == 1 and second.rank == 2
    p = first.paper
    assert p.arxiv_id == "2108.00946"
    assert p.title == "StyleGAN-NADA: CLIP-Guided  Domain Adaptation"  # spacing kept
    assert p.authors == ("Rinon Gal", "Thimothée Lesort")
    assert p.categories == ("cs.CV", "cs.LG") and p.primary_category == "cs.CV"
    assert p.abs_url == "https://arxiv.org/abs/2108.00946"
    assert p.pdf_url == "https://arxiv.org/pdf/2108.00946"
    assert p.abstract == "Can a generative model be trained?"
    assert first.signals == {"twitter": {"retweets": 6396, "favorites": 301}}
    assert first.score == 6697
    assert first.extra == {"counted_at": "2021-08-04T09:49:00+00:00"}
    ada, ak = first.posts
    assert ada.source == "twitter"
    assert ada.author == "Ada Lovelace" and ada.handle == "ada"
    assert ada.url == "https://twitter.com/ada/status/1422383627384594434"
    assert ada.posted == "August 3, 2021"
    assert ada.text == "Our new paper\npdf: https://t.co/x"
    assert ada.html == tweet()
    assert ak.handle == "ak92501"
    assert second.posts == [] and second.paper.categories == ("quant-ph",)
    assert render_markdown(day) == text
    assert "source" not in day.extra


def test_empty_day_is_valid():
    text = post()
    day = parse_post(text)
    assert day.papers == []
    assert render_markdown(day) == text


def test_empty_abstract_and_no_posts_round_trip():
    text = post(paper(abstract="", tweets=()), paper(rank=2, arxiv_id="2108.00001", abstract=""))
    day = parse_post(text)
    assert [rp.paper.abstract for rp in day.papers] == ["", ""]
    assert render_markdown(day) == text


def test_markdown_lookalikes_in_the_abstract_are_kept_verbatim():
    abstract = "1. We *propose* <b>x</b> and # not a heading"
    day = parse_post(post(paper(abstract=abstract)))
    assert day.papers[0].paper.abstract == abstract


def test_extra_leading_blank_line_is_a_format_detail():
    text = front_matter() + "\n\n" + paper()
    day = parse_post(text)
    assert day.extra == {"lead_blank_lines": 2}
    assert render_markdown(day) == text


def test_non_standard_front_matter_is_kept():
    text = post(paper()).replace('socialImage: "/media/flying-marine.jpg"', "socialImage: x")
    day = parse_post(text)
    assert "front_matter" in day.extra
    assert render_markdown(day) == text


def test_unmodelled_layout_falls_back_to_the_exact_text():
    text = post(paper(abstract="We do things.")).replace("We do things.\n\n", "We do things.\n\n\n")
    day = parse_post(text)
    assert day.extra["source"] == text
    assert render_markdown(day) == text


# -- broken files ------------------------------------------------------------------------------


def _error(text: str) -> ArchiveParseError:
    with pytest.raises(ArchiveParseError) as info:
        parse_post(text, "broken.md")
    assert info.value.path == "broken.md"
    return info.value


def test_no_front_matter():
    err = _error("# 1. A Paper\n\nSomeone\n")
    assert err.line == 1 and "front matter" in err.reason


def test_front_matter_not_closed():
    err = _error(front_matter()[:-4])
    assert "not closed" in err.reason


def test_title_without_a_day():
    err = _error(post(paper()).replace("title: Hot Papers 2021-08-03", "title: Hello"))
    assert err.line == 2 and "Hot Papers YYYY-MM-DD" in err.reason


def test_truncated_in_the_middle_of_a_line():
    text = post(paper(tweets=(tweet(),)))
    err = _error(text[: len(text) // 2 + 7])
    assert err.line > 15


def test_truncated_at_a_line_boundary():
    text = post(paper(), paper(rank=2, arxiv_id="2108.00001", tweets=(tweet(),)))
    cut = text[: text.rindex("<blockquote")]
    err = _error(cut)
    assert "truncated" in err.reason


def test_truncated_inside_an_embedded_post():
    text = post(paper(tweets=(tweet(),)))
    cut = text[: text.index("&mdash;")] + "\n\n\n\n"
    err = _error(cut)
    assert "paper 1" in err.reason and "status link" in err.reason


@pytest.mark.parametrize(
    ("remove", "reason"),
    [
        ("Ada Lovelace, Charles Babbage\n\n", "missing the authors line"),
        ("- retweets: 10, favorites: 5 (08/04/2021 09:49:00)\n\n", "missing the '- retweets"),
        (
            "- links: [abs](https://arxiv.org/abs/2108.00946) | [pdf](https://arxiv.org/pdf/2108.00946)\n",
            "missing the '- links",
        ),
        (
            "- [cs.CV](https://arxiv.org/list/cs.CV/recent) | [cs.LG](https://arxiv.org/list/cs.LG/recent)\n",
            "missing the categories line",
        ),
    ],
)
def test_paper_block_with_a_missing_field(remove, reason):
    text = post(paper(), paper(rank=2, arxiv_id="2108.00001"))
    broken = text.replace(remove, "", 1)
    err = _error(broken)
    assert reason in err.reason
    assert "paper 1" in err.reason
    assert 17 <= err.line <= 24  # within the first paper's block


def test_malformed_counts_and_links():
    assert "malformed retweets" in _error(post(paper()).replace("favorites: 5", "favs: 5")).reason
    bad_link = post(paper()).replace("https://arxiv.org/abs/2108.00946", "https://example.com/x")
    assert "not an arXiv URL" in _error(bad_link).reason


def test_heading_without_rank():
    err = _error(post(paper()).replace("# 1. A Paper", "# A Paper"))
    assert "'# N. Title'" in err.reason and err.line == 18


def test_text_before_the_first_paper():
    err = _error(front_matter() + "\nHello\n\n" + paper())
    assert "before the first paper" in err.reason and err.line == 18


def test_duplicate_paper_in_one_day():
    err = _error(post(paper(), paper(rank=2)))
    assert "listed twice" in err.reason


def test_binary_and_non_utf8_files():
    with pytest.raises(ArchiveParseError) as info:
        decode(b"---\ntitle: x\n\x00\x01\x02", "b.md")
    assert info.value.line == 3 and "binary" in info.value.reason
    with pytest.raises(ArchiveParseError) as info:
        decode(b"---\n" + b"caf\xe9\n", "c.md")
    assert info.value.line == 2 and "UTF-8" in info.value.reason


def test_read_post_unreadable_path(tmp_path: Path):
    with pytest.raises(ArchiveParseError, match="cannot read"):
        read_post(tmp_path / "missing.md")


# -- mojibake ----------------------------------------------------------------------------------


def test_repair_mac_roman_mojibake():
    damaged = "Thimoth√©e, Nicol√≤, 224 √ó 224, Thread ‚Üì, it‚Äôs"
    fixed, count = repair_mojibake(damaged)
    assert fixed == "Thimothée, Nicolò, 224 × 224, Thread ↓, it’s"
    assert count == 5


def test_repair_leaves_clean_text_alone():
    clean = "O(N√N) in BigBird; Thimothée; 224 × 224; “École” ¬ß"
    assert repair_mojibake("O(N√N) in BigBird; Thimothée")[1] == 0
    assert repair_mojibake(clean)[0].startswith("O(N√N) in BigBird; Thimothée; 224 × 224")


def test_seed_file_is_repaired_to_the_clean_archive_version(seed_dir: Path, archive_dir: Path):
    day, repaired = read_post(seed_dir / "hot-papers-2021-08-03.md")
    assert repaired == 4
    authors = {a for rp in day.papers for a in rp.paper.authors}
    assert "Thimothée Lesort" in authors and "Nicolò Cavalleri" in authors
    texts = " ".join(p.text for rp in day.papers for p in rp.posts)
    assert "224 × 224" in texts and "Thread ↓" in texts
    clean = (archive_dir / "2021-08-03---Hot-Papers.md").read_bytes()
    assert render_markdown(day).encode("utf-8") == clean


# -- the real archive --------------------------------------------------------------------------


def test_every_archive_day_round_trips_byte_for_byte(archive_dir: Path):
    files = sorted(archive_dir.glob("*.md"))
    assert len(files) == 294
    papers = posts = 0
    for path in files:
        day, repaired = read_post(path)
        assert repaired == 0, path
        assert "source" not in day.extra, f"{path}: layout not modelled"
        assert render_markdown(day).encode("utf-8") == path.read_bytes(), path
        papers += len(day.papers)
        posts += sum(len(rp.posts) for rp in day.papers)
    assert (papers, posts) == (3347, 3740)


def test_2020_12_07_is_an_empty_day(archive_dir: Path):
    day, _ = read_post(archive_dir / "2020-12-07---Hot-Papers.md")
    assert day.day == dt.date(2020, 12, 7) and day.papers == []


def test_shown_applies_per_day_snapshots():
    day = parse_post(post(paper(tweets=(tweet(),))))
    rp = day.papers[0]
    rp.extra["shown"] = {"categories": ["cs.AI"], "title": "Old"}
    rp.extra["post_html"] = {rp.posts[0].url: "<blockquote>old</blockquote>"}
    view = shown(day).papers[0]
    assert view.paper.categories == ("cs.AI",) and view.paper.primary_category == "cs.AI"
    assert view.paper.title == "Old"
    assert view.posts[0].html == "<blockquote>old</blockquote>"
    assert "shown" not in view.extra and view.extra["counted_at"]
