import pytest

from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.core import bulk


@pytest.mark.django_db
def test_inserted_rows_keep_json_and_timestamps() -> None:
    bulk.insert_rows(
        [
            AuditLog(
                actor_name="导入", action="catalog.resource.import", object_id=str(n), extra={"行": n, "说明": "批量"}
            )
            for n in range(3)
        ]
    )
    rows = list(AuditLog.objects.order_by("object_id"))
    assert [r.extra for r in rows] == [{"行": n, "说明": "批量"} for n in range(3)]
    assert all(r.at is not None for r in rows)


@pytest.mark.django_db
def test_primary_keys_are_found_by_a_unique_field(catalog_admin, department) -> None:
    from govshare.catalog import services
    from govshare.testing import resource_draft

    created = services.create_resource(resource_draft(department), actor=catalog_admin)
    assert bulk.pk_by(Resource, "code", [created.code, "999999999/000001"]) == {created.code: created.pk}


@pytest.mark.django_db
def test_tuples_are_inserted_with_defaults_for_the_fields_not_named() -> None:
    bulk.insert_tuples(
        AuditLog,
        ("actor_name", "action", "object_id", "extra"),
        [("导入", "catalog.resource.import", str(n), {"行": n}) for n in range(3)],
    )
    rows = list(AuditLog.objects.order_by("object_id"))
    assert [(r.object_id, r.extra, r.object_type, r.actor_id, r.seq) for r in rows] == [
        (str(n), {"行": n}, "", None, None) for n in range(3)
    ]
    assert all(r.at is not None for r in rows)


def test_tuples_naming_an_unknown_field_are_refused() -> None:
    with pytest.raises(ValueError, match="no_such_field"):
        bulk.insert_tuples(AuditLog, ("action", "no_such_field"), [("x", 1)])


@pytest.mark.django_db
def test_values_shared_by_every_row_are_given_once() -> None:
    bulk.insert_tuples(
        AuditLog,
        ("object_id",),
        [(str(n),) for n in range(2)],
        same={"action": "catalog.resource.import", "extra": {"note": "批量导入 #1"}},
    )
    rows = list(AuditLog.objects.order_by("object_id").values_list("object_id", "action", "extra"))
    assert rows == [(str(n), "catalog.resource.import", {"note": "批量导入 #1"}) for n in range(2)]


@pytest.mark.django_db
def test_rows_breaking_a_unique_constraint_are_skipped_when_asked() -> None:
    from django.db import IntegrityError, transaction

    from govshare.catalog.models import CodeSequence

    bulk.insert_tuples(CodeSequence, ("prefix", "last_value"), [("101", 5)])
    bulk.insert_tuples(CodeSequence, ("prefix", "last_value"), [("101", 9), ("102", 1)], ignore_conflicts=True)
    assert sorted(CodeSequence.objects.values_list("prefix", "last_value")) == [("101", 5), ("102", 1)]
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_tuples(CodeSequence, ("prefix", "last_value"), [("102", 2)])


@pytest.mark.django_db
def test_rows_sent_in_one_statement_are_the_rows_sent_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows than one statement may bind go in several statements, each with its MACs and values."""
    monkeypatch.setattr(bulk, "_parameter_limit", lambda: 40)  # AuditLog has 14 columns: two rows a statement
    rows = [("导入", "catalog.resource.import", str(n), {"行": n, "说明": "一次"}) for n in range(5)]
    bulk.insert_tuples(AuditLog, ("actor_name", "action", "object_id", "extra"), rows, one_statement=True)
    bulk.insert_tuples(AuditLog, ("actor_name", "action", "object_id", "extra"), rows)
    stored = list(AuditLog.objects.order_by("id").values_list("object_id", "extra", "content_mac"))
    assert [(object_id, extra) for object_id, extra, _ in stored] == [
        (str(n), {"行": n, "说明": "一次"}) for n in range(5)
    ] * 2
    assert all(mac for _, _, mac in stored)
    from govshare.audit.chain import seal_audit_log, verify_audit_chain

    seal_audit_log()
    assert verify_audit_chain().ok
