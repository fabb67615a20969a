"""An English reader is refused in English when a change request (变更) or a maintenance reminder cannot go ahead,
with the states, versions and names the refusal carries; a Chinese reader as before."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from govshare import testing
from govshare.accounts.models import User
from govshare.catalog import history, maintenance, revisions, services
from govshare.core.errors import Conflict
from govshare.testing.api import bearer
from govshare.testing.clock import T0
from govshare.testing.english import chinese_in

pytestmark = pytest.mark.django_db

EDIT = {
    "name": "Household register",
    "category_code": "101",
    "summary": "Households",
    "format": "database",
    "share_type": "unconditional",
    "share_method": "platform",
    "platform_share_type": "api",
    "open_type": "not_open",
    "update_cycle": "daily",
    "items": [{"name": "id", "data_type": "C", "length": 18}, {"name": "address", "data_type": "C", "length": 200}],
}


def _submit_twice(user: Any, resource_id: int, language: str) -> dict[str, Any]:
    client, headers = Client(), {**bearer(user), "Accept-Language": language}
    path = f"/api/catalog/resources/{resource_id}/revision"
    saved = client.put(path, EDIT, content_type="application/json", headers=headers)
    assert saved.status_code == 200, saved.content
    assert client.post(f"{path}/submit", headers=headers).status_code == 200
    again = client.post(f"{path}/submit", headers=headers)
    assert again.status_code == 409
    body: dict[str, Any] = again.json()
    return body


def test_a_second_submission_is_refused_in_english_with_the_state(department, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, name="Households")
    detail = _submit_twice(catalog_admin, resource.pk, "en")["detail"]
    assert detail == "The change request is “Submitted” and cannot be submitted"


def test_a_second_submission_is_refused_in_chinese_by_default(department, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, name="Households")
    assert _submit_twice(catalog_admin, resource.pk, "zh-hans")["detail"] == "变更申请当前状态为“待审核”，不能提交审核"


def test_a_draft_takes_no_change_request_and_an_english_reader_is_told_why(department, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    draft = services.create_resource(testing.resource_draft(department), actor=catalog_admin)
    with translation.override("en"), pytest.raises(Conflict) as refused:
        revisions.save_revision(draft, testing.resource_draft(department), actor=catalog_admin)
    with translation.override("en"):
        assert chinese_in([refused.value.text]) == [], refused.value.text


def _remind_messages(user: Any, resource_id: int, language: str) -> list[str]:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    page = client.post(reverse("catalog:maintenance_remind", args=[resource_id]), follow=True).content.decode()
    return [html.unescape(m) for m in re.findall(r'<li class="message [^"]*">(.*?)</li>', page)]


def test_a_reminder_nobody_would_receive_is_refused_in_english(department, platform_admin) -> None:  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, name="Households")
    User.objects.filter(department=department).update(is_active=False)  # nobody left to receive it
    assert _remind_messages(platform_admin, resource.pk, "en") == [
        f"“{department.name}” has no active catalogue administrator to receive the reminder; "
        "give the department a catalogue administrator first"
    ]
    assert _remind_messages(platform_admin, resource.pk, "zh-hans") == [
        f"“{department.name}”没有启用的目录管理员，提醒无人接收；请先为该部门设置目录管理员"
    ]


def test_a_second_reminder_the_same_day_is_refused_in_english(department, catalog_admin, platform_admin) -> None:  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, name="Households")
    maintenance.remind_department(resource.pk, actor=platform_admin, now=T0)
    with translation.override("en"), pytest.raises(Conflict) as refused:
        maintenance.remind_department(resource.pk, actor=platform_admin, now=T0)
    assert chinese_in([refused.value.text], user_data=[resource.code]) == [], refused.value.text


def _latest_note(user: Any, resource_id: int, language: str) -> str:
    versions = Client().get(
        f"/api/catalog/resources/{resource_id}/versions", headers={**bearer(user), "Accept-Language": language}
    )
    assert versions.status_code == 200, versions.content
    note: str = max(versions.json(), key=lambda v: v["number"])["note"]
    return note


def test_a_version_note_the_platform_wrote_reads_in_english(department, catalog_admin, platform_admin) -> None:  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, name="Households")
    client, headers = Client(), bearer(catalog_admin)
    path = f"/api/catalog/resources/{resource.pk}/revision"
    assert client.put(path, EDIT, content_type="application/json", headers=headers).status_code == 200
    assert client.post(f"{path}/submit", headers=headers).status_code == 200
    approved = client.post(
        f"{path}/approve", {"note": "ok"}, content_type="application/json", headers=bearer(platform_admin)
    )
    assert approved.status_code == 200, approved.content
    revision = resource.revisions.get().pk
    assert (
        _latest_note(catalog_admin, resource.pk, "en") == f"Change request #{revision} (gaj_admin); reviewer's note: ok"
    )
    assert _latest_note(catalog_admin, resource.pk, "zh-hans") == f"变更申请 #{revision}（gaj_admin）；审核意见：ok"


def test_a_note_a_person_wrote_stays_as_written() -> None:
    with translation.override("en"):
        assert history.readable_note("由部门自行下线") == "由部门自行下线"
