"""The data collection and datasets API: thin routes over selectors, services and `reading`.

Data (sources, loads, versions, previews, downloads) belongs to the resource's department and the platform
administrator; for everyone else these routes answer 404 as if the resource had no data. Changing a source,
previewing its raw rows, mapping it and requesting or retrying its loads are the owning department's catalogue
administrators' alone: the platform administrator of another department sees the source and its loads and reads
the dataset masked, but gets 404 from those routes (access.require_source_manager). Every preview and download is
recorded in the audit trail before its first byte is sent.
"""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_noop
from ninja import File, Form, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.accounts.models import User
from govshare.catalog import selectors as catalog_selectors
from govshare.catalog.models import Resource
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.errors import FieldProblem, ValidationFailed
from govshare.core.nostore import no_store
from govshare.core.pagination import Page, paginate_keyset
from govshare.core.schemas import AFTER_DESCRIPTION, ERRORS, ErrorOut, choice_values
from govshare.dataplane import exporting
from govshare.dataplane.exporting import ExportFormat
from govshare.datasets import jobs, reading, selectors, services
from govshare.datasets.models import Load
from govshare.datasets.schemas import (
    DataPreviewOut,
    DatasetOut,
    LoadDetailOut,
    LoadIn,
    LoadOut,
    LoadPage,
    MappingIn,
    SourceIn,
    SourceOut,
    SourcePreviewOut,
    VersionOut,
)
from govshare.sources import selectors as source_selectors
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source

router = Router(tags=["数据归集与数据集 datasets"])

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_SOURCE_DOWN = {502: ErrorOut}


def _resource(user: User, resource_id: int) -> Resource:
    return catalog_selectors.get_resource(user, resource_id)


def _load(user: User, load_id: int) -> Load:
    return selectors.get_load(user, load_id)


# --- sources -------------------------------------------------------------------------------------------------------


@router.get(
    "/resources/{resource_id}/sources",
    response={200: list[SourceOut], **ERRORS},
    auth=STAFF_READ,
    summary="资源的数据来源（挂接）",
)
def list_sources(request: HttpRequest, resource_id: int) -> list[Source]:
    user = acting_user(request)
    return list(source_selectors.sources_of(user, _resource(user, resource_id)))


