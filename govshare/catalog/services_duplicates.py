"""The reviewer's 不是重复 marks on near-duplicate pairs: marking hides the pair from the near-duplicate lists,
taking the mark back scores the pair again. Each is one transaction with its audit row."""

from __future__ import annotations

from django.db import transaction

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog import access, duplicates
from govshare.catalog.models import DuplicateCandidate, NotDuplicate, Resource
from govshare.core.errors import Conflict, NotFound, PermissionDenied

NOT_REVIEWER = "只有平台管理员可以标记疑似重复资源"


def _pair(actor: User, resource_id: int, similar_id: int) -> tuple[Resource, Resource]:
    """Both entries, lower id first, for the reviewer; NotFound for a missing entry or a pair of one entry."""
    if not access.can_review(actor):
        raise PermissionDenied(NOT_REVIEWER)
    if resource_id == similar_id:
        raise NotFound("信息资源不存在或无权访问")
    found = {r.pk: r for r in Resource.objects.select_for_update().filter(pk__in=[resource_id, similar_id])}
    if len(found) != 2:
        raise NotFound("信息资源不存在或无权访问")
    low, high = sorted(found)
    return found[low], found[high]


@transaction.atomic
def mark_not_duplicate(resource_id: int, similar_id: int, *, actor: User) -> NotDuplicate:
    first, second = _pair(actor, resource_id, similar_id)
    if NotDuplicate.objects.filter(first=first, second=second).exists():
        raise Conflict(f"“{first.code}”与“{second.code}”已标记为不是重复")
    mark = NotDuplicate.objects.create(first=first, second=second, marked_by=actor, marked_by_name=actor.username)
    DuplicateCandidate.objects.filter(resource=first, similar=second).delete()
    DuplicateCandidate.objects.filter(resource=second, similar=first).delete()
    record_action(actor, "catalog.duplicate.dismiss", first, similar=second.code, similar_id=second.pk)
    return mark


@transaction.atomic
def unmark_not_duplicate(resource_id: int, similar_id: int, *, actor: User) -> None:
    """Take a 不是重复 mark back: the pair is scored again at once (listed again if it is still similar)."""
    first, second = _pair(actor, resource_id, similar_id)
    deleted, _ = NotDuplicate.objects.filter(first=first, second=second).delete()
    if not deleted:
        raise NotFound("这两条资源没有被标记为不是重复")
    record_action(actor, "catalog.duplicate.restore", first, similar=second.code, similar_id=second.pk)
    duplicates.record_duplicates([first.pk, second.pk])
