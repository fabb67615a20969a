"""The security officer is told of unusual use: a system calling far above its usual rate, asking for many distinct
keys, calling outside working hours, or refused again and again — once per system, kind and hour."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.gateway.alerts import Thresholds, watch_usage
from govshare.gateway.choices import AlertKind
from govshare.gateway.models import CallHour, UsageAlert
from govshare.notifications.models import Notification
from govshare.sharing.models import Grant
from govshare.testing.gateway import Consumer

ZHANG = "510603199001010011"
LOCAL = ZoneInfo("Asia/Shanghai")  # the platform's time zone
QUIET = Thresholds(rate_min_calls=10**9, distinct_keys=10**9, off_hours_calls=10**9, refusals=10**9)


@pytest.fixture
def officer(db: None) -> User:
    return testing.make_user(Role.SECURITY_OFFICER, department=testing.make_department("市大数据局"))


def this_hour() -> dt.datetime:
    return timezone.now().replace(minute=0, second=0, microsecond=0)


def lookups(people: Resource, consumer: Consumer, keys: list[str], scenario: int | None = None) -> None:
    for key in keys:
        consumer.client.lookup(people, {"scenario": scenario or consumer.scenario.pk, "key": {"公民身份号码": key}})


def test_calls_are_counted_per_system_and_hour(people: Resource, consumer: Consumer, grant: Grant) -> None:
    lookups(people, consumer, [ZHANG] * 3)
    lookups(people, consumer, [ZHANG], scenario=consumer.scenario.pk + 1000)  # refused: no grant
    row = CallHour.objects.get(system=consumer.system)
    assert (row.hour, row.calls, row.refused) == (this_hour(), 4, 1)


def test_a_rate_far_above_the_usual_is_told_to_the_security_officer(
    people: Resource, consumer: Consumer, grant: Grant, officer: User
) -> None:
    hour = this_hour()
    for n in range(1, 8 * 24):  # the week before: 1 call an hour
        CallHour.objects.create(system=consumer.system, hour=hour - dt.timedelta(hours=n), calls=1)
    lookups(people, consumer, [ZHANG] * 6)
    [alert] = watch_usage(hour + dt.timedelta(hours=1), Thresholds(rate_factor=5, rate_min_calls=6))
    assert (alert.kind, alert.observed, round(alert.usual or 0, 1)) == (AlertKind.RATE, 6, 1.0)
    notice = Notification.objects.get(recipient=officer)
    assert consumer.system.name in notice.title and "近 7 天平均每小时 1.0 次" in notice.body
    assert AuditLog.objects.filter(action="gateway.alert.raise", object_id=str(alert.pk)).exists()


def test_an_alert_is_raised_once_per_system_kind_and_hour(
    people: Resource, consumer: Consumer, grant: Grant, officer: User
) -> None:
    lookups(people, consumer, [ZHANG] * 3)
    later = this_hour() + dt.timedelta(hours=1)
    assert len(watch_usage(later, Thresholds(rate_min_calls=3))) == 1
    assert watch_usage(later, Thresholds(rate_min_calls=3)) == []
    assert UsageAlert.objects.count() == 1


def test_many_distinct_keys_in_an_hour_raise_an_alert(
    people: Resource, consumer: Consumer, grant: Grant, officer: User
) -> None:
    keys = [f"5106031990010100{n:02d}" for n in range(5)]
    lookups(people, consumer, keys + keys)
    [alert] = watch_usage(this_hour() + dt.timedelta(hours=1), Thresholds(rate_min_calls=10**9, distinct_keys=5))
    assert (alert.kind, alert.observed) == (AlertKind.KEYS, 5)


def test_repeated_refusals_raise_an_alert(people: Resource, consumer: Consumer, grant: Grant, officer: User) -> None:
    lookups(people, consumer, [ZHANG] * 3, scenario=consumer.scenario.pk + 1000)
    [alert] = watch_usage(this_hour() + dt.timedelta(hours=1), Thresholds(rate_min_calls=10**9, refusals=3))
    assert (alert.kind, alert.observed) == (AlertKind.REFUSALS, 3)


def test_calls_at_night_raise_an_alert(consumer: Consumer, officer: User) -> None:
    night = dt.datetime(2026, 3, 4, 3, 0, tzinfo=LOCAL)  # a Wednesday, 03:00 local time
    CallHour.objects.create(system=consumer.system, hour=night, calls=60)
    [alert] = watch_usage(night + dt.timedelta(hours=1), Thresholds(rate_min_calls=10**9))
    assert (alert.kind, alert.observed) == (AlertKind.OFF_HOURS, 60)


def test_the_same_calls_in_working_hours_raise_nothing(consumer: Consumer, officer: User) -> None:
    morning = dt.datetime(2026, 3, 4, 10, 0, tzinfo=LOCAL)
    CallHour.objects.create(system=consumer.system, hour=morning, calls=60)
    assert watch_usage(morning + dt.timedelta(hours=1), Thresholds(rate_min_calls=10**9)) == []


def test_usual_use_raises_nothing(people: Resource, consumer: Consumer, grant: Grant, officer: User) -> None:
    lookups(people, consumer, [ZHANG] * 3)
    assert watch_usage(this_hour() + dt.timedelta(hours=1)) == []
    assert watch_usage(this_hour() + dt.timedelta(hours=1), QUIET) == []
