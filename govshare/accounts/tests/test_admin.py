"""The back office: only the platform administrator gets in, and every save goes through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts import services
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.catalog import services as catalog_services
from govshare.catalog.models import Category

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def user_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": "zhangsan",
        "full_name": "张三",
        "email": "",
        "department": "",
        "is_active": "on",
        "roles": [],
        "new_password": "Zhang-San-2026-pw",
    }
    data.update(overrides)
    return data


def test_platform_admin_role_carries_staff_status_and_revoking_it_removes_it(platform_admin) -> None:
    assert platform_admin.is_staff
    services.revoke_role(platform_admin, Role.PLATFORM_ADMIN, actor=None)
    platform_admin.refresh_from_db()
    assert not platform_admin.is_staff


def test_platform_admin_sees_the_back_office(platform_admin) -> None:
    page = client_for(platform_admin).get("/admin/").content.decode()
    assert "部门" in page and "资源分类" in page and "信息资源" in page and "目录导入记录" in page


@pytest.mark.parametrize("role", [Role.CATALOG_ADMIN, Role.SECURITY_OFFICER, Role.AUDITOR])
def test_other_roles_are_sent_to_the_admin_login(department, role) -> None:
    user = testing.make_user(role, department=department)
    response = client_for(user).get("/admin/accounts/department/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_creating_a_user_goes_through_the_service_and_is_audited(platform_admin, department) -> None:
    data = user_form(department=department.pk, roles=[Role.CATALOG_ADMIN])
    response = client_for(platform_admin).post("/admin/accounts/user/add/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    user = User.objects.get(username="zhangsan")
    assert user.role_set() == {Role.CATALOG_ADMIN} and user.check_password("Zhang-San-2026-pw")
    assert AuditLog.objects.filter(action="accounts.user.create", actor=platform_admin, object_id=str(user.pk)).exists()


def test_separation_of_duties_is_refused_with_the_form_kept(platform_admin) -> None:
    data = user_form(roles=[Role.PLATFORM_ADMIN, Role.AUDITOR])
    response = client_for(platform_admin).post("/admin/accounts/user/add/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "三员分立：平台管理员、审计员不能由同一账号兼任" in page and 'value="张三"' in page
    assert not User.objects.filter(username="zhangsan").exists()


def test_service_refusal_on_change_is_shown_next_to_the_roles(platform_admin) -> None:
    auditor = testing.make_user(Role.AUDITOR, username="shenji")
    data = user_form(username="shenji", full_name="审计员甲", roles=[Role.AUDITOR, Role.SECURITY_OFFICER])
    data["new_password"] = ""
    response = client_for(platform_admin).post(f"/admin/accounts/user/{auditor.pk}/change/", data)
    assert response.status_code == 200
    assert "三员分立" in response.content.decode()
    assert User.objects.get(pk=auditor.pk).role_set() == {Role.AUDITOR}


def test_changing_roles_assigns_and_revokes_through_the_services(platform_admin, department) -> None:
    user = testing.make_user(Role.CONSUMER, department=department, username="lisi")
    data = user_form(username="lisi", full_name="李四", department=department.pk, roles=[Role.CATALOG_ADMIN])
    data["new_password"] = ""
    response = client_for(platform_admin).post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302
    user = User.objects.get(pk=user.pk)
    assert user.role_set() == {Role.CATALOG_ADMIN} and user.full_name == "李四"
    actions = set(AuditLog.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert {"accounts.role.revoke", "accounts.role.assign", "accounts.user.update"} <= actions


def test_department_with_an_invalid_code_is_refused_by_the_service_message(platform_admin) -> None:
    data = {"code": "123", "name": "市民政局", "short_name": "", "level": "city", "parent": "", "region_code": ""}
    response = client_for(platform_admin).post("/admin/accounts/department/add/", data)
    assert response.status_code == 200
    assert "部门代码无效" in response.content.decode()
    assert not Department.objects.filter(name="市民政局").exists()


def test_department_is_created_through_the_service(platform_admin) -> None:
    code = testing.department_code(123)
    data = {"code": code, "name": "市民政局", "short_name": "民政", "level": "city", "parent": "", "region_code": ""}
    data["is_active"] = "on"
    response = client_for(platform_admin).post("/admin/accounts/department/add/", data)
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="accounts.department.create", object_repr="市民政局").exists()


def test_category_is_added_under_its_parent_through_the_service(platform_admin) -> None:
    parent = Category.objects.get(code="101")
    data = {"parent": parent.pk, "segment": "001", "name": "户籍人口", "description": ""}
    response = client_for(platform_admin).post("/admin/catalog/category/add/", data)
    assert response.status_code == 302
    assert Category.objects.get(code="101001").name == "户籍人口"
    assert AuditLog.objects.filter(action="catalog.category.create").exists()


def test_resources_are_read_only_in_the_back_office(platform_admin, catalog_admin) -> None:
    resource = catalog_services.create_resource(testing.resource_draft(catalog_admin.department), actor=catalog_admin)
    client = client_for(platform_admin)
    assert resource.code in client.get("/admin/catalog/resource/").content.decode()
    response = client.post(f"/admin/catalog/resource/{resource.pk}/change/", {"name": "改名"})
    assert response.status_code == 403
    assert client.post(f"/admin/catalog/resource/{resource.pk}/delete/").status_code == 403


def test_platform_admin_revokes_a_leaked_token_through_the_service(platform_admin, catalog_admin) -> None:
    token, raw = services.create_api_token(catalog_admin, name="泄露的令牌", scope="write", actor=catalog_admin)
    data = {"action": "revoke_tokens", "_selected_action": [token.pk]}
    response = client_for(platform_admin).post("/admin/accounts/apitoken/", data)
    assert response.status_code == 302
    assert services.user_for_token(raw) is None
    assert AuditLog.objects.filter(action="accounts.token.revoke", actor=platform_admin).exists()
