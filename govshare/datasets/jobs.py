"""Background jobs of data collection, on django-q2 with its ORM broker (the queue is a table of the metadata
database: no extra server), registered with govshare.jobs under stable names (`datasets.run_load`,
`datasets.run_scheduled_load`, `datasets.recover_stale_loads`).

What runs where:
- `enqueue_load` puts one task (`datasets.run_load`) in django-q's queue; a `govshare qcluster` worker runs it, and
  `loading.run_load` does the work, reporting into the Load row (the truth users see).
- A load that hits a retryable error goes RETRYING; `schedule_retry` makes a one-off django-q Schedule at its
  `next_attempt_at` (the backoff), so the retry survives a restart of every process.
- A worker killed with -9 leaves its load RUNNING with a heartbeat that stops. `recover_stale_loads` (a django-q
  Schedule every minute, and once more whenever a worker process starts) re-queues such a load, or fails it with
  a clear message when its attempts are used up. django-q would also re-deliver the lost task after Q_CLUSTER
  `retry` seconds; that late delivery finds the load finished and does nothing (loads are idempotent).
- Each active source with `schedule_enabled` gets one Schedule named `source-<id>` from its resource's update cycle
  (实时 every `load_realtime_minutes`, 每日 … 每年 as cron expressions at night); `sync_source_schedule` keeps
  it in step with the source and `ensure_schedules` (run after every `migrate`) with all of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule

from govshare.audit.services import record_action
from govshare.catalog.choices import UpdateCycle
from govshare.catalog.models import Resource
from govshare.core.errors import DomainError
from govshare.datasets.choices import LoadStatus
from govshare.datasets.models import Dataset, Load
from govshare.jobs import registry
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source

__all__ = [
    "RECOVER_SCHEDULE_NAME",
    "RecoveryReport",
    "allowed_age",
    "cycle_schedule",
    "enqueue_load",
    "ensure_schedules",
    "is_timely",
    "recover_stale_loads",
    "run_load_job",
    "run_scheduled_load",
    "schedule_retry",
    "source_schedule_name",
    "sync_source_schedule",
]

logger = logging.getLogger(__name__)

# The tasks' stable names (govshare.jobs.registry): django-q stores these, never a module path.
RUN_LOAD = "datasets.run_load"
RUN_SCHEDULED_LOAD = "datasets.run_scheduled_load"
RECOVER_STALE_LOADS = "datasets.recover_stale_loads"
# Where the tasks were stored by module path (releases before the job registry): the migration datasets.0008 moves
# the schedules to the runner; a task already queued under the old path still runs and is still recognised.
LEGACY_RUN_LOAD_FUNC = "govshare.datasets.jobs.run_load_job"
RECOVER_SCHEDULE_NAME = "govshare-recover-stale-loads"
# A RETRYING load whose retry time passed this long ago without any run lost its schedule: it is queued again.
RETRY_OVERDUE = timedelta(minutes=5)
# A QUEUED load this old without a task in django-q's queue lost it (its requesting process died between its commit
# and the enqueue, or django-q dropped the task): it is queued again.
QUEUED_WITHOUT_TASK = timedelta(minutes=1)
# When this process set Django up: in `govshare qcluster`, the main process before it forks the sentinel, pusher and
# workers. A task locked before this moment was taken by another (earlier) cluster's pusher, never by this one's.
PROCESS_STARTED_AT = timezone.now()
# Scheduled loads of the slower cycles start at night (local time), spread over the hour by source id.
SCHEDULE_HOUR = 2
_CRON_BY_CYCLE = {
    UpdateCycle.DAILY: "{minute} {hour} * * *",
    UpdateCycle.WEEKLY: "{minute} {hour} * * 1",
    UpdateCycle.MONTHLY: "{minute} {hour} 1 * *",
    UpdateCycle.QUARTERLY: "{minute} {hour} 1 1,4,7,10 *",
    UpdateCycle.HALF_YEARLY: "{minute} {hour} 1 1,7 *",
    UpdateCycle.YEARLY: "{minute} {hour} 1 1 *",
}
# Timeliness: the last successful load must be at most this old. The period of the cycle plus a grace for the
# scheduled run's start time, the load's duration and a retry (about a quarter of the period, 1 day at least for
# the slower cycles); 实时 allows one hour.
_ALLOWED_AGE = {
    UpdateCycle.REALTIME: timedelta(hours=1),
    UpdateCycle.DAILY: timedelta(days=1, hours=6),
    UpdateCycle.WEEKLY: timedelta(days=8),
    UpdateCycle.MONTHLY: timedelta(days=31 + 7),
    UpdateCycle.QUARTERLY: timedelta(days=92 + 14),
    UpdateCycle.HALF_YEARLY: timedelta(days=184 + 30),
    UpdateCycle.YEARLY: timedelta(days=366 + 30),
}


# --- running loads ----------------------------------------------------------------------------------------------


def _task_name(load: Load, attempt: int) -> str:
    return f"load-{load.pk}-attempt-{attempt}"


def _group(load: Load) -> str:
    return f"load-{load.pk}"


def enqueue_load(load: Load) -> str:
    """Queue the load for a worker of `govshare qcluster`; returns django-q's task id."""
    return registry.enqueue(RUN_LOAD, load.pk, task_name=_task_name(load, load.attempts + 1), group=_group(load))


