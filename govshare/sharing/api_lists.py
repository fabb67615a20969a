"""The three lists over the API: demands (需求清单), duties (责任清单) and the negative list (负面清单), each browsable,
exportable to .xlsx and importable from it. Thin routes over govshare.sharing.demands, duties, negative and
lists_io; every route declares its auth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext
from ninja import File, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.catalog import importing
from govshare.catalog.models import Resource
from govshare.catalog.selectors import get_resource
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS, ErrorOut
from govshare.core.schemas import Page as PageOut
from govshare.sharing import demands, duties, lists_io, negative
from govshare.sharing.list_files import (
    MAX_REPORTED_PROBLEMS,
    XLSX_CONTENT_TYPE,
    ListImportResult,
    refuse_too_large,
    xlsx_response,
)
from govshare.sharing.models import Demand, Duty

router = Router(tags=["共享清单 sharing lists"])
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_XLSX = {"responses": {200: {"description": ".xlsx 文件", "content": {XLSX_CONTENT_TYPE: _BINARY}}}}


# ---------------------------------------------------------------------------------------------- schemas


class DemandIn(Schema):
    title: str = Field(..., description="需求名称（本部门内唯一）")
    description: str = Field(..., description="需求描述：需要哪些数据、用于什么业务")
    needed_items: list[str] = Field([], description="所需信息项名称")
    provider_code: str = Field("", description="提供部门代码；不清楚可不填")
    scenario_id: int | None = Field(None, description="本部门的应用场景")

    def to_input(self) -> demands.DemandInput:
        return demands.DemandInput(**self.model_dump())


class DemandOut(Schema):
    id: int
    title: str
    description: str
    needed_items: list[str]
    department_code: str
    department_name: str
    provider_code: str | None
    provider_name: str | None
    scenario_id: int | None
    status: str = Field(..., description="open 待响应 / answered 已对接资源 / catalogue 已请求编目 / closed 已关闭")
    resource_code: str | None = Field(None, description="对接的已发布资源代码（可据此申请共享）")
    resource_id: int | None
    answer_note: str
    answered_at: dt.datetime | None
    created_at: dt.datetime


class DemandPage(PageOut[DemandOut]):
    """One page of the demand list."""


class AnswerIn(Schema):
    resource_id: int = Field(..., description="已发布的信息资源")
    note: str = ""


class AskCatalogueIn(Schema):
    note: str = ""
    provider_code: str = Field("", description="需求未指定提供部门时，由共享协调员指定")


class ReasonIn(Schema):
    reason: str = ""


class DutyIn(Schema):
    department_code: str
    name: str
    legal_basis: str
    description: str = ""
    resource_code: str = ""

    def to_input(self) -> duties.DutyInput:
        return duties.DutyInput(**self.model_dump())


class FulfilIn(Schema):
    resource_code: str = Field("", description="履行该责任的本部门目录资源代码；空白表示取消关联")


class DutyOut(Schema):
    id: int
    department_code: str
    department_name: str
    name: str
    description: str
    legal_basis: str
    resource_code: str | None
    met: bool = Field(..., description="已关联已发布的目录资源")


class DutyPage(PageOut[DutyOut]):
    """One page of the duty list."""


class NegativeOut(Schema):
    resource_id: int
    code: str
    name: str
    department_code: str
    department_name: str
    share_basis: str = Field(..., description="不予共享依据")


class NegativePage(PageOut[NegativeOut]):
    """One page of the negative list."""


class ListProblemOut(Schema):
    sheet: str
    row: int | None
    column: str
    header: str
    field: str
    message: str


class FollowUpOut(Schema):
    text: str
    link: str


class ListImportOut(Schema):
    detail: str
    rows: int
    created: int
    updated: int
    unchanged: int
    follow_up: list[FollowUpOut] = Field([], description="需要后续处理的事项（如待提交的变更申请）")
    errors: list[ListProblemOut] = Field([], description="问题清单：工作表、行号、列、问题")


# ---------------------------------------------------------------------------------------------- helpers


def _demand_out(demand: Demand) -> dict[str, Any]:
    return {
        "id": demand.pk,
        "title": demand.title,
        "description": demand.description,
        "needed_items": demand.needed_items,
        "department_code": demand.department.code,
        "department_name": demand.department.name,
        "provider_code": demand.provider.code if demand.provider else None,
        "provider_name": demand.provider.name if demand.provider else None,
        "scenario_id": demand.scenario_id,
        "status": demand.status,
        "resource_code": demand.resource.code if demand.resource else None,
        "resource_id": demand.resource_id,
        "answer_note": demand.answer_note,
        "answered_at": demand.answered_at,
        "created_at": demand.created_at,
    }


def _duty_out(duty: Duty) -> dict[str, Any]:
    return {
        "id": duty.pk,
        "department_code": duty.department.code,
        "department_name": duty.department.name,
        "name": duty.name,
        "description": duty.description,
        "legal_basis": duty.legal_basis,
        "resource_code": duty.resource.code if duty.resource else None,
        "met": duties.is_met(duty),
    }


def _negative_out(resource: Resource) -> dict[str, Any]:
    return {
        "resource_id": resource.pk,
        "code": resource.code,
        "name": resource.name,
        "department_code": resource.department.code,
        "department_name": resource.department.name,
        "share_basis": resource.share_basis,
    }


def _page(page: Page[Any], convert: Any) -> dict[str, Any]:
    return {
        "items": [convert(x) for x in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
    }


def import_out(result: ListImportResult) -> ListImportOut:
    outcome = result.outcome
    if result.imported:
        detail = gettext("已导入%(list)s：新建 %(created)s 条，修改 %(updated)s 条，未变 %(unchanged)s 条") % {
            "list": gettext(result.layout.name),
            "created": outcome.created,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
        }
    else:
        detail = gettext("文件未导入：共 %(count)s 个问题，请修改后重新导入") % {"count": len(result.problems)}
    return ListImportOut(
        detail=detail,
        rows=result.rows,
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        follow_up=[FollowUpOut(text=text, link=link) for text, link in outcome.follow_up],
        errors=[ListProblemOut(**p.as_dict()) for p in result.problems[:MAX_REPORTED_PROBLEMS]],  # type: ignore[arg-type]
    )


def _limited_upload(run: Callable[..., Any]) -> Callable[..., Any]:
    """Put the size limit in front of the multipart parser before authentication reads the body (as the
    catalogue import does)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        request._import_upload_limit = importing.limit_upload(request)  # type: ignore[attr-defined]
        return run(request, *args, **kwargs)

    return wrapper


