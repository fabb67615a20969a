"""The states and kinds of sharing (domain.md §4): scenarios, grants and how granted data is delivered."""

from __future__ import annotations

from django.db import models


class ScenarioStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "已驳回"
    RETIRED = "retired", "已停用"


class DeliveryMethod(models.TextChoices):
    """How a grant's data reaches the consumer (seed 003 item 12)."""

    API = "api", "接口调用"
    TABLE = "table", "库表对接"
    FILE = "file", "文件传输"


class GrantStatus(models.TextChoices):
    """A grant's stored state. Expiry (valid_until passed) and lapse (access review overdue) are decided from dates at
    each access (`grant_is_active`), so that they take effect on the very next read without a job having run."""

    ACTIVE = "active", "有效"
    REVOKED = "revoked", "已撤销"


class DemandStatus(models.TextChoices):
    """A demand's state (需求清单): open until the provider or the coordinator answers it with a published resource,
    asks the holder to catalogue what is missing, or the demanding department closes it."""

    OPEN = "open", "待响应"
    ANSWERED = "answered", "已对接资源"
    CATALOGUE_REQUESTED = "catalogue", "已请求编目"
    CLOSED = "closed", "已关闭"


# States in which the demanding department may still edit a demand (an answered or closed one is a record).
EDITABLE_DEMAND_STATES = (DemandStatus.OPEN, DemandStatus.CATALOGUE_REQUESTED)


class ScenarioAction(models.TextChoices):
    """A step in a scenario's history (ScenarioEvent)."""

    REGISTER = "register", "登记"
    UPDATE = "update", "修改"
    SUBMIT = "submit", "提交审核"
    APPROVE = "approve", "审核通过"
    REJECT = "reject", "驳回"
    RETIRE = "retire", "停用"
