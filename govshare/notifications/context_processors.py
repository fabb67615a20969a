"""The unread count in the site header: one COUNT, only when a page shows it, none for anonymous visitors."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from govshare.notifications import selectors


def unread_notifications(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: a page that does not show the header (the back office, a download) asks nothing.
    return {"unread_notifications": SimpleLazyObject(lambda: selectors.unread_count(user))}
