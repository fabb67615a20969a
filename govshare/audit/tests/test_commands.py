"""The seal and verify commands, run as the operator runs them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.audit.services import record_action, record_audit_read
from govshare.tests.test_homes import home, section

pytestmark = pytest.mark.django_db


def _record(n: int) -> list[AuditLog]:
    with transaction.atomic():
        return [record_action(None, "test.action", object_id=str(i)) for i in range(n)]


def test_seal_command_seals_pending_rows() -> None:
    _record(3)
    out = StringIO()
    call_command("seal_audit_log", stdout=out)
    assert "已封存 3 条" in out.getvalue() and "sealed 3 audit rows" in out.getvalue()
    assert not AuditLog.objects.filter(seq__isnull=True).exists()


def test_verify_command_seals_first_and_reports_an_intact_chain() -> None:
    _record(2)
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    assert "哈希链完整" in out.getvalue() and "2 rows checked" in out.getvalue()
    last = AuditLog.objects.get(seq=2)
    assert f"链尾 SM3 哈希 (last hash): {last.row_hash}" in out.getvalue()


def test_verify_command_without_sealing_counts_the_pending_rows() -> None:
    _record(2)
    out = StringIO()
    call_command("verify_audit_log", "--no-seal", stdout=out)
    assert "2 条记录尚未封存" in out.getvalue()


def test_verify_command_exits_1_naming_the_edited_row() -> None:
    rows = _record(3)
    call_command("seal_audit_log", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditLog._meta.db_table} SET action = 'x' WHERE id = %s", [rows[1].id])  # noqa: S608
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit_log", stdout=StringIO(), stderr=StringIO())
    assert caught.value.returncode == 1
    assert f"id={rows[1].id}（序号 2）" in str(caught.value) and f"audit row id={rows[1].id} (seq 2)" in str(
        caught.value
    )


# --- the command's check on the auditor's home -------------------------------------------------------------------


def test_a_check_run_by_the_command_is_shown_on_the_auditors_home_as_from_the_command_line() -> None:
    _record(2)
    call_command("verify_audit_log", stdout=StringIO())
    chain = section(home(testing.make_user(Role.AUDITOR)), "home-audit")
    assert '<span class="badge ok">完整</span>' in chain
    assert "在服务器上用命令 govshare verify_audit_log 执行" in chain and "发起方式：命令行" in chain
    assert "校验了 2 条记录" in chain


def test_a_broken_chain_found_by_the_command_is_shown_as_broken_on_the_auditors_home() -> None:
    rows = _record(3)
    call_command("seal_audit_log", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditLog._meta.db_table} SET action = 'x' WHERE id = %s", [rows[1].id])  # noqa: S608
    with pytest.raises(CommandError):
        call_command("verify_audit_log", stdout=StringIO(), stderr=StringIO())
    chain = section(home(testing.make_user(Role.AUDITOR)), "home-audit")
    assert '<span class="badge danger">已断开</span>' in chain and "发起方式：命令行" in chain


def test_a_later_check_on_the_site_replaces_the_commands_on_the_home() -> None:
    call_command("verify_audit_log", stdout=StringIO())
    auditor = testing.make_user(Role.AUDITOR)
    record_audit_read(auditor, "audit.chain.verify", ok=True, checked=5, origin="网页")
    chain = section(home(auditor), "home-audit")
    assert f"由 {auditor.username} 执行" in chain and "发起方式：网页" in chain and "命令行" not in chain


def test_the_commands_check_is_in_the_trail_without_a_person_as_its_actor() -> None:
    call_command("verify_audit_log", stdout=StringIO())
    row = AuditLog.objects.filter(action="audit.chain.verify").get()
    assert (row.actor_id, row.actor_name, row.extra["origin"], row.extra["ok"]) == (None, "system", "命令行", True)


def test_the_home_says_the_commands_origin_in_english() -> None:
    call_command("verify_audit_log", stdout=StringIO())
    auditor = testing.make_user(Role.AUDITOR)
    client = Client()
    client.force_login(auditor)
    page = client.get("/", headers={"accept-language": "en"}).content.decode()
    chain = section(page, "home-audit")
    assert "with the command govshare verify_audit_log" in chain and "Run from: the command line" in chain
