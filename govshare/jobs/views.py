"""The jobs pages (后台任务): the list a user may follow, and one job with its progress bar, attempts and log. A
running job's page refreshes itself. Views parse input and call the selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from govshare.core.authz import subject_of
from govshare.core.errors import NotFound
from govshare.core.nostore import no_store
from govshare.core.pagination import page_number, paginate
from govshare.jobs import selectors
from govshare.jobs.choices import FINISHED_STATUSES, JobStatus

REFRESH_SECONDS = 5


@login_required
@no_store
def job_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    jobs = selectors.visible_jobs(subject_of(request), status=status)
    page = paginate(jobs, page_number(request.GET.get("page")), None)
    running = any(job.status not in FINISHED_STATUSES for job in page.items)
    context = {"page": page, "status": status, "statuses": JobStatus.choices, "refresh_seconds": REFRESH_SECONDS}
    response = render(request, "jobs/job_list.html", context)
    if running:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


@login_required
@no_store
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = selectors.get_job(subject_of(request), job_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    running = job.status not in FINISHED_STATUSES
    response = render(
        request, "jobs/job_detail.html", {"job": job, "running": running, "refresh_seconds": REFRESH_SECONDS}
    )
    if running:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response
