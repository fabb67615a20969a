"""Enumerations of data sources: their kinds, file formats, API paging and how a load takes their rows."""

from __future__ import annotations

from django.db import models


class SourceKind(models.TextChoices):
    DATABASE = "database", "前置库"
    HTTP_API = "http_api", "接口调用"
    FILE = "file", "文件报送"


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    TSV = "tsv", "TSV"
    XLSX = "xlsx", "Excel (xlsx)"
    JSON = "json", "JSON"
    JSONL = "jsonl", "JSON Lines"


class PagingMode(models.TextChoices):
    NONE = "none", "不分页"
    PAGE = "page", "页码分页"
    OFFSET = "offset", "偏移量分页"
    CURSOR = "cursor", "游标分页"


class LoadMode(models.TextChoices):
    FULL = "full", "全量"
    APPEND = "append", "增量（按水位字段追加）"
    UPSERT = "upsert", "增量（按主键合并）"
