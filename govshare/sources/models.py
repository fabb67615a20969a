"""Sources (挂接的数据来源): where a published resource's data comes from, and how its columns map to the items."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from govshare.catalog.models import Resource
from govshare.core.fields import EncryptedTextField
from govshare.sources.choices import FileFormat, LoadMode, SourceKind


class Source(models.Model):
    """Where a published resource's data comes from (前置库, 接口 or 文件报送), and how it maps to the items."""

    resource = models.ForeignKey(Resource, verbose_name="信息资源", on_delete=models.PROTECT, related_name="sources")
    name = models.CharField("数据来源名称", max_length=100)
    kind = models.CharField("来源类型", max_length=16, choices=SourceKind.choices)
    # Kind-specific settings, validated by services.validate_source_config:
    #   database: {"url", "table" | "query"}
    #   http_api: {"url", "method", "headers", "records_path", "paging": {...},
    #              where the secret is sent: "token_header" + "token_prefix", "token_param" or "token_field"}
    #   file:     {"format", "delimiter", "sheet"}
    config = models.JSONField("连接配置", default=dict, blank=True)
    # Credentials kept apart from config so that pages, the API and the audit trail never show them; encrypted at
    # rest (SM4-GCM). A credential written into config is moved here (services._take_credentials).
    secret = EncryptedTextField("凭据", blank=True, place="datasets.Source.secret")  # bound before sources moved
    # [{"column": source column, "item": item name}], confirmed by the user.
    mapping = models.JSONField("字段映射", default=list, blank=True)
    load_mode = models.CharField("加载方式", max_length=10, choices=LoadMode.choices, default=LoadMode.FULL)
    watermark_column = models.CharField("水位字段", max_length=100, blank=True)
    key_items = models.JSONField("主键信息项", default=list, blank=True)
    detect_deletes = models.BooleanField("识别删除", default=False, help_text="来源每次提供全量时，主键消失即删除")
    schedule_enabled = models.BooleanField("按更新周期自动归集", default=False)
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    # What the last save through the services has to tell the user (a credential moved out of the settings into
    # `secret`, or dropped because the settings now point elsewhere); not stored.
    notices: tuple[str, ...] = ()

    class Meta:
        verbose_name = "数据来源"
        verbose_name_plural = "数据来源"
        ordering = ["resource", "id"]
        db_table = "datasets_source"  # created by the datasets app, which held sources before

    def __str__(self) -> str:
        return f"{self.resource.name} · {self.name}"

    @property
    def file_format(self) -> str:
        return str(self.config.get("format", FileFormat.CSV))
