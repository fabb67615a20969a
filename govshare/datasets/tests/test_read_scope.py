"""Reading through a scope (reading.open_version): the one entry point every preview, download and export takes,
with the items, rows, masking and purpose of whoever reads."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import ValidationFailed
from govshare.core.masking import MaskRule
from govshare.datasets import reading, services
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="区县", data_type="C", length=20),
]
CSV = (
    "身份证号,姓名,区县\n"
    "510603199001010011,张三,旌阳区\n"
    "510603199001010038,李四,罗江区\n"
    "510603199001010054,王五,旌阳区\n"
)


@pytest.fixture
def owner(department) -> User:  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="人口信息")


@pytest.fixture
def dataset(resource: Resource, owner: User, tmp_path: Path) -> Dataset:
    data = source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"})
    source = source_services.register_source(resource, data, actor=owner)
    mapping = [
        source_services.MappingEntry(c, i)
        for c, i in (("身份证号", "公民身份号码"), ("姓名", "姓名"), ("区县", "区县"))
    ]
    source_services.set_mapping(source, mapping, actor=owner)
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")
    run_load(services.request_load(source, actor=owner, file_path=path).pk)
    return Dataset.objects.get(resource=resource)


def rows_of(opened: reading.OpenedVersion) -> list[dict[str, object]]:
    with opened.batches as batches:
        return pa.Table.from_batches(list(batches), schema=batches.schema).select(opened.names).to_pylist()


def test_a_scope_with_items_reads_only_those_items(dataset: Dataset, owner: User) -> None:
    opened = reading.open_version(dataset, reading.ReadScope(reader=owner, items=frozenset({"姓名"})))
    assert opened.names == ["姓名"]
    assert rows_of(opened) == [{"姓名": "张三"}, {"姓名": "李四"}, {"姓名": "王五"}]


def test_a_scope_with_rows_reads_only_the_rows_whose_items_hold_the_allowed_values(
    dataset: Dataset, owner: User
) -> None:
    scope = reading.ReadScope(reader=owner, rows_where={"区县": frozenset({"旌阳区"})})
    assert [row["姓名"] for row in rows_of(reading.open_version(dataset, scope))] == ["张三", "王五"]


def test_a_scope_masks_its_items_on_the_server(dataset: Dataset, owner: User) -> None:
    scope = reading.ReadScope(reader=owner, masking={"公民身份号码": MaskRule.ID_NUMBER, "姓名": MaskRule.WITHHOLD})
    opened = reading.open_version(dataset, scope)
    assert opened.names == ["公民身份号码", "区县"]
    first = rows_of(opened)[0]
    assert first["公民身份号码"] != "510603199001010011" and str(first["公民身份号码"]).startswith("510603")


def test_a_lookup_by_an_item_outside_the_scope_is_refused(dataset: Dataset, owner: User) -> None:
    scope = reading.ReadScope(reader=owner, items=frozenset({"区县"}))
    with pytest.raises(ValidationFailed, match="姓名"):
        reading.open_version(dataset, scope, where={"姓名": "张三"})


def test_rows_may_not_be_scoped_by_an_item_the_dataset_does_not_hold(dataset: Dataset, owner: User) -> None:
    scope = reading.ReadScope(reader=owner, rows_where={"籍贯": frozenset({"德阳"})})
    with pytest.raises(ValidationFailed, match="籍贯"):
        reading.open_version(dataset, scope)


def test_the_staff_scope_is_unmasked_for_the_owner_and_its_purpose_is_audited(
    dataset: Dataset, owner: User, resource: Resource
) -> None:
    assert reading.staff_scope(owner, resource).masking == {}
    reading.preview_version(owner, resource)
    row = AuditLog.objects.filter(action=reading.ACTION_PREVIEW).latest("pk")
    assert row.extra["purpose"] == "本部门数据"
