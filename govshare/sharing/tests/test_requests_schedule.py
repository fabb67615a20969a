"""The share requests' deadlines are followed by themselves: `migrate` leaves a daily django-q schedule whose task
reminds the deciders, escalates overdue lines to the coordinator and answers (and logs) its counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django_q.models import Schedule

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.core.workdays import add_working_days
from govshare.datasets import scopes
from govshare.jobs import registry
from govshare.notifications.models import Notification
from govshare.sharing import jobs
from govshare.sharing.choices import RequestAction
from govshare.sharing.models import ShareRequestEvent, ShareRequestLine
from govshare.testing.share_requests import submitted_one as submitted
from govshare.testing.sharing import PEOPLE_ITEMS, TODAY

pytestmark = pytest.mark.django_db


def run_scheduled_task(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> object:
    """The task the deadlines' schedule names, run as a worker runs it, on `day`."""
    monkeypatch.setattr(scopes, "clock", lambda: day)
    schedule = Schedule.objects.get(name=jobs.DEADLINES_SCHEDULE_NAME)
    scheduled = registry.scheduled_task(schedule.func, schedule.args)
    assert scheduled is not None
    name, args = scheduled
    return registry.task_function(name)(*args)


def overdue_setting() -> tuple[ShareRequestLine, User, dt.date]:
    provider = testing.make_department("市公安局")
    consumer = testing.make_user(Role.CONSUMER, department=testing.make_department("市医保局"))
    coordinator = testing.make_user(Role.COORDINATOR, department=testing.make_department("市大数据局"))
    testing.make_user(Role.DEPT_REVIEWER, department=provider)
    resource = testing.make_published_resource(provider, items=PEOPLE_ITEMS, data_level="L2", name="常住人口基本信息")
    request = submitted(consumer, resource, items=["公民身份号码", "姓名"])
    line = request.lines.get()
    assert line.due_on == add_working_days(TODAY, 10)
    return line, coordinator, line.due_on


def test_migrate_leaves_a_daily_schedule_of_the_deadlines() -> None:
    schedule = Schedule.objects.get(name=jobs.DEADLINES_SCHEDULE_NAME)
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
    assert registry.scheduled_task(schedule.func, schedule.args) == (jobs.FOLLOW_REQUEST_DEADLINES, ())


def test_each_task_has_its_own_schedule() -> None:
    tasks = {
        registry.scheduled_task(s.func, s.args)
        for s in Schedule.objects.filter(name__in=[jobs.DEADLINES_SCHEDULE_NAME, jobs.REMIND_SCHEDULE_NAME])
    }
    assert tasks == {(jobs.FOLLOW_REQUEST_DEADLINES, ()), (jobs.REMIND_LAPSING_GRANTS, ())}


def test_keeping_the_schedule_again_leaves_one_row() -> None:
    jobs.ensure_schedule()
    jobs.ensure_schedule()
    assert Schedule.objects.filter(name=jobs.DEADLINES_SCHEDULE_NAME).count() == 1


def test_the_scheduled_task_escalates_an_overdue_line_once_and_answers_its_counts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    line, coordinator, due_on = overdue_setting()
    day_after = due_on + dt.timedelta(days=1)
    with caplog.at_level("INFO", logger=jobs.__name__):
        counts = run_scheduled_task(monkeypatch, day_after)
    assert counts == {"computed": 0, "reminded": 0, "escalated": 1}
    assert "0 computed, 0 reminded, 1 escalated" in caplog.text
    line.refresh_from_db()
    assert line.escalated_at is not None
    assert Notification.objects.filter(recipient=coordinator, title__startswith="共享申请逾期未办").exists()
    assert run_scheduled_task(monkeypatch, day_after) == {"computed": 0, "reminded": 0, "escalated": 0}
    assert ShareRequestEvent.objects.filter(line=line, action=RequestAction.ESCALATE).count() == 1


def test_the_scheduled_task_reminds_the_provider_before_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    line, _, due_on = overdue_setting()
    reviewer = User.objects.get(department=line.resource.department, roles__role=Role.DEPT_REVIEWER)
    assert run_scheduled_task(monkeypatch, due_on) == {"computed": 0, "reminded": 1, "escalated": 0}
    assert Notification.objects.filter(recipient=reviewer, title__startswith="共享申请即将到期").exists()
