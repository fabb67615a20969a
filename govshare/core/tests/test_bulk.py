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
    from govshare.core.testing import resource_draft

    created = services.create_resource(resource_draft(department), actor=catalog_admin)
    assert bulk.pk_by(Resource, "code", [created.code, "999999999/000001"]) == {created.code: created.pk}
