"""Permission-scoped reads of the catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet

from govshare.accounts.models import User
from govshare.catalog import access
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Category, DuplicateCandidate, Item, Resource, ResourceVersion
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


def visible_resources(user: User) -> QuerySet[Resource]:
    return restrict(Resource.objects.all(), user, VIEW)


def apply_filters(queryset: QuerySet[Resource], filters: ResourceFilters) -> QuerySet[Resource]:
    if filters.department_code:
        queryset = queryset.filter(department__code=filters.department_code)
    if filters.category_code:
        queryset = queryset.filter(category__code__startswith=filters.category_code)
    for name in ("share_type", "open_type", "format", "update_cycle", "status"):
        if value := getattr(filters, name):
            queryset = queryset.filter(**{name: value})
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
