"""Typed API shapes of the catalogue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from govshare.catalog.models import Item, Resource
from govshare.catalog.rules import ItemDraft, ResourceDraft
from govshare.catalog.selectors import ResourceFilters


class ItemIn(Schema):
    name: str = Field(..., description="信息项名称")
    data_type: str = Field(
        ...,
        description="数据类型代码：C 字符型、N 数值型、Y 货币型、D 日期型、T 日期时间型、L 逻辑型、M 备注型、B 二进制",
    )
    length: int | None = Field(None, description="数据长度（字符型、数值型、货币型必填）")
    share_type: str = Field("", description="信息项共享属性，留空则同资源")
    open_type: str = Field("", description="信息项开放属性，留空则同资源")
    description: str = ""
    grade: str = Field("", description="信息项数据级别 core/important/general，留空则同资源；不得比资源更宽松")
    data_level: str = Field("", description="信息项敏感级别 L1–L4，留空则同资源；不得比资源更宽松")
    at_rest: str = Field(
        "",
        description="静态加密 plain 明文 / encrypted 加密（SM4-GCM）/ searchable 加密可检索"
        "（另存 HMAC-SM3，可按等值查询）；新建时留空为明文，修改时留空则不变。数据来源的主键信息项须为明文",
    )


class ResourceIn(Schema):
    name: str
    category_code: str = Field(..., description="分类码，如 101（基础-人口）")
    department_code: str = Field("", description="提供方代码；留空则为当前用户所属部门")
    summary: str
    format: str = Field(..., description="file/spreadsheet/database/image/media/self_describing/other")
    sub_format: str = ""
    share_type: str = Field(..., description="unconditional/conditional/not_shared")
    share_condition: str = ""
    share_basis: str = ""
    share_method: str = Field("", description="platform/offline")
    platform_share_type: str = Field("", description="api/table/file")
    open_type: str = Field(..., description="unconditional/conditional/not_open")
    open_condition: str = ""
    grade: str = Field(
        "",
        description="数据级别（GB/T 43697）core 核心 / important 重要 / general 一般；"
        "新建时留空为一般，修改时留空则不变",
    )
    data_level: str = Field(
        "",
        description="敏感级别 L4 敏感 / L3 较敏感 / L2 低敏感 / L1 不敏感；新建时留空为 L2（无条件开放的资源为 L1），"
        "修改时留空则不变。核心或 L4 只能不予开放，L3、L2 不能无条件开放",
    )
    update_cycle: str = Field(..., description="realtime/daily/weekly/monthly/quarterly/half_yearly/yearly/irregular")
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
    data_type: str
    length: int | None
    share_type: str
    open_type: str
    description: str
    grade: str
    data_level: str
    at_rest: str


class ResourceBrief(Schema):
    id: int
    code: str
    name: str
    department_code: str
    department_name: str
    category_code: str
    format: str
    share_type: str
    open_type: str
    grade: str
    data_level: str
    update_cycle: str
    status: str
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
    share_method: str
    platform_share_type: str
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
    share_type: str = ""
    open_type: str = ""
    format: str = ""
    update_cycle: str = ""
    status: str = ""
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)

    def to_filters(self) -> ResourceFilters:
        return ResourceFilters(**self.model_dump(exclude={"page", "page_size"}))


class ResourcePage(Schema):
    items: list[ResourceBrief]
    total: int
    page: int
    page_size: int


class ReasonIn(Schema):
    reason: str = Field(..., description="理由（驳回、下线必填）")


class VersionOut(Schema):
    number: int
    action: str
    actor_name: str
    created_at: dt.datetime
    note: str
    changes: list[dict[str, str]]


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
    status: str
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