def _import(request: HttpRequest, key: str, file: UploadedFile | None) -> Status[ListImportOut]:
    limit: importing.UploadSizeLimit = request._import_upload_limit  # type: ignore[attr-defined]
    if limit.exceeded:
        layout = lists_io.LAYOUTS[key]
        result = refuse_too_large(layout, file_name=limit.upload_name, size=limit.size, actor=acting_user(request))
        return Status(422, import_out(result))
    if file is None:
        detail = gettext("请以 multipart/form-data 上传字段 file（.xlsx 文件）")
        return Status(
            422, ListImportOut(detail=detail, rows=0, created=0, updated=0, unchanged=0, follow_up=[], errors=[])
        )
    result = lists_io.IMPORTERS[key](file, file_name=file.name or "", actor=acting_user(request))
    return Status(200 if result.imported else 422, import_out(result))


# ---------------------------------------------------------------------------------------------- demands


class DemandQuery(Schema):
    status: str = ""
    department_code: str = ""
    provider_code: str = ""
    scenario_id: int | None = None
    q: str = ""
    side: str = Field("", description="own 本部门提出的 / received 向本部门提出的 / 空：全部可见")

    def filters(self) -> demands.DemandFilters:
        return demands.DemandFilters(**self.model_dump())


@router.get("/demands", response={200: DemandPage, **ERRORS}, auth=STAFF_READ, summary="需求清单")
def list_demands(
    request: HttpRequest, query: Query[DemandQuery], page: int = 1, page_size: int | None = None
) -> dict[str, Any]:
    return _page(paginate(demands.demands_for(acting_user(request), query.filters()), page, page_size), _demand_out)


