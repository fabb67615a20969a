"""The typed API of deliveries (库表对接): what the consumer registers, and what it and the provider see."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from govshare.core.schemas import CursorPage
from govshare.gateway.choices import DeliveryKind, DeliverySchedule

__all__ = ["DeliveryIn", "DeliveryOut", "DeliveryPage", "DeliveryRunOut", "DeliveryRunPage", "RunQueuedOut"]


class DeliveryIn(Schema):
    grant_id: int = Field(..., description="本部门的共享授权编号（交付方式须为库表对接）")
    kind: DeliveryKind = Field(DeliveryKind.TABLE, description="交付方式：table 库表对接")
    target_url: str = Field(
        ...,
        max_length=500,
        description="目标库 SQLAlchemy 连接地址，如 postgresql://用户:密码@主机:5432/库名（密码加密保存，不再显示）",
    )
    table_name: str = Field(..., max_length=63, description="目标表名（不存在时自动建表）")
    schedule: DeliverySchedule = Field(DeliverySchedule.UPDATE_CYCLE, description="执行周期")


class DeliveryOut(Schema):
    id: int
    grant_id: int
    resource_id: int = Field(..., alias="grant.resource_id")
    department_id: int
    kind: str
    target_url: str = Field(..., description="目标库连接地址（不含密码）")
    table_name: str
    schedule: str
    key_items: list[str]
    status: str
    stopped_reason: str
    delivered_version: int | None
    next_run_at: dt.datetime | None
    created_at: dt.datetime


class DeliveryRunOut(Schema):
    id: int
    mode: str
    from_version: int | None
    version: int | None
    status: str
    rows_upserted: int
    rows_deleted: int
    error: str
    manual: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None


class DeliveryPage(CursorPage[DeliveryOut]):
    """One page of deliveries."""


class DeliveryRunPage(CursorPage[DeliveryRunOut]):
    """One page of a delivery's runs."""


class RunQueuedOut(Schema):
    queued: bool = Field(..., description="已加入执行队列")
