"""The data plane's engines: embedded DuckDB by default, Apache Spark (PySpark) when configured.

Both run the same SQL (`transform.py`, written for DuckDB; the caller hands each engine
`transform_sql_for(engine.name, sql)`) over a relation named `raw`, and hand back an Arrow
stream with the same schema, so the callers never know which engine ran. Nothing here holds a whole dataset in
Python: DuckDB streams batches out while it reads batches in; Spark stages the raw stream to a Parquet file batch
by batch, writes its result as Parquet files, and those are read back batch by batch.

An exception raised by the raw stream itself (a source that fails mid-way: `raw.SourceError`) comes out of the
result stream as that same exception, not wrapped in an engine's error, so the caller can tell a retryable source
failure from a bad transformation.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from django.conf import settings

from govshare.dataplane.raw import BATCH_ROWS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The relation a query over dataset files reads (`query`).
DATA_RELATION = "data"


class DataEngine(Protocol):
    name: str

    def transform(
        self, raw: pa.RecordBatchReader, sql: str, *, schema: pa.Schema | None = None
    ) -> pa.RecordBatchReader:
        """Run `sql` (this engine's dialect: `transform.transform_sql_for(engine.name, …)`) over relation `raw`;
        batches come out while batches go in. `schema`: the result is cast to it (`transform.output_schema`)."""
        ...

    def query(
        self, files: list[str], sql: str, *, schema: pa.Schema | None = None, result_schema: pa.Schema | None = None
    ) -> pa.RecordBatchReader:
        """Run `sql` (this engine's dialect) over relation `data` = the Parquet `files` (`schema` when none)."""
        ...


class StreamFailure:
    """Remembers the exception a raw stream raised, so that it can be re-raised instead of the engine's wrapper."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def watch(self, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from reader
            except BaseException as exc:
                self.error = exc
                raise

        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    def reraise(self, exc: BaseException) -> None:
        if self.error is not None and self.error is not exc:
            raise self.error from exc


def _cast(batch: pa.RecordBatch, schema: pa.Schema | None) -> pa.RecordBatch:
    if schema is None or batch.schema.equals(schema):
        return batch
    return pa.RecordBatch.from_arrays([batch.column(field.name).cast(field.type) for field in schema], schema=schema)


def _reader(
    schema: pa.Schema, batches: Iterator[pa.RecordBatch], cleanup: Callable[[], None] | None = None
) -> pa.RecordBatchReader:
    def guarded() -> Iterator[pa.RecordBatch]:
        try:
            yield from batches
        finally:
            if cleanup is not None:
                cleanup()

    return pa.RecordBatchReader.from_batches(schema, guarded())


_database_lock = threading.Lock()
_database: tuple[int, duckdb.DuckDBPyConnection] | None = None


def connect_duckdb() -> duckdb.DuckDBPyConnection:
    """A connection of its own to the process's in-memory DuckDB database, which never downloads anything and uses
    the machine's cores. The database is opened once per process (that costs 15–25 ms, a connection next to
    nothing); a forked child opens its own. Connections share no relations: `register` and temporary views are
    each connection's own."""
    global _database
    with _database_lock:
        if _database is None or _database[0] != os.getpid():
            database = duckdb.connect(":memory:")
            database.execute("SET autoinstall_known_extensions = false")
            database.execute(f"SET threads = {os.cpu_count() or 1}")
            _database = (os.getpid(), database)
        return _database[1].cursor()


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, batch_rows: int = BATCH_ROWS) -> None:
        self.batch_rows = batch_rows

    def _run(
        self, con: duckdb.DuckDBPyConnection, sql: str, schema: pa.Schema | None, failure: StreamFailure | None
    ) -> pa.RecordBatchReader:
        try:
            result = con.sql(sql).to_arrow_reader(self.batch_rows)
        except Exception as exc:
            con.close()
            if failure is not None:
                failure.reraise(exc)
            raise
        out_schema = schema or result.schema

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for batch in result:
                    yield _cast(batch, schema)
            except Exception as exc:
                if failure is not None:
                    failure.reraise(exc)
                raise

        return _reader(out_schema, batches(), con.close)

    def transform(
        self, raw: pa.RecordBatchReader, sql: str, *, schema: pa.Schema | None = None
    ) -> pa.RecordBatchReader:
        con = connect_duckdb()
        failure = StreamFailure()
        con.register("raw", failure.watch(raw))
        return self._run(con, sql, schema, failure)

    def query(
        self, files: list[str], sql: str, *, schema: pa.Schema | None = None, result_schema: pa.Schema | None = None
    ) -> pa.RecordBatchReader:
        con = connect_duckdb()
        if files:
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            # By name: files written before a column was added (an append with a new item) lack it.
            view = f"CREATE TEMP VIEW {DATA_RELATION} AS SELECT * FROM read_parquet([{listed}], union_by_name = true)"  # noqa: S608
            con.execute(view)
        elif schema is not None:
            con.register(DATA_RELATION, schema.empty_table())
        else:
            con.close()
            raise ValueError("没有数据文件，也没有给出表结构")
        return self._run(con, sql, result_schema, None)


