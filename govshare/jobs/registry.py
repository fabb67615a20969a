"""Tasks by stable name, and how they reach django-q's queue and schedules.

Every queued task and every schedule stores `RUNNER` as its function and `(name, *args)` as its arguments; the
runner looks the name up here when a worker runs it. Names are "<app>.<verb>" (`datasets.run_load`)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django_q.tasks import async_task

RUNNER = "govshare.jobs.runner.run"

_TASKS: dict[str, Callable[..., Any]] = {}


class UnknownTask(LookupError):
    pass


def register_task(name: str, function: Callable[..., Any]) -> None:
    """Declare the function a task name runs (once, from the owning app's `AppConfig.ready`)."""
    known = _TASKS.get(name)
    if known is not None and known is not function:
        raise ValueError(f"任务名“{name}”已登记为 {known.__module__}.{known.__qualname__}")
    _TASKS[name] = function


def task_function(name: str) -> Callable[..., Any]:
    try:
        return _TASKS[name]
    except KeyError:
        raise UnknownTask(f"没有登记名为“{name}”的后台任务") from None


def enqueue(name: str, *args: Any, task_name: str, group: str) -> str:
    """Put the task in the queue now (the caller is outside a transaction, or wants it queued regardless)."""
    task_function(name)  # an unknown name is refused here, not by a worker later
    task_id: str = async_task(RUNNER, name, *args, task_name=task_name, group=group)
    return task_id


def enqueue_after_commit(name: str, *args: Any, task_name: str, group: str) -> None:
    """Queue the task once the caller's transaction commits (a worker must never see uncommitted rows)."""
    task_function(name)
    transaction.on_commit(lambda: enqueue(name, *args, task_name=task_name, group=group))


def schedule_fields(name: str, *args: Any) -> dict[str, str]:
    """The `func` and `args` of a django-q Schedule that runs the task."""
    task_function(name)
    return {"func": RUNNER, "args": repr((name, *args))}


def scheduled_task(func: str, args: str | None) -> tuple[str, tuple[Any, ...]] | None:
    """(name, arguments) of a Schedule row's task, or None for one that is not a registered task's."""
    if func != RUNNER or not args:
        return None
    try:
        parsed = ast.literal_eval(args)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(parsed, tuple) or not parsed or not isinstance(parsed[0], str):
        return None
    return parsed[0], parsed[1:]


def queued_task(func: object, args: object) -> tuple[str, tuple[Any, ...]] | None:
    """(name, arguments) of a queued task's payload, or None for one that is not a registered task's."""
    if func != RUNNER or not isinstance(args, tuple) or not args or not isinstance(args[0], str):
        return None
    return args[0], args[1:]


def keep_schedule(schedule_name: str, task: str, schedule_type: str) -> None:
    """A django-q schedule that runs the registered task for ever (idempotent: created or brought up to date)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=schedule_name,
        defaults={
            **schedule_fields(task),
            "kwargs": repr({"q_options": {"task_name": schedule_name}}),
            "schedule_type": schedule_type,
            "repeats": -1,
        },
    )


def keep_schedule_once_migrated(using: str, schedule_name: str, task: str, schedule_type: str) -> None:
    """`keep_schedule` from a post_migrate receiver: only once django-q's tables exist (a partial migrate may leave
    them missing)."""
    from django.db import connections
    from django_q.models import Schedule

    if Schedule._meta.db_table in set(connections[using].introspection.table_names()):
        keep_schedule(schedule_name, task, schedule_type)
