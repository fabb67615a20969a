"""How any kind of job runs: one attempt claims the row, beats while it works, and ends it; a failed attempt is
retried with backoff or fails for good. The rules are the same for every kind (a load, a key rotation, …); each
kind is declared once with `register_kind`.

- Only the attempt holding the row's claim token writes; a worker presumed dead (stale heartbeat) that wakes up
  finds its claim gone (`Progress.claim_lost`) and stops before committing anything.
- A retry is a one-off django-q Schedule at the row's `next_attempt_at`, so it survives a restart of every process.
- Recovery of killed workers and lost tasks is `govshare.jobs.recovery`, for every registered kind.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.models import Schedule

from govshare.audit.services import record_action
from govshare.core.redaction import redact
from govshare.jobs import registry
from govshare.jobs.choices import JobStatus
from govshare.jobs.models import JobState

__all__ = [
    "ClaimLost",
    "Heartbeat",
    "JobKind",
    "Progress",
    "claim",
    "enqueue_attempt",
    "fail_attempt",
    "is_stale",
    "kind_named",
    "kinds",
    "register_kind",
    "schedule_retry",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its table, the task a worker runs with a row's id, and its words."""

    name: str  # "datasets.load"
    model: type[JobState]
    task: str  # registered task name, run as task(pk)
    prefix: str  # of django-q task names, groups and retry schedules: "<prefix>-<pk>-attempt-<n>"
    label: str = "后台任务"  # what users call one ("归集任务")
    progress_field: str = "progress_done"
    # Audit actions "<prefix>.retry_later", ".requeue", ".fail" (app.object.verb; rows written before under
    # "<prefix>_retrying", "_requeued", "_failed" read as these through the registry's aliases).
    audit_prefix: str = "jobs.job"
    # What a failure after the last attempt means for the user's data.
    exhausted_note: str = "任务失败"
    # Module paths under which an earlier release queued this kind's task (its first argument the row's id).
    legacy_funcs: frozenset[str] = frozenset()
    # Called with the row, inside the transaction that marks it FAILED for good (no attempt left, or not retryable):
    # the kind's app tells whom it concerns (a load's department).
    on_failed: Callable[[Any], None] | None = None

    def action(self, verb: str) -> str:
        return f"{self.audit_prefix}.{verb}"

    def task_name(self, pk: int, attempt: int) -> str:
        return f"{self.prefix}-{pk}-attempt-{attempt}"

    def group(self, pk: int) -> str:
        return f"{self.prefix}-{pk}"

    def retry_schedule_name(self, pk: int, attempts: int) -> str:
        return f"{self.prefix}-{pk}-retry-{attempts}"


_KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> JobKind:
    """Declare a kind of job (once, from its app's `AppConfig.ready`)."""
    known = _KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"任务类型“{kind.name}”已登记")
    _KINDS[kind.name] = kind
    return kind


def kinds() -> list[JobKind]:
    return list(_KINDS.values())


def kind_named(name: str) -> JobKind:
    return _KINDS[name]


class ClaimLost(Exception):
    """Another attempt holds the job now (this worker was presumed dead)."""


