"""The back office's pages as Django renders them: the OIDC provider's group is named 接入系统 and its model
OAuth2 客户端, and no change list carries an inline style (the Content-Security-Policy refuses style="" and style
elements)."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog.models import Category

pytestmark = pytest.mark.django_db

INLINE_STYLE = re.compile(r"<style|\sstyle=", re.IGNORECASE)


def _platform_admin() -> Client:
    client = Client()
    client.force_login(testing.make_user(Role.PLATFORM_ADMIN))
    return client


def test_the_oidc_providers_group_reads_jieru_xitong() -> None:
    page = _platform_admin().get("/admin/").content.decode()
    assert re.search(r'<a href="/admin/oauth2_provider/"[^>]*>\s*接入系统\s*</a>', page), page
    assert "Django OAuth Toolkit" not in page


def test_the_oidc_providers_group_is_named_in_english_for_english_readers() -> None:
    client = _platform_admin()
    page = client.get("/admin/", headers={"accept-language": "en"}).content.decode()
    assert re.search(r'<a href="/admin/oauth2_provider/"[^>]*>\s*Information system', page)


def test_the_oauth_client_model_is_named_in_chinese_in_the_admin_index() -> None:
    page = _platform_admin().get("/admin/").content.decode()
    assert re.search(r'<a href="/admin/oauth2_provider/application/"[^>]*>\s*OAuth2 客户端\s*</a>', page), page
    assert "Applications" not in page


def test_the_oauth_client_model_is_named_in_english_for_english_readers() -> None:
    page = _platform_admin().get("/admin/", headers={"accept-language": "en"}).content.decode()
    assert re.search(r'<a href="/admin/oauth2_provider/application/"[^>]*>\s*OAuth2 clients\s*</a>', page), page


def test_the_oauth_client_change_list_is_titled_in_chinese() -> None:
    page = _platform_admin().get("/admin/oauth2_provider/application/").content.decode()
    assert re.search(r"<title>[^<]*OAuth2 客户端", page), page


def test_the_category_tree_is_indented_by_class_not_inline_style() -> None:
    assert Category.objects.filter(level=2).exists()  # the seeded classification has deeper levels
    page = _platform_admin().get("/admin/catalog/category/").content.decode()
    assert 'class="category-level-2"' in page
    assert "govshare/admin.css" in page
    assert not INLINE_STYLE.search(page)


def test_a_change_list_without_actions_has_no_inline_style(monkeypatch: pytest.MonkeyPatch) -> None:
    # Django adds a style element to a change list that shows no action bar.
    category_admin = admin.site.get_model_admin(Category)
    monkeypatch.setattr(category_admin, "actions_on_top", False)
    monkeypatch.setattr(category_admin, "actions_on_bottom", False)
    page = _platform_admin().get("/admin/catalog/category/").content.decode()
    assert not INLINE_STYLE.search(page)
    assert re.search(r'<body class="[^"]*\bno-actions\b', page)


@pytest.mark.parametrize("path", ["/admin/", "/admin/oauth2_provider/application/add/", "/admin/accounts/user/"])
def test_admin_pages_have_no_inline_style(path: str) -> None:
    page = _platform_admin().get(path).content.decode()
    assert not INLINE_STYLE.search(page)
