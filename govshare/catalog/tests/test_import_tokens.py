"""The import's speed-up of search tokens (per-part segmentation, remembered) must not change the tokens."""

from hypothesis import given, settings
from hypothesis import strategies as st

from govshare.catalog.search_text import _CJK, document_tokens, segment

CHINESE = st.text(
    alphabet=st.sampled_from(list("公民身份号码姓名企业登记信息住房公积金缴存婚姻不动产AbC12 .-_，、")), max_size=30
)


def reference(name: str, summary: str, items: list[str]) -> str:
    """The tokens as computed on the joined text (the definition before the speed-up)."""
    text = " ".join([name, summary, *items])
    tokens = segment(text)
    present = set(tokens)
    characters = []
    for character in _CJK.findall(text):
        if character not in present:
            present.add(character)
            characters.append(character)
    return " ".join(tokens + characters)


@settings(max_examples=200, deadline=None)
@given(name=CHINESE, summary=CHINESE, items=st.lists(CHINESE, max_size=6))
def test_segmenting_each_part_gives_the_tokens_of_the_joined_text(name: str, summary: str, items: list[str]) -> None:
    assert document_tokens(name, summary, items) == reference(name, summary, items)


def test_repeated_item_names_give_the_same_tokens_each_time() -> None:
    first = document_tokens("常住人口户籍登记信息", "全市常住人口", ["公民身份号码", "姓名"])
    assert document_tokens("常住人口户籍登记信息", "全市常住人口", ["公民身份号码", "姓名"]) == first
    assert "公民" in first.split() and "身份" in first.split()
