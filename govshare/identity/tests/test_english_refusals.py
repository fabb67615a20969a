"""An English reader is refused in English by identity's rules (connected systems, their tokens, a temporary
password), with the values the refusal carries; a Chinese reader as before."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.core.errors import ValidationFailed
from govshare.identity import services
from govshare.identity.models import PasswordChangeRequired
from govshare.testing.english import chinese_in

pytestmark = pytest.mark.django_db

BAD_SYSTEM = {"code": "-x", "name": " ", "contact_phone": "12345", "contact_name": "x" * 51}


@pytest.fixture
def catalog_admin(department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=department, username="gaj_admin")


def _refusal(department: Department, actor: User) -> list[str]:
    data = services.SystemInput(department=department, purpose="", **BAD_SYSTEM)
    with pytest.raises(ValidationFailed) as refused:
        services.register_information_system(data, actor=actor)
    # As the pages and the API show them: a fixed message is translated when shown.
    return [refused.value.text, *(gettext(p.message) for p in refused.value.problems)]


def test_a_refused_system_is_explained_in_english(department: Department, catalog_admin: User) -> None:
    with translation.override("en"):
        messages = _refusal(department, catalog_admin)
    assert len(messages) == 5 and chinese_in(messages) == [], messages
    assert "Contact phone “12345” should be an 11-digit mobile number or a landline with its area code" in messages


def test_a_refused_system_is_explained_in_chinese_by_default(department: Department, catalog_admin: User) -> None:
    assert _refusal(department, catalog_admin) == [
        "接入系统信息有误",
        "系统编码“-x”应为 2–40 位字母、数字或连字符，且以字母或数字开头",
        "系统名称不能为空",
        "技术联系人姓名最多 50 个字",
        "联系电话“12345”应为 11 位手机号或带区号的固定电话",
    ]


def test_a_system_token_on_a_staff_route_is_refused_in_english(department: Department, catalog_admin: User) -> None:
    system = services.register_information_system(
        services.SystemInput(code="gaj-hjxt", name="Household register", department=department), actor=catalog_admin
    )
    credential, secret = services.issue_system_credential(system, actor=catalog_admin)
    token = (
        Client()
        .post(
            "/o/token/",
            {
                "grant_type": "client_credentials",
                "client_id": credential.application.client_id,
                "client_secret": secret,
                "scope": "api",
            },
        )
        .json()["access_token"]
    )
    answer = Client().get("/api/accounts/me", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith("This access token was issued by the client-credentials grant")


def test_an_api_call_on_a_temporary_password_is_refused_in_english(department: Department) -> None:
    user = testing.make_user(Role.CONSUMER, department=department, password="Temporary-2026-pw")
    PasswordChangeRequired.objects.create(user=user)
    client = Client(headers={"Accept-Language": "en"})
    client.post("/login/", {"username": user.username, "password": "Temporary-2026-pw"})
    answer = client.get("/api/accounts/me")
    assert (answer.status_code, answer.json()["detail"]) == (
        403,
        "An administrator set a temporary password for you: change your password first",
    )
