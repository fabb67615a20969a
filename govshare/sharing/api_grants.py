"""Grants over the API: the grants that concern the caller (held by its department, on its department's data, or
all for the coordinator, the platform administrator and the auditor), one grant, issuing, revoking and the
provider's access review."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.decorators import decorate_view

from govshare.accounts.acting import acting_user
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.nostore import no_store
from govshare.core.pagination import paginate
from govshare.core.schemas import ERRORS
from govshare.datasets import scopes
from govshare.sharing import grants
from govshare.sharing.models import Grant
from govshare.sharing.schemas_grants import ConfirmIn, GrantFiltersIn, GrantIn, GrantOut, GrantPage, RevokeIn

router = Router(tags=["共享授权 grants"])


def grant_out(grant: Grant) -> dict[str, Any]:
    return {
        "id": grant.pk,
        "department_id": grant.department_id,
        "department_name": grant.department.name,
        "scenario_id": grant.scenario_id,
        "scenario_name": grant.scenario.name,
        "systems": [system.name for system in grant.scenario.systems.all()],
        "resource_id": grant.resource_id,
        "resource_code": grant.resource.code,
        "resource_name": grant.resource.name,
        "provider_name": grant.resource.department.name,
        "items": grant.items,
        "row_filter": grant.row_filter,
        "masking": grant.masking,
        "delivery_method": grant.delivery_method,
        "daily_quota": grant.daily_quota,
        "valid_from": grant.valid_from,
        "valid_until": grant.valid_until,
        "review_interval_days": grant.review_interval_days,
        "last_confirmed_on": grant.last_confirmed_on,
        "status": grant.status,
        "conditions": grant.conditions,
        "source_note": grant.source_note,
        "revoke_reason": grant.revoke_reason,
        "revoked_at": grant.revoked_at,
        "created_at": grant.created_at,
        **grants.as_row(grant, scopes.clock()),
    }


@router.get("/grants", response={200: GrantPage, **ERRORS}, auth=STAFF_READ, summary="与我相关的共享授权")
@decorate_view(no_store)
def list_grants(request: HttpRequest, filters: Query[GrantFiltersIn]) -> dict[str, Any]:
    user = acting_user(request)
    page = paginate(
        grants.grants_for(user, side=filters.side).prefetch_related("scenario__systems"),
        filters.page,
        filters.page_size,
    )
    return {
        "items": [grant_out(grant) for grant in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
    }


@router.get("/grants/{grant_id}", response={200: GrantOut, **ERRORS}, auth=STAFF_READ, summary="一项共享授权")
@decorate_view(no_store)
def get_grant(request: HttpRequest, grant_id: int) -> dict[str, Any]:
    return grant_out(grants.get_grant(acting_user(request), grant_id))


@router.post(
    "/grants",
    response={201: GrantOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="授权（提供部门的部门审核员或共享协调员）",
)
def issue_grant(request: HttpRequest, body: GrantIn) -> Status:
    data = grants.GrantInput(
        department_id=body.department_id,
        scenario_id=body.scenario_id,
        resource_id=body.resource_id,
        items=body.items,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        row_filter=body.row_filter,
        masking=body.masking,
        delivery_method=body.delivery_method,
        daily_quota=body.daily_quota,
        review_interval_days=body.review_interval_days,
        conditions=body.conditions,
    )
    grant = grants.issue_grant(data, actor=acting_user(request), source_note=body.source_note)
    return Status(201, grant_out(grants.get_grant(acting_user(request), grant.pk)))


@router.post(
    "/grants/{grant_id}/revoke",
    response={200: GrantOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="撤销授权（提供部门的部门审核员或共享协调员；须填理由，下一次访问即被拒绝）",
)
def revoke_grant(request: HttpRequest, grant_id: int, body: RevokeIn) -> dict[str, Any]:
    user = acting_user(request)
    grants.revoke_grant(grants.get_grant(user, grant_id), actor=user, reason=body.reason)
    return grant_out(grants.get_grant(user, grant_id))


@router.post(
    "/grants/{grant_id}/confirm",
    response={200: GrantOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="复核确认授权（提供部门的部门审核员；逾期未复核的授权失效）",
)
def confirm_grant(request: HttpRequest, grant_id: int, body: ConfirmIn) -> dict[str, Any]:
    user = acting_user(request)
    grants.confirm_grant(grants.get_grant(user, grant_id), actor=user, note=body.note)
    return grant_out(grants.get_grant(user, grant_id))
