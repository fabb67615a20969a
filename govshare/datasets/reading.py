"""Reading data for people: a source's first rows with mapping suggestions (the mapping page), a dataset's
versions, a preview of a version's first rows with the field dictionary, and downloads in every export format,
streamed.

Every preview and download is permission-checked through the reader's scope (`scopes.reader_scope`: the owning
department and the platform administrator, a grant's consumers; everyone else gets 404) and recorded in the audit
trail through `services.record_data_access` — committed before the first byte of the answer is produced. The API
and the pages both call these functions.
"""

from __future__ import annotations

import datetime as dt
import decimal
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.models import User
from govshare.catalog.choices import ItemDataType
from govshare.catalog.models import Resource
from govshare.core.errors import DomainError, FieldProblem, NotFound, ValidationFailed
from govshare.core.masking import MaskRule, mask_arrow_column
from govshare.core.uploads import check_data_upload
from govshare.dataplane import exporting
from govshare.dataplane.encryption import decrypted, filtered
from govshare.dataplane.exporting import ExportFormat
from govshare.dataplane.raw import SourceError, map_columns
from govshare.dataplane.tables import DatasetTable
from govshare.datasets import encryption, leases, selectors, services
from govshare.datasets.models import Dataset, DatasetVersion, Load, VersionLease
from govshare.datasets.scopes import ReadScope, masking_rules, reader_scope, staff_scope
from govshare.sources import services as source_services
from govshare.sources.access import can_read_data, require_source_manager
from govshare.sources.choices import SourceKind
from govshare.sources.mapping import MappingSuggestion, suggest_mapping
from govshare.sources.models import Source

__all__ = [
    "PREVIEW_MAX_ROWS",
    "DataField",
    "DataPreview",
    "OpenedVersion",
    "ReadScope",
    "SourceSample",
    "VersionInfo",
    "dataset_versions",
    "download_response",
    "field_dictionary",
    "masked",
    "masking_rules",
    "open_version",
    "preview_source_for",
    "preview_version",
    "readable",
    "readable_dataset",
    "rejects_response",
    "scoped_rows",
    "staff_scope",
    "visible_in",
]

PREVIEW_ROWS = 20
PREVIEW_MAX_ROWS = 200

ACTION_PREVIEW = "datasets.data.preview"
ACTION_DOWNLOAD = "datasets.data.download"
ACTION_REJECTS = "datasets.rejects.download"
ACTION_SOURCE_PREVIEW = "sources.source.preview"
SOURCE_PREVIEW_ROWS = 10


class SourceUnreachable(DomainError):
    """The source could not be read right now (database or API down): 502, the message says what happened."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 502)


@dataclass(frozen=True)
class SourceSample:
    """A source's columns and first rows as text, with the suggested mapping (the mapping page)."""

    columns: list[str]
    rows: list[list[str | None]]
    encoding: str
    suggestions: list[MappingSuggestion]
    warnings: list[str] = field(default_factory=list)

    def sample_values(self, column_index: int, limit: int = 3) -> list[str]:
        """A few non-empty example values of one column."""
        values = [row[column_index] for row in self.rows if column_index < len(row)]
        return [v for v in values if v not in (None, "")][:limit]  # type: ignore[misc]


@dataclass(frozen=True)
class DataField:
    """One entry of the field dictionary: the item's name, type, length and description."""

    name: str
    data_type: str
    data_type_label: str
    length: int | None
    description: str


@dataclass(frozen=True)
class VersionInfo:
    version: int
    load_id: int | None
    mode: str
    rows_loaded: int | None
    rows_deleted: int | None
    created_at: dt.datetime | None
    is_current: bool
    available: bool = True  # False once cleaned up by the retention policy


@dataclass(frozen=True)
class DataPreview:
    version: int
    fields: list[DataField]
    rows: list[list[Any]]
    total_rows: int | None  # None: the reader's scope holds some rows only
    purpose: str = ""  # the scope's purpose (a grant's scenario), shown to a reader outside the department


