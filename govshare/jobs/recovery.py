"""Taking back the work of killed workers and lost tasks, for every registered kind of job.

- A worker killed with -9 leaves its row RUNNING with a heartbeat that stops: the sweep queues it again, or fails it
  with a clear message when its attempts are used up. django-q would also re-deliver the lost task after Q_CLUSTER
  `retry` seconds; that late delivery finds the row finished or held and does nothing (attempts are claimed).
- A RETRYING row whose retry time passed long ago without any run lost its schedule: queued again.
- A QUEUED row without a task in django-q's queue lost it (its requesting process died between its commit and the
  enqueue, or a cluster was killed holding it): queued again.

The sweep runs as a django-q Schedule every minute and once whenever a worker process starts (`post_spawn`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule

from govshare.audit.services import record_action
from govshare.jobs import registry
from govshare.jobs.choices import JobStatus
from govshare.jobs.execution import JobKind, enqueue_attempt, kinds, stale_seconds
from govshare.jobs.models import JobState

__all__ = [
    "RECOVER_SCHEDULE_NAME",
    "RECOVER_STALE_JOBS",
    "RecoveryReport",
    "ensure_recovery_schedule",
    "recover_kind",
    "recover_on_worker_start",
    "recover_stale_jobs",
]

logger = logging.getLogger(__name__)

RECOVER_STALE_JOBS = "jobs.recover_stale"
RECOVER_SCHEDULE_NAME = "govshare-recover-stale-jobs"
# The sweep's schedule of releases where only loads were recovered: replaced by the one above.
LEGACY_SCHEDULE_NAMES = ("govshare-recover-stale-loads",)
# A RETRYING row whose retry time passed this long ago without any run lost its schedule: it is queued again.
RETRY_OVERDUE = timedelta(minutes=5)
# A QUEUED row this old without a task in django-q's queue lost it: it is queued again.
QUEUED_WITHOUT_TASK = timedelta(minutes=1)
# When this process set Django up: in `govshare qcluster`, the main process before it forks the sentinel, pusher and
# workers. A task locked before this moment was taken by another (earlier) cluster's pusher, never by this one's.
PROCESS_STARTED_AT = timezone.now()


@dataclass(frozen=True)
class RecoveryReport:
    requeued: list[int]  # RUNNING rows whose worker died, queued again
    failed: list[int]  # RUNNING rows whose worker died on their last attempt
    overdue: list[int]  # RETRYING rows whose retry never ran, queued again
    lost: list[int]  # QUEUED rows whose task was lost, queued again

    @property
    def total(self) -> int:
        return len(self.requeued) + len(self.failed) + len(self.overdue) + len(self.lost)


def _log_line(now: datetime, message: str) -> Concat:
    stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S")
    return Concat(F("log"), Value(f"{stamp} {message}\n"))


def _recover_dead(kind: JobKind, row: JobState, now: datetime, stale: int) -> str | None:
    """Compare-and-set on the row as it was read, so that two sweeps (or a late heartbeat) never both act."""
    silent = f"执行进程失联（第 {row.attempts} 次尝试，心跳已超过 {stale} 秒未更新，进程可能被终止）"
    exhausted = row.attempts >= row.max_attempts
    if exhausted:
        message = f"{silent}，已达最多尝试次数 {row.max_attempts} 次，{kind.exhausted_note}。"
        changes: dict[str, Any] = {"status": JobStatus.FAILED, "finished_at": now, "next_attempt_at": None}
    else:
        message = f"{silent}，已重新排队（将进行第 {row.attempts + 1} 次尝试，最多 {row.max_attempts} 次）。"
        changes = {"status": JobStatus.RETRYING, "next_attempt_at": now}
    with transaction.atomic():
        updated = kind.model._default_manager.filter(
            pk=row.pk, status=JobStatus.RUNNING, claim_token=row.claim_token, heartbeat_at=row.heartbeat_at
        ).update(claim_token="", error=message, log=_log_line(now, message), **changes)
        if not updated:
            return None
        record_action(
            None,
            kind.action("fail" if exhausted else "requeue"),
            row,
            reason="worker_lost",
            attempts=row.attempts,
            max_attempts=row.max_attempts,
        )
        if not exhausted:
            enqueue_attempt(kind, row)  # the ORM broker's row commits with the status change
        elif kind.on_failed is not None:
            row.refresh_from_db()
            kind.on_failed(row)
    return "failed" if exhausted else "requeued"


def _requeue_overdue(kind: JobKind, row: JobState, now: datetime) -> bool:
    message = f"等待重试的{kind.label}超过预定时间未执行，已重新排队。"
    with transaction.atomic():
        updated = kind.model._default_manager.filter(
            pk=row.pk, status=JobStatus.RETRYING, next_attempt_at=row.next_attempt_at
        ).update(next_attempt_at=now, log=_log_line(now, message))
        if not updated:
            return False
        record_action(None, kind.action("requeue"), row, reason="retry_overdue", attempts=row.attempts)
        enqueue_attempt(kind, row)
    return True


def _queued_id(kind: JobKind, func: object, args: object) -> int | None:
    """The row a queued task runs, if it is this kind's (under the runner, or a module path of an earlier
    release)."""
    named = registry.queued_task(func, args)
    if named is not None:
        name, rest = named
        return int(rest[0]) if name == kind.task and rest else None
    if func in kind.legacy_funcs and isinstance(args, tuple) and args:
        return int(args[0])
    return None


def _tasks_in_queue(kind: JobKind, now: datetime) -> tuple[set[int], set[int], set[int]]:
    """Ids of rows with a task in django-q's queue table: waiting there; taken from it (locked) by a pusher before
    this process started, so not by this cluster's (lost if that cluster was killed); taken since."""
    waiting: set[int] = set()
    taken_before_start: set[int] = set()
    taken_since: set[int] = set()
    retry = timedelta(seconds=Conf.RETRY)
    for queued in OrmQ.objects.only("payload", "lock").iterator():
        task = queued.task
        row_id = _queued_id(kind, task.get("func"), task.get("args"))
        if row_id is None:
            continue
        if queued.lock is None or queued.lock <= now:
            waiting.add(row_id)
        elif queued.lock - retry < PROCESS_STARTED_AT:  # the broker locks a task it takes until now + retry
            taken_before_start.add(row_id)
        else:
            taken_since.add(row_id)
    return waiting, taken_before_start, taken_since


