import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import arxiv_ids
from bot.errors import InvalidArxivId

new_ids = st.builds(
    lambda yy, mm, n: f"{yy:02d}{mm:02d}.{n:0{5 if yy >= 15 else 4}d}",
    st.integers(8, 99),
    st.integers(1, 12),
    st.integers(0, 9999),
)
old_ids = st.builds(
    lambda arch, yy, mm, n: f"{arch}/{yy:02d}{mm:02d}{n:03d}",
    st.sampled_from(["hep-th", "math", "cond-mat", "astro-ph", "quant-ph", "math.GT", "cs.AI"]),
    st.integers(0, 99),
    st.integers(1, 12),
    st.integers(0, 999),
)
versions = st.one_of(st.just(""), st.integers(1, 30).map(lambda v: f"v{v}"))
wrappers = st.sampled_from(
    [
        "{}",
        "arXiv:{}",
        "arxiv:{}",
        "https://arxiv.org/abs/{}",
        "http://arxiv.org/abs/{}",
        "https://arxiv.org/pdf/{}",
        "https://arxiv.org/pdf/{}.pdf",
        "https://arxiv.org/html/{}",
        "https://www.arxiv.org/abs/{}",
        "https://export.arxiv.org/abs/{}",
        "arxiv.org/abs/{}",
        "  https://arxiv.org/abs/{}?context=cs  ",
        "oai:arXiv.org:{}",
    ]
)


@given(st.one_of(new_ids, old_ids), versions, wrappers)
def test_every_form_maps_to_the_canonical_id(ident, version, wrapper):
    assert arxiv_ids.parse(wrapper.format(ident + version)) == ident


@given(st.one_of(new_ids, old_ids), st.integers(1, 30))
def test_versions_are_reported(ident, version):
    assert arxiv_ids.parse_versioned(f"{ident}v{version}") == (ident, version)


@given(st.text(max_size=60).filter(lambda s: "arxiv" not in s.lower()))
def test_arbitrary_text_is_rejected_or_is_an_id(text):
    try:
        result = arxiv_ids.parse(text)
    except InvalidArxivId:
        return
    assert result in text


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "2108.0094",
        "1001.00001",
        "2113.00946",
        "hello",
        "https://example.com/abs/2108.00946",
        "x" * 1000,
    ],
)
def test_malformed_ids_raise(bad):
    with pytest.raises(InvalidArxivId):
        arxiv_ids.parse(bad)


def test_old_style_subject_class_keeps_its_case():
    assert arxiv_ids.parse("MATH.gt/0309136v2") == "math.GT/0309136"


def test_find_all_scans_text_in_order_without_duplicates():
    text = "pdf: https://arxiv.org/pdf/2108.01005v2 abs: arxiv.org/abs/2108.00946 again 2108.01005"
    assert arxiv_ids.find_all(text + " https://arxiv.org/abs/2108.01005") == [
        "2108.01005",
        "2108.00946",
    ]