def _latest_input(source: Source) -> Path | None:
    """The file of the source's latest load that is still on disk (a file source previewed without a new upload)."""
    latest = Load.objects.filter(source=source).exclude(input_path="").order_by("-created_at", "-pk").first()
    if latest is None:
        return None
    path = Path(latest.input_path)
    return path if path.is_file() else None


def preview_source_for(
    user: User, source: Source, *, upload: UploadedFile | None = None, rows: int = SOURCE_PREVIEW_ROWS
) -> SourceSample:
    """Read the first rows of a source (a file source: the uploaded sample, else the latest load's file) and
    suggest the mapping of its columns to the resource's items. The read is recorded in the audit trail."""
    from govshare.sources.readers import preview_source

    # Raw, unmasked rows: the owning department's catalogue administrators only (404 for the platform
    # administrator of another department, who reads the dataset masked).
    require_source_manager(user, source.resource, missing=gettext_noop("数据来源不存在或无权访问"))
    config = dict(source.config)
    with tempfile.TemporaryDirectory(prefix="govshare-preview-") as scratch:
        path: Path | None = None
        if source.kind == SourceKind.FILE:
            if upload is not None:
                name = Path(upload.name or "sample.csv").name
                config["format"] = source_services.file_format_for(name, config.get("format"))
                check_data_upload(upload, name=name, size=upload.size or 0, file_format=config["format"])
                path = Path(scratch) / ("sample" + Path(name).suffix.lower())
                with path.open("wb") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
            else:
                path = _latest_input(source)
                if path is None:
                    raise ValidationFailed(
                        [FieldProblem("file", gettext_noop("请上传一份样例文件（与报送文件格式相同）以识别字段"))]
                    )
        try:
            found = preview_source(source.kind, config, source.secret, path=path, rows=rows)
        except SourceError as exc:
            if exc.retryable:
                raise SourceUnreachable(gettext("无法读取数据来源：%(reason)s") % {"reason": exc.message}) from exc
            raise ValidationFailed([FieldProblem("source", exc.message)], gettext_noop("无法读取数据来源")) from exc
    items = selectors.field_dictionary(source.resource)
    suggestions = suggest_mapping(found.columns, found.rows, items)
    dataset = services.ensure_dataset(source.resource)
    services.record_data_access(user, dataset, action=ACTION_SOURCE_PREVIEW, version=None, rows=len(found.rows))
    return SourceSample(found.columns, found.rows, found.encoding, suggestions, list(found.warnings))


def readable(
    user: User, resource: Resource, *, today: dt.date | None = None, choice: str = ""
) -> tuple[Dataset, ReadScope]:
    """The resource's dataset and the user's scope on it (`scopes.reader_scope`: the staff scope, a grant's, or
    404), when it has a version; NotFound otherwise. The scope is decided first, so that a reader without one gets
    the same answer whether or not the resource has data."""
    scope = reader_scope(user, resource, today=today, choice=choice)
    dataset = Dataset.objects.filter(resource=resource).first()
    if dataset is None or dataset.current_version is None:
        raise NotFound(gettext_noop("该资源尚无归集数据"))
    return dataset, scope


def readable_dataset(user: User, resource: Resource, *, today: dt.date | None = None, choice: str = "") -> Dataset:
    """The resource's dataset when the user may read its data (in some scope) and it has a version; NotFound
    otherwise."""
    return readable(user, resource, today=today, choice=choice)[0]


def dataset_versions(dataset: Dataset) -> list[VersionInfo]:
    """The versions made by loads and key rotations, newest first (older ones may have been cleaned up)."""
    kept = set(_table(dataset).kept_versions(dataset.keep_versions))
    made = DatasetVersion.objects.filter(dataset=dataset, refusal="").select_related("load").order_by("-number")
    return [
        VersionInfo(
            version=made_version.number,
            load_id=made_version.load_id,
            mode=made_version.load.mode if made_version.load is not None else encryption.ROTATION_MODE,
            rows_loaded=made_version.load.rows_loaded if made_version.load is not None else made_version.rows,
            rows_deleted=made_version.load.rows_deleted if made_version.load is not None else 0,
            created_at=made_version.load.finished_at if made_version.load is not None else made_version.created_at,
            is_current=made_version.number == dataset.current_version,
            available=made_version.number in kept,
        )
        for made_version in made
    ]


