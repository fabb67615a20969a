"""The browse page: a typed query is ordered by relevance unless a sort was chosen, and people who do not catalogue
see the published catalogue only (no drafts, no review-status facet)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog import services, synonyms
from govshare.catalog.rules import ItemDraft

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _groups_reloaded() -> Iterator[None]:
    synonyms.forget()
    yield
    synonyms.forget()


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def row_names(page: str) -> list[str]:
    """The resource names of the result table, in order, without their <mark>s and content-language spans."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    assert body is not None
    links = re.findall(r'<a (?:lang="zh-Hans" )?href="/catalog/resources/\d+/">(.*?)</a>', body.group(1), re.S)
    return [re.sub(r"</?(mark|span)[^>]*>", "", link) for link in links]


@pytest.fixture
def weak_then_strong(department):  # type: ignore[no-untyped-def]
    """Two published entries matching 公积金: the first created (lower code, name sorting last) mentions it in one
    item name; the second in its name, summary and items."""
    weak = testing.make_published_resource(
        department,
        name="职工基本信息",
        category_code="202",
        summary="在职职工的基本情况。",
        items=[
            ItemDraft(name="公积金账号", data_type="C", length=20),
            ItemDraft(name="姓名", data_type="C", length=50),
        ],
    )
    strong = testing.make_published_resource(
        department,
        name="住房公积金缴存信息",
        category_code="202",
        summary="住房公积金缴存单位、住房公积金缴存基数和住房公积金月缴存额。",
        items=[ItemDraft(name="公积金账号", data_type="C", length=20)],
    )
    assert weak.code < strong.code
    return weak, strong


@pytest.fixture
def consumer(other_department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CONSUMER, department=other_department)


# ---------------------------------------------------------------------------------------------- ordering


def test_typed_query_is_ordered_by_relevance_when_the_form_submits_its_default_sort(weak_then_strong, consumer):
    page = client_for(consumer).get(reverse("catalog:browse"), {"q": "公积金", "sort": ""}).content.decode()
    assert row_names(page) == ["住房公积金缴存信息", "职工基本信息"]
    assert '<option value="" selected>默认（相关度）</option>' in page


def test_typed_query_without_a_sort_parameter_is_ordered_by_relevance(weak_then_strong, consumer):
    page = client_for(consumer).get(reverse("catalog:browse"), {"q": "公积金"}).content.decode()
    assert row_names(page) == ["住房公积金缴存信息", "职工基本信息"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("code", ["职工基本信息", "住房公积金缴存信息"]), ("name", ["住房公积金缴存信息", "职工基本信息"])],
)
def test_chosen_sort_is_honoured_for_a_typed_query(weak_then_strong, consumer, sort, expected):
    page = client_for(consumer).get(reverse("catalog:browse"), {"q": "公积金", "sort": sort}).content.decode()
    assert row_names(page) == expected
    assert f'<option value="{sort}" selected>' in page


def test_catalogue_without_a_query_is_ordered_by_code(weak_then_strong, consumer):
    page = client_for(consumer).get(reverse("catalog:browse"), {"sort": ""}).content.decode()
    assert row_names(page) == ["职工基本信息", "住房公积金缴存信息"]
    assert '<option value="" selected>默认（资源代码）</option>' in page


# ---------------------------------------------------------------------------------------------- scope


@pytest.fixture
def own_draft_and_published(department):  # type: ignore[no-untyped-def]
    """A draft of the department and a published entry of it."""
    author = testing.make_user(Role.CATALOG_ADMIN, department=department)
    services.create_resource(testing.resource_draft(department, name="户籍人口草稿信息"), actor=author)
    testing.make_published_resource(department, name="户籍人口公开信息")


def test_consumer_of_the_department_sees_only_published_entries_and_no_status_facet(
    own_draft_and_published, department
):
    own_consumer = testing.make_user(Role.CONSUMER, department=department)
    client = client_for(own_consumer)
    for params in ({}, {"q": "户籍人口"}, {"status": "draft"}):
        page = client.get(reverse("catalog:browse"), params).content.decode()
        assert row_names(page) == ["户籍人口公开信息"], params
        assert "审核状态" not in page


def test_catalog_admin_still_sees_the_departments_drafts_and_the_status_facet(own_draft_and_published, catalog_admin):
    page = client_for(catalog_admin).get(reverse("catalog:browse"), {"q": "户籍人口"}).content.decode()
    assert sorted(row_names(page)) == ["户籍人口公开信息", "户籍人口草稿信息"]
    assert "审核状态" in page


def test_department_reviewer_catalogues_and_so_sees_the_drafts(own_draft_and_published, department):
    reviewer = testing.make_user(Role.DEPT_REVIEWER, department=department)
    page = client_for(reviewer).get(reverse("catalog:browse")).content.decode()
    assert "户籍人口草稿信息" in row_names(page) and "审核状态" in page


def test_consumer_of_the_department_exports_only_what_the_page_shows(own_draft_and_published, department):
    """The browse page's export link must not hand a consumer the drafts the page hides (CSV, with and without a
    typed query, and asking for drafts)."""
    own_consumer = testing.make_user(Role.CONSUMER, department=department)
    client = client_for(own_consumer)
    for params in ({}, {"q": "户籍人口"}, {"status": "draft"}):
        response = client.get(reverse("catalog:export"), {"format": "csv", **params})
        assert response.status_code == 200, params
        text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
        assert "户籍人口草稿信息" not in text, params
        if "status" not in params:
            assert "户籍人口公开信息" in text, params


def test_catalog_admin_exports_the_departments_drafts_too(own_draft_and_published, catalog_admin):
    response = client_for(catalog_admin).get(reverse("catalog:export"), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert "户籍人口草稿信息" in text and "户籍人口公开信息" in text
