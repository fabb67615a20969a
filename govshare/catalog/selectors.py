"""Permission-scoped reads of the catalogue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from govshare.accounts.models import User
from govshare.catalog import access
from govshare.catalog.choices import OPEN_REVISION_STATES, ReviewStatus, RevisionState, VersionAction
from govshare.catalog.models import (
    Category,
    DuplicateCandidate,
    Item,
    NotDuplicate,
    Resource,
    ResourceRevision,
    ResourceVersion,
)
from govshare.core.authz import VIEW, restrict
from govshare.core.errors import NotFound


@dataclass(frozen=True)
class ResourceFilters:
    department_code: str = ""
    category_code: str = ""
    share_type: str = ""
    open_type: str = ""
    format: str = ""
    update_cycle: str = ""
    status: str = ""


# The status filter's value for drafts the reviewer sent back (草稿 with a rejection reason, until resubmitted).
REJECTED = "rejected"
REJECTED_LABEL = "已驳回"


def visible_resources(user: User) -> QuerySet[Resource]:
    return restrict(Resource.objects.all(), user, VIEW)


def apply_filters(queryset: QuerySet[Resource], filters: ResourceFilters) -> QuerySet[Resource]:
    if filters.department_code:
        queryset = queryset.filter(department__code=filters.department_code)
    if filters.category_code:
        queryset = queryset.filter(category__code__startswith=filters.category_code)
    for name in ("share_type", "open_type", "format", "update_cycle"):
        if value := getattr(filters, name):
            queryset = queryset.filter(**{name: value})
    # 已驳回 and 草稿 split the drafts: a rejected one stays findable as such until it is resubmitted.
    if filters.status == REJECTED:
        queryset = queryset.filter(status=ReviewStatus.DRAFT).exclude(rejection_reason="")
    elif filters.status == ReviewStatus.DRAFT:
        queryset = queryset.filter(status=ReviewStatus.DRAFT, rejection_reason="")
    elif filters.status:
        queryset = queryset.filter(status=filters.status)
    return queryset


def resource_list(user: User, filters: ResourceFilters | None = None) -> QuerySet[Resource]:
    queryset = visible_resources(user).select_related("department", "category")
    return apply_filters(queryset, filters or ResourceFilters())


def get_resource(user: User, pk: int) -> Resource:
    """The resource with its items, or NotFound when it does not exist or lies outside the user's scope."""
    resource = (
        visible_resources(user)
        .select_related("department", "category", "created_by")
        .prefetch_related(Prefetch("items", queryset=Item.objects.order_by("position")))
        .filter(pk=pk)
        .first()
    )
    if resource is None:
        raise NotFound("信息资源不存在或无权访问")
    return resource


def get_resource_by_code(user: User, code: str) -> Resource:
    found = visible_resources(user).filter(code=code).values_list("pk", flat=True).first()
    if found is None:
        raise NotFound("信息资源不存在或无权访问")
    return get_resource(user, found)


def withdrawal(resource: Resource) -> ResourceVersion | None:
    """The version that took the entry offline (下线, with its reason) when it is withdrawn or was reopened after
    being withdrawn and not published again; None otherwise."""
    if resource.status == ReviewStatus.PUBLISHED or resource.published_on is None:
        return None
    return resource.versions.filter(action=VersionAction.WITHDRAW).order_by("-number").first()


def offline_resource(user: User, pk: int) -> tuple[Resource, ResourceVersion] | None:
    """An entry outside the user's view now that the user could see before it went offline (下线): the entry and the
    version that withdrew it, for a "该资源已下线" answer instead of 404. None for anyone else: an entry never
    published, a user who could not see it when it was published, an account created after it went offline."""
    resource = Resource.objects.select_related("department").filter(pk=pk).first()
    if resource is None or access.can_view(user, resource):
        return None
    withdrawn = withdrawal(resource)
    if withdrawn is None or not access.could_view_published(user, resource) or user.date_joined > withdrawn.created_at:
        return None
    return resource, withdrawn


def resource_versions(user: User, resource: Resource) -> QuerySet[ResourceVersion]:
    """Review history and edits belong to the owning department and the platform administrator."""
    if not (user.is_platform_admin or user.department_id == resource.department_id):
        raise NotFound("信息资源不存在或无权访问")
    return resource.versions.order_by("-number")


def resource_for_update(pk: int) -> Resource:
    """The entry re-read under a row lock (in the caller's transaction), whoever asks: for a write of another app
    that must not interleave with the catalogue's own. The caller checks its permissions."""
    return Resource.objects.select_for_update().get(pk=pk)


def review_queue(user: User) -> QuerySet[Resource]:
    if not access.can_review(user):
        return Resource.objects.none()
    return (
        Resource.objects.filter(status=ReviewStatus.SUBMITTED)
        .select_related("department", "category")
        .order_by("updated_at")
    )


def category_tree() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("code")


