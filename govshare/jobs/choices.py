"""The states of a background job (a load, a key rotation, any app's long work)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    RETRYING = "retrying", _("等待重试")
    SUCCEEDED = "succeeded", _("成功")
    FAILED = "failed", _("失败")


FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})
UNFINISHED_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.RETRYING})
