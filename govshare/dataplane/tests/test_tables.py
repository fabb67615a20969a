"""Delta tables of datasets: versions, atomic commits, idempotent retries, upserts, vacuum."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govshare.dataplane.raw import SourceUnavailable
from govshare.dataplane.tables import (
    DatasetTable,
    SchemaChanged,
    UpsertResult,
    VersionVacuumed,
    dataset_table_uri,
    storage_options_for,
)

SCHEMA = pa.schema([("编号", pa.int64()), ("姓名", pa.string())])


def rows(*pairs: tuple[int, str]) -> pa.RecordBatchReader:
    table = pa.table({"编号": [k for k, _ in pairs], "姓名": [v for _, v in pairs]}, schema=SCHEMA)
    return table.to_reader()


def content(table: DatasetTable, version: int) -> list[tuple[int, str]]:
    return sorted((r["编号"], r["姓名"]) for r in table.read(version).read_all().to_pylist())


@pytest.fixture
def table(tmp_path: Path) -> DatasetTable:
    return DatasetTable(str(tmp_path / "dataset"))


def test_a_new_table_has_no_version(table: DatasetTable) -> None:
    assert (table.exists(), table.version(), table.history()) == (False, None, [])


def test_overwrite_then_append_make_versions_and_old_versions_stay_readable(table: DatasetTable) -> None:
    assert table.write(rows((1, "张三"), (2, "李四")), mode="overwrite", load_id=1) == 0
    assert table.write(rows((3, "王五")), mode="append", load_id=2) == 1
    assert table.write(rows((9, "赵六")), mode="overwrite", load_id=3) == 2
    assert content(table, 0) == [(1, "张三"), (2, "李四")]
    assert content(table, 1) == [(1, "张三"), (2, "李四"), (3, "王五")]
    assert content(table, 2) == [(9, "赵六")]
    assert [table.row_count(v) for v in (0, 1, 2)] == [2, 3, 1]


def test_each_commit_records_its_load(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=41)
    table.write(rows((2, "李四")), mode="append", load_id=42)
    history = table.history()
    assert [(c.version, c.operation, c.load_id) for c in history] == [(1, "WRITE", 42), (0, "WRITE", 41)]
    assert history[0].metrics["num_added_rows"] == 1
    assert (table.version_for_load(41), table.version_for_load(42), table.version_for_load(43)) == (0, 1, None)


def test_data_files_of_writes_and_merges_are_zstandard_compressed(table: DatasetTable) -> None:
    table.write(rows((1, "张三"), (2, "李四")), mode="overwrite", load_id=1)
    table.upsert(rows((2, "李四改"), (3, "王五")), keys=["编号"], delete_missing=False, load_id=2)
    codecs = {
        pq.ParquetFile(path).metadata.row_group(0).column(i).compression
        for path in table.files()
        for i in range(len(SCHEMA))
    }
    assert codecs == {"ZSTD"}


def test_a_failing_vacuum_after_a_commit_is_logged_not_raised(table: DatasetTable, caplog) -> None:  # type: ignore[no-untyped-def]
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    table.vacuum_after_commit(keep_versions=0)  # refused by vacuum itself
    assert "vacuum of" in caplog.text and "至少保留 1 个版本" in caplog.text
    assert table.version() == 0


def test_a_retried_load_whose_commit_happened_does_not_write_again(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    assert table.write(rows((2, "李四")), mode="append", load_id=2) == 1
    assert table.write(rows((2, "李四")), mode="append", load_id=2) == 1
    assert table.version() == 1
    assert content(table, 1) == [(1, "张三"), (2, "李四")]


def test_a_failing_stream_commits_nothing_and_the_previous_version_stays_current(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)

    def failing() -> Iterator[pa.RecordBatch]:
        yield from rows(*((n, "甲") for n in range(1000))).read_all().to_batches()
        raise SourceUnavailable("前置库连接中断")

    with pytest.raises(SourceUnavailable, match="前置库连接中断"):
        table.write(pa.RecordBatchReader.from_batches(SCHEMA, failing()), mode="overwrite", load_id=2)
    assert table.version() == 0
    assert table.version_for_load(2) is None
    assert content(table, 0) == [(1, "张三")]


def test_upsert_inserts_updates_and_counts_only_changed_rows(table: DatasetTable) -> None:
    table.write(rows((1, "张三"), (2, "李四"), (3, "王五")), mode="overwrite", load_id=1)
    result = table.upsert(rows((2, "李四"), (3, "王老五"), (4, "赵六")), keys=["编号"], delete_missing=False, load_id=2)
    assert result == UpsertResult(version=1, inserted=1, updated=1, deleted=0)
    assert content(table, 1) == [(1, "张三"), (2, "李四"), (3, "王老五"), (4, "赵六")]


def test_upsert_with_deletes_removes_keys_the_source_no_longer_has(table: DatasetTable) -> None:
    table.write(rows((1, "张三"), (2, "李四"), (3, "王五")), mode="overwrite", load_id=1)
    result = table.upsert(rows((2, "李四"), (3, "王老五")), keys=["编号"], delete_missing=True, load_id=2)
    assert result == UpsertResult(version=1, inserted=0, updated=1, deleted=1)
    assert content(table, 1) == [(2, "李四"), (3, "王老五")]


def test_a_retried_upsert_returns_its_first_result_without_merging_again(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    first = table.upsert(rows((1, "张三丰"), (2, "李四")), keys=["编号"], delete_missing=False, load_id=2)
    again = table.upsert(rows((1, "张三丰"), (2, "李四")), keys=["编号"], delete_missing=False, load_id=2)
    assert again == first == UpsertResult(version=1, inserted=1, updated=1, deleted=0)
    assert table.version() == 1


def test_the_first_upsert_creates_the_table(table: DatasetTable) -> None:
    result = table.upsert(rows((1, "张三"), (2, "李四")), keys=["编号"], delete_missing=True, load_id=1)
    assert result == UpsertResult(version=0, inserted=2, updated=0, deleted=0)


def test_files_schema_and_columns_of_a_version(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    files = table.files(0)
    assert files and all(f.endswith(".parquet") and Path(f).is_file() for f in files)
    assert table.schema(0) == SCHEMA
    assert table.read(0, columns=["姓名"]).read_all().to_pylist() == [{"姓名": "张三"}]


def test_an_empty_load_is_a_version_without_rows(table: DatasetTable) -> None:
    table.write(rows(), mode="overwrite", load_id=1)
    assert table.row_count(0) == 0
    result = table.read(0).read_all()
    assert (result.num_rows, result.schema) == (0, SCHEMA)


def test_vacuum_keeps_the_newest_versions_readable_and_deletes_older_files(table: DatasetTable) -> None:
    for n in range(5):
        table.write(rows((n, f"第{n}版")), mode="overwrite", load_id=n + 1)
    old_files = table.files(0) + table.files(1) + table.files(2)
    removed = table.vacuum(keep_versions=2)
    assert len(removed) == 3
    assert not any(Path(f).exists() for f in old_files)
    assert content(table, 3) == [(3, "第3版")]
    assert content(table, 4) == [(4, "第4版")]
    with pytest.raises(VersionVacuumed, match="版本 2 的数据已按保留策略清理"):
        content(table, 2)


def test_vacuum_does_not_count_its_own_commits_as_versions(table: DatasetTable) -> None:
    for n in range(3):
        table.write(rows((n, f"第{n}版")), mode="overwrite", load_id=n + 1)
    table.vacuum(keep_versions=2)
    assert table.vacuum(keep_versions=2) == []
    assert content(table, 1) == [(1, "第1版")]
    assert [c.operation for c in table.history()][:2] == ["VACUUM END", "VACUUM START"]


def test_vacuum_deletes_the_files_of_a_load_that_never_committed_once_old(table: DatasetTable, settings) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    orphan = Path(table.uri) / "part-00000-orphan-c000.snappy.parquet"
    pa.parquet.write_table(pa.table({"编号": [9]}), orphan)
    assert table.vacuum(keep_versions=1) == []  # young: maybe a load still writing
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"job_timeout_seconds": 0})
    assert table.vacuum(keep_versions=1) == [orphan.name]
    assert not orphan.exists() and content(table, 0) == [(1, "张三")]


def test_table_location_and_storage_options_follow_the_settings(settings, tmp_path: Path) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"data_dir": tmp_path, "dataset_storage_uri": ""})
    assert dataset_table_uri(7) == f"{tmp_path}/datasets/7"
    assert storage_options_for(dataset_table_uri(7)) is None
    settings.GOVSHARE = settings.GOVSHARE.model_copy(
        update={
            "dataset_storage_uri": "s3://govshare/datasets/",
            "s3_endpoint_url": "http://127.0.0.1:9000",
            "s3_access_key_id": "minio",
            "s3_secret_access_key": "minio-secret",
        }
    )
    assert dataset_table_uri(7) == "s3://govshare/datasets/7"
    assert storage_options_for(dataset_table_uri(7)) == {
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "minio",
        "AWS_SECRET_ACCESS_KEY": "minio-secret",
    }


def test_upsert_sees_a_change_in_any_column(table: DatasetTable) -> None:
    def three(*records: tuple[int, str, str | None]) -> pa.RecordBatchReader:
        return pa.table(
            {"编号": [r[0] for r in records], "姓名": [r[1] for r in records], "地址": [r[2] for r in records]}
        ).to_reader()

    table.write(three((1, "张三", "旌阳区"), (2, "李四", None), (3, "王五", "罗江区")), mode="overwrite", load_id=1)
    result = table.upsert(
        three((1, "张三", "广汉市"), (2, "李四", "什邡市"), (3, "王五", "罗江区")),
        keys=["编号"],
        delete_missing=False,
        load_id=2,
    )
    assert (result.inserted, result.updated) == (0, 2)


def test_an_upsert_rewrites_only_the_files_its_keys_fall_in(tmp_path: Path) -> None:
    table = DatasetTable(str(tmp_path / "dataset"), target_file_size=64 * 1024)
    table.write(rows(*((n, f"居民{n:06d}" * 4) for n in range(40_000))), mode="overwrite", load_id=1)
    files = len(table.files(0))
    assert files >= 4
    table.upsert(rows(*((n, "改") for n in range(100, 200))), keys=["编号"], delete_missing=False, load_id=2)
    metrics = table.history(1)[0].metrics
    assert metrics["num_target_rows_updated"] == 100
    assert metrics["num_target_files_removed"] < files / 2


def test_an_upsert_that_changes_nothing_keeps_the_current_version(table: DatasetTable) -> None:
    table.write(rows((1, "张三"), (2, "李四")), mode="overwrite", load_id=1)
    result = table.upsert(rows((1, "张三"), (2, "李四")), keys=["编号"], delete_missing=True, load_id=2)
    assert result == UpsertResult(version=0, inserted=0, updated=0, deleted=0)
    assert table.version() == 0


def test_an_append_may_bring_a_new_column(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    more = pa.table({"编号": [2], "姓名": ["李四"], "地址": ["旌阳区"]}).to_reader()
    table.write(more, mode="append", load_id=2)
    result = sorted(table.read(1).read_all().to_pylist(), key=lambda r: r["编号"])
    assert result == [{"编号": 1, "姓名": "张三", "地址": None}, {"编号": 2, "姓名": "李四", "地址": "旌阳区"}]


def test_an_incremental_load_whose_column_changed_type_is_refused_before_writing(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    changed = pa.table({"编号": ["2"], "姓名": ["李四"]})
    with pytest.raises(SchemaChanged, match="信息项“编号”的数据类型已变化（int64 → string）"):
        table.write(changed.to_reader(), mode="append", load_id=2)
    with pytest.raises(SchemaChanged, match="请先做一次全量加载"):
        table.upsert(changed.to_reader(), keys=["姓名"], delete_missing=False, load_id=3)
    assert table.version() == 0


def test_an_upsert_needs_its_keys_in_the_rows(table: DatasetTable) -> None:
    table.write(rows((1, "张三")), mode="overwrite", load_id=1)
    with pytest.raises(ValueError, match="主键信息项不在数据中：身份证号"):
        table.upsert(rows((1, "张三")), keys=["身份证号"], delete_missing=False, load_id=2)


def test_vacuum_keeps_the_files_of_the_versions_it_is_told_are_still_read(table: DatasetTable) -> None:
    for n in range(4):
        table.write(rows((n, f"第{n}版")), mode="overwrite", load_id=n + 1)
    v0_files = table.files(0)
    table.vacuum(keep_versions=1, also_keep=[1])
    assert content(table, 1) == [(1, "第1版")]
    assert content(table, 3) == [(3, "第3版")]
    assert not any(Path(f).exists() for f in v0_files)
    with pytest.raises(VersionVacuumed):
        content(table, 2)


def test_vacuum_ignores_held_versions_the_table_does_not_have_or_keeps_anyway(table: DatasetTable) -> None:
    for n in range(3):
        table.write(rows((n, f"第{n}版")), mode="overwrite", load_id=n + 1)
    table.vacuum(keep_versions=1, also_keep=[-1, 2, 99])
    assert content(table, 2) == [(2, "第2版")]
    with pytest.raises(VersionVacuumed):
        content(table, 0)
