"""The identity pages speak the user's language (Chinese by default, English when asked)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_security_page_in_chinese_by_default(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    page = client.get("/account/security/").content.decode()
    assert "账号安全" in page
    assert "启用二次验证" in page


def test_security_page_in_english(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(catalog_admin)
    page = client.get("/account/security/").content.decode()
    assert "Account security" in page
    assert "Turn on the second factor" in page
    assert "启用二次验证" not in page


def test_security_pages_need_a_signed_in_user() -> None:
    for url in ("/account/security/", "/account/security/password/"):
        assert Client().get(url)["Location"].startswith("/login/?next=")


def test_every_page_links_to_the_security_page(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    assert 'href="/account/security/"' in client.get("/account/tokens/").content.decode()