def _requeue_queued(kind: JobKind, row: JobState, now: datetime, reason: str) -> bool:
    message = f"{kind.label}在后台队列中丢失（发起或执行进程中断），已重新排队。"
    with transaction.atomic():
        # Compare-and-set on the log: two workers starting together queue it once.
        updated = kind.model._default_manager.filter(pk=row.pk, status=JobStatus.QUEUED, log=row.log).update(
            log=_log_line(now, message)
        )
        if not updated:
            return False
        record_action(None, kind.action("requeue"), row, reason=reason)
        enqueue_attempt(kind, row)
    return True


def recover_kind(kind: JobKind, now: datetime | None = None, *, at_worker_start: bool = False) -> RecoveryReport:
    """The sweep over one kind's rows. `at_worker_start` (a cluster or worker that just started) also queues again
    the QUEUED rows whose task a pusher took before this cluster started: after a kill -9 of a cluster those tasks
    are gone with its memory, and django-q would present them again only after Q_CLUSTER `retry` seconds. A
    duplicate task is harmless (an attempt is claimed once); a lost one is not."""
    now = now or timezone.now()
    stale = stale_seconds()
    manager = kind.model._default_manager
    requeued: list[int] = []
    failed: list[int] = []
    overdue: list[int] = []
    lost: list[int] = []
    dead = (
        manager.filter(status=JobStatus.RUNNING)
        .alias(last_sign=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(last_sign__lt=now - timedelta(seconds=stale))
        .order_by("pk")
    )
    for running in dead:
        outcome = _recover_dead(kind, running, now, stale)
        if outcome == "failed":
            failed.append(running.pk)
        elif outcome == "requeued":
            requeued.append(running.pk)
    retry_names = Schedule.objects.filter(name__startswith=f"{kind.prefix}-", func=registry.RUNNER).values_list(
        "name", flat=True
    )
    scheduled = {int(part) for name in retry_names if (part := name.split("-")[1]).isdigit()}
    waiting = manager.filter(status=JobStatus.RETRYING, next_attempt_at__lt=now - RETRY_OVERDUE)
    for row in waiting.order_by("pk"):
        if row.pk not in scheduled and _requeue_overdue(kind, row, now):
            overdue.append(row.pk)
    in_queue, taken, taken_since = _tasks_in_queue(kind, now)
    for row in manager.filter(status=JobStatus.QUEUED).order_by("pk"):
        if row.pk in in_queue or row.pk in taken_since:
            continue
        if row.pk in taken:
            reason = "task_taken_by_a_stopped_cluster"
            if not at_worker_start:
                continue
        elif row.created_at < now - QUEUED_WITHOUT_TASK:
            reason = "task_missing"
        else:
            continue
        if _requeue_queued(kind, row, now, reason):
            lost.append(row.pk)
    report = RecoveryReport(requeued=requeued, failed=failed, overdue=overdue, lost=lost)
    if report.total:
        logger.warning(
            "recovered %s: requeued %s, failed %s, overdue retries requeued %s, lost tasks requeued %s",
            kind.name,
            requeued,
            failed,
            overdue,
            lost,
        )
    return report


def recover_stale_jobs(now: datetime | None = None, *, at_worker_start: bool = False) -> dict[str, RecoveryReport]:
    """The sweep over every registered kind (the task of the recovery schedule); one kind failing does not stop
    the others."""
    reports: dict[str, RecoveryReport] = {}
    for kind in kinds():
        try:
            reports[kind.name] = recover_kind(kind, now, at_worker_start=at_worker_start)
        except Exception:
            logger.exception("recovery sweep of %s failed", kind.name)
    return reports


def recover_on_worker_start(sender: object = None, proc_name: str = "", **kwargs: object) -> None:
    """django-q's `post_spawn` signal: every worker that starts sweeps once, so a cluster restarted after a crash
    takes back its dead and lost work at once instead of at the next scheduler pass."""
    try:
        recover_stale_jobs(at_worker_start=True)
    except Exception:
        logger.exception("stale-job sweep at worker start failed (%s)", proc_name)


def ensure_recovery_schedule() -> None:
    """The sweep every minute (idempotent); the loads-only sweep of earlier releases is replaced."""
    Schedule.objects.filter(name__in=LEGACY_SCHEDULE_NAMES).delete()
    Schedule.objects.update_or_create(
        name=RECOVER_SCHEDULE_NAME,
        defaults={
            **registry.schedule_fields(RECOVER_STALE_JOBS),
            "kwargs": repr({"q_options": {"task_name": RECOVER_SCHEDULE_NAME}}),
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


def ensure_recovery_schedule_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate: once django-q's tables exist (a partial migrate may leave them missing)."""
    if Schedule._meta.db_table in set(connections[using].introspection.table_names()):
        ensure_recovery_schedule()
