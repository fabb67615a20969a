"""The batch review's refusals and the search's sort error in the reader's language (Chinese by default)."""

from __future__ import annotations

import pytest
from django.utils import translation

from govshare.catalog import batch_review, search
from govshare.core.errors import ValidationFailed
from govshare.testing.english import chinese_in


def _problem(call, language: str) -> str:  # type: ignore[no-untyped-def]
    with translation.override(language), pytest.raises(ValidationFailed) as refused:
        call()
    return refused.value.problems[0].message


def test_a_malformed_selection_is_refused_in_english() -> None:
    message = _problem(lambda: batch_review.parse_ids(["12", "甲"]), "en")
    assert "positive integers" in message and "12" not in message.split(":")[0]
    assert chinese_in([message], user_data=["甲"]) == []


def test_a_malformed_selection_is_refused_in_chinese_by_default() -> None:
    assert _problem(lambda: batch_review.parse_ids(["x", "y"]), "zh-hans") == "资源编号应为正整数，收到：x、y"


def test_the_refused_entries_are_listed_in_the_readers_language() -> None:
    with translation.override("en"):
        english = batch_review.refused_message(list(range(1, 25)))
    shown = ", ".join(str(number) for number in range(1, 21))
    assert chinese_in([english]) == [] and english.endswith(f"{shown} and others, 24 in all")
    with translation.override("zh-hans"):
        assert batch_review.refused_message([3, 4]).endswith("本次未做任何操作：3、4")


def test_an_unknown_sort_order_is_refused_in_english_with_the_orders_to_choose(db: None) -> None:
    message = _problem(lambda: search.search_resources(None, q="", sort="bogus"), "en")  # type: ignore[arg-type]
    assert chinese_in([message]) == [] and "relevance (Relevance)" in message
