"""Who may see and manage information systems (接入系统): the owning department's catalogue administrators and the
platform administrator manage them; the department's staff see them; the platform administrator and the sharing
coordinator (共享协调员) see every department's (the city-wide inventory, read-only for the coordinator). Other
departments' staff and every system itself see none (404)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_noop

from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_policy
from govshare.core.roles import Role
from govshare.identity.models import InformationSystem

MANAGE = "manage"
SYSTEM_MANAGERS_ONLY = gettext_noop("只有系统所属部门的目录管理员或平台管理员可以登记和管理接入系统、签发和吊销凭证")


def _staff(subject: Subject) -> bool:
    return subject.subject_kind == SubjectKind.STAFF and subject.is_active


def sees_every_system(subject: Subject) -> bool:
    """The city-wide register: the platform administrator and the coordinator."""
    return _staff(subject) and subject.has_role(Role.PLATFORM_ADMIN, Role.COORDINATOR)


def permits_system_management(subject: Subject, department_id: int) -> bool:
    if not _staff(subject):
        return False
    if subject.has_role(Role.PLATFORM_ADMIN):
        return True
    return subject.has_role(Role.CATALOG_ADMIN) and subject.department_id == department_id


class InformationSystemPolicy:
    """VIEW: the platform administrator, the coordinator, and staff of the owning department; MANAGE: see
    `permits_system_management`."""

    def scope(self, subject: Subject, action: str) -> Q:
        if not _staff(subject):
            return NOTHING
        if subject.has_role(Role.PLATFORM_ADMIN) or (action == VIEW and subject.has_role(Role.COORDINATOR)):
            return Q()
        if subject.department_id is None:
            return NOTHING
        if action == VIEW or (action == MANAGE and subject.has_role(Role.CATALOG_ADMIN)):
            return Q(department_id=subject.department_id)
        return NOTHING

    def permits(self, subject: Subject, action: str, obj: InformationSystem) -> bool:
        if action == MANAGE:
            return permits_system_management(subject, obj.department_id)
        if action == VIEW:
            return sees_every_system(subject) or (_staff(subject) and subject.department_id == obj.department_id)
        return False

    def refusal(self, subject: Subject, action: str, obj: InformationSystem) -> str:
        return SYSTEM_MANAGERS_ONLY


def register() -> None:
    register_policy(InformationSystem, InformationSystemPolicy())
