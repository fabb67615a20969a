"""The grading panel of the resource page: for its department's catalogue administrators the proposal form, and
a link to the resource's grading changes (the catalogue's page knows nothing of it: govshare.core.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.accounts.models import User
from govshare.catalog.choices import DataGrade, DataLevel
from govshare.catalog.models import Resource
from govshare.catalog.panels import RESOURCE_DETAIL
from govshare.core.panels import Panel, register_panel
from govshare.grading import access


def grading_panel(request: HttpRequest, resource: Resource) -> dict[str, Any] | None:
    """Shown to the department's catalogue administrators once the resource is published, and to the security
    officer. No query here: the items come with the resource (the page's query count stays flat), and the changes
    are listed on the grading page."""
    user = request.user
    if not isinstance(user, User):
        return None
    may_propose = access.can_propose(user, resource) and resource.published_on is not None
    if not (may_propose or access.is_security_officer(user)):
        return None
    return {
        "resource": resource,
        "items": list(resource.items.all()),
        "may_propose": may_propose,
        "grades": DataGrade.choices,
        "levels": DataLevel.choices,
    }


def register() -> None:
    register_panel(
        RESOURCE_DETAIL,
        Panel(key="grading", order=100, template_name="grading/_panel.html", context=grading_panel),
    )
