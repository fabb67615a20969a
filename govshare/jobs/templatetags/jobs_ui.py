"""Template helpers of every job's pages: the status badge and the progress bar (a load, a key rotation, …)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from govshare.jobs import logs
from govshare.jobs.choices import JobStatus
from govshare.jobs.models import Job, JobState

register = template.Library()

_STATUS_CLASS = {
    JobStatus.QUEUED: "",
    JobStatus.RUNNING: "",
    JobStatus.RETRYING: "warning",
    JobStatus.SUCCEEDED: "ok",
    JobStatus.FAILED: "danger",
}


@register.simple_tag
def job_status_badge(job: JobState, css_name: str = "job-status") -> SafeString:
    css = _STATUS_CLASS.get(JobStatus(job.status), "") if job.status in JobStatus.values else ""
    label = str(JobStatus(job.status).label) if job.status in JobStatus.values else job.status
    return format_html('<span class="badge {} {} status-{}">{}</span>', css_name, css, job.status, label)


@register.simple_tag
def job_progress(job: Job) -> SafeString:
    """A progress bar with the figures (done / total unit, percent); the figures alone while the total is unknown."""
    percent = job.percent
    unit = job.progress_unit
    if percent is None:
        return format_html('<span class="job-progress">{} {}</span>', job.progress_done, unit)
    total = job.progress_total if job.progress_total is not None else job.progress_done
    return format_html(
        '<span class="job-progress"><progress max="100" value="{}">{}%</progress> {}%（{} / {} {}）</span>',
        percent,
        percent,
        percent,
        job.progress_done,
        total,
        unit,
    )


@register.filter
def readable_log(log: str) -> str:
    """A stored job log in the reader's language (`govshare.jobs.logs`)."""
    return logs.readable(log)


@register.filter
def readable_message(message: str) -> str:
    """A stored job message (its error) in the reader's language when it is one of the catalogue's."""
    return logs.readable_text(message)
