"""bot.taxonomy: every arXiv category, lookups, suggestions and autocomplete."""

from __future__ import annotations

from pathlib import Path

from bot import taxonomy
from bot.archive import read_post


def test_the_full_taxonomy_is_bundled():
    cats = taxonomy.CATEGORIES
    assert len(cats) == 155
    prefixes = {c.split(".")[0] for c in cats}
    for archive in (
        "cs", "math", "physics", "astro-ph", "cond-mat", "nlin", "q-bio", "q-fin", "stat",
        "eess", "econ", "gr-qc", "quant-ph", "nucl-th", "nucl-ex", "math-ph", "hep-th",
        "hep-ph", "hep-ex", "hep-lat",
    ):  # fmt: skip
        assert archive in prefixes, archive
    assert sum(c.startswith("cs.") for c in cats) == 40
    assert sum(c.startswith("math.") for c in cats) == 32
    assert cats["cs.CV"] == "Computer Vision and Pattern Recognition"
    assert cats["q-fin.TR"] == "Trading and Market Microstructure"


def test_lookups_are_case_insensitive_and_accept_legacy_codes():
    assert taxonomy.is_known("cs.CV") and taxonomy.is_known("CS.cv")
    assert taxonomy.canonical("cond-mat.STAT-MECH") == "cond-mat.stat-mech"
    assert taxonomy.is_known("cmp-lg") and taxonomy.is_known("solv-int")
    assert not taxonomy.is_known("cs.XX")
    assert taxonomy.name("stat.ml") == "Machine Learning"
    assert taxonomy.group_name("astro-ph.GA") == "Astrophysics"


def test_closest_suggests_a_fix():
    assert taxonomy.closest("cs.CVV") == "cs.CV"
    assert taxonomy.closest("mathAG") == "math.AG"
    assert taxonomy.closest("quantph") == "quant-ph"
    assert taxonomy.closest("zzzzzz") is None
    assert taxonomy.closest("my.cat", extra={"my.cats"}) == "my.cats"


def test_search_for_autocomplete():
    assert taxonomy.search("cs.c")[0][0].startswith("cs.C")
    assert all(code.startswith("cs.C") for code, _ in taxonomy.search("cs.c"))
    assert taxonomy.search("vision") == [("cs.CV", "Computer Vision and Pattern Recognition")]
    assert {c for c, _ in taxonomy.search("machine learning")} == {"cs.LG", "stat.ML"}
    assert len(taxonomy.search("", limit=25)) == 25
    assert len(taxonomy.search("math", limit=5)) == 5


def test_every_category_in_the_archive_is_known(archive_dir: Path):
    seen = set()
    for path in archive_dir.glob("*.md"):
        day, _ = read_post(path)
        seen.update(c for rp in day.papers for c in rp.paper.categories)
    assert len(seen) > 100
    assert {c for c in seen if not taxonomy.is_known(c)} == set()
