"""The personal API token page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from govshare.accounts import services
from govshare.accounts.models import ApiToken
from govshare.accounts.services import user_for_token

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_created_token_is_shown_once_and_works(catalog_admin) -> None:
    client = client_for(catalog_admin)
    page = client.post(reverse("accounts:tokens"), {"name": "数据同步脚本"}).content.decode()
    raw = re.search(r'class="token-value" readonly value="(gs_[^"]+)"', page)
    assert raw is not None and user_for_token(raw.group(1)) == catalog_admin
    assert raw.group(1) not in client.get(reverse("accounts:tokens")).content.decode()


def test_token_without_name_shows_the_chinese_error(catalog_admin) -> None:
    page = client_for(catalog_admin).post(reverse("accounts:tokens"), {"name": " "}).content.decode()
    assert "令牌名称不能为空" in page
    assert not ApiToken.objects.exists()


def test_token_revoked_from_the_page_no_longer_authenticates(catalog_admin) -> None:
    token, raw = services.create_api_token(catalog_admin, name="旧脚本", scope="write", actor=catalog_admin)
    client_for(catalog_admin).post(reverse("accounts:revoke_token", args=[token.pk]))
    assert user_for_token(raw) is None


def test_another_users_token_cannot_be_revoked(catalog_admin, outsider) -> None:
    token, raw = services.create_api_token(catalog_admin, name="旧脚本", scope="write", actor=catalog_admin)
    response = client_for(outsider).post(reverse("accounts:revoke_token", args=[token.pk]))
    assert response.status_code == 404 and user_for_token(raw) == catalog_admin
