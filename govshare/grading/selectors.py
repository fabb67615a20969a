"""Permission-scoped reads of grading changes."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from govshare.accounts.models import User
from govshare.catalog.choices import AtRest, DataLevel
from govshare.catalog.models import Item, Resource
from govshare.core.authz import VIEW, restrict
from govshare.core.errors import NotFound
from govshare.core.masking import masking_policy
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


# ---------------------------------------------------------------------------------------------- the home's figures

# Levels at which personal data is a risk: L1 goes out unmasked, L2 is only 低敏感 (DB33/T 2350).
RISKY_LEVELS = (DataLevel.L1, DataLevel.L2)


def sensitive_name_filter() -> Q:
    """Item names that say personal data (身份证, 公民身份号码, 手机, 姓名, 住址 …): the masking policy's own words
    (govshare.core.masking), so the risk list and masking never disagree on what is personal."""
    condition = Q()
    for _, words in masking_policy().keywords:
        for word in words:
            condition |= Q(name__contains=word)
    return condition


def risky_items(user: User) -> QuerySet[Item]:
    """Items named like personal data that are still stored in plain text or graded only L1–L2, in the entries
    the security officer may see (the published catalogue and their own department's); nothing for anyone else."""
    if not access.is_security_officer(user):
        return Item.objects.none()
    entries = restrict(Resource.objects.all(), user, VIEW).values("pk")
    return (
        Item.objects.filter(resource__in=entries)
        .filter(sensitive_name_filter())
        .filter(Q(at_rest=AtRest.PLAIN) | Q(data_level__in=RISKY_LEVELS))
        .select_related("resource", "resource__department")
        .order_by("data_level", "resource__code", "position")
    )
