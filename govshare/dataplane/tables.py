"""A dataset's data: one Delta table (delta-rs, `deltalake`) whose versions are the loads' results.

A version becomes visible only when its commit (one JSON file in `_delta_log`, written atomically) completes: a load
that fails or is killed half-way leaves Parquet files that no version references, and the previous version stays
current and readable. Every commit carries the load's id in its custom metadata, so a retried load can find out
that its commit already happened (`version_for_load`) and not write again.

Tables live under settings.GOVSHARE.dataset_storage_uri (`s3://bucket/prefix`, with the s3_* settings) or under
<data_dir>/datasets, one directory per dataset id. Versions are read through their Parquet file lists
(`files`), by DuckDB here and by Spark (which cannot use the Delta jars from Maven on these machines).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError
from deltalake.fs import DeltaStorageHandler
from django.conf import settings

from govshare.dataplane.engines import DuckDBEngine, StreamFailure
from govshare.dataplane.raw import BATCH_ROWS
from govshare.dataplane.transform import quote_identifier

logger = logging.getLogger(__name__)

LOAD_ID_KEY = "govshare.load_id"
# Commits that do not change the data (vacuum bookkeeping): not counted as versions to keep or shown.
MAINTENANCE_OPERATIONS = frozenset({"VACUUM START", "VACUUM END", "OPTIMIZE"})
# Several files per version instead of delta-rs' one ~100 MB file: a merge rewrites only the files its changed keys
# fall in, and a merge of a full source (deletes detected) is far faster. Measured with 1,000,000 rows (7 columns,
# ~23 MB of Parquet) on 2 busy cores: one file: 1% clustered changes 1.2 s, full source 60 s; 4 MB (9 files): 0.3 s
# and 3.4 s. Changes spread over every file rewrite every file whatever the size (copy-on-write).
TARGET_FILE_SIZE = 4 * 1024 * 1024
# How far back version_for_load looks: a retry comes soon after its attempt, a few loads later at most.
HISTORY_SCAN_LIMIT = 1000
# Zstandard: a third of the size of delta-rs's default (Snappy) and cheaper to write (0.30 against 0.40 s of CPU
# for the 1,000,000 population records of benchmarks/bench_load.py). Every reader here (DuckDB, pyarrow, Spark)
# reads it.
WRITER_PROPERTIES = WriterProperties(compression="ZSTD")


class SchemaChanged(ValueError):
    """An incremental load whose columns no longer fit the table's (an item's type changed): a full load is needed."""


class VersionVacuumed(FileNotFoundError):
    """A version older than the ones kept: its files are gone."""

    def __init__(self, version: int) -> None:
        super().__init__(f"版本 {version} 的数据已按保留策略清理，无法读取")
        self.version = version


@dataclass(frozen=True)
class UpsertResult:
    version: int
    inserted: int
    updated: int
    deleted: int


@dataclass(frozen=True)
class Commit:
    version: int
    timestamp: dt.datetime
    operation: str
    load_id: int | None
    metrics: dict[str, Any] = field(default_factory=dict)


def dataset_table_uri(dataset_id: int) -> str:
    """Where a dataset's table lives (stored on the Dataset row when it is created)."""
    base = settings.GOVSHARE.dataset_storage_uri or str(settings.GOVSHARE.data_dir / "datasets")
    return f"{base.rstrip('/')}/{dataset_id}"


def storage_options_for(uri: str) -> dict[str, str] | None:
    """delta-rs object-store options: the s3_* settings for s3:// tables, none for local paths."""
    if not uri.startswith("s3://"):
        return None
    config = settings.GOVSHARE
    options = {"AWS_REGION": config.s3_region}
    if config.s3_endpoint_url:
        options["AWS_ENDPOINT_URL"] = config.s3_endpoint_url
        if config.s3_endpoint_url.startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    if config.s3_access_key_id:
        options["AWS_ACCESS_KEY_ID"] = config.s3_access_key_id
        options["AWS_SECRET_ACCESS_KEY"] = config.s3_secret_access_key
    return options


def _commit_properties(load_id: int) -> CommitProperties:
    return CommitProperties(custom_metadata={LOAD_ID_KEY: str(load_id)})


