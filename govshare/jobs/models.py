"""The job row users see: what every piece of long work reports (status, progress, log, attempts, heartbeat).

`JobState` is the state every kind of job keeps, whatever app owns it: a load (`datasets.Load`, which adds its
lineage figures) inherits it, and `Job` is the row of every other kind of long work (key rotation today; batch
comparison, deliveries, quality runs, library builds and reports as they come). The execution rules that act on
these fields (claim, heartbeat, retry, recovery) are in `govshare.jobs.execution` and `govshare.jobs.recovery`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from govshare.jobs.choices import FINISHED_STATUSES, JobStatus


class JobState(models.Model):
    """Status, attempts, liveness and log of a piece of background work (abstract: each kind has its own table)."""

    status = models.CharField("状态", max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("心跳", null=True, blank=True)
    # Which attempt holds the job: a worker only writes while its token is the row's (see execution.claim).
    claim_token = models.CharField("执行标识", max_length=36, blank=True)
    attempts = models.PositiveIntegerField("已尝试次数", default=0)
    max_attempts = models.PositiveIntegerField("最多尝试次数", default=3)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    log = models.TextField("日志", blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class Job(JobState):
    """One run of a registered job function (`govshare.jobs.services.register_job`) with its arguments."""

    task = models.CharField("任务", max_length=100, help_text="登记的任务名，如 keys.rotate")
    args = models.JSONField("参数", default=list, blank=True)
    title = models.CharField("名称", max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="系统或命令行发起时为空",
    )
    # The department whose work it is (its catalogue administrators see it); empty for platform-wide work.
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="所属部门",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    progress_done = models.BigIntegerField("已完成", default=0)
    progress_total = models.BigIntegerField("总量", null=True, blank=True)
    progress_unit = models.CharField("进度单位", max_length=10, blank=True, default="项")
    result = models.JSONField("结果", default=dict, blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="jobs_job_status_heartbeat"),
            models.Index(fields=["task", "-created_at"], name="jobs_job_task_recent"),
        ]

    def __str__(self) -> str:
        return f"后台任务 #{self.pk}（{self.title}）"

    @property
    def percent(self) -> int | None:
        """Whole percent done, None while the total is unknown."""
        if not self.progress_total:
            return 100 if self.status == JobStatus.SUCCEEDED else None
        return min(100, int(self.progress_done * 100 / self.progress_total))
