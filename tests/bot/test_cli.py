"""The import / export / show commands through bot.cli.main, on a temporary database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.hot_papers import paper, post, tweet


@pytest.fixture
def db(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("HOTPAPERS_DATABASE", str(path))
    monkeypatch.delenv("HOTPAPERS_CONFIG", raising=False)
    return path


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "2021-08-03.md").write_text(
        post(
            paper(title="StyleGAN-NADA", retweets=6396, favorites=301, tweets=(tweet(),)),
            paper(rank=2, arxiv_id="2108.01005", title="Sequoia", categories=("cs.LG",)),
            paper(rank=3, arxiv_id="2108.01039", title="Quantum ML", categories=("quant-ph",)),
        )
    )
    (folder / "2021-08-05.md").write_text(post(paper(title="Later"), day="2021-08-05"))
    return folder


def test_import_reports_progress_and_summary(db, posts, capsys, clock):
    assert main(["import", str(posts)], clock=clock) == 0
    out, err = capsys.readouterr()
    assert "[1/2] 2021-08-03 ... 3 papers, imported" in err
    assert "[2/2] 2021-08-05 ... 1 papers, imported" in err
    assert "imported 2 days (2 new or changed, 0 already stored): 4 ranked papers, " in out
    assert main(["import", "-q", str(posts)], clock=clock) == 0
    out, err = capsys.readouterr()
    assert "(0 new or changed, 2 already stored)" in out and "[1/2]" not in err


def test_import_with_a_broken_file_exits_non_zero_but_imports_the_rest(db, posts, capsys, clock):
    (posts / "2021-08-04.md").write_text(
        post(paper(), day="2021-08-04").replace("- links", "- lnks")
    )
    assert main(["import", str(posts)], clock=clock) == 1
    out, _ = capsys.readouterr()
    assert "imported 2 days" in out
    assert "skipped 1 file(s):" in out
    assert "2021-08-04.md:24: paper 1: unexpected list item" in out


def test_export_markdown_is_byte_identical(db, posts, tmp_path, capsysbinary, clock):
    main(["import", "-q", str(posts)], clock=clock)
    capsysbinary.readouterr()
    assert main(["export", "2021-08-03"], clock=clock) == 0
    assert capsysbinary.readouterr().out == (posts / "2021-08-03.md").read_bytes()
    target = tmp_path / "out.md"
    assert (
        main(["export", "2021-08-03", "--format", "markdown", "-o", str(target)], clock=clock) == 0
    )
    assert target.read_bytes() == (posts / "2021-08-03.md").read_bytes()


def test_export_json_and_atom(db, posts, capsys, clock):
    main(["import", "-q", str(posts)], clock=clock)
    capsys.readouterr()
    assert main(["export", "2021-08-03", "--format", "json"], clock=clock) == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["title"] for p in data["papers"]] == ["StyleGAN-NADA", "Sequoia", "Quantum ML"]
    assert main(["export", "yesterday", "--format", "atom"], clock=clock) == 0  # 2021-08-03
    assert "<feed" in capsys.readouterr().out


def test_export_of_a_day_not_stored_names_the_nearest(db, posts, capsys, clock):
    main(["import", "-q", str(posts)], clock=clock)
    capsys.readouterr()
    assert main(["export", "2021-08-04"], clock=clock) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "hotpapers export: nothing stored for 2021-08-04; nearest stored days: "
        "2021-08-03, 2021-08-05"
    )


def test_show_latest_day_by_default(db, posts, capsys, clock):
    main(["import", "-q", str(posts)], clock=clock)
    capsys.readouterr()
    assert main(["show"], clock=clock) == 0
    out = capsys.readouterr().out
    assert out.startswith("Hot Papers 2021-08-05: 1 of 1 papers")
    assert "Later" in out


def test_show_filters_by_category_and_top(db, posts, capsys, clock):
    main(["import", "-q", str(posts)], clock=clock)
    capsys.readouterr()
    assert main(["show", "2021-08-03", "--category", "cs.lg", "--top", "1"], clock=clock) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Hot Papers 2021-08-03 in cs.LG: 1 of 3 papers"
    assert out[1].split() == ["#", "score", "counts", "title", "categories", "link"]
    row = out[2]
    assert row.split()[:2] == ["1", "6697"]
    assert "6396 rt 301 fav" in row and "StyleGAN-NADA" in row
    assert row.endswith("https://arxiv.org/abs/2108.00946")
    assert len(out) == 3
    assert main(["show", "2021-08-03", "--category", "math.AG"], clock=clock) == 0
    assert "(no paper of this day matches)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "2021-08-03", "--category", "cs.CVV"], "did you mean cs.CV?"),
        (["show", "yesterdy"], "did you mean yesterday?"),
        (["show", "03/08/2021"], "did you mean 2021-08-03?"),
        (["show", "2021-08-04"], "nearest stored days: 2021-08-03, 2021-08-05"),
        (["export", "2021-13-01"], "not a valid date"),
    ],
)
def test_errors_are_one_line_with_a_suggestion(db, posts, capsys, clock, argv, message):
    main(["import", "-q", str(posts)], clock=clock)
    capsys.readouterr()
    assert main(argv, clock=clock) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_show_on_an_empty_database(db, capsys, clock):
    assert main(["show"], clock=clock) == 1
    assert "nothing stored yet" in capsys.readouterr().err
    assert main(["show", "2021-08-03"], clock=clock) == 1
    assert "the database is empty" in capsys.readouterr().err


def test_show_the_real_archive_cs_cv(db, archive_dir, capsys, clock):
    assert main(["import", "-q", str(archive_dir / "2021-08-03---Hot-Papers.md")], clock=clock) == 0
    capsys.readouterr()
    assert main(["show", "2021-08-03", "--category", "cs.CV"], clock=clock) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[2].split()[0] == "1" and "StyleGAN-NADA" in rows[2]
