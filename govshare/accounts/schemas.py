from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Schema

from govshare.accounts.choices import DepartmentLevel, Role, TokenScope
from govshare.accounts.models import Department, User
from govshare.core.schemas import Page, choice_values


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    level: DepartmentLevel
    parent_code: str | None
    region_code: str
    last_full_maintenance_at: dt.datetime | None

    @staticmethod
    def resolve_parent_code(obj: Department) -> str | None:
        return obj.parent.code if obj.parent else None


class DepartmentPage(Page[DepartmentOut]):
    """One page of departments."""


class MeOut(Schema):
    username: str
    full_name: str
    department_code: str | None
    department_name: str | None
    roles: list[Role]

    @staticmethod
    def resolve_department_code(obj: User) -> str | None:
        return obj.department.code if obj.department else None

    @staticmethod
    def resolve_department_name(obj: User) -> str | None:
        return obj.department.name if obj.department else None

    @staticmethod
    def resolve_roles(obj: User) -> list[str]:
        return sorted(obj.role_set())


class TokenIn(Schema):
    name: str
    scope: Annotated[str, choice_values(TokenScope)] = Field(
        "read", description="read（只读：只能调用 GET 接口）或 write（读写）"
    )
    expires_at: dt.datetime | None = Field(
        None, description="过期时间；不填为 GOVSHARE_API_TOKEN_DAYS 天后，最长 GOVSHARE_API_TOKEN_MAX_DAYS 天"
    )


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: TokenScope
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    token: str
