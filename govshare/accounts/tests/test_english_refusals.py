"""An English reader is refused in English by the accounts' rules (separated roles, tokens, departments), with the
names and values the refusal carries; a Chinese reader as before."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts import services
from govshare.accounts.choices import Role
from govshare.accounts.models import RoleGrantRequest, User
from govshare.testing.api import bearer
from govshare.testing.english import chinese_in

pytestmark = pytest.mark.django_db


def _page_messages(user: User, grant: RoleGrantRequest, language: str, **data: str) -> list[str]:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    page = client.post(f"/account/role-grants/{grant.pk}/decide/", data, follow=True).content.decode()
    return [html.unescape(m) for m in re.findall(r'<li class="message [^"]*">(.*?)</li>', page)]


@pytest.fixture
def grant(platform_admin, department) -> RoleGrantRequest:  # type: ignore[no-untyped-def]
    testing.make_user(Role.SECURITY_OFFICER, username="security")
    candidate = testing.make_user(Role.CONSUMER, department=department, username="candidate")
    return services.propose_role_grant(candidate, Role.AUDITOR, actor=platform_admin)


def test_the_proposer_is_told_in_english_who_decides_the_grant(platform_admin, grant) -> None:  # type: ignore[no-untyped-def]
    messages = _page_messages(platform_admin, grant, "en", decision="confirm")
    assert messages == [
        "Separation of duties: only a Security officer may confirm or reject a proposal to grant Auditor"
    ]


def test_the_proposer_is_told_in_chinese_by_default(platform_admin, grant) -> None:  # type: ignore[no-untyped-def]
    messages = _page_messages(platform_admin, grant, "zh-hans", decision="confirm")
    assert messages == ["三员分立：只有安全管理员可以确认或拒绝授予审计员的申请"]


def _token_refusal(user: User, language: str) -> list[str]:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    body = {"name": " ", "scope": "write", "expires_at": "2999-01-01T00:00:00+08:00"}
    response = client.post("/api/accounts/tokens", body, content_type="application/json")
    assert response.status_code == 422, response.content
    return [response.json()["detail"], *(e["message"] for e in response.json()["errors"])]


def test_a_refused_token_is_explained_in_english(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    messages = _token_refusal(catalog_admin, "en")
    assert chinese_in(messages) == [], messages
    assert any("at most 365 days" in m for m in messages), messages


def test_a_refused_token_is_explained_in_chinese_by_default(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    assert _token_refusal(catalog_admin, "zh-hans")[1:] == [
        "令牌名称不能为空",
        "令牌有效期最长 365 天（GOVSHARE_API_TOKEN_MAX_DAYS），请选择更早的过期时间",
    ]


def test_a_token_minting_a_token_is_refused_in_english(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    response = Client().post(
        "/api/accounts/tokens",
        {"name": "ci"},
        content_type="application/json",
        headers={**bearer(catalog_admin), "Accept-Language": "en"},
    )
    assert response.status_code == 403
    assert response.json()["detail"].startswith("A token cannot create tokens")
