"""Grants on other apps' pages: the provider reviewer's home section of grants due for access review (with its
header count), and on a resource's page the grants through which the user's department may read its data."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.core.home import HOME
from govshare.core.navcounts import register_nav_count
from govshare.core.panels import Panel, register_panel
from govshare.core.roles import Role
from govshare.datasets import scopes
from govshare.sharing import grants

LISTED = 10


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_active else None


def review_due_count(user: Any) -> int | None:
    """Grants the provider reviewer must confirm soon; None for anyone who confirms none."""
    if not (isinstance(user, User) and user.has_role(Role.DEPT_REVIEWER) and user.department_id is not None):
        return None
    return len(grants.due_for_review(user, scopes.clock()))


def review_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    user = _user(request)
    if user is None or review_due_count(user) is None:
        return None
    today = scopes.clock()
    due = grants.due_for_review(user, today)
    if not due:
        return None
    return {"due": [(grant, grants.review_due_on(grant)) for grant in due[:LISTED]], "count": len(due), "today": today}


def resource_grants_panel(request: HttpRequest, resource: Resource) -> dict[str, Any] | None:
    """A consumer's way from a catalogue entry to its data: the department's grants usable today."""
    user = _user(request)
    if user is None or not isinstance(resource, Resource):
        return None
    usable = grants.usable_grants(user, resource, scopes.clock())
    if not usable:
        return None
    return {"grants": usable, "resource": resource}


def register() -> None:
    register_panel(
        HOME, Panel(key="grant_review", order=60, template_name="sharing/home_grant_review.html", context=review_panel)
    )
    register_panel(
        "resource_detail",
        Panel(key="grants", order=310, template_name="sharing/resource_grants.html", context=resource_grants_panel),
    )
    register_nav_count("grant_review", review_due_count)
