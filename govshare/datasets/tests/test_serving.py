"""The key index of a dataset version (govshare.datasets.serving): which keys it has, and lookups by them that
answer plain values without scanning the dataset."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pyarrow as pa
import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.datasets import serving
from govshare.datasets.choices import ServingStatus
from govshare.datasets.models import Dataset, ServingIndex
from govshare.testing.serving import file_source, load_rows

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18, at_rest="searchable"),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D"),
    ItemDraft(name="住址", data_type="C", length=100, at_rest="encrypted"),
    ItemDraft(name="证照编号", data_type="C", length=20),
    ItemDraft(name="月收入", data_type="N", length=12, at_rest="encrypted"),
]
ROWS = [
    ["11010519491231002X", "欧阳娜娜", "1949-12-31", "北京市东城区东华门街道1号", "ZZ-001", "3500.5"],
    ["440524188001010014", "张三", "1880-01-01", "广东省汕头市潮阳区2号", "ZZ-002", ""],
    # The same licence number twice: identifier columns are not always unique.
    ["110105195001010018", "李四", "1950-01-01", "", "ZZ-002", "12"],
]


@pytest.fixture
def owner(department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def resource(department: Department) -> Resource:
    return testing.make_published_resource(department, items=ITEMS, name="人口基本信息")


@pytest.fixture
def dataset(resource: Resource, owner: User, tmp_path: Path) -> Dataset:
    source = file_source(resource, owner, key_items=["出生日期", "姓名"])
    return load_rows(source, owner, tmp_path / "v1.csv", ROWS)


@pytest.fixture
def served(dataset: Dataset) -> serving.ServedVersion:
    serving.build_serving_index(dataset)
    version = serving.served(dataset.pk)
    assert version is not None
    return version


def test_the_keys_are_the_source_key_and_the_identifier_items_in_item_order(dataset: Dataset) -> None:
    assert serving.lookup_keys(dataset) == [("公民身份号码",), ("姓名", "出生日期"), ("证照编号",)]


def test_a_dataset_without_identifiers_or_source_key_has_no_index(
    department: Department, owner: User, tmp_path: Path
) -> None:
    resource = testing.make_published_resource(department, items=[ItemDraft(name="姓名", data_type="C", length=50)])
    dataset = load_rows(file_source(resource, owner), owner, tmp_path / "a.csv", [["张三"]])
    assert serving.lookup_keys(dataset) == []
    assert serving.build_serving_index(dataset) is None
    assert serving.served(dataset.pk) is None


def test_the_index_is_registered_ready_with_its_figures_and_audited(dataset: Dataset) -> None:
    index = serving.build_serving_index(dataset)
    assert index is not None
    assert (index.status, index.version, index.row_count) == (ServingStatus.READY, 0, 3)
    assert index.key_items == [["公民身份号码"], ["姓名", "出生日期"], ["证照编号"]]
    assert index.build_seconds is not None and index.built_at is not None
    [audit] = AuditLog.objects.filter(action=serving.ACTION_BUILD)
    assert (audit.object_id, audit.extra["version"], audit.extra["rows"]) == (str(dataset.pk), 0, 3)


def test_the_index_file_is_private_and_keeps_ciphertext(dataset: Dataset) -> None:
    index = serving.build_serving_index(dataset)
    assert index is not None
    path = Path(index.path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    assert "东华门街道".encode() not in raw and b"11010519491231002X" not in raw
    assert "欧阳娜娜".encode() in raw  # a plain column stays plain


def test_a_lookup_by_a_searchable_identifier_answers_the_row_decrypted(served: serving.ServedVersion) -> None:
    [row] = served.rows_for(("公民身份号码",), ("11010519491231002X",))
    assert row == {
        "公民身份号码": "11010519491231002X",
        "姓名": "欧阳娜娜",
        "出生日期": "1949-12-31",
        "住址": "北京市东城区东华门街道1号",
        "证照编号": "ZZ-001",
        "月收入": 3500.5,
    }


def test_only_the_asked_columns_are_answered(served: serving.ServedVersion) -> None:
    rows = served.rows_for(("公民身份号码",), ("440524188001010014",), columns=["姓名", "住址", "不存在"])
    assert rows == [{"姓名": "张三", "住址": "广东省汕头市潮阳区2号"}]


def test_hash_columns_never_leave_the_index(served: serving.ServedVersion) -> None:
    [row] = served.rows_for(("证照编号",), ("ZZ-001",))
    assert not [name for name in row if name.endswith("__hmac")]


def test_a_key_that_matches_several_rows_answers_them_in_row_order_up_to_the_limit(
    served: serving.ServedVersion,
) -> None:
    rows = served.rows_for(("证照编号",), ("ZZ-002",), columns=["姓名"])
    assert rows == [{"姓名": "张三"}, {"姓名": "李四"}]
    assert served.rows_for(("证照编号",), ("ZZ-002",), columns=["姓名"], limit=1) == [{"姓名": "张三"}]


def test_a_composite_key_is_looked_up_by_all_its_values(served: serving.ServedVersion) -> None:
    rows = served.rows_for(("姓名", "出生日期"), ("李四", "1950-01-01"), columns=["公民身份号码"])
    assert rows == [{"公民身份号码": "110105195001010018"}]
    assert served.rows_for(("姓名", "出生日期"), ("李四", "1949-12-31")) == []


def test_a_value_nobody_has_answers_no_row(served: serving.ServedVersion) -> None:
    assert served.rows_for(("公民身份号码",), ("510603199001010011",)) == []
    assert served.rows_for(("公民身份号码",), ("",)) == []


def test_a_lookup_by_items_that_are_not_a_key_is_refused_naming_the_keys(served: serving.ServedVersion) -> None:
    with pytest.raises(
        serving.UnknownKey, match=r"“姓名”不是该数据集检索索引的键.*公民身份号码；姓名\+出生日期；证照编号"
    ):
        served.rows_for(("姓名",), ("张三",))
    with pytest.raises(ValueError, match="需要 2 个值，收到 1 个"):
        served.rows_for(("姓名", "出生日期"), ("张三",))


def test_the_served_version_says_what_it_serves(served: serving.ServedVersion, dataset: Dataset) -> None:
    assert (served.dataset_id, served.resource_id, served.version) == (dataset.pk, dataset.resource_id, 0)
    assert served.key_items == (("公民身份号码",), ("姓名", "出生日期"), ("证照编号",))


def test_building_again_for_the_same_version_changes_nothing(dataset: Dataset) -> None:
    first = serving.build_serving_index(dataset)
    again = serving.build_serving_index(dataset)
    assert first is not None and again is not None and again.pk == first.pk
    assert ServingIndex.objects.filter(dataset=dataset).count() == 1


def test_a_file_of_one_key_matching_many_rows_is_read_by_the_key_table_not_by_a_scan(tmp_path: Path) -> None:
    schema = pa.schema([("证照编号", pa.string()), ("姓名", pa.string())])
    table = pa.table({"证照编号": ["A", "B", "A", None], "姓名": ["甲", "乙", "丙", "丁"]}, schema=schema)
    path = tmp_path / "index.sqlite"
    key = (serving._KeyColumn("证照编号", "证照编号", hashed=False),)
    meta = {
        "dataset_id": 1,
        "resource_id": 1,
        "version": 0,
        "keys": [[{"item": "证照编号", "hashed": False}]],
        "encrypted": {},
    }
    rows = serving._write_index(
        path, pa.RecordBatchReader.from_batches(schema, table.to_batches()), schema, [key], meta
    )
    assert rows == 4
    version = serving.ServedVersion(path)
    assert version.rows_for(("证照编号",), ("A",), columns=["姓名"]) == [{"姓名": "甲"}, {"姓名": "丙"}]
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM key_0").fetchone() == (3,)  # the null key is not indexed
        plan = " ".join(str(r) for r in con.execute("EXPLAIN QUERY PLAN SELECT row_id FROM key_0 WHERE key = 'A'"))
    assert "SEARCH" in plan and "SCAN" not in plan
