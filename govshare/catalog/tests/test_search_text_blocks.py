"""Segmenting block by block (remembered blocks) must give exactly jieba's search-mode tokens of the whole text."""

import jieba
from hypothesis import given, settings
from hypothesis import strategies as st

from govshare.catalog.search_text import _parts, document_tokens, documents_tokens, segment

CHARACTERS = "公民身份号码姓名企业登记信息住房公积金缴存婚姻不动产年起共约万条" + "AbC12 .-_%#&+，、。（）\n"
TEXT = st.text(
    alphabet=st.sampled_from(list(CHARACTERS)),
    max_size=80,
)


def jieba_tokens(text: str) -> list[str]:
    return [part for word in jieba.cut_for_search(text, HMM=False) for part in _parts(word)]


@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_block_segmentation_gives_jiebas_tokens_of_the_whole_text(text: str) -> None:
    assert segment(text) == jieba_tokens(text)


def test_a_long_block_is_segmented_like_a_short_one() -> None:
    text = "市住房公积金管理中心负责的全市住房公积金缴存数据" * 3 + "，自2019年起共约345.6万条"
    assert segment(text) == jieba_tokens(text)
    assert segment(text) == segment(text)


def test_a_batch_segmented_in_worker_processes_gives_each_documents_tokens_in_order() -> None:
    documents = [
        (f"{area}住房公积金缴存信息{n}", f"{area}的缴存数据，自{2000 + n}年起共约{n}万条。", ["缴存金额", "姓名"])
        for n, area in enumerate(["旌阳区", "广汉市", "中江县", "什邡市"] * 10)
    ]
    expected = [document_tokens(*document) for document in documents]
    ran: list[bool] = []
    assert documents_tokens(documents, parallel_from=2, meanwhile=lambda: ran.append(True)) == expected
    assert documents_tokens(documents) == expected
    assert ran == [True]
