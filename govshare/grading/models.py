"""A proposal to change the grade (GB/T 43697) or level (L1–L4) of a published resource or one of its items,
reviewed by the security officer (安全管理员)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext

from govshare.catalog.choices import DataGrade, DataLevel
from govshare.catalog.models import Resource
from govshare.grading.choices import ChangeStatus


class GradingChange(models.Model):
    """From → to for the resource itself (`item_name` blank) or one of its items, with the proposer's reason and
    the security officer's decision. Items are named, not referenced: a draft edit recreates item rows."""

    resource = models.ForeignKey(
        Resource, verbose_name="信息资源", on_delete=models.CASCADE, related_name="grading_changes"
    )
    item_name = models.CharField("信息项", max_length=100, blank=True, help_text="留空表示资源本身")
    from_grade = models.CharField("原数据级别", max_length=10, choices=DataGrade.choices)
    from_level = models.CharField("原敏感级别", max_length=2, choices=DataLevel.choices)
    to_grade = models.CharField("新数据级别", max_length=10, choices=DataGrade.choices)
    to_level = models.CharField("新敏感级别", max_length=2, choices=DataLevel.choices)
    reason = models.TextField("调整理由")
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposer_name = models.CharField("申请人账号", max_length=150)
    proposed_at = models.DateTimeField("申请时间", auto_now_add=True)
    status = models.CharField(
        "状态", max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING, db_index=True
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewer_name = models.CharField("审核人账号", max_length=150, blank=True)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_note = models.TextField("审核意见", blank=True, help_text="驳回时必填")

    class Meta:
        verbose_name = "分级调整申请"
        verbose_name_plural = "分级调整申请"
        ordering = ["-proposed_at", "-pk"]
        indexes = [models.Index(fields=["status", "proposed_at"], name="grading_change_status_idx")]
        constraints = [
            # One open proposal per target: a second would be decided against a grade that no longer holds.
            models.UniqueConstraint(
                fields=["resource", "item_name"],
                condition=models.Q(status="pending"),
                name="grading_change_one_pending_per_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target_label}：{self.from_label} → {self.to_label}"

    @property
    def target_label(self) -> str:
        code = self.resource.code if self.resource_id else ""
        return gettext("%(code)s 信息项“%(name)s”") % {"code": code, "name": self.item_name} if self.item_name else code

    @property
    def from_label(self) -> str:
        # Grade labels are the guideline's Chinese terms; read in the reader's language.
        return f"{gettext(self.get_from_grade_display())} / {gettext(self.get_from_level_display())}"

    @property
    def to_label(self) -> str:
        return f"{gettext(self.get_to_grade_display())} / {gettext(self.get_to_level_display())}"
