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


class RequestStatus(models.TextChoices):
    """A share request's state (共享申请). A draft is the applicant's cart (申请车): resources are added from the
    catalogue, then the request is submitted as a whole; it is closed when every line is decided."""

    DRAFT = "draft", "待提交"
    IN_REVIEW = "review", "办理中"
    CLOSED = "closed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"


class LineStatus(models.TextChoices):
    """One resource of a request (申请明细): reviewed on its own, item by item."""

    DRAFT = "draft", "待提交"
    IN_REVIEW = "review", "审核中"
    APPROVED = "approved", "已同意"
    PARTIAL = "partial", "部分同意"
    REFUSED = "refused", "已拒绝"
    DISPUTED = "disputed", "异议待仲裁"
    WITHDRAWN = "withdrawn", "已撤回"


# Lines still waiting for someone's decision.
OPEN_LINE_STATES = (LineStatus.IN_REVIEW, LineStatus.DISPUTED)


class StageReviewer(models.TextChoices):
    """Who decides a review stage: the coordinator's compliance check (合规审查) or the provider's 部门审核员."""

    COORDINATOR = "coordinator", "共享协调员"
    PROVIDER = "provider", "提供部门审核员"


class RequestAction(models.TextChoices):
    """A step in a share request's history (ShareRequestEvent)."""

    ADD = "add", "加入申请"
    REMOVE = "remove", "移出申请"
    EDIT = "edit", "修改申请"
    SUBMIT = "submit", "提交申请"
    GRANT_AT_ONCE = "auto", "无条件共享，即时授权"
    DEADLINE_UNKNOWN = "no_deadline", "办理期限无法计算"
    DEADLINE_SET = "deadline", "办理期限已计算"
    PASS = "pass", "审查通过"
    APPROVE = "approve", "同意"
    APPROVE_PART = "partial", "部分同意"
    REFUSE = "refuse", "拒绝"
    REMIND = "remind", "到期提醒"
    ESCALATE = "escalate", "逾期转协调员"
    DISPUTE = "dispute", "提出异议"
    UPHOLD = "uphold", "仲裁：维持原决定"
    OVERRULE = "overrule", "仲裁：改为同意"
    WITHDRAW = "withdraw", "撤回"
