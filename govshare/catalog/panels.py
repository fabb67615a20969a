"""The catalogue's own panels of the resource page; other apps add theirs to the same page
(govshare.core.panels): the catalogue's templates and code know none of them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.accounts.models import User
from govshare.catalog import access, selectors
from govshare.catalog.models import Resource
from govshare.core.errors import NotFound
from govshare.core.panels import Panel, register_panel

RESOURCE_DETAIL = "resource_detail"
"""The resource page (catalog/detail.html): its panels come between the items and the version history."""


def duplicates_panel(request: HttpRequest, resource: Resource) -> dict[str, Any] | None:
    """Near-duplicates from other departments, for those who see the resource's history (the owning department
    and the platform administrator), when there are any."""
    user = request.user
    if not isinstance(user, User):
        return None
    try:
        selectors.resource_versions(user, resource)  # the history's scope is the duplicates' scope
    except NotFound:
        return None
    duplicates = list(selectors.resource_duplicates(user, resource)[:20])
    marks = selectors.not_duplicate_marks(user, resource)
    if not duplicates and not marks:
        return None
    return {"duplicates": duplicates, "marks": marks, "may_mark": access.can_review(user), "resource": resource}


def register() -> None:
    register_panel(
        RESOURCE_DETAIL,
        Panel(key="duplicates", order=200, template_name="catalog/_duplicates.html", context=duplicates_panel),
    )
