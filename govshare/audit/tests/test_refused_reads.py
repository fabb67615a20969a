"""Refused attempts to read data are in the audit log, a few rows however many attempts (a scanner cannot flood it),
and the answers stay what they were."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.utils import translation

from govshare import testing
from govshare.accounts.models import Department, User
from govshare.audit import actions, refusals
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.testing.clock import minutes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese() -> Iterator[None]:
    """Each test starts in the platform's default language (a page asked for in English switches the thread's)."""
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def resource(department: Department) -> Resource:
    return testing.make_published_resource(department)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _refusals() -> list[AuditLog]:
    return list(AuditLog.objects.filter(action=refusals.ACTION).order_by("id"))


def _at(monkeypatch: pytest.MonkeyPatch, minute: int) -> None:
    monkeypatch.setattr(refusals.RefusedDataAccessMiddleware, "clock", staticmethod(lambda: minutes(minute)))


def test_a_refused_preview_is_audited_with_what_was_refused(outsider: User, resource: Resource) -> None:
    path = f"/datasets/resources/{resource.pk}/preview/"
    response = _client(outsider).get(path)
    assert response.status_code == 404
    [row] = _refusals()
    assert (row.actor, row.object_type, row.object_id) == (outsider, "catalog.resource", str(resource.pk))
    assert row.extra["refused"] == "预览数据" and row.extra["path"] == path and row.extra["http_status"] == 404
    assert actions.outcome(row.action, row.extra) == actions.Outcome.REFUSED
    assert actions.describe(row.action, row.extra) == f"预览数据；GET {path}；答复 404"


def test_what_was_refused_is_named_by_the_kind_of_path_and_read_in_the_readers_language(
    outsider: User, resource: Resource
) -> None:
    _client(outsider).get(f"/datasets/resources/{resource.pk}/")
    [row] = _refusals()
    assert row.extra["refused"] == "查看资源的数据"  # stored in Chinese, as every row's details
    with translation.override("en"):
        assert actions.label(row.action) == "Data access refused"
        assert actions.outcome(row.action, row.extra).label == "Refused"
        assert actions.describe(row.action, row.extra).startswith("View a resource's data; GET ")


def test_probing_500_ids_on_two_kinds_of_path_makes_a_handful_of_rows(outsider: User, resource: Resource) -> None:
    client = _client(outsider)
    ids = [resource.pk, *range(resource.pk + 1, resource.pk + 500)]
    pages = [client.get(f"/datasets/resources/{pk}/download/").status_code for pk in ids]
    api = [client.get(f"/api/datasets/resources/{pk}/dataset/preview").status_code for pk in ids[:100]]
    assert set(pages) == {404} and set(api) == {404}
    rows = _refusals()
    assert 2 <= len(rows) <= 4  # one per kind of path and minute (the probe may straddle a minute)
    assert {row.extra["refused"] for row in rows} == {"下载数据", "预览数据"}


def test_made_up_paths_cannot_open_new_kinds(outsider: User, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(outsider)
    _at(monkeypatch, 0)
    answers = {client.get(f"/datasets/probe-{n}/x/").status_code for n in range(200)}
    answers |= {client.get(f"/api/datasets/probe-{n}").status_code for n in range(100)}
    assert answers == {404}
    rows = _refusals()
    assert [(row.extra["refused"], row.extra["path"]) for row in rows] == [
        ("访问数据", "/datasets/probe-0/x/"),
        ("访问数据", "/api/datasets/probe-0"),
    ]


def test_the_next_row_counts_the_refusals_left_out(outsider: User, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(outsider)
    _at(monkeypatch, 0)
    for pk in range(1000, 1005):
        client.get(f"/datasets/loads/{pk}/")
    _at(monkeypatch, 1)
    client.get("/datasets/loads/2000/")
    first, second = _refusals()
    assert "suppressed" not in first.extra or first.extra["suppressed"] is None
    assert second.extra["suppressed"] == 4 and second.object_id == "2000"
    assert "此前同类拒绝另有 4 次未逐条记录" in actions.describe(second.action, second.extra)


def test_each_account_is_limited_on_its_own(
    outsider: User, department: Department, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = testing.make_user("consumer", department=testing.make_department())
    _at(monkeypatch, 0)
    for user in (outsider, other, outsider, other):
        _client(user).get("/datasets/loads/99999/")
    assert [row.actor for row in _refusals()] == [outsider, other]


def test_anonymous_answers_and_other_paths_are_not_audited(outsider: User) -> None:
    Client().get("/datasets/loads/99999/")
    _client(outsider).get("/catalog/resources/99999/")
    _client(outsider).get("/no-such-page/")
    assert _refusals() == []
