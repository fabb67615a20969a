"""The API docs page (Swagger UI at /api/docs) sits under the platform's bar, which leads back to the platform."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role


@pytest.mark.django_db
def test_the_api_docs_lead_back_to_the_platform() -> None:
    client = Client()
    client.force_login(testing.make_user(Role.CONSUMER, department=testing.make_department()))
    html = client.get("/api/docs").content.decode()
    assert re.search(r'<a class="docs-back" href="/">.*返回平台</a>', html)
    assert 'id="swagger-ui"' in html


@pytest.mark.django_db
def test_the_api_docs_bar_speaks_english_to_english_readers() -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(testing.make_user(Role.CONSUMER, department=testing.make_department()))
    html = client.get("/api/docs").content.decode()
    assert "Back to the platform" in html
    assert '<html lang="en">' in html


@pytest.mark.django_db
def test_the_api_docs_are_reachable_without_signing_in() -> None:
    # The docs describe the API to a developer holding only a token; the page itself reads no data.
    assert Client().get("/api/docs").status_code == 200
