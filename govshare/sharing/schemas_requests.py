"""Typed API shapes of share requests (共享申请)."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from govshare.core.schemas import Page
from govshare.sharing.choices import DeliveryMethod, LineStatus, RequestAction, RequestStatus, StageReviewer

REASON_MAX = 500  # requests.REASON_MAX: the service says so in Chinese; the schema only bounds the body


class RequestFiltersIn(Schema):
    side: str = Field(
        "",
        pattern="^(mine|provider)?$",
        description="mine：本部门提出的申请；provider：申请本部门数据的申请；空：本人可见的全部",
    )
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)


class StageOut(Schema):
    name: str
    reviewer: StageReviewer
    working_days: int = Field(..., description="办理时限（工作日，按中国法定节假日与调休计算）")


class LineOut(Schema):
    id: int
    request_id: int
    request_number: str | None = Field(..., description="申请编号（提交后才有）")
    applicant_department_name: str
    resource_id: int
    resource_code: str
    resource_name: str
    provider_name: str = Field(..., description="提供部门")
    items: list[str] = Field(..., description="申请的信息项")
    delivery_method: DeliveryMethod
    status: LineStatus
    stages: list[StageOut] = Field(..., description="提交时确定的审核环节")
    stage_index: int = Field(..., description="当前环节序号（从 0 起），办理时作为 stage_index 传回，防止误办下一环节")
    stage_name: str
    stage_reviewer: StageReviewer | None
    due_on: dt.date | None = Field(..., description="本环节办理期限")
    deadline_problem: str = Field(..., description="期限无法计算的原因（工作日历缺少该年时），否则为空")
    urgency: str = Field(..., description="期限的文字说明：剩余/今日到期/已逾期 N 个工作日，或无法计算")
    escalated: bool = Field(..., description="已逾期转共享协调员督办")
    may_decide: bool = Field(..., description="调用者可以办理本环节")
    approved_items: list[str]
    conditions: str
    refusal_reason: str
    decided_by_name: str
    decided_at: dt.datetime | None
    grant_id: int | None = Field(..., description="决定签发的共享授权")
    dispute_reason: str
    disputed_at: dt.datetime | None
    arbitration_note: str
    arbitrated_at: dt.datetime | None


class LinePage(Page[LineOut]):
    """One page of request lines."""


class RequestOut(Schema):
    id: int
    number: str | None = Field(..., description="申请编号（提交后才有）")
    department_id: int = Field(..., description="申请部门")
    department_name: str
    scenario_id: int | None
    scenario_name: str
    system_id: int | None = Field(..., description="使用数据的接入系统")
    system_name: str
    purpose: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    status: RequestStatus
    created_by_name: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    closed_at: dt.datetime | None


class RequestPage(Page[RequestOut]):
    """One page of share requests."""


class EventOut(Schema):
    action: RequestAction
    line_id: int | None
    resource_name: str
    actor_name: str = Field(..., description="空为系统（提醒、逾期督办）")
    at: dt.datetime
    note: str
    changes: dict[str, object]


class RequestDetailOut(RequestOut):
    lines: list[LineOut] = Field(..., description="调用者可见的申请明细（提供部门只见本部门资源的）")
    history: list[EventOut]


class OverdueOut(Schema):
    overdue: list[LineOut] = Field(..., description="逾期或期限无法计算的审核中明细，逾期最久的在前")
    disputed: list[LineOut] = Field(..., description="待仲裁的异议，最早提出的在前")


class AddLineIn(Schema):
    resource_id: int = Field(..., description="已发布的其他部门资源")
    items: list[str] | None = Field(None, max_length=500, description="申请的信息项名称；不填为全部可共享的信息项")
    delivery_method: DeliveryMethod = DeliveryMethod.API


class LineUpdateIn(Schema):
    id: int = Field(..., description="申请明细 ID")
    items: list[str] = Field(..., max_length=500)
    delivery_method: DeliveryMethod = DeliveryMethod.API


class RequestUpdateIn(Schema):
    scenario_id: int | None = Field(None, description="本部门已通过审核的应用场景")
    system_id: int | None = Field(None, description="应用场景的承载系统")
    purpose: str = Field("", description="用途（提交时必填）")
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    lines: list[LineUpdateIn] = Field(default_factory=list, max_length=50, description="要修改的明细；未列出的不变")


class WithdrawIn(Schema):
    reason: str = Field("", max_length=REASON_MAX, description="撤回说明（选填）")


class PassIn(Schema):
    note: str = Field("", max_length=REASON_MAX, description="审查意见（选填）")
    stage_index: int | None = Field(None, description="办理的环节序号；与当前环节不符时答复 409")


class ApproveIn(Schema):
    items: list[str] = Field(..., max_length=500, description="同意的信息项（全部或部分）")
    reason: str = Field("", max_length=REASON_MAX * 2, description="部分同意时必填：不同意其余信息项的理由")
    conditions: str = Field("", max_length=2000, description="使用条件")
    masking: dict[str, str] = Field(
        default_factory=dict, description="脱敏规则：信息项 → id_number/mobile/name/address/bank_card/text/withhold"
    )
    row_filter: dict[str, list[str]] = Field(default_factory=dict, description="行过滤：信息项 → 允许的取值")
    daily_quota: int | None = Field(None, description="每日调用上限；空为不限")
    valid_until: dt.date | None = Field(None, description="授权截止日期；空为申请的截止日期")
    review_interval_days: int = Field(365, description="复核周期（天），默认 12 个月")
    stage_index: int | None = Field(None, description="办理的环节序号；与当前环节不符时答复 409")


class RefuseIn(Schema):
    reason: str = Field(..., max_length=REASON_MAX * 2, description="拒绝理由（必填，申请部门可见）")
    stage_index: int | None = Field(None, description="办理的环节序号；与当前环节不符时答复 409")


class DisputeIn(Schema):
    reason: str = Field(..., max_length=REASON_MAX * 2, description="异议理由（必填）")


class ArbitrateIn(Schema):
    uphold: bool = Field(..., description="true 维持原决定；false 改为同意")
    note: str = Field(..., max_length=REASON_MAX * 2, description="仲裁意见（必填）")
    items: list[str] | None = Field(None, max_length=500, description="改为同意时授权的信息项；不填为申请的全部")


class StageIn(Schema):
    name: str = Field(..., max_length=100)
    reviewer: str = Field(..., description="coordinator 共享协调员 / provider 提供部门审核员")
    working_days: int = Field(..., description="办理时限（1 到 60 个工作日）")
