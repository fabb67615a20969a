"""The SM3 hash chain: sealing links every row once, in id order; verification names exactly the tampered row."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.db import connection, transaction

from govshare.audit import chain, services
from govshare.audit.models import AuditChainHead, AuditLog, AuditSealBatch
from govshare.audit.services import record_action
from govshare.core import bulk

pytestmark = pytest.mark.django_db

TABLE = AuditLog._meta.db_table


def _record(n: int, action: str = "test.action") -> list[AuditLog]:
    with transaction.atomic():
        return [record_action(None, action, object_type="test", object_id=str(i), note=f"第{i}条") for i in range(n)]


def _sealed(n: int) -> list[AuditLog]:
    _record(n)
    chain.seal_audit_log()
    return list(AuditLog.objects.order_by("seq"))


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_sm3_is_the_standard_hash() -> None:
    # GB/T 32905-2016 test vector 1.
    assert chain.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_rows_are_written_unsealed() -> None:
    row = _record(1)[0]
    row.refresh_from_db()
    assert (row.seq, row.row_hash, row.batch_id) == (None, "", None)


def test_sealing_links_rows_in_id_order_to_the_genesis_hash() -> None:
    rows = _sealed(3)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert rows[0].prev_hash == chain.GENESIS_HASH
    assert rows[1].prev_hash == rows[0].row_hash and rows[2].prev_hash == rows[1].row_hash
    assert len({r.row_hash for r in rows}) == 3 and all(len(r.row_hash) == 64 for r in rows)


def test_sealing_records_the_batch_and_advances_the_head() -> None:
    rows = _sealed(4)
    batch = AuditSealBatch.objects.get()
    assert (batch.first_seq, batch.last_seq, batch.row_count, batch.head_hash) == (1, 4, 4, rows[-1].row_hash)
    assert {r.batch_id for r in rows} == {batch.pk}
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (4, rows[-1].row_hash)


def test_a_second_seal_continues_the_chain() -> None:
    first = _sealed(2)
    _record(2)
    result = chain.seal_audit_log()
    rows = list(AuditLog.objects.order_by("seq"))
    assert result.sealed == 2 and result.last_seq == 4
    assert rows[2].prev_hash == first[-1].row_hash
    assert AuditSealBatch.objects.count() == 2


def test_sealing_with_nothing_new_writes_no_batch() -> None:
    _sealed(1)
    assert chain.seal_audit_log().sealed == 0
    assert AuditSealBatch.objects.count() == 1


def test_sealing_more_rows_than_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "SEAL_CHUNK", 3)
    monkeypatch.setattr(chain, "_UPDATE_CHUNK", 2)
    _record(8)
    assert chain.seal_audit_log().sealed == 8
    assert list(AuditLog.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 9))
    assert chain.verify_audit_chain().ok


def test_bulk_inserted_rows_are_sealed_with_the_others() -> None:
    _record(1)
    bulk.insert_rows([AuditLog(actor_name="system", action="bulk.insert", object_id=str(i)) for i in range(3)])
    AuditLog.objects.bulk_create([AuditLog(actor_name="system", action="bulk.create", object_id="x")])
    assert chain.seal_audit_log().sealed == 5
    assert not AuditLog.objects.filter(seq__isnull=True).exists()
    assert chain.verify_audit_chain().ok


def test_an_intact_chain_verifies() -> None:
    _sealed(5)
    report = chain.verify_audit_chain()
    assert report.ok and report.checked == 5 and report.last_seq == 5 and report.unsealed == 0


def test_an_empty_log_verifies() -> None:
    assert chain.verify_audit_chain().ok


def test_unsealed_rows_are_reported_but_not_a_break() -> None:
    _sealed(2)
    _record(3)
    report = chain.verify_audit_chain()
    assert report.ok and report.unsealed == 3 and report.oldest_unsealed_at is not None


def test_an_edited_row_is_found() -> None:
    rows = _sealed(5)
    _sql(f"UPDATE {TABLE} SET object_repr = %s WHERE id = %s", ["改过的", rows[2].id])  # noqa: S608
    report = chain.verify_audit_chain()
    assert [(p.kind, p.row_id, p.seq) for p in report.problems] == [("edited", rows[2].id, 3)]


def test_an_edited_detail_is_found() -> None:
    rows = _sealed(3)
    _sql(f"UPDATE {TABLE} SET extra = %s WHERE id = %s", ['{"note": "第9条"}', rows[1].id])  # noqa: S608
    assert [p.row_id for p in chain.verify_audit_chain().problems] == [rows[1].id]


def test_an_edited_time_is_found() -> None:
    rows = _sealed(3)
    _sql(f"UPDATE {TABLE} SET at = %s WHERE id = %s", [rows[0].at.replace(year=2020), rows[0].id])  # noqa: S608
    assert [p.row_id for p in chain.verify_audit_chain().problems] == [rows[0].id]


def test_a_deleted_row_is_found() -> None:
    rows = _sealed(5)
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [rows[1].id])  # noqa: S608
    problems = chain.verify_audit_chain().problems
    assert [(p.kind, p.seq) for p in problems] == [("missing", 2)]
    assert f"id={rows[0].id}" in problems[0].message and f"id={rows[2].id}" in problems[0].message


def test_a_deleted_last_row_is_found() -> None:
    rows = _sealed(3)
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [rows[2].id])  # noqa: S608
    assert [(p.kind, p.seq) for p in chain.verify_audit_chain().problems] == [("missing", 3)]


def test_two_rows_with_swapped_content_are_both_found() -> None:
    rows = _sealed(5)
    a, b = rows[1], rows[3]
    statement = f"UPDATE {TABLE} SET object_id = %s, extra = %s WHERE id = %s"  # noqa: S608
    _sql(statement, [b.object_id, json.dumps(b.extra, ensure_ascii=False), a.id])
    _sql(statement, [a.object_id, json.dumps(a.extra, ensure_ascii=False), b.id])
    problems = chain.verify_audit_chain().problems
    assert [(p.kind, p.row_id) for p in problems] == [("edited", a.id), ("edited", b.id)]


def test_reordered_rows_are_found_at_the_first_moved_row() -> None:
    rows = _sealed(5)
    a, b = rows[1], rows[3]
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [1000, a.id])  # noqa: S608
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [2, b.id])  # noqa: S608
    _sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [4, a.id])  # noqa: S608
    first = chain.verify_audit_chain().first_problem
    assert first is not None and (first.row_id, first.seq) == (b.id, 2)


def test_a_forged_row_after_the_chain_is_found() -> None:
    rows = _sealed(3)
    # The best forgery: content, seq, link and SM3 hash computed exactly as sealing would.
    forged: dict[str, Any] = {
        "at": rows[-1].at,
        "actor_id": None,
        "actor_name": "system",
        "action": "forged",
        "object_type": "",
    }
    forged |= {"object_id": "", "object_repr": "", "extra": {}}
    _sql(
        f"INSERT INTO {TABLE} (id, at, actor_name, action, object_type, object_id, object_repr, extra, seq, "  # noqa: S608
        "prev_hash, row_hash, batch_id) VALUES (%s, %s, %s, %s, '', '', '', '{}', 4, %s, %s, %s)",
        [
            9999,
            forged["at"],
            "system",
            "forged",
            rows[-1].row_hash,
            chain.row_digest({**forged, "id": 9999}, 4, rows[-1].row_hash),
            rows[-1].batch_id,
        ],
    )
    problems = chain.verify_audit_chain().problems
    assert [(p.kind, p.row_id, p.seq) for p in problems] == [("forged", 9999, 4)]


def test_a_row_inserted_into_the_chain_with_a_made_up_hash_is_found() -> None:
    rows = _sealed(3)
    _sql(f"UPDATE {TABLE} SET seq = seq + 10 WHERE id = %s", [rows[2].id])  # noqa: S608 (make room at seq 3)
    _sql(
        f"INSERT INTO {TABLE} (id, at, actor_name, action, object_type, object_id, object_repr, extra, seq, "  # noqa: S608
        "prev_hash, row_hash) VALUES (9998, %s, 'system', 'forged', '', '', '', '{}', 3, %s, %s)",
        [rows[2].at, "a" * 64, "b" * 64],
    )
    first = chain.verify_audit_chain().first_problem
    assert first is not None and (first.kind, first.row_id, first.seq) == ("forged", 9998, 3)


def test_a_row_sealed_outside_any_batch_is_found() -> None:
    rows = _sealed(2)
    _sql(f"UPDATE {TABLE} SET batch_id = NULL WHERE id = %s", [rows[1].id])  # noqa: S608
    assert [(p.kind, p.row_id) for p in chain.verify_audit_chain().problems] == [("forged", rows[1].id)]


def test_sealed_rows_still_refuse_changes_through_the_orm() -> None:
    row = _sealed(1)[0]
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        AuditLog.objects.filter(pk=row.pk).update(object_repr="x")
    with pytest.raises(TypeError):
        AuditLog.objects.filter(pk=row.pk).delete()


def _with_policy(settings, batch_size: int, interval: float) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(
        update={"audit_seal_batch_size": batch_size, "audit_seal_interval_seconds": interval}
    )


def test_record_action_seals_after_commit_once_the_batch_is_full(
    settings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    _with_policy(settings, batch_size=3, interval=3600)
    monkeypatch.setattr(services, "_sealer", services._Sealer())
    with django_capture_on_commit_callbacks(execute=True):
        _record(2)
    assert AuditLog.objects.filter(seq__isnull=True).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        _record(1)
    assert not AuditLog.objects.filter(seq__isnull=True).exists()
    assert chain.verify_audit_chain().ok


def test_record_action_seals_after_commit_once_the_interval_passed(
    settings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    _with_policy(settings, batch_size=1000, interval=0.001)
    monkeypatch.setattr(services, "_sealer", services._Sealer())
    bulk.insert_rows([AuditLog(actor_name="system", action="bulk.insert", object_id="1")])
    time.sleep(0.01)
    with django_capture_on_commit_callbacks(execute=True):
        _record(1)
    assert not AuditLog.objects.filter(seq__isnull=True).exists()


def test_no_seal_before_commit() -> None:
    _record(1)  # the test's transaction never commits
    assert AuditSealBatch.objects.count() == 0


def test_a_deleted_chain_head_is_found_and_stops_sealing() -> None:
    _sealed(2)
    _sql(f"DELETE FROM {AuditChainHead._meta.db_table}", [])  # noqa: S608
    assert [p.kind for p in chain.verify_audit_chain().problems] == ["head"]
    _record(1)
    with pytest.raises(chain.ChainHeadMissing):
        chain.seal_audit_log()


def test_a_head_moved_back_to_hide_deleted_rows_is_found() -> None:
    rows = _sealed(3)
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [rows[2].id])  # noqa: S608
    _sql(
        f"UPDATE {AuditChainHead._meta.db_table} SET last_seq = 2, last_hash = %s",  # noqa: S608
        [rows[1].row_hash],
    )
    problems = chain.verify_audit_chain().problems
    assert [(p.kind, p.seq) for p in problems] == [("head", 2)]


def test_a_failing_after_commit_seal_does_not_fail_the_action(
    settings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks, caplog: pytest.LogCaptureFixture
) -> None:
    _sealed(1)
    _sql(f"DELETE FROM {AuditChainHead._meta.db_table}", [])  # noqa: S608 (sealing now refuses to continue)
    _with_policy(settings, batch_size=1, interval=3600)
    monkeypatch.setattr(services, "_sealer", services._Sealer())
    with django_capture_on_commit_callbacks(execute=True):
        row = _record(1)[0]
    assert AuditLog.objects.get(pk=row.pk).seq is None
    assert "sealing the audit log failed" in caplog.text
