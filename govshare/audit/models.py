from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models

from govshare.audit.keys import current_audit_keys
from govshare.audit.macs import CONTENT_FIELDS, content_mac


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("审计日志只能追加，不能修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("审计日志只能追加，不能删除")


class ContentMacField(models.CharField):
    """A row's content MAC (govshare.audit.macs.content_mac under the active audit key), computed whenever the row
    is inserted: `save()`, `create()`, `bulk_create()` and govshare.core.bulk, in the inserting transaction. Any
    value a caller sets is replaced; a row changed before it is sealed no longer matches its MAC."""

    computed_on_insert = True  # govshare.core.bulk computes it too (value_on_insert)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def value_on_insert(self, values: Mapping[str, Any]) -> str:
        """The MAC of a row given as attribute names → values (its auto_now_add time already set)."""
        return content_mac(values, current_audit_keys().active)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        if not add:
            return super().pre_save(model_instance, add)
        # Declared after the content fields, so `at` (auto_now_add) has been set by its own pre_save.
        value = self.value_on_insert({name: getattr(model_instance, name) for name in CONTENT_FIELDS})
        setattr(model_instance, self.attname, value)
        return value


class AuditSealBatch(models.Model):
    """One sealing run: the rows it linked into the SM3 chain (seq first_seq..last_seq) and the hash it ended on."""

    sealed_at = models.DateTimeField("封存时间", auto_now_add=True)
    first_seq = models.PositiveBigIntegerField("起始序号")
    last_seq = models.PositiveBigIntegerField("结束序号")
    row_count = models.PositiveIntegerField("记录数")
    head_hash = models.CharField("链头哈希", max_length=64)

    class Meta:
        verbose_name = "审计日志封存批次"
        verbose_name_plural = "审计日志封存批次"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.first_seq}–{self.last_seq}"


class AuditChainHead(models.Model):
    """The single row (pk=1) sealing locks and advances: the last sequence number and hash of the chain."""

    last_seq = models.PositiveBigIntegerField("最后序号", default=0)
    last_hash = models.CharField("最后哈希", max_length=64)
    sealed_at = models.DateTimeField("最后封存时间", null=True, blank=True)
    # Rows 1..legacy_seq were sealed before the chain was keyed (unkeyed SM3); set once, by migration 0003. Anchors
    # outside the database repeat it, so that moving it up does not make later rows pass as unkeyed.
    legacy_seq = models.PositiveBigIntegerField("未用密钥封存的最后序号", default=0)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"{self.last_seq} {self.last_hash[:12]}"


class AuditLog(models.Model):
    """One append-only record of an action: who, when, what, on which object.

    `content_mac` is computed when the row is inserted (ContentMacField). `seq`, `prev_hash`, `row_hash`, `key_id`
    and `batch` are empty when the row is written and are filled exactly once when the row is sealed into the chain
    (govshare.audit.chain.seal_audit_log). Rows sealed before the chain was keyed have no `content_mac` and no
    `key_id`: their `row_hash` is an unkeyed SM3 hash.
    """

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    # PROTECT: an account that appears in the trail is deactivated, never deleted (SET_NULL would alter sealed rows).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT
    )
    actor_name = models.CharField("操作人账号", max_length=150, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象标识", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=255, blank=True)
    extra = models.JSONField("详情", default=dict, blank=True)
    seq = models.PositiveBigIntegerField("链序号", null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField("前一条哈希", max_length=64, blank=True, editable=False)
    row_hash = models.CharField("本条哈希", max_length=64, blank=True, editable=False)
    batch = models.ForeignKey(
        AuditSealBatch,
        verbose_name="封存批次",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="rows",
    )
    # Empty in the database by default: a row inserted there without the platform has no MAC (and shows as such).
    content_mac = ContentMacField("内容指纹", default="", db_default="")
    key_id = models.CharField("封存密钥", max_length=32, blank=True, editable=False, default="", db_default="")

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor_name", "at"], name="audit_actor_idx"),
            # The rows waiting to be sealed, found without scanning the log.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("审计日志只能追加，不能删除")
