"""Why a result matched: the browse page shows a window of the summary and the matching item names with the matched
words in <mark>, and nothing a cataloguer or a searcher typed is ever rendered as HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog import search, snippets, synonyms
from govshare.catalog.rules import ItemDraft
from govshare.catalog.snippets import Piece


@pytest.fixture(autouse=True)
def _groups_reloaded() -> Iterator[None]:
    synonyms.forget()
    yield
    synonyms.forget()


@pytest.fixture
def consumer(other_department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CONSUMER, department=other_department)


def browse(user, **params: str) -> str:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    response = client.get(reverse("catalog:browse"), params)
    assert response.status_code == 200
    return response.content.decode()


def results_table(page: str) -> str:
    """The rows of the result table (the page's own markup around it is not data)."""
    found = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    assert found is not None
    return found.group(1)


# ---------------------------------------------------------------------------------------------- pieces


def test_pieces_mark_the_longest_word_first_and_merge_adjacent_matches():
    pattern = snippets._pattern(["公民", "公民身份号码", "姓名"])
    assert snippets.pieces("男方公民身份号码姓名", pattern) == [Piece("男方", False), Piece("公民身份号码姓名", True)]


def test_pieces_ignore_case():
    assert snippets.pieces("API接口", snippets._pattern(["api"])) == [Piece("API", True), Piece("接口", False)]


@given(text=st.text(max_size=200), words=st.lists(st.text(max_size=6), max_size=5))
def test_pieces_always_give_back_the_whole_text(text, words):
    assert "".join(p.text for p in snippets.pieces(text, snippets._pattern(words))) == text


# ---------------------------------------------------------------------------------------------- result rows


@pytest.mark.django_db
def test_row_shows_a_summary_window_and_the_matching_item_names_marked(department, consumer):
    testing.make_published_resource(
        department,
        name="民政婚姻登记信息",
        category_code="201",
        summary="本资源汇集全市各婚姻登记机关多年来办理的业务档案，" * 3 + "含结婚登记时双方的公民身份号码。",
        items=[
            ItemDraft(name="男方公民身份号码", data_type="C", length=18),
            ItemDraft(name="登记日期", data_type="D"),
            ItemDraft(name="女方公民身份号码", data_type="C", length=18),
        ],
    )
    rows = results_table(browse(consumer, q="身份证"))
    assert "<mark>公民身份号码</mark>" in rows
    # The summary is cut around its first match: the long opening is left out.
    assert "…" in rows and rows.count("本资源汇集") < 3
    assert "男方<mark>公民身份号码</mark>" in rows and "女方<mark>公民身份号码</mark>" in rows
    assert "登记日期" not in rows


@pytest.mark.django_db
def test_row_marks_the_matched_words_of_the_name(department, consumer):
    testing.make_published_resource(department, name="住房公积金缴存信息", category_code="202")
    assert "<mark>住房公积金</mark>缴存信息" in results_table(browse(consumer, q="公积金"))


@pytest.mark.django_db
def test_rows_without_a_query_show_the_plain_name(department, consumer):
    testing.make_published_resource(department, name="住房公积金缴存信息", category_code="202")
    rows = results_table(browse(consumer))
    assert "住房公积金缴存信息" in rows and "<mark>" not in rows


@pytest.mark.django_db
def test_markup_in_data_and_query_is_shown_as_text_only_marks_are_tags(department, consumer):
    testing.make_published_resource(
        department,
        name="<script>alert(1)</script>",
        category_code="202",
        summary='<b>加粗</b>的 alert 摘要<img src=x onerror="alert(2)">',
        items=[ItemDraft(name="<i>alert</i>字段", data_type="C", length=10)],
    )
    page = browse(consumer, q="<b>alert</b>")
    rows = results_table(page)
    assert "<mark>alert</mark>" in rows
    assert "&lt;script&gt;" in rows and "&lt;img" in rows and "&lt;i&gt;" in rows
    tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", rows))
    assert tags <= {"tr", "td", "a", "code", "div", "p", "mark", "span", "br"}, tags
    assert "<script>alert" not in page and "<b>" not in page and "<img src=x" not in page


@pytest.mark.django_db
def test_search_result_words_include_the_query_tokens(department, consumer):
    testing.make_published_resource(department, name="住房公积金缴存信息", category_code="202")
    result = search.search_resources(consumer, q="公积金 缴存")
    assert {"缴存"} <= set(result.words)


def test_overlapping_query_tokens_mark_the_word_they_cover_whole():
    # 不动产 is asked for as its dictionary sub-words 不动 and 动产 (govshare.catalog.search_text.query_tokens).
    pattern = snippets._pattern(["不动", "动产", "抵押"])
    assert snippets.pieces("不动产抵押登记", pattern) == [Piece("不动产抵押", True), Piece("登记", False)]
