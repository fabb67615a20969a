"""Threat: someone with write access to the metadata database (a DBA, a stolen database password, SQL injection)
rewrites the audit log to hide what was done, and recomputes whatever hashes the platform would check.

They do not hold the audit MAC key (outside the database, govshare.audit.keys) and cannot write the anchor file
(outside the database, govshare.audit.anchors). Each test commits for real (transaction=True): seals, their
after-commit anchors and the attacker's SQL all happen as in production."""

from __future__ import annotations

import secrets
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from govshare.audit import anchors, chain, keys, macs
from govshare.audit.models import AuditChainHead, AuditLog, AuditSealBatch
from govshare.audit.services import record_action

# serialized_rollback: the flush after each test then leaves content types alone (see test_concurrency.py).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LOG = AuditLog._meta.db_table
HEAD = AuditChainHead._meta.db_table
BATCH = AuditSealBatch._meta.db_table


def _record(n: int, action: str = "datasets.download") -> list[AuditLog]:
    with transaction.atomic():
        return [record_action(None, action, object_type="datasets.dataset", object_id=str(i), rows=i) for i in range(n)]


def _sealed(n: int) -> list[dict[str, Any]]:
    _record(n)
    chain.seal_audit_log()
    return _rows()


def _rows() -> list[dict[str, Any]]:
    fields = (*chain.CONTENT_FIELDS, *chain.CHAIN_FIELDS)
    return list(AuditLog.objects.filter(seq__isnull=False).order_by("seq").values(*fields))


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _rewrite_from(rows: list[dict[str, Any]], start: int, *, legacy: bool) -> None:
    """The attacker's best effort without the key: recompute every hash from row `start` on with the unkeyed SM3
    the code shows (marking the rows unkeyed when `legacy`), then the batch and the head, so that every link,
    every batch and the head agree."""
    prev = rows[start - 1]["row_hash"] if start else chain.GENESIS_HASH
    for row in rows[start:]:
        fresh = AuditLog.objects.filter(pk=row["id"]).values(*chain.CONTENT_FIELDS).get()
        digest = chain.row_digest(fresh, row["seq"], prev)
        key_id = "" if legacy else row["key_id"]
        _sql(
            f"UPDATE {LOG} SET prev_hash = %s, row_hash = %s, key_id = %s WHERE id = %s",  # noqa: S608
            [prev, digest, key_id, row["id"]],
        )
        prev = digest
    last = rows[-1]["seq"]
    _sql(f"UPDATE {BATCH} SET head_hash = %s WHERE last_seq = %s", [prev, last])  # noqa: S608
    _sql(f"UPDATE {HEAD} SET last_hash = %s", [prev])  # noqa: S608


def _kinds(report: chain.ChainReport) -> list[tuple[str, int | None]]:
    return [(p.kind, p.seq) for p in report.problems]


def test_an_intact_chain_verifies_and_is_anchored_outside_the_database() -> None:
    rows = _sealed(4)
    report = chain.verify_audit_chain()
    assert report.ok, report.problems
    assert report.anchors == 1 and report.anchored_seq == 4
    assert all(row["key_id"] == keys.current_audit_keys().active.key_id for row in rows)
    line = anchors.anchor_path().read_text().splitlines()[0]
    assert line.split(" ")[1:3] == ["4", rows[-1]["row_hash"]]
    assert anchors.anchor_path().stat().st_mode & 0o077 == 0


def test_rewriting_an_edited_rows_hash_and_every_later_one_fails_verification() -> None:
    rows = _sealed(6)
    _sql(f"UPDATE {LOG} SET actor_name = %s WHERE id = %s", ["someone_else", rows[2]["id"]])  # noqa: S608
    _rewrite_from(rows, 2, legacy=False)
    report = chain.verify_audit_chain()
    assert report.first_problem is not None
    assert (report.first_problem.kind, report.first_problem.row_id) == ("edited", rows[2]["id"])
    # Every row whose hash was recomputed fails its MAC: the attacker does not hold the key.
    assert [(k, s) for k, s in _kinds(report) if k == "forged"] == [("forged", seq) for seq in (4, 5, 6)]
    # And the chain no longer matches the anchor written when it was sealed.
    assert ("anchor", 6) in _kinds(report)
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit_log", "--no-seal", stdout=StringIO(), stderr=StringIO())
    assert caught.value.returncode == 1 and f"id={rows[2]['id']}（序号 3）" in str(caught.value)


