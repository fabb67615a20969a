"""The signed-in user's notifications: the inbox (paged, newest first), the unread count, marking read."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router
from ninja.decorators import decorate_view

from govshare.accounts.acting import acting_user
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.nostore import no_store
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS
from govshare.notifications import selectors, services
from govshare.notifications.models import Notification
from govshare.notifications.schemas import (
    MarkedOut,
    NotificationFiltersIn,
    NotificationOut,
    NotificationPage,
    UnreadCountOut,
)

router = Router(tags=["消息 notifications"])


@router.get("", response={200: NotificationPage, **ERRORS}, auth=STAFF_READ, summary="我的消息（最新的在前）")
@decorate_view(no_store)
def list_notifications(request: HttpRequest, filters: Query[NotificationFiltersIn]) -> Page[Notification]:
    inbox = selectors.notifications_for(acting_user(request), unread=filters.unread)
    return paginate(inbox, filters.page, filters.page_size)


@router.get("/unread-count", response={200: UnreadCountOut, **ERRORS}, auth=STAFF_READ, summary="未读消息数")
def unread_count(request: HttpRequest) -> UnreadCountOut:
    return UnreadCountOut(unread=selectors.unread_count(acting_user(request)))


@router.post("/read-all", response={200: MarkedOut, **ERRORS}, auth=STAFF_WRITE, summary="全部标为已读")
def mark_all_read(request: HttpRequest) -> MarkedOut:
    return MarkedOut(marked=services.mark_all_read(actor=acting_user(request)))


@router.post(
    "/{notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="标为已读（他人的消息答 404）",
)
@decorate_view(no_store)
def mark_read(request: HttpRequest, notification_id: int) -> Notification:
    user = acting_user(request)
    return services.mark_read(selectors.get_notification(user, notification_id), actor=user)
