"""Catalogue import and export over the API: the template, the import (multipart), my batches, the export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from ninja import File, Form, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.catalog import exporting, importing
from govshare.catalog.models import ImportBatch
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS, ErrorOut
from govshare.core.schemas import Page as PageOut

router = Router(tags=["目录导入导出 catalog import/export"])
_BINARY = {"schema": {"type": "string", "format": "binary"}}


class ImportProblemOut(Schema):
    sheet: str = Field(..., description="工作表（文件级问题为空）")
    row: int | None = Field(None, description="行号")
    column: str = Field("", description="列字母，如 H")
    header: str = Field("", description="列名（表头），如 共享属性")
    field: str = Field("", description="同 header（与其他接口的错误格式一致）")
    message: str = Field(..., description="问题（中文）")


class ImportBatchOut(Schema):
    id: int
    file_name: str
    file_size: int
    sha256: str
    outcome: ImportBatch.Outcome = Field(..., description="imported 已导入 / refused 未导入（有错误）")
    row_count: int
    created_count: int
    problem_count: int
    duration_ms: int
    created_at: dt.datetime


class ImportBatchDetailOut(ImportBatchOut):
    report: list[ImportProblemOut] = Field(..., description=f"问题清单（最多 {importing.MAX_REPORTED_PROBLEMS} 条）")


class ImportResultOut(Schema):
    detail: str
    batch: ImportBatchOut | None
    created_codes: list[str] = Field([], description="新建资源的代码（已导入时）")
    notes: list[str] = Field([], description="导入时跳过的内容（如模板的示例行）")
    errors: list[ImportProblemOut] = Field([], description="问题清单：工作表、行号、列、问题")


class ImportBatchPage(PageOut[ImportBatchOut]):
    """One page of my import batches."""


class ExportQueryIn(Schema):
    format: list[str] = Field(
        [], description="导出格式 xlsx（默认）或 csv；也可再给一个资源格式筛选值（如 database），按取值区分"
    )
    q: str = Field("", description="全文检索词（检索服务可用时生效）")
    department_code: str = ""
    category_code: str = ""
    share_type: str = ""
    open_type: str = ""
    update_cycle: str = ""
    status: str = ""


def _limited_upload(run: Callable[..., Any]) -> Callable[..., Any]:
    """Put the size limit in front of the multipart parser before authentication reads the body."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        request._import_upload_limit = importing.limit_upload(request)  # type: ignore[attr-defined]
        return run(request, *args, **kwargs)

    return wrapper


def _result(result: importing.ImportResult) -> ImportResultOut:
    shown = result.problems[: importing.MAX_REPORTED_PROBLEMS]
    if result.imported:
        detail = gettext("已导入 %(created_count)s 条信息资源（草稿）") % {"created_count": result.batch.created_count}
    else:
        detail = gettext("文件未导入：共 %(count)s 个问题，请修改后重新导入") % {"count": len(result.problems)}
    return ImportResultOut.model_validate(
        {
            "detail": detail,
            "batch": result.batch,
            "created_codes": [r.code for r in result.created],
            "notes": result.notes,
            "errors": [p.as_dict() for p in shown],
        }
    )


@router.get(
    "/import-template",
    response=ERRORS,
    auth=STAFF_READ,
    summary="下载目录导入模板（.xlsx）",
    openapi_extra={"responses": {200: {"description": "导入模板", "content": {importing.XLSX_CONTENT_TYPE: _BINARY}}}},
)
def import_template(request: HttpRequest) -> HttpResponse:
    department = acting_user(request).department
    response = HttpResponse(
        importing.template_bytes(department_code=department.code if department else ""),
        content_type=importing.XLSX_CONTENT_TYPE,
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=importing.TEMPLATE_FILE_NAME
    )
    return response


@router.post(
    "/imports",
    # 422 is the import's own report (a refused file) or the common error answer (a form field that is not valid).
    response={200: ImportResultOut, **ERRORS, 422: ImportResultOut | ErrorOut},
    auth=STAFF_WRITE,
    summary="批量导入目录（multipart 字段 file，.xlsx）",
    description=(
        "整份文件校验通过才导入（一个事务全部导入为草稿），否则一条也不导入并返回 422 与问题清单"
        "（工作表、行号、列、问题）。文件大小上限 GOVSHARE_IMPORT_MAX_BYTES（默认 20 MB），"
        "资源行数上限 GOVSHARE_IMPORT_MAX_ROWS（默认 50,000）。本人已导入过的同一文件（SHA-256 相同）"
        "答 409 并说明导入时间和批次，除非表单字段 confirm=true。"
    ),
)
@decorate_view(_limited_upload)
def import_file(
    request: HttpRequest,
    file: UploadedFile = File(None),  # noqa: B008
    confirm: bool = Form(False, description="true：即使本人已导入过同一文件也导入"),
) -> Status[ImportResultOut]:
    limit: importing.UploadSizeLimit = request._import_upload_limit  # type: ignore[attr-defined]
    user = acting_user(request)
    if limit.exceeded:
        result = importing.refuse_too_large(file_name=limit.upload_name, size=limit.size, actor=user)
    elif file is None:
        return Status(
            422, ImportResultOut(detail=gettext("请以 multipart/form-data 上传字段 file（.xlsx 文件）"), batch=None)
        )
    else:
        result = importing.import_catalog(
            file, file_name=file.name or "", actor=user, declared_size=file.size, confirm=confirm
        )
    return Status(200 if result.imported else 422, _result(result))


@router.get("/imports", response={200: ImportBatchPage, **ERRORS}, auth=STAFF_READ, summary="我的导入记录")
def list_imports(request: HttpRequest, page: int = 1, page_size: int | None = None) -> Page[ImportBatch]:
    return paginate(importing.my_batches(acting_user(request)), page, page_size)


@router.get(
    "/imports/{batch_id}",
    response={200: ImportBatchDetailOut, **ERRORS},
    auth=STAFF_READ,
    summary="导入记录与问题清单",
)
def get_import(request: HttpRequest, batch_id: int) -> ImportBatch:
    return importing.get_my_batch(acting_user(request), batch_id)


@router.get(
    "/export",
    response=ERRORS,
    auth=STAFF_READ,
    summary="导出筛选后的目录（.xlsx 或 .csv）",
    description=(
        "与浏览页相同的筛选条件；format=xlsx（默认，与导入模板列相同，可修改后再导入）或 format=csv"
        "（UTF-8 带 BOM）。只导出当前用户可见的资源；流式输出。"
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "导出文件",
                "content": {importing.XLSX_CONTENT_TYPE: _BINARY, exporting.CSV_CONTENT_TYPE: _BINARY},
            }
        }
    },
)
def export_list(request: HttpRequest, filters: Query[ExportQueryIn]) -> HttpResponseBase:
    params = {key: request.GET.getlist(key) for key in request.GET}
    return exporting.export_response(acting_user(request), params)
