"""Typed API shapes of grants (共享授权)."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from govshare.core.schemas import Page
from govshare.sharing.choices import DeliveryMethod, GrantStatus


class GrantFiltersIn(Schema):
    side: str = Field(
        "", pattern="^(consumer|provider)?$", description="consumer：本部门持有的授权；provider：本部门数据的授权"
    )
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)


class GrantOut(Schema):
    id: int
    department_id: int = Field(..., description="使用部门")
    department_name: str
    scenario_id: int
    scenario_name: str
    systems: list[str] = Field(..., description="承载应用场景的系统（经网关调用）")
    resource_id: int
    resource_code: str
    resource_name: str
    provider_name: str = Field(..., description="提供部门")
    items: list[str]
    row_filter: dict[str, list[str]]
    masking: dict[str, str] = Field(..., description="授权指定的脱敏规则（在分级默认规则之上，只可更严格）")
    delivery_method: DeliveryMethod
    daily_quota: int | None
    valid_from: dt.date
    valid_until: dt.date
    review_interval_days: int
    last_confirmed_on: dt.date
    review_due_on: dt.date = Field(..., description="复核期限：此日之后未经复核确认即失效")
    status: GrantStatus
    state: str = Field(..., description="今天的状态：有效、已撤销、未生效、已到期、逾期未复核已失效……")
    active: bool
    used_today: int = Field(..., description="今日已访问次数")
    conditions: str
    source_note: str
    revoke_reason: str
    revoked_at: dt.datetime | None
    created_at: dt.datetime


class GrantPage(Page[GrantOut]):
    """One page of grants."""


class GrantIn(Schema):
    department_id: int = Field(..., description="使用部门")
    scenario_id: int = Field(..., description="使用部门已通过审核的应用场景")
    resource_id: int
    items: list[str] = Field(..., min_length=1, description="授权的信息项名称")
    row_filter: dict[str, list[str]] = Field(default_factory=dict, description="行过滤：信息项 → 允许的取值")
    masking: dict[str, str] = Field(
        default_factory=dict, description="脱敏规则：信息项 → id_number/mobile/name/address/bank_card/text/withhold"
    )
    delivery_method: DeliveryMethod = DeliveryMethod.API
    daily_quota: int | None = Field(None, description="每日调用上限；空为不限")
    valid_from: dt.date
    valid_until: dt.date
    review_interval_days: int = Field(365, description="复核周期（天），默认 12 个月")
    conditions: str = Field("", max_length=2000)
    source_note: str = Field("", max_length=200, description="授权来源，如共享申请编号")


class RevokeIn(Schema):
    reason: str = Field(..., max_length=500, description="撤销理由（必填）")


class ConfirmIn(Schema):
    note: str = Field("", max_length=200, description="复核说明")
