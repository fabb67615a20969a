"""Who may see and change which resource. Stored rules, used by selectors (reads) and services (writes)."""

from __future__ import annotations

from django.db.models import Q

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Resource


def visible_resources_filter(user: User) -> Q:
    """Published entries are visible to every signed-in user; the rest to the owning department and the
    platform administrator."""
    if user.is_platform_admin:
        return Q()
    published = Q(status=ReviewStatus.PUBLISHED)
    if user.department_id is not None:
        return published | Q(department_id=user.department_id)
    return published


def can_view(user: User, resource: Resource) -> bool:
    return (
        resource.status == ReviewStatus.PUBLISHED
        or user.is_platform_admin
        or (user.department_id is not None and user.department_id == resource.department_id)
    )


def can_catalog_for(user: User, department_id: int) -> bool:
    """May the user create and edit entries of this department? Its catalogue administrators and the platform
    administrator may."""
    return user.is_platform_admin or (user.has_role(Role.CATALOG_ADMIN) and user.department_id == department_id)


def can_edit(user: User, resource: Resource) -> bool:
    return can_catalog_for(user, resource.department_id)


def can_review(user: User) -> bool:
    """Catalogue entries are reviewed and published by the platform administrator (大数据局)."""
    return user.is_platform_admin