def _table(dataset: Dataset) -> DatasetTable:
    return DatasetTable(dataset.table_uri)


def _version(dataset: Dataset, version: int | None, *, pending: bool = False) -> int:
    """The version asked for (the current one by default), or NotFound when it never existed or was cleaned up.
    `pending`: a version committed after the current one may be read too (a check deciding whether it may
    become current)."""
    if version is None:
        assert dataset.current_version is not None
        return dataset.current_version
    table = _table(dataset)
    all_versions = table.data_versions()
    kept = all_versions[: max(dataset.keep_versions, 1)]
    newer = dataset.current_version is not None and version > dataset.current_version
    if version not in all_versions or (newer and not pending):
        raise NotFound(gettext("数据版本 %(version)s 不存在") % {"version": version})
    if DatasetVersion.objects.filter(dataset=dataset, number=version).exclude(refusal="").exists():
        raise NotFound(gettext("数据版本 %(version)s 未通过数据检查，不可读取") % {"version": version})
    if version not in kept:
        raise NotFound(
            gettext("数据版本 %(version)s 已按保留策略（保留最近 %(keep)s 个版本）清理")
            % {"version": version, "keep": dataset.keep_versions}
        )
    return version


@dataclass
class OpenedVersion:
    number: int
    batches: pa.RecordBatchReader  # the rows in the scope: decrypted, filtered, masked
    names: list[str]  # the data columns, in order
    lease: VersionLease | None = None  # held for the reader (`holder`); the caller releases it when done


def open_version(
    dataset: Dataset,
    scope: ReadScope,
    *,
    version: int | None = None,
    where: Mapping[str, str] | None = None,
    pending: bool = False,
    holder: str | None = None,
) -> OpenedVersion:
    """The one way to read a dataset version: the version asked for (the current one by default; 404 when it never
    existed or was cleaned up), filtered by `where` (column = value; a searchable encrypted column through its
    HMAC column) and by the scope's rows, decrypted on the server (HMAC columns left out), reduced to the scope's
    items, then masked. The caller closes `batches` (or hands it to a response that does). `pending`: the version
    may be one not current yet (for the checks of `signals.version_ready`). `holder` ("download:<user id>",
    "job:<id>"): a long reader's lease on the version (`leases`), taken before any file is opened so that vacuum
    after later loads leaves its files; the caller releases `lease` when done (else it expires)."""
    number = _version(dataset, version, pending=pending)
    lease = leases.acquire(dataset, number, holder=holder) if holder is not None else None
    try:
        reader, names = _open_rows(dataset, scope, number, where)
    except BaseException:
        if lease is not None:
            leases.release(lease)
        raise
    return OpenedVersion(number, reader, names, lease)


def _open_rows(
    dataset: Dataset, scope: ReadScope, number: int, where: Mapping[str, str] | None
) -> tuple[pa.RecordBatchReader, list[str]]:
    # A lookup by value on a column this reader sees masked (or not at all) would confirm the hidden value.
    hidden = [column for column in where or () if column in scope.masking or not _in_items(scope, column)]
    if hidden:
        message = gettext("信息项“%(item)s”对您脱敏显示或不提供，不能按值查询") % {"item": hidden[0]}
        raise ValidationFailed([FieldProblem("column", message)])
    table = _table(dataset)
    stored = table.schema(number)
    reader = table.read(number)
    if where:
        try:
            reader = filtered(reader, stored, dataset.resource_id, where)
        except ValueError as exc:
            reader.close()
            raise ValidationFailed([FieldProblem("column", str(exc))]) from None
    reader = scoped_rows(reader, stored, dataset.resource_id, scope)
    return reader, _data_names(reader.schema)


def scoped_rows(
    reader: pa.RecordBatchReader, stored: pa.Schema, resource_id: int, scope: ReadScope
) -> pa.RecordBatchReader:
    """Rows of a version in their stored form (all of them, or some a caller picked: a delivery's changed rows)
    as the scope's reader gets them: decrypted on the server (HMAC columns left out), reduced to the scope's rows
    and items, then masked. `stored` is the version's schema; the reader may hold any of its columns (those the
    scope's row filter names included). The same steps as `open_version`, which calls it."""
    reader = decrypted(reader, stored, resource_id)
    if scope.rows_where:
        reader = _rows_in(reader, scope.rows_where)
    if scope.items is not None:
        reader = _items_of(reader, scope.items)
    return masked(reader, scope.masking)


