"""Who may propose, see and decide grading changes. 三员分立: the security officer decides, nobody else."""

from __future__ import annotations

from django.db.models import Q

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.catalog.models import Resource


def is_security_officer(user: User) -> bool:
    return user.has_role(Role.SECURITY_OFFICER)


def can_propose(user: User, resource: Resource) -> bool:
    """A department's catalogue administrators propose changes to its resources' grades."""
    return (
        user.has_role(Role.CATALOG_ADMIN)
        and user.department_id is not None
        and user.department_id == resource.department_id
    )


def visible_changes_filter(user: User) -> Q | None:
    """The security officer sees every change; a department's users see their department's; others none (None)."""
    if is_security_officer(user):
        return Q()
    if user.department_id is not None:
        return Q(resource__department_id=user.department_id)
    return None