@router.post(
    "/resources/{resource_id}/sources",
    response={201: SourceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="挂接数据来源（前置库、接口或文件报送）",
    description=(
        "只有已发布资源所属部门的目录管理员可以挂接。连接地址中的口令，以及写在请求头、查询参数或请求体中的凭据"
        "（Authorization、X-Api-Key、access_token 等）会移入加密保存的凭据，不再显示（notices 说明）；一个来源只能"
        "有一个凭据，多出的会被拒绝（422，指明字段）。"
    ),
)
def create_source(request: HttpRequest, resource_id: int, payload: SourceIn) -> Status[Source]:
    user = acting_user(request)
    source = source_services.register_source(_resource(user, resource_id), payload.to_input(), actor=user)
    created = source_selectors.get_source(user, source.pk)
    created.notices = source.notices
    return Status(201, created)


@router.get("/sources/{source_id}", response={200: SourceOut, **ERRORS}, auth=STAFF_READ, summary="数据来源详情")
def get_source(request: HttpRequest, source_id: int) -> Source:
    return source_selectors.get_source(acting_user(request), source_id)


@router.put(
    "/sources/{source_id}",
    response={200: SourceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="修改数据来源（类型不可改；secret 不填则保留原凭据，连接目标改变时除外）",
    description=(
        "只有资源所属部门的目录管理员可以修改。secret 不填则保留原凭据；但接口地址的协议、主机或端口改变，或前置库的"
        "驱动、主机、端口、库名或连接参数改变时，原凭据清除（不会发往新地址），notices 说明，须随修改一并填写 secret。"
        "审计日志记录每项设置的原值与新值（凭据除外）。"
    ),
)
def update_source(request: HttpRequest, source_id: int, payload: SourceIn) -> Source:
    user = acting_user(request)
    updated = source_services.update_source(
        source_selectors.get_managed_source(user, source_id), payload.to_input(), actor=user
    )
    source = source_selectors.get_source(user, source_id)
    source.notices = updated.notices
    return source


@router.post(
    "/sources/{source_id}/preview",
    response={200: SourcePreviewOut, **_SOURCE_DOWN, **ERRORS},
    auth=STAFF_WRITE,
    summary="预览来源的前几行并建议字段映射",
    description=(
        "前置库和接口直接读取来源；文件报送须以 multipart 字段 file 上传一份样例文件（不上传则用最近一次报送的文件）。"
        "建议按名称（相同、全半角与大小写、同义词、相近）和样例值类型给出，每个信息项至多建议一次。"
        "来源暂时无法访问或超过预览时限时返回 502；来源地址不在平台允许访问的范围内时返回 422。"
        "预览的是来源的原始数据（未脱敏）：只有资源所属部门的目录管理员可以预览，"
        "其他人（包括平台管理员）得到 404。"
    ),
)
@decorate_view(no_store)
def preview_source(request: HttpRequest, source_id: int, file: UploadedFile = File(None)) -> reading.SourceSample:  # noqa: B008
    user = acting_user(request)
    return reading.preview_source_for(user, source_selectors.get_managed_source(user, source_id), upload=file)


@router.put(
    "/sources/{source_id}/mapping",
    response={200: SourceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="确认字段映射",
    description="每个来源字段对应一个信息项，每个信息项至多一次，主键信息项必须映射；有误时 422 逐条说明。",
)
def confirm_mapping(request: HttpRequest, source_id: int, payload: MappingIn) -> Source:
    user = acting_user(request)
    source = source_selectors.get_managed_source(user, source_id)
    source_services.set_mapping(source, payload.entries(), actor=user, columns=payload.columns)
    return source_selectors.get_source(user, source_id)


# --- loads ---------------------------------------------------------------------------------------------------------


@router.post(
    "/sources/{source_id}/loads",
    response={201: LoadOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="发起归集（前置库、接口）",
    description="归集在后台运行；用 GET /loads/{id} 查看状态、进度、日志与错误。文件报送请用 /uploads。",
)
def request_load(request: HttpRequest, source_id: int, payload: LoadIn) -> Status[Load]:
    user = acting_user(request)
    source = source_selectors.get_managed_source(user, source_id)
    if source.kind == SourceKind.FILE:
        raise ValidationFailed(
            [FieldProblem("file", gettext_noop("文件报送请以 multipart 上传数据文件：POST /sources/{id}/uploads"))]
        )
    load = services.request_load(source, actor=user, mode=payload.mode)
    return Status(201, _load(user, load.pk))


@router.post(
    "/sources/{source_id}/uploads",
    response={201: LoadOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="文件报送：上传数据文件并发起归集",
    description=(
        "multipart 字段 file（CSV/TSV、xlsx、JSON、JSON Lines；UTF-8、GBK、GB18030 自动识别），可选字段 mode"
        "（full 全量 / upsert 按主键合并）。文件大小上限 GOVSHARE_LOAD_UPLOAD_MAX_BYTES。"
    ),
)
def upload_load(
    request: HttpRequest,
    source_id: int,
    file: UploadedFile = File(None),  # noqa: B008
    mode: str | None = Form(None),
) -> Status[Load]:
    user = acting_user(request)
    source = source_selectors.get_managed_source(user, source_id)
    if source.kind != SourceKind.FILE:
        raise ValidationFailed(
            [FieldProblem("file", gettext_noop("只有文件报送的数据来源可以上传文件；前置库和接口请用 /loads"))]
        )
    load = services.request_load(source, actor=user, upload=file, mode=mode or None)
    return Status(201, _load(user, load.pk))


class LoadListIn(Schema):
    page: int = Field(1, description="页码，从 1 开始")
    page_size: int | None = Field(None, description="每页条数")
    after: str | None = Field(None, description=AFTER_DESCRIPTION)


@router.get(
    "/resources/{resource_id}/loads",
    response={200: LoadPage, **ERRORS},
    auth=STAFF_READ,
    summary="归集历史（最新在前）",
    description="按页码（page）或按游标（after：上一页答复中的 next_after）分页。",
)
def list_loads(request: HttpRequest, resource_id: int, paging: Query[LoadListIn]) -> Page[Load]:
    user = acting_user(request)
    loads = selectors.loads_of(user, _resource(user, resource_id))
    return paginate_keyset(
        loads, keys=("-created_at", "-id"), after=paging.after, page=paging.page, page_size=paging.page_size
    )


@router.get(
    "/loads/{load_id}",
    response={200: LoadDetailOut, **ERRORS},
    auth=STAFF_READ,
    summary="归集任务：状态、进度、日志、错误与血缘数据",
)
def get_load(request: HttpRequest, load_id: int) -> Load:
    return _load(acting_user(request), load_id)


@router.post(
    "/loads/{load_id}/retry", response={200: LoadOut, **ERRORS}, auth=STAFF_WRITE, summary="重试失败的归集任务"
)
def retry_load(request: HttpRequest, load_id: int) -> Load:
    user = acting_user(request)
    services.retry_load(_load(user, load_id), actor=user)
    return _load(user, load_id)


@router.get(
    "/loads/{load_id}/rejects",
    response=ERRORS,
    auth=STAFF_READ,
    summary="下载拒绝记录（行号、列、原因、原始值，CSV）",
    description="拒绝记录含来源数据，下载与数据下载一样记入审计日志。",
    openapi_extra={"responses": {200: {"description": "拒绝记录", "content": {"text/csv": _BINARY}}}},
)
@decorate_view(no_store)
def download_rejects(request: HttpRequest, load_id: int) -> HttpResponseBase:
    user = acting_user(request)
    return reading.rejects_response(user, _load(user, load_id))


# --- dataset -------------------------------------------------------------------------------------------------------


class ScopeIn(Schema):
    grant: int | None = Field(
        None, description="共享授权编号：本部门对该资源持有多项有效授权时，选择按哪一项读取；不填取最早的一项"
    )


def _choice(grant: int | None) -> str:
    return "" if grant is None else str(grant)


@router.get(
    "/resources/{resource_id}/dataset",
    response={200: DatasetOut, **ERRORS},
    auth=STAFF_READ,
    summary="资源的数据集：当前版本、记录数、字段字典、版本列表、时效",
)
def get_dataset(request: HttpRequest, resource_id: int, query: Query[ScopeIn]) -> DatasetOut:
    user = acting_user(request)
    resource = _resource(user, resource_id)
    dataset, scope = reading.readable(user, resource, choice=_choice(query.grant))
    names = [str(column.get("name")) for column in dataset.columns if isinstance(column, dict)]
    # Only the columns the reader's scope shows (a grant's items, less those withheld).
    names = [name for name in names if reading.visible_in(scope, name)]
    return DatasetOut.model_validate(
        {
            "resource_id": resource.pk,
            "resource_code": resource.code,
            "current_version": dataset.current_version,
            "row_count": dataset.row_count if scope.whole_rows else None,
            "last_success_at": dataset.last_success_at,
            "timely": jobs.is_timely(resource),
            "fields": reading.field_dictionary(resource, names, dataset),
            "versions": reading.dataset_versions(dataset),
            "formats": list(ExportFormat),
        }
    )


@router.get(
    "/resources/{resource_id}/dataset/versions",
    response={200: list[VersionOut], **ERRORS},
    auth=STAFF_READ,
    summary="数据版本（最新在前）",
)
def list_versions(request: HttpRequest, resource_id: int, query: Query[ScopeIn]) -> list[reading.VersionInfo]:
    user = acting_user(request)
    resource = _resource(user, resource_id)
    return reading.dataset_versions(reading.readable_dataset(user, resource, choice=_choice(query.grant)))


class PreviewIn(ScopeIn):
    version: int | None = Field(None, description="数据版本；不填为当前版本")
    limit: int = Field(reading.PREVIEW_ROWS, description=f"行数，1–{reading.PREVIEW_MAX_ROWS}")
    column: str = Field("", description="按值查询：信息项名称（与 value 一起使用；加密可检索的列经 HMAC 比对）")
    value: str = Field("", description="按值查询：只返回该信息项等于此值的行")


@router.get(
    "/resources/{resource_id}/dataset/preview",
    response={200: DataPreviewOut, **ERRORS},
    auth=STAFF_READ,
    summary="预览数据的前几行（含字段字典）",
    description="每次预览记入审计日志。",
)
@decorate_view(no_store)
def preview_dataset(request: HttpRequest, resource_id: int, query: Query[PreviewIn]) -> reading.DataPreview:
    user = acting_user(request)
    where = {query.column: query.value} if query.column else None
    return reading.preview_version(
        user,
        _resource(user, resource_id),
        version=query.version,
        limit=query.limit,
        where=where,
        choice=_choice(query.grant),
    )


class DownloadIn(ScopeIn):
    version: int | None = Field(None, description="数据版本；不填为当前版本")
    format: Annotated[str, choice_values(ExportFormat)] = Field(
        ExportFormat.CSV, description="csv（UTF-8 带 BOM）/ xlsx / json / parquet"
    )


@router.get(
    "/resources/{resource_id}/dataset/download",
    response=ERRORS,
    auth=STAFF_READ,
    summary="下载任一版本的数据（流式）",
    description="文件名为 <资源代码>_v<版本>.<格式>。每次下载在发送第一个字节之前记入审计日志。",
    openapi_extra={
        "responses": {
            200: {
                "description": "数据文件",
                "content": {content_type: _BINARY for content_type in exporting.CONTENT_TYPES.values()},
            }
        }
    },
)
@decorate_view(no_store)
def download_dataset(request: HttpRequest, resource_id: int, query: Query[DownloadIn]) -> HttpResponseBase:
    user = acting_user(request)
    return reading.download_response(
        user,
        _resource(user, resource_id),
        version=query.version,
        file_format=query.format,
        choice=_choice(query.grant),
    )
