"""Jobs: the long work a user started or may follow (status, progress, attempts, log), for pages that poll and for
scripts. Another's job, or a missing one, answers 404."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router
from ninja.decorators import decorate_view

from govshare.core.apiauth import STAFF_READ
from govshare.core.authz import subject_of
from govshare.core.nostore import no_store
from govshare.core.pagination import Page, paginate_keyset
from govshare.core.schemas import ERRORS
from govshare.jobs import selectors
from govshare.jobs.models import Job
from govshare.jobs.schemas import JobFiltersIn, JobOut, JobPage

router = Router(tags=["后台任务 jobs"])


@router.get(
    "",
    response={200: JobPage, **ERRORS},
    auth=STAFF_READ,
    summary="后台任务列表（新任务在前）",
    description="发起人看到自己发起的任务，部门目录管理员看到本部门的任务，平台管理员看到全部。",
)
@decorate_view(no_store)
def list_jobs(request: HttpRequest, filters: Query[JobFiltersIn]) -> Page[Job]:
    jobs = selectors.visible_jobs(subject_of(request), status=filters.status or "", task=filters.task)
    return paginate_keyset(
        jobs, keys=("-created_at", "-id"), after=filters.after, page=filters.page, page_size=filters.page_size
    )


@router.get("/{job_id}", response={200: JobOut, **ERRORS}, auth=STAFF_READ, summary="一个后台任务的状态、进度和日志")
@decorate_view(no_store)
def get_job(request: HttpRequest, job_id: int) -> Job:
    return selectors.get_job(subject_of(request), job_id)