def test_rewriting_the_chain_in_the_old_unkeyed_format_fails_verification() -> None:
    rows = _sealed(5)
    _sql(f"UPDATE {LOG} SET object_id = %s WHERE id = %s", ["999", rows[1]["id"]])  # noqa: S608
    _rewrite_from(rows, 1, legacy=True)
    report = chain.verify_audit_chain()
    assert [(k, s) for k, s in _kinds(report) if k == "forged"] == [("forged", seq) for seq in (2, 3, 4, 5)]
    assert "旧式记录" in report.problems[0].message and "old format" in report.problems[0].message_en


def test_rewriting_the_whole_chain_unkeyed_and_moving_the_legacy_mark_fails_against_the_anchor() -> None:
    rows = _sealed(4)
    _sql(f"UPDATE {LOG} SET action = %s WHERE id = %s", ["datasets.preview", rows[0]["id"]])  # noqa: S608
    _rewrite_from(rows, 0, legacy=True)
    _sql(f"UPDATE {HEAD} SET legacy_seq = 4")  # noqa: S608 (as if the log had been sealed before keys existed)
    report = chain.verify_audit_chain()
    # Internally consistent, unkeyed, head and batch matching: only the anchor outside the database tells.
    assert report.legacy_rows == 4
    assert _kinds(report)[0] == ("forged", 1)  # the anchor says no row was unkeyed
    assert ("anchor", 4) in _kinds(report)


def test_a_seal_made_with_a_key_of_the_attackers_own_fails() -> None:
    rows = _sealed(3)
    _sql(f"UPDATE {LOG} SET extra = %s WHERE id = %s", ['{"rows": 0}', rows[2]["id"]])  # noqa: S608
    fake = keys.AuditKey(keys.current_audit_keys().active.key_id, secrets.token_bytes(keys.KEY_BYTES))
    fresh = AuditLog.objects.filter(pk=rows[2]["id"]).values(*chain.CONTENT_FIELDS).get()
    content = macs.content_mac(fresh, fake)
    seal = macs.link_mac(fake, seq=3, row_id=rows[2]["id"], prev_hash=rows[1]["row_hash"], row_content_mac=content)
    _sql(f"UPDATE {LOG} SET content_mac = %s, row_hash = %s WHERE id = %s", [content, seal, rows[2]["id"]])  # noqa: S608
    _sql(f"UPDATE {HEAD} SET last_hash = %s", [seal])  # noqa: S608
    _sql(f"UPDATE {BATCH} SET head_hash = %s", [seal])  # noqa: S608
    report = chain.verify_audit_chain()
    assert _kinds(report)[0] == ("edited", 3)


def test_deleting_the_newest_rows_with_the_head_moved_back_is_reported_against_the_last_anchor() -> None:
    _sealed(4)
    _record(3)
    anchors.seal_and_anchor()  # the every-minute schedule: sealed, and anchored at seq 7
    rows = _rows()
    assert anchors.last_anchored_seq() == 7
    # The attacker deletes rows 6 and 7 and makes the head and the last batch end at row 5, as sealing would have.
    _sql(f"DELETE FROM {LOG} WHERE seq > 5")  # noqa: S608
    _sql(f"UPDATE {BATCH} SET last_seq = 5, row_count = 1, head_hash = %s WHERE last_seq = 7", [rows[4]["row_hash"]])  # noqa: S608
    _sql(f"UPDATE {HEAD} SET last_seq = 5, last_hash = %s", [rows[4]["row_hash"]])  # noqa: S608
    report = chain.verify_audit_chain()
    assert _kinds(report) == [("missing", 6)]
    problem = report.problems[0]
    assert "6–7" in problem.message and "锚点" in problem.message and "anchor" in problem.message_en
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit_log", "--no-seal", stdout=StringIO(), stderr=StringIO())
    assert "audit rows seq 6–7 are missing" in str(caught.value)


def test_deleting_the_whole_log_and_its_head_is_reported_against_the_anchor() -> None:
    _sealed(3)
    _sql(f"DELETE FROM {LOG}")  # noqa: S608
    _sql(f"DELETE FROM {BATCH}")  # noqa: S608
    _sql(f"DELETE FROM {HEAD}")  # noqa: S608
    assert _kinds(chain.verify_audit_chain()) == [("missing", 1)]


def test_a_row_edited_before_it_was_sealed_is_found() -> None:
    rows = _record(4)  # committed, not sealed yet (the seal comes after N rows or T seconds)
    target = rows[1]
    _sql(f"UPDATE {LOG} SET actor_name = %s, extra = %s WHERE id = %s", ["nobody", '{"rows": 0}', target.pk])  # noqa: S608
    chain.seal_audit_log()
    report = chain.verify_audit_chain()
    assert [(p.kind, p.row_id) for p in report.problems] == [("edited", target.pk)]


