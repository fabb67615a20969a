"""Permission-scoped reads of grading changes."""

from __future__ import annotations

from django.db.models import QuerySet

from govshare.accounts.models import User
from govshare.core.authz import VIEW, restrict
from govshare.core.errors import NotFound
from govshare.grading import access
from govshare.grading.choices import ChangeStatus
from govshare.grading.models import GradingChange


def visible_changes(user: User) -> QuerySet[GradingChange]:
    return restrict(GradingChange.objects.select_related("resource", "resource__department"), user, VIEW)


def change_list(user: User, *, status: str = "", resource_id: int | None = None) -> QuerySet[GradingChange]:
    changes = visible_changes(user)
    if status:
        changes = changes.filter(status=status)
    if resource_id is not None:
        changes = changes.filter(resource_id=resource_id)
    return changes.order_by("-proposed_at", "-pk")


def review_queue(user: User) -> QuerySet[GradingChange]:
    """Pending changes, oldest first, for the security officer; nothing for anyone else."""
    if not access.is_security_officer(user):
        return GradingChange.objects.none()
    return visible_changes(user).filter(status=ChangeStatus.PENDING).order_by("proposed_at", "pk")


def get_change(user: User, pk: int) -> GradingChange:
    change = visible_changes(user).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if change is None:
        raise NotFound("分级调整申请不存在或无权访问")
    return change
