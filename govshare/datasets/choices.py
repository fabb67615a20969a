"""Enumerations of datasets and their loads (the sources' are in govshare.sources.choices)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from govshare.jobs.choices import FINISHED_STATUSES, JobStatus

__all__ = ["FINISHED_STATUSES", "Engine", "LoadStatus", "ServingStatus", "VersionKind"]

# A load is a job: its states are every job's (govshare.jobs.choices).
LoadStatus = JobStatus


class Engine(models.TextChoices):
    DUCKDB = "duckdb", "DuckDB"
    SPARK = "spark", "Apache Spark"


class VersionKind(models.TextChoices):
    """What made a dataset version."""

    LOAD = "load", _("归集")
    KEY_ROTATION = "key_rotation", _("密钥轮换")


class ServingStatus(models.TextChoices):
    """Where a dataset version's key index (`serving.ServingIndex`) stands: the newest ready one is served."""

    BUILDING = "building", _("生成中")
    READY = "ready", _("可用")
    RETIRED = "retired", _("已停用")
    FAILED = "failed", _("失败")
