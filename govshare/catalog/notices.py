"""Notifications of the catalogue's review (govshare.notifications): a department's catalogue administrators are told
when the reviewer publishes or rejects its entries. Sent from the service that takes the action, in its transaction
(a rolled-back action tells nobody); one notification per department and action, however many entries a batch
moved."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.urls import reverse

from govshare.accounts.models import User
from govshare.accounts.selectors import department_catalog_admins
from govshare.catalog.choices import VersionAction
from govshare.catalog.models import Resource
from govshare.notifications.choices import NotificationKind
from govshare.notifications.services import notify

NOTIFIED_ACTIONS = frozenset({VersionAction.PUBLISH, VersionAction.REJECT})
LISTED = 20  # entries named in the body of a batch's notification


def _title(action: str, resources: Sequence[Resource]) -> str:
    verb = "已发布" if action == VersionAction.PUBLISH else "被驳回"
    if len(resources) == 1:
        name = resources[0].name
        return f"资源“{name[:80]}”{verb}"
    return f"{len(resources)} 条资源{verb}"


def _body(action: str, resources: Sequence[Resource], note: str, actor: User) -> str:
    lines = [f"{resource.code} {resource.name}" for resource in resources[:LISTED]]
    if len(resources) > LISTED:
        lines.append(f"……另有 {len(resources) - LISTED} 条")
    if action == VersionAction.REJECT:
        lines.append(f"驳回理由：{note}")
        lines.append("请修改后重新提交审核。")
    lines.append(f"审核人：{actor.get_username()}")
    return "\n".join(lines)


def review_decided(action: str, resources: Sequence[Resource], *, note: str, actor: User) -> None:
    """Tell each department's catalogue administrators that the reviewer published or rejected its entries."""
    if action not in NOTIFIED_ACTIONS or not resources:
        return
    by_department: dict[int, list[Resource]] = defaultdict(list)
    for resource in resources:
        by_department[resource.department_id].append(resource)
    for department_id, entries in by_department.items():
        recipients = [user for user in department_catalog_admins(department_id) if user.pk != actor.pk]
        if not recipients:
            continue
        link = reverse("catalog:detail", args=[entries[0].pk]) if len(entries) == 1 else reverse("home")
        notify(
            recipients,
            kind=NotificationKind.CATALOG_REVIEW,
            title=_title(action, entries),
            body=_body(action, entries, note, actor),
            link=link,
            target=entries[0] if len(entries) == 1 else None,
        )
