"""Enumerations of datasets and their loads (the sources' are in govshare.sources.choices)."""

from __future__ import annotations

from django.db import models


class LoadStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "运行中"
    RETRYING = "retrying", "等待重试"
    SUCCEEDED = "succeeded", "成功"
    FAILED = "failed", "失败"


FINISHED_STATUSES = frozenset({LoadStatus.SUCCEEDED, LoadStatus.FAILED})


class Engine(models.TextChoices):
    DUCKDB = "duckdb", "DuckDB"
    SPARK = "spark", "Apache Spark"


class VersionKind(models.TextChoices):
    """What made a dataset version."""

    LOAD = "load", "归集"
    KEY_ROTATION = "key_rotation", "密钥轮换"
