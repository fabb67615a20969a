"""Notifications of failed loads (govshare.notifications): a load that failed for good (no attempt left, an error
that a retry would repeat, or a version its checks refused) is told to the catalogue administrators of the
resource's department, in the transaction that marks it failed."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from govshare.accounts.selectors import department_catalog_admins
from govshare.datasets.models import Load
from govshare.notifications.choices import NotificationKind
from govshare.notifications.services import notify

ERROR_SHOWN = 300  # characters of the error in the notification; the load's page has it whole


def load_failed(load: Any) -> None:
    """`load` is the Load row just marked FAILED (a job row: JobKind.on_failed passes it as such)."""
    assert isinstance(load, Load)
    resource = load.dataset.resource
    recipients = list(department_catalog_admins(resource.department_id))
    if not recipients:
        return
    error = load.error if len(load.error) <= ERROR_SHOWN else load.error[:ERROR_SHOWN] + "……"
    notify(
        recipients,
        kind=NotificationKind.LOAD_FAILED,
        title=f"“{resource.name[:80]}”归集失败（归集任务 #{load.pk}）",
        body=f"{resource.code} {resource.name}\n数据来源：{load.source.name}\n错误：{error}\n上一版本数据保持不变。",
        link=reverse("datasets:load_detail", args=[load.pk]),
        target=load,
    )
