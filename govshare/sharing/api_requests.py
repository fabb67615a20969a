"""Share requests (共享申请) over the API: thin routes over the services and reads of sharing/requests.py.

The applicant fills its cart and submits it; each line then goes to whoever decides its current stage; a refusal
or a partial approval may be disputed once and the coordinator arbitrates. A request or a line outside the
caller's scope answers 404; one it sees but may not act on, 403; a line already decided or past the stage the
caller was looking at, 409."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.decorators import decorate_view

from govshare.accounts.acting import acting_user
from govshare.accounts.models import User
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.authz import restrict
from govshare.core.errors import NotFound
from govshare.core.nostore import no_store
from govshare.core.pagination import clamp_paging, paginate
from govshare.core.schemas import ERRORS
from govshare.datasets import scopes
from govshare.sharing import requests
from govshare.sharing.access_requests import may_decide, stage_reviewer
from govshare.sharing.models import ReviewStage, ShareRequest, ShareRequestLine
from govshare.sharing.schemas_requests import (
    AddLineIn,
    ApproveIn,
    ArbitrateIn,
    DisputeIn,
    LinePage,
    OverdueOut,
    PassIn,
    RefuseIn,
    RequestDetailOut,
    RequestFiltersIn,
    RequestPage,
    RequestUpdateIn,
    StageIn,
    StageOut,
    WithdrawIn,
)

router = Router(tags=["共享申请 requests"])

_LINE_RELATED = ("request", "request__department", "resource", "resource__department", "decided_by")


def _name(user: User | None) -> str:
    return (user.full_name or user.username) if user is not None else ""


def line_out(line: ShareRequestLine, user: User, today: dt.date) -> dict[str, Any]:
    stage = line.stage or {}
    return {
        "id": line.pk,
        "request_id": line.request_id,
        "request_number": line.request.number,
        "applicant_department_name": line.request.department.name,
        "resource_id": line.resource_id,
        "resource_code": line.resource.code,
        "resource_name": line.resource.name,
        "provider_name": line.resource.department.name,
        "items": list(line.items),
        "delivery_method": line.delivery_method,
        "status": line.status,
        "stages": [
            {"name": s.get("name", ""), "reviewer": s.get("reviewer"), "working_days": s.get("days", 0)}
            for s in line.stages
        ],
        "stage_index": line.stage_index,
        "stage_name": str(stage.get("name", "")),
        "stage_reviewer": stage_reviewer(line),
        "due_on": line.due_on,
        "deadline_problem": line.deadline_problem,
        "urgency": requests.urgency(line, today),
        "escalated": line.escalated_at is not None,
        "may_decide": may_decide(user, line),
        "approved_items": list(line.approved_items),
        "conditions": line.conditions,
        "refusal_reason": line.refusal_reason,
        "decided_by_name": _name(line.decided_by),
        "decided_at": line.decided_at,
        "grant_id": line.grant_id,
        "dispute_reason": line.dispute_reason,
        "disputed_at": line.disputed_at,
        "arbitration_note": line.arbitration_note,
        "arbitrated_at": line.arbitrated_at,
    }


def request_out(share_request: ShareRequest) -> dict[str, Any]:
    return {
        "id": share_request.pk,
        "number": share_request.number,
        "department_id": share_request.department_id,
        "department_name": share_request.department.name,
        "scenario_id": share_request.scenario_id,
        "scenario_name": share_request.scenario.name if share_request.scenario else "",
        "system_id": share_request.system_id,
        "system_name": share_request.system.name if share_request.system else "",
        "purpose": share_request.purpose,
        "valid_from": share_request.valid_from,
        "valid_until": share_request.valid_until,
        "status": share_request.status,
        "created_by_name": _name(share_request.created_by),
        "created_at": share_request.created_at,
        "submitted_at": share_request.submitted_at,
        "closed_at": share_request.closed_at,
    }


def detail_out(user: User, request_id: int) -> dict[str, Any]:
    """The request as the user sees it now: its visible lines and its whole history."""
    share_request = requests.get_request(user, request_id)
    today = scopes.clock()
    return {
        **request_out(share_request),
        "lines": [line_out(line, user, today) for line in requests.visible_lines(user, share_request)],
        "history": [
            {
                "action": event.action,
                "line_id": event.line_id,
                "resource_name": event.line.resource.name if event.line else "",
                "actor_name": event.actor_name,
                "at": event.at,
                "note": event.note,
                "changes": event.changes,
            }
            for event in requests.history(share_request)
        ],
    }


def _line(user: User, line_id: int) -> ShareRequestLine:
    """A line the user may see, or 404 (the same answer whether it is missing or someone else's)."""
    line = restrict(ShareRequestLine.objects.filter(pk=line_id), user).select_related(*_LINE_RELATED).first()
    if line is None:
        raise NotFound(requests.LINE_NOT_FOUND)
    return line


def _page_of(lines: Sequence[ShareRequestLine], user: User, page: int, page_size: int | None) -> dict[str, Any]:
    number, size = clamp_paging(page, page_size)
    today = scopes.clock()
    start = (number - 1) * size
    return {
        "items": [line_out(line, user, today) for line in lines[start : start + size]],
        "total": len(lines),
        "page": number,
        "page_size": size,
    }


def _stages() -> list[dict[str, Any]]:
    return [
        {"name": stage.name, "reviewer": stage.reviewer, "working_days": stage.working_days}
        for stage in ReviewStage.objects.filter(is_active=True).order_by("position")
    ]


# ------------------------------------------------------------------------------------------ reads


@router.get(
    "/requests",
    response={200: RequestPage, **ERRORS},
    auth=STAFF_READ,
    summary="本人可见的共享申请（mine 本部门提出的，provider 申请本部门数据的），最新的在前",
)
@decorate_view(no_store)
def list_requests(request: HttpRequest, filters: Query[RequestFiltersIn]) -> dict[str, Any]:
    user = acting_user(request)
    page = paginate(requests.requests_for(user, side=filters.side), filters.page, filters.page_size)
    return {
        "items": [request_out(share_request) for share_request in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
    }


@router.get(
    "/requests/cart",
    response={200: RequestDetailOut | None, **ERRORS},
    auth=STAFF_READ,
    summary="本人的申请车（待提交的申请）；没有时为 null",
)
@decorate_view(no_store)
def get_cart(request: HttpRequest) -> dict[str, Any] | None:
    user = acting_user(request)
    cart = requests.cart_of(user)
    return detail_out(user, cart.pk) if cart is not None else None


@router.get(
    "/requests/review-queue",
    response={200: LinePage, **ERRORS},
    auth=STAFF_READ,
    summary="本人当前可办理的申请明细：期限无法计算的在前，其余按办理期限",
)
@decorate_view(no_store)
def review_queue(request: HttpRequest, page: int = 1, page_size: int | None = None) -> dict[str, Any]:
    user = acting_user(request)
    return _page_of(requests.review_queue(user), user, page, page_size)


@router.get(
    "/requests/overdue",
    response={200: OverdueOut, **ERRORS},
    auth=STAFF_READ,
    summary="逾期督办与待仲裁的异议（共享协调员、平台管理员、审计员；其他人为空）",
)
@decorate_view(no_store)
def overdue(request: HttpRequest) -> dict[str, Any]:
    user = acting_user(request)
    today = scopes.clock()
    return {
        "overdue": [line_out(line, user, today) for line in requests.overdue_lines(user, today)],
        "disputed": [line_out(line, user, today) for line in requests.disputed_lines(user)],
    }


@router.get(
    "/requests/stages",
    response={200: list[StageOut], **ERRORS},
    auth=STAFF_READ,
    summary="新提交的有条件共享申请将经过的审核环节",
)
def list_stages(request: HttpRequest) -> list[dict[str, Any]]:
    acting_user(request)
    return _stages()


@router.get(
    "/requests/{request_id}",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_READ,
    summary="一项共享申请：本人可见的明细（含办理期限）和办理记录",
)
@decorate_view(no_store)
def get_request(request: HttpRequest, request_id: int) -> dict[str, Any]:
    return detail_out(acting_user(request), request_id)


# ------------------------------------------------------------------------------------------ the applicant


@router.post(
    "/requests/cart/lines",
    response={201: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="把已发布的资源加入申请车（数据使用人员；同一资源再次加入即替换其信息项）",
)
def add_line(request: HttpRequest, payload: AddLineIn) -> Status:
    user = acting_user(request)
    line = requests.add_to_request(
        user, payload.resource_id, items=payload.items, delivery_method=payload.delivery_method
    )
    return Status(201, detail_out(user, line.request_id))


@router.delete(
    "/requests/cart/lines/{line_id}",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="从申请车移出一个资源（提交前）",
)
def remove_line(request: HttpRequest, line_id: int) -> dict[str, Any]:
    user = acting_user(request)
    line = _line(user, line_id)
    requests.remove_line(user, line)
    return detail_out(user, line.request_id)


@router.put(
    "/requests/{request_id}",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="填写申请：应用场景、接入系统、用途、起止日期，及各明细的信息项和交付方式（提交前）",
)
def update_request(request: HttpRequest, request_id: int, payload: RequestUpdateIn) -> dict[str, Any]:
    user = acting_user(request)
    data = requests.RequestInput(
        scenario_id=payload.scenario_id,
        system_id=payload.system_id,
        purpose=payload.purpose,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        lines={
            line.id: requests.LineInput(items=line.items, delivery_method=line.delivery_method)
            for line in payload.lines
        },
    )
    requests.update_request(user, requests.get_request(user, request_id), data)
    return detail_out(user, request_id)


@router.post(
    "/requests/{request_id}/submit",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="提交申请：无条件共享的资源即时授权，有条件共享的进入审核环节",
)
def submit_request(request: HttpRequest, request_id: int) -> dict[str, Any]:
    user = acting_user(request)
    requests.submit_request(user, requests.get_request(user, request_id))
    return detail_out(user, request_id)


@router.post(
    "/requests/{request_id}/withdraw",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="撤回申请（审核中的明细停止办理，已作出的决定和授权不变）",
)
def withdraw_request(request: HttpRequest, request_id: int, payload: WithdrawIn) -> dict[str, Any]:
    user = acting_user(request)
    requests.withdraw_request(user, requests.get_request(user, request_id), reason=payload.reason)
    return detail_out(user, request_id)


@router.post(
    "/requests/lines/{line_id}/dispute",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="对拒绝或部分同意提出异议（申请部门，每项决定一次；由共享协调员仲裁）",
)
def dispute_line(request: HttpRequest, line_id: int, payload: DisputeIn) -> dict[str, Any]:
    user = acting_user(request)
    line = requests.dispute_line(user, _line(user, line_id), reason=payload.reason)
    return detail_out(user, line.request_id)


# ------------------------------------------------------------------------------------------ the deciders


@router.post(
    "/requests/lines/{line_id}/pass",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="通过前置环节（如共享协调员的合规审查），进入下一环节",
)
def pass_stage(request: HttpRequest, line_id: int, payload: PassIn) -> dict[str, Any]:
    user = acting_user(request)
    line = requests.pass_stage(user, _line(user, line_id), note=payload.note, stage_index=payload.stage_index)
    return detail_out(user, line.request_id)


@router.post(
    "/requests/lines/{line_id}/approve",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="同意全部或部分信息项并签发共享授权（提供部门审核员；逾期督办后共享协调员亦可）",
)
def approve_line(request: HttpRequest, line_id: int, payload: ApproveIn) -> dict[str, Any]:
    user = acting_user(request)
    decision = requests.Decision(
        items=payload.items,
        reason=payload.reason,
        conditions=payload.conditions,
        masking=payload.masking,
        row_filter=payload.row_filter,
        daily_quota=payload.daily_quota,
        valid_until=payload.valid_until,
        review_interval_days=payload.review_interval_days,
    )
    line = requests.approve_line(user, _line(user, line_id), decision, stage_index=payload.stage_index)
    return detail_out(user, line.request_id)


@router.post(
    "/requests/lines/{line_id}/refuse",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="拒绝（须填写理由，申请部门可见）",
)
def refuse_line(request: HttpRequest, line_id: int, payload: RefuseIn) -> dict[str, Any]:
    user = acting_user(request)
    line = requests.refuse_line(user, _line(user, line_id), reason=payload.reason, stage_index=payload.stage_index)
    return detail_out(user, line.request_id)


@router.post(
    "/requests/lines/{line_id}/arbitrate",
    response={200: RequestDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="仲裁异议（共享协调员，不能仲裁本人作出的决定）：维持原决定或改为同意",
)
def arbitrate_line(request: HttpRequest, line_id: int, payload: ArbitrateIn) -> dict[str, Any]:
    user = acting_user(request)
    line = requests.arbitrate_line(
        user, _line(user, line_id), uphold=payload.uphold, note=payload.note, items=payload.items
    )
    return detail_out(user, line.request_id)


@router.put(
    "/requests/stages",
    response={200: list[StageOut], **ERRORS},
    auth=STAFF_WRITE,
    summary="设置审核环节（共享协调员；最后一个须为提供部门审核；已提交的申请沿用原环节）",
)
def set_stages(request: HttpRequest, payload: list[StageIn]) -> list[dict[str, Any]]:
    user = acting_user(request)
    stages = [requests.StageInput(name=s.name, reviewer=s.reviewer, working_days=s.working_days) for s in payload]
    requests.set_review_stages(user, stages)
    return _stages()
