"""The grading panel of a resource page: for its department's catalogue administrators the proposal form, and
a link to the resource's grading changes (the catalogue's view needs no change to show it)."""

from __future__ import annotations

from typing import Any

from django import template

from govshare.accounts.models import User
from govshare.catalog.choices import DataGrade, DataLevel
from govshare.catalog.models import Item, Resource
from govshare.grading import access

register = template.Library()


@register.inclusion_tag("grading/_panel.html", takes_context=True)
def grading_panel(context: dict[str, Any], resource: Resource, items: list[Item]) -> dict[str, Any]:
    user = context.get("user")
    if not isinstance(user, User):
        return {"show": False}
    # No query here: the resource page's query count stays flat; the changes are listed on the grading page.
    may_propose = access.can_propose(user, resource) and resource.published_on is not None
    return {
        "show": may_propose or access.is_security_officer(user),
        "resource": resource,
        "items": items,
        "may_propose": may_propose,
        "grades": DataGrade.choices,
        "levels": DataLevel.choices,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
