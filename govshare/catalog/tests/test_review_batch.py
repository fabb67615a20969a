"""The review queue at scale: search, selection, batch 发布 / 驳回 with a confirmation step, and the API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from govshare.audit.models import AuditLog
from govshare.catalog import services
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Resource
from govshare.testing import resource_draft
from govshare.testing.api import bearer

pytestmark = pytest.mark.django_db

BATCH = reverse("catalog:review_batch")
QUEUE = reverse("catalog:review_queue")


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def submitted(user, name: str = "常住人口户籍登记信息") -> Resource:  # type: ignore[no-untyped-def]
    resource = services.create_resource(resource_draft(user.department, name=name), actor=user)
    return services.submit_resource(resource, actor=user)


def status_of(resource: Resource) -> str:
    resource.refresh_from_db()
    return resource.status


def audit_rows(action: str, resources: list[Resource]) -> int:
    return AuditLog.objects.filter(action=action, object_id__in=[str(r.pk) for r in resources]).count()


# ------------------------------------------------------------------------------------------------ search


def test_queue_search_finds_entries_by_name(catalog_admin, platform_admin) -> None:
    submitted(catalog_admin, "城北街道辖区实有人口信息")
    submitted(catalog_admin, "企业年报信息")
    page = client_for(platform_admin).get(QUEUE, {"q": "实有人口"}).content.decode()
    body = page.split("<tbody>")[1]
    assert "城北街道辖区实有人口信息" in body and "企业年报信息" not in body and "1 条资源待审核" in page


def test_queue_search_finds_entries_by_code_and_by_department(catalog_admin, outsider, platform_admin) -> None:
    ours = submitted(catalog_admin)
    theirs = submitted(outsider, "企业年报信息")
    client = client_for(platform_admin)
    by_code = client.get(QUEUE, {"q": ours.code}).content.decode().split("<tbody>")[1]
    by_department = client.get(QUEUE, {"q": outsider.department.name}).content.decode().split("<tbody>")[1]
    assert ours.name in by_code and theirs.name not in by_code
    assert theirs.name in by_department and ours.name not in by_department


def test_queue_pages_keep_the_search(catalog_admin, platform_admin, settings) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"page_size": 2})
    for n in range(3):
        submitted(catalog_admin, f"实有人口信息{n}")
    page = client_for(platform_admin).get(QUEUE, {"q": "实有人口"}).content.decode()
    assert "q=%E5%AE%9E%E6%9C%89%E4%BA%BA%E5%8F%A3&amp;page=2" in page


def test_queue_rows_join_the_batch_form_and_the_page_can_be_selected_at_once(catalog_admin, platform_admin) -> None:
    resource = submitted(catalog_admin)
    page = client_for(platform_admin).get(QUEUE).content.decode()
    assert f'name="ids" value="{resource.pk}" form="review-batch"' in page and 'id="select-all"' in page


# ------------------------------------------------------------------------------------------------ confirmation


def test_batch_publish_first_shows_the_selected_entries_and_publishes_nothing(catalog_admin, platform_admin) -> None:
    first, second = submitted(catalog_admin, "甲信息"), submitted(catalog_admin, "乙信息")
    response = client_for(platform_admin).post(BATCH, {"action": "publish", "ids": [first.pk, second.pk]})
    page = response.content.decode()
    assert response.status_code == 200 and "将发布以下 2 条资源" in page
    assert first.code in page and second.code in page and 'name="confirm"' in page
    assert status_of(first) == status_of(second) == ReviewStatus.SUBMITTED


def test_publish_of_one_row_from_the_queue_asks_for_confirmation(catalog_admin, platform_admin) -> None:
    resource = submitted(catalog_admin)
    queue = client_for(platform_admin).get(QUEUE).content.decode()
    row_form = queue.split(f'name="ids" value="{resource.pk}">')[0].rsplit("<form", 1)[1]
    assert f'action="{BATCH}"' in row_form
    response = client_for(platform_admin).post(BATCH, {"action": "publish", "ids": [resource.pk]})
    assert "确认发布" in response.content.decode() and status_of(resource) == ReviewStatus.SUBMITTED


def test_the_confirmation_step_is_post_only(platform_admin) -> None:
    assert client_for(platform_admin).get(BATCH).status_code == 405


def test_confirmed_batch_publish_publishes_each_entry_with_its_own_audit_row(catalog_admin, platform_admin) -> None:
    entries = [submitted(catalog_admin, f"资源{n}信息") for n in range(3)]
    response = client_for(platform_admin).post(
        BATCH, {"action": "publish", "ids": [r.pk for r in entries], "confirm": "1", "next": QUEUE}
    )
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert all(status_of(r) == ReviewStatus.PUBLISHED for r in entries)
    assert audit_rows("catalog.resource.publish", entries) == 3


def test_confirmed_batch_reject_records_the_one_reason_on_every_entry(catalog_admin, platform_admin) -> None:
    entries = [submitted(catalog_admin, f"资源{n}信息") for n in range(2)]
    client_for(platform_admin).post(
        BATCH, {"action": "reject", "ids": [r.pk for r in entries], "reason": "请补充更新周期说明", "confirm": "1"}
    )
    for resource in entries:
        resource.refresh_from_db()
        assert resource.status == ReviewStatus.DRAFT and resource.rejection_reason == "请补充更新周期说明"
    assert audit_rows("catalog.resource.reject", entries) == 2


def test_batch_reject_without_a_reason_rejects_nothing_and_says_so(catalog_admin, platform_admin) -> None:
    resource = submitted(catalog_admin)
    response = client_for(platform_admin).post(
        BATCH, {"action": "reject", "ids": [resource.pk], "reason": " ", "confirm": "1"}
    )
    assert "驳回必须填写理由" in response.content.decode() and status_of(resource) == ReviewStatus.SUBMITTED


def test_batch_without_a_selection_goes_back_to_the_queue_with_a_message(platform_admin) -> None:
    response = client_for(platform_admin).post(BATCH, {"action": "publish", "next": QUEUE}, follow=True)
    assert "请先勾选要审核的资源" in response.content.decode()


def test_batch_refuses_an_unknown_action(catalog_admin, platform_admin) -> None:
    resource = submitted(catalog_admin)
    response = client_for(platform_admin).post(BATCH, {"action": "withdraw", "ids": [resource.pk]}, follow=True)
    assert "批量审核的操作应为" in response.content.decode() and status_of(resource) == ReviewStatus.SUBMITTED


def test_batch_refuses_ids_that_are_not_numbers(platform_admin) -> None:
    response = client_for(platform_admin).post(BATCH, {"action": "publish", "ids": ["1 OR 1=1"]}, follow=True)
    assert "资源编号应为正整数" in response.content.decode()


# ------------------------------------------------------------------------------------------------ attacks


def test_attack_crafted_ids_outside_the_queue_publish_nothing_and_are_named(catalog_admin, platform_admin) -> None:
    queued = submitted(catalog_admin, "甲信息")
    draft = services.create_resource(resource_draft(catalog_admin.department, name="乙信息"), actor=catalog_admin)
    response = client_for(platform_admin).post(
        BATCH, {"action": "publish", "ids": [queued.pk, draft.pk, 987654], "confirm": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 409 and "本次未做任何操作" in page and f"{draft.pk}、987654" in page
    assert status_of(queued) == ReviewStatus.SUBMITTED and status_of(draft) == ReviewStatus.DRAFT
    assert audit_rows("catalog.resource.publish", [queued, draft]) == 0


def test_attack_a_department_admin_posting_a_batch_gets_404_and_changes_nothing(catalog_admin) -> None:
    resource = submitted(catalog_admin)
    response = client_for(catalog_admin).post(BATCH, {"action": "publish", "ids": [resource.pk], "confirm": "1"})
    assert response.status_code == 404 and status_of(resource) == ReviewStatus.SUBMITTED


def test_attack_an_entry_published_meanwhile_refuses_the_whole_confirmed_batch(catalog_admin, platform_admin) -> None:
    first, second = submitted(catalog_admin, "甲信息"), submitted(catalog_admin, "乙信息")
    services.publish_resource(second, actor=platform_admin)
    response = client_for(platform_admin).post(
        BATCH, {"action": "reject", "ids": [first.pk, second.pk], "reason": "重复", "confirm": "1"}
    )
    assert response.status_code == 409 and str(second.pk) in response.content.decode()
    assert status_of(first) == ReviewStatus.SUBMITTED


def test_attack_the_next_address_cannot_leave_the_site(catalog_admin, platform_admin) -> None:
    resource = submitted(catalog_admin)
    response = client_for(platform_admin).post(
        BATCH, {"action": "publish", "ids": [resource.pk], "confirm": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == QUEUE


# ------------------------------------------------------------------------------------------------ API


def test_api_batch_publishes_and_answers_the_entries(catalog_admin, platform_admin) -> None:
    entries = [submitted(catalog_admin, f"资源{n}信息") for n in range(2)]
    response = Client().post(
        "/api/catalog/review-batch",
        {"action": "publish", "ids": [r.pk for r in entries]},
        content_type="application/json",
        headers=bearer(platform_admin),
    )
    assert response.status_code == 200 and response.json()["count"] == 2
    assert {r["status"] for r in response.json()["resources"]} == {"published"}
    assert audit_rows("catalog.resource.publish", entries) == 2


def test_api_batch_with_an_id_outside_the_queue_does_nothing_and_names_it(catalog_admin, platform_admin) -> None:
    queued = submitted(catalog_admin)
    response = Client().post(
        "/api/catalog/review-batch",
        {"action": "publish", "ids": [queued.pk, 424242]},
        content_type="application/json",
        headers=bearer(platform_admin),
    )
    assert response.status_code == 409 and "424242" in response.json()["detail"]
    assert status_of(queued) == ReviewStatus.SUBMITTED


def test_api_batch_is_not_there_for_a_department_admin(catalog_admin) -> None:
    queued = submitted(catalog_admin)
    response = Client().post(
        "/api/catalog/review-batch",
        {"action": "publish", "ids": [queued.pk]},
        content_type="application/json",
        headers=bearer(catalog_admin),
    )
    assert response.status_code == 404 and status_of(queued) == ReviewStatus.SUBMITTED


def test_api_batch_reject_needs_the_reason(catalog_admin, platform_admin) -> None:
    queued = submitted(catalog_admin)
    response = Client().post(
        "/api/catalog/review-batch",
        {"action": "reject", "ids": [queued.pk]},
        content_type="application/json",
        headers=bearer(platform_admin),
    )
    assert response.status_code == 422 and status_of(queued) == ReviewStatus.SUBMITTED