def run_load_job(load_id: int) -> None:
    """The task a worker runs: claim and run the load (quietly nothing when it is finished or held elsewhere)."""
    from govshare.datasets import loading

    loading.run_load(load_id)


def schedule_retry(load: Load) -> Schedule:
    """A one-off django-q Schedule that runs the load again at its `next_attempt_at` (the backoff)."""
    next_run = load.next_attempt_at or timezone.now()
    schedule, _ = Schedule.objects.update_or_create(
        name=f"load-{load.pk}-retry-{load.attempts}",
        defaults={
            **registry.schedule_fields(RUN_LOAD, load.pk),
            "kwargs": repr(
                {"q_options": {"task_name": _task_name(load, load.attempts + 1), "group": f"load-{load.pk}"}}
            ),
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": next_run,
        },
    )
    return schedule


# --- recovery ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryReport:
    requeued: list[int]  # RUNNING loads whose worker died, queued again
    failed: list[int]  # RUNNING loads whose worker died on their last attempt
    overdue: list[int]  # RETRYING loads whose retry never ran, queued again
    lost: list[int]  # QUEUED loads whose task was lost, queued again

    @property
    def total(self) -> int:
        return len(self.requeued) + len(self.failed) + len(self.overdue) + len(self.lost)


def _log_line(now: datetime, message: str) -> Concat:
    stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S")
    return Concat(F("log"), Value(f"{stamp} {message}\n"))


def _recover_dead(load: Load, now: datetime, stale_seconds: int) -> str | None:
    """Compare-and-set on the row as it was read, so that two sweeps (or a late heartbeat) never both act."""
    silent = f"执行进程失联（第 {load.attempts} 次尝试，心跳已超过 {stale_seconds} 秒未更新，进程可能被终止）"
    exhausted = load.attempts >= load.max_attempts
    if exhausted:
        message = f"{silent}，已达最多尝试次数 {load.max_attempts} 次，归集失败；上一版本数据保持不变。"
        changes: dict[str, Any] = {
            "status": LoadStatus.FAILED,
            "finished_at": now,
            "next_attempt_at": None,
        }
    else:
        message = f"{silent}，已重新排队（将进行第 {load.attempts + 1} 次尝试，最多 {load.max_attempts} 次）。"
        changes = {"status": LoadStatus.RETRYING, "next_attempt_at": now}
    with transaction.atomic():
        updated = Load.objects.filter(
            pk=load.pk, status=LoadStatus.RUNNING, claim_token=load.claim_token, heartbeat_at=load.heartbeat_at
        ).update(claim_token="", error=message, log=_log_line(now, message), **changes)
        if not updated:
            return None
        record_action(
            None,
            "datasets.load_failed" if exhausted else "datasets.load_requeued",
            load,
            reason="worker_lost",
            attempts=load.attempts,
            max_attempts=load.max_attempts,
        )
        if not exhausted:
            enqueue_load(load)  # the ORM broker's row commits with the status change
    return "failed" if exhausted else "requeued"


