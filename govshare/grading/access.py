"""Who may propose, see and decide grading changes. 三员分立: the security officer decides, nobody else."""

from __future__ import annotations

from django.db.models import Q

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_policy
from govshare.grading.models import GradingChange

DECIDE = "decide"
DECIDE_REFUSED = "只有安全管理员可以审核分级调整"


def is_security_officer(user: User) -> bool:
    return user.has_role(Role.SECURITY_OFFICER)


def can_propose(user: User, resource: Resource) -> bool:
    """A department's catalogue administrators propose changes to its resources' grades."""
    return (
        user.has_role(Role.CATALOG_ADMIN)
        and user.department_id is not None
        and user.department_id == resource.department_id
    )


class GradingChangePolicy:
    """VIEW: the security officer every change, a department's staff their department's; DECIDE: the security
    officer (三员分立: nobody else, the platform administrator included)."""

    def scope(self, subject: Subject, action: str) -> Q:
        if subject.subject_kind != SubjectKind.STAFF:
            return NOTHING
        if subject.has_role(Role.SECURITY_OFFICER):
            return Q() if action in (VIEW, DECIDE) else NOTHING
        if action == VIEW and subject.department_id is not None:
            return Q(resource__department_id=subject.department_id)
        return NOTHING

    def permits(self, subject: Subject, action: str, obj: GradingChange) -> bool:
        if subject.subject_kind != SubjectKind.STAFF:
            return False
        if subject.has_role(Role.SECURITY_OFFICER):
            return action in (VIEW, DECIDE)
        return (
            action == VIEW
            and subject.department_id is not None
            and (subject.department_id == obj.resource.department_id)
        )

    def refusal(self, subject: Subject, action: str, obj: GradingChange) -> str:
        return DECIDE_REFUSED


def register() -> None:
    register_policy(GradingChange, GradingChangePolicy())
