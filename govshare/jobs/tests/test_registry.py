"""Tasks by stable name: what django-q stores is the runner and the task's name, never a module path."""

from __future__ import annotations

from typing import Any

import pytest
from django_q.models import OrmQ

from govshare.jobs import registry, runner

pytestmark = pytest.mark.django_db


def add(a: int, b: int) -> int:
    return a + b


@pytest.fixture(autouse=True)
def _add_task() -> None:
    registry.register_task("tests.add", add)


def test_the_runner_runs_the_task_registered_under_the_name() -> None:
    assert runner.run("tests.add", 2, 3) == 5


def test_a_name_runs_one_function() -> None:
    registry.register_task("tests.add", add)  # the same again: fine
    with pytest.raises(ValueError, match=r"tests\.add"):
        registry.register_task("tests.add", lambda a, b: a - b)


def test_an_unknown_name_is_refused_when_queued_not_later_by_a_worker() -> None:
    with pytest.raises(registry.UnknownTask, match=r"tests\.nothing"):
        registry.enqueue("tests.nothing", task_name="x", group="x")
    assert not OrmQ.objects.exists()


def test_a_queued_task_stores_the_runner_and_the_name() -> None:
    registry.enqueue("tests.add", 2, 3, task_name="add-1", group="adds")
    [row] = OrmQ.objects.all()
    assert (row.task["func"], row.task["args"]) == (registry.RUNNER, ("tests.add", 2, 3))
    assert registry.queued_task(row.task["func"], row.task["args"]) == ("tests.add", (2, 3))


def test_a_task_is_queued_only_when_the_transaction_commits(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        registry.enqueue_after_commit("tests.add", 1, 1, task_name="add-2", group="adds")
        assert not OrmQ.objects.exists()
    assert OrmQ.objects.count() == 1


def test_schedule_fields_name_the_task_and_read_back() -> None:
    fields = registry.schedule_fields("tests.add", 4, 5)
    assert fields == {"func": registry.RUNNER, "args": "('tests.add', 4, 5)"}
    assert registry.scheduled_task(fields["func"], fields["args"]) == ("tests.add", (4, 5))
    assert registry.scheduled_task("some.module.function", "(1,)") is None
    assert registry.scheduled_task(registry.RUNNER, "not python") is None
