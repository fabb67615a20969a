"""Typed API shapes of notifications."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from govshare.core.schemas import Page
from govshare.notifications.choices import NotificationKind
from govshare.notifications.models import Notification


class NotificationFiltersIn(Schema):
    unread: bool = Field(False, description="只列出未读消息")
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)


class NotificationOut(Schema):
    id: int
    kind: NotificationKind = Field(
        ..., description="share_request 共享申请 / share_grant 共享授权 / quality_run 数据质量检测 / …"
    )
    kind_label: str
    title: str
    body: str
    link: str = Field(..., description="站内路径（如 /catalog/12/），可为空")
    target_type: str | None = Field(None, description="关联对象类型（app_label.model），可为空")
    target_key: str = Field(..., description="关联对象的主键或通用标识，可为空")
    created: dt.datetime
    read_at: dt.datetime | None

    @staticmethod
    def resolve_kind_label(obj: Notification) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_target_type(obj: Notification) -> str | None:
        content_type = obj.target_type
        return f"{content_type.app_label}.{content_type.model}" if content_type is not None else None


class NotificationPage(Page[NotificationOut]):
    """One page of my notifications."""


class UnreadCountOut(Schema):
    unread: int = Field(..., description="未读消息数")


class MarkedOut(Schema):
    marked: int = Field(..., description="本次标为已读的消息数")