def _requeue_overdue(load: Load, now: datetime) -> bool:
    message = "等待重试的归集任务超过预定时间未执行，已重新排队。"
    with transaction.atomic():
        updated = Load.objects.filter(
            pk=load.pk, status=LoadStatus.RETRYING, next_attempt_at=load.next_attempt_at
        ).update(next_attempt_at=now, log=_log_line(now, message))
        if not updated:
            return False
        record_action(None, "datasets.load_requeued", load, reason="retry_overdue", attempts=load.attempts)
        enqueue_load(load)  # the ORM broker's row commits with the status change
    return True


def _load_tasks_in_queue(now: datetime) -> tuple[set[int], set[int], set[int]]:
    """Ids of loads with a task in django-q's queue table: waiting there; taken from it (locked) by a pusher before
    this process started, so not by this cluster's (lost if that cluster was killed); taken since."""
    waiting: set[int] = set()
    taken_before_start: set[int] = set()
    taken_since: set[int] = set()
    retry = timedelta(seconds=Conf.RETRY)
    for row in OrmQ.objects.only("payload", "lock").iterator():
        task = row.task
        load_id = _queued_load_id(task.get("func"), task.get("args"))
        if load_id is None:
            continue
        if row.lock is None or row.lock <= now:
            waiting.add(load_id)
        elif row.lock - retry < PROCESS_STARTED_AT:  # the broker locks a task it takes until now + retry
            taken_before_start.add(load_id)
        else:
            taken_since.add(load_id)
    return waiting, taken_before_start, taken_since


def _queued_load_id(func: object, args: object) -> int | None:
    """The load a queued task runs (under the runner, or under the module path of an earlier release)."""
    named = registry.queued_task(func, args)
    if named is not None:
        name, rest = named
        return int(rest[0]) if name == RUN_LOAD and rest else None
    if func == LEGACY_RUN_LOAD_FUNC and isinstance(args, tuple) and args:
        return int(args[0])
    return None


def _requeue_queued(load: Load, now: datetime, reason: str) -> bool:
    message = "归集任务在后台队列中丢失（发起或执行进程中断），已重新排队。"
    with transaction.atomic():
        # Compare-and-set on the log: two workers starting together queue it once.
        updated = Load.objects.filter(pk=load.pk, status=LoadStatus.QUEUED, log=load.log).update(
            log=_log_line(now, message)
        )
        if not updated:
            return False
        record_action(None, "datasets.load_requeued", load, reason=reason)
        enqueue_load(load)
    return True


