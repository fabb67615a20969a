"""Reading jobs: a subject sees the jobs the policy (access.py) lets it see; any other answers 404 as a missing one."""

from __future__ import annotations

from django.db.models import QuerySet

from govshare.core.authz import ANONYMOUS, Subject, restrict
from govshare.core.errors import NotFound
from govshare.jobs.choices import JobStatus
from govshare.jobs.models import Job

NOT_FOUND = "后台任务不存在或无权查看"
MAX_ID = 2**63 - 1


def visible_jobs(subject: Subject | None, *, status: str = "", task: str = "") -> QuerySet[Job]:
    """The jobs the subject may see, newest first; filtered by status and task name when given."""
    jobs = restrict(Job.objects.select_related("requested_by", "department"), subject or ANONYMOUS)
    if status:
        jobs = jobs.filter(status=status) if status in JobStatus.values else jobs.none()
    if task:
        jobs = jobs.filter(task=task)
    return jobs.order_by("-created_at", "-id")


def get_job(subject: Subject | None, job_id: int) -> Job:
    found = visible_jobs(subject).filter(pk=job_id).first() if 1 <= job_id <= MAX_ID else None
    if found is None:
        raise NotFound(NOT_FOUND)
    return found
