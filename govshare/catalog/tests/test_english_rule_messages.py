"""An English reader reads the catalogue's rule errors in English (field names, choice labels and the reason); a
Chinese reader reads them as before."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from govshare.catalog import services
from govshare.testing import resource_draft
from govshare.testing.api import bearer
from govshare.testing.english import chinese_in

# User data in English words, so that any Chinese left in a message is the platform's.
BROKEN: dict[str, Any] = {
    "name": "Business register",
    "category_code": "102",
    "summary": "Registered businesses",
    "format": "file",
    "share_type": "conditional",  # without a condition
    "share_method": "platform",
    "platform_share_type": "table",  # a file is shared as a file
    "open_type": "unconditional",
    "data_level": "L4",  # never opened
    "update_cycle": "hourly",  # no such cycle
    "related_codes": ["12345"],
    "items": [
        {"name": "uscc", "data_type": "C"},  # no length
        {"name": "uscc", "data_type": "Q", "length": 18},  # repeated, no such type
        {"name": "holder", "data_type": "C", "length": 20, "grade": "general", "data_level": "L1"},  # looser
        {"name": "", "data_type": "C", "length": 0, "at_rest": "rot13"},
    ],
}


def _messages(client: Client, user: Any, **headers: str) -> list[str]:
    response = client.post(
        "/api/catalog/resources", BROKEN, content_type="application/json", headers={**bearer(user), **headers}
    )
    assert response.status_code == 422, response.content
    body = response.json()
    return [body["detail"], *(e["message"] for e in body["errors"])]


@pytest.mark.django_db
def test_rule_errors_are_english_for_an_english_caller(catalog_admin) -> None:
    messages = _messages(Client(), catalog_admin, **{"Accept-Language": "en"})
    assert len(messages) > 8
    assert chinese_in(messages) == []
    assert "A resource shared on condition needs a share condition" in messages
    assert "Item 1 is of type Character and needs a data length" in messages


@pytest.mark.django_db
def test_rule_errors_stay_chinese_for_a_chinese_caller(catalog_admin) -> None:
    messages = _messages(Client(), catalog_admin)
    assert "有条件共享的资源必须填写共享条件" in messages
    assert "第1个信息项为字符型，必须填写数据长度" in messages
    assert "更新周期“hourly”无效，可选值：实时、每日、每周、每月、每季度、每半年、每年、不定期" in messages


@pytest.mark.django_db
def test_a_mistyped_provider_code_is_explained_in_english(platform_admin, department) -> None:
    wrong = department.code[:17] + ("0" if department.code[17] != "0" else "1")
    client = Client()
    response = client.post(
        "/api/catalog/resources",
        {**BROKEN, "department_code": wrong},
        content_type="application/json",
        headers={**bearer(platform_admin), "Accept-Language": "en"},
    )
    assert response.status_code == 422, response.content
    messages = [e["message"] for e in response.json()["errors"] if e["field"] == "department_code"]
    assert messages, response.json()
    assert chinese_in(messages, user_data=[department.name]) == []
    assert "wrong check character" in messages[0]


@pytest.mark.django_db
def test_a_service_refusal_reads_in_the_callers_language(catalog_admin) -> None:
    path = "/api/catalog/resources/999999"
    english = Client().get(path, headers={**bearer(catalog_admin), "Accept-Language": "en"})
    chinese = Client().get(path, headers=bearer(catalog_admin))
    assert english.status_code == chinese.status_code == 404
    assert chinese.json()["detail"] == "信息资源不存在或无权访问"
    assert chinese_in([english.json()["detail"]]) == []


@pytest.mark.django_db
def test_the_entry_form_shows_rule_errors_in_english(catalog_admin) -> None:
    from govshare.catalog.tests.test_views import form_data

    client = Client()
    client.force_login(catalog_admin)
    client.cookies["django_language"] = "en"
    data = form_data(share_type="conditional", share_condition="", **{"items-1-length": ""})
    page = client.post(reverse("catalog:create"), data).content.decode()
    errors = re.findall(r'<span class="error"[^>]*>([^<]*)</span>', page)
    assert "A resource shared on condition needs a share condition" in errors
    assert "Item 2 is of type Character and needs a data length" in errors
    assert chinese_in(errors) == []


@pytest.mark.django_db
def test_a_refused_workflow_step_is_explained_in_english(catalog_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    response = Client().put(
        f"/api/catalog/resources/{resource.pk}",
        BROKEN,
        content_type="application/json",
        headers={**bearer(catalog_admin), "Accept-Language": "en"},
    )
    assert response.status_code in (409, 422), response.content
    assert chinese_in([response.json()["detail"]]) == [], response.json()
