"""Typed API shapes of data collection (sources, loads) and datasets (versions, preview)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from govshare.catalog.choices import ItemDataType
from govshare.core.schemas import CursorPage, choice_values
from govshare.dataplane.exporting import ExportFormat
from govshare.datasets.choices import Engine, LoadStatus
from govshare.datasets.models import Load
from govshare.jobs import logs
from govshare.sources.choices import LoadMode, SourceKind
from govshare.sources.credentials import censored_config
from govshare.sources.models import Source
from govshare.sources.services import MappingEntry, SourceInput


class SourceIn(Schema):
    name: str = Field(..., description="数据来源名称")
    kind: Annotated[str, choice_values(SourceKind)] = Field(
        ..., description="来源类型：database 前置库 / http_api 接口调用 / file 文件报送"
    )
    config: dict[str, Any] = Field(
        {},
        description=(
            "连接配置。database: {url, table 或 query}；http_api: {url, method, headers, records_path, paging:"
            " {mode: none/page/offset/cursor, …}}；file: {format: csv/tsv/xlsx/json/jsonl, delimiter, sheet}"
        ),
    )
    secret: str | None = Field(
        None,
        description=(
            "凭据（口令或令牌）；修改时不填则保留原凭据，但连接目标（接口的协议、主机、端口；前置库的驱动、主机、"
            "端口、库名、连接参数）改变时原凭据清除、不会发往新地址，须一并填写；任何接口都不会返回。写在连接地址、"
            "请求头、查询参数或请求体中的凭据（Authorization、X-Api-Key、access_token、password 等）移入凭据"
            "（一个来源只能有一个）"
        ),
    )
    load_mode: Annotated[str, choice_values(LoadMode)] = Field(
        LoadMode.FULL, description="full 全量 / append 按水位追加 / upsert 按主键合并"
    )
    watermark_column: str = Field("", description="水位字段（按水位追加时必填），为来源中的字段名")
    key_items: list[str] = Field([], description="主键信息项名称（按主键合并时必填）")
    detect_deletes: bool = Field(False, description="来源每次提供全量时，主键消失即删除（仅按主键合并）")
    schedule_enabled: bool = Field(False, description="按资源的更新周期自动归集")

    def to_input(self) -> SourceInput:
        return SourceInput(**self.model_dump())


class MappingEntryIO(Schema):
    column: str = Field(..., description="来源字段")
    item: str = Field(..., description="信息项名称")


class SourceOut(Schema):
    id: int
    resource_id: int
    resource_code: str
    name: str
    kind: SourceKind
    config: dict[str, Any]
    has_secret: bool = Field(..., description="是否已保存凭据（凭据本身从不返回）")
    mapping: list[MappingEntryIO]
    load_mode: LoadMode
    watermark_column: str
    key_items: list[str]
    detect_deletes: bool
    schedule_enabled: bool
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    notices: list[str] = Field(
        [], description="本次保存的提示：凭据已从连接配置移入加密保存，或因连接目标改变原凭据已清除"
    )

    @staticmethod
    def resolve_resource_code(obj: Source) -> str:
        return obj.resource.code

    @staticmethod
    def resolve_has_secret(obj: Source) -> bool:
        return bool(obj.secret)

    @staticmethod
    def resolve_config(obj: Source) -> dict[str, Any]:
        return public_config(obj.config)

    @staticmethod
    def resolve_notices(obj: Source) -> list[str]:
        return list(obj.notices)


class MappingIn(Schema):
    mapping: list[MappingEntryIO] = Field(..., description="确认的字段映射：每个来源字段对应一个信息项")
    columns: list[str] | None = Field(None, description="来源的字段（预览所得），给出时逐一核对映射中的来源字段")

    def entries(self) -> list[MappingEntry]:
        return [MappingEntry(entry.column, entry.item) for entry in self.mapping]


class SuggestionOut(Schema):
    column: str
    item_name: str | None = Field(..., description="建议的信息项；无合适信息项时为空")
    score: float = Field(..., description="0–1")
    reason: str


class SourcePreviewOut(Schema):
    columns: list[str] = Field(..., description="来源字段")
    rows: list[list[str | None]] = Field(..., description="前几行样例值（文本）")
    encoding: str = Field("", description="识别出的文件编码")
    suggestions: list[SuggestionOut] = Field(..., description="字段映射建议（按来源字段顺序，每个信息项至多一次）")


class LoadIn(Schema):
    mode: Annotated[str, choice_values(LoadMode)] | None = Field(None, description="加载方式；不填则用数据来源的设置")


class LoadOut(Schema):
    id: int
    resource_id: int
    source_id: int
    source_name: str
    mode: LoadMode
    engine: Engine
    status: LoadStatus
    status_label: str
    input_name: str
    requested_by: str = Field(..., description="发起人账号（定时归集为空）")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    attempts: int
    max_attempts: int
    next_attempt_at: dt.datetime | None
    progress_bytes: int
    total_bytes: int | None
    progress_percent: int | None = Field(..., description="已读字节占比（总量已知时）")
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_deleted: int
    bytes_read: int
    duration_ms: int | None
    checksum: str
    encoding: str
    version: int | None
    watermark_from: str
    watermark_to: str
    has_rejects: bool
    error: str

    @staticmethod
    def resolve_resource_id(obj: Load) -> int:
        return obj.dataset.resource_id

    @staticmethod
    def resolve_source_name(obj: Load) -> str:
        return obj.source.name

    @staticmethod
    def resolve_status_label(obj: Load) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_requested_by(obj: Load) -> str:
        return obj.requested_by.get_username() if obj.requested_by else ""

    @staticmethod
    def resolve_error(obj: Load) -> str:
        return logs.readable_text(obj.error)

    @staticmethod
    def resolve_progress_percent(obj: Load) -> int | None:
        return progress_percent(obj)

    @staticmethod
    def resolve_has_rejects(obj: Load) -> bool:
        return bool(obj.rejects_path)


class LoadDetailOut(LoadOut):
    log: str

    @staticmethod
    def resolve_log(obj: Load) -> str:
        return logs.readable(obj.log)


class LoadPage(CursorPage[LoadOut]):
    """One page of the load history."""


class FieldOut(Schema):
    name: str = Field(..., description="信息项名称（数据中的字段名）")
    data_type: Annotated[str, choice_values(ItemDataType)] = Field(..., description="数据类型代码 C N Y D T L M B")
    data_type_label: str
    length: int | None
    description: str


class VersionOut(Schema):
    version: int
    load_id: int | None = Field(..., description="生成此版本的归集任务")
    mode: str
    rows_loaded: int | None
    rows_deleted: int | None
    created_at: dt.datetime | None
    is_current: bool
    available: bool = Field(..., description="是否仍可预览和下载（超出保留版本数的旧版本已清理）")


class DatasetOut(Schema):
    resource_id: int
    resource_code: str
    current_version: int | None
    row_count: int | None = Field(..., description="当前版本的记录数；授权只含部分记录时为空")
    last_success_at: dt.datetime | None
    timely: bool | None = Field(..., description="最近一次成功归集是否在更新周期内；不定期或从未归集为空")
    fields: list[FieldOut]
    versions: list[VersionOut]
    formats: list[ExportFormat] = Field(..., description="可下载的格式")


class DataPreviewOut(Schema):
    version: int
    fields: list[FieldOut] = Field(..., description="字段字典")
    rows: list[list[Any]] = Field(..., description="前几行数据，按字段字典的顺序")
    total_rows: int | None = Field(..., description="此版本的记录数；授权只含部分记录时为空")
    purpose: str = Field("", description="读取依据：本部门数据、平台管理，或共享授权的应用场景")


def public_config(config: dict[str, Any]) -> dict[str, Any]:
    """The connection settings as shown: no password of a connection URL, and no value of a secret-looking header,
    query parameter or body field (credentials.censored_config; the services move such values into the encrypted
    credential, so this only guards settings stored before)."""
    return censored_config(config)


def progress_percent(load: Load) -> int | None:
    if not load.total_bytes:
        return None
    return min(100, int(load.progress_bytes * 100 / load.total_bytes))
