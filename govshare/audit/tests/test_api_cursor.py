"""The auditor reads a long audit log page by page with a cursor (after): every row once, however fast it grows."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.audit.services import record_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor() -> Client:
    client = Client()
    client.force_login(testing.make_user(Role.AUDITOR, username="auditor1"))
    return client


@pytest.fixture
def actor() -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=testing.make_department(), username="cat1")


def _log(actor: User, n: int) -> AuditLog:
    with transaction.atomic():
        return record_action(actor, "resource.update", object_type="catalog.resource", object_id=str(n))


def test_following_next_after_visits_every_row_once_while_rows_are_appended(auditor: Client, actor: User) -> None:
    for n in range(7):
        _log(actor, n)
    existing = list(AuditLog.objects.order_by("-id").values_list("id", flat=True))

    body = auditor.get("/api/audit/logs", {"page_size": 3}).json()
    visited = [item["id"] for item in body["items"]]
    appended = 0
    while body["next_after"] is not None and appended < 10:  # 3 pages of existing rows need 2 more requests
        _log(actor, 100 + appended)  # a new row arrives between two pages
        appended += 1
        body = auditor.get("/api/audit/logs", {"page_size": 3, "after": body["next_after"]}).json()
        visited += [item["id"] for item in body["items"]]

    assert appended >= 2
    assert visited == existing


def test_the_cursor_keeps_the_filters_of_the_list(auditor: Client, actor: User) -> None:
    wanted = [_log(actor, 7).id for _ in range(3)]
    _log(actor, 8)

    first = auditor.get("/api/audit/logs", {"object_id": "7", "page_size": "2"}).json()
    rest = auditor.get(
        "/api/audit/logs", {"object_id": "7", "page_size": "2", "after": str(first["next_after"])}
    ).json()

    assert [item["id"] for item in first["items"] + rest["items"]] == sorted(wanted, reverse=True)
    assert rest["next_after"] is None


def test_a_page_number_answer_names_the_next_page_by_cursor_too(auditor: Client, actor: User) -> None:
    for n in range(3):
        _log(actor, n)
    newest_first = list(AuditLog.objects.order_by("-id").values_list("id", flat=True))

    second = auditor.get("/api/audit/logs", {"page": 2, "page_size": 1}).json()
    after_second = auditor.get("/api/audit/logs", {"page_size": 1, "after": second["next_after"]}).json()

    assert [item["id"] for item in after_second["items"]] == [newest_first[2]]


def test_a_made_up_cursor_is_refused_422_naming_after(auditor: Client, actor: User) -> None:
    _log(actor, 1)
    response = auditor.get("/api/audit/logs", {"after": "eyJub3QiOiJhIGxpc3QifQ"})
    assert response.status_code == 422
    assert [problem["field"] for problem in response.json()["errors"]] == ["after"]
