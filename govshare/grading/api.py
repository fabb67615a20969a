"""The grading API: thin routes over selectors (reads) and services (writes)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.catalog import selectors as catalog_selectors
from govshare.catalog.rules import needs_security_co_approval
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.masking import masking_policy, masking_rule_for
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS
from govshare.grading import selectors, services
from govshare.grading.models import GradingChange
from govshare.grading.schemas import (
    MAX_ID,
    ApproveIn,
    GradingChangeIn,
    GradingChangeOut,
    GradingChangePage,
    ItemGradingOut,
    RejectIn,
    ResourceGradingOut,
)

router = Router(tags=["分级 grading"])


class ChangeFiltersIn(Schema):
    status: str = Field("", description="pending 待审核 / approved 已通过 / rejected 已驳回（其他值不匹配任何申请）")
    resource_id: int | None = Field(None, ge=1, le=MAX_ID)
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)


@router.get(
    "/changes",
    response={200: GradingChangePage, **ERRORS},
    auth=STAFF_READ,
    summary="分级调整申请（安全管理员看全部，部门用户看本部门的）",
)
def list_changes(request: HttpRequest, filters: Query[ChangeFiltersIn]) -> Page[GradingChange]:
    changes = selectors.change_list(acting_user(request), status=filters.status, resource_id=filters.resource_id)
    return paginate(changes, filters.page, filters.page_size)


@router.get(
    "/review-queue",
    response={200: GradingChangePage, **ERRORS},
    auth=STAFF_READ,
    summary="安全管理员待审核的分级调整申请（最早的在前）",
)
def review_queue(request: HttpRequest, page: int = 1, page_size: int | None = None) -> Page[GradingChange]:
    return paginate(selectors.review_queue(acting_user(request)), page, page_size)


@router.post(
    "/changes", response={201: GradingChangeOut, **ERRORS}, auth=STAFF_WRITE, summary="申请调整已发布资源的分级"
)
def propose_change(request: HttpRequest, payload: GradingChangeIn) -> Status[GradingChange]:
    user = acting_user(request)
    resource = catalog_selectors.get_resource(user, payload.resource_id)
    change = services.propose_grading_change(
        resource,
        item_name=payload.item_name,
        to_grade=payload.to_grade,
        to_level=payload.to_level,
        reason=payload.reason,
        actor=user,
    )
    return Status(201, selectors.get_change(user, change.pk))


@router.get(
    "/changes/{change_id}", response={200: GradingChangeOut, **ERRORS}, auth=STAFF_READ, summary="分级调整申请详情"
)
def get_change(request: HttpRequest, change_id: int) -> GradingChange:
    return selectors.get_change(acting_user(request), change_id)


@router.post(
    "/changes/{change_id}/approve",
    response={200: GradingChangeOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="安全管理员批准（分级立即生效）",
)
def approve_change(request: HttpRequest, change_id: int, payload: ApproveIn) -> GradingChange:
    user = acting_user(request)
    services.approve_grading_change(selectors.get_change(user, change_id), note=payload.note, actor=user)
    return selectors.get_change(user, change_id)


@router.post(
    "/changes/{change_id}/reject",
    response={200: GradingChangeOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="安全管理员驳回（须填写理由）",
)
def reject_change(request: HttpRequest, change_id: int, payload: RejectIn) -> GradingChange:
    user = acting_user(request)
    services.reject_grading_change(selectors.get_change(user, change_id), reason=payload.reason, actor=user)
    return selectors.get_change(user, change_id)


@router.get(
    "/resources/{resource_id}",
    response={200: ResourceGradingOut, **ERRORS},
    auth=STAFF_READ,
    summary="资源的分级、是否须安全管理员会签，以及各信息项的脱敏规则",
)
def resource_grading(request: HttpRequest, resource_id: int) -> ResourceGradingOut:
    resource = catalog_selectors.get_resource(acting_user(request), resource_id)
    items = list(resource.items.all())
    policy = masking_policy()
    return ResourceGradingOut.model_validate(
        {
            "resource_id": resource.pk,
            "code": resource.code,
            "grade": resource.grade,
            "data_level": resource.data_level,
            "open_type": resource.open_type,
            "needs_security_co_approval": needs_security_co_approval(resource, items),
            "items": [
                ItemGradingOut.model_validate(
                    {
                        "name": item.name,
                        "grade": item.grade,
                        "data_level": item.data_level,
                        "open_type": item.open_type,
                        "masking_rule": masking_rule_for(item, policy),
                    }
                )
                for item in items
            ],
        }
    )
