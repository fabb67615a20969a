"""Registering a provider's own API (登记提供部门接口): who may, what address it may point at (the sources'
connection policy), precise Chinese errors, the credential encrypted and never shown back, on the page and the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.core.errors import NotFound, PermissionDenied, ValidationFailed
from govshare.gateway.models import ProviderService
from govshare.gateway.provider_services import (
    ProviderServiceInput,
    register_provider_service,
    update_provider_service,
)
from govshare.sources.connection_policy import REFUSED
from govshare.testing.provider_api import API_KEY, API_KEY_HEADER, MAPPING, OPERATIONS
from govshare.testing.sharing import PEOPLE_ITEMS

BASE = "https://api.gaj.example.invalid/v1"  # never resolves: judged again at every call


@pytest.fixture
def resource(provider: Department) -> Resource:
    return testing.make_published_resource(provider, items=PEOPLE_ITEMS, data_level="L2", name="常住人口（部门接口）")


@pytest.fixture
def admin(provider: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=provider)


def data(resource: Resource, **fields: Any) -> ProviderServiceInput:
    values: dict[str, Any] = {
        "resource_id": resource.pk,
        "base_url": BASE,
        "operations": [dict(op) for op in OPERATIONS],
        "mapping": dict(MAPPING),
        "auth_kind": "header",
        "auth_name": API_KEY_HEADER,
        "secret": API_KEY,
        "timeout_seconds": 5.0,
        **fields,
    }
    return ProviderServiceInput(**values)


def problems(error: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {problem.field: problem.message for problem in error.value.problems}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/api",
        "http://0177.0.0.1/",
        "http://localhost/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_a_base_url_the_sources_may_not_reach_is_refused(resource: Resource, admin: User, url: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        register_provider_service(data(resource, base_url=url), actor=admin)
    assert problems(error)["base_url"] == REFUSED
    assert not ProviderService.objects.exists()


def test_credentials_in_the_url_are_refused(resource: Resource, admin: User) -> None:
    with pytest.raises(ValidationFailed) as error:
        register_provider_service(data(resource, base_url="https://u:p@api.example.invalid/"), actor=admin)
    assert "用户名、密码" in problems(error)["base_url"]


def test_another_departments_catalogue_admin_gets_404_and_a_colleague_without_the_role_403(
    resource: Resource, other_department: Department
) -> None:
    outsider = testing.make_user(Role.CATALOG_ADMIN, department=other_department)
    with pytest.raises(NotFound):
        register_provider_service(data(resource), actor=outsider)
    reviewer = testing.make_user(Role.DEPT_REVIEWER, department=resource.department)
    with pytest.raises(PermissionDenied):
        register_provider_service(data(resource), actor=reviewer)
    assert not ProviderService.objects.exists()


def test_bad_input_gets_precise_chinese_errors(resource: Resource, admin: User) -> None:
    bad = data(
        resource,
        operations=[
            {"name": "person", "method": "DELETE", "path": "people/{sfzh}", "params": {"sfzh": "公民身份号码"}},
            {"name": "person", "method": "GET", "path": "/p/{id}", "params": {"sfzh": "社保卡号"}},
        ],
        mapping={"姓名": "data..xm", "婚姻状况": "data.records[].hy", "区县": "rows[].qx"},
        auth_name="",
        timeout_seconds=0,
    )
    with pytest.raises(ValidationFailed) as error:
        register_provider_service(bad, actor=admin)
    messages = [(p.field, p.message) for p in error.value.problems]
    text = json.dumps(messages, ensure_ascii=False)
    assert ("operations[1]", "第 1 个接口操作：请求方法只能是 GET 或 POST") in messages
    assert "第 1 个接口操作：路径应以 / 开头" in text
    assert ("operations[2]", "第 2 个接口操作：名称“person”重复") in messages
    assert "参数“sfzh”对应的“社保卡号”不是本资源的信息项" in text
    assert "路径中的参数 {id} 没有对应的信息项" in text
    assert "信息项“姓名”的返回字段路径“data..xm”不正确" in text
    assert "返回字段映射中的“婚姻状况”不是本资源的信息项" in text
    assert ("auth_name", "请填写放置密钥的请求头名称，如 X-Api-Key") in messages
    assert ("timeout_seconds", "超时应为 1–30 秒") in messages


def test_mapping_paths_must_name_one_list_of_records(resource: Resource, admin: User) -> None:
    with pytest.raises(ValidationFailed) as error:
        register_provider_service(
            data(resource, mapping={"姓名": "data.records[].xm", "区县": "data.other[].qx"}), actor=admin
        )
    assert "同一个记录列表" in problems(error)["mapping"]


def test_a_resource_not_shared_by_api_is_refused(provider: Department, admin: User) -> None:
    offline = testing.make_published_resource(
        provider, items=PEOPLE_ITEMS, share_method="offline", platform_share_type=""
    )
    with pytest.raises(ValidationFailed) as error:
        register_provider_service(data(offline), actor=admin)
    assert "接口" in problems(error)["resource_id"]


def test_operations_are_imported_from_an_openapi_document(resource: Resource, admin: User) -> None:
    document = {
        "openapi": "3.0.0",
        "paths": {
            "/people/{sfzh}": {
                "get": {
                    "operationId": "person",
                    "parameters": [{"name": "sfzh", "in": "path", "required": True, "x-govshare-item": "公民身份号码"}],
                }
            }
        },
    }
    service = register_provider_service(
        data(resource, operations=[], openapi=json.dumps(document, ensure_ascii=False)), actor=admin
    )
    assert service.operations == OPERATIONS


def test_the_credential_is_not_sent_to_a_new_host_unless_given_again(resource: Resource, admin: User) -> None:
    service = register_provider_service(data(resource), actor=admin)
    with pytest.raises(ValidationFailed) as error:
        update_provider_service(
            service, data(resource, base_url="https://other.example.invalid/", secret=None), actor=admin
        )
    assert "重新填写密钥" in problems(error)["secret"]
    kept = update_provider_service(service, data(resource, timeout_seconds=8.0, secret=None), actor=admin)
    assert kept.secret == service.secret
    change = AuditLog.objects.get(action="gateway.provider.change")
    assert change.extra["changes"] == {"timeout_seconds": {"from": 5.0, "to": 8.0}}
    assert API_KEY not in json.dumps(list(AuditLog.objects.values_list("extra", flat=True)), ensure_ascii=False)


def test_the_page_registers_a_service_and_never_shows_the_credential(
    resource: Resource, admin: User, client: Client
) -> None:
    client.force_login(admin)
    form = {
        "resource": resource.pk,
        "base_url": BASE,
        "operations": "person GET /people/{sfzh} sfzh=公民身份号码",
        "mapping": "\n".join(f"{item}={path}" for item, path in MAPPING.items()),
        "auth_kind": "header",
        "auth_name": API_KEY_HEADER,
        "secret": API_KEY,
        "timeout_seconds": "5",
        "is_active": "on",
    }
    answer = client.post("/gateway/providers/new/", form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    service = ProviderService.objects.get()
    assert service.operations == OPERATIONS and service.mapping == MAPPING
    page = client.get(f"/gateway/providers/{service.pk}/").content.decode()
    assert "已设置" in page and API_KEY not in page and service.secret not in page
    listing = client.get("/gateway/providers/").content.decode()
    assert resource.name in listing


def test_the_page_shows_precise_errors_on_the_fields(resource: Resource, admin: User, client: Client) -> None:
    client.force_login(admin)
    form = {
        "resource": resource.pk,
        "base_url": "http://127.0.0.1/",
        "operations": "person GET",
        "mapping": "姓名",
        "auth_kind": "none",
        "timeout_seconds": "5",
    }
    page = client.post("/gateway/providers/new/", form).content.decode()
    assert "第 1 行应为“名称 方法 路径 参数=信息项”" in page
    assert "第 1 行应为 信息项=返回字段路径" in page
    assert not ProviderService.objects.exists()


def test_another_departments_service_page_is_404(
    resource: Resource, admin: User, client: Client, other_department: Department
) -> None:
    service = register_provider_service(data(resource), actor=admin)
    client.force_login(testing.make_user(Role.CATALOG_ADMIN, department=other_department))
    assert client.get(f"/gateway/providers/{service.pk}/").status_code == 404
    assert client.post(f"/gateway/providers/{service.pk}/", {"base_url": BASE}).status_code == 404


def test_the_api_registers_and_answers_the_credential_only_as_set(resource: Resource, admin: User) -> None:
    client = Client()
    client.force_login(admin)
    payload = {
        "resource_id": resource.pk,
        "base_url": BASE,
        "operations": OPERATIONS,
        "mapping": MAPPING,
        "auth_kind": "header",
        "auth_name": API_KEY_HEADER,
        "secret": API_KEY,
        "timeout_seconds": 5,
    }
    answer = client.post("/api/gateway/provider-services", payload, content_type="application/json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["credential"] == "已设置" and API_KEY not in answer.content.decode()
    again = client.get(f"/api/gateway/provider-services/{body['id']}")
    assert again.status_code == 200 and API_KEY not in again.content.decode()
    bad = client.post(
        "/api/gateway/provider-services",
        {**payload, "base_url": "http://169.254.169.254/"},
        content_type="application/json",
    )
    assert bad.status_code in (409, 422)
