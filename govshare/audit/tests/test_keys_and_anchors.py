"""The audit MAC key ring (setting or key file, never the database) and the anchors' bookkeeping: the schedule,
the interval between anchors, the commands."""

from __future__ import annotations

import os
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django_q.models import Schedule

from govshare.audit import anchors, chain, jobs, keys
from govshare.audit.checks import check_audit_keys
from govshare.audit.models import AuditLog
from govshare.audit.services import record_action


def _record(n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            record_action(None, "test.action", object_id=str(i))


def test_the_key_file_is_created_on_first_use_outside_production_and_private(tmp_path: Path) -> None:
    ring = keys.load_audit_keys(configured="", data_dir=tmp_path, production=False)
    path = keys.key_file(tmp_path)
    assert ring.source == str(path) and len(ring.active.secret) == keys.KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keys.load_audit_keys(configured="", data_dir=tmp_path, production=False) == ring


def test_production_refuses_to_start_without_an_audit_key(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"production": True, "data_dir": tmp_path})
    assert [message.id for message in check_audit_keys()] == ["govshare.E031"]
    assert not keys.key_file(tmp_path).exists()
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"audit_keys": keys.encode(keys.generate_key())})
    assert check_audit_keys() == []


def test_the_setting_lists_keys_active_first_and_refuses_a_bad_one() -> None:
    first, second = keys.generate_key(), keys.generate_key()
    ring = keys.parse_key_setting(f"{second.key_id}:{keys.encode(second).split(':')[1]}, {keys.encode(first)}")
    assert [k.key_id for k in ring.keys] == [second.key_id, first.key_id] and ring.active == second
    with pytest.raises(keys.AuditKeyError, match="长度"):
        keys.parse_key_setting("a1:" + "QUJD")
    assert "secret" not in repr(ring.active) and ring.active.secret.hex() not in repr(ring)


@pytest.mark.django_db
def test_audit_keys_commands(settings) -> None:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("audit_keys", "init", stdout=out)
    assert "已生成审计密钥文件" in out.getvalue()
    old = keys.current_audit_keys().active
    _record(2)
    chain.seal_audit_log()
    call_command("audit_keys", "add", stdout=out)
    new = keys.current_audit_keys().active
    assert new != old and [k.key_id for k in keys.current_audit_keys().keys] == [new.key_id, old.key_id]
    status = StringIO()
    call_command("audit_keys", "status", stdout=status)
    assert f"{new.key_id}（启用）：封存了 0 条记录" in status.getvalue()
    assert f"{old.key_id}：封存了 2 条记录" in status.getvalue()
    generated = StringIO()
    call_command("audit_keys", "generate", stdout=generated)
    assert keys.parse_key_setting(generated.getvalue().strip()).active.key_id.startswith("a")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"audit_keys": generated.getvalue().strip()})
    with pytest.raises(CommandError, match="GOVSHARE_AUDIT_KEYS"):
        call_command("audit_keys", "add", stdout=StringIO())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seals_write_at_most_one_anchor_per_interval_and_the_schedule_catches_up() -> None:
    _record(2)
    chain.seal_audit_log()
    _record(1)
    chain.seal_audit_log()  # within the interval: no second line
    path = anchors.anchor_path()
    assert len(path.read_text().splitlines()) == 1 and anchors.last_anchored_seq() == 2
    assert anchors.seal_and_anchor() == "sealed 0, head seq 3, anchored"
    assert anchors.last_anchored_seq() == 3
    assert anchors.seal_and_anchor() == "sealed 0, head seq 3"  # nothing new: nothing written
    old = path.stat().st_mtime - 3600
    os.utime(path, (old, old))
    _record(1)
    chain.seal_audit_log()
    assert anchors.last_anchored_seq() == 4
    report = chain.verify_audit_chain()
    assert report.ok and report.anchors == 3 and report.anchored_seq == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrate_creates_the_schedule_and_the_verify_command_anchors_an_unanchored_head() -> None:
    jobs.after_migrate()
    schedule = Schedule.objects.get(name=jobs.SEAL_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (jobs.SEAL_FUNC, Schedule.MINUTES, 1)
    _record(2)
    chain.seal_audit_log()
    anchors.anchor_path().unlink()  # as if the seal's anchor had failed
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    assert "已将链尾写入库外锚点" in out.getvalue() and anchors.last_anchored_seq() == 2
    out = StringIO()
    # Without sealing the row the first check recorded (sealed, it would be a new head to anchor).
    call_command("verify_audit_log", "--no-seal", stdout=out)
    assert "已与 1 个库外锚点核对" in out.getvalue() and "已将链尾写入" not in out.getvalue()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failing_anchor_write_does_not_undo_the_seal(settings, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"audit_anchor_path": "/proc/govshare/anchors.log"})
    _record(1)
    assert chain.seal_audit_log().sealed == 1
    assert not AuditLog.objects.filter(seq__isnull=True).exists()
    assert "writing the audit chain anchor failed" in caplog.text