def recover_stale_loads(now: datetime | None = None, *, at_worker_start: bool = False) -> RecoveryReport:
    """Find loads whose worker died (RUNNING, heartbeat older than `load_stale_seconds`) and queue them again, or
    fail them when their attempts are used up; queue again RETRYING loads whose retry never ran, and QUEUED loads
    whose task is missing from django-q's queue. `at_worker_start` (a cluster or worker that just started) also
    queues again the QUEUED loads whose task a pusher took before this cluster started: after a kill -9 of a
    cluster those tasks are gone with its memory, and django-q would present them again only after Q_CLUSTER
    `retry` seconds. A duplicate task is harmless (the load is claimed once); a lost one is not."""
    now = now or timezone.now()
    stale_seconds = settings.GOVSHARE.load_stale_seconds
    stale_before = now - timedelta(seconds=stale_seconds)
    requeued: list[int] = []
    failed: list[int] = []
    overdue: list[int] = []
    lost: list[int] = []
    dead = (
        Load.objects.filter(status=LoadStatus.RUNNING)
        .alias(last_sign=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(last_sign__lt=stale_before)
        .order_by("pk")
    )
    for running in dead:
        outcome = _recover_dead(running, now, stale_seconds)
        if outcome == "failed":
            failed.append(running.pk)
        elif outcome == "requeued":
            requeued.append(running.pk)
    pending_retries = Schedule.objects.filter(name__startswith="load-", func=registry.RUNNER).values_list(
        "name", flat=True
    )
    scheduled = {int(name.split("-")[1]) for name in pending_retries if name.split("-")[1].isdigit()}
    waiting = Load.objects.filter(status=LoadStatus.RETRYING, next_attempt_at__lt=now - RETRY_OVERDUE)
    for load in waiting.order_by("pk"):
        if load.pk not in scheduled and _requeue_overdue(load, now):
            overdue.append(load.pk)
    in_queue, taken, taken_since = _load_tasks_in_queue(now)
    for load in Load.objects.filter(status=LoadStatus.QUEUED).order_by("pk"):
        if load.pk in in_queue or load.pk in taken_since:
            continue
        if load.pk in taken:
            reason = "task_taken_by_a_stopped_cluster"
            if not at_worker_start:
                continue
        elif load.created_at < now - QUEUED_WITHOUT_TASK:
            reason = "task_missing"
        else:
            continue
        if _requeue_queued(load, now, reason):
            lost.append(load.pk)
    report = RecoveryReport(requeued=requeued, failed=failed, overdue=overdue, lost=lost)
    if report.total:
        logger.warning(
            "recovered loads: requeued %s, failed %s, overdue retries requeued %s, lost tasks requeued %s",
            requeued,
            failed,
            overdue,
            lost,
        )
    return report


def recover_on_worker_start(sender: object = None, proc_name: str = "", **kwargs: object) -> None:
    """django-q's `post_spawn` signal: every worker that starts sweeps once, so a cluster restarted after a crash
    takes back its dead and lost loads at once instead of at the next scheduler pass."""
    try:
        recover_stale_loads(at_worker_start=True)
    except Exception:
        logger.exception("stale-load sweep at worker start failed (%s)", proc_name)


# --- schedules --------------------------------------------------------------------------------------------------


def source_schedule_name(source: Source) -> str:
    return f"source-{source.pk}"


@dataclass(frozen=True)
class CycleSchedule:
    schedule_type: str
    minutes: int | None = None
    cron: str | None = None


def cycle_schedule(update_cycle: str, source_id: int) -> CycleSchedule | None:
    """The django-q schedule of a resource's update cycle; None for 不定期 (loads are requested by hand)."""
    if update_cycle == UpdateCycle.REALTIME:
        return CycleSchedule(Schedule.MINUTES, minutes=settings.GOVSHARE.load_realtime_minutes)
    template = _CRON_BY_CYCLE.get(UpdateCycle(update_cycle)) if update_cycle in UpdateCycle.values else None
    if template is None:
        return None
    return CycleSchedule(Schedule.CRON, cron=template.format(minute=source_id % 60, hour=SCHEDULE_HOUR))


def _first_run(plan: CycleSchedule, now: datetime) -> datetime:
    if plan.cron:
        from croniter import croniter

        local_next: datetime = croniter(plan.cron, timezone.localtime(now)).get_next(datetime)
        return local_next
    return now + timedelta(minutes=plan.minutes or 1)


def sync_source_schedule(source: Source, now: datetime | None = None) -> Schedule | None:
    """Create, update or delete the source's recurring load (`source-<id>`). Only active database and API sources
    with `schedule_enabled` and a regular update cycle are scheduled (a file is reported by a person)."""
    name = source_schedule_name(source)
    cycle = Resource.objects.filter(pk=source.resource_id).values_list("update_cycle", flat=True).first()
    plan = cycle_schedule(cycle, source.pk) if cycle else None
    wanted = source.is_active and source.schedule_enabled and source.kind != SourceKind.FILE and plan is not None
    if not wanted or plan is None:
        Schedule.objects.filter(name=name).delete()
        return None
    existing = Schedule.objects.filter(name=name).first()
    same = (
        existing is not None
        and existing.schedule_type == plan.schedule_type
        and existing.minutes == plan.minutes
        and (existing.cron or None) == plan.cron
        and (existing.func, existing.args) == tuple(registry.schedule_fields(RUN_SCHEDULED_LOAD, source.pk).values())
    )
    if existing is not None and same:
        return existing
    schedule = existing or Schedule(name=name)
    fields = registry.schedule_fields(RUN_SCHEDULED_LOAD, source.pk)
    schedule.func, schedule.args = fields["func"], fields["args"]
    schedule.kwargs = repr({"q_options": {"task_name": f"{name}-scheduled-load", "group": name}})
    schedule.schedule_type = plan.schedule_type
    schedule.minutes = plan.minutes
    schedule.cron = plan.cron
    schedule.repeats = -1
    first_run = _first_run(plan, now or timezone.now())
    if schedule.pk is None:
        # django-q2's Schedule.save() replaces a new cron schedule's next_run with one computed from the wall clock;
        # the first run must follow from the `now` given, so it is set again once the row exists.
        schedule.save()
    schedule.next_run = first_run
    schedule.save()
    return schedule


def run_scheduled_load(source_id: int) -> int | None:
    """The task of a source's schedule: request a load as the system (requested_by empty), unless the source is
    switched off or one of its loads is still queued or running. Returns the new load's id."""
    from govshare.datasets import services

    source = Source.objects.select_related("resource").filter(pk=source_id).first()
    if source is None or not source.is_active or not source.schedule_enabled:
        return None
    unfinished = Load.objects.filter(
        source=source, status__in=[LoadStatus.QUEUED, LoadStatus.RUNNING, LoadStatus.RETRYING]
    )
    if unfinished.exists():
        logger.info("scheduled load of source %s skipped: load %s is not finished", source_id, unfinished.first())
        return None
    try:
        load = services.request_load(source, actor=None)
    except DomainError as exc:
        logger.warning("scheduled load of source %s not requested: %s", source_id, exc)
        return None
    return load.pk


def ensure_schedules() -> None:
    """The recovery sweep every minute, and every source's schedule as its settings say (idempotent)."""
    Schedule.objects.update_or_create(
        name=RECOVER_SCHEDULE_NAME,
        defaults={
            **registry.schedule_fields(RECOVER_STALE_LOADS),
            "kwargs": repr({"q_options": {"task_name": RECOVER_SCHEDULE_NAME}}),
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    kept: set[str] = set()
    for source in Source.objects.all():
        if sync_source_schedule(source) is not None:
            kept.add(source_schedule_name(source))
    Schedule.objects.filter(name__startswith="source-").exclude(name__in=kept).delete()


def register_tasks() -> None:
    """The tasks of data collection, by their stable names (from DatasetsConfig.ready)."""
    registry.register_task(RUN_LOAD, run_load_job)
    registry.register_task(RUN_SCHEDULED_LOAD, run_scheduled_load)
    registry.register_task(RECOVER_STALE_LOADS, recover_stale_loads)


def ensure_schedules_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate: once the tables exist (a partial migrate may leave django-q's or ours missing)."""
    tables = set(connections[using].introspection.table_names())
    if Schedule._meta.db_table in tables and Load._meta.db_table in tables and Source._meta.db_table in tables:
        ensure_schedules()


# --- timeliness -------------------------------------------------------------------------------------------------


def allowed_age(update_cycle: str) -> timedelta | None:
    """How old the last successful load may be for the resource to count as timely (None: 不定期)."""
    if update_cycle not in UpdateCycle.values:
        return None
    return _ALLOWED_AGE.get(UpdateCycle(update_cycle))


def is_timely(resource: Resource, now: datetime | None = None) -> bool | None:
    """Whether the last successful load is within the update cycle; None when the cycle is 不定期 or no load ever
    succeeded (nothing to judge)."""
    limit = allowed_age(resource.update_cycle)
    if limit is None:
        return None
    last = Dataset.objects.filter(resource=resource).values_list("last_success_at", flat=True).first()
    if last is None:
        return None
    return (now or timezone.now()) - last <= limit
