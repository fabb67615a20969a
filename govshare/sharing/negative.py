"""The negative list (负面清单): the catalogue's published entries whose share attribute is 不予共享, each with its
不予共享依据. It is a view of the catalogue, never a table of its own, so it cannot drift from it.

Importing the list never changes a published entry. Each row names an entry by its code and says it is 不予共享
with a basis:
- the entry is already 不予共享 with that basis: nothing to do (counted as unchanged);
- otherwise the row would change the entry's share attribute or basis: the import writes it into the entry's change
  request (变更, `govshare.catalog.revisions.save_revision`), a draft the owning department submits and the platform
  administrator reviews, like any other change of a published entry. An open draft (or rejected) change request is
  edited, keeping its other changes; a submitted one is not touched (the row is refused: withdraw it first or wait
  for its review). Only who may start the entry's change request (its department's 目录管理员, the platform
  administrator) may import such a row; anyone else's file is refused whole, and the entry stays as it is.
- An entry absent from the file keeps its share attribute: the file is not a full replacement; to take an entry off
  the list, its department changes its share attribute in the catalogue (a change request reviewed as usual).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext

from govshare.accounts.models import User
from govshare.catalog import access, revisions
from govshare.catalog.choices import OPEN_REVISION_STATES, OpenType, ReviewStatus, RevisionState, ShareType
from govshare.catalog.models import Resource, ResourceRevision
from govshare.core.authz import VIEW, Subject, restrict


@dataclass(frozen=True)
class NegativeFilters:
    department_code: str = ""
    q: str = ""


def negative_list(subject: Subject, filters: NegativeFilters | None = None) -> QuerySet[Resource]:
    """The published 不予共享 entries the subject sees (every staff member sees published entries)."""
    filters = filters or NegativeFilters()
    queryset = restrict(
        Resource.objects.filter(status=ReviewStatus.PUBLISHED, share_type=ShareType.NOT_SHARED), subject, VIEW
    ).select_related("department")
    if filters.department_code:
        queryset = queryset.filter(department__code=filters.department_code)
    if filters.q:
        queryset = queryset.filter(
            Q(name__icontains=filters.q) | Q(code__icontains=filters.q) | Q(share_basis__icontains=filters.q)
        )
    return queryset.order_by("department__code", "code")


def open_revision_states(resource_ids: list[int]) -> dict[int, str]:
    """The state of each entry's open change request, for the list's 变更申请 column."""
    rows = ResourceRevision.objects.filter(resource_id__in=resource_ids, state__in=OPEN_REVISION_STATES)
    return dict(rows.values_list("resource_id", "state"))


# ---------------------------------------------------------------------------------------------- import


@dataclass
class RowPlan:
    """What one imported row asks of its entry: nothing (it matches), or a change request."""

    resource: Resource
    basis: str
    unchanged: bool
    revision: ResourceRevision | None = None  # the open draft or rejected change request to edit


def plan_row(actor: User, code: str, share_label: str, basis: str) -> tuple[RowPlan | None, list[tuple[str, str]]]:
    """The plan of one row, or the problems of its cells as (field, message)."""
    resource = restrict(Resource.objects.filter(code=code), actor, VIEW).select_related("department").first()
    if resource is None:
        return None, [("code", gettext("信息资源“%(code)s”不存在或无权访问") % {"code": code})]
    problems: list[tuple[str, str]] = []
    if resource.status != ReviewStatus.PUBLISHED:
        label = gettext(ReviewStatus(resource.status).label)
        problems.append(
            (
                "code",
                gettext("信息资源“%(code)s”未发布（%(status)s）：负面清单只列已发布的资源，草稿请在目录中直接编辑")
                % {"code": code, "status": label},
            )
        )
    if share_label and share_label not in (
        ShareType.NOT_SHARED.label,
        ShareType.NOT_SHARED.value,
        gettext(ShareType.NOT_SHARED.label),
    ):
        problems.append(
            (
                "share_type",
                gettext("负面清单只列“不予共享”的资源；如需改为可共享，请在目录中为该资源申请变更"),
            )
        )
    if problems:
        return None, problems
    if resource.share_type == ShareType.NOT_SHARED and resource.share_basis.strip() == basis:
        return RowPlan(resource, basis, unchanged=True), []
    if not access.can_edit(actor, resource):
        return None, [
            (
                "code",
                gettext("本行将改变资源“%(code)s”的共享属性或依据，只有资源所属部门的目录管理员可以为其申请变更")
                % {"code": code},
            )
        ]
    revision = ResourceRevision.objects.filter(resource=resource, state__in=OPEN_REVISION_STATES).first()
    if revision is not None and revision.state == RevisionState.SUBMITTED:
        return None, [
            (
                "code",
                gettext("资源“%(code)s”的变更申请已提交审核，不能修改：请待审核后再导入，或先撤回变更申请")
                % {"code": code},
            )
        ]
    return RowPlan(resource, basis, unchanged=False, revision=revision), []


def not_shared_content(content: dict[str, Any], basis: str) -> dict[str, Any]:
    """A copy of an entry's content made 不予共享 with the basis: no share condition, not open (the catalogue's rule
    for 不予共享), and every item 不予共享 and 不予开放 too (an item is never looser than its entry)."""
    proposed = copy.deepcopy(content)
    proposed["share_type"] = ShareType.NOT_SHARED.value
    proposed["share_basis"] = basis
    proposed["share_condition"] = ""
    proposed["open_type"] = OpenType.NOT_OPEN.value
    proposed["open_condition"] = ""
    for item in proposed.get("items", []):
        item["share_type"] = ShareType.NOT_SHARED.value
        item["open_type"] = OpenType.NOT_OPEN.value
    return proposed


def apply_row(plan: RowPlan, actor: User) -> tuple[ResourceRevision, bool]:
    """Write the row into the entry's change request (a draft for the department to submit); True when the change
    request was created by this row. DomainError when the catalogue's rules refuse it."""
    base = plan.revision.content if plan.revision is not None else revisions.published_snapshot(plan.resource)
    draft = revisions.draft_from_content(not_shared_content(base, plan.basis))
    revision = revisions.save_revision(plan.resource, draft, actor=actor)
    return revision, plan.revision is None


def revision_link(resource: Resource) -> str:
    return reverse("catalog:revision", args=[resource.pk])
