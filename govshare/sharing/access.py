"""Who may see and act on grants (共享授权).

VIEW: the staff of the consumer department that holds the grant and of the provider department whose resource it
grants (a provider sees who uses its data), the coordinator (共享协调员), the platform administrator and the
auditor (read-only). REVOKE: the provider department's 部门审核员 and the coordinator. CONFIRM (the access review):
the provider department's 部门审核员 alone, whose certification it is. Consumers only read. Everyone else: 404.
Issuing is checked on the resource (`may_issue`): its department's 部门审核员 or the coordinator."""

from __future__ import annotations

from django.db.models import Q

from govshare.catalog.models import Resource
from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_policy
from govshare.core.roles import Role
from govshare.sharing.models import Grant

REVOKE = "revoke"
CONFIRM = "confirm"
REVOKERS_ONLY = "只有提供部门的部门审核员或共享协调员可以撤销授权"
CONFIRMERS_ONLY = "只有提供部门的部门审核员可以复核确认授权"
ISSUERS_ONLY = "只有提供部门的部门审核员或共享协调员可以授权"


def _staff(subject: Subject) -> bool:
    return subject.subject_kind == SubjectKind.STAFF and subject.is_active


def _sees_all(subject: Subject) -> bool:
    return subject.has_role(Role.COORDINATOR, Role.PLATFORM_ADMIN, Role.AUDITOR)


def may_issue(subject: Subject, resource: Resource) -> bool:
    """The provider department's 部门审核员 or the coordinator may grant the resource's data."""
    if not _staff(subject):
        return False
    if subject.has_role(Role.COORDINATOR):
        return True
    return subject.has_role(Role.DEPT_REVIEWER) and subject.department_id == resource.department_id


class GrantPolicy:
    def scope(self, subject: Subject, action: str) -> Q:
        if not _staff(subject):
            return NOTHING
        department = subject.department_id
        if action == VIEW:
            if _sees_all(subject):
                return Q()
            if department is None:
                return NOTHING
            return Q(department_id=department) | Q(resource__department_id=department)
        if action == REVOKE and subject.has_role(Role.COORDINATOR):
            return Q()
        if action in (REVOKE, CONFIRM) and department is not None and subject.has_role(Role.DEPT_REVIEWER):
            return Q(resource__department_id=department)
        return NOTHING

    def permits(self, subject: Subject, action: str, obj: Grant) -> bool:
        if not _staff(subject):
            return False
        department = subject.department_id
        provider = department is not None and department == obj.resource.department_id
        if action == VIEW:
            holder = department is not None and department == obj.department_id
            return _sees_all(subject) or holder or provider
        if action == REVOKE:
            return subject.has_role(Role.COORDINATOR) or (provider and subject.has_role(Role.DEPT_REVIEWER))
        if action == CONFIRM:
            return provider and subject.has_role(Role.DEPT_REVIEWER)
        return False

    def refusal(self, subject: Subject, action: str, obj: Grant) -> str:
        return CONFIRMERS_ONLY if action == CONFIRM else REVOKERS_ONLY


def register() -> None:
    register_policy(Grant, GrantPolicy())
