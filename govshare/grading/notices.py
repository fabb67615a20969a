"""Notifications of grading decisions (govshare.notifications): whoever proposed a change is told the security
officer's decision, from the service that decides, in its transaction."""

from __future__ import annotations

from django.urls import reverse

from govshare.accounts.models import User
from govshare.grading.choices import ChangeStatus
from govshare.grading.models import GradingChange
from govshare.notifications.choices import NotificationKind
from govshare.notifications.services import notify


def grading_decided(change: GradingChange, *, actor: User) -> None:
    """Tell the proposer (when the account still exists and is active) that their change was approved or
    rejected, with the security officer's note."""
    proposer = change.proposer
    if proposer is None or not proposer.is_active or proposer.pk == actor.pk:
        return
    approved = change.status == ChangeStatus.APPROVED
    verdict = "已通过" if approved else "被驳回"
    lines = [f"{change.target_label}：{change.from_label} → {change.to_label}"]
    if change.review_note:
        lines.append(f"{'审核意见' if approved else '驳回理由'}：{change.review_note}")
    lines.append(f"审核人：{actor.get_username()}")
    notify(
        [proposer],
        kind=NotificationKind.GRADING_DECISION,
        title=f"分级调整申请 #{change.pk} {verdict}",
        body="\n".join(lines),
        link=reverse("grading:change", args=[change.pk]),
        target=change,
    )
