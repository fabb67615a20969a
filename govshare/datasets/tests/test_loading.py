"""Loads end to end on the real components: files and a SQLite 前置库 → DuckDB → Delta versions."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog.rules import ItemDraft
from govshare.dataplane.tables import DatasetTable
from govshare.datasets import services
from govshare.datasets.choices import LoadStatus, VersionKind
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset, DatasetVersion, Load
from govshare.sources import services as source_services
from govshare.sources.choices import LoadMode, SourceKind
from govshare.sources.models import Source
from govshare.testing.http_api import PAGED, base

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D"),
    ItemDraft(name="更新时间", data_type="T"),
]
MAPPING = [
    source_services.MappingEntry("身份证号", "公民身份号码"),
    source_services.MappingEntry("姓名", "姓名"),
    source_services.MappingEntry("出生日期", "出生日期"),
    source_services.MappingEntry("更新时间", "更新时间"),
]
HEADER = "身份证号,姓名,出生日期,更新时间\n"


@pytest.fixture
def admin(department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def resource(department):  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


def _rows(n: int, start: int = 0, day: str = "2026-01-01") -> str:
    return "".join(f"51060319900101{i:04d},张{i},1990-01-01,{day} 08:00:00\n" for i in range(start, start + n))


def _file_source(resource, admin, **kwargs) -> Source:  # type: ignore[no-untyped-def]
    data = source_services.SourceInput(name="线下报送", kind=SourceKind.FILE, config={"format": "csv"}, **kwargs)
    source = source_services.register_source(resource, data, actor=admin)
    return source_services.set_mapping(source, MAPPING, actor=admin)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _load_file(source: Source, admin, path: Path, mode: str | None = None) -> Load:  # type: ignore[no-untyped-def]
    load = services.request_load(source, actor=admin, file_path=path, mode=mode)
    run_load(load.pk)
    load.refresh_from_db()
    return load


def test_a_full_load_of_a_gbk_file_makes_version_zero_with_lineage(resource, admin, tmp_path) -> None:
    path = _write(tmp_path, "人口.csv", HEADER + _rows(5) + "510603199001019999,李四,19xx-01-01,2026-01-01\n", "gbk")
    load = _load_file(_file_source(resource, admin), admin, path)
    assert load.status == LoadStatus.SUCCEEDED, load.error
    assert (load.version, load.rows_read, load.rows_loaded, load.rows_rejected) == (0, 6, 5, 1)
    assert load.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert load.bytes_read == path.stat().st_size
    assert load.encoding.upper() in {"GBK", "GB18030"}
    dataset = Dataset.objects.get(resource=resource)
    assert (dataset.current_version, dataset.row_count) == (0, 5)
    assert AuditLog.objects.filter(action="datasets.load.succeed", object_id=str(load.pk)).exists()


def test_the_rejects_file_names_row_column_and_reason(resource, admin, tmp_path) -> None:
    path = _write(tmp_path, "a.csv", HEADER + _rows(2) + "510603199001019999,李四,19xx-01-01,2026-01-01\n")
    load = _load_file(_file_source(resource, admin), admin, path)
    lines = Path(load.rejects_path).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "行号,列,原因,原始值"
    row, column, reason = lines[1].split(",")[:3]
    assert (row, column) == ("4", "出生日期")
    assert "19xx-01-01" in reason


def test_a_new_load_makes_a_new_version_and_the_previous_stays_readable(resource, admin, tmp_path) -> None:
    source = _file_source(resource, admin)
    _load_file(source, admin, _write(tmp_path, "1.csv", HEADER + _rows(3)))
    second = _load_file(source, admin, _write(tmp_path, "2.csv", HEADER + _rows(7)))
    table = DatasetTable(Dataset.objects.get(resource=resource).table_uri)
    assert second.version == 1
    assert (table.row_count(0), table.row_count(1)) == (3, 7)


def test_a_file_without_a_single_valid_row_publishes_no_version(resource, admin, tmp_path) -> None:
    source = _file_source(resource, admin)
    _load_file(source, admin, _write(tmp_path, "1.csv", HEADER + _rows(3)))
    bad = _load_file(source, admin, _write(tmp_path, "2.csv", HEADER + "x,张,19xx,2026\n"))
    assert bad.status == LoadStatus.FAILED
    assert "没有可加载的有效记录" in bad.error
    dataset = Dataset.objects.get(resource=resource)
    assert (dataset.current_version, dataset.row_count) == (0, 3)
    assert DatasetTable(dataset.table_uri).version() == 0


def test_a_missing_mapped_column_fails_with_a_clear_message(resource, admin, tmp_path) -> None:
    source = _file_source(resource, admin)
    load = _load_file(source, admin, _write(tmp_path, "1.csv", "身份证号,姓名\n510603199001010001,张三\n"))
    assert load.status == LoadStatus.FAILED
    assert "出生日期" in load.error and "缺少" in load.error


def test_a_retry_after_the_commit_only_finishes_the_bookkeeping(resource, admin, tmp_path) -> None:
    load = _load_file(_file_source(resource, admin), admin, _write(tmp_path, "1.csv", HEADER + _rows(4)))
    # The worker died between the Delta commit and the bookkeeping: the row still says RUNNING, heartbeat stale.
    Load.objects.filter(pk=load.pk).update(
        status=LoadStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1), attempts=1, version=None
    )
    run_load(load.pk)
    load.refresh_from_db()
    table = DatasetTable(Dataset.objects.get(resource=resource).table_uri)
    assert load.status == LoadStatus.SUCCEEDED
    assert (load.version, table.version(), table.row_count(0)) == (0, 0, 4)


def test_a_load_held_by_a_live_worker_is_left_alone(resource, admin, tmp_path) -> None:
    source = _file_source(resource, admin)
    load = services.request_load(source, actor=admin, file_path=_write(tmp_path, "1.csv", HEADER + _rows(2)))
    Load.objects.filter(pk=load.pk).update(status=LoadStatus.RUNNING, heartbeat_at=timezone.now(), attempts=1)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.RUNNING
    assert not DatasetTable(load.dataset.table_uri).exists()


# --- 前置库 (SQLite file) ---------------------------------------------------------------------------------------


def _front_db(path: Path, rows: list[tuple[str, str, str, str]]) -> str:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE IF NOT EXISTS rk (sfzh TEXT PRIMARY KEY, xm TEXT, csrq TEXT, gxsj TEXT)")
        con.executemany("INSERT OR REPLACE INTO rk VALUES (?, ?, ?, ?)", rows)
    return f"sqlite:///{path}"


def _db_source(resource, admin, url: str, **kwargs) -> Source:  # type: ignore[no-untyped-def]
    data = source_services.SourceInput(
        name="公安前置库", kind=SourceKind.DATABASE, config={"url": url, "table": "rk"}, **kwargs
    )
    source = source_services.register_source(resource, data, actor=admin)
    mapping = [
        source_services.MappingEntry("sfzh", "公民身份号码"),
        source_services.MappingEntry("xm", "姓名"),
        source_services.MappingEntry("csrq", "出生日期"),
        source_services.MappingEntry("gxsj", "更新时间"),
    ]
    return source_services.set_mapping(source, mapping, actor=admin)


def _people(n: int, start: int = 0, stamp: str = "2026-01-01 08:00:00") -> list[tuple[str, str, str, str]]:
    return [(f"51060319900101{i:04d}", f"王{i}", "1990-01-01", stamp) for i in range(start, start + n)]


def _run(source: Source, admin, mode: str | None = None) -> Load:  # type: ignore[no-untyped-def]
    load = services.request_load(source, actor=admin, mode=mode)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.SUCCEEDED, load.error
    return load


def test_an_incremental_load_by_watermark_appends_only_newer_rows(resource, admin, tmp_path) -> None:
    url = _front_db(tmp_path / "front.db", _people(10))
    source = _db_source(resource, admin, url, load_mode=LoadMode.APPEND, watermark_column="gxsj")
    first = _run(source, admin, mode=LoadMode.FULL)
    assert first.rows_loaded == 10
    _front_db(tmp_path / "front.db", _people(3, start=10, stamp="2026-02-01 08:00:00"))
    second = _run(source, admin)
    assert (second.rows_read, second.rows_loaded) == (3, 3)
    assert second.watermark_to.startswith("2026-02-01")
    dataset = Dataset.objects.get(resource=resource)
    assert (dataset.current_version, dataset.row_count) == (1, 13)
    assert dataset.watermark.startswith("2026-02-01")


def test_an_incremental_load_with_nothing_new_makes_no_version(resource, admin, tmp_path) -> None:
    url = _front_db(tmp_path / "front.db", _people(4))
    source = _db_source(resource, admin, url, load_mode=LoadMode.APPEND, watermark_column="gxsj")
    _run(source, admin, mode=LoadMode.FULL)
    again = _run(source, admin)
    assert (again.rows_read, again.rows_loaded, again.version) == (0, 0, None)
    dataset = Dataset.objects.get(resource=resource)
    assert (dataset.current_version, dataset.row_count) == (0, 4)
    assert DatasetTable(dataset.table_uri).version() == 0


def test_an_upsert_updates_inserts_and_detects_deletes(resource, admin, tmp_path) -> None:
    db = tmp_path / "front.db"
    url = _front_db(db, _people(5))
    source = _db_source(
        resource, admin, url, load_mode=LoadMode.UPSERT, key_items=["公民身份号码"], detect_deletes=True
    )
    _run(source, admin)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE rk SET xm = '王改' WHERE sfzh = '510603199001010001'")
        con.execute("DELETE FROM rk WHERE sfzh = '510603199001010002'")
    _front_db(db, _people(1, start=5))
    load = _run(source, admin)
    assert load.rows_deleted == 1
    table = DatasetTable(Dataset.objects.get(resource=resource).table_uri)
    rows = {r["公民身份号码"]: r["姓名"] for r in table.read(load.version).read_all().to_pylist()}
    assert len(rows) == 5
    assert rows["510603199001010001"] == "王改"
    assert "510603199001010002" not in rows


def test_a_source_database_that_is_down_is_retried_then_failed_without_a_version(resource, admin) -> None:
    source = _db_source(resource, admin, "postgresql+psycopg://gov@127.0.0.1:1/front")
    load = services.request_load(source, actor=admin)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.RETRYING
    assert load.next_attempt_at is not None and "前置库" in load.error
    for _ in range(load.max_attempts):
        run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.FAILED
    assert load.attempts == load.max_attempts
    assert not DatasetTable(load.dataset.table_uri).exists()


# --- HTTP API source ---------------------------------------------------------------------------------------------


def _api_source(resource, admin, url: str) -> Source:  # type: ignore[no-untyped-def]
    config = {"url": url, "records_path": "$.data.list[*]", "paging": PAGED}
    source = source_services.register_source(
        resource, source_services.SourceInput(name="人口接口", kind=SourceKind.HTTP_API, config=config), actor=admin
    )
    mapping = [
        source_services.MappingEntry("id", "公民身份号码"),
        source_services.MappingEntry("姓名", "姓名"),
        source_services.MappingEntry("更新时间", "更新时间"),
    ]
    return source_services.set_mapping(source, mapping, actor=admin)


def test_an_api_source_loads_every_page(resource, admin, api) -> None:
    load = _run(_api_source(resource, admin, base(api) + "/people"), admin)
    assert (load.rows_read, load.rows_loaded, load.version) == (25, 25, 0)


def test_invalid_json_mid_way_publishes_no_version_and_is_retried(resource, admin, api) -> None:
    source = _api_source(resource, admin, base(api) + "/people")
    _run(source, admin)
    source.config = {**source.config, "url": base(api) + "/badjson"}
    source.save(update_fields=["config"])
    load = services.request_load(source, actor=admin)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.RETRYING
    assert "第 3 页" in load.error
    dataset = Dataset.objects.get(resource=resource)
    assert (dataset.current_version, dataset.row_count) == (0, 25)
    assert DatasetTable(dataset.table_uri).version() == 0


# --- dataset versions ---------------------------------------------------------------------------------------------


def test_each_load_that_commits_records_its_version_with_the_load_and_its_rows(resource, admin, tmp_path) -> None:
    source = _file_source(resource, admin)
    first = _load_file(source, admin, _write(tmp_path, "a.csv", HEADER + _rows(3)))
    second = _load_file(source, admin, _write(tmp_path, "b.csv", HEADER + _rows(5)))
    made = DatasetVersion.objects.filter(dataset=first.dataset).order_by("number")
    assert [(v.number, v.kind, v.load_id, v.rows) for v in made] == [
        (0, VersionKind.LOAD, first.pk, 3),
        (1, VersionKind.LOAD, second.pk, 5),
    ]


def test_a_load_that_brings_nothing_new_records_no_version(resource, admin, tmp_path) -> None:
    data = source_services.SourceInput(
        name="线下报送",
        kind=SourceKind.FILE,
        config={"format": "csv"},
        load_mode=LoadMode.UPSERT,
        key_items=["公民身份号码"],
    )
    source = source_services.set_mapping(
        source_services.register_source(resource, data, actor=admin), MAPPING, actor=admin
    )
    _load_file(source, admin, _write(tmp_path, "a.csv", HEADER + _rows(3)))
    empty = _load_file(source, admin, _write(tmp_path, "b.csv", HEADER))
    assert empty.status == LoadStatus.SUCCEEDED, empty.error
    assert list(DatasetVersion.objects.values_list("number", flat=True)) == [0]
