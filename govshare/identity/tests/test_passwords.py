"""Password change by the user, and the temporary password an administrator sets (changed at next login)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.core.errors import PermissionDenied
from govshare.identity import services
from govshare.identity.models import PasswordChangeRequired
from govshare.testing import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW = "Brand-New-Passw0rd-26"
TEMPORARY = "Temp-Passw0rd-2026-x"


def _change(client: Client, old: str = TEST_PASSWORD, new: str = NEW, **extra: str):  # type: ignore[no-untyped-def]
    data = {"old_password": old, "new_password1": new, "new_password2": new, **extra}
    return client.post("/account/security/password/", data)


def _signed_in_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _log_in(username: str, password: str, **extra: str) -> Client:
    client = Client()
    client.post("/login/", {"username": username, "password": password, **extra})
    return client


def test_the_user_changes_their_password_and_stays_signed_in(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in_client(catalog_admin)
    assert _change(client).status_code == 302
    assert User.objects.get(pk=catalog_admin.pk).check_password(NEW)
    assert client.get("/account/security/").status_code == 200
    row = AuditLog.objects.get(action="identity.password.change")
    assert (row.actor, row.object_id) == (catalog_admin, str(catalog_admin.pk))


def test_a_wrong_current_password_is_refused(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    page = _change(_signed_in_client(catalog_admin), old="not-my-password-1")
    assert "当前密码不正确" in page.content.decode()
    assert User.objects.get(pk=catalog_admin.pk).check_password(TEST_PASSWORD)


@pytest.mark.parametrize("weak", ["Short-1", "12345678901234", "password1234"])
def test_the_project_password_rules_apply(catalog_admin, weak: str) -> None:  # type: ignore[no-untyped-def]
    page = _change(_signed_in_client(catalog_admin), new=weak)
    assert page.status_code == 200
    assert 'class="error"' in page.content.decode()
    assert User.objects.get(pk=catalog_admin.pk).check_password(TEST_PASSWORD)


def test_the_new_password_must_differ_from_the_current_one(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    page = _change(_signed_in_client(catalog_admin), new=TEST_PASSWORD)
    assert "新密码不能与当前密码相同" in page.content.decode()


def test_an_administrator_password_reset_is_temporary_and_audited(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    data = {
        "username": "gaj_admin",
        "full_name": catalog_admin.full_name,
        "email": "",
        "department": catalog_admin.department_id,
        "is_active": "on",
        "roles": [Role.CATALOG_ADMIN],
        "new_password": TEMPORARY,
    }
    answer = _signed_in_client(platform_admin).post(f"/admin/accounts/user/{catalog_admin.pk}/change/", data)
    assert answer.status_code == 302
    assert User.objects.get(pk=catalog_admin.pk).check_password(TEMPORARY)
    assert PasswordChangeRequired.objects.get(user=catalog_admin).set_by == platform_admin
    actions = list(AuditLog.objects.filter(object_id=str(catalog_admin.pk)).values_list("action", flat=True))
    assert {"accounts.user.set_password", "identity.password.set_temporary"} <= set(actions)


def test_a_user_created_in_the_back_office_changes_the_first_password(platform_admin, department) -> None:  # type: ignore[no-untyped-def]
    data = {
        "username": "zhangsan",
        "full_name": "张三",
        "email": "",
        "department": department.pk,
        "is_active": "on",
        "roles": [Role.CONSUMER],
        "new_password": TEMPORARY,
    }
    assert _signed_in_client(platform_admin).post("/admin/accounts/user/add/", data).status_code == 302
    assert PasswordChangeRequired.objects.filter(user__username="zhangsan").exists()


def test_with_a_temporary_password_every_page_leads_to_the_change_form(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    services.set_temporary_password(catalog_admin, TEMPORARY, actor=platform_admin)
    client = _log_in("gaj_admin", TEMPORARY)
    answer = client.get("/catalog/")
    assert answer["Location"] == "/account/security/password/?next=" + quote("/catalog/", safe="")
    page = client.get(answer["Location"]).content.decode()
    assert "管理员为您设置了临时密码" in page


def test_with_a_temporary_password_the_api_refuses_the_session(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    services.set_temporary_password(catalog_admin, TEMPORARY, actor=platform_admin)
    answer = _log_in("gaj_admin", TEMPORARY).get("/api/accounts/me")
    assert answer.status_code == 403
    assert answer.json()["detail"] == "管理员为您设置了临时密码，请先修改密码"


def test_after_the_change_the_user_goes_where_they_were_going(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    services.set_temporary_password(catalog_admin, TEMPORARY, actor=platform_admin)
    client = _log_in("gaj_admin", TEMPORARY)
    answer = _change(client, old=TEMPORARY, next="/account/tokens/")
    assert answer["Location"] == "/account/tokens/"
    assert client.get("/catalog/").status_code == 200
    assert not PasswordChangeRequired.objects.filter(user=catalog_admin).exists()
    assert _log_in("gaj_admin", NEW).get("/catalog/").status_code == 200


def test_an_outside_next_address_is_not_followed(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    answer = _change(_signed_in_client(catalog_admin), next="https://evil.example.com/")
    assert answer["Location"] == "/account/security/"


def test_a_password_the_user_chose_is_not_temporary(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = _log_in("gaj_admin", TEST_PASSWORD)
    assert client.get("/catalog/").status_code == 200


def test_only_a_platform_administrator_sets_a_temporary_password(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    other = testing.make_user(Role.CONSUMER, username="lisi")
    with pytest.raises(PermissionDenied):
        services.set_temporary_password(other, TEMPORARY, actor=catalog_admin)
    assert not PasswordChangeRequired.objects.filter(user=other).exists()
    assert User.objects.get(pk=other.pk).check_password(TEST_PASSWORD)


def test_the_user_page_says_the_password_it_sets_is_temporary(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    page = _signed_in_client(platform_admin).get(f"/admin/accounts/user/{catalog_admin.pk}/change/")
    assert "管理员设置的密码是临时密码：用户下次登录时必须先修改" in page.content.decode()
