"""Change requests (变更) through the pages and the API: 编辑 on a published entry, the revision page with its diff
and its effects on sources' mappings, review in the same queue as new entries."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from govshare.accounts.choices import Role
from govshare.catalog import revisions
from govshare.catalog.choices import ReviewStatus, VersionAction
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.sources import services as source_services
from govshare.testing import make_published_resource, make_user, resource_draft
from govshare.testing.api import bearer

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D"),
]


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def published(department) -> Resource:  # type: ignore[no-untyped-def]
    return make_published_resource(department, items=list(ITEMS))


def revision_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "常住人口户籍登记信息（2026版）",
        "summary": "全市常住人口的户籍登记信息，包括公民身份号码、姓名和出生日期。",
        "format": "database",
        "sub_format": "PostgreSQL",
        "share_type": "conditional",
        "share_condition": "用于政务服务身份核验，须经提供部门审核",
        "share_method": "platform",
        "platform_share_type": "api",
        "open_type": "not_open",
        "update_cycle": "daily",
        "related_codes": "",
        "extension": "",
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "500",
        "items-0-name": "公民身份号码",
        "items-0-data_type": "C",
        "items-0-length": "18",
        "items-1-name": "姓名",
        "items-1-data_type": "C",
        "items-1-length": "50",
        "items-2-name": "出生日期",
        "items-2-data_type": "D",
    }
    data.update(overrides)
    return data


def test_a_published_entry_offers_its_department_编辑_as_a_change_request(published, catalog_admin):
    page = client_for(catalog_admin).get(reverse("catalog:detail", args=[published.pk])).content.decode()
    assert reverse("catalog:revision_edit", args=[published.pk]) in page


def test_a_consumer_is_not_offered_编辑_on_a_published_entry(published, other_department):
    consumer = make_user(Role.CONSUMER, department=other_department)
    page = client_for(consumer).get(reverse("catalog:detail", args=[published.pk])).content.decode()
    assert reverse("catalog:revision_edit", args=[published.pk]) not in page


def test_the_revision_form_starts_from_the_published_entry(published, catalog_admin):
    page = client_for(catalog_admin).get(reverse("catalog:revision_edit", args=[published.pk])).content.decode()
    assert "常住人口户籍登记信息" in page and "出生日期" in page and "变更申请" in page


def test_saving_the_form_opens_a_revision_while_consumers_still_see_the_published_entry(
    published, catalog_admin, other_department
):
    answer = client_for(catalog_admin).post(reverse("catalog:revision_edit", args=[published.pk]), revision_form())
    assert answer.status_code == 302 and answer["Location"] == reverse("catalog:revision", args=[published.pk])
    consumer = make_user(Role.CONSUMER, department=other_department)
    page = client_for(consumer).get(reverse("catalog:detail", args=[published.pk])).content.decode()
    assert "常住人口户籍登记信息" in page and "2026版" not in page


def test_the_revision_page_shows_the_diff_against_the_published_entry(published, catalog_admin):
    client_for(catalog_admin).post(reverse("catalog:revision_edit", args=[published.pk]), revision_form())
    page = client_for(catalog_admin).get(reverse("catalog:revision", args=[published.pk])).content.decode()
    assert "常住人口户籍登记信息（2026版）" in page and "与已发布版本的差异" in page


def test_a_submitted_revision_waits_in_the_review_queue_marked_变更(published, catalog_admin, platform_admin):
    client = client_for(catalog_admin)
    client.post(reverse("catalog:revision_edit", args=[published.pk]), revision_form())
    client.post(reverse("catalog:revision_action", args=[published.pk, "submit"]))
    page = client_for(platform_admin).get(reverse("catalog:review_queue")).content.decode()
    assert "变更" in page and reverse("catalog:revision", args=[published.pk]) in page


def test_the_reviewer_approves_from_the_revision_page_and_the_history_shows_one_change_version(
    published, catalog_admin, platform_admin
):
    client = client_for(catalog_admin)
    client.post(reverse("catalog:revision_edit", args=[published.pk]), revision_form())
    client.post(reverse("catalog:revision_action", args=[published.pk, "submit"]))
    client_for(platform_admin).post(reverse("catalog:revision_action", args=[published.pk, "approve"]))
    published.refresh_from_db()
    assert published.name == "常住人口户籍登记信息（2026版）" and published.status == ReviewStatus.PUBLISHED
    assert published.versions.order_by("-number").values_list("action", flat=True)[0] == VersionAction.CHANGE
    page = client.get(reverse("catalog:detail", args=[published.pk])).content.decode()
    assert "变更" in page and "2026版" in page


def test_the_reviewer_rejects_with_a_reason_shown_to_the_department(published, catalog_admin, platform_admin):
    client = client_for(catalog_admin)
    client.post(reverse("catalog:revision_edit", args=[published.pk]), revision_form())
    client.post(reverse("catalog:revision_action", args=[published.pk, "submit"]))
    client_for(platform_admin).post(
        reverse("catalog:revision_action", args=[published.pk, "reject"]), {"reason": "名称不应带年份"}
    )
    page = client.get(reverse("catalog:revision", args=[published.pk])).content.decode()
    assert "名称不应带年份" in page and "已驳回" in page


def test_another_departments_administrator_gets_404_for_the_revision_page(published, catalog_admin, outsider):
    client_for(catalog_admin).post(reverse("catalog:revision_edit", args=[published.pk]), revision_form())
    answer = client_for(outsider).get(reverse("catalog:revision", args=[published.pk]))
    assert answer.status_code == 404
    assert "2026版" not in answer.content.decode()


def test_a_grade_change_in_the_revision_form_is_refused_with_the_way_to_ask(published, catalog_admin):
    form = revision_form(**{"items-0-grade": "important", "items-0-data_level": "L3"})
    page = client_for(catalog_admin).post(reverse("catalog:revision_edit", args=[published.pk]), form)
    assert page.status_code == 200 and "分级调整" in page.content.decode()
    assert not published.revisions.exists()


# --- effects ------------------------------------------------------------------------------------------------------


def _mapped_source(resource: Resource, actor) -> None:  # type: ignore[no-untyped-def]
    source = source_services.register_source(
        resource, source_services.SourceInput(name="户籍前置库", kind="file", config={"format": "csv"}), actor=actor
    )
    entries = [
        source_services.MappingEntry(column="身份证号", item="公民身份号码"),
        source_services.MappingEntry(column="出生", item="出生日期"),
    ]
    source_services.set_mapping(source, entries, actor=actor, columns=None)


def _removing_birth_date(resource: Resource, actor) -> None:  # type: ignore[no-untyped-def]
    draft = resource_draft(resource.department, items=ITEMS[:2])
    revisions.save_revision(resource, draft, actor=actor)


def test_the_revision_page_names_the_source_mapping_of_an_item_it_removes(published, catalog_admin):
    _mapped_source(published, catalog_admin)
    _removing_birth_date(published, catalog_admin)
    page = client_for(catalog_admin).get(reverse("catalog:revision", args=[published.pk])).content.decode()
    assert "数据来源“户籍前置库”把列“出生”映射到信息项“出生日期”，该信息项将被删除" in page


def test_a_retyped_item_is_named_with_its_old_and_new_type(published, catalog_admin):
    _mapped_source(published, catalog_admin)
    items = [
        ItemDraft(name="公民身份号码", data_type="C", length=18),
        ItemDraft(name="出生日期", data_type="C", length=8),
    ]
    revisions.save_revision(published, resource_draft(published.department, items=items), actor=catalog_admin)
    effects = revisions.revision_effects(published.revisions.get())
    assert [e.message for e in effects if e.item == "出生日期"] == [
        "数据来源“户籍前置库”把列“出生”映射到信息项“出生日期”，该信息项的数据类型将由“日期型”改为“字符型”："
        "通过后须重新确认映射，否则归集会失败"
    ]


def test_a_revision_that_keeps_every_mapped_item_has_no_effects(published, catalog_admin):
    _mapped_source(published, catalog_admin)
    revisions.save_revision(
        published, resource_draft(published.department, name="新名称", items=list(ITEMS)), actor=catalog_admin
    )
    assert revisions.revision_effects(published.revisions.get()) == []


def test_the_api_answers_the_revision_with_its_changes_and_effects(published, catalog_admin):
    _mapped_source(published, catalog_admin)
    _removing_birth_date(published, catalog_admin)
    answer = Client().get(f"/api/catalog/resources/{published.pk}/revision", headers=bearer(catalog_admin))
    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "draft"
    assert {"kind": "数据来源映射", "subject": "户籍前置库", "item": "出生日期"}.items() <= body["effects"][0].items()
    assert any(change["label"] == "信息项“出生日期”" for change in body["changes"])


def test_the_api_takes_a_revision_through_to_approval(published, catalog_admin, platform_admin):
    body = {
        "name": "常住人口户籍登记信息（接口变更）",
        "category_code": "101",
        "summary": "全市常住人口的户籍登记信息。",
        "format": "database",
        "share_type": "conditional",
        "share_condition": "用于政务服务身份核验",
        "share_method": "platform",
        "platform_share_type": "api",
        "open_type": "not_open",
        "update_cycle": "daily",
        "items": [{"name": "公民身份号码", "data_type": "C", "length": 18}],
    }
    base = f"/api/catalog/resources/{published.pk}/revision"
    admin = bearer(catalog_admin)
    saved = Client().put(base, json.dumps(body), content_type="application/json", headers=admin)
    assert saved.status_code == 200, saved.content
    assert Client().post(f"{base}/submit", headers=admin).status_code == 200
    queue = Client().get("/api/catalog/revision-queue", headers=bearer(platform_admin)).json()
    assert [row["resource_id"] for row in queue["items"]] == [published.pk]
    approved = Client().post(
        f"{base}/approve", json.dumps({}), content_type="application/json", headers=bearer(platform_admin)
    )
    assert approved.status_code == 200 and approved.json()["name"] == "常住人口户籍登记信息（接口变更）"
