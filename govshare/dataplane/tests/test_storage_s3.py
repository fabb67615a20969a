"""Dataset tables on S3-compatible storage, against a real S3 HTTP server (moto's, in its own process on 127.0.0.1):
versions written, read back and vacuumed through delta-rs' object store, and a load end to end with the preview and
download paths reading S3.

The server runs in a separate process, not in a thread of this one: some delta-rs calls (`DeltaTable.is_deltatable`)
hold the GIL while they wait for the answer, so a server thread in the same interpreter never gets to reply."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog.rules import ItemDraft
from govshare.dataplane.raw import SourceUnavailable
from govshare.dataplane.tables import DatasetTable, VersionVacuumed
from govshare.datasets import reading, services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind

BUCKET = "govshare-test"
ACCESS_KEY = "testing-key"
SECRET_KEY = "testing-secret"
SCHEMA = pa.schema([("编号", pa.int64()), ("姓名", pa.string())])


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-compatible HTTP server process on a free port (the system picks it), with the test bucket."""
    log = tmp_path_factory.mktemp("s3") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        endpoint = _wait_for_endpoint(server, log)
        _client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for_endpoint(server: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if server.poll() is not None:
            raise RuntimeError(f"the S3 server exited: {log.read_text(errors='replace')}")
        time.sleep(0.05)
    raise RuntimeError(f"the S3 server did not start within {timeout} s: {log.read_text(errors='replace')}")


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )


@pytest.fixture
def prefix(settings, s3_endpoint: str, _isolated_data_dir: None) -> str:  # type: ignore[no-untyped-def]
    """The settings point dataset storage at a prefix of the bucket of its own (one per test)."""
    prefix = f"run-{uuid.uuid4().hex[:12]}"
    settings.GOVSHARE = settings.GOVSHARE.model_copy(
        update={
            "dataset_storage_uri": f"s3://{BUCKET}/{prefix}/datasets",
            "s3_endpoint_url": s3_endpoint,
            "s3_access_key_id": ACCESS_KEY,
            "s3_secret_access_key": SECRET_KEY,
            "s3_region": "us-east-1",
        }
    )
    return prefix


def _objects(endpoint: str, prefix: str) -> set[str]:
    """Every object key under the prefix (the bucket listed through the S3 API)."""
    pages = _client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def rows(*pairs: tuple[int, str]) -> pa.RecordBatchReader:
    return pa.table({"编号": [k for k, _ in pairs], "姓名": [v for _, v in pairs]}, schema=SCHEMA).to_reader()


def content(table: DatasetTable, version: int) -> list[tuple[int, str]]:
    reader = table.read(version)
    assert isinstance(reader, pa.RecordBatchReader)
    return sorted((r["编号"], r["姓名"]) for batch in reader for r in batch.to_pylist())


@pytest.fixture
def table(prefix: str) -> DatasetTable:
    return DatasetTable(f"s3://{BUCKET}/{prefix}/datasets/1")


# --- DatasetTable on S3 --------------------------------------------------------------------------------------------


