"""The auditor's section of the home page (工作台, govshare.core.home): the latest check of the audit chain (its
result, when, by whom) and a link to check it now."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.audit import selectors
from govshare.core.authz import subject_of
from govshare.core.home import HOME
from govshare.core.panels import Panel, register_panel


def chain_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    user = subject_of(request)
    if not selectors.can_read_audit_log(user):
        return None
    check = selectors.latest_chain_check(user)
    return {"check": check, "ok": bool(check.extra.get("ok")) if check is not None else None}


def register() -> None:
    register_panel(
        HOME, Panel(key="audit_chain", order=300, template_name="audit/home/chain.html", context=chain_panel)
    )
