"""The bulk path (services.create_resources, used by the Excel import) writes tuples, not model instances: the
rows must be those the single-entry path would describe."""

import pytest

from govshare.audit.models import AuditLog
from govshare.catalog import history, services
from govshare.catalog.models import ResourceVersion
from govshare.catalog.rules import ItemDraft
from govshare.testing import resource_draft

ITEMS = [
    ItemDraft(name=" 公民身份号码 ", data_type="C", length=18, description=" 18位 "),
    ItemDraft(name="出生日期", data_type="D"),
]


@pytest.mark.django_db
def test_bulk_created_entries_have_items_versions_and_audit_rows_as_stored(catalog_admin, department) -> None:
    drafts = [resource_draft(department, name=f"常住人口信息{n}", items=ITEMS) for n in range(3)]
    resolved, problems = services.resolve_drafts(drafts)
    assert not any(problems)
    created = services.create_resources(resolved, actor=catalog_admin, batch_note="批量导入 #1")
    for resource in created:
        resource.refresh_from_db()
        items = list(resource.items.order_by("position"))
        assert [(i.position, i.name, i.description) for i in items] == [
            (1, "公民身份号码", "18位"),
            (2, "出生日期", ""),
        ]
        version = ResourceVersion.objects.get(resource=resource)
        assert version.snapshot == history.snapshot(resource, items)
        assert (version.number, version.note, version.actor_id, version.changes) == (
            1,
            "批量导入 #1",
            catalog_admin.pk,
            [],
        )
        audit = AuditLog.objects.get(action="catalog.resource.import", object_id=str(resource.pk))
        assert (audit.actor_id, audit.object_repr, audit.extra) == (
            catalog_admin.pk,
            str(resource),
            {"note": "批量导入 #1"},
        )


@pytest.mark.django_db
def test_bulk_created_entries_are_searchable_and_the_index_trigger_is_kept(catalog_admin, department) -> None:
    from django.db import connection

    from govshare.catalog import search

    drafts = [resource_draft(department, name=f"婚姻登记信息{n}", summary="婚姻登记记录") for n in range(3)]
    resolved, _ = services.resolve_drafts(drafts)
    created = services.create_resources(resolved, actor=catalog_admin)
    found = search.matching_resources(catalog_admin, q="婚姻登记")
    assert sorted(found.values_list("pk", flat=True)) == sorted(r.pk for r in created)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'catalog_resource'")
            assert {row[0] for row in cursor.fetchall()} == search.SQLITE_TRIGGERS
    # Later single creations are still indexed by the trigger.
    later = services.create_resource(resource_draft(department, name="婚姻登记补录"), actor=catalog_admin)
    assert later.pk in set(search.matching_resources(catalog_admin, q="补录").values_list("pk", flat=True))
