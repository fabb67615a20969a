"""Typed API shapes of grading."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

from govshare.catalog.choices import DataGrade, DataLevel, OpenType
from govshare.core.schemas import Page, choice_values
from govshare.grading.choices import ChangeStatus
from govshare.grading.models import GradingChange

MAX_ID = 2**63 - 1  # the largest primary key a database integer holds


class GradingChangeIn(Schema):
    resource_id: int = Field(..., ge=1, le=MAX_ID, description="信息资源 ID（须为已发布过的资源）")
    item_name: str = Field("", description="信息项名称；留空表示调整资源本身的分级")
    to_grade: Annotated[str, choice_values(DataGrade)] = Field(
        ..., description="新数据级别：core 核心 / important 重要 / general 一般"
    )
    to_level: Annotated[str, choice_values(DataLevel)] = Field(..., description="新敏感级别：L4 / L3 / L2 / L1")
    reason: str = Field(..., description="调整理由（必填）")


class GradingChangeOut(Schema):
    id: int
    resource_id: int
    resource_code: str
    resource_name: str
    department_name: str
    item_name: str
    from_grade: DataGrade
    from_level: DataLevel
    to_grade: DataGrade
    to_level: DataLevel
    reason: str
    proposer_name: str
    proposed_at: dt.datetime
    status: ChangeStatus
    reviewer_name: str
    decided_at: dt.datetime | None
    review_note: str

    @staticmethod
    def resolve_resource_code(obj: GradingChange) -> str:
        return obj.resource.code

    @staticmethod
    def resolve_resource_name(obj: GradingChange) -> str:
        return obj.resource.name

    @staticmethod
    def resolve_department_name(obj: GradingChange) -> str:
        return obj.resource.department.name


class GradingChangePage(Page[GradingChangeOut]):
    """One page of grading changes."""


class ApproveIn(Schema):
    note: str = Field("", description="审核意见（选填）")


class RejectIn(Schema):
    reason: str = Field(..., description="驳回理由（必填）")


class ItemGradingOut(Schema):
    name: str
    grade: DataGrade
    data_level: DataLevel
    open_type: OpenType
    masking_rule: str | None = Field(None, description="非所有者获取时的脱敏规则；withhold 表示不得提供")


class ResourceGradingOut(Schema):
    resource_id: int
    code: str
    grade: DataGrade
    data_level: DataLevel
    open_type: OpenType
    needs_security_co_approval: bool = Field(..., description="共享是否须经安全管理员会签（重要、核心数据）")
    items: list[ItemGradingOut]
