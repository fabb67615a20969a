import pytest
from django.test import Client

from govshare.catalog import services
from govshare.testing import resource_draft
from govshare.testing.api import bearer

PAYLOAD = {
    "name": "企业登记基本信息",
    "category_code": "102",
    "summary": "市场主体登记的基本信息，包括统一社会信用代码、名称、法定代表人、住所和经营范围。",
    "format": "database",
    "share_type": "unconditional",
    "share_method": "platform",
    "platform_share_type": "table",
    "open_type": "conditional",
    "open_condition": "向社会开放时去除法定代表人证件号码",
    "update_cycle": "daily",
    "items": [
        {"name": "统一社会信用代码", "data_type": "C", "length": 18},
        {"name": "企业名称", "data_type": "C", "length": 200},
    ],
}


@pytest.mark.django_db
def test_anonymous_caller_gets_401_in_chinese() -> None:
    response = Client().get("/api/catalog/resources")
    assert response.status_code == 401
    assert response.json()["detail"] == "未登录或令牌无效"


@pytest.mark.django_db
def test_token_holder_creates_a_draft_for_own_department(catalog_admin) -> None:
    response = Client().post(
        "/api/catalog/resources", PAYLOAD, content_type="application/json", headers=bearer(catalog_admin)
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["department_code"] == catalog_admin.department.code
    assert body["code"].startswith("102000000/")


@pytest.mark.django_db
def test_invalid_payload_answers_422_naming_each_field(catalog_admin) -> None:
    payload = {**PAYLOAD, "share_type": "conditional", "update_cycle": "hourly"}
    response = Client().post(
        "/api/catalog/resources", payload, content_type="application/json", headers=bearer(catalog_admin)
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"share_condition", "update_cycle"} <= fields


@pytest.mark.django_db
def test_other_departments_draft_answers_404(catalog_admin, outsider, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    client = Client()
    for path in (f"/api/catalog/resources/{resource.pk}", f"/api/catalog/resources/{resource.pk}/versions"):
        assert client.get(path, headers=bearer(outsider)).status_code == 404
    response = client.post(f"/api/catalog/resources/{resource.pk}/submit", headers=bearer(outsider))
    assert response.status_code == 404


@pytest.mark.django_db
def test_published_entry_is_readable_by_every_signed_in_user(catalog_admin, platform_admin, outsider, department):
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    services.publish_resource(resource, actor=platform_admin)
    response = Client().get(f"/api/catalog/resources/{resource.pk}", headers=bearer(outsider))
    assert response.status_code == 200
    assert response.json()["items"][0]["name"] == "公民身份号码"
    # Review history stays with the owning department.
    assert Client().get(f"/api/catalog/resources/{resource.pk}/versions", headers=bearer(outsider)).status_code == 404


@pytest.mark.django_db
def test_session_write_without_csrf_token_is_refused(catalog_admin) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(catalog_admin)
    response = client.post("/api/catalog/resources", PAYLOAD, content_type="application/json")
    assert response.status_code in (401, 403)


@pytest.mark.django_db
def test_list_pages_with_totals(catalog_admin, department) -> None:
    for n in range(3):
        services.create_resource(resource_draft(department, name=f"资源{n}"), actor=catalog_admin)
    response = Client().get("/api/catalog/resources?page=2&page_size=2", headers=bearer(catalog_admin))
    body = response.json()
    assert body["total"] == 3 and body["page"] == 2 and len(body["items"]) == 1


@pytest.mark.django_db
def test_openapi_document_is_served(db) -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert "/api/catalog/resources" in response.json()["paths"]


@pytest.mark.django_db
def test_platform_administrator_edits_the_classification_tree(platform_admin, catalog_admin) -> None:
    created = Client().post(
        "/api/catalog/categories",
        {"parent_code": "101", "segment": "001", "name": "户籍人口"},
        content_type="application/json",
        headers=bearer(platform_admin),
    )
    assert created.status_code == 201 and created.json()["code"] == "101001"
    renamed = Client().put(
        "/api/catalog/categories/101001",
        {"name": "户籍人口信息", "is_active": True},
        content_type="application/json",
        headers=bearer(platform_admin),
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "户籍人口信息"
    refused = Client().put(
        "/api/catalog/categories/101001",
        {"name": "改名"},
        content_type="application/json",
        headers=bearer(catalog_admin),
    )
    assert refused.status_code == 403
