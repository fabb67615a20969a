"""The catalogue API: thin routes over selectors (reads) and services (writes)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from govshare.accounts.acting import acting_user
from govshare.catalog import selectors, services
from govshare.catalog.models import Category, DuplicateCandidate, Resource, ResourceVersion
from govshare.catalog.schemas import (
    CategoryIn,
    CategoryOut,
    CategoryUpdate,
    DuplicateOut,
    ReasonIn,
    ResourceFiltersIn,
    ResourceIn,
    ResourceOut,
    ResourcePage,
    VersionOut,
)
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS

router = Router(tags=["目录 catalog"])


@router.get("/resources", response={200: ResourcePage, **ERRORS}, auth=STAFF_READ, summary="列出信息资源")
def list_resources(
    request: HttpRequest,
    filters: Query[ResourceFiltersIn],
) -> Page[Resource]:
    queryset = selectors.resource_list(acting_user(request), filters.to_filters()).order_by("code")
    return paginate(queryset, filters.page, filters.page_size)


@router.post("/resources", response={201: ResourceOut, **ERRORS}, auth=STAFF_WRITE, summary="新建信息资源（草稿）")
def create_resource(request: HttpRequest, payload: ResourceIn) -> Status[Resource]:
    user = acting_user(request)
    resource = services.create_resource(payload.to_draft(user.department.code if user.department else ""), actor=user)
    return Status(201, selectors.get_resource(user, resource.pk))


@router.get("/resources/{resource_id}", response={200: ResourceOut, **ERRORS}, auth=STAFF_READ, summary="信息资源详情")
def get_resource(request: HttpRequest, resource_id: int) -> Resource:
    return selectors.get_resource(acting_user(request), resource_id)


@router.put("/resources/{resource_id}", response={200: ResourceOut, **ERRORS}, auth=STAFF_WRITE, summary="修改草稿")
def update_resource(request: HttpRequest, resource_id: int, payload: ResourceIn) -> Resource:
    user = acting_user(request)
    resource = selectors.get_resource(user, resource_id)
    services.update_resource(resource, payload.to_draft(resource.department.code), actor=user)
    return selectors.get_resource(user, resource_id)


@router.delete("/resources/{resource_id}", response={204: None, **ERRORS}, auth=STAFF_WRITE, summary="删除草稿")
def delete_resource(request: HttpRequest, resource_id: int) -> Status[None]:
    user = acting_user(request)
    services.delete_resource(selectors.get_resource(user, resource_id), actor=user)
    return Status(204, None)


@router.post(
    "/resources/{resource_id}/submit", response={200: ResourceOut, **ERRORS}, auth=STAFF_WRITE, summary="提交审核"
)
def submit_resource(request: HttpRequest, resource_id: int) -> Resource:
    user = acting_user(request)
    services.submit_resource(selectors.get_resource(user, resource_id), actor=user)
    return selectors.get_resource(user, resource_id)


@router.post(
    "/resources/{resource_id}/recall",
    response={200: ResourceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="撤回提交（审核前退回草稿）",
)
def recall_resource(request: HttpRequest, resource_id: int) -> Resource:
    user = acting_user(request)
    services.recall_resource(selectors.get_resource(user, resource_id), actor=user)
    return selectors.get_resource(user, resource_id)


@router.post(
    "/resources/{resource_id}/publish",
    response={200: ResourceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="审核通过并发布",
)
def publish_resource(request: HttpRequest, resource_id: int) -> Resource:
    user = acting_user(request)
    services.publish_resource(selectors.get_resource(user, resource_id), actor=user)
    return selectors.get_resource(user, resource_id)


@router.post(
    "/resources/{resource_id}/reject",
    response={200: ResourceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="驳回（须填写理由）",
)
def reject_resource(request: HttpRequest, resource_id: int, payload: ReasonIn) -> Resource:
    user = acting_user(request)
    services.reject_resource(selectors.get_resource(user, resource_id), reason=payload.reason, actor=user)
    return selectors.get_resource(user, resource_id)


@router.post(
    "/resources/{resource_id}/withdraw", response={200: ResourceOut, **ERRORS}, auth=STAFF_WRITE, summary="下线"
)
def withdraw_resource(request: HttpRequest, resource_id: int, payload: ReasonIn) -> Resource:
    user = acting_user(request)
    services.withdraw_resource(selectors.get_resource(user, resource_id), reason=payload.reason, actor=user)
    return selectors.get_resource(user, resource_id)


@router.post(
    "/resources/{resource_id}/reopen",
    response={200: ResourceOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="已下线资源重新编辑",
)
def reopen_resource(request: HttpRequest, resource_id: int) -> Resource:
    user = acting_user(request)
    services.reopen_resource(selectors.get_resource(user, resource_id), actor=user)
    return selectors.get_resource(user, resource_id)


@router.get(
    "/resources/{resource_id}/versions",
    response={200: list[VersionOut], **ERRORS},
    auth=STAFF_READ,
    summary="版本历史与逐字段差异",
)
def list_versions(request: HttpRequest, resource_id: int) -> list[ResourceVersion]:
    user = acting_user(request)
    return list(selectors.resource_versions(user, selectors.get_resource(user, resource_id)))


@router.get(
    "/resources/{resource_id}/duplicates",
    response={200: list[DuplicateOut], **ERRORS},
    auth=STAFF_READ,
    summary="疑似重复资源（跨部门，按相似度排序）",
)
def list_duplicates(request: HttpRequest, resource_id: int) -> list[DuplicateCandidate]:
    user = acting_user(request)
    return list(selectors.resource_duplicates(user, selectors.get_resource(user, resource_id)))


@router.get("/review-queue", response={200: ResourcePage, **ERRORS}, auth=STAFF_READ, summary="待审核资源")
def review_queue(request: HttpRequest, page: int = 1, page_size: int | None = None) -> Page[Resource]:
    return paginate(selectors.review_queue(acting_user(request)), page, page_size)


@router.get("/categories", response={200: list[CategoryOut], **ERRORS}, auth=STAFF_READ, summary="资源分类树")
def list_categories(request: HttpRequest) -> list[Category]:
    return list(selectors.category_tree().select_related("parent"))


@router.post("/categories", response={201: CategoryOut, **ERRORS}, auth=STAFF_WRITE, summary="新增资源分类")
def create_category(request: HttpRequest, payload: CategoryIn) -> Status[Category]:
    parent = selectors.get_category_by_code(payload.parent_code) if payload.parent_code else None
    category = services.create_category(
        parent=parent,
        segment=payload.segment,
        name=payload.name,
        description=payload.description,
        actor=acting_user(request),
    )
    return Status(201, category)


@router.put(
    "/categories/{code}",
    response={200: CategoryOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="修改资源分类（名称、说明、启用）",
)
def update_category(request: HttpRequest, code: str, payload: CategoryUpdate) -> Category:
    category = selectors.get_category_by_code(code)
    return services.update_category(
        category,
        name=payload.name,
        description=payload.description,
        is_active=payload.is_active,
        actor=acting_user(request),
    )
