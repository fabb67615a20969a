"""更新维护: published entries due or overdue for their catalogue maintenance, and reminders to their departments.

An entry is maintained when it changes (its `updated_at`) and when its department confirms a full maintenance of
its catalogue (Department.last_full_maintenance_at): the later of the two is its last maintenance. It is due
`maintenance_interval_days` (92, quarterly) after it, overdue past that, and listed from DUE_SOON_DAYS before.
The platform administrator sees every department's entries, a department's catalogue administrators their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, F, Max, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog import access
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import MaintenanceReminder, Resource
from govshare.core.authz import restrict
from govshare.core.errors import Conflict, NotFound, PermissionDenied
from govshare.notifications.choices import NotificationKind
from govshare.notifications.services import TITLE_MAX, notify

DUE_SOON_DAYS = 14
EXPORT_HEADERS = (
    "信息资源代码",
    "信息资源名称",
    "信息资源提供方",
    "提供方代码",
    "最近维护时间",
    "应维护日期",
    "逾期天数",
    "最近提醒时间",
)


def may_see(user: User) -> bool:
    """The list is for those who maintain the catalogue: the platform administrator and catalogue administrators."""
    return user.is_platform_admin or (user.has_role(Role.CATALOG_ADMIN) and user.department_id is not None)


@dataclass(frozen=True)
class MaintenanceFilters:
    department_code: str = ""
    overdue_only: bool = False


def _interval() -> dt.timedelta:
    return dt.timedelta(days=settings.GOVSHARE.maintenance_interval_days)


def due_entries(user: User, filters: MaintenanceFilters, *, now: dt.datetime | None = None) -> QuerySet[Resource]:
    """Published entries in the user's scope due within DUE_SOON_DAYS or overdue, the longest overdue first,
    annotated with `last_maintained` and `last_reminded`."""
    now = now or timezone.now()
    last_maintained = Greatest(
        F("updated_at"),
        Coalesce(F("department__last_full_maintenance_at"), F("updated_at")),
        output_field=DateTimeField(),
    )
    queryset = (
        restrict(Resource.objects.all(), user, access.CHANGE)
        .filter(status=ReviewStatus.PUBLISHED)
        .annotate(last_maintained=last_maintained)
        .filter(last_maintained__lt=now - _interval() + dt.timedelta(days=DUE_SOON_DAYS))
        .select_related("department")
        .annotate(last_reminded=Max("maintenance_reminders__sent_at"))
        .order_by("last_maintained", "code")
    )
    if filters.department_code:
        queryset = queryset.filter(department__code=filters.department_code)
    if filters.overdue_only:
        queryset = queryset.filter(last_maintained__lt=now - _interval())
    return queryset


@dataclass(frozen=True)
class DueEntry:
    resource: Resource
    last_maintained: dt.datetime
    due_on: dt.date
    days_overdue: int  # negative: due in that many days
    last_reminded: dt.datetime | None
    reminded_today: bool

    @property
    def days_left(self) -> int:
        return -self.days_overdue


def due_entry(resource: Resource, now: dt.datetime) -> DueEntry:
    last: dt.datetime = resource.last_maintained  # type: ignore[attr-defined]
    reminded: dt.datetime | None = resource.last_reminded  # type: ignore[attr-defined]
    due_on = timezone.localdate(last + _interval())
    today = timezone.localdate(now)
    return DueEntry(
        resource=resource,
        last_maintained=last,
        due_on=due_on,
        days_overdue=(today - due_on).days,
        last_reminded=reminded,
        reminded_today=reminded is not None and timezone.localdate(reminded) == today,
    )


def export_rows(queryset: QuerySet[Resource], now: dt.datetime) -> Iterator[tuple[object, ...]]:
    for resource in queryset.iterator(chunk_size=2000):
        entry = due_entry(resource, now)
        yield (
            resource.code,
            resource.name,
            resource.department.name,
            resource.department.code,
            timezone.localtime(entry.last_maintained).strftime("%Y-%m-%d %H:%M"),
            entry.due_on.isoformat(),
            max(entry.days_overdue, 0),
            timezone.localtime(entry.last_reminded).strftime("%Y-%m-%d %H:%M") if entry.last_reminded else "",
        )


# ---------------------------------------------------------------------------------------------- reminders


def _catalogue_admins(resource: Resource) -> QuerySet[User]:
    return User.objects.filter(
        department_id=resource.department_id, is_active=True, roles__role=Role.CATALOG_ADMIN
    ).distinct()


@transaction.atomic
def remind_department(resource_id: int, *, actor: User, now: dt.datetime | None = None) -> MaintenanceReminder:
    """Notify the entry's department's catalogue administrators that it is due for 更新维护 (at most once a day per
    entry), with an audit row. The platform administrator's action."""
    if not access.can_review(actor):
        raise PermissionDenied(gettext_noop("只有平台管理员可以发送更新维护提醒"))
    now = now or timezone.now()
    resource = Resource.objects.select_for_update().select_related("department").filter(pk=resource_id).first()
    if resource is None or resource.status != ReviewStatus.PUBLISHED:
        raise NotFound(gettext_noop("信息资源不存在或不是已发布的资源"))
    today = timezone.localdate(now)
    latest = resource.maintenance_reminders.order_by("-sent_at").first()
    if latest is not None and timezone.localdate(latest.sent_at) == today:
        raise Conflict(
            gettext("今天已提醒过“%(code)s %(name)s”（%(time)s，%(by)s），每条资源每天最多提醒一次")
            % {
                "code": resource.code,
                "name": resource.name,
                "time": f"{timezone.localtime(latest.sent_at):%H:%M}",
                "by": latest.sent_by_name,
            }
        )
    recipients = list(_catalogue_admins(resource))
    if not recipients:
        raise Conflict(
            gettext("“%(department)s”没有启用的目录管理员，提醒无人接收；请先为该部门设置目录管理员")
            % {"department": resource.department.name}
        )
    due_on = timezone.localdate(
        max(resource.updated_at, resource.department.last_full_maintenance_at or resource.updated_at) + _interval()
    )
    days = (today - due_on).days
    state = f"已逾期 {days} 天" if days > 0 else ("今天到期" if days == 0 else f"{-days} 天后到期")
    notify(
        recipients,
        kind=NotificationKind.MAINTENANCE_REMINDER,
        title=f"目录更新维护提醒：{resource.name}"[:TITLE_MAX],
        body=(
            f"信息资源“{resource.code} {resource.name}”应于 {due_on:%Y-%m-%d} 前完成更新维护（{state}）。"
            "请核对目录内容是否仍然准确，如有变化请及时修改；本部门目录全面维护后请在“目录维护”页确认。"
        ),
        link=reverse("catalog:detail", args=[resource.pk]),
        target=resource,
        now=now,
    )
    reminder = MaintenanceReminder.objects.create(
        resource=resource, sent_at=now, sent_by=actor, sent_by_name=actor.username, recipients=len(recipients)
    )
    record_action(actor, "catalog.maintenance.remind", resource, recipients=len(recipients), due_on=due_on.isoformat())
    return reminder
