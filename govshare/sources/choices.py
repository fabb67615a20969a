"""Enumerations of data sources: their kinds, file formats, API paging and how a load takes their rows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    DATABASE = "database", _("前置库")
    HTTP_API = "http_api", _("接口调用")
    FILE = "file", _("文件报送")


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    TSV = "tsv", "TSV"
    XLSX = "xlsx", "Excel (xlsx)"
    JSON = "json", "JSON"
    JSONL = "jsonl", "JSON Lines"


class PagingMode(models.TextChoices):
    NONE = "none", _("不分页")
    PAGE = "page", _("页码分页")
    OFFSET = "offset", _("偏移量分页")
    CURSOR = "cursor", _("游标分页")


class LoadMode(models.TextChoices):
    FULL = "full", _("全量")
    APPEND = "append", _("增量（按水位字段追加）")
    UPSERT = "upsert", _("增量（按主键合并）")
