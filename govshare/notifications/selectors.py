"""Reading notifications: a user sees their own, and nobody else's (404, as for a missing one); the scope is the
policy registered with govshare.core.authz (access.py)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from govshare.accounts.models import User
from govshare.core.authz import restrict
from govshare.core.errors import NotFound
from govshare.notifications.access import NOT_FOUND
from govshare.notifications.models import Notification

MAX_ID = 2**63 - 1  # the largest primary key a database integer holds


def notifications_for(user: User | AnonymousUser, *, unread: bool = False) -> QuerySet[Notification]:
    """The user's inbox, newest first (only unread ones with `unread`); empty for an anonymous user."""
    if not user.is_authenticated:
        return Notification.objects.none()
    inbox = restrict(Notification.objects.select_related("target_type"), user)
    return inbox.filter(read_at__isnull=True) if unread else inbox


def unread_count(user: User | AnonymousUser) -> int:
    """One COUNT on the unread index; 0 for an anonymous user (no query)."""
    if not user.is_authenticated:
        return 0
    return restrict(Notification.objects.filter(read_at__isnull=True), user).count()


def get_notification(user: User | AnonymousUser, notification_id: int) -> Notification:
    """One of the user's own notifications; anyone else's, or a missing one, is NotFound."""
    found = None
    if 1 <= notification_id <= MAX_ID:
        found = notifications_for(user).filter(pk=notification_id).first()
    if found is None:
        raise NotFound(NOT_FOUND)
    return found
