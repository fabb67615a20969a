"""Typed API shapes of application scenarios."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from govshare.core.schemas import Page
from govshare.sharing.choices import ScenarioAction, ScenarioStatus
from govshare.sharing.models import Scenario, ScenarioEvent


class ScenarioIn(Schema):
    name: str = Field(..., description="场景名称（本部门内唯一）")
    description: str = Field("", description="业务描述（提交审核时必填）")
    legal_basis: str = Field("", description="依据：法律法规、政策文件或事项清单（提交审核时必填）")
    system_ids: list[int] = Field(
        default_factory=list, max_length=100, description="承载系统：本部门启用的接入系统 ID（提交审核时至少一个）"
    )
    needed_items: list[str] = Field(
        default_factory=list, max_length=500, description="所需信息项名称（提交审核时至少一项）"
    )


class SystemBrief(Schema):
    id: int
    code: str
    name: str
    is_active: bool


class ScenarioEventOut(Schema):
    action: ScenarioAction
    actor_name: str
    at: dt.datetime
    note: str
    changes: dict[str, object]


class ScenarioOut(Schema):
    id: int
    department_code: str
    department_name: str
    name: str
    description: str
    legal_basis: str
    systems: list[SystemBrief]
    needed_items: list[str]
    status: ScenarioStatus
    usable: bool = Field(..., description="已通过审核且未停用：共享申请可以引用、授权可以使用")
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    review_note: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_department_code(obj: Scenario) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj: Scenario) -> str:
        return obj.department.name

    @staticmethod
    def resolve_systems(obj: Scenario) -> list[object]:
        return list(obj.systems.all())

    @staticmethod
    def resolve_usable(obj: Scenario) -> bool:
        from govshare.sharing.scenarios import scenario_is_usable

        return scenario_is_usable(obj)


class ScenarioDetailOut(ScenarioOut):
    history: list[ScenarioEventOut]

    @staticmethod
    def resolve_history(obj: Scenario) -> list[ScenarioEvent]:
        return list(obj.events.order_by("at", "pk"))


class ScenarioPage(Page[ScenarioOut]):
    """One page of scenarios."""


class NoteIn(Schema):
    note: str = Field("", description="审核意见（选填）")


class ReasonIn(Schema):
    reason: str = Field(..., description="理由（必填）")
