"""Enumerations of the 1272 guideline (domain.md §3). Labels are the Chinese terms users see and import."""

from django.db import models


class CategoryLevel(models.IntegerChoices):
    CLASS = 1, "类"
    ITEM = 2, "项"
    SUBJECT = 3, "目"
    DETAIL = 4, "细目"


# Digits of each level's segment in the resource code.
LEVEL_WIDTH = {1: 1, 2: 2, 3: 3, 4: 3}
SEQUENCE_WIDTH = 6


class ResourceFormat(models.TextChoices):
    FILE = "file", "电子文件"
    SPREADSHEET = "spreadsheet", "电子表格"
    DATABASE = "database", "数据库"
    IMAGE = "image", "图形图像"
    MEDIA = "media", "流媒体"
    SELF_DESCRIBING = "self_describing", "自描述格式"
    OTHER = "other", "其他"


class ShareType(models.TextChoices):
    UNCONDITIONAL = "unconditional", "无条件共享"
    CONDITIONAL = "conditional", "有条件共享"
    NOT_SHARED = "not_shared", "不予共享"


class OpenType(models.TextChoices):
    UNCONDITIONAL = "unconditional", "无条件开放"
    CONDITIONAL = "conditional", "有条件开放"
    NOT_OPEN = "not_open", "不予开放"


# Strictness order: an item may be stricter than its resource, never looser.
SHARE_STRICTNESS = {ShareType.UNCONDITIONAL: 0, ShareType.CONDITIONAL: 1, ShareType.NOT_SHARED: 2}
OPEN_STRICTNESS = {OpenType.UNCONDITIONAL: 0, OpenType.CONDITIONAL: 1, OpenType.NOT_OPEN: 2}


class ShareMethod(models.TextChoices):
    PLATFORM = "platform", "共享平台方式"
    OFFLINE = "offline", "邮件/介质方式"


class PlatformShareType(models.TextChoices):
    API = "api", "接口"
    TABLE = "table", "库表"
    FILE = "file", "文件"


# Which platform delivery each format allows (a file shares by file, a database by table or API).
FORMAT_ALLOWED_PLATFORM_TYPES: dict[str, frozenset[str]] = {
    ResourceFormat.FILE: frozenset({PlatformShareType.FILE}),
    ResourceFormat.SPREADSHEET: frozenset({PlatformShareType.FILE}),
    ResourceFormat.IMAGE: frozenset({PlatformShareType.FILE}),
    ResourceFormat.MEDIA: frozenset({PlatformShareType.FILE}),
    ResourceFormat.DATABASE: frozenset({PlatformShareType.TABLE, PlatformShareType.API}),
    ResourceFormat.SELF_DESCRIBING: frozenset({PlatformShareType.API, PlatformShareType.FILE}),
    ResourceFormat.OTHER: frozenset(PlatformShareType.values),
}


class UpdateCycle(models.TextChoices):
    REALTIME = "realtime", "实时"
    DAILY = "daily", "每日"
    WEEKLY = "weekly", "每周"
    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度"
    HALF_YEARLY = "half_yearly", "每半年"
    YEARLY = "yearly", "每年"
    IRREGULAR = "irregular", "不定期"


class ItemDataType(models.TextChoices):
    CHAR = "C", "字符型"
    NUMBER = "N", "数值型"
    CURRENCY = "Y", "货币型"
    DATE = "D", "日期型"
    DATETIME = "T", "日期时间型"
    LOGICAL = "L", "逻辑型"
    MEMO = "M", "备注型"
    BINARY = "B", "二进制"


# Types whose length must be given.
LENGTH_REQUIRED_TYPES = frozenset({ItemDataType.CHAR, ItemDataType.NUMBER, ItemDataType.CURRENCY})


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已下线"


class VersionAction(models.TextChoices):
    CREATE = "create", "创建"
    IMPORT = "import", "导入"
    UPDATE = "update", "修改"
    SUBMIT = "submit", "提交审核"
    PUBLISH = "publish", "发布"
    REJECT = "reject", "驳回"
    WITHDRAW = "withdraw", "下线"
    REOPEN = "reopen", "重新编辑"
    REGRADE = "regrade", "分级调整"
    RECALL = "recall", "撤回提交"
    CHANGE = "change", "变更"


class RevisionState(models.TextChoices):
    """A change request (变更) of a published entry: edited as a draft, submitted, then approved (it replaces the
    published entry), rejected (editable again) or withdrawn by its department."""

    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "已驳回"
    WITHDRAWN = "withdrawn", "已撤回"


# A resource has at most one revision in these states (its open change request).
OPEN_REVISION_STATES = (RevisionState.DRAFT, RevisionState.SUBMITTED, RevisionState.REJECTED)


class DataGrade(models.TextChoices):
    """GB/T 43697-2024 数据分类分级: 核心数据 > 重要数据 > 一般数据."""

    CORE = "core", "核心"
    IMPORTANT = "important", "重要"
    GENERAL = "general", "一般"


class DataLevel(models.TextChoices):
    """Public-data sensitivity levels of DB33/T 2350: L4 never opened; L3 and L2 opened only on application after
    masking; L1 open."""

    L4 = "L4", "L4 敏感"
    L3 = "L3", "L3 较敏感"
    L2 = "L2", "L2 低敏感"
    L1 = "L1", "L1 不敏感"


# Strictness order of grades and levels: an item may be stricter than its resource, never looser.
GRADE_STRICTNESS = {DataGrade.GENERAL: 0, DataGrade.IMPORTANT: 1, DataGrade.CORE: 2}
LEVEL_STRICTNESS = {DataLevel.L1: 0, DataLevel.L2: 1, DataLevel.L3: 2, DataLevel.L4: 3}
# What a row graded before grading existed (and a draft that leaves them blank) carries.
DEFAULT_GRADE = DataGrade.GENERAL
DEFAULT_LEVEL = DataLevel.L2


class AtRest(models.TextChoices):
    """How an item's column is stored at rest in the platform's datasets: in plain text, encrypted with SM4-GCM, or
    encrypted with an HMAC-SM3 of each value beside it so the column can still be searched by equality."""

    PLAIN = "plain", "明文"
    ENCRYPTED = "encrypted", "加密"
    SEARCHABLE = "searchable", "加密可检索"


ENCRYPTED_AT_REST = frozenset({AtRest.ENCRYPTED, AtRest.SEARCHABLE})
