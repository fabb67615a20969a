"""The auditor's section of the home page (工作台, govshare.core.home): the latest check of the audit chain (its
result, when, by whom, from where: the site, the API or the command line) and a link to check it now."""

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
    if check is None:
        return {"check": None, "ok": None, "origin": "", "from_cli": False}
    origin = str(check.extra.get("origin") or "")
    return {
        "check": check,
        "ok": bool(check.extra.get("ok")),
        # Stored in the platform's language; the template says it in the reader's.
        "origin": origin,
        "from_cli": origin == selectors.ORIGIN_CLI,
    }


def register() -> None:
    register_panel(
        HOME, Panel(key="audit_chain", order=300, template_name="audit/home/chain.html", context=chain_panel)
    )