@dataclass
class Progress:
    """Shared between a running attempt and its heartbeat thread."""

    done: int = 0
    total: int | None = None
    lines: list[str] = field(default_factory=list)
    claim_lost: bool = False

    def log(self, message: str) -> None:
        stamp = timezone.localtime().strftime("%H:%M:%S")
        self.lines.append(f"{stamp} {redact(message)}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def check(self) -> None:
        """Stop here when another attempt took the job over."""
        if self.claim_lost:
            raise ClaimLost


def stale_seconds() -> int:
    return settings.GOVSHARE.load_stale_seconds


def is_stale(row: JobState, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=stale_seconds())
    return row.status == JobStatus.RUNNING and (row.heartbeat_at is None or row.heartbeat_at < cutoff)


def claim(model: type[JobState], pk: int, now: datetime | None = None) -> str | None:
    """Take the row for this attempt (compare-and-set). None when it is finished, a live worker holds it, or it has
    no attempts left (a dead worker's row with no attempts left is failed by the recovery sweep)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=stale_seconds())
    token = str(uuid.uuid4())
    claimable = Q(status__in=[JobStatus.QUEUED, JobStatus.RETRYING]) | Q(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True), status=JobStatus.RUNNING
    )
    manager: models.Manager[Any] = model._default_manager
    with transaction.atomic():
        updated = (
            manager.filter(claimable, pk=pk)
            .filter(attempts__lt=F("max_attempts"))
            .update(
                status=JobStatus.RUNNING,
                claim_token=token,
                attempts=F("attempts") + 1,
                heartbeat_at=now,
                next_attempt_at=None,
            )
        )
        if updated:
            manager.filter(pk=pk, started_at__isnull=True).update(started_at=now)
            return token
    return None


class Heartbeat(threading.Thread):
    """Records progress and liveness every `load_heartbeat_seconds` from its own database connection; notices when
    the claim was taken over (the attempt then stops before committing)."""

    def __init__(self, kind: JobKind, pk: int, token: str, progress: Progress) -> None:
        super().__init__(name=f"{kind.prefix}-{pk}-heartbeat", daemon=True)
        self.kind, self.pk, self.token, self.progress = kind, pk, token, progress
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_event.wait(settings.GOVSHARE.load_heartbeat_seconds):
                self.beat()
        finally:
            connection.close()

    def fields(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "heartbeat_at": timezone.now(),
            self.kind.progress_field: self.progress.done,
            "log": self.progress.text,
        }
        if self.progress.total is not None and self.kind.progress_field == "progress_done":
            values["progress_total"] = self.progress.total
        return values

    def beat(self) -> None:
        try:
            updated = self.kind.model._default_manager.filter(pk=self.pk, claim_token=self.token).update(
                **self.fields()
            )
        except Exception:  # a busy database must not kill the job; the next beat tries again
            logger.warning("heartbeat of %s %s failed", self.kind.name, self.pk, exc_info=True)
            return
        if not updated:
            self.progress.claim_lost = True

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)


def enqueue_attempt(kind: JobKind, row: JobState) -> str:
    """Queue the row's next attempt for a worker of `govshare qcluster`; returns django-q's task id."""
    return registry.enqueue(
        kind.task, row.pk, task_name=kind.task_name(row.pk, row.attempts + 1), group=kind.group(row.pk)
    )


def schedule_retry(kind: JobKind, row: JobState) -> Schedule:
    """A one-off django-q Schedule that runs the row's next attempt at its `next_attempt_at` (the backoff)."""
    schedule, _ = Schedule.objects.update_or_create(
        name=kind.retry_schedule_name(row.pk, row.attempts),
        defaults={
            **registry.schedule_fields(kind.task, row.pk),
            "kwargs": repr(
                {"q_options": {"task_name": kind.task_name(row.pk, row.attempts + 1), "group": kind.group(row.pk)}}
            ),
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": row.next_attempt_at or timezone.now(),
        },
    )
    return schedule


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: the configured backoff, doubled for each attempt already retried."""
    return timedelta(seconds=settings.GOVSHARE.load_retry_backoff_seconds * 2 ** max(attempts - 1, 0))


def fail_attempt(
    kind: JobKind,
    row: JobState,
    token: str,
    message: str,
    *,
    retryable: bool,
    progress: Progress,
    extra: Callable[[JobState], dict[str, Any]] | None = None,
) -> bool | None:
    """End a failed attempt: RETRYING with backoff (a retry scheduled after commit) while attempts remain and the
    error is retryable, else FAILED. Audited. Returns whether it will retry; None when this attempt had lost its
    claim (nothing written)."""
    message = redact(message)  # an unexpected error's text may quote a URL with its password or a row's values
    row.refresh_from_db()
    now = timezone.now()
    progress.log(f"失败：{message}")
    retry = retryable and row.attempts < row.max_attempts
    manager = kind.model._default_manager
    with transaction.atomic():
        fields: dict[str, Any] = {"error": message, "log": progress.text, "heartbeat_at": now}
        if retry:
            fields |= {"status": JobStatus.RETRYING, "next_attempt_at": now + backoff(row.attempts)}
        else:
            fields |= {"status": JobStatus.FAILED, "finished_at": now}
        if extra is not None:
            fields |= extra(row)
        if not manager.filter(pk=row.pk, claim_token=token).update(**fields):
            return None
        row.refresh_from_db()
        record_action(
            getattr(row, "requested_by", None),
            kind.action("retry_later" if retry else "fail"),
            row,
            error=message,
        )
        if retry:
            transaction.on_commit(lambda: schedule_retry(kind, row))
        elif kind.on_failed is not None:
            kind.on_failed(row)
    return retry
