"""Typed API shapes of the catalogue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from govshare.catalog import history
from govshare.catalog.choices import (
    AtRest,
    DataGrade,
    DataLevel,
    ItemDataType,
    OpenType,
    PlatformShareType,
    ResourceFormat,
    ReviewStatus,
    RevisionState,
    ShareMethod,
    ShareType,
    UpdateCycle,
    VersionAction,
)
from govshare.catalog.models import Item, Resource
from govshare.catalog.rules import ItemDraft, ResourceDraft
from govshare.catalog.selectors import ResourceFilters
from govshare.core.schemas import Page, choice_values, choices_text


class ItemIn(Schema):
    name: str = Field(..., description="信息项名称")
    data_type: Annotated[str, choice_values(ItemDataType)] = Field(
        ...,
        description="数据类型代码：C 字符型、N 数值型、Y 货币型、D 日期型、T 日期时间型、L 逻辑型、M 备注型、B 二进制",
    )
    length: int | None = Field(None, description="数据长度（字符型、数值型、货币型必填）")
    share_type: Annotated[str, choice_values(ShareType, blank=True)] = Field(
        "", description="信息项共享属性，留空则同资源"
    )
    open_type: Annotated[str, choice_values(OpenType, blank=True)] = Field(
        "", description="信息项开放属性，留空则同资源"
    )
    description: str = ""
    grade: Annotated[str, choice_values(DataGrade, blank=True)] = Field(
        "", description="信息项数据级别 core/important/general，留空则同资源；不得比资源更宽松"
    )
    data_level: Annotated[str, choice_values(DataLevel, blank=True)] = Field(
        "", description="信息项敏感级别 L1–L4，留空则同资源；不得比资源更宽松"
    )
    at_rest: Annotated[str, choice_values(AtRest, blank=True)] = Field(
        "",
        description="静态加密 plain 明文 / encrypted 加密（SM4-GCM）/ searchable 加密可检索"
        "（另存 HMAC-SM3，可按等值查询）；新建时留空为明文，修改时留空则不变。数据来源的主键信息项须为明文",
    )


class ResourceIn(Schema):
    name: str
    category_code: str = Field(..., description="分类码，如 101（基础-人口）")
    department_code: str = Field("", description="提供方代码；留空则为当前用户所属部门")
    summary: str
    format: Annotated[str, choice_values(ResourceFormat)] = Field(
        ..., description="file/spreadsheet/database/image/media/self_describing/other"
    )
    sub_format: str = ""
    share_type: Annotated[str, choice_values(ShareType)] = Field(
        ..., description="unconditional/conditional/not_shared"
    )
    share_condition: str = ""
    share_basis: str = ""
    share_method: Annotated[str, choice_values(ShareMethod, blank=True)] = Field("", description="platform/offline")
    platform_share_type: Annotated[str, choice_values(PlatformShareType, blank=True)] = Field(
        "", description="api/table/file"
    )
    open_type: Annotated[str, choice_values(OpenType)] = Field(..., description="unconditional/conditional/not_open")
    open_condition: str = ""
    grade: Annotated[str, choice_values(DataGrade, blank=True)] = Field(
        "",
        description="数据级别（GB/T 43697）core 核心 / important 重要 / general 一般；"
        "新建时留空为一般，修改时留空则不变",
    )
    data_level: Annotated[str, choice_values(DataLevel, blank=True)] = Field(
        "",
        description="敏感级别 L4 敏感 / L3 较敏感 / L2 低敏感 / L1 不敏感；新建时留空为 L2（无条件开放的资源为 L1），"
        "修改时留空则不变。核心或 L4 只能不予开放，L3、L2 不能无条件开放",
    )
    update_cycle: Annotated[str, choice_values(UpdateCycle)] = Field(
        ..., description="realtime/daily/weekly/monthly/quarterly/half_yearly/yearly/irregular"
    )
    related_codes: list[str] = []
    extension: dict[str, Any] = {}
    items: list[ItemIn]

    def to_draft(self, default_department_code: str) -> ResourceDraft:
        data = self.model_dump(exclude={"items"})
        data["department_code"] = self.department_code or default_department_code
        return ResourceDraft(**data, items=[ItemDraft(**item.model_dump()) for item in self.items])


class ItemOut(Schema):
    position: int
    name: str
    data_type: ItemDataType
    length: int | None
    share_type: ShareType
    open_type: OpenType
    description: str
    grade: DataGrade
    data_level: DataLevel
    at_rest: AtRest


class ResourceBrief(Schema):
    id: int
    code: str
    name: str
    department_code: str
    department_name: str
    category_code: str
    format: ResourceFormat
    share_type: ShareType
    open_type: OpenType
    grade: DataGrade
    data_level: DataLevel
    update_cycle: UpdateCycle
    status: ReviewStatus
    published_on: dt.date | None
    updated_at: dt.datetime

    @staticmethod
    def resolve_department_code(obj: Resource) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj: Resource) -> str:
        return obj.department.name

    @staticmethod
    def resolve_category_code(obj: Resource) -> str:
        return obj.category.code


class ResourceOut(ResourceBrief):
    category_name: str
    summary: str
    sub_format: str
    share_condition: str
    share_basis: str
    share_method: Annotated[str, choice_values(ShareMethod, blank=True)]
    platform_share_type: Annotated[str, choice_values(PlatformShareType, blank=True)]
    open_condition: str
    related_codes: list[str]
    extension: dict[str, Any]
    rejection_reason: str
    version: int
    created_at: dt.datetime
    items: list[ItemOut]

    @staticmethod
    def resolve_category_name(obj: Resource) -> str:
        return obj.category.name

    @staticmethod
    def resolve_items(obj: Resource) -> list[Item]:
        return list(obj.items.all())


class ResourceFiltersIn(Schema):
    department_code: str = Field("", description="提供方代码")
    category_code: str = Field("", description="分类码前缀")
    # Filters stay free text (a value outside the choices matches nothing, as before); they list the choices.
    share_type: str = Field("", description=choices_text(ShareType))
    open_type: str = Field("", description=choices_text(OpenType))
    format: str = Field("", description=choices_text(ResourceFormat))
    update_cycle: str = Field("", description=choices_text(UpdateCycle))
    status: str = Field("", description=choices_text(ReviewStatus) + "；rejected 已驳回（被驳回、尚未重新提交的草稿）")
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)

    def to_filters(self) -> ResourceFilters:
        return ResourceFilters(**self.model_dump(exclude={"page", "page_size"}))


class ResourcePage(Page[ResourceBrief]):
    """One page of catalogue entries."""


class ReasonIn(Schema):
    reason: str = Field(..., description="理由（驳回、下线必填）")


class NoteIn(Schema):
    note: str = Field("", description="审核意见（可选）")


class WithdrawRevisionIn(Schema):
    reason: str = Field("", description="撤回原因（可选）")


class EffectOut(Schema):
    kind: str = Field(..., description="受影响的对象类别，如 数据来源映射、数据集字段")
    subject: str
    item: str
    message: str


class RevisionOut(Schema):
    """A change request (变更) of a published entry: its proposed content (a version snapshot), its difference from
    the entry as published now, and what approving it would break elsewhere."""

    id: int
    resource_id: int
    state: RevisionState
    base_version: int
    author_name: str
    reviewer_name: str
    reason: str
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    content: dict[str, Any]
    changes: list[dict[str, str]]
    effects: list[EffectOut]


class RevisionBrief(Schema):
    id: int
    resource_id: int
    resource_code: str
    resource_name: str
    department_name: str
    state: RevisionState
    author_name: str
    submitted_at: dt.datetime | None

    @staticmethod
    def resolve_resource_code(obj: Any) -> str:
        return str(obj.resource.code)

    @staticmethod
    def resolve_resource_name(obj: Any) -> str:
        return str(obj.resource.name)

    @staticmethod
    def resolve_department_name(obj: Any) -> str:
        return str(obj.resource.department.name)


class RevisionPage(Page[RevisionBrief]):
    """One page of change requests waiting for review."""


class VersionOut(Schema):
    number: int
    action: VersionAction
    actor_name: str
    created_at: dt.datetime
    note: str
    changes: list[dict[str, str]]

    @staticmethod
    def resolve_changes(obj: Any) -> list[dict[str, str]]:
        return history.readable(obj.changes)

    @staticmethod
    def resolve_note(obj: Any) -> str:
        return history.readable_note(obj.note)


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    level: int
    parent_code: str | None
    is_active: bool

    @staticmethod
    def resolve_parent_code(obj: Any) -> str | None:
        return obj.parent.code if obj.parent else None


class CategoryIn(Schema):
    parent_code: str | None = None
    segment: str
    name: str
    description: str = ""


class CategoryUpdate(Schema):
    name: str
    description: str = ""
    is_active: bool = True


class DuplicateOut(Schema):
    id: int
    code: str
    name: str
    department_name: str
    status: ReviewStatus
    score: float
    name_score: float
    item_score: float

    @staticmethod
    def resolve_id(obj: Any) -> int:
        return int(obj.similar.pk)

    @staticmethod
    def resolve_code(obj: Any) -> str:
        return str(obj.similar.code)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.similar.name)

    @staticmethod
    def resolve_department_name(obj: Any) -> str:
        return str(obj.similar.department.name)

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj.similar.status)
