"""On PostgreSQL an action's audit row never waits for the chain lock: a seal already running is skipped."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from govshare.audit import chain, services
from govshare.audit.models import AuditChainHead, AuditLog
from govshare.audit.services import record_action


# serialized_rollback: the flush after this test then leaves content types alone; otherwise post_migrate
# re-creates them under new ids and a later serialized_rollback test cannot restore its snapshot.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_recording_does_not_wait_while_another_process_holds_the_chain_lock(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SQLite serialises every write; the chain lock is a PostgreSQL row lock")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"audit_seal_batch_size": 1})
    monkeypatch.setattr(services, "_sealer", services._Sealer())
    chain.seal_audit_log()  # creates the chain head
    locked, release = threading.Event(), threading.Event()

    def hold_the_chain_lock() -> None:
        try:
            with transaction.atomic():
                AuditChainHead.objects.select_for_update().get(pk=1)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_chain_lock)
    holder.start()
    try:
        assert locked.wait(10)
        with transaction.atomic():  # commits; the after-commit seal finds the head locked and skips
            row = record_action(None, "test.concurrent")
        assert chain.seal_audit_log(wait=False).skipped
        assert AuditLog.objects.get(pk=row.pk).seq is None
    finally:
        release.set()
        holder.join(30)
    assert chain.seal_audit_log().sealed == 1
    assert chain.verify_audit_chain().ok
