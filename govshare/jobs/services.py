"""Starting and running `Job` rows: long work of any app that users follow on the jobs pages and in the CLI.

An app registers its work once (`register_job("keys.rotate", rotate_all_keys)`, from `AppConfig.ready`); the
function takes a `JobContext` and the job's JSON arguments and returns a JSON-able result. `start_job` writes the
row and queues it after the caller's commit; a worker runs it through `run_job`, with the claim, heartbeat, retries
and recovery every kind of job has (`govshare.jobs.execution`). `run_job_here` runs a queued job in the calling
process (the CLI's foreground mode), under the same rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from govshare.audit.services import record_action
from govshare.core.errors import DomainError
from govshare.jobs import registry
from govshare.jobs.choices import JobStatus
from govshare.jobs.execution import (
    ClaimLost,
    Heartbeat,
    JobKind,
    Progress,
    claim,
    enqueue_attempt,
    fail_attempt,
    register_kind,
)
from govshare.jobs.models import Job

__all__ = [
    "JOB_KIND",
    "RUN_JOB",
    "JobContext",
    "JobFailed",
    "register_job",
    "run_job",
    "run_job_here",
    "start_job",
]

logger = logging.getLogger(__name__)

RUN_JOB = "jobs.run"
JOB_KIND = JobKind(name="jobs.job", model=Job, task=RUN_JOB, prefix="job")

JobFunction = Callable[..., Any]
_FUNCTIONS: dict[str, JobFunction] = {}


class JobFailed(Exception):
    """Raised by a job function: `message` is shown to users; a retryable failure is tried again with backoff."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@dataclass
class JobContext:
    """What a job function reports through: progress (shown on the job's page and the CLI's bar) and log lines."""

    job: Job
    progress: Progress

    def log(self, message: str) -> None:
        self.progress.log(message)

    def advance(self, done: int, total: int | None = None) -> None:
        """Progress so far (and the total when known); raises ClaimLost when another attempt took the job over."""
        self.progress.done = done
        if total is not None:
            self.progress.total = total
        self.progress.check()


def register_job(task: str, function: JobFunction) -> None:
    """Declare the function a job task runs (`task` is a stable "<app>.<verb>" name, stored in job rows)."""
    known = _FUNCTIONS.get(task)
    if known is not None and known is not function:
        raise ValueError(f"任务名“{task}”已登记")
    _FUNCTIONS[task] = function


def register() -> None:
    """The jobs app's own kind and task (from JobsConfig.ready)."""
    register_kind(JOB_KIND)
    registry.register_task(RUN_JOB, run_job)


def start_job(
    task: str,
    *args: Any,
    title: str,
    actor: Any = None,
    department_id: int | None = None,
    total: int | None = None,
    unit: str = "项",
    max_attempts: int = 3,
    enqueue: bool = True,
) -> Job:
    """Record a job and queue it once the caller's transaction commits (`enqueue=False`: the caller runs it here
    with `run_job_here`). Audited as `jobs.job_started`."""
    if task not in _FUNCTIONS:
        raise DomainError(f"没有登记名为“{task}”的后台任务")
    with transaction.atomic():
        job = Job.objects.create(
            task=task,
            args=list(args),
            title=title,
            requested_by=actor if getattr(actor, "pk", None) else None,
            department_id=department_id,
            progress_total=total,
            progress_unit=unit,
            max_attempts=max_attempts,
        )
        record_action(job.requested_by, "jobs.job.start", job, task=task, title=title)
        if enqueue:
            transaction.on_commit(lambda: enqueue_attempt(JOB_KIND, job))
    return job


def run_job(job_id: int) -> None:
    """Run one attempt of the job (the task a worker runs); quietly nothing when it is finished or held by a live
    worker."""
    if not connection.in_atomic_block:  # inside a caller's transaction (tests, CLI) the connection stays
        close_old_connections()
    token = claim(Job, job_id)
    if token is None:
        return
    _attempt(Job.objects.get(pk=job_id), token)


def run_job_here(job: Job, *, on_progress: Callable[[Progress], None] | None = None) -> Job:
    """Run the job in this process (the CLI's foreground mode): the same claim, heartbeat and failure rules as a
    worker; `on_progress` sees the progress (figures and log lines) at every heartbeat and when the attempt ends.
    Attempts left after a retryable failure are run at once. Returns the row as it ended."""
    while True:
        token = claim(Job, job.pk)
        if token is None:
            break
        _attempt(Job.objects.get(pk=job.pk), token, on_progress=on_progress)
        job.refresh_from_db()
        if job.status != JobStatus.RETRYING:
            break
        # The scheduled retry would run it later in a worker; in the foreground it runs now.
    job.refresh_from_db()
    return job


class _ReportingHeartbeat(Heartbeat):
    def __init__(
        self, job: Job, token: str, progress: Progress, on_progress: Callable[[Progress], None] | None
    ) -> None:
        super().__init__(JOB_KIND, job.pk, token, progress)
        self.on_progress = on_progress

    def beat(self) -> None:
        super().beat()
        if self.on_progress is not None:
            self.on_progress(self.progress)


def _attempt(job: Job, token: str, *, on_progress: Callable[[Progress], None] | None = None) -> None:
    progress = Progress(done=0, total=job.progress_total, lines=job.log.splitlines())
    progress.log(f"第 {job.attempts} 次执行")
    function = _FUNCTIONS.get(job.task)
    if function is None:
        fail_attempt(JOB_KIND, job, token, f"没有登记名为“{job.task}”的后台任务", retryable=False, progress=progress)
        return
    heartbeat = _ReportingHeartbeat(job, token, progress, on_progress)
    heartbeat.start()
    try:
        result = function(JobContext(job, progress), *job.args)
    except ClaimLost:
        logger.warning("job %s was taken over by another attempt; this one stops", job.pk)
        return
    except JobFailed as failure:
        fail_attempt(JOB_KIND, job, token, failure.message, retryable=failure.retryable, progress=progress)
        return
    except DomainError as error:  # a refusal the work met: the same at a retry
        fail_attempt(JOB_KIND, job, token, error.message, retryable=False, progress=progress)
        return
    except Exception as error:  # an unexpected failure is retried
        logger.exception("job %s (%s) failed", job.pk, job.task)
        fail_attempt(
            JOB_KIND, job, token, f"内部错误：{type(error).__name__}: {error}", retryable=True, progress=progress
        )
        return
    finally:
        heartbeat.stop()
        if on_progress is not None:
            on_progress(progress)
    _succeed(job, token, progress, result)


def _succeed(job: Job, token: str, progress: Progress, result: Any) -> None:
    now = timezone.now()
    progress.log("完成")
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, claim_token=token).update(
            status=JobStatus.SUCCEEDED,
            finished_at=now,
            heartbeat_at=now,
            progress_done=progress.done if progress.total is None else max(progress.done, progress.total),
            progress_total=progress.total,
            result=result if isinstance(result, dict) else {"value": result},
            error="",
            log=progress.text,
        )
        if updated:
            record_action(job.requested_by, "jobs.job.succeed", job, task=job.task)