def visible_in(scope: ReadScope, column: str) -> bool:
    """Whether the scope's reader gets this column at all (in its items and not withheld)."""
    return _in_items(scope, column) and scope.masking.get(column) != MaskRule.WITHHOLD


def _in_items(scope: ReadScope, column: str) -> bool:
    return scope.items is None or column in scope.items


def _rows_in(reader: pa.RecordBatchReader, rows_where: Mapping[str, frozenset[str]]) -> pa.RecordBatchReader:
    """Only the rows whose items hold one of the allowed values (compared as text)."""
    missing = [name for name in rows_where if name not in reader.schema.names]
    if missing:
        reader.close()
        raise ValidationFailed(
            [FieldProblem("rows", gettext("行范围所依据的信息项“%(item)s”不在该数据集中") % {"item": missing[0]})]
        )

    def kept(batch: pa.RecordBatch) -> pa.RecordBatch:
        mask = None
        for name, values in rows_where.items():
            column = pc.cast(batch.column(name), pa.string())
            test = pc.fill_null(pc.is_in(column, value_set=pa.array(sorted(values), pa.string())), False)
            mask = test if mask is None else pc.and_(mask, test)
        return batch.filter(mask)

    return pa.RecordBatchReader.from_batches(reader.schema, (kept(batch) for batch in reader))


def _items_of(reader: pa.RecordBatchReader, items: frozenset[str]) -> pa.RecordBatchReader:
    names = [name for name in reader.schema.names if name in items or name.startswith("_")]
    schema = pa.schema([reader.schema.field(name) for name in names])
    return pa.RecordBatchReader.from_batches(schema, (batch.select(names) for batch in reader))


def masked(reader: pa.RecordBatchReader, rules: Mapping[str, str]) -> pa.RecordBatchReader:
    """Masking on the server, before any format is written: masked columns become text, withheld ones (L4, 核心)
    are left out altogether."""
    if not rules:
        return reader
    names = [name for name in reader.schema.names if rules.get(name) != MaskRule.WITHHOLD]
    schema = pa.schema([pa.field(name, pa.string()) if name in rules else reader.schema.field(name) for name in names])

    def masking(rule: str) -> Callable[[pa.Array], pa.Array]:
        return lambda values: mask_arrow_column(values, rule).cast(pa.string())

    return map_columns(reader, schema, {name: masking(rule) for name, rule in rules.items() if name in names})


def field_dictionary(resource: Resource, names: list[str], dataset: Dataset | None = None) -> list[DataField]:
    """The dictionary of the given data columns, from the resource's items (or the dataset's record of them)."""
    items = {item.name: item for item in selectors.field_dictionary(resource)}
    recorded = {str(c.get("name")): c for c in (dataset.columns if dataset else []) if isinstance(c, dict)}
    labels = dict(ItemDataType.choices)
    fields = []
    for name in names:
        item = items.get(name)
        if item is not None:
            data_type, length, description = item.data_type, item.length, item.description
        else:
            column = recorded.get(name, {})
            data_type, length, description = str(column.get("data_type", "")), column.get("length"), ""
        fields.append(DataField(name, data_type, str(labels.get(data_type, data_type)), length, description))
    return fields


def _data_names(schema: pa.Schema) -> list[str]:
    return [name for name in schema.names if not name.startswith("_")]


