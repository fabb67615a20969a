"""The catalogue's review workflow as one table: each action, the states it starts from, the state it leads to, who
may take it, whether it needs a reason and what it does to the entry's rejection reason and publication date.
govshare.catalog.services takes every action (one entry or many) by this table; the detail page shows the buttons
it allows."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from govshare.accounts.models import User
from govshare.catalog import access
from govshare.catalog.choices import ReviewStatus, VersionAction
from govshare.catalog.models import Resource


class Who(enum.Enum):
    """Who may take an action on an entry."""

    EDITOR = "editor"  # the entry's department's catalogue administrators and the platform administrator
    REVIEWER = "reviewer"  # the platform administrator, whatever the entry
    EDITOR_OR_REVIEWER = "editor_or_reviewer"

    def may(self, user: User, resource: Resource) -> bool:
        if self is Who.REVIEWER:
            return access.can_review(user)
        if self is Who.EDITOR:
            return access.can_edit(user, resource)
        return access.can_review(user) or access.can_edit(user, resource)


@dataclass(frozen=True)
class Transition:
    """One workflow action. The reason given (empty when the action takes none) is the note of the version written
    and the `note` of the audit row."""

    action: VersionAction
    sources: frozenset[str]
    target: ReviewStatus
    who: Who
    refusal: str  # the message to someone who may see the entry but not take the action
    audit_action: str
    reason_required: str = ""  # the message when a required reason is missing; "" when the action takes no reason
    # What the action does to the entry's rejection reason: records the reason given, clears it, or keeps it.
    rejection_reason: Literal["record", "clear", "keep"] = "keep"
    stamps_publication: bool = False  # sets the entry's 发布日期


_DRAFT, _SUBMITTED = frozenset({ReviewStatus.DRAFT}), frozenset({ReviewStatus.SUBMITTED})
_PUBLISHED, _WITHDRAWN = frozenset({ReviewStatus.PUBLISHED}), frozenset({ReviewStatus.WITHDRAWN})

TRANSITIONS: Mapping[str, Transition] = {
    step.action.value: step
    for step in (
        Transition(
            VersionAction.SUBMIT,
            sources=_DRAFT,
            target=ReviewStatus.SUBMITTED,
            who=Who.EDITOR,
            refusal="只能提交本部门的资源",
            audit_action="catalog.resource.submit",
            rejection_reason="clear",
        ),
        # Its department takes back a submission the reviewer has not decided yet (to correct it).
        Transition(
            VersionAction.RECALL,
            sources=_SUBMITTED,
            target=ReviewStatus.DRAFT,
            who=Who.EDITOR,
            refusal="只能撤回本部门的提交",
            audit_action="catalog.resource.recall",
        ),
        Transition(
            VersionAction.PUBLISH,
            sources=_SUBMITTED,
            target=ReviewStatus.PUBLISHED,
            who=Who.REVIEWER,
            refusal="只有平台管理员可以发布资源",
            audit_action="catalog.resource.publish",
            rejection_reason="clear",
            stamps_publication=True,
        ),
        Transition(
            VersionAction.REJECT,
            sources=_SUBMITTED,
            target=ReviewStatus.DRAFT,
            who=Who.REVIEWER,
            refusal="只有平台管理员可以驳回资源",
            audit_action="catalog.resource.reject",
            reason_required="驳回必须填写理由",
            rejection_reason="record",
        ),
        Transition(
            VersionAction.WITHDRAW,
            sources=_PUBLISHED,
            target=ReviewStatus.WITHDRAWN,
            who=Who.EDITOR_OR_REVIEWER,
            refusal="无权下线该资源",
            audit_action="catalog.resource.withdraw",
            reason_required="下线必须填写原因",
        ),
        # A withdrawn entry goes back to draft so that its department can revise and resubmit it.
        Transition(
            VersionAction.REOPEN,
            sources=_WITHDRAWN,
            target=ReviewStatus.DRAFT,
            who=Who.EDITOR,
            refusal="只能重新编辑本部门的资源",
            audit_action="catalog.resource.reopen",
        ),
    )
}


def allowed_actions(resource: Resource, user: User) -> list[str]:
    """The workflow actions `user` may take on `resource` in its current state, in the table's order."""
    return [
        name for name, step in TRANSITIONS.items() if resource.status in step.sources and step.who.may(user, resource)
    ]
