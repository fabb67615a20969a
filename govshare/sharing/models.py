"""Sharing: the application scenarios data is granted for, and the grants themselves (domain.md §4).

A grant is a read scope held by a consumer department for one scenario: which resource, which items, which rows and
how each item is masked, for how long, and how often it may be used. Requests, reviews and lists build on these."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from govshare.sharing.choices import (
    DeliveryMethod,
    DemandStatus,
    GrantStatus,
    LineStatus,
    RequestAction,
    RequestStatus,
    ScenarioAction,
    ScenarioStatus,
    StageReviewer,
)


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
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
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


class Demand(models.Model):
    """A demand (需求清单): what a department needs, from whom (when it knows), for which of its scenarios. The
    provider (or the coordinator) answers it with a published resource, or asks the holder to catalogue it."""

    department = models.ForeignKey(
        "accounts.Department", verbose_name="需求部门", on_delete=models.PROTECT, related_name="demands"
    )
    title = models.CharField("需求名称", max_length=200)
    description = models.TextField("需求描述")
    needed_items = models.JSONField("所需信息项", default=list, blank=True, help_text="信息项名称的列表")
    provider = models.ForeignKey(
        "accounts.Department",
        verbose_name="提供部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands_received",
        help_text="不清楚由哪个部门提供时可不填，由共享协调员对接",
    )
    scenario = models.ForeignKey(
        Scenario,
        verbose_name="应用场景",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
    )
    status = models.CharField(
        "状态", max_length=16, choices=DemandStatus.choices, default=DemandStatus.OPEN, db_index=True
    )
    # The answer: a published resource that meets the demand (a share request can then be made for it).
    resource = models.ForeignKey(
        "catalog.Resource",
        verbose_name="对接资源",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
    )
    answer_note = models.CharField("答复说明", max_length=500, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="答复人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "共享需求"
        verbose_name_plural = "需求清单"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["department", "title"], name="sharing_demand_title_per_department"),
        ]
        indexes = [models.Index(fields=["provider", "status"], name="sharing_demand_provider")]

    def __str__(self) -> str:
        return self.title


class Duty(models.Model):
    """A duty (责任清单): a resource a department must provide, with its legal basis, set by the coordinator. It is
    met when a published catalogue entry of the department is linked to it."""

    department = models.ForeignKey(
        "accounts.Department", verbose_name="责任部门", on_delete=models.PROTECT, related_name="duties"
    )
    name = models.CharField("资源名称", max_length=200)
    description = models.TextField("说明", blank=True)
    legal_basis = models.TextField("依据", help_text="法律法规、政策文件或“三定”职责中的依据")
    resource = models.ForeignKey(
        "catalog.Resource",
        verbose_name="对应目录资源",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duties",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "共享责任"
        verbose_name_plural = "责任清单"
        ordering = ["department_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="sharing_duty_name_per_department"),
        ]

    def __str__(self) -> str:
        return self.name


class ScenarioEvent(models.Model):
    """One step of a scenario's history: who did what, when, and why (the reason of a rejection or retirement, the
    fields an edit changed). Written by the scenario services in the transaction of the step, beside its audit
    row: the audit log is the auditor's, this is what the department and the coordinator read on the page."""

    scenario = models.ForeignKey(Scenario, verbose_name="应用场景", on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=16, choices=ScenarioAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField("操作人姓名", max_length=150, blank=True)
    at = models.DateTimeField("时间")
    note = models.CharField("理由或意见", max_length=500, blank=True)
    changes = models.JSONField("修改内容", default=dict, blank=True)

    class Meta:
        verbose_name = "应用场景记录"
        verbose_name_plural = "应用场景记录"
        ordering = ["scenario_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.scenario_id} {self.action}"


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


class ReviewStage(models.Model):
    """A stage every conditional share request passes, in order (e.g. the coordinator's compliance check, then the
    provider's review), each with its deadline in working days. Configured by the coordinator; a request keeps the
    stages it was submitted under."""

    position = models.PositiveSmallIntegerField("顺序", unique=True)
    name = models.CharField("环节名称", max_length=100)
    reviewer = models.CharField("审核方", max_length=12, choices=StageReviewer.choices)
    working_days = models.PositiveSmallIntegerField("办理时限（工作日）", default=10)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "审核环节"
        verbose_name_plural = "审核环节"
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class ShareRequest(models.Model):
    """A share request (共享申请): a consumer department asks for one or more published resources for one of its
    approved scenarios, to be used by one of the scenario's systems, for a stated purpose and period."""

    number = models.CharField("申请编号", max_length=20, unique=True, null=True, blank=True)
    department = models.ForeignKey(
        "accounts.Department", verbose_name="申请部门", on_delete=models.PROTECT, related_name="share_requests"
    )
    scenario = models.ForeignKey(
        Scenario,
        verbose_name="应用场景",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="share_requests",
    )
    system = models.ForeignKey(
        "identity.InformationSystem",
        verbose_name="使用系统",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="share_requests",
    )
    purpose = models.TextField("用途", blank=True)
    valid_from = models.DateField("申请使用起始日期", null=True, blank=True)
    valid_until = models.DateField("申请使用截止日期", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=RequestStatus.choices, default=RequestStatus.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    submitted_on = models.DateField("提交日期", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        verbose_name = "共享申请"
        verbose_name_plural = "共享申请"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["department", "status"], name="sharing_request_department")]

    def __str__(self) -> str:
        return self.number or f"草稿 {self.pk}"


class ShareRequestLine(models.Model):
    """One resource of a share request: the items asked for and how they are to be delivered, the stage it is in
    with that stage's deadline, and the decision (the items approved, conditions, or the refusal's reason), the
    consumer's dispute and the coordinator's arbitration. An approval issues the grant."""

    request = models.ForeignKey(ShareRequest, verbose_name="共享申请", on_delete=models.CASCADE, related_name="lines")
    resource = models.ForeignKey(
        "catalog.Resource", verbose_name="信息资源", on_delete=models.PROTECT, related_name="share_request_lines"
    )
    items = models.JSONField("申请信息项", default=list, help_text="信息项名称的列表")
    delivery_method = models.CharField(
        "交付方式", max_length=8, choices=DeliveryMethod.choices, default=DeliveryMethod.API
    )
    status = models.CharField("状态", max_length=10, choices=LineStatus.choices, default=LineStatus.DRAFT)
    # The stages as they were when the request was submitted: [{"name", "reviewer", "days"}].
    stages = models.JSONField("审核环节", default=list, blank=True)
    stage_index = models.PositiveSmallIntegerField("当前环节", default=0)
    stage_started_on = models.DateField("本环节开始日期", null=True, blank=True)
    due_on = models.DateField("本环节办理期限", null=True, blank=True, db_index=True)
    deadline_problem = models.CharField("期限问题", max_length=200, blank=True)
    reminded_stage = models.SmallIntegerField("已提醒的环节", null=True, blank=True)
    escalated_at = models.DateTimeField("逾期转协调员时间", null=True, blank=True)
    approved_items = models.JSONField("同意的信息项", default=list, blank=True)
    conditions = models.TextField("使用条件", blank=True)
    refusal_reason = models.TextField("拒绝理由", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="决定人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    grant = models.ForeignKey(
        Grant, verbose_name="共享授权", null=True, blank=True, on_delete=models.SET_NULL, related_name="request_lines"
    )
    dispute_reason = models.TextField("异议理由", blank=True)
    disputed_at = models.DateTimeField("提出异议时间", null=True, blank=True)
    arbitration_note = models.TextField("仲裁意见", blank=True)
    arbitrated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="仲裁人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    arbitrated_at = models.DateTimeField("仲裁时间", null=True, blank=True)

    class Meta:
        verbose_name = "共享申请明细"
        verbose_name_plural = "共享申请明细"
        ordering = ["request", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="sharing_line_queue")]
        constraints = [
            models.UniqueConstraint(fields=["request", "resource"], name="sharing_line_resource_once_per_request"),
        ]

    def __str__(self) -> str:
        return f"{self.request} · {self.resource_id}"

    @property
    def stage(self) -> dict[str, object] | None:
        """The stage the line is in (while in review), as it was configured at submission."""
        if self.status != LineStatus.IN_REVIEW or self.stage_index >= len(self.stages):
            return None
        return dict(self.stages[self.stage_index])


class ShareRequestEvent(models.Model):
    """A step in a share request's history: who, when, what, why."""

    request = models.ForeignKey(ShareRequest, verbose_name="共享申请", on_delete=models.CASCADE, related_name="events")
    line = models.ForeignKey(
        ShareRequestLine,
        verbose_name="申请明细",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    action = models.CharField("操作", max_length=16, choices=RequestAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人姓名", max_length=150, blank=True)
    at = models.DateTimeField("时间")
    note = models.CharField("理由或意见", max_length=500, blank=True)
    changes = models.JSONField("内容", default=dict, blank=True)

    class Meta:
        verbose_name = "共享申请记录"
        verbose_name_plural = "共享申请记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.action}"
