from __future__ import annotations

from django.conf import settings
from django.db import models

from govshare.accounts.models import Department
from govshare.catalog.choices import (
    DEFAULT_GRADE,
    DEFAULT_LEVEL,
    LEVEL_WIDTH,
    OPEN_REVISION_STATES,
    AtRest,
    CategoryLevel,
    DataGrade,
    DataLevel,
    ItemDataType,
    OpenType,
    PlatformShareType,
    ResourceFormat,
    ReviewStatus,
    RevisionState,
    ShareMethod,
    ShareType,
    UpdateCycle,
    VersionAction,
)


class Category(models.Model):
    """A node of the classification tree: 类 (基础/主题/部门) → 项 → 目 → 细目. Editable data."""

    parent = models.ForeignKey(
        "self", verbose_name="上级分类", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField("层级", choices=CategoryLevel.choices)
    segment = models.CharField("分类段码", max_length=3, help_text="类1位、项2位、目3位、细目至多3位数字")
    code = models.CharField("分类码", max_length=9, unique=True, editable=False)
    name = models.CharField("分类名称", max_length=100)
    description = models.TextField("说明", blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "资源分类"
        verbose_name_plural = "资源分类"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "segment"], name="catalog_category_unique_segment"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @staticmethod
    def compose_code(parent_code: str, level: int, segment: str) -> str:
        return parent_code + segment.zfill(LEVEL_WIDTH[level])

    @property
    def code_prefix(self) -> str:
        """The 9-digit 前段码 of resources in this class: missing levels padded with zeros."""
        return self.code.ljust(9, "0")


class Resource(models.Model):
    """One catalogue entry (政务信息资源) with the core metadata of the 1272 guideline."""

    code = models.CharField("信息资源代码", max_length=16, unique=True)
    category = models.ForeignKey(Category, verbose_name="信息资源分类", on_delete=models.PROTECT)
    name = models.CharField("信息资源名称", max_length=200)
    department = models.ForeignKey(
        Department, verbose_name="信息资源提供方", on_delete=models.PROTECT, related_name="resources"
    )
    summary = models.TextField("信息资源摘要")
    format = models.CharField("信息资源格式", max_length=20, choices=ResourceFormat.choices)
    sub_format = models.CharField("格式细类", max_length=30, blank=True, help_text="如 xlsx、csv、json、pdf")
    share_type = models.CharField("共享属性", max_length=20, choices=ShareType.choices)
    share_condition = models.TextField("共享条件", blank=True)
    share_basis = models.TextField("不予共享依据", blank=True)
    share_method = models.CharField("共享方式", max_length=20, choices=ShareMethod.choices, blank=True)
    platform_share_type = models.CharField("共享方式类型", max_length=10, choices=PlatformShareType.choices, blank=True)
    open_type = models.CharField("开放属性", max_length=20, choices=OpenType.choices)
    open_condition = models.TextField("开放条件", blank=True)
    grade = models.CharField(
        "数据级别",
        max_length=10,
        choices=DataGrade.choices,
        default=DEFAULT_GRADE,
        help_text="GB/T 43697：核心、重要、一般",
    )
    data_level = models.CharField(
        "敏感级别", max_length=2, choices=DataLevel.choices, default=DEFAULT_LEVEL, help_text="公共数据分级 L1–L4"
    )
    update_cycle = models.CharField("更新周期", max_length=20, choices=UpdateCycle.choices)
    published_on = models.DateField("发布日期", null=True, blank=True)
    related_codes = models.JSONField("关联资源代码", default=list, blank=True)
    extension = models.JSONField("扩展元数据", default=dict, blank=True)

    status = models.CharField(
        "审核状态", max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT, db_index=True
    )
    rejection_reason = models.TextField("驳回理由", blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    search_tokens = models.TextField("检索词", blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)

    class Meta:
        verbose_name = "信息资源"
        verbose_name_plural = "信息资源"
        ordering = ["code"]
        indexes = [
            models.Index(fields=["department", "status"], name="catalog_res_dept_status_idx"),
            models.Index(fields=["status", "share_type"], name="catalog_res_status_share_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Item(models.Model):
    """An information item (信息项): one field of a resource."""

    resource = models.ForeignKey(Resource, verbose_name="信息资源", on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField("序号")
    name = models.CharField("信息项名称", max_length=100)
    data_type = models.CharField("数据类型", max_length=1, choices=ItemDataType.choices)
    length = models.PositiveIntegerField("数据长度", null=True, blank=True)
    share_type = models.CharField("共享属性", max_length=20, choices=ShareType.choices)
    open_type = models.CharField("开放属性", max_length=20, choices=OpenType.choices)
    grade = models.CharField("数据级别", max_length=10, choices=DataGrade.choices, default=DEFAULT_GRADE)
    data_level = models.CharField("敏感级别", max_length=2, choices=DataLevel.choices, default=DEFAULT_LEVEL)
    description = models.CharField("说明", max_length=500, blank=True)
    # Whether the platform stores this column encrypted in datasets (SM4-GCM), with an HMAC-SM3 beside it when it
    # must stay searchable by equality. A source's key items stay plain (datasets.encryption explains why).
    at_rest = models.CharField("静态加密", max_length=12, choices=AtRest.choices, default=AtRest.PLAIN)

    class Meta:
        verbose_name = "信息项"
        verbose_name_plural = "信息项"
        ordering = ["resource", "position"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "name"], name="catalog_item_unique_name"),
            models.UniqueConstraint(fields=["resource", "position"], name="catalog_item_unique_position"),
        ]

    def __str__(self) -> str:
        return self.name


class CodeSequence(models.Model):
    """The last 顺序码 the sequence handed out per 前段码. Explicit (imported) codes do not move it; the sequence skips
    the numbers a resource holds or a retired code held (catalog.services.allocate_codes), so no code is reused."""

    prefix = models.CharField("前段码", max_length=9, unique=True)
    last_value = models.PositiveIntegerField("最近顺序码", default=0)

    class Meta:
        verbose_name = "资源代码序列"
        verbose_name_plural = "资源代码序列"

    def __str__(self) -> str:
        return f"{self.prefix}/{self.last_value:06d}"


class ResourceVersion(models.Model):
    """A snapshot of a resource after each change, with the field-by-field difference from the previous one."""

    resource = models.ForeignKey(Resource, verbose_name="信息资源", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    action = models.CharField("操作", max_length=16, choices=VersionAction.choices)
    snapshot = models.JSONField("快照")
    changes = models.JSONField("变更", default=list)
    note = models.TextField("说明", blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField("操作人账号", max_length=150, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "资源版本"
        verbose_name_plural = "资源版本"
        ordering = ["resource", "-number"]
        constraints = [models.UniqueConstraint(fields=["resource", "number"], name="catalog_version_unique")]

    def __str__(self) -> str:
        return f"{self.resource.code} v{self.number}"


class ResourceRevision(models.Model):
    """A change request (变更) of a published entry: the proposed entry, in the form of a version's snapshot
    (govshare.catalog.history.snapshot), edited and reviewed while the published entry stays as it is. Approval
    writes it onto the entry as one version (action 变更) with its diff."""

    resource = models.ForeignKey(Resource, verbose_name="信息资源", on_delete=models.CASCADE, related_name="revisions")
    content = models.JSONField("变更内容")
    state = models.CharField("状态", max_length=16, choices=RevisionState.choices, default=RevisionState.DRAFT)
    base_version = models.PositiveIntegerField("所基于的版本")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField("申请人账号", max_length=150)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewer_name = models.CharField("审核人账号", max_length=150, blank=True)
    reason = models.TextField("驳回或撤回理由", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)

    class Meta:
        verbose_name = "资源变更申请"
        verbose_name_plural = "资源变更申请"
        ordering = ["resource", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource"],
                condition=models.Q(state__in=OPEN_REVISION_STATES),
                name="catalog_revision_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} 变更 #{self.pk}"


class RetiredResourceCode(models.Model):
    """Codes of deleted resources: kept so that they are never handed out again."""

    code = models.CharField("信息资源代码", max_length=16, unique=True)
    name = models.CharField("原资源名称", max_length=200)
    retired_at = models.DateTimeField("注销时间", auto_now_add=True)

    class Meta:
        verbose_name = "已注销资源代码"
        verbose_name_plural = "已注销资源代码"

    def __str__(self) -> str:
        return self.code


class ImportBatch(models.Model):
    """One Excel import: who sent which file and what became of it (all rows, or none with a report)."""

    class Outcome(models.TextChoices):
        IMPORTED = "imported", "已导入"
        REFUSED = "refused", "未导入（有错误）"

    file_name = models.CharField("文件名", max_length=255)
    file_size = models.PositiveBigIntegerField("文件大小")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices)
    row_count = models.PositiveIntegerField("资源行数", default=0)
    created_count = models.PositiveIntegerField("导入条数", default=0)
    problem_count = models.PositiveIntegerField("问题数", default=0)
    report = models.JSONField("校验报告", default=list)
    duration_ms = models.PositiveIntegerField("耗时（毫秒）", default=0)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "目录导入记录"
        verbose_name_plural = "目录导入记录"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_outcome_display()})"


class DuplicateCandidate(models.Model):
    """A near-duplicate of `resource` in another department, listed for the reviewer with its similarity."""

    resource = models.ForeignKey(
        Resource, verbose_name="信息资源", on_delete=models.CASCADE, related_name="duplicate_candidates"
    )
    similar = models.ForeignKey(Resource, verbose_name="疑似重复资源", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField("相似度")
    name_score = models.FloatField("名称相似度")
    item_score = models.FloatField("信息项重合度")
    detected_at = models.DateTimeField("发现时间", auto_now=True)

    class Meta:
        verbose_name = "疑似重复资源"
        verbose_name_plural = "疑似重复资源"
        ordering = ["resource", "-score"]
        constraints = [models.UniqueConstraint(fields=["resource", "similar"], name="catalog_duplicate_unique")]

    def __str__(self) -> str:
        return f"{self.resource_id}≈{self.similar_id} {self.score:.2f}"


class SynonymGroup(models.Model):
    """Words that mean the same in a search (身份证 / 公民身份号码 / 居民身份证): a query word of an active group also
    finds the entries carrying any other word of it. Data the platform administrator edits (seeded by migration
    0007 from catalog/data/synonyms.tsv); saved through govshare.catalog.synonyms.save_group (validated, audited)."""

    terms = models.CharField("同义词", max_length=500, help_text="两个或以上的词，以“/”分隔，如：社保/社会保险")
    note = models.CharField("说明", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "检索同义词"
        verbose_name_plural = "检索同义词"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.terms

    @property
    def term_list(self) -> list[str]:
        return [term for term in self.terms.split("/") if term]


class NotDuplicate(models.Model):
    """A pair of entries the reviewer marked 不是重复: it is no longer listed as near-duplicates (until the mark is
    taken back). The pair is stored once, the lower id first."""

    first = models.ForeignKey(Resource, verbose_name="信息资源", on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Resource, verbose_name="另一信息资源", on_delete=models.CASCADE, related_name="+")
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="标记人", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    marked_by_name = models.CharField("标记人用户名", max_length=150)
    marked_at = models.DateTimeField("标记时间", auto_now_add=True)

    class Meta:
        verbose_name = "不是重复的资源对"
        verbose_name_plural = "不是重复的资源对"
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="catalog_not_duplicate_unique"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="catalog_not_duplicate_order"
            ),
        ]
        indexes = [models.Index(fields=["second"], name="catalog_notdup_second")]

    def __str__(self) -> str:
        return f"{self.first_id}≠{self.second_id}"


class MaintenanceReminder(models.Model):
    """A 提醒 sent to an entry's department that the entry is due or overdue for 更新维护 (at most one a day per
    entry): who sent it, when, and to how many of the department's catalogue administrators."""

    resource = models.ForeignKey(
        Resource, verbose_name="信息资源", on_delete=models.CASCADE, related_name="maintenance_reminders"
    )
    sent_at = models.DateTimeField("提醒时间", db_index=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提醒人", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_by_name = models.CharField("提醒人用户名", max_length=150)
    recipients = models.PositiveIntegerField("接收人数")

    class Meta:
        verbose_name = "更新维护提醒"
        verbose_name_plural = "更新维护提醒"
        indexes = [models.Index(fields=["resource", "-sent_at"], name="catalog_reminder_latest")]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.sent_at:%Y-%m-%d}"
