"""Running one load: source → raw stream → one SQL transformation (DuckDB or Spark) → a new Delta table version.

Safety rules, in order of importance:
- A version becomes visible only when its Delta commit completes; anything that fails before (the source going
  down, a kill -9, no valid row) leaves the previous version current and readable.
- A load is idempotent: its id is written into the commit, so a retry whose commit already happened only finishes
  the bookkeeping and never writes the rows twice.
- Only the attempt holding the Load row's claim token writes; a worker presumed dead (stale heartbeat) that wakes
  up finds its claim gone and stops before committing.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from govshare.audit.services import record_action
from govshare.catalog.choices import ENCRYPTED_AT_REST
from govshare.catalog.models import Item
from govshare.core.tabular.csv import CsvWriter
from govshare.core.text import join_names
from govshare.dataplane.engines import get_engine
from govshare.dataplane.raw import (
    ERROR_COLUMN,
    ERROR_REASON,
    ROW_COLUMN,
    ColumnSpec,
    RawStream,
    Reject,
    SourceError,
    SourceInvalid,
    raw_schema,
)
from govshare.dataplane.tables import DatasetTable, SchemaChanged
from govshare.dataplane.transform import run_transform
from govshare.datasets import encryption, leases, log_lines, notices
from govshare.datasets.choices import LoadStatus, VersionKind
from govshare.datasets.jobs import LOAD_KIND
from govshare.datasets.models import Dataset, DatasetVersion, Load, shown_version
from govshare.datasets.signals import VersionRefused, version_current, version_ready
from govshare.jobs.execution import ClaimLost, Heartbeat, Progress, claim, fail_attempt, is_stale
from govshare.sources.choices import LoadMode, SourceKind
from govshare.sources.models import Source
from govshare.sources.readers import open_source_stream

logger = logging.getLogger(__name__)

REJECTS_HEADER = ["行号", "列", "原因", "原始值"]


class NoValidRows(SourceInvalid):
    def __init__(self) -> None:
        super().__init__("没有可加载的有效记录（全部被拒绝或来源为空），未生成新版本")


@dataclass
class Outcome:
    version: int | None  # None: nothing new, no version made
    rows_loaded: int
    rows_deleted: int = 0
    note: str = ""


def load_is_stale(load: Load, now: datetime | None = None) -> bool:
    return is_stale(load, now)


def claim_load(load_id: int, now: datetime | None = None) -> str | None:
    """Take the load for this attempt (compare-and-set; `govshare.jobs.execution.claim`)."""
    return claim(Load, load_id, now)


def _rejects_path(load: Load) -> Path:
    return Path(settings.GOVSHARE.data_dir) / "loads" / str(load.pk) / "rejects.csv"


class RejectsFile:
    """行号, 列, 原因, 原始值 — UTF-8 with BOM so that Excel opens it; one file per load, rewritten per attempt."""

    def __init__(self, path: Path, *, keep_values: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # False for a resource with encrypted items: a refused row's raw text would put them on disk in plain text.
        self.keep_values = keep_values
        self._file = path.open("w", encoding="utf-8-sig", newline="")
        # A refused row's raw text is the source's: neutralised like every CSV the platform hands out.
        self._writer = CsvWriter(self._file)
        self._writer.writerow(REJECTS_HEADER)
        self.count = 0

    def add(self, reject: Reject) -> None:
        value = reject.value[:200] if self.keep_values or not reject.value else encryption.WITHHELD_REJECT_VALUE
        self._writer.writerow([reject.row, reject.column, reject.reason, value])
        self.count += 1

    def add_batch(self, batch: pa.RecordBatch) -> None:
        rows = batch.column(ROW_COLUMN).to_pylist()
        columns = batch.column(ERROR_COLUMN).to_pylist()
        reasons = batch.column(ERROR_REASON).to_pylist()
        self._writer.writerows(
            [row, column or "", reason, ""] for row, column, reason in zip(rows, columns, reasons, strict=True)
        )
        self.count += len(rows)

    def close(self) -> None:
        self._file.close()


def column_specs(source: Source) -> list[ColumnSpec]:
    items = {item.name: item for item in Item.objects.filter(resource=source.resource)}
    keys = set(source.key_items)
    specs = []
    for entry in source.mapping:
        item = items.get(entry["item"])
        if item is None:
            raise SourceInvalid(gettext(log_lines.ITEM_GONE) % {"item": entry["item"]})
        specs.append(
            ColumnSpec(
                source=entry["column"],
                target=item.name,
                data_type=item.data_type,
                length=item.length,
                required=item.name in keys,
                withhold_values=item.at_rest in ENCRYPTED_AT_REST,
            )
        )
    return specs


def _accepted_batches(
    transformed: pa.RecordBatchReader, rejects: RejectsFile, counts: dict[str, int], progress: Progress, full: bool
) -> Iterator[pa.RecordBatch]:
    data_columns = [name for name in transformed.schema.names if name not in (ROW_COLUMN, ERROR_COLUMN, ERROR_REASON)]
    for batch in transformed:
        if progress.claim_lost:
            raise ClaimLost
        good = pc.is_null(batch.column(ERROR_REASON))
        bad = batch.filter(pc.invert(good))
        if bad.num_rows:
            rejects.add_batch(bad)
        accepted = batch.filter(good).select(data_columns)
        counts["loaded"] += accepted.num_rows
        if accepted.num_rows:
            yield accepted
    if full and counts["loaded"] == 0:
        raise NoValidRows


def _open_stream(load: Load, source: Source, dataset: Dataset, rejects: RejectsFile, progress: Progress) -> RawStream:
    incremental_by_watermark = load.mode != LoadMode.FULL and bool(source.watermark_column)

    def on_progress(value: int) -> None:
        progress.done = value

    return open_source_stream(
        source.kind,
        source.config,
        source.secret,
        path=Path(load.input_path) if source.kind == SourceKind.FILE else None,
        on_reject=rejects.add,
        # A full load also records the watermark it reached, so the next incremental load starts there.
        watermark_column=source.watermark_column if source.kind != SourceKind.FILE else "",
        watermark_after=dataset.watermark if incremental_by_watermark else "",
        progress=on_progress,
    )


def _build_on_current(dataset: Dataset, table: DatasetTable, progress: Progress) -> bool:
    """Make the table's newest version the dataset's current one again when a check refused the newer one (the
    next merge must not build on refused rows); whether there is a current version to build on."""
    head = table.version()
    current = dataset.current_version
    if head is not None and head != current:
        refused = DatasetVersion.objects.filter(dataset=dataset, number=head).exclude(refusal="").exists()
        if refused and current is not None:
            restored = table.restore(current)
            progress.log(
                f"第 {shown_version(head)} 版未通过检查，本次以当前的第 {shown_version(current)} 版为基础"
                f"（恢复为第 {shown_version(restored)} 版）"
            )
        elif refused:
            progress.log(f"第 {shown_version(head)} 版未通过检查，且尚无当前版本：本次写入全部数据")
    return current is not None


def _execute(load: Load, table: DatasetTable, progress: Progress, rejects: RejectsFile) -> tuple[Outcome, RawStream]:
    source, dataset = load.source, load.dataset
    has_base = _build_on_current(dataset, table, progress)
    specs = column_specs(source)
    stream = _open_stream(load, source, dataset, rejects, progress)
    try:
        if load.mode != LoadMode.FULL and not stream.columns:
            progress.log("来源没有新的数据，未生成新版本")
            return Outcome(dataset.current_version, 0, note="nothing new"), stream
        missing = [spec.source for spec in specs if spec.source not in stream.columns]
        if missing:
            raise SourceInvalid(gettext(log_lines.COLUMNS_MISSING) % {"columns": join_names(missing)})
        progress.log(f"开始读取来源（{len(stream.columns)} 个字段）")
        engine = get_engine(load.engine)
        max_chars = settings.GOVSHARE.load_max_field_chars
        raw = pa.RecordBatchReader.from_batches(raw_schema(stream.columns), stream.batches())
        transformed = run_transform(engine, raw, specs, max_field_chars=max_chars)
        counts = {"loaded": 0}
        batches = _accepted_batches(transformed, rejects, counts, progress, full=load.mode == LoadMode.FULL)
        first = next(batches, None)  # a full load without a valid row raised NoValidRows here
        if first is None:
            progress.log("没有新的有效记录，未生成新版本")
            return Outcome(dataset.current_version, 0, note="nothing new"), stream
        accepted = pa.RecordBatchReader.from_batches(
            _data_schema(transformed.schema), itertools.chain([first], batches)
        )
        # Designated columns encrypted (and hashed) under the active key before anything is written (M30).
        accepted = encryption.for_load(dataset.resource_id, accepted, list(source.key_items))
        if load.mode == LoadMode.UPSERT and has_base:
            result = table.upsert(
                accepted, keys=list(source.key_items), delete_missing=source.detect_deletes, load_id=load.pk
            )
            version = result.version
            outcome = Outcome(version, result.inserted + result.updated, result.deleted)
        else:
            append = load.mode == LoadMode.APPEND and has_base
            version = table.write(accepted, mode="append" if append else "overwrite", load_id=load.pk)
            outcome = Outcome(version, counts["loaded"])
        progress.log(f"已提交数据集第 {shown_version(version)} 版")
    finally:
        stream.close()
    return outcome, stream


def _data_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f for f in schema if f.name not in (ROW_COLUMN, ERROR_COLUMN, ERROR_REASON)])


def run_load(load_id: int) -> None:
    """Run one attempt of the load; returns quietly when it is finished or held by a live worker."""
    if not connection.in_atomic_block:  # inside a caller's transaction (tests, CLI) the connection stays
        close_old_connections()
    token = claim_load(load_id)
    if token is None:
        return
    load = Load.objects.select_related("dataset", "dataset__resource", "source", "source__resource").get(pk=load_id)
    progress = Progress()
    progress.log(f"第 {load.attempts} 次执行，加载方式：{load.get_mode_display()}")
    started = time.monotonic()
    table = DatasetTable(load.dataset.table_uri)
    committed = table.version_for_load(load.pk) if table.exists() else None
    if committed is not None:
        # The previous attempt committed and died before its bookkeeping: finish it, never write twice.
        progress.log(f"上次执行已提交第 {shown_version(committed)} 版，补记结果")
        outcome = Outcome(committed, table.row_count(committed), note="resumed")
        _succeed(load, table, token, outcome, None, progress, started)
        return
    heartbeat = Heartbeat(LOAD_KIND, load.pk, token, progress)
    heartbeat.start()
    rejects = RejectsFile(_rejects_path(load), keep_values=not encryption.has_encrypted_items(load.dataset.resource_id))
    try:
        outcome, stream = _execute(load, table, progress, rejects)
    except ClaimLost:
        logger.warning("load %s was taken over by another attempt; this one stops", load.pk)
        return
    except SourceError as error:
        _failed_attempt(load, token, error.message, retryable=error.retryable, progress=progress)
        return
    except SchemaChanged as error:  # the same rows would not fit at a retry either: a full load is needed
        _failed_attempt(load, token, str(error), retryable=False, progress=progress)
        return
    except Exception as error:  # an unexpected failure is retried: the previous version is intact
        logger.exception("load %s failed", load.pk)
        _failed_attempt(load, token, f"内部错误：{type(error).__name__}: {error}", retryable=True, progress=progress)
        return
    finally:
        heartbeat.stop()
        rejects.close()
    _succeed(load, table, token, outcome, (stream, rejects), progress, started)


def _succeed(
    load: Load,
    table: DatasetTable,
    token: str,
    outcome: Outcome,
    read: tuple[RawStream, RejectsFile] | None,
    progress: Progress,
    started: float,
) -> None:
    now = timezone.now()
    made_version = outcome.version if outcome.note != "nothing new" else None
    figures: dict[str, Any] = {"version": made_version, "rows_loaded": outcome.rows_loaded}
    if read is not None:
        stream, rejects = read
        figures |= {
            "rows_read": stream.stats.rows_read,
            "rows_rejected": rejects.count,
            "rows_deleted": outcome.rows_deleted,
            "bytes_read": stream.stats.bytes_read,
            "checksum": stream.stats.sha256,
            "encoding": stream.stats.encoding,
            "rejects_path": str(rejects.path) if rejects.count else "",
            "watermark_from": load.dataset.watermark if load.mode != LoadMode.FULL else "",
            "watermark_to": stream.stats.watermark_max,
        }
        for warning in stream.stats.warnings:
            progress.log(f"提示：{warning}")
    row_count = table.row_count(outcome.version) if outcome.version is not None else 0
    if made_version is not None:
        try:
            version_ready.send(Dataset, dataset=load.dataset, number=made_version, load=load)
        except VersionRefused as refused:
            _refuse(load, token, made_version, row_count, refused.reason, progress)
            return
    leases.vacuum_dataset(load.dataset, table)
    with transaction.atomic():
        updated = Load.objects.filter(pk=load.pk, claim_token=token).update(
            status=LoadStatus.SUCCEEDED,
            finished_at=now,
            heartbeat_at=now,
            duration_ms=int((time.monotonic() - started) * 1000),
            log=progress.text,
            error="",
            **figures,
        )
        if not updated:
            return
        dataset_update: dict[str, Any] = {"last_success_at": now}
        if outcome.version is not None:
            dataset_update |= {
                "current_version": outcome.version,
                "row_count": row_count,
                "columns": _columns_of(load.source),
            }
        if figures.get("watermark_to"):
            dataset_update["watermark"] = figures["watermark_to"]
        Dataset.objects.filter(pk=load.dataset_id).update(**dataset_update)
        if made_version is not None:
            DatasetVersion.objects.get_or_create(
                dataset_id=load.dataset_id,
                number=made_version,
                defaults={"kind": VersionKind.LOAD, "load": load, "rows": row_count, "created_at": now},
            )
            dataset, number = load.dataset, made_version
            transaction.on_commit(
                lambda: version_current.send(Dataset, dataset=dataset, number=number, load=load), robust=True
            )
        record_action(
            load.requested_by,
            "datasets.load.succeed",
            load,
            resource=load.dataset.resource.code,
            version=outcome.version,
            rows_loaded=outcome.rows_loaded,
            rows_rejected=figures.get("rows_rejected", 0),
            checksum=figures.get("checksum", ""),
        )
        if load.input_path and encryption.has_encrypted_items(load.dataset.resource_id):
            # The uploaded file holds the encrypted items in plain text: gone once its rows are stored encrypted.
            transaction.on_commit(lambda: Path(load.input_path).unlink(missing_ok=True))


def _columns_of(source: Source) -> list[dict[str, Any]]:
    items = {item.name: item for item in Item.objects.filter(resource=source.resource)}
    return [
        {"name": name, "data_type": items[name].data_type, "length": items[name].length}
        for name in (entry["item"] for entry in source.mapping)
        if name in items
    ]


def _refuse(load: Load, token: str, number: int, rows: int, reason: str, progress: Progress) -> None:
    """A check refused the version the load committed: the load fails (a retry would make the same rows), the
    version is recorded as refused and the dataset stays on its current version."""
    now = timezone.now()
    message = f"数据检查未通过，第 {shown_version(number)} 版未启用：{reason}"
    progress.log(message)
    with transaction.atomic():
        updated = Load.objects.filter(pk=load.pk, claim_token=token).update(
            status=LoadStatus.FAILED,
            finished_at=now,
            heartbeat_at=now,
            error=message,
            log=progress.text,
        )
        if not updated:
            return
        DatasetVersion.objects.update_or_create(
            dataset_id=load.dataset_id,
            number=number,
            defaults={"kind": VersionKind.LOAD, "load": load, "rows": rows, "created_at": now, "refusal": reason},
        )
        record_action(load.requested_by, "datasets.version.refuse", load, version=number, reason=reason)
        load.refresh_from_db()
        notices.load_failed(load)


def _failed_attempt(load: Load, token: str, message: str, *, retryable: bool, progress: Progress) -> None:
    fail_attempt(LOAD_KIND, load, token, message, retryable=retryable, progress=progress)
