from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from govshare.core.schemas import AFTER_DESCRIPTION, CursorPage


class AuditQueryIn(Schema):
    actor: str = Field("", description="操作人账号（精确匹配）")
    action: str = Field("", description="操作，如 resource.publish；以“.”结尾表示前缀，如 catalog.")
    object_type: str = Field("", description="对象类型，如 catalog.resource")
    object_id: str = Field("", description="对象标识")
    q: str = Field("", description="对象名称中包含的文字")
    since: str = Field("", description="起始时间（含），2026-11-26 或 2026-11-26T08:30（平台时区）")
    until: str = Field("", description="截止时间；只写日期时包含当天")


class LogPagingIn(Schema):
    page: int = 1
    page_size: int | None = None
    after: str | None = Field(None, description=AFTER_DESCRIPTION)


class AuditLogOut(Schema):
    id: int
    at: dt.datetime
    actor_name: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    extra: dict[str, Any]
    seq: int | None = Field(None, description="哈希链序号；尚未封存时为空")
    prev_hash: str
    row_hash: str = Field(
        description="封存 MAC（HMAC-SM3，十六进制）；启用审计密钥之前封存的记录为 SM3 哈希；尚未封存时为空"
    )
    key_id: str = Field("", description="封存所用的审计密钥标识；启用审计密钥之前封存的记录为空")
    batch_id: int | None


class AuditLogPage(CursorPage[AuditLogOut]):
    """One page of the audit log."""


ChainProblemKind = Literal["edited", "missing", "relinked", "forged", "head", "anchor", "key"]


class ChainProblemOut(Schema):
    kind: ChainProblemKind = Field(
        description=(
            "edited 被修改 / missing 被删除 / relinked 链接断开 / forged 伪造或插入 / head 链头不符 / "
            "anchor 与库外锚点不符或锚点文件被改动 / key 审计密钥环中没有所需密钥，无法校验"
        )
    )
    seq: int | None
    row_id: int | None
    message: str
    message_en: str


class ChainReportOut(Schema):
    ok: bool
    checked: int
    last_seq: int
    unsealed: int
    oldest_unsealed_at: dt.datetime | None
    legacy_rows: int = Field(0, description="启用审计密钥之前封存的记录数（无密钥 SM3，按旧方式校验）")
    anchors: int = Field(0, description="核对过的库外锚点个数")
    anchored_seq: int = Field(0, description="最近一个库外锚点记录的链尾序号")
    problems: list[ChainProblemOut]
