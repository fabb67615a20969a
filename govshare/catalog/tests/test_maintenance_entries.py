"""更新维护 of published entries: the list (overdue first, days overdue, filters), its export and the 提醒."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department
from govshare.audit.models import AuditLog
from govshare.catalog import maintenance
from govshare.catalog.maintenance import MaintenanceFilters
from govshare.catalog.models import MaintenanceReminder, Resource
from govshare.core.errors import Conflict, PermissionDenied
from govshare.notifications.choices import NotificationKind
from govshare.notifications.models import Notification
from govshare.testing.clock import T0

pytestmark = pytest.mark.django_db
LIST = reverse("catalog:maintenance_entries")
EXPORT = reverse("catalog:maintenance_export")


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def published(department: Department, name: str, *, last_changed: dt.datetime) -> Resource:
    resource = testing.make_published_resource(department, name=name)
    Resource.objects.filter(pk=resource.pk).update(updated_at=last_changed)
    return resource


def days_ago(n: int, now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=n)


def names(queryset) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.name for r in queryset]


# ------------------------------------------------------------------------------------------------ the list


def test_the_longest_overdue_entry_comes_first(department, platform_admin) -> None:
    published(department, "甲信息", last_changed=days_ago(100, T0))
    published(department, "乙信息", last_changed=days_ago(300, T0))
    published(department, "丙信息", last_changed=days_ago(10, T0))  # not due for months: not listed
    assert names(maintenance.due_entries(platform_admin, MaintenanceFilters(), now=T0)) == ["乙信息", "甲信息"]


def test_entries_due_within_two_weeks_are_listed_as_not_yet_overdue(department, platform_admin) -> None:
    published(department, "甲信息", last_changed=days_ago(85, T0))  # due in 7 days (interval 92)
    [resource] = maintenance.due_entries(platform_admin, MaintenanceFilters(), now=T0)
    assert maintenance.due_entry(resource, T0).days_overdue == -7


def test_days_overdue_count_from_the_due_date(department, platform_admin) -> None:
    published(department, "甲信息", last_changed=days_ago(100, T0))
    [resource] = maintenance.due_entries(platform_admin, MaintenanceFilters(), now=T0)
    assert maintenance.due_entry(resource, T0).days_overdue == 8


def test_a_confirmed_full_maintenance_of_the_department_counts_as_maintaining_its_entries(
    department, platform_admin
) -> None:
    published(department, "甲信息", last_changed=days_ago(300, T0))
    Department.objects.filter(pk=department.pk).update(last_full_maintenance_at=days_ago(5, T0))
    assert names(maintenance.due_entries(platform_admin, MaintenanceFilters(), now=T0)) == []


def test_overdue_only_leaves_out_entries_not_yet_due(department, platform_admin) -> None:
    published(department, "甲信息", last_changed=days_ago(100, T0))
    published(department, "乙信息", last_changed=days_ago(85, T0))
    overdue = maintenance.due_entries(platform_admin, MaintenanceFilters(overdue_only=True), now=T0)
    assert names(overdue) == ["甲信息"]


def test_the_list_filters_by_department(department, other_department, platform_admin) -> None:
    published(department, "甲信息", last_changed=days_ago(100, T0))
    published(other_department, "乙信息", last_changed=days_ago(100, T0))
    found = maintenance.due_entries(platform_admin, MaintenanceFilters(department_code=other_department.code), now=T0)
    assert names(found) == ["乙信息"]


def test_a_department_admin_sees_only_the_own_departments_entries(department, other_department, catalog_admin) -> None:
    published(department, "甲信息", last_changed=days_ago(100, T0))
    published(other_department, "乙信息", last_changed=days_ago(100, T0))
    assert names(maintenance.due_entries(catalog_admin, MaintenanceFilters(), now=T0)) == ["甲信息"]


def test_the_page_shows_days_overdue_and_the_remind_button(department, platform_admin) -> None:
    resource = published(department, "甲信息", last_changed=days_ago(100))
    page = client_for(platform_admin).get(LIST).content.decode()
    assert "逾期 8 天" in page and reverse("catalog:maintenance_remind", args=[resource.pk]) in page


def test_the_page_is_not_there_for_a_consumer(department) -> None:
    consumer = testing.make_user(Role.CONSUMER, department=department)
    assert client_for(consumer).get(LIST).status_code == 404


def test_a_department_admin_sees_no_remind_button(department, catalog_admin) -> None:
    published(department, "甲信息", last_changed=days_ago(100))
    page = client_for(catalog_admin).get(LIST).content.decode()
    assert "甲信息" in page and "/remind/" not in page


# ------------------------------------------------------------------------------------------------ export


def exported(client: Client, query: dict[str, str] | None = None) -> list[list[str]]:
    response = client.get(EXPORT, query or {})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(text)))


def test_the_export_has_every_row_with_days_overdue(department, platform_admin, settings) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"page_size": 1})
    published(department, "甲信息", last_changed=days_ago(100))
    published(department, "乙信息", last_changed=days_ago(300))
    rows = exported(client_for(platform_admin))
    assert rows[0][:3] == ["信息资源代码", "信息资源名称", "信息资源提供方"]
    assert [(row[1], row[6]) for row in rows[1:]] == [("乙信息", "208"), ("甲信息", "8")]


def test_the_export_keeps_the_filters(department, platform_admin) -> None:
    published(department, "甲信息", last_changed=days_ago(100))
    published(department, "乙信息", last_changed=days_ago(85))
    rows = exported(client_for(platform_admin), {"overdue": "1"})
    assert [row[1] for row in rows[1:]] == ["甲信息"]


def test_attack_the_export_keeps_a_department_admin_to_the_own_department(
    department, other_department, catalog_admin
) -> None:
    published(other_department, "乙信息", last_changed=days_ago(100))
    rows = exported(client_for(catalog_admin), {"department": other_department.code})
    assert rows[1:] == []


def test_attack_a_name_that_looks_like_a_formula_is_exported_as_text(department, platform_admin) -> None:
    published(department, "=HYPERLINK(1)信息", last_changed=days_ago(100))
    rows = exported(client_for(platform_admin))
    assert rows[1][1] == "'=HYPERLINK(1)信息"


# ------------------------------------------------------------------------------------------------ 提醒


def test_a_reminder_reaches_the_departments_catalogue_admins(department, catalog_admin, platform_admin) -> None:
    resource = published(department, "甲信息", last_changed=days_ago(100, T0))
    maintenance.remind_department(resource.pk, actor=platform_admin, now=T0)
    note = Notification.objects.get(recipient=catalog_admin, kind=NotificationKind.MAINTENANCE_REMINDER)
    assert "甲信息" in note.title and "已逾期 8 天" in note.body and note.link == f"/catalog/resources/{resource.pk}/"


def test_a_reminder_reaches_no_one_outside_the_department(department, outsider, platform_admin) -> None:
    resource = published(department, "甲信息", last_changed=days_ago(100, T0))
    testing.make_user(Role.CATALOG_ADMIN, department=department)
    maintenance.remind_department(resource.pk, actor=platform_admin, now=T0)
    assert not Notification.objects.filter(recipient=outsider, kind=NotificationKind.MAINTENANCE_REMINDER).exists()


def test_a_reminder_is_audited(department, catalog_admin, platform_admin) -> None:
    resource = published(department, "甲信息", last_changed=days_ago(100, T0))
    maintenance.remind_department(resource.pk, actor=platform_admin, now=T0)
    row = AuditLog.objects.get(action="catalog.maintenance.remind")
    assert row.object_id == str(resource.pk) and row.actor_id == platform_admin.pk


def test_an_entry_is_reminded_at_most_once_a_day(department, catalog_admin, platform_admin) -> None:
    resource = published(department, "甲信息", last_changed=days_ago(100, T0))
    maintenance.remind_department(resource.pk, actor=platform_admin, now=T0)
    with pytest.raises(Conflict, match="每条资源每天最多提醒一次"):
        maintenance.remind_department(resource.pk, actor=platform_admin, now=T0 + dt.timedelta(hours=3))
    assert Notification.objects.filter(recipient=catalog_admin, kind=NotificationKind.MAINTENANCE_REMINDER).count() == 1


def test_an_entry_may_be_reminded_again_the_next_day(department, catalog_admin, platform_admin) -> None:
    resource = published(department, "甲信息", last_changed=days_ago(100, T0))
    maintenance.remind_department(resource.pk, actor=platform_admin, now=T0)
    maintenance.remind_department(resource.pk, actor=platform_admin, now=T0 + dt.timedelta(days=1))
    assert MaintenanceReminder.objects.filter(resource=resource).count() == 2


def test_a_department_without_catalogue_admins_is_named_and_nothing_is_recorded(department, platform_admin) -> None:
    resource = published(department, "甲信息", last_changed=days_ago(100, T0))
    for user in department.users.all():
        user.is_active = False
        user.save(update_fields=["is_active"])
    with pytest.raises(Conflict, match="没有启用的目录管理员"):
        maintenance.remind_department(resource.pk, actor=platform_admin, now=T0)
    assert not MaintenanceReminder.objects.exists()


def test_attack_a_department_admin_cannot_send_reminders(department, catalog_admin) -> None:
    resource = published(department, "甲信息", last_changed=days_ago(100, T0))
    with pytest.raises(PermissionDenied):
        maintenance.remind_department(resource.pk, actor=catalog_admin, now=T0)
    response = client_for(catalog_admin).post(reverse("catalog:maintenance_remind", args=[resource.pk]))
    assert response.status_code == 404
    assert not Notification.objects.filter(kind=NotificationKind.MAINTENANCE_REMINDER).exists()


def test_reminding_from_the_page_says_who_was_reached_and_marks_the_row(
    department, catalog_admin, platform_admin
) -> None:
    resource = published(department, "甲信息", last_changed=days_ago(100))
    client = client_for(platform_admin)
    response = client.post(reverse("catalog:maintenance_remind", args=[resource.pk]), {"next": LIST}, follow=True)
    page = response.content.decode()
    # catalog_admin and the administrator who catalogued the entry (make_published_resource)
    assert f"已提醒{department.name}的 2 位目录管理员" in page and "今天已提醒" in page
