"""Alerts of unusual use of the gateway, for the security officer (安全管理员): a system calling far above its usual
rate, asking for many distinct keys, calling outside working hours, or being refused again and again.

An hourly job looks at the last complete clock hours: each system's calls and refusals of the hour (`CallHour`,
kept by the recorder), its usual rate (its hourly average over the seven days before), and the distinct keys it
asked for (the audit rows' keyed hashes, counted, never read). Each finding is one `UsageAlert` (once per system,
kind and hour), audited and notified to every active security officer. The thresholds are `Thresholds`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from govshare.accounts.models import User
from govshare.audit.selectors import distinct_objects
from govshare.audit.services import record_action
from govshare.core import workdays
from govshare.core.roles import Role
from govshare.gateway.choices import AlertKind
from govshare.gateway.models import CallHour, UsageAlert
from govshare.notifications.choices import NotificationKind
from govshare.notifications.services import notify

HOUR = dt.timedelta(hours=1)
BASELINE = dt.timedelta(days=7)


@dataclass(frozen=True)
class Thresholds:
    rate_factor: float = 5.0  # calls in the hour at least this many times the usual hourly rate …
    rate_min_calls: int = 200  # … and at least this many (a quiet system's first busy hour is not an alert)
    distinct_keys: int = 1_000  # distinct keys asked in one hour
    off_hours_calls: int = 50  # calls in one hour outside working hours
    refusals: int = 30  # refused calls in one hour
    working_hours: tuple[int, int] = (8, 20)  # local time, on working days


def _working_hour(hour: dt.datetime, thresholds: Thresholds) -> bool:
    local = timezone.localtime(hour)
    start, end = thresholds.working_hours
    if not start <= local.hour < end:
        return False
    try:
        return workdays.calendar().is_working_day(local.date())
    except workdays.CalendarUnknown:
        return local.weekday() < 5  # a year nobody entered: weekdays, rather than no alert at all


def watch_usage(now: dt.datetime | None = None, thresholds: Thresholds | None = None) -> list[UsageAlert]:
    """Check the two last complete hours (the hourly job may run late) and raise what is unusual."""
    thresholds = thresholds or Thresholds()
    current = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    raised: list[UsageAlert] = []
    for hour in (current - 2 * HOUR, current - HOUR):
        for row in CallHour.objects.filter(hour=hour).select_related("system"):
            raised.extend(_check(row, thresholds))
    return raised


def _check(row: CallHour, thresholds: Thresholds) -> list[UsageAlert]:
    system, hour = row.system, row.hour
    before = CallHour.objects.filter(system=system, hour__gte=hour - BASELINE, hour__lt=hour)
    usual = (before.aggregate(total=Sum("calls"))["total"] or 0) / (BASELINE / HOUR)
    found: list[tuple[str, int, float | None, str]] = []
    if row.calls >= max(thresholds.rate_min_calls, thresholds.rate_factor * usual):
        found.append((AlertKind.RATE, row.calls, usual, f"本小时调用 {row.calls} 次，近 7 天平均每小时 {usual:.1f} 次"))
    if row.refused >= thresholds.refusals:
        found.append((AlertKind.REFUSALS, row.refused, None, f"本小时 {row.refused} 次调用被拒绝"))
    if row.calls >= thresholds.off_hours_calls and not _working_hour(hour, thresholds):
        found.append((AlertKind.OFF_HOURS, row.calls, None, f"非工作时间调用 {row.calls} 次"))
    keys = distinct_objects(system.audit_name, "gateway.key", hour, hour + HOUR)
    if keys >= thresholds.distinct_keys:
        found.append((AlertKind.KEYS, keys, None, f"本小时查询了 {keys} 个不同的查询键"))
    return [alert for kind, observed, base, detail in found if (alert := _raise(row, kind, observed, base, detail))]


def _raise(row: CallHour, kind: str, observed: int, usual: float | None, detail: str) -> UsageAlert | None:
    try:
        with transaction.atomic():
            alert = UsageAlert.objects.create(
                system=row.system, kind=kind, hour=row.hour, observed=observed, usual=usual, detail=detail
            )
            record_action(
                None,
                "gateway.alert.raise",
                alert,
                system=row.system.code,
                kind=kind,
                hour=row.hour.isoformat(),
                observed=observed,
            )
            officers = User.objects.filter(is_active=True, roles__role=Role.SECURITY_OFFICER).distinct()
            local = timezone.localtime(row.hour)
            notify(
                officers,
                kind=NotificationKind.GATEWAY_ALERT,
                title=f"网关异常调用：{row.system.name}（{AlertKind(kind).label}）",
                body=f"接入系统“{row.system}”在 {local:%Y-%m-%d %H}:00 起的一小时内：{detail}。请核查其调用是否正常。",
                target=alert,
            )
    except IntegrityError:
        return None  # raised already (another run of the job)
    return alert
