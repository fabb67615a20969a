"""Typed API shapes of jobs."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from govshare.core.schemas import AFTER_DESCRIPTION, CursorPage
from govshare.jobs import logs
from govshare.jobs.choices import JobStatus
from govshare.jobs.models import Job


class JobFiltersIn(Schema):
    status: JobStatus | None = Field(None, description="queued 排队中 / running 运行中 / retrying 等待重试 / …")
    task: str = Field("", max_length=100, description="任务名，如 keys.rotate")
    after: str | None = Field(None, max_length=200, description=AFTER_DESCRIPTION)
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)


class JobOut(Schema):
    id: int
    task: str
    title: str
    status: JobStatus
    status_label: str
    progress_done: int
    progress_total: int | None
    progress_unit: str
    percent: int | None = Field(None, description="完成百分比；总量未知时为空")
    attempts: int
    max_attempts: int
    next_attempt_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    requested_by: str | None = Field(None, description="发起人用户名；系统或命令行发起时为空")
    error: str
    log: str
    result: dict[str, object]

    @staticmethod
    def resolve_title(obj: Job) -> str:
        return logs.readable_text(obj.title)

    @staticmethod
    def resolve_log(obj: Job) -> str:
        return logs.readable(obj.log)

    @staticmethod
    def resolve_error(obj: Job) -> str:
        return logs.readable_text(obj.error)

    @staticmethod
    def resolve_status_label(obj: Job) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_requested_by(obj: Job) -> str | None:
        return obj.requested_by.username if obj.requested_by else None


class JobPage(CursorPage[JobOut]):
    pass
