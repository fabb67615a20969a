"""While cataloguing, an item named like personal data gets a suggestion next to it: the sensitivity level it should
have and how its values are masked for other departments (the masking rules' own words and kept characters)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import translation

from govshare.catalog.choices import DataLevel
from govshare.catalog.item_hints import hint_for_item, hints_for_script
from govshare.catalog.models import Resource
from govshare.catalog.tests.test_views import client_for, draft_of, form_data
from govshare.core.masking import MaskingPolicy, MaskRule


@pytest.fixture(autouse=True)
def _chinese() -> Iterator[None]:
    """The suggestions are read in the default language (a request of an earlier test may have left another)."""
    with translation.override("zh-hans"):
        yield


@pytest.mark.parametrize(
    ("name", "rule", "level", "words"),
    [
        ("公民身份号码", MaskRule.ID_NUMBER, DataLevel.L3, "保留前 6 位和后 4 位"),
        ("法定代表人身份证号", MaskRule.ID_NUMBER, DataLevel.L3, "保留前 6 位和后 4 位"),
        ("手机号码", MaskRule.MOBILE, DataLevel.L2, "保留前 3 位和后 4 位"),
        ("联系人电话", MaskRule.MOBILE, DataLevel.L2, "保留前 3 位和后 4 位"),
        ("姓名", MaskRule.NAME, DataLevel.L2, "只保留姓氏"),
        ("户籍住址", MaskRule.ADDRESS, DataLevel.L2, "只保留到区县"),
        ("银行卡号", MaskRule.BANK_CARD, DataLevel.L3, "只保留后 4 位"),
    ],
)
def test_a_personal_item_name_suggests_its_level_and_masking(name: str, rule: str, level: str, words: str) -> None:
    hint = hint_for_item(name)
    assert hint is not None
    assert (hint.rule, hint.data_level) == (rule, level)
    assert f"建议敏感级别 {level} 或更高" in hint.text and words in hint.text


@pytest.mark.parametrize("name", ["统一社会信用代码", "企业名称", "出生日期", "", "   "])
def test_other_names_get_no_suggestion(name: str) -> None:
    assert hint_for_item(name) is None


def test_the_suggestion_follows_the_configured_masking_policy() -> None:
    policy = MaskingPolicy(keep={MaskRule.ID_NUMBER: (4, 2)}, keywords=((MaskRule.ID_NUMBER, ("证照号",)),))
    hint = hint_for_item("持证人证照号", policy)
    assert hint is not None and "保留前 4 位和后 2 位" in hint.text
    assert hint_for_item("公民身份号码", policy) is None


def test_a_chosen_level_below_the_suggestion_is_looser() -> None:
    hint = hint_for_item("公民身份号码")
    assert hint is not None
    assert [hint.is_looser(level) for level in ("L1", "L2", "L3", "L4", "")] == [True, True, False, False, False]


def test_the_script_gets_the_same_words_and_texts() -> None:
    rows = json.loads(hints_for_script())
    assert rows[0]["words"][:2] == ["身份证", "公民身份号码"]
    hint = hint_for_item("公民身份号码")
    assert hint is not None and rows[0]["text"] == hint.text


@pytest.mark.django_db
def test_the_edit_page_shows_the_suggestion_next_to_a_personal_item(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    resource = draft_of(catalog_admin)  # its items include 公民身份号码
    page = client_for(catalog_admin).get(reverse("catalog:edit", args=[resource.pk])).content.decode()
    assert 'class="item-hint" data-item-hint data-row="1">建议敏感级别 L3 或更高' in page
    assert "data-item-hints=" in page  # the words for the static script


@pytest.mark.django_db
def test_a_re_rendered_form_marks_a_personal_item_left_at_l1(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    data = form_data(**{"items-2-name": "手机号码", "items-2-data_type": "C", "items-2-length": "11"})
    data["items-2-data_level"] = "L1"
    response = client_for(catalog_admin).post(reverse("catalog:create"), {**data, "add_item": "1"})
    page = response.content.decode()
    assert 'class="item-hint warning" data-item-hint data-row="3">建议敏感级别 L2 或更高' in page
    assert '<span class="item-hint" data-item-hint data-row="1" hidden></span>' in page  # 统一社会信用代码
    assert not Resource.objects.exists()


@pytest.mark.django_db
def test_the_suggestion_reads_in_english(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = client_for(catalog_admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    resource = draft_of(catalog_admin)
    page = client.get(reverse("catalog:edit", args=[resource.pk])).content.decode()
    assert "Suggested sensitivity level: L3 or stricter; masked for other departments, the first 6 and" in page
