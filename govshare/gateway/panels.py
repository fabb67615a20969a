"""The gateway on other apps' pages: on the audit log, the auditor's way to 按查询键追溯."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.accounts.models import User
from govshare.core.panels import Panel, register_panel
from govshare.gateway import selectors


def trace_link_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    user = request.user
    if not (isinstance(user, User) and user.is_active and selectors.may_trace_keys(user)):
        return None
    return {}


def register() -> None:
    register_panel(
        "audit_log",
        Panel(key="gateway_trace", order=100, template_name="gateway/_audit_link.html", context=trace_link_panel),
    )
