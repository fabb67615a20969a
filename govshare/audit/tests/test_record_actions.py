"""record_actions: one bulk insert that writes exactly the rows as many calls of record_action would."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from govshare.accounts.models import User
from govshare.audit import chain, services
from govshare.audit.models import AuditLog
from govshare.audit.services import AuditTarget, record_action, record_actions

pytestmark = pytest.mark.django_db

# Everything a row says except its id, time, MAC and chain links.
CONTENT = ("actor_id", "actor_name", "action", "object_type", "object_id", "object_repr", "extra")


def _rows(action: str) -> list[dict[str, Any]]:
    return list(AuditLog.objects.filter(action=action).order_by("id").values(*CONTENT))


def test_the_rows_are_those_of_one_call_per_target(catalog_admin: User, platform_admin: User) -> None:
    targets = [catalog_admin, platform_admin]
    with transaction.atomic():
        for target in targets:
            record_action(catalog_admin, "test.one", target, note="批量", token="s3cret")
        assert record_actions(catalog_admin, "test.many", targets, note="批量", token="s3cret") == 2
    one, many = _rows("test.one"), _rows("test.many")
    assert [{**row, "action": "test.many"} for row in one] == many
    assert many[0]["extra"] == {"note": "批量", "token": "********"}
    assert [row["object_type"] for row in many] == ["accounts.user", "accounts.user"]


def test_a_row_without_a_signed_in_actor_is_the_systems(catalog_admin: User) -> None:
    with transaction.atomic():
        record_action(None, "test.one", catalog_admin)
        record_actions(None, "test.many", [catalog_admin])
    assert _rows("test.one")[0]["actor_name"] == _rows("test.many")[0]["actor_name"] == "system"
    assert _rows("test.many")[0]["actor_id"] is None


def test_a_target_named_without_its_instance_is_written_as_named(catalog_admin: User) -> None:
    long_name = "名" * 300
    with transaction.atomic():
        record_action(catalog_admin, "test.one", object_type="catalog.resource", object_id="7", object_repr=long_name)
        record_actions(catalog_admin, "test.many", [AuditTarget("catalog.resource", "7", long_name)])
    assert [{**row, "action": "test.many"} for row in _rows("test.one")] == _rows("test.many")
    assert len(_rows("test.many")[0]["object_repr"]) == 255


def test_the_rows_carry_content_macs_that_the_sealed_chain_verifies(catalog_admin: User) -> None:
    with transaction.atomic():
        record_action(catalog_admin, "test.one", catalog_admin)
        record_actions(catalog_admin, "test.many", [AuditTarget("test", str(n), f"第{n}条") for n in range(30)])
        record_action(catalog_admin, "test.one", catalog_admin)
    assert all(AuditLog.objects.values_list("content_mac", flat=True))
    assert chain.seal_audit_log().sealed == AuditLog.objects.count()
    report = chain.verify_audit_chain()
    assert report.ok and report.checked == AuditLog.objects.count()


def test_many_rows_are_one_insert(catalog_admin: User, django_assert_num_queries: Any) -> None:
    targets = [AuditTarget("test", str(n), f"第{n}条") for n in range(200)]
    with transaction.atomic(), django_assert_num_queries(1):
        record_actions(catalog_admin, "test.many", targets)
    assert AuditLog.objects.filter(action="test.many").count() == 200


def test_no_targets_write_nothing(catalog_admin: User, django_assert_num_queries: Any) -> None:
    with transaction.atomic(), django_assert_num_queries(0):
        assert record_actions(catalog_admin, "test.many", []) == 0


def test_the_rows_count_towards_the_next_seal_after_commit(
    settings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks, catalog_admin: User
) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(
        update={"audit_seal_batch_size": 3, "audit_seal_interval_seconds": 3600}
    )
    monkeypatch.setattr(services, "_sealer", services._Sealer())
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        record_actions(catalog_admin, "test.many", [AuditTarget("test", str(n), "") for n in range(2)])
    assert not AuditLog.objects.filter(seq__isnull=False).exists()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        record_actions(catalog_admin, "test.many", [AuditTarget("test", "3", "")])
    assert not AuditLog.objects.filter(seq__isnull=True).exists()
    assert chain.verify_audit_chain().ok