@router.get("/demands/export", response=ERRORS, auth=STAFF_READ, summary="导出需求清单（.xlsx）", openapi_extra=_XLSX)
def export_demands(request: HttpRequest, query: Query[DemandQuery]) -> HttpResponseBase:
    queryset = demands.demands_for(acting_user(request), query.filters())
    return xlsx_response(lists_io.DEMAND_LAYOUT, lists_io.demand_rows(queryset))


@router.post(
    "/demands/import",
    response={**ERRORS, 200: ListImportOut, 422: ListImportOut | ErrorOut},
    auth=STAFF_WRITE,
    summary="导入需求清单（multipart 字段 file，.xlsx）",
    description="整份文件校验通过才导入，否则不做任何修改并返回 422 与问题清单（工作表、行号、列、问题）。",
)
@decorate_view(_limited_upload)
def import_demands(request: HttpRequest, file: UploadedFile = File(None)) -> Status[ListImportOut]:  # noqa: B008
    return _import(request, "demands", file)


@router.post("/demands", response={201: DemandOut, **ERRORS}, auth=STAFF_WRITE, summary="登记需求（本部门）")
def create_demand(request: HttpRequest, payload: DemandIn) -> Status[dict[str, Any]]:
    demand = demands.create_demand(payload.to_input(), actor=acting_user(request))
    return Status(201, _demand_out(demand))


@router.get("/demands/{demand_id}", response={200: DemandOut, **ERRORS}, auth=STAFF_READ, summary="需求详情")
def get_demand(request: HttpRequest, demand_id: int) -> dict[str, Any]:
    return _demand_out(demands.get_demand(acting_user(request), demand_id))


@router.put("/demands/{demand_id}", response={200: DemandOut, **ERRORS}, auth=STAFF_WRITE, summary="修改需求")
def update_demand(request: HttpRequest, demand_id: int, payload: DemandIn) -> dict[str, Any]:
    user = acting_user(request)
    demands.update_demand(demands.get_demand(user, demand_id), payload.to_input(), actor=user)
    return _demand_out(demands.get_demand(user, demand_id))


