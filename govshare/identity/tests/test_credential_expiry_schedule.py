"""Credentials rotated out are revoked for good by an hourly django-q schedule that `migrate` leaves."""

from __future__ import annotations

import pytest
from django_q.models import Schedule

from govshare.identity import jobs
from govshare.jobs import registry

pytestmark = pytest.mark.django_db


def test_migrate_leaves_an_hourly_schedule_that_ends_expired_credentials() -> None:
    schedule = Schedule.objects.get(name=jobs.CREDENTIAL_SCHEDULE_NAME)
    assert schedule.schedule_type == Schedule.HOURLY and schedule.repeats == -1
    scheduled = registry.scheduled_task(schedule.func, schedule.args)
    assert scheduled == (jobs.END_EXPIRED_CREDENTIALS, ())
    assert registry.task_function(jobs.END_EXPIRED_CREDENTIALS)() == 0  # nothing has expired in an empty city
