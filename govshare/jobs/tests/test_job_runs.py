"""A job row's life: started after commit, run by a worker with progress and log, retried with backoff, failed with
a clear message, taken back from a killed worker. The same rules as loads (govshare.jobs.execution / recovery)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from govshare import testing
from govshare.audit.models import AuditLog
from govshare.core.errors import DomainError
from govshare.core.roles import Role
from govshare.jobs import recovery
from govshare.jobs.choices import JobStatus
from govshare.jobs.execution import ClaimLost, Progress
from govshare.jobs.models import Job
from govshare.jobs.registry import RUNNER
from govshare.jobs.runner import run
from govshare.jobs.services import JOB_KIND, RUN_JOB, JobContext, JobFailed, register_job, run_job_here, start_job

pytestmark = pytest.mark.django_db

CALLS: list[tuple[Any, ...]] = []


def count_to(context: JobContext, n: int) -> dict[str, int]:
    for i in range(1, n + 1):
        context.advance(i, n)
        context.log(f"第 {i} 项")
    return {"counted": n}


def refuse(context: JobContext, retryable: bool) -> None:
    raise JobFailed("来源暂时不可用" if retryable else "参数不合法：批大小必须为正", retryable=retryable)


def crash(context: JobContext) -> None:
    CALLS.append(("crash",))
    raise RuntimeError("连接 postgresql://gov:secret-pw@10.0.0.1/db 失败")


register_job("testing.count_to", count_to)
register_job("testing.refuse", refuse)
register_job("testing.crash", crash)


def queued() -> list[tuple[Any, ...]]:
    return [row.task["args"] for row in OrmQ.objects.all()]


def test_a_started_job_is_queued_once_its_transaction_commits(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start_job("testing.count_to", 3, title="数数")
    assert queued() == []  # nothing a worker could pick up before the row is committed
    for callback in callbacks:
        callback()
    assert queued() == [(RUN_JOB, job.pk)]
    assert OrmQ.objects.get().task["name"] == f"job-{job.pk}-attempt-1"


def test_starting_an_unregistered_task_is_refused() -> None:
    with pytest.raises(DomainError, match="没有登记"):
        start_job("testing.no_such_task", title="不存在")
    assert not Job.objects.exists()


def test_a_worker_runs_the_job_to_success_with_progress_result_log_and_audit() -> None:
    job = start_job("testing.count_to", 4, title="数数", enqueue=False)
    run(RUN_JOB, job.pk)  # what a worker runs for the queued task
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total, job.percent) == (JobStatus.SUCCEEDED, 4, 4, 100)
    assert job.result == {"counted": 4} and job.attempts == 1 and job.finished_at is not None
    assert "第 4 项" in job.log
    actions = list(AuditLog.objects.filter(object_id=str(job.pk)).values_list("action", flat=True).order_by("id"))
    assert actions == ["jobs.job.start", "jobs.job.succeed"]


def test_a_finished_job_delivered_again_is_not_run_twice() -> None:
    job = start_job("testing.crash", title="崩溃", enqueue=False, max_attempts=1)
    CALLS.clear()
    run(RUN_JOB, job.pk)
    run(RUN_JOB, job.pk)  # django-q's late re-delivery of the same task
    assert CALLS == [("crash",)]


def test_a_refusal_fails_the_job_at_once_with_its_message() -> None:
    job = start_job("testing.refuse", False, title="拒绝", enqueue=False)
    run(RUN_JOB, job.pk)
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == (JobStatus.FAILED, "参数不合法：批大小必须为正", 1)
    assert AuditLog.objects.filter(action="jobs.job.fail", object_id=str(job.pk)).exists()


def test_a_retryable_failure_waits_for_a_retry_scheduled_at_its_backoff(django_capture_on_commit_callbacks) -> None:
    job = start_job("testing.refuse", True, title="稍后重试", enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        run(RUN_JOB, job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.RETRYING and job.next_attempt_at is not None
    schedule = Schedule.objects.get(name=f"job-{job.pk}-retry-1")
    assert (schedule.func, schedule.args, schedule.next_run) == (RUNNER, repr((RUN_JOB, job.pk)), job.next_attempt_at)


def test_an_unexpected_error_is_retried_and_its_message_keeps_no_password() -> None:
    job = start_job("testing.crash", title="崩溃", enqueue=False)
    run(RUN_JOB, job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.RETRYING
    assert "RuntimeError" in job.error and "secret-pw" not in job.error and "secret-pw" not in job.log


def test_run_here_runs_every_attempt_in_the_foreground_and_reports_progress() -> None:
    seen: list[int] = []
    job = start_job("testing.crash", title="崩溃", enqueue=False, max_attempts=2)
    ended = run_job_here(job, on_progress=lambda progress: seen.append(len(progress.lines)))
    assert (ended.status, ended.attempts) == (JobStatus.FAILED, 2)
    assert len(seen) == 2  # once as each attempt ended


def test_the_sweep_requeues_a_job_whose_worker_died() -> None:
    job = start_job("testing.count_to", 2, title="数数", enqueue=False)
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, heartbeat_at=long_ago, claim_token="x")
    reports = recovery.recover_stale_jobs()
    assert reports[JOB_KIND.name].requeued == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.RETRYING and "执行进程失联" in job.error
    assert queued() == [(RUN_JOB, job.pk)]
    run(RUN_JOB, job.pk)
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED


def test_the_sweep_fails_a_dead_job_on_its_last_attempt() -> None:
    job = start_job("testing.count_to", 2, title="数数", enqueue=False, max_attempts=1)
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, heartbeat_at=long_ago, claim_token="x")
    assert recovery.recover_stale_jobs()[JOB_KIND.name].failed == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "最多尝试次数 1 次，任务失败" in job.error


def test_the_sweep_queues_a_job_whose_task_was_lost() -> None:
    job = start_job("testing.count_to", 2, title="数数", enqueue=False)  # its starter died before queueing it
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - recovery.QUEUED_WITHOUT_TASK * 2)
    assert recovery.recover_stale_jobs()[JOB_KIND.name].lost == [job.pk]
    assert queued() == [(RUN_JOB, job.pk)]


def test_reporting_progress_after_the_claim_was_lost_stops_the_job_function() -> None:
    job = start_job("testing.count_to", 2, title="数数", enqueue=False)
    progress = Progress()
    progress.claim_lost = True  # as the heartbeat finds when another attempt took the row over
    context = JobContext(job, progress)
    with pytest.raises(ClaimLost):
        context.advance(1, 2)


def test_the_recovery_sweep_is_scheduled_every_minute_for_every_kind() -> None:
    recovery.ensure_recovery_schedule()
    sweep = Schedule.objects.get(name=recovery.RECOVER_SCHEDULE_NAME)
    assert (sweep.func, sweep.args, sweep.minutes) == (RUNNER, repr((recovery.RECOVER_STALE_JOBS,)), 1)
    assert not Schedule.objects.filter(name__in=recovery.LEGACY_SCHEDULE_NAMES).exists()


def test_a_job_is_recorded_with_its_requester_and_department(department) -> None:
    user = testing.make_user(Role.CATALOG_ADMIN, department=department)
    job = start_job("testing.count_to", 1, title="数数", actor=user, department_id=department.pk, enqueue=False)
    assert (job.requested_by, job.department) == (user, department)
