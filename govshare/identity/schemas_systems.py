"""Typed API shapes of information systems and their credentials."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

from govshare.core.schemas import Page, choice_values
from govshare.identity.choices import CredentialState, Hosting, ProtectionLevel
from govshare.identity.models import InformationSystem, SystemCredential

MAX_ID = 2**63 - 1


class SystemIn(Schema):
    code: str = Field(..., description="系统编码（2–40 位字母、数字或连字符）；修改时须与原编码相同")
    name: str = Field(..., description="系统名称")
    department_code: str = Field("", description="所属部门代码：平台管理员登记时必填；部门目录管理员留空（本部门）")
    purpose: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    protection_level: Annotated[str, choice_values(ProtectionLevel)] = Field(
        ProtectionLevel.UNRATED, description="等保级别：1–5（第一级至第五级）或 unrated 未定级"
    )
    hosting: Annotated[str, choice_values(Hosting)] = Field(
        Hosting.UNKNOWN, description="部署方式：gov_cloud 政务云 / self_hosted 非政务云 / unknown 未登记"
    )
    allowed_networks: str = Field("", description="调用网关的来源地址：每行一个 IP 地址或网段（CIDR）；空：不限")


class SystemOut(Schema):
    id: int
    code: str
    name: str
    department_code: str
    department_name: str
    purpose: str
    contact_name: str
    contact_phone: str
    protection_level: ProtectionLevel
    hosting: Hosting
    allowed_networks: str
    is_active: bool
    created_at: dt.datetime
    deactivated_at: dt.datetime | None
    deactivate_reason: str
    last_used_at: dt.datetime | None = Field(None, description="任一凭证最近一次申请令牌或调用的时间")

    @staticmethod
    def resolve_department_code(obj: InformationSystem) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj: InformationSystem) -> str:
        return obj.department.name

    @staticmethod
    def resolve_last_used_at(obj: InformationSystem) -> dt.datetime | None:
        return getattr(obj, "last_used_at", None)


class SystemPage(Page[SystemOut]):
    """One page of the information-system register."""


class DeactivateIn(Schema):
    reason: str = Field(..., description="停用原因（必填）")


class RotateIn(Schema):
    overlap_hours: int = Field(168, ge=0, le=720, description="旧凭证继续有效的过渡期（小时，0–720，默认 7 天）")


class CredentialOut(Schema):
    id: int
    client_id: str
    created_at: dt.datetime
    state: CredentialState
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    replaced_by_id: int | None

    @staticmethod
    def resolve_client_id(obj: SystemCredential) -> str:
        return str(obj.application.client_id)

    @staticmethod
    def resolve_state(obj: SystemCredential) -> CredentialState:
        return obj.state_at(dt.datetime.now(dt.UTC))


class CredentialCreatedOut(CredentialOut):
    client_secret: str = Field(..., description="客户端密钥：只在这一次答复中出现，平台只保存其哈希")
