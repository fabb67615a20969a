"""The engines: DuckDB streams; Spark gives exactly DuckDB's result for the same load."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govshare.dataplane.engines import DataEngine, DuckDBEngine, SparkEngine, get_engine, stop_spark_session
from govshare.dataplane.raw import ERROR_REASON, ColumnSpec, SourceUnavailable, raw_schema
from govshare.dataplane.transform import build_transform_sql, output_schema, run_transform, transform_sql_for

SPECS = [
    ColumnSpec("sfzh", "身份证号", "C", 18, required=True),
    ColumnSpec("xm", "姓名", "C", 10),
    ColumnSpec("csrq", "出生日期", "D"),
    ColumnSpec("djsj", "登记时间", "T"),
    ColumnSpec("sl", "数量", "N", 8),
    ColumnSpec("je", "金额", "Y", 12),
    ColumnSpec("sfyx", "是否有效", "L"),
    ColumnSpec("bz", "备注", "M"),
    ColumnSpec("fj", "附件", "B"),
]
COLUMNS = [*dict.fromkeys(spec.source for spec in SPECS), "unmapped"]
MAX_FIELD_CHARS = 60


def _pick(rnd: random.Random, good: list[str], bad: list[str]) -> str | None:
    roll = rnd.random()
    if roll < 0.08:
        return None
    if roll < 0.14:
        return rnd.choice(["", "  ", "\u3000"])
    if roll < 0.24:
        return rnd.choice(bad)
    return rnd.choice(good)


def mixed_load(count: int = 400, seed: int = 20260301) -> pa.Table:
    """Rows of every kind a department sends: good, bad dates, numbers, booleans, Chinese text, nulls, long values."""
    rnd = random.Random(seed)
    good = {
        "sfzh": [f"51060019{rnd.randrange(10**9, 10**10)}" for _ in range(50)],
        "xm": ["张三", "李四", " 王五 ", "欧阳娜娜", "O'Brien", "赵\t六"],
        "csrq": ["1990-01-02", "1985/3/7", "20000229", "1979年12月1日", "2001.6.30", "1999-09-09 00:00:00"],
        "djsj": ["2024-03-05 10:20:30", "2024-03-05T10:20:30", "2024-03-05T10:20:30.25", "2024/3/5 8:05",
                 "2024-03-05T02:00:00Z", "2024-03-05T10:20:30+05:30", "2024年3月5日 23:59:59", "2024-03-05"],
        "sl": ["12", "-3.5", "1,234", "1e3", ".25", "0", "99999999"],
        "je": ["12.30", "￥1,000", "-0.5", "¥7", "100.00"],
        "sfyx": ["是", "否", "true", "FALSE", "1", "0", "Y", "n"],
        "bz": ["备注", "较长的备注" * 5, "含'引号\"", "line\nbreak"],
        "fj": ["0xCAFE", "aGVsbG8=", "deadBEEF"],
        "unmapped": ["不映射"],
    }  # fmt: skip
    bad = {
        "sfzh": ["5106001990" * 3],
        "xm": ["超过十个字符的一个很长的姓名", "含\x00空字符"],
        "csrq": ["19xx-01-01", "2023-02-29", "0999-01-01", "2024-13-01", "明天"],
        "djsj": ["2024-03-05 24:00:00", "2024-02-30 10:00", "10:20"],
        "sl": ["abc", "1,23", "1e400", "NaN", "123456789"],
        "je": ["12.345", "一百元", "1e3"],
        "sfyx": ["也许", "2"],
        "bz": ["长" * (MAX_FIELD_CHARS + 1)],
        "fj": ["不是二进制", "abc"],
        "unmapped": ["x"],
    }
    records = {name: [_pick(rnd, good[name], bad[name]) for _ in range(count)] for name in COLUMNS}
    return pa.table({"_row": pa.array(range(2, count + 2), pa.int64()), **records}, schema=raw_schema(COLUMNS))


def transformed(engine: DataEngine, raw: pa.Table) -> pa.Table:
    return run_transform(engine, raw.to_reader(max_chunksize=64), SPECS, max_field_chars=MAX_FIELD_CHARS).read_all()


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkEngine]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing = "pyspark is not installed (pip extra `spark`)"
    else:
        missing = "" if shutil.which("java") else "Java is not installed (Debian: openjdk-17-jre-headless)"
    if missing:
        if os.environ.get("GOVSHARE_REQUIRE_SPARK") == "1":
            pytest.fail(f"GOVSHARE_REQUIRE_SPARK=1 but {missing}")
        pytest.skip(missing)
    yield SparkEngine()
    stop_spark_session()


# DuckDB


def test_duckdb_streams_batches_out_while_batches_come_in() -> None:
    total = 2_000_000
    consumed = 0
    numbers = pa.array(["1"] * 50_000)

    def source() -> Iterator[pa.RecordBatch]:
        nonlocal consumed
        for start in range(0, total, 50_000):
            consumed += 50_000
            yield pa.record_batch(
                [pa.array(range(start, start + 50_000), pa.int64()), numbers], schema=raw_schema(["sl"])
            )

    spec = [ColumnSpec("sl", "数量", "N")]
    reader = run_transform(
        DuckDBEngine(), pa.RecordBatchReader.from_batches(raw_schema(["sl"]), source()), spec, max_field_chars=10
    )
    first = reader.read_next_batch()
    assert first.num_rows > 0 and consumed < total / 2
    assert first.num_rows + sum(batch.num_rows for batch in reader) == total


def test_a_source_failing_mid_stream_raises_its_own_error_through_the_engine() -> None:
    def source() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array([1], pa.int64()), pa.array(["1"])], schema=raw_schema(["sl"]))
        raise SourceUnavailable("前置库连接中断")

    with pytest.raises(SourceUnavailable, match="前置库连接中断"):  # the call or the reading
        run_transform(
            DuckDBEngine(),
            pa.RecordBatchReader.from_batches(raw_schema(["sl"]), source()),
            [ColumnSpec("sl", "数量", "N")],
            max_field_chars=10,
        ).read_all()


def test_duckdb_queries_a_versions_parquet_files(tmp_path: Path) -> None:
    pq.write_table(pa.table({"编号": [1, 2]}), tmp_path / "part-0.parquet")
    pq.write_table(pa.table({"编号": [11, 12], "地址": ["旌阳区", None]}), tmp_path / "part-1.parquet")
    files = sorted(str(p) for p in tmp_path.glob("*.parquet"))
    result = DuckDBEngine().query(files, 'SELECT sum("编号") AS total, count("地址") AS addresses FROM data')
    assert result.read_all().to_pylist() == [{"total": 26, "addresses": 1}]


def test_a_query_over_no_files_reads_the_given_schema() -> None:
    schema = pa.schema([("编号", pa.int64())])
    assert DuckDBEngine().query([], "SELECT * FROM data", schema=schema).read_all() == schema.empty_table()


def test_get_engine_by_name_or_setting(settings) -> None:
    assert isinstance(get_engine("duckdb"), DuckDBEngine)
    assert isinstance(get_engine("spark"), SparkEngine)
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"data_engine": "spark"})
    assert isinstance(get_engine(), SparkEngine)
    with pytest.raises(ValueError, match="未知的计算引擎"):
        get_engine("oracle")


# Spark against DuckDB


@pytest.mark.spark
def test_spark_and_duckdb_give_identical_rows_and_rejects_for_the_same_load(spark: SparkEngine) -> None:
    raw = mixed_load()
    expected = transformed(DuckDBEngine(), raw).sort_by("_row")
    actual = transformed(spark, raw).sort_by("_row")
    assert actual.schema == expected.schema == output_schema(SPECS)
    good = pa.compute.is_null(expected.column(ERROR_REASON))
    assert 50 < pa.compute.sum(good).as_py() < 350  # the load really mixes accepted and refused rows
    for duck, spk in zip(expected.to_pylist(), actual.to_pylist(), strict=True):
        assert spk == duck


@pytest.mark.spark
def test_spark_reads_dates_times_and_money_exactly(spark: SparkEngine) -> None:
    raw = pa.table(
        {"_row": pa.array([2], pa.int64()), "csrq": ["1582-10-10"], "djsj": ["1500-01-01T00:00:00Z"], "je": ["-0.01"]}
    )
    specs = [ColumnSpec("csrq", "日期", "D"), ColumnSpec("djsj", "时间", "T"), ColumnSpec("je", "金额", "Y")]
    sql = transform_sql_for("spark", build_transform_sql(specs, max_field_chars=10))
    [row] = spark.transform(raw.to_reader(), sql, schema=output_schema(specs)).read_all().to_pylist()
    assert (row["日期"], row["时间"], str(row["金额"])) == (
        dt.date(1582, 10, 10),
        dt.datetime(1500, 1, 1, 8, 0),  # noqa: DTZ001 (wall-clock time)
        "-0.01",
    )


@pytest.mark.spark
def test_without_a_schema_to_cast_to_spark_gives_duckdbs_arrow_types(spark: SparkEngine) -> None:
    raw = mixed_load(count=20)
    sql = build_transform_sql(SPECS, max_field_chars=MAX_FIELD_CHARS)
    duck = DuckDBEngine().transform(raw.to_reader(), sql).read_all()
    spk = spark.transform(raw.to_reader(), transform_sql_for("spark", sql)).read_all()
    assert spk.schema == duck.schema == output_schema(SPECS)


@pytest.mark.spark
def test_spark_queries_parquet_files(spark: SparkEngine, tmp_path: Path) -> None:
    pq.write_table(pa.table({"编号": [1, 2, 3]}), tmp_path / "part-0.parquet")
    pq.write_table(pa.table({"编号": [4], "地址": ["旌阳区"]}), tmp_path / "part-1.parquet")  # a column added later
    sql = transform_sql_for("spark", 'SELECT sum("编号") AS total, count("地址") AS addresses FROM data')
    files = [str(tmp_path / "part-0.parquet"), str(tmp_path / "part-1.parquet")]
    assert spark.query(files, sql).read_all().to_pylist() == [{"total": 10, "addresses": 1}]


@pytest.mark.spark
def test_a_source_failing_while_spark_stages_it_raises_its_own_error(spark: SparkEngine) -> None:
    def source() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array([1], pa.int64()), pa.array(["1"])], schema=raw_schema(["sl"]))
        raise SourceUnavailable("接口返回 500")

    with pytest.raises(SourceUnavailable, match="接口返回 500"):
        spark.transform(
            pa.RecordBatchReader.from_batches(raw_schema(["sl"]), source()),
            transform_sql_for("spark", build_transform_sql([ColumnSpec("sl", "数量", "N")], max_field_chars=10)),
        )