def _cell(value: Any) -> Any:
    """A value as JSON and the page show it: dates ISO, decimals exact text, binary as hex."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def preview_version(
    user: User,
    resource: Resource,
    *,
    version: int | None = None,
    limit: int = PREVIEW_ROWS,
    where: Mapping[str, str] | None = None,
    today: dt.date | None = None,
    choice: str = "",
) -> DataPreview:
    """The first `limit` rows of a version (those whose columns equal `where`'s values, if given) with the field
    dictionary, in the user's scope (`choice`: which of several grants, see `scopes.reader_scope`); the access is
    recorded. `total_rows` is None for a scope limited to some rows: the version's count would tell how many rows
    lie outside it."""
    if not 1 <= limit <= PREVIEW_MAX_ROWS:
        raise ValidationFailed(
            [FieldProblem("limit", gettext("预览行数应在 1 到 %(max)s 之间") % {"max": PREVIEW_MAX_ROWS})]
        )
    dataset, scope = readable(user, resource, today=today, choice=choice)
    opened = open_version(dataset, scope, version=version, where=where)
    number, reader, names = opened.number, opened.batches, opened.names
    rows: list[list[Any]] = []
    try:
        for batch in reader:
            part = batch.slice(0, limit - len(rows)).select(names)
            columns = [column.to_pylist() for column in part.columns]
            rows.extend([_cell(v) for v in values] for values in zip(*columns, strict=True))
            if len(rows) >= limit:
                break
    finally:
        reader.close()
    total = _row_count(dataset, number) if scope.whole_rows else None
    services.record_data_access(user, dataset, action=ACTION_PREVIEW, version=number, rows=len(rows), scope=scope)
    return DataPreview(number, field_dictionary(resource, names, dataset), rows, total, scope.purpose)


def _row_count(dataset: Dataset, version: int) -> int:
    if version == dataset.current_version:
        return dataset.row_count
    return int(_table(dataset).row_count(version))


def download_response(
    user: User,
    resource: Resource,
    *,
    version: int | None = None,
    file_format: str = ExportFormat.CSV,
    today: dt.date | None = None,
    choice: str = "",
) -> StreamingHttpResponse:
    """A version in one format, streamed, in the user's scope. The access is recorded (and committed) before the
    response is built: a grant revoked before that moment refuses the download."""
    if file_format not in ExportFormat.values:
        raise ValidationFailed(
            [
                FieldProblem(
                    "format",
                    gettext("不支持的下载格式“%(format)s”，可选 csv、xlsx、json、parquet") % {"format": file_format},
                )
            ]
        )
    dataset, scope = readable(user, resource, today=today, choice=choice)
    # A download streams for long: its version is leased, so loads committed meanwhile do not vacuum its files.
    opened = open_version(dataset, scope, version=version, holder=f"download:{user.pk}")
    number, reader, lease = opened.number, opened.batches, opened.lease
    assert lease is not None
    try:
        services.record_data_access(
            user, dataset, action=ACTION_DOWNLOAD, version=number, export_format=file_format, scope=scope
        )
    except BaseException:
        reader.close()
        leases.release(lease)
        raise
    export = exporting.export_file(reader, file_format, resource_code=resource.code, version=number)
    # Released when the stream is exhausted or the response closed (Django closes it, read to the end or not).
    response = StreamingHttpResponse(leases.LeasedStream(export.chunks, lease), content_type=export.content_type)
    response["Content-Disposition"] = export.content_disposition
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _rejects_file(load: Load) -> Path:
    path = Path(load.rejects_path) if load.rejects_path else None
    data_dir = Path(settings.GOVSHARE.data_dir).resolve()
    if path is None or not path.resolve().is_relative_to(data_dir) or not path.is_file():
        raise NotFound(gettext_noop("该归集任务没有拒绝记录文件"))
    return path


def rejects_response(user: User, load: Load) -> FileResponse:
    """The rejects file of a load (row, column, reason, original value): source data, so recorded like a download."""
    resource = load.dataset.resource
    # Rejected rows are the source's raw values, unmasked: only the owning department sees them.
    if not can_read_data(user, resource) or user.department_id != resource.department_id:
        raise NotFound(gettext_noop("归集任务不存在或无权访问"))
    path = _rejects_file(load)
    handle = path.open("rb")
    try:
        services.record_data_access(
            user, load.dataset, action=ACTION_REJECTS, version=load.version, export_format="csv"
        )
    except BaseException:
        handle.close()
        raise
    response = FileResponse(handle, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{load.dataset.resource.code.replace('/', '-')}_归集{load.pk}_拒绝记录.csv"
    )
    return response