def test_the_s3_settings_become_object_store_options(table: DatasetTable, s3_endpoint: str) -> None:
    assert table.storage_options == {
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    assert (table.exists(), table.version()) == (False, None)


def test_overwrite_append_and_upsert_make_versions_each_readable(table: DatasetTable) -> None:
    assert table.write(rows((1, "张三"), (2, "李四")), mode="overwrite", load_id=1) == 0
    assert table.write(rows((3, "王五")), mode="append", load_id=2) == 1
    result = table.upsert(rows((2, "李四改"), (4, "赵六")), keys=["编号"], delete_missing=False, load_id=3)
    assert (result.version, result.inserted, result.updated, result.deleted) == (2, 1, 1, 0)
    assert content(table, 0) == [(1, "张三"), (2, "李四")]
    assert content(table, 1) == [(1, "张三"), (2, "李四"), (3, "王五")]
    assert content(table, 2) == [(1, "张三"), (2, "李四改"), (3, "王五"), (4, "赵六")]
    assert [table.row_count(v) for v in (0, 1, 2)] == [2, 3, 4]
    assert [(c.version, c.load_id) for c in table.history()] == [(2, 3), (1, 2), (0, 1)]


def test_a_version_is_read_in_batches_not_as_one_table(table: DatasetTable) -> None:
    table.write(rows(*((n, f"名{n}") for n in range(100_000))), mode="overwrite", load_id=1)
    reader = table.read(0, columns=["编号"])
    assert reader.schema == pa.schema([("编号", pa.int64())])
    sizes = [batch.num_rows for batch in reader]
    assert sum(sizes) == 100_000
    assert len(sizes) > 1


def test_files_of_a_version_are_s3_uris_of_objects_in_the_bucket(
    table: DatasetTable, s3_endpoint: str, prefix: str
) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    files = table.files(0)
    assert files and all(name.startswith(f"s3://{BUCKET}/{prefix}/datasets/1/") for name in files)
    keys = _objects(s3_endpoint, prefix)
    assert {name.removeprefix(f"s3://{BUCKET}/") for name in files} <= keys
    assert any(key.startswith(f"{prefix}/datasets/1/_delta_log/") for key in keys)


def test_vacuum_keeping_one_version_deletes_the_old_objects_and_the_current_version_reads(
    table: DatasetTable, s3_endpoint: str, prefix: str
) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    table.write(rows((2, "李四")), mode="overwrite", load_id=2)
    old = {name.removeprefix(f"s3://{BUCKET}/") for name in table.files(0)}
    current = {name.removeprefix(f"s3://{BUCKET}/") for name in table.files(1)}
    assert old <= _objects(s3_endpoint, prefix)

    removed = table.vacuum(keep_versions=1)

    assert {f"{prefix}/datasets/1/{name}" for name in removed} == old
    left = _objects(s3_endpoint, prefix)
    assert not old & left
    assert current <= left
    assert content(table, 1) == [(2, "李四")]


def test_a_second_vacuum_finds_nothing_more_to_delete(table: DatasetTable) -> None:
    for n in range(3):
        table.write(rows((n, f"第{n}版")), mode="overwrite", load_id=n + 1)
    assert len(table.vacuum(keep_versions=1)) == 2
    assert table.vacuum(keep_versions=1) == []
    assert [c.operation for c in table.history()][:2] == ["VACUUM END", "VACUUM START"]


def test_reading_a_vacuumed_version_says_it_was_cleaned_up(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    table.write(rows((2, "李四")), mode="overwrite", load_id=2)
    table.vacuum(keep_versions=1)
    with pytest.raises(VersionVacuumed, match="版本 0 的数据已按保留策略清理"):
        content(table, 0)


def test_a_failing_write_leaves_the_previous_s3_version_current(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)

    def failing() -> Iterator[pa.RecordBatch]:
        yield from rows(*((n, "甲") for n in range(1000))).read_all().to_batches()
        raise SourceUnavailable("前置库连接中断")

    with pytest.raises(SourceUnavailable, match="前置库连接中断"):
        table.write(pa.RecordBatchReader.from_batches(SCHEMA, failing()), mode="overwrite", load_id=2)
    assert table.version() == 0
    assert table.version_for_load(2) is None
    assert content(table, 0) == [(1, "张三")]


# --- a load end to end -----------------------------------------------------------------------------------------------

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D"),
]
MAPPING = [
    source_services.MappingEntry("身份证号", "公民身份号码"),
    source_services.MappingEntry("姓名", "姓名"),
    source_services.MappingEntry("出生日期", "出生日期"),
]


@pytest.fixture
def admin(department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def resource(department):  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


def _load(resource, admin, tmp_path: Path, lines: list[str]):  # type: ignore[no-untyped-def]
    data = source_services.SourceInput(name="线下报送", kind=SourceKind.FILE, config={"format": "csv"})
    source = source_services.set_mapping(
        source_services.register_source(resource, data, actor=admin), MAPPING, actor=admin
    )
    path = tmp_path / "人口.csv"
    path.write_text("身份证号,姓名,出生日期\n" + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    load = services.request_load(source, actor=admin, file_path=path)
    run_load(load.pk)
    load.refresh_from_db()
    return load


PEOPLE = ["510603199001010001,张三,1990-01-01", "510603199202020002,李四,1992-02-02"]


@pytest.mark.django_db
def test_a_load_writes_its_version_to_s3(resource, admin, tmp_path, prefix, s3_endpoint) -> None:  # type: ignore[no-untyped-def]
    load = _load(resource, admin, tmp_path, PEOPLE)
    assert load.status == LoadStatus.SUCCEEDED, load.error
    dataset = Dataset.objects.get(resource=resource)
    assert dataset.table_uri == f"s3://{BUCKET}/{prefix}/datasets/{dataset.pk}"
    assert (load.version, dataset.current_version, dataset.row_count) == (0, 0, 2)
    assert any(key.endswith(".parquet") for key in _objects(s3_endpoint, f"{prefix}/datasets/{dataset.pk}/"))


@pytest.mark.django_db
def test_the_preview_of_a_version_on_s3_shows_its_rows(resource, admin, tmp_path, prefix) -> None:  # type: ignore[no-untyped-def]
    _load(resource, admin, tmp_path, PEOPLE)
    preview = reading.preview_version(admin, resource)
    assert (preview.version, preview.total_rows) == (0, 2)
    assert [f.name for f in preview.fields] == ["公民身份号码", "姓名", "出生日期"]
    assert sorted(preview.rows) == [
        ["510603199001010001", "张三", "1990-01-01"],
        ["510603199202020002", "李四", "1992-02-02"],
    ]


@pytest.mark.django_db
def test_the_download_of_a_version_on_s3_streams_its_rows(resource, admin, tmp_path, prefix) -> None:  # type: ignore[no-untyped-def]
    _load(resource, admin, tmp_path, PEOPLE)
    response = reading.download_response(admin, resource, file_format="csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[arg-type]
    records = list(csv.reader(io.StringIO(text)))
    assert records[0] == ["公民身份号码", "姓名", "出生日期"]
    assert sorted(records[1:]) == [
        ["510603199001010001", "张三", "1990-01-01"],
        ["510603199202020002", "李四", "1992-02-02"],
    ]
