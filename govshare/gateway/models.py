"""The gateway's own records: hourly call counts per system (the baseline of its usual use) and the alerts of
unusual use. Each call itself is an audit row (govshare.audit)."""

from __future__ import annotations

from django.db import models

from govshare.gateway.choices import AlertKind


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