_spark_lock = threading.Lock()
_spark_session: SparkSession | None = None


def spark_session() -> SparkSession:
    """The process's one SparkSession, created on first use (starting a JVM takes seconds)."""
    global _spark_session
    with _spark_lock:
        if _spark_session is None:
            from pyspark.sql import SparkSession

            builder: Any = SparkSession.builder
            _spark_session = (
                builder.master(settings.GOVSHARE.spark_master)
                .appName("govshare")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                # Same semantics as DuckDB: try_cast gives null, no ANSI errors; wall-clock timestamps in UTC.
                .config("spark.sql.ansi.enabled", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
                .config("spark.sql.legacy.timeParserPolicy", "CORRECTED")
                .config("spark.sql.caseSensitive", "true")
                # Parquet that pyarrow, DuckDB and delta-rs read as they are: microsecond timestamps, no
                # Julian-calendar rebasing of old dates.
                .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
                .config("spark.sql.parquet.datetimeRebaseModeInWrite", "CORRECTED")
                .config("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED")
                .config("spark.sql.parquet.int96RebaseModeInWrite", "CORRECTED")
                .config("spark.sql.parquet.int96RebaseModeInRead", "CORRECTED")
                .config("spark.sql.shuffle.partitions", str(max(2, os.cpu_count() or 2)))
                .getOrCreate()
            )
            _spark_session.sparkContext.setLogLevel("ERROR")
            # py4j logs every closed connection at INFO, even while the interpreter shuts down.
            logging.getLogger("py4j").setLevel(logging.WARNING)
        return _spark_session


def stop_spark_session() -> None:
    """Stop the process's SparkSession and its JVM (tests, and commands that are done with Spark)."""
    global _spark_session
    with _spark_lock:
        if _spark_session is not None:
            _spark_session.stop()
            _spark_session = None


class SparkEngine:
    """Apache Spark through PySpark (pip extra `spark`, Java 17). Reads and writes local Parquet files only:
    Spark's S3 support needs hadoop-aws jars from Maven."""

    name = "spark"

    def __init__(self, batch_rows: int = BATCH_ROWS) -> None:
        self.batch_rows = batch_rows

    def _collect(
        self, session: SparkSession, sql: str, workdir: Path, schema: pa.Schema | None
    ) -> pa.RecordBatchReader:
        """Run Spark SQL, write the result as Parquet under workdir, stream it back; workdir is removed after."""
        out = workdir / "result"
        try:
            session.sql(sql).write.mode("overwrite").parquet(str(out))
            files = sorted(str(path) for path in out.glob("part-*.parquet"))
            dataset = ds.dataset(files, format="parquet") if files else None
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        if dataset is None:
            shutil.rmtree(workdir, ignore_errors=True)
            if schema is None:
                raise RuntimeError("Spark 没有写出结果文件")
            return pa.RecordBatchReader.from_batches(schema, iter(()))
        out_schema = schema or dataset.schema
        batches = (_cast(batch, schema) for batch in dataset.to_batches(batch_size=self.batch_rows))
        return _reader(out_schema, batches, lambda: shutil.rmtree(workdir, ignore_errors=True))

    def transform(
        self, raw: pa.RecordBatchReader, sql: str, *, schema: pa.Schema | None = None
    ) -> pa.RecordBatchReader:
        workdir = Path(tempfile.mkdtemp(prefix="govshare-spark-"))
        staged = workdir / "raw.parquet"
        try:
            with pq.ParquetWriter(staged, raw.schema) as writer:
                for batch in raw:
                    writer.write_batch(batch)
            # A session of its own (same JVM and context): concurrent loads' temp views `raw` do not meet.
            session = spark_session().newSession()
            session.read.parquet(str(staged)).createOrReplaceTempView("raw")
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return self._collect(session, sql, workdir, schema)

    def query(
        self, files: list[str], sql: str, *, schema: pa.Schema | None = None, result_schema: pa.Schema | None = None
    ) -> pa.RecordBatchReader:
        workdir = Path(tempfile.mkdtemp(prefix="govshare-spark-"))
        try:
            spark = spark_session().newSession()
            if files:
                frame = spark.read.option("mergeSchema", "true").parquet(*files)
            elif schema is not None:
                empty = workdir / "empty.parquet"
                pq.write_table(schema.empty_table(), empty)
                frame = spark.read.parquet(str(empty))
            else:
                raise ValueError("没有数据文件，也没有给出表结构")
            frame.createOrReplaceTempView(DATA_RELATION)
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return self._collect(spark, sql, workdir, result_schema)


def get_engine(name: str | None = None) -> DataEngine:
    """The engine by name (`duckdb`, `spark`), or the one configured (GOVSHARE_DATA_ENGINE)."""
    name = name or settings.GOVSHARE.data_engine
    if name == DuckDBEngine.name:
        return DuckDBEngine()
    if name == SparkEngine.name:
        return SparkEngine()
    raise ValueError(f"未知的计算引擎：{name}")