def get_category_by_code(code: str) -> Category:
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise NotFound(f"资源分类“{code}”不存在")
    return category


def resource_duplicates(user: User, resource: Resource) -> QuerySet[DuplicateCandidate]:
    """Near-duplicates of an entry, best first, limited to entries the user may see (the reviewer sees all)."""
    similar_visible = visible_resources(user).values("pk")
    return (
        DuplicateCandidate.objects.filter(resource=resource, similar__in=similar_visible)
        .exclude(similar__status=ReviewStatus.WITHDRAWN)
        .select_related("similar", "similar__department")
        .order_by("-score")
    )


def open_revision(user: User, resource: Resource) -> ResourceRevision | None:
    """The entry's open change request (draft, submitted or rejected) for those who may see it; None otherwise."""
    if not access.can_see_revisions(user, resource):
        return None
    return (
        ResourceRevision.objects.filter(resource=resource, state__in=OPEN_REVISION_STATES)
        .select_related("resource", "resource__department", "resource__category")
        .first()
    )


def get_open_revision(user: User, resource_id: int) -> ResourceRevision:
    """The open change request of an entry the user may see, or NotFound (also for those who may not see it)."""
    revision = open_revision(user, get_resource(user, resource_id))
    if revision is None:
        raise NotFound("该资源没有进行中的变更申请")
    return revision


def revision_queue(user: User) -> QuerySet[ResourceRevision]:
    """Change requests waiting for review, oldest submission first (the reviewer's)."""
    if not access.can_review(user):
        return ResourceRevision.objects.none()
    return (
        ResourceRevision.objects.filter(state=RevisionState.SUBMITTED)
        .select_related("resource", "resource__department")
        .order_by("submitted_at")
    )


def search_review_queue(queue: QuerySet[Resource], text: str) -> QuerySet[Resource]:
    """Entries of the review queue whose name, code or department (name or code) contain `text`."""
    text = text.strip()[:100]
    if not text:
        return queue
    return queue.filter(
        Q(name__icontains=text)
        | Q(code__icontains=text)
        | Q(department__name__icontains=text)
        | Q(department__code__iexact=text)
    )


def review_selection(user: User, ids: Sequence[int]) -> tuple[list[Resource], list[int]]:
    """The entries of `ids` waiting in `user`'s review queue (in the order given) and the ids that are not there:
    unknown, not submitted, or (for anyone but the reviewer) every id."""
    found = {r.pk: r for r in review_queue(user).filter(pk__in=list(ids))}
    return [found[pk] for pk in ids if pk in found], [pk for pk in ids if pk not in found]


@dataclass(frozen=True)
class NotDuplicateMark:
    other: Resource
    marked_by_name: str
    marked_at: dt.datetime


def not_duplicate_marks(user: User, resource: Resource) -> list[NotDuplicateMark]:
    """The entries the reviewer marked 不是重复 with `resource` (those the user may see), who marked and when."""
    visible = visible_resources(user).values("pk")
    marks = (
        NotDuplicate.objects.filter(Q(first=resource, second__in=visible) | Q(second=resource, first__in=visible))
        .select_related("first__department", "second__department")
        .order_by("-marked_at")
    )
    return [
        NotDuplicateMark(
            mark.second if mark.first_id == resource.pk else mark.first, mark.marked_by_name, mark.marked_at
        )
        for mark in marks
    ]


# ---------------------------------------------------------------------------------------------- the home's figures


def rejected_resources(user: User) -> QuerySet[Resource]:
    """The user's department's entries sent back by the reviewer and not yet resubmitted (a draft that carries a
    rejection reason), newest first; nothing for anyone who may not edit them or has no department."""
    if user.department_id is None:
        return Resource.objects.none()
    return (
        restrict(Resource.objects.all(), user, access.CHANGE)
        .filter(department_id=user.department_id, status=ReviewStatus.DRAFT)
        .exclude(rejection_reason="")
        .order_by("-updated_at", "-pk")
    )


@dataclass(frozen=True)
class CatalogueFigures:
    """The catalogue in numbers, within what the user may see: entries by state (every state, zeros included) and
    by department (most entries first)."""

    by_status: list[tuple[str, str, int]]  # (state, its label, entries)
    by_department: list[tuple[str, str, int]]  # (department code, name, entries)
    total: int


def catalogue_figures(user: User) -> CatalogueFigures:
    """Two grouped queries whatever the size of the catalogue."""
    visible = visible_resources(user).order_by()
    counts = dict(visible.values_list("status").annotate(count=Count("pk")).values_list("status", "count"))
    by_status = [(status.value, str(status.label), counts.get(status.value, 0)) for status in ReviewStatus]
    by_department = [
        (row["department__code"], row["department__name"], row["count"])
        for row in visible.values("department__code", "department__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "department__code")
    ]
    return CatalogueFigures(by_status=by_status, by_department=by_department, total=sum(counts.values()))
