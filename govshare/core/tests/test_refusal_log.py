"""A refused request (403) writes one line to the server log (status, method, path, user id, Django's reason), never
a traceback; a server error keeps its traceback."""

from __future__ import annotations

import logging
import sys

import pytest
from django.test import Client
from django.urls import reverse

from govshare.core.refusal_log import OneLineRefusals
from govshare.testing.api import bearer

pytestmark = pytest.mark.django_db


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "status_code", None) == 403]


def test_a_refused_page_is_one_line_naming_path_and_user(catalog_admin, caplog) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    with caplog.at_level(logging.INFO):
        response = client.get("/audit/?actor=%E5%BC%A0%E4%B8%89")
    assert response.status_code == 403
    (record,) = _refusals(caplog)
    assert record.getMessage() == f"403 GET /audit/ user={catalog_admin.pk} Forbidden (Permission denied)"
    assert record.exc_info is None
    assert "Traceback" not in caplog.text


def test_a_form_post_without_its_csrf_token_is_one_line_too(catalog_admin, caplog) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(catalog_admin)
    with caplog.at_level(logging.INFO):
        response = client.post(reverse("catalog:create"), {"name": "x"})
    assert response.status_code == 403
    (record,) = _refusals(caplog)
    assert record.getMessage().startswith(
        f"403 POST {reverse('catalog:create')} user={catalog_admin.pk} Forbidden (CSRF"
    )


def test_an_api_refusal_names_the_token_holder(catalog_admin, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO):
        response = Client().get("/api/audit/logs", headers=bearer(catalog_admin))
    assert response.status_code == 403, response.content
    (record,) = _refusals(caplog)
    assert record.getMessage() == f"403 GET /api/audit/logs user={catalog_admin.pk} Forbidden"


def test_a_path_with_a_line_break_stays_on_one_line() -> None:
    from django.test import RequestFactory

    request = RequestFactory().get("/audit/%0Aforged")
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden: %s", ("x",), None)
    record.status_code, record.request = 403, request
    OneLineRefusals().filter(record)
    assert "\n" not in record.getMessage()
    assert record.getMessage() == "403 GET /audit/\\nforged user=- Forbidden"


def test_a_server_error_keeps_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x",), exc_info
    )
    record.status_code = 500
    assert OneLineRefusals().filter(record)
    assert record.exc_info is exc_info
    assert record.getMessage() == "Internal Server Error: /x"