def _load_id(entry: dict[str, Any]) -> int | None:
    value = entry.get(LOAD_ID_KEY)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class DatasetTable:
    """One dataset's Delta table. Cheap to create: nothing is read until a method needs it."""

    def __init__(
        self, uri: str, *, storage_options: dict[str, str] | None = None, target_file_size: int | None = None
    ) -> None:
        self.uri = uri
        self.storage_options = storage_options if storage_options is not None else storage_options_for(uri)
        # Parquet files of about this size (recorded as the table's delta.targetFileSize, which merges follow too).
        self.target_file_size = target_file_size or TARGET_FILE_SIZE
        self._latest: DeltaTable | None = None

    def _table(self, version: int | None = None) -> DeltaTable:
        if version is not None:
            return DeltaTable(self.uri, version=version, storage_options=self.storage_options)
        # The newest version: opened once, then brought up to date by reading only the commits since (a load asks
        # several times; each full open replays the log).
        if self._latest is None:
            self._latest = DeltaTable(self.uri, storage_options=self.storage_options)
        else:
            self._latest.update_incremental()
        return self._latest

    def exists(self) -> bool:
        return self._latest is not None or DeltaTable.is_deltatable(self.uri, storage_options=self.storage_options)

    def version(self) -> int | None:
        """The newest committed version, or None before the first load."""
        try:
            return self._table().version()
        except TableNotFoundError:
            return None

    def write(self, batches: pa.RecordBatchReader, *, mode: Literal["overwrite", "append"], load_id: int) -> int:
        """Commit the batches as a new version (replacing or adding to the rows); returns the version.
        A load whose commit is already in the table is not written again: its version is returned."""
        done = self.version_for_load(load_id)
        if done is not None:
            return done
        if mode == "append":
            self._check_fits(batches.schema)
        failure = StreamFailure()
        options: dict[str, Any] = {
            "mode": mode,
            "schema_mode": "overwrite" if mode == "overwrite" else "merge",
            "storage_options": self.storage_options,
            "commit_properties": _commit_properties(load_id),
            "writer_properties": WRITER_PROPERTIES,
            "target_file_size": self.target_file_size,
            "configuration": {"delta.targetFileSize": str(self.target_file_size)},
        }
        try:
            write_deltalake(self.uri, failure.watch(batches), **options)
        except Exception as exc:
            failure.reraise(exc)
            raise
        version = self.version_for_load(load_id)
        assert version is not None
        return version

    def upsert(
        self, batches: pa.RecordBatchReader, *, keys: list[str], delete_missing: bool, load_id: int
    ) -> UpsertResult:
        """Merge the batches by key: new keys inserted, changed rows updated (unchanged rows are not counted), and
        with `delete_missing` (the source gave all its rows) the keys it no longer has deleted."""
        done = self.version_for_load(load_id)
        if done is not None:
            return self._upsert_result(done)
        if not self.exists():
            version = self.write(batches, mode="overwrite", load_id=load_id)
            return UpsertResult(version, self.row_count(version), 0, 0)
        if not keys:
            raise ValueError("按主键合并需要至少一个主键信息项")
        missing = [key for key in keys if key not in batches.schema.names]
        if missing:
            raise ValueError("主键信息项不在数据中：" + "、".join(missing))
        self._check_fits(batches.schema)
        # A searchable encrypted column changes when its HMAC column does (fresh ciphertexts always differ).
        columns = [
            name for name in batches.schema.names if name not in keys and not _hashed_ciphertext(batches.schema, name)
        ]
        match = " AND ".join(f"t.{quote_identifier(k)} = s.{quote_identifier(k)}" for k in keys)
        changed = " OR ".join(f"(t.{quote_identifier(c)} IS DISTINCT FROM s.{quote_identifier(c)})" for c in columns)
        failure = StreamFailure()
        merger = self._table().merge(
            failure.watch(batches),
            predicate=match,
            source_alias="s",
            target_alias="t",
            merge_schema=True,
            # A full source (deletes detected) is streamed, never held in memory; a change set is small enough
            # to be materialised, which lets delta-rs skip the files whose key ranges it cannot touch.
            streamed_exec=delete_missing,
            commit_properties=_commit_properties(load_id),
            writer_properties=WRITER_PROPERTIES,
        )
        merger = merger.when_matched_update_all(predicate=changed or None).when_not_matched_insert_all()
        if delete_missing:
            merger = merger.when_not_matched_by_source_delete()
        try:
            metrics = merger.execute()
        except Exception as exc:
            failure.reraise(exc)
            raise
        # A merge that changes nothing commits nothing: the current version stays the dataset's version.
        committed = self.version_for_load(load_id)
        if committed is None:
            committed = self._table().version()
        return UpsertResult(
            committed,
            int(metrics.get("num_target_rows_inserted", 0)),
            int(metrics.get("num_target_rows_updated", 0)),
            int(metrics.get("num_target_rows_deleted", 0)),
        )

    def _check_fits(self, schema: pa.Schema) -> None:
        """Refuse, before writing anything, rows whose column types differ from the table's current ones."""
        if not self.exists():
            return
        current = pa.schema(self._table().schema().to_arrow())
        for name in schema.names:
            if name in current.names and _at_rest(current.field(name)) != _at_rest(schema.field(name)):
                raise SchemaChanged(
                    f"信息项“{name}”的静态加密设置已变化，增量加载无法与已有数据合并，请先做一次全量加载"
                )
            if name in current.names and not current.field(name).type.equals(schema.field(name).type):
                raise SchemaChanged(
                    f"信息项“{name}”的数据类型已变化（{current.field(name).type} → {schema.field(name).type}），"
                    "增量加载无法与已有数据合并，请先做一次全量加载"
                )

    def replace(self, batches: pa.RecordBatchReader, *, metadata: dict[str, str]) -> int:
        """Commit the batches as a new version replacing every row, with `metadata` in the commit instead of a load
        id (key rotation); returns the version. Like a load, nothing is visible before the commit completes."""
        failure = StreamFailure()
        try:
            write_deltalake(
                self.uri,
                failure.watch(batches),
                mode="overwrite",
                schema_mode="overwrite",
                storage_options=self.storage_options,
                commit_properties=CommitProperties(custom_metadata=metadata),
                writer_properties=WRITER_PROPERTIES,
                target_file_size=self.target_file_size,
                configuration={"delta.targetFileSize": str(self.target_file_size)},
            )
        except Exception as exc:
            failure.reraise(exc)
            raise
        for entry in self._table().history(HISTORY_SCAN_LIMIT):
            if all(entry.get(key) == value for key, value in metadata.items()):
                return int(entry["version"])
        raise RuntimeError("写入的版本未出现在表的历史中")  # pragma: no cover - delta-rs committed it above

    def commit_metadata(self, version: int) -> dict[str, str]:
        """The custom metadata of one commit (load id, rotation), from the newest HISTORY_SCAN_LIMIT commits."""
        for entry in self._table().history(HISTORY_SCAN_LIMIT):
            if int(entry["version"]) == version:
                return {str(k): str(v) for k, v in entry.items() if str(k).startswith("govshare.")}
        return {}

    def restore(self, version: int) -> int:
        """A new version whose rows are those of `version` (undoes a rotation that raced with a load)."""
        self._table().restore(version)
        return int(self._table().version())

    def read_file(self, path: str, columns: list[str]) -> pa.Table:
        """Some columns of one of the table's Parquet files (a path from `files`), on a local disk or a store."""
        store = pafs.PyFileSystem(DeltaStorageHandler(self.uri, self.storage_options))
        return pq.read_table(self._name(path), columns=columns, filesystem=store)

    def data_versions(self) -> list[int]:
        """Every version that holds data (vacuum's own bookkeeping commits are not versions), newest first."""
        return [c.version for c in self.history() if c.operation not in MAINTENANCE_OPERATIONS]

    def kept_versions(self, keep_versions: int) -> list[int]:
        """The retention rule, the one vacuum applies: the newest `keep_versions` data versions stay readable."""
        return self.data_versions()[: max(keep_versions, 1)]

    def oldest_kept_version(self, keep_versions: int) -> int | None:
        """The oldest of the newest `keep_versions` data versions (the ones vacuum keeps), None without data."""
        return self._oldest_kept_version(keep_versions) if self.exists() else None

    def _upsert_result(self, version: int) -> UpsertResult:
        [commit] = [c for c in self.history(HISTORY_SCAN_LIMIT) if c.version == version]
        metrics = commit.metrics
        return UpsertResult(
            version,
            int(metrics.get("num_target_rows_inserted", metrics.get("num_added_rows", 0))),
            int(metrics.get("num_target_rows_updated", 0)),
            int(metrics.get("num_target_rows_deleted", 0)),
        )

    def history(self, limit: int | None = None) -> list[Commit]:
        """The newest commits first."""
        if not self.exists():
            return []
        return [
            Commit(
                version=int(entry["version"]),
                timestamp=dt.datetime.fromtimestamp(int(entry["timestamp"]) / 1000, tz=dt.UTC),
                operation=str(entry.get("operation", "")),
                load_id=_load_id(entry),
                metrics=dict(entry.get("operationMetrics") or {}),
            )
            for entry in self._table().history(limit)
        ]

    def version_for_load(self, load_id: int) -> int | None:
        """The version a load committed, if it did (among the last HISTORY_SCAN_LIMIT commits)."""
        for commit in self.history(HISTORY_SCAN_LIMIT):
            if commit.load_id == load_id:
                return commit.version
        return None

    def files(self, version: int | None = None) -> list[str]:
        """The version's Parquet files (absolute paths, or s3:// URIs); None: the newest version."""
        return list(self._table(version).file_uris())

    def schema(self, version: int | None = None) -> pa.Schema:
        return pa.schema(self._table(version).schema().to_arrow())

    def row_count(self, version: int | None = None) -> int:
        """From the commit log's per-file statistics: no data file is read."""
        actions = pa.table(self._table(version).get_add_actions(flatten=True))
        if actions.num_rows == 0:
            return 0
        return int(pc.sum(actions.column("num_records")).as_py() or 0)

    def read(self, version: int | None = None, columns: list[str] | None = None) -> pa.RecordBatchReader:
        """The version's rows, streamed (DuckDB over the Parquet files; the object store's own reader on S3)."""
        table = self._table(version)
        schema = pa.schema(table.schema().to_arrow())
        if columns is not None:
            schema = pa.schema([schema.field(name) for name in columns])
        files = list(table.file_uris())
        stored = self._stored_files()
        if not all(self._name(path) in stored for path in files):
            raise VersionVacuumed(table.version())
        if self.storage_options is not None:
            dataset = table.to_pyarrow_dataset()
            return _reader(schema, dataset.to_batches(columns=columns, batch_size=BATCH_ROWS))
        listed = ", ".join(quote_identifier(name) for name in schema.names)
        return DuckDBEngine().query(
            files,
            f"SELECT {listed} FROM data",  # noqa: S608 (quoted names)
            schema=pa.schema(table.schema().to_arrow()),
            result_schema=schema,
        )

    def vacuum_after_commit(self, keep_versions: int, *, also_keep: Iterable[int] = ()) -> None:
        """Housekeeping after a new version: vacuum, and a failure is logged, never the committed version's
        failure (the next commit's vacuum tries again)."""
        try:
            self.vacuum(keep_versions, also_keep=also_keep)
        except Exception:
            logger.exception("vacuum of %s failed; the next commit retries it", self.uri)

    def vacuum(self, keep_versions: int, *, also_keep: Iterable[int] = ()) -> list[str]:
        """Delete the files that only versions older than the newest `keep_versions` data versions use; returns
        them. Vacuum's own bookkeeping commits are not counted as versions. The files of the versions in
        `also_keep` (versions still being read: a download, a job) stay too. Files of loads that never committed
        are deleted once older than the longest a job may run."""
        if keep_versions < 1:
            raise ValueError("至少保留 1 个版本")
        if not self.exists():
            return []
        oldest_kept = self._oldest_kept_version(keep_versions)
        if oldest_kept is None:
            return []
        # Versions start at 0 and have no gaps; delta-rs fails on a version the table does not have.
        held = sorted({v for v in also_keep if 0 <= v < oldest_kept})

        def run(*, retention_hours: int, full: bool) -> list[str]:
            table = self._table()
            options: dict[str, Any] = {
                "retention_hours": retention_hours,
                "enforce_retention_duration": False,
                "full": full,
                "keep_versions": [*held, *range(oldest_kept, table.version() + 1)],
            }
            # delta-rs lists a removed file again at every vacuum until its tombstone expires, and every real run
            # adds two commits: only run when a listed file is still there.
            stored = self._stored_files()
            listed = [self._name(path) for path in table.vacuum(dry_run=True, **options)]
            listed = [name for name in listed if name in stored]
            if listed:
                table.vacuum(dry_run=False, **options)
            return listed

        removed = run(retention_hours=0, full=False)
        # Orphans of failed writes are in no commit, so only a full vacuum sees them; the retention spares the
        # files of a load still being written.
        orphans = run(retention_hours=math.ceil(settings.GOVSHARE.job_timeout_seconds / 3600), full=True)
        return [*removed, *orphans]

    def _oldest_kept_version(self, keep_versions: int) -> int | None:
        """The oldest of the newest `keep_versions` data versions, reading only as much history as needed."""
        limit = 2 * keep_versions + 4
        while True:
            commits = self.history(limit)
            data_versions = [c.version for c in commits if c.operation not in MAINTENANCE_OPERATIONS]
            if len(data_versions) >= keep_versions or len(commits) < limit:
                return min(data_versions[:keep_versions]) if data_versions else None
            limit *= 4

    def _stored_files(self) -> set[str]:
        """The names of the files in the table's directory: one listing, on a local disk or an object store."""
        store = pafs.PyFileSystem(DeltaStorageHandler(self.uri, self.storage_options))
        return {info.base_name for info in store.get_file_info(pafs.FileSelector("", recursive=False)) if info.is_file}

    def _name(self, path: str) -> str:
        """A data file's name in the table's directory, from a URI, an absolute path or a relative name."""
        root = self.uri.rstrip("/") + "/"
        return path[len(root) :] if path.startswith(root) else path.rsplit("/", 1)[-1]


def _at_rest(field: pa.Field) -> bytes:
    """A column's encryption designation (dataplane.encryption), empty for a plain column."""
    return (field.metadata or {}).get(b"govshare.at_rest", b"")


def _hashed_ciphertext(schema: pa.Schema, name: str) -> bool:
    """A searchable encrypted column (its HMAC column says whether its value changed)."""
    return _at_rest(schema.field(name)) == b"searchable"


def _reader(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(schema, batches)
