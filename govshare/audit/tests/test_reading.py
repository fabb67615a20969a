"""The auditor searches, filters, pages and exports the log and verifies the chain; every other role is refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit import chain
from govshare.audit.models import AuditLog
from govshare.audit.services import record_action

pytestmark = pytest.mark.django_db

OTHER_ROLES = [Role.PLATFORM_ADMIN, Role.CATALOG_ADMIN, Role.DEPT_REVIEWER, Role.CONSUMER, Role.SECURITY_OFFICER]


@pytest.fixture
def auditor() -> User:
    return testing.make_user(Role.AUDITOR, username="auditor1")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content)


def _log(actor: User | None, action: str, object_id: str = "1", object_repr: str = "", **extra: Any) -> AuditLog:
    with transaction.atomic():
        return record_action(
            actor, action, object_type="catalog.resource", object_id=object_id, object_repr=object_repr, **extra
        )


def test_the_auditor_lists_the_log_newest_first(auditor: User, catalog_admin: User) -> None:
    first = _log(catalog_admin, "resource.create", object_repr="常住人口")
    second = _log(catalog_admin, "resource.publish", object_repr="常住人口")
    body = _client(auditor).get("/api/audit/logs").json()
    ids = [item["id"] for item in body["items"]]
    assert ids.index(second.id) < ids.index(first.id)
    assert body["total"] == AuditLog.objects.count()


def test_filter_by_actor_action_and_object(auditor: User, catalog_admin: User, platform_admin: User) -> None:
    wanted = _log(catalog_admin, "resource.publish", object_id="7", object_repr="婚姻登记")
    _log(platform_admin, "resource.publish", object_id="7")
    _log(catalog_admin, "resource.create", object_id="7")
    _log(catalog_admin, "resource.publish", object_id="8")
    query = {"actor": "gaj_admin", "action": "resource.publish", "object_type": "catalog.resource", "object_id": "7"}
    body = _client(auditor).get("/api/audit/logs", query).json()
    assert [item["id"] for item in body["items"]] == [wanted.id]
    assert _client(auditor).get("/api/audit/logs", {"q": "婚姻"}).json()["items"][0]["id"] == wanted.id


def test_action_prefix_filter(auditor: User) -> None:
    _log(None, "catalog.category.create")
    _log(None, "resource.create")
    actions = {i["action"] for i in _client(auditor).get("/api/audit/logs", {"action": "catalog."}).json()["items"]}
    assert actions == {"catalog.category.create"}


def test_filter_by_time_range_includes_the_whole_until_day(auditor: User) -> None:
    row = _log(None, "test.timed")
    today = timezone.localdate().isoformat()
    client = _client(auditor)
    assert row.id in [i["id"] for i in client.get("/api/audit/logs", {"since": today, "until": today}).json()["items"]]
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert client.get("/api/audit/logs", {"since": tomorrow}).json()["total"] == 0


def test_a_bad_date_is_refused_naming_the_field(auditor: User) -> None:
    response = _client(auditor).get("/api/audit/logs", {"since": "26/11/2026"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "since" and "26/11/2026" in response.json()["errors"][0]["message"]


def test_pages(auditor: User) -> None:
    for i in range(5):
        _log(None, "test.paged", object_id=str(i))
    body = _client(auditor).get("/api/audit/logs", {"action": "test.paged", "page": "2", "page_size": "2"}).json()
    assert (body["total"], body["page"], [i["object_id"] for i in body["items"]]) == (5, 2, ["2", "1"])


def test_one_row_and_a_missing_row(auditor: User) -> None:
    row = _log(None, "test.one", password="secret-value")
    client = _client(auditor)
    body = client.get(f"/api/audit/logs/{row.id}").json()
    assert body["action"] == "test.one" and body["extra"] == {"password": "********"}
    assert client.get("/api/audit/logs/999999").status_code == 404


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_are_refused_by_every_route(role: str) -> None:
    row = _log(None, "test.hidden")
    department = testing.make_department() if role in {Role.CATALOG_ADMIN, Role.DEPT_REVIEWER} else None
    client = _client(testing.make_user(role, department=department))
    for url in ("/api/audit/logs", "/api/audit/logs/export", f"/api/audit/logs/{row.id}", "/api/audit/chain"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["detail"] == "只有审计员可以查阅审计日志"
    for url in ("/audit/", "/audit/export.csv", "/audit/verify/?run=1"):
        assert client.get(url).status_code == 403, url


def test_anonymous_callers_are_refused() -> None:
    assert Client().get("/api/audit/logs").status_code == 401
    assert Client().get("/audit/").status_code == 302


def test_export_is_csv_with_bom_and_the_filtered_rows(auditor: User) -> None:
    _log(None, "test.export", object_id="1", object_repr="=cmd|' /C calc'!A0")
    _log(None, "test.other", object_id="2")
    response = _client(auditor).get("/api/audit/logs/export", {"action": "test.export"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming and "attachment" in response["Content-Disposition"]
    raw = _body(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["记录编号", "时间", "操作人账号", "操作"]
    assert [(r[3], r[6]) for r in rows[1:]] == [("test.export", "'=cmd|' /C calc'!A0")]


def test_export_page_link_keeps_the_filters(auditor: User) -> None:
    _log(None, "test.export")
    response = _client(auditor).get("/audit/", {"action": "test.export"})
    assert response.status_code == 200
    assert "/audit/export.csv?action=test.export" in response.content.decode()
    exported = _body(_client(auditor).get("/audit/export.csv", {"action": "test.export"}))
    assert exported.startswith(b"\xef\xbb\xbf") and exported.count(b"\n") == 2


def test_the_log_page_lists_and_filters(auditor: User, catalog_admin: User) -> None:
    _log(catalog_admin, "resource.publish", object_repr="企业登记信息")
    _log(catalog_admin, "resource.create", object_repr="社保缴费信息")
    html = _client(auditor).get("/audit/", {"action": "resource.publish"}).content.decode()
    assert "企业登记信息" in html and "社保缴费信息" not in html


def test_the_log_page_names_a_bad_date(auditor: User) -> None:
    html = _client(auditor).get("/audit/", {"until": "明天"}).content.decode()
    assert "截止时间“明天”不是有效的日期或时间" in html


def test_the_auditor_sees_the_nav_link_and_others_do_not(auditor: User, platform_admin: User) -> None:
    assert 'href="/audit/"' in _client(auditor).get("/audit/").content.decode()
    assert 'href="/audit/"' not in _client(platform_admin).get("/catalog/").content.decode()


def test_chain_api_reports_an_intact_chain(auditor: User) -> None:
    _log(None, "test.chain")
    chain.seal_audit_log()
    body = _client(auditor).get("/api/audit/chain").json()
    assert body["ok"] and body["checked"] >= 1 and body["problems"] == []


def test_verify_page_names_the_edited_row(auditor: User) -> None:
    row = _log(None, "test.chain")
    chain.seal_audit_log()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditLog._meta.db_table} SET actor_name = 'x' WHERE id = %s", [row.id])  # noqa: S608
    client = _client(auditor)
    assert _client(auditor).get("/api/audit/chain").json()["problems"][0]["row_id"] == row.id
    html = client.get("/audit/verify/", {"run": "1"}).content.decode()
    assert "哈希链已断开" in html and f"审计日志记录 id={row.id}" in html


def test_the_platform_administrator_cannot_alter_the_log_in_the_back_office(platform_admin: User) -> None:
    row = _log(None, "test.admin")
    client = _client(platform_admin)
    assert client.post(f"/admin/audit/auditlog/{row.id}/change/", {"action": "x"}).status_code == 403
    assert client.post(f"/admin/audit/auditlog/{row.id}/delete/", {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.action == "test.admin"


def test_exporting_the_log_is_itself_recorded_before_the_file(auditor: User) -> None:
    _log(None, "test.export")
    response = _client(auditor).get("/api/audit/logs/export", {"action": "test.export"})
    row = AuditLog.objects.get(action="audit.log.export")
    assert (row.actor_id, row.extra) == (auditor.pk, {"filters": {"action": "test.export"}})
    assert len(_body(response).splitlines()) == 2


def test_verifying_is_recorded_on_the_page_and_the_api(auditor: User) -> None:
    client = _client(auditor)
    client.get("/audit/verify/", {"run": "1"})
    client.get("/api/audit/chain")
    assert AuditLog.objects.filter(action="audit.chain.verify", actor=auditor).count() == 2
    client.get("/audit/verify/")  # the page without running the check records nothing
    assert AuditLog.objects.filter(action="audit.chain.verify").count() == 2


def test_the_verify_page_speaks_english_when_asked(auditor: User) -> None:
    row = _log(None, "test.chain")
    chain.seal_audit_log()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditLog._meta.db_table} SET action = 'x' WHERE id = %s", [row.id])  # noqa: S608
    client = _client(auditor)
    client.cookies["django_language"] = "en"
    html = client.get("/audit/verify/", {"run": "1"}).content.decode()
    seq = AuditLog.objects.get(pk=row.id).seq
    assert "The hash chain is broken" in html and f"audit row id={row.id} (seq {seq})" in html


def test_the_log_page_links_each_account_and_object_to_its_own_records(auditor: User, catalog_admin: User) -> None:
    _log(catalog_admin, "resource.publish", object_id="42")
    html = _client(auditor).get("/audit/", {"action": "resource.publish"}).content.decode()
    assert 'href="?actor=gaj_admin"' in html
    assert 'href="?object_type=catalog.resource&amp;object_id=42"' in html
