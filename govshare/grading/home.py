"""The security officer's section of the home page (工作台, govshare.core.home): the grading changes waiting for a
decision and a risk list of personal data stored in plain text or graded only L1–L2; and the pending count in the
site header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.accounts.models import User
from govshare.catalog.choices import AtRest
from govshare.core.home import HOME
from govshare.core.navcounts import register_nav_count
from govshare.core.panels import Panel, register_panel
from govshare.grading import access, selectors

LISTED = 10
RISKS_LISTED = 20


def pending_count(user: User) -> int | None:
    """Grading changes waiting for the security officer; None for anyone else."""
    return selectors.review_queue(user).count() if access.is_security_officer(user) else None


def security_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    user = request.user
    if not isinstance(user, User) or not user.is_active or not access.is_security_officer(user):
        return None
    risks = selectors.risky_items(user)
    return {
        "pending_count": pending_count(user),
        "pending": list(selectors.review_queue(user)[:LISTED]),
        "risk_count": risks.count(),
        "risks": [
            {"item": item, "plain": item.at_rest == AtRest.PLAIN, "low": item.data_level in selectors.RISKY_LEVELS}
            for item in risks[:RISKS_LISTED]
        ],
    }


def register() -> None:
    register_panel(
        HOME, Panel(key="security", order=200, template_name="grading/home/security.html", context=security_panel)
    )
    register_nav_count("grading_pending", pending_count)
