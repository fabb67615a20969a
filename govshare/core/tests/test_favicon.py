"""The platform has an icon: every page of the base template links it, and /favicon.ico (asked for by browsers on
pages without the link) leads to an icon file that exists among the static files, instead of a 404."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_an_ico_among_the_static_files() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/govshare/favicon.ico"
    found = finders.find("govshare/favicon.ico")
    assert found is not None
    with open(found, "rb") as icon:
        # ICONDIR: reserved 0, type 1 (icon), then the image count.
        assert icon.read(4) == b"\x00\x00\x01\x00"


def test_the_base_template_links_the_svg_icon(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    response = client.get(reverse("catalog:browse"))
    assert response.status_code == 200
    link = '<link rel="icon" href="/static/govshare/favicon.svg" type="image/svg+xml">'
    assert link in response.content.decode()
    found = finders.find("govshare/favicon.svg")
    assert found is not None
    with open(found, encoding="utf-8") as icon:
        assert icon.read().startswith("<svg ")


def test_the_login_page_links_it_too() -> None:
    assert 'rel="icon"' in Client().get(reverse("login")).content.decode()
