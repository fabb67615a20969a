"""Names listed in a message are joined the way the reader's language lists them."""

from __future__ import annotations

from django.utils import translation

from govshare.core.text import join_names


def test_names_are_joined_with_the_chinese_list_comma_by_default() -> None:
    assert join_names(["甲", "乙", 3]) == "甲、乙、3"


def test_names_are_joined_with_commas_in_english() -> None:
    with translation.override("en"):
        assert join_names(["a", "b", 3]) == "a, b, 3"
