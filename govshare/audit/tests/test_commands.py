"""The seal and verify commands, run as the operator runs them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from govshare.audit.models import AuditLog
from govshare.audit.services import record_action

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
