"""The platform administrator's home section on the working-day calendar: shown only when a year a deadline may
soon reach has not been entered (the current year; from 1 November the next one), so that it is entered before a
request's deadline needs it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from govshare.accounts import calendar_services
from govshare.accounts.models import User
from govshare.core.home import HOME
from govshare.core.panels import Panel, register_panel


def calendar_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    user = request.user
    if not isinstance(user, User) or not calendar_services.may_keep_calendar(user):
        return None
    notice = calendar_services.calendar_notice(timezone.localdate())
    return {"notice": notice} if notice is not None else None


def register() -> None:
    # First on the page: a missing year stops deadlines.
    register_panel(
        HOME, Panel(key="calendar", order=5, template_name="accounts/home/calendar.html", context=calendar_panel)
    )
