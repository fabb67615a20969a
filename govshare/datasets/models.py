"""Datasets (each resource's versioned data) and loads (one run of a source, govshare.sources, into a dataset).

The data itself lives in a Delta table per dataset (`govshare.dataplane.tables`); these rows are the metadata users
see: every load with its lineage figures.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from govshare.catalog.models import Resource
from govshare.datasets.choices import Engine, ServingStatus, VersionKind
from govshare.jobs.models import JobState
from govshare.sources.choices import LoadMode
from govshare.sources.models import Source


def shown_version(number: int) -> int:
    """A dataset version as people count it: Delta's version 0 is 第 1 版 (URLs and the API keep Delta's numbers)."""
    return number + 1


class Dataset(models.Model):
    """A resource's data: a Delta table whose versions are the loads' results."""

    resource = models.OneToOneField(Resource, verbose_name="信息资源", on_delete=models.PROTECT, related_name="dataset")
    table_uri = models.CharField("表位置", max_length=500)
    current_version = models.BigIntegerField("当前版本", null=True, blank=True)
    row_count = models.BigIntegerField("记录数", default=0)
    # The columns of the current version with their item types, for previews and downloads.
    columns = models.JSONField("字段", default=list, blank=True)
    keep_versions = models.PositiveIntegerField("保留版本数", default=10)
    watermark = models.CharField("已归集水位", max_length=100, blank=True)
    last_success_at = models.DateTimeField("最近成功归集", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "数据集"
        verbose_name_plural = "数据集"

    def __str__(self) -> str:
        return self.resource.name


class Load(JobState):
    """One run of a source into a dataset: a job (its status, heartbeat, attempts, log: `JobState`) with the load's
    lineage."""

    dataset = models.ForeignKey(Dataset, verbose_name="数据集", on_delete=models.PROTECT, related_name="loads")
    source = models.ForeignKey(Source, verbose_name="数据来源", on_delete=models.PROTECT, related_name="loads")
    mode = models.CharField("加载方式", max_length=10, choices=LoadMode.choices)
    engine = models.CharField("计算引擎", max_length=10, choices=Engine.choices, default=Engine.DUCKDB)
    # An uploaded file (文件报送), stored under the data directory until the load is done.
    input_path = models.CharField("上传文件", max_length=500, blank=True)
    input_name = models.CharField("原文件名", max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="定时归集为空",
    )
    progress_bytes = models.BigIntegerField("已读字节", default=0)
    total_bytes = models.BigIntegerField("总字节", null=True, blank=True)
    rows_read = models.BigIntegerField("读取行数", default=0)
    rows_loaded = models.BigIntegerField("写入行数", default=0)
    rows_rejected = models.BigIntegerField("拒绝行数", default=0)
    rows_deleted = models.BigIntegerField("删除行数", default=0)
    bytes_read = models.BigIntegerField("读取字节", default=0)
    duration_ms = models.BigIntegerField("耗时（毫秒）", null=True, blank=True)
    checksum = models.CharField("来源校验和（SHA-256）", max_length=64, blank=True)
    encoding = models.CharField("来源编码", max_length=20, blank=True)
    version = models.BigIntegerField("生成版本", null=True, blank=True)
    watermark_from = models.CharField("起始水位", max_length=100, blank=True)
    watermark_to = models.CharField("结束水位", max_length=100, blank=True)
    rejects_path = models.CharField("拒绝记录文件", max_length=500, blank=True)

    class Meta:
        verbose_name = "归集任务"
        verbose_name_plural = "归集任务"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="datasets_load_status_heartbeat"),
            models.Index(fields=["dataset", "-created_at"], name="datasets_load_dataset_recent"),
        ]

    def __str__(self) -> str:
        return f"归集任务 #{self.pk}"


class DatasetVersion(models.Model):
    """One version of a dataset's Delta table that holds data (vacuum's own commits are not versions): which load
    or which key rotation made it, and how many rows it holds. Written in the transaction that makes the version
    current, so the list of versions never derives from the audit trail or the table's log."""

    dataset = models.ForeignKey(Dataset, verbose_name="数据集", on_delete=models.CASCADE, related_name="versions")
    number = models.BigIntegerField("版本号")
    kind = models.CharField("来源", max_length=16, choices=VersionKind.choices)
    load = models.OneToOneField(
        Load, verbose_name="归集任务", null=True, blank=True, on_delete=models.PROTECT, related_name="made_version"
    )
    rows = models.BigIntegerField("记录数", null=True, blank=True)
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    # Why a check (a `version_ready` receiver) refused it; a refused version never becomes current.
    refusal = models.TextField("未通过检查的原因", blank=True)

    class Meta:
        verbose_name = "数据集版本"
        verbose_name_plural = "数据集版本"
        ordering = ["dataset", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="datasets_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} 第 {shown_version(self.number)} 版"


class VersionLease(models.Model):
    """A version being read by a download or a job: vacuum keeps its files until the lease is released or expires
    (an expiring lease, so that a process killed mid-read cannot pin a version forever)."""

    dataset = models.ForeignKey(Dataset, verbose_name="数据集", on_delete=models.CASCADE, related_name="leases")
    number = models.BigIntegerField("版本号")
    # Who reads it, for the administrator who wonders why a version stays: "download:<user id>", "job:<id>".
    holder = models.CharField("占用者", max_length=100)
    acquired_at = models.DateTimeField("占用时间")
    expires_at = models.DateTimeField("到期时间")

    class Meta:
        verbose_name = "数据版本占用"
        verbose_name_plural = "数据版本占用"
        indexes = [models.Index(fields=["dataset", "expires_at"], name="datasets_lease_dataset_expiry")]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}（{self.holder}）"


class ServingIndex(models.Model):
    """The key index of one dataset version (`govshare.datasets.serving`): a read-only SQLite file under the data
    directory holding the version's rows in their stored form and, per lookup key, its values. The newest ready
    one of a dataset answers the gateway's lookups; a retired one's file is deleted after a grace period."""

    dataset = models.ForeignKey(
        Dataset, verbose_name="数据集", on_delete=models.CASCADE, related_name="serving_indexes"
    )
    version = models.BigIntegerField("版本号")
    path = models.CharField("索引文件", max_length=500)
    # The lookup keys, each a list of item names (several for a composite key), in the order of the file's tables.
    key_items = models.JSONField("检索键", default=list, blank=True)
    row_count = models.BigIntegerField("记录数", default=0)
    status = models.CharField("状态", max_length=10, choices=ServingStatus.choices, default=ServingStatus.BUILDING)
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    built_at = models.DateTimeField("生成时间", null=True, blank=True)
    build_seconds = models.FloatField("生成耗时（秒）", null=True, blank=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)
    error = models.TextField("失败原因", blank=True)

    class Meta:
        verbose_name = "数据集检索索引"
        verbose_name_plural = "数据集检索索引"
        ordering = ["dataset", "-version", "-pk"]
        indexes = [models.Index(fields=["dataset", "status", "-version"], name="datasets_serving_newest")]

    def __str__(self) -> str:
        return f"{self.dataset} 第 {shown_version(self.version)} 版检索索引"
