"""The gateway's own records: hourly call counts per system (the baseline of its usual use), the alerts of unusual
use, batch comparisons, the providers' own APIs it proxies, and deliveries with their runs. Each call itself is an
audit row (govshare.audit)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from govshare.gateway.choices import (
    AlertKind,
    BatchStatus,
    DeliveryKind,
    DeliverySchedule,
    DeliveryStatus,
    ProviderAuth,
    RunMode,
    RunStatus,
)


class CallHour(models.Model):
    """How many calls one system made in one clock hour, and how many were refused; kept by the recorder in the
    transaction of the calls it records."""

    system = models.ForeignKey(
        "identity.InformationSystem", verbose_name="接入系统", on_delete=models.PROTECT, related_name="+"
    )
    hour = models.DateTimeField("小时")
    calls = models.PositiveIntegerField("调用次数", default=0)
    refused = models.PositiveIntegerField("被拒绝次数", default=0)

    class Meta:
        verbose_name = "网关调用小时统计"
        verbose_name_plural = "网关调用小时统计"
        constraints = [models.UniqueConstraint(fields=["system", "hour"], name="gateway_callhour_per_system")]

    def __str__(self) -> str:
        return f"{self.system_id} {self.hour:%Y-%m-%d %H}:00 {self.calls}"


class UsageAlert(models.Model):
    """One alert of unusual use: a system, what was unusual, in which hour, what was seen against what is usual."""

    system = models.ForeignKey(
        "identity.InformationSystem", verbose_name="接入系统", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("告警类型", max_length=12, choices=AlertKind.choices)
    hour = models.DateTimeField("小时")
    observed = models.PositiveIntegerField("观测值")
    usual = models.FloatField("平常值", null=True, blank=True)
    detail = models.CharField("说明", max_length=300)
    created_at = models.DateTimeField("告警时间", auto_now_add=True)

    class Meta:
        verbose_name = "网关异常调用告警"
        verbose_name_plural = "网关异常调用告警"
        ordering = ["-hour", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "kind", "hour"], name="gateway_alert_once_per_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.system_id} {self.kind} {self.hour:%Y-%m-%d %H}:00"


class ComparisonBatch(models.Model):
    """One batch comparison (数据比对): the keys a system uploaded for one resource under one grant, the job that
    joins them against the served version, and its result file, kept until `expires_at`. The uploaded file and
    the result live under the data directory (0600); the row holds no key and no value."""

    system = models.ForeignKey(
        "identity.InformationSystem", verbose_name="接入系统", on_delete=models.PROTECT, related_name="+"
    )
    application_id = models.BigIntegerField("客户端凭证")  # the credential whose token uploaded the batch
    resource_id = models.BigIntegerField("信息资源")
    scenario_id = models.BigIntegerField("应用场景")
    grant_id = models.BigIntegerField("共享授权")
    request_id = models.CharField("请求编号", max_length=32)
    file_format = models.CharField("文件格式", max_length=8)
    xlsx_result = models.BooleanField("需要 Excel 结果", default=False)
    key_items = models.JSONField("查询键", default=list)
    compare_items = models.JSONField("比对信息项", default=list)
    return_items = models.JSONField("返回信息项", default=list)
    status = models.CharField("状态", max_length=12, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    version = models.IntegerField("数据版本", null=True, blank=True)
    total_keys = models.PositiveIntegerField("键数", default=0)
    # The keys were counted against the day's quota (a job run again after its worker died does not count twice).
    quota_counted = models.BooleanField("已计入配额", default=False)
    found_keys = models.PositiveIntegerField("找到的键数", default=0)
    matched_keys = models.PositiveIntegerField("全部一致的键数", default=0)
    error_code = models.CharField("错误代码", max_length=40, blank=True)
    error = models.TextField("错误说明", blank=True)
    upload_path = models.CharField("上传文件", max_length=500)
    result_path = models.CharField("结果文件", max_length=500, blank=True)
    xlsx_path = models.CharField("结果文件（XLSX）", max_length=500, blank=True)
    created_at = models.DateTimeField("提交时间")
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    expires_at = models.DateTimeField("结果保留至", null=True, blank=True)

    class Meta:
        verbose_name = "数据比对批次"
        verbose_name_plural = "数据比对批次"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="gateway_batch_expiry")]

    def __str__(self) -> str:
        return f"比对批次 {self.pk}（{self.get_status_display()}）"


class ProviderService(models.Model):
    """A provider department's own HTTP API behind one published resource (share method 接口): the gateway calls it
    on a consumer's behalf (`proxied`) instead of serving the resource from a platform copy.

    `operations`: [{"name", "method", "path", "params": {request parameter: key item}}]; a path may name
    parameters as `{param}` (the rest go in the query string for GET, the JSON body for POST). `mapping`:
    {item: dotted path into the JSON answer, e.g. "data.records[].xm"}; `[]` marks the list of records (every
    item's path names the same list, or none does: the answer is one record). The provider's credential is kept
    encrypted (`secret`) and never shown or sent anywhere but to the provider.

    The failure figures are the gateway's (`proxied`): consecutive failures, the last failure and when the circuit
    breaker last opened in some gateway process (each process keeps its own breaker state)."""

    resource = models.OneToOneField(
        "catalog.Resource", verbose_name="信息资源", on_delete=models.PROTECT, related_name="provider_service"
    )
    base_url = models.CharField("接口基础地址", max_length=500)
    operations = models.JSONField("接口操作", default=list)
    auth_kind = models.CharField("认证方式", max_length=10, choices=ProviderAuth.choices, default=ProviderAuth.NONE)
    auth_name = models.CharField("认证请求头名称或用户名", max_length=100, blank=True)
    secret = models.TextField("凭证（加密）", blank=True)
    timeout_seconds = models.FloatField("超时（秒）", default=10.0)
    mapping = models.JSONField("返回字段映射", default=dict)
    is_active = models.BooleanField("启用", default=True)
    consecutive_failures = models.PositiveIntegerField("连续失败次数", default=0)
    last_failure_at = models.DateTimeField("最近失败时间", null=True, blank=True)
    last_failure_code = models.CharField("最近失败原因", max_length=40, blank=True)
    recovered_at = models.DateTimeField("最近恢复时间", null=True, blank=True)
    circuit_opened_at = models.DateTimeField("最近熔断时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "提供部门接口"
        verbose_name_plural = "提供部门接口"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.base_url}"


class Delivery(models.Model):
    """A consumer department's subscription to a grant's extract (库表对接 into its own database, or 文件传输): the
    target (a database URL without its password, which is kept encrypted, and a table), the schedule, and the
    version last delivered (recorded only once the target has committed it)."""

    grant = models.ForeignKey(
        "sharing.Grant", verbose_name="共享授权", on_delete=models.PROTECT, related_name="deliveries"
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name="使用部门", on_delete=models.PROTECT, related_name="deliveries"
    )
    kind = models.CharField("交付方式", max_length=8, choices=DeliveryKind.choices)
    target_url = models.CharField("目标库连接地址", max_length=500, blank=True, help_text="不含密码")
    target_secret = models.TextField("目标库密码（加密）", blank=True)
    table_name = models.CharField("目标表名", max_length=63, blank=True)
    file_format = models.CharField("文件格式", max_length=8, blank=True)
    schedule = models.CharField(
        "执行周期", max_length=16, choices=DeliverySchedule.choices, default=DeliverySchedule.UPDATE_CYCLE
    )
    key_items = models.JSONField("主键列", default=list)
    status = models.CharField(
        "状态", max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.ACTIVE, db_index=True
    )
    stopped_reason = models.CharField("停止原因", max_length=300, blank=True)
    delivered_version = models.PositiveIntegerField("已交付版本", null=True, blank=True)
    next_run_at = models.DateTimeField("下次执行时间", null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "数据交付"
        verbose_name_plural = "数据交付"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}（授权 {self.grant_id}）"


class DeliveryRun(models.Model):
    """One run of a delivery: the version it delivered (and the one it started from), the rows upserted and deleted,
    its status and error (never a value), when it ran, and the checksum of what it wrote."""

    delivery = models.ForeignKey(Delivery, verbose_name="数据交付", on_delete=models.CASCADE, related_name="runs")
    mode = models.CharField("方式", max_length=12, choices=RunMode.choices, default=RunMode.FULL)
    from_version = models.PositiveIntegerField("起始版本", null=True, blank=True)
    version = models.PositiveIntegerField("交付版本", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    rows_upserted = models.PositiveBigIntegerField("写入行数", default=0)
    rows_deleted = models.PositiveBigIntegerField("删除行数", default=0)
    error = models.TextField("错误", blank=True)
    manual = models.BooleanField("手动执行", default=False)
    checksum = models.CharField("校验和（SHA-256）", max_length=64, blank=True)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "数据交付执行记录"
        verbose_name_plural = "数据交付执行记录"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
