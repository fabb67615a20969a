"""The change-request (变更) API of published entries: thin routes over selectors and govshare.catalog.revisions.
Every route is keyed by the entry (it has at most one open change request)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from govshare.accounts.acting import acting_user
from govshare.accounts.models import User
from govshare.catalog import revisions, selectors
from govshare.catalog.models import Resource, ResourceRevision
from govshare.catalog.schemas import (
    NoteIn,
    ReasonIn,
    ResourceIn,
    ResourceOut,
    RevisionOut,
    RevisionPage,
    WithdrawRevisionIn,
)
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS

router = Router(tags=["目录 catalog"])


def revision_out(revision: ResourceRevision) -> dict[str, Any]:
    return {
        **{name: getattr(revision, name) for name in RevisionOut.model_fields if hasattr(revision, name)},
        "changes": revisions.revision_changes(revision),
        "effects": revisions.revision_effects(revision),
    }


def _current(user: User, resource_id: int) -> dict[str, Any]:
    return revision_out(selectors.get_open_revision(user, resource_id))


@router.get(
    "/resources/{resource_id}/revision",
    response={200: RevisionOut, **ERRORS},
    auth=STAFF_READ,
    summary="进行中的变更申请（与已发布版本的差异及影响）",
)
def get_revision(request: HttpRequest, resource_id: int) -> dict[str, Any]:
    return _current(acting_user(request), resource_id)


@router.put(
    "/resources/{resource_id}/revision",
    response={200: RevisionOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="保存变更申请（已发布资源的修改，审核通过前已发布版本不变）",
)
def save_revision(request: HttpRequest, resource_id: int, payload: ResourceIn) -> dict[str, Any]:
    user = acting_user(request)
    resource = selectors.get_resource(user, resource_id)
    revisions.save_revision(resource, payload.to_draft(resource.department.code), actor=user)
    return _current(user, resource_id)


@router.post(
    "/resources/{resource_id}/revision/submit",
    response={200: RevisionOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="提交变更申请",
)
def submit_revision(request: HttpRequest, resource_id: int) -> dict[str, Any]:
    user = acting_user(request)
    revisions.submit_revision(selectors.get_resource(user, resource_id), actor=user)
    return _current(user, resource_id)


@router.post(
    "/resources/{resource_id}/revision/withdraw",
    response={200: None, **ERRORS},
    auth=STAFF_WRITE,
    summary="撤回变更申请",
)
def withdraw_revision(request: HttpRequest, resource_id: int, payload: WithdrawRevisionIn) -> None:
    user = acting_user(request)
    revisions.withdraw_revision(selectors.get_resource(user, resource_id), reason=payload.reason, actor=user)


@router.post(
    "/resources/{resource_id}/revision/approve",
    response={200: ResourceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="变更申请审核通过（替换已发布版本）",
)
def approve_revision(request: HttpRequest, resource_id: int, payload: NoteIn) -> Resource:
    user = acting_user(request)
    revisions.approve_revision(selectors.get_resource(user, resource_id), note=payload.note, actor=user)
    return selectors.get_resource(user, resource_id)


@router.post(
    "/resources/{resource_id}/revision/reject",
    response={200: RevisionOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="驳回变更申请（须填写理由，已发布版本不变）",
)
def reject_revision(request: HttpRequest, resource_id: int, payload: ReasonIn) -> dict[str, Any]:
    user = acting_user(request)
    revisions.reject_revision(selectors.get_resource(user, resource_id), reason=payload.reason, actor=user)
    return _current(user, resource_id)


@router.get("/revision-queue", response={200: RevisionPage, **ERRORS}, auth=STAFF_READ, summary="待审核的变更申请")
def revision_queue(request: HttpRequest, page: int = 1, page_size: int | None = None) -> Page[ResourceRevision]:
    return paginate(selectors.revision_queue(acting_user(request)), page, page_size)
