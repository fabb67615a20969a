"""Who may manage a resource's sources and who may read its data: one rule of a department's data, used by sources
and datasets alike.

Data (preview, download, load history) is readable by the department that owns the resource and by the platform
administrator. Other departments' consumers read previews and downloads only through a sharing grant, a read scope
that sharing gives datasets (`datasets.scopes`); without one the data's pages and routes answer 404.

A source is the owning department's alone: its preview and mapping page show the source's raw rows, unmasked, and
its settings, mapping and loads decide what goes into the department's dataset. So registering, changing,
previewing and mapping sources and requesting or retrying loads is for the owning department's catalogue
administrators; for anyone outside the department, the platform administrator included (who reads the dataset
masked), these answer 404 as for a missing source. The platform administrator still sees that a source exists,
its settings (without credentials), mapping and loads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_noop

from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_policy
from govshare.core.errors import NotFound, PermissionDenied
from govshare.core.roles import Role
from govshare.sources.models import Source

MANAGE = "manage"  # register, change, preview, map and load sources; retry loads
MANAGERS_ONLY = gettext_noop("只有资源所属部门的目录管理员可以管理数据来源和归集")


def _staff_of(subject: Subject) -> int | None:
    """The department of an active staff subject (None for anyone else)."""
    if subject.subject_kind != SubjectKind.STAFF or not subject.is_active:
        return None
    return subject.department_id


def permits_on_department_data(subject: Subject, action: str, department_id: int) -> bool:
    """The one rule of a department's data: VIEW for its staff and the platform administrator; MANAGE for its
    catalogue administrators (and the platform administrator when he works in that department)."""
    if subject.subject_kind != SubjectKind.STAFF or not subject.is_active:
        return False
    own = subject.department_id is not None and subject.department_id == department_id
    if action == VIEW:
        return own or subject.has_role(Role.PLATFORM_ADMIN)
    if action == MANAGE:
        return own and subject.has_role(Role.CATALOG_ADMIN, Role.PLATFORM_ADMIN)
    return False


def _department_data_scope(subject: Subject, action: str, department_path: str) -> Q:
    department = _staff_of(subject)
    if action == VIEW and subject.subject_kind == SubjectKind.STAFF and subject.has_role(Role.PLATFORM_ADMIN):
        return Q() if subject.is_active else NOTHING
    if department is None:
        return NOTHING
    if action == VIEW or (action == MANAGE and subject.has_role(Role.CATALOG_ADMIN, Role.PLATFORM_ADMIN)):
        return Q(**{department_path: department})
    return NOTHING


class DepartmentDataPolicy:
    """Datasets, sources and loads belong to the department of their resource (the rule above)."""

    def __init__(self, department_path: str, department_of: Callable[[Any], int]) -> None:
        self.department_path = department_path
        self.department_of = department_of

    def scope(self, subject: Subject, action: str) -> Q:
        return _department_data_scope(subject, action, self.department_path)

    def permits(self, subject: Subject, action: str, obj: Any) -> bool:
        return permits_on_department_data(subject, action, self.department_of(obj))

    def refusal(self, subject: Subject, action: str, obj: Any) -> str:
        return MANAGERS_ONLY


def register() -> None:
    register_policy(Source, DepartmentDataPolicy("resource__department_id", lambda s: s.resource.department_id))


def can_read_data(user: User, resource: Resource) -> bool:
    if not user.is_authenticated:
        return False
    return permits_on_department_data(user, VIEW, resource.department_id)


def in_owning_department(user: User, resource: Resource) -> bool:
    return (
        can_read_data(user, resource)
        and user.department_id is not None
        and user.department_id == resource.department_id
    )


def can_manage_sources(user: User, resource: Resource) -> bool:
    """Registering sources, reading their raw rows and starting loads is the owning department's catalogue
    administrators' work (not the platform administrator's, unless he works in that department)."""
    return user.is_authenticated and permits_on_department_data(user, MANAGE, resource.department_id)


def require_source_manager(
    user: User, resource: Resource, *, missing: str = gettext_noop("数据来源不存在或无权访问")
) -> None:
    """NotFound outside the owning department (the platform administrator included: the same answer as a missing
    source), PermissionDenied for a colleague without the catalogue role."""
    if not in_owning_department(user, resource):
        raise NotFound(missing)
    if not can_manage_sources(user, resource):
        raise PermissionDenied(MANAGERS_ONLY)
