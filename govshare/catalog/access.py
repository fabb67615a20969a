"""Who may see and change which resource. Stored rules, used by selectors (reads) and services (writes)."""

from __future__ import annotations

from django.db.models import Q

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Resource
from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_policy

CHANGE = "change"  # edit, submit, reopen, delete (the owning department's catalogue administrators)
REVIEW = "review"  # publish, reject, withdraw (the platform administrator)
CHANGE_REFUSED = "只有资源所属部门的目录管理员可以修改该资源"
REVIEW_REFUSED = "只有平台管理员可以审核目录"


def visible_resources_filter(user: User) -> Q:
    """Published entries are visible to every signed-in user; the rest to the owning department and the
    platform administrator."""
    return ResourcePolicy().scope(user, VIEW)


def can_view(user: User, resource: Resource) -> bool:
    return ResourcePolicy().permits(user, VIEW, resource)


def can_catalog_for(user: User, department_id: int) -> bool:
    """May the user create and edit entries of this department? Its catalogue administrators and the platform
    administrator may."""
    return user.is_platform_admin or (user.has_role(Role.CATALOG_ADMIN) and user.department_id == department_id)


def can_edit(user: User, resource: Resource) -> bool:
    return ResourcePolicy().permits(user, CHANGE, resource)


def could_view_published(user: User, resource: Resource) -> bool:
    """Could the user see this entry while it was published? (The same rule as VIEW, for the entry as published.)"""
    as_published = Resource(pk=resource.pk, status=ReviewStatus.PUBLISHED, department_id=resource.department_id)
    return ResourcePolicy().permits(user, VIEW, as_published)


def can_see_revisions(user: User, resource: Resource) -> bool:
    """Change requests (变更) belong, like the version history, to the owning department and the platform
    administrator."""
    return user.is_platform_admin or (user.department_id is not None and user.department_id == resource.department_id)


def catalogues(user: User) -> bool:
    """Does the user catalogue (and so work with entries before publication)? Everyone else browses and exports the
    published catalogue only."""
    return any(user.has_role(role) for role in (Role.PLATFORM_ADMIN, Role.CATALOG_ADMIN, Role.DEPT_REVIEWER))


def can_review(user: User) -> bool:
    """Catalogue entries are reviewed and published by the platform administrator (大数据局)."""
    return user.is_platform_admin


def _staff(subject: Subject) -> bool:
    return subject.subject_kind == SubjectKind.STAFF and subject.is_active


class ResourcePolicy:
    """VIEW: published entries for every staff member, the rest for the owning department and the platform
    administrator; CHANGE: `can_edit`; REVIEW: `can_review`. Systems, the public and nobody see no entry here (open
    data will publish its own view of the open ones)."""

    def scope(self, subject: Subject, action: str) -> Q:
        if not _staff(subject):
            return NOTHING
        if subject.has_role(Role.PLATFORM_ADMIN):
            return Q() if action in (VIEW, CHANGE, REVIEW) else NOTHING
        if action == VIEW:
            published = Q(status=ReviewStatus.PUBLISHED)
            return published | Q(department_id=subject.department_id) if subject.department_id else published
        if action == CHANGE and subject.department_id is not None and subject.has_role(Role.CATALOG_ADMIN):
            return Q(department_id=subject.department_id)
        return NOTHING

    def permits(self, subject: Subject, action: str, obj: Resource) -> bool:
        if not _staff(subject):
            return False
        if action == VIEW:
            return (
                obj.status == ReviewStatus.PUBLISHED
                or subject.has_role(Role.PLATFORM_ADMIN)
                or (subject.department_id is not None and subject.department_id == obj.department_id)
            )
        if action == CHANGE:
            return subject.has_role(Role.PLATFORM_ADMIN) or (
                subject.has_role(Role.CATALOG_ADMIN) and subject.department_id == obj.department_id
            )
        if action == REVIEW:
            return subject.has_role(Role.PLATFORM_ADMIN)
        return False

    def refusal(self, subject: Subject, action: str, obj: Resource) -> str:
        return REVIEW_REFUSED if action == REVIEW else CHANGE_REFUSED


def register() -> None:
    register_policy(Resource, ResourcePolicy())
