"""The lapse reminder runs by itself: `migrate` leaves a daily django-q schedule whose task reminds the parties."""

from __future__ import annotations

import pytest
from django_q.models import Schedule

from govshare import testing
from govshare.accounts.models import Department, User
from govshare.jobs import registry
from govshare.notifications.models import Notification
from govshare.sharing import jobs
from govshare.testing.sharing import PEOPLE_ITEMS, issue

pytestmark = pytest.mark.django_db


def test_migrate_leaves_a_daily_schedule_of_the_reminder() -> None:
    schedule = Schedule.objects.get(name=jobs.REMIND_SCHEDULE_NAME)
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
    assert registry.scheduled_task(schedule.func, schedule.args) == (jobs.REMIND_LAPSING_GRANTS, ())


def test_the_scheduled_task_reminds_a_grant_whose_review_falls_due(
    provider: Department, consumer_department: Department, consumer: User
) -> None:
    resource = testing.make_published_resource(provider, items=PEOPLE_ITEMS, data_level="L2", name="常住人口基本信息")
    issue(resource, consumer_department, review_interval_days=10)
    schedule = Schedule.objects.get(name=jobs.REMIND_SCHEDULE_NAME)
    scheduled = registry.scheduled_task(schedule.func, schedule.args)
    assert scheduled is not None
    name, args = scheduled
    assert registry.task_function(name)(*args) == 1
    assert Notification.objects.filter(recipient=consumer, title__startswith="共享授权即将失效").exists()
    assert registry.task_function(name)(*args) == 0  # once per review cycle
