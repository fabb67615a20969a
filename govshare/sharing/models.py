"""Sharing: the application scenarios data is granted for, and the grants themselves (domain.md §4).

A grant is a read scope held by a consumer department for one scenario: which resource, which items, which rows and
how each item is masked, for how long, and how often it may be used. Requests, reviews and lists build on these."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from govshare.sharing.choices import DeliveryMethod, GrantStatus, ScenarioStatus


class Scenario(models.Model):
    """An application scenario (应用场景): what a consumer department needs data for. Reviewed by the platform
    coordinator (共享主管部门) before any request may cite it; every grant is bound to one."""

    department = models.ForeignKey(
        "accounts.Department", verbose_name="使用部门", on_delete=models.PROTECT, related_name="scenarios"
    )
    name = models.CharField("场景名称", max_length=200)
    description = models.TextField("业务描述")
    legal_basis = models.TextField("依据", help_text="法律法规、政策文件或事项清单中的依据")
    systems = models.ManyToManyField(
        "identity.InformationSystem", verbose_name="承载系统", related_name="scenarios", blank=True
    )
    needed_items = models.JSONField("所需信息项", default=list, blank=True, help_text="信息项名称的列表")
    status = models.CharField(
        "状态", max_length=16, choices=ScenarioStatus.choices, default=ScenarioStatus.DRAFT, db_index=True
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_note = models.CharField("审核意见", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "应用场景"
        verbose_name_plural = "应用场景"
        ordering = ["department_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="sharing_scenario_name_per_department"),
        ]

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """A scenario grant (共享授权): the consumer department may read the resource's allowed items, in the rows of its
    row filter, masked per item, within the validity period and the daily quota, for the scenario only. Its
    scenario's systems read through the gateway; the department's users with the consumer role through previews and
    downloads. Revocation, expiry and a missed access review end it at the very next access."""

    department = models.ForeignKey(
        "accounts.Department", verbose_name="使用部门", on_delete=models.PROTECT, related_name="grants"
    )
    scenario = models.ForeignKey(Scenario, verbose_name="应用场景", on_delete=models.PROTECT, related_name="grants")
    resource = models.ForeignKey(
        "catalog.Resource", verbose_name="信息资源", on_delete=models.PROTECT, related_name="grants"
    )
    items = models.JSONField("授权信息项", default=list, help_text="信息项名称的列表")
    # item name → the values its rows may hold (the shape of datasets' ReadScope.rows_where); empty: every row.
    row_filter = models.JSONField("行过滤", default=dict, blank=True)
    # item name → masking rule (domain.md §7); defaults come from the item's grade, stricter is allowed.
    masking = models.JSONField("脱敏规则", default=dict, blank=True)
    delivery_method = models.CharField(
        "交付方式", max_length=8, choices=DeliveryMethod.choices, default=DeliveryMethod.API
    )
    daily_quota = models.PositiveIntegerField("每日调用上限", null=True, blank=True, help_text="空：不限")
    valid_from = models.DateField("生效日期")
    valid_until = models.DateField("截止日期")
    review_interval_days = models.PositiveIntegerField("复核周期（天）", default=365)
    last_confirmed_on = models.DateField("最近复核日期")
    status = models.CharField(
        "状态", max_length=8, choices=GrantStatus.choices, default=GrantStatus.ACTIVE, db_index=True
    )
    conditions = models.TextField("使用条件", blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="授权人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("授权时间", auto_now_add=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoke_reason = models.CharField("撤销理由", max_length=500, blank=True)
    # The last day the parties were told the grant is about to lapse or expire (one notice per grant and day).
    lapse_notified_on = models.DateField("最近到期提醒日期", null=True, blank=True)
    source_note = models.CharField("授权来源", max_length=200, blank=True, help_text="如：共享申请编号")

    class Meta:
        verbose_name = "共享授权"
        verbose_name_plural = "共享授权"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["department", "resource", "status"], name="sharing_grant_lookup")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="sharing_grant_valid_period",
                violation_error_message="截止日期不能早于生效日期",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department_id} → {self.resource_id}（{self.scenario_id}）"


class GrantUsage(models.Model):
    """How many data accesses a grant served on one day: the daily quota's counter. Each access increments it in
    the transaction that records the access, by one conditional UPDATE (count < quota), so that two accesses at
    once can never both take the last unit."""

    grant = models.ForeignKey(Grant, verbose_name="共享授权", on_delete=models.CASCADE, related_name="usage")
    day = models.DateField("日期")
    accesses = models.PositiveIntegerField("访问次数", default=0)

    class Meta:
        verbose_name = "授权使用量"
        verbose_name_plural = "授权使用量"
        constraints = [models.UniqueConstraint(fields=["grant", "day"], name="sharing_grant_usage_per_day")]

    def __str__(self) -> str:
        return f"{self.grant_id} {self.day}: {self.accesses}"