@router.post(
    "/demands/{demand_id}/answer",
    response={200: DemandOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="以已发布资源答复需求",
)
def answer_demand(request: HttpRequest, demand_id: int, payload: AnswerIn) -> dict[str, Any]:
    user = acting_user(request)
    demand = demands.get_demand(user, demand_id)
    demands.answer_demand(demand, resource=get_resource(user, payload.resource_id), note=payload.note, actor=user)
    return _demand_out(demands.get_demand(user, demand_id))


@router.post(
    "/demands/{demand_id}/ask-catalogue",
    response={200: DemandOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="请求提供部门编目（通知其目录管理员）",
)
def ask_catalogue(request: HttpRequest, demand_id: int, payload: AskCatalogueIn) -> dict[str, Any]:
    user = acting_user(request)
    demand = demands.get_demand(user, demand_id)
    demands.ask_to_catalogue(demand, note=payload.note, provider_code=payload.provider_code, actor=user)
    return _demand_out(demands.get_demand(user, demand_id))


@router.post("/demands/{demand_id}/close", response={200: DemandOut, **ERRORS}, auth=STAFF_WRITE, summary="关闭需求")
def close_demand(request: HttpRequest, demand_id: int, payload: ReasonIn) -> dict[str, Any]:
    user = acting_user(request)
    demands.close_demand(demands.get_demand(user, demand_id), reason=payload.reason, actor=user)
    return _demand_out(demands.get_demand(user, demand_id))


# ---------------------------------------------------------------------------------------------- duties


class DutyQuery(Schema):
    department_code: str = ""
    unmet: bool = Field(False, description="只列未满足的责任（没有关联已发布的目录资源）")
    q: str = ""

    def filters(self) -> duties.DutyFilters:
        return duties.DutyFilters(**self.model_dump())


@router.get("/duties", response={200: DutyPage, **ERRORS}, auth=STAFF_READ, summary="责任清单")
def list_duties(
    request: HttpRequest, query: Query[DutyQuery], page: int = 1, page_size: int | None = None
) -> dict[str, Any]:
    return _page(paginate(duties.duties_for(acting_user(request), query.filters()), page, page_size), _duty_out)


@router.get("/duties/export", response=ERRORS, auth=STAFF_READ, summary="导出责任清单（.xlsx）", openapi_extra=_XLSX)
def export_duties(request: HttpRequest, query: Query[DutyQuery]) -> HttpResponseBase:
    queryset = duties.duties_for(acting_user(request), query.filters())
    return xlsx_response(lists_io.DUTY_LAYOUT, lists_io.duty_rows(queryset))


@router.post(
    "/duties/import",
    response={**ERRORS, 200: ListImportOut, 422: ListImportOut | ErrorOut},
    auth=STAFF_WRITE,
    summary="导入责任清单（共享协调员、平台管理员）",
)
@decorate_view(_limited_upload)
def import_duties(request: HttpRequest, file: UploadedFile = File(None)) -> Status[ListImportOut]:  # noqa: B008
    return _import(request, "duties", file)


@router.post("/duties", response={201: DutyOut, **ERRORS}, auth=STAFF_WRITE, summary="设定部门责任")
def create_duty(request: HttpRequest, payload: DutyIn) -> Status[dict[str, Any]]:
    return Status(201, _duty_out(duties.create_duty(payload.to_input(), actor=acting_user(request))))


@router.get("/duties/{duty_id}", response={200: DutyOut, **ERRORS}, auth=STAFF_READ, summary="责任详情")
def get_duty(request: HttpRequest, duty_id: int) -> dict[str, Any]:
    return _duty_out(duties.get_duty(acting_user(request), duty_id))


@router.put("/duties/{duty_id}", response={200: DutyOut, **ERRORS}, auth=STAFF_WRITE, summary="修改责任")
def update_duty(request: HttpRequest, duty_id: int, payload: DutyIn) -> dict[str, Any]:
    user = acting_user(request)
    duties.update_duty(duties.get_duty(user, duty_id), payload.to_input(), actor=user)
    return _duty_out(duties.get_duty(user, duty_id))


@router.delete("/duties/{duty_id}", response={204: None, **ERRORS}, auth=STAFF_WRITE, summary="删除责任")
def delete_duty(request: HttpRequest, duty_id: int) -> Status[None]:
    user = acting_user(request)
    duties.delete_duty(duties.get_duty(user, duty_id), actor=user)
    return Status(204, None)


@router.post(
    "/duties/{duty_id}/fulfil", response={200: DutyOut, **ERRORS}, auth=STAFF_WRITE, summary="关联履责的目录资源"
)
def fulfil_duty(request: HttpRequest, duty_id: int, payload: FulfilIn) -> dict[str, Any]:
    user = acting_user(request)
    duties.fulfil_duty(duties.get_duty(user, duty_id), resource_code=payload.resource_code, actor=user)
    return _duty_out(duties.get_duty(user, duty_id))


# ---------------------------------------------------------------------------------------------- negative list


class NegativeQuery(Schema):
    department_code: str = ""
    q: str = ""

    def filters(self) -> negative.NegativeFilters:
        return negative.NegativeFilters(**self.model_dump())


@router.get(
    "/negative-list",
    response={200: NegativePage, **ERRORS},
    auth=STAFF_READ,
    summary="负面清单（目录中已发布的不予共享资源及其依据）",
)
def list_negative(
    request: HttpRequest, query: Query[NegativeQuery], page: int = 1, page_size: int | None = None
) -> dict[str, Any]:
    return _page(
        paginate(negative.negative_list(acting_user(request), query.filters()), page, page_size), _negative_out
    )


@router.get(
    "/negative-list/export", response=ERRORS, auth=STAFF_READ, summary="导出负面清单（.xlsx）", openapi_extra=_XLSX
)
def export_negative(request: HttpRequest, query: Query[NegativeQuery]) -> HttpResponseBase:
    queryset = negative.negative_list(acting_user(request), query.filters())
    return xlsx_response(lists_io.NEGATIVE_LAYOUT, lists_io.negative_rows(queryset))


@router.post(
    "/negative-list/import",
    response={**ERRORS, 200: ListImportOut, 422: ListImportOut | ErrorOut},
    auth=STAFF_WRITE,
    summary="导入负面清单（改变共享属性的行生成目录变更申请，不直接修改资源）",
)
@decorate_view(_limited_upload)
def import_negative(request: HttpRequest, file: UploadedFile = File(None)) -> Status[ListImportOut]:  # noqa: B008
    return _import(request, "negative", file)