def test_a_row_edited_before_sealing_with_its_fingerprint_recomputed_without_the_key_is_found() -> None:
    rows = _record(2)
    target = rows[0]
    _sql(f"UPDATE {LOG} SET object_id = %s WHERE id = %s", ["42", target.pk])  # noqa: S608
    fresh = AuditLog.objects.filter(pk=target.pk).values(*chain.CONTENT_FIELDS).get()
    # Without the key, the best the attacker can write is an unkeyed hash of the new content.
    unkeyed = target.content_mac.split(":")[0] + ":" + macs.sm3_hex(macs.content_bytes(fresh))
    _sql(f"UPDATE {LOG} SET content_mac = %s WHERE id = %s", [unkeyed, target.pk])  # noqa: S608
    chain.seal_audit_log()
    assert [(p.kind, p.row_id) for p in chain.verify_audit_chain().problems] == [("edited", target.pk)]


def test_a_row_inserted_in_the_database_before_sealing_is_found() -> None:
    rows = _record(1)
    _sql(
        f"INSERT INTO {LOG} (at, actor_name, action, object_type, object_id, object_repr, extra, "  # noqa: S608
        "prev_hash, row_hash) "
        "VALUES (%s, 'system', 'accounts.password_reset', '', '', '', '{}', '', '')",
        [rows[0].at],
    )
    chain.seal_audit_log()
    problems = chain.verify_audit_chain().problems
    assert [(p.kind, p.seq) for p in problems] == [("forged", 2)]
    assert "没有写入时的内容指纹" in problems[0].message


def test_an_anchor_line_altered_or_truncated_is_reported() -> None:
    _sealed(2)
    path = anchors.anchor_path()
    line = path.read_text()
    path.write_text(line.replace(" 2 ", " 9 ", 1) + line[:30])
    kinds = [(p.kind, p.message_en) for p in chain.verify_audit_chain().problems]
    assert [k for k, _ in kinds] == ["anchor", "anchor"]
    assert "line 1: its MAC does not verify" in kinds[0][1] and "line 2 is incomplete" in kinds[1][1]


def test_rows_sealed_before_the_chain_was_keyed_keep_verifying_unkeyed() -> None:
    # Rows written by the old code: no fingerprint, then sealed by migration 0003 (unkeyed, as before).
    at = _record(1)[0].at
    _sql(f"DELETE FROM {LOG}")  # noqa: S608
    for i in range(3):
        _sql(
            f"INSERT INTO {LOG} (at, actor_name, action, object_type, object_id, object_repr, extra, "  # noqa: S608
            "prev_hash, row_hash) "
            "VALUES (%s, 'gaj_admin', 'catalog.resource.publish', 'catalog.resource', %s, '', '{}', '', '')",
            [at, str(i)],
        )
    migration = __import__("govshare.audit.migrations.0003_keyed_chain", fromlist=["seal_the_rows_written_before"])
    from django.apps import apps

    migration.seal_the_rows_written_before(apps, SimpleNamespace(connection=connection))
    assert AuditChainHead.objects.get().legacy_seq == 3
    anchors.anchor_head()  # what `migrate` does next
    _record(2)
    chain.seal_audit_log()
    report = chain.verify_audit_chain()
    assert report.ok, report.problems
    assert report.legacy_rows == 3 and report.checked == 5
    assert list(AuditLog.objects.order_by("seq").values_list("key_id", flat=True)[:3]) == ["", "", ""]
    # An unkeyed row is still checked as before: edited is found.
    first = AuditLog.objects.get(seq=1)
    _sql(f"UPDATE {LOG} SET object_id = 'x' WHERE id = %s", [first.pk])  # noqa: S608
    assert _kinds(chain.verify_audit_chain()) == [("edited", 1)]


def test_a_new_key_seals_new_rows_and_the_old_key_still_verifies_old_ones(settings) -> None:  # type: ignore[no-untyped-def]
    _sealed(2)
    old = keys.current_audit_keys().active
    new = keys.add_key(settings.GOVSHARE.data_dir)
    _sealed(2)
    assert (
        list(AuditLog.objects.order_by("seq").values_list("key_id", flat=True)) == [old.key_id] * 2 + [new.key_id] * 2
    )
    assert chain.verify_audit_chain().ok
    # A ring that lost the old key cannot vouch for its rows: said so, not passed.
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"audit_keys": keys.encode(new)})
    assert [p.kind for p in chain.verify_audit_chain().problems][:2] == ["key", "key"]
