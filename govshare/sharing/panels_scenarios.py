"""Scenarios on other apps' pages (govshare.core.panels) and in the header: the coordinator's home section
(scenarios waiting for review) and its header count; the department's rejected scenarios on its home; the
scenarios a system serves on the system's page (identity cannot know them)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.accounts.models import User
from govshare.core.authz import VIEW, restrict
from govshare.core.home import HOME
from govshare.core.navcounts import register_nav_count
from govshare.core.panels import Panel, register_panel
from govshare.identity.models import InformationSystem
from govshare.identity.panels import SYSTEM_DETAIL
from govshare.sharing import scenario_selectors as selectors
from govshare.sharing.access_scenarios import EDITOR_ROLES, is_coordinator
from govshare.sharing.models import Scenario

LISTED = 10


def review_count(user: User) -> int | None:
    """Scenarios waiting for the coordinator; None for anyone else (no badge, no query)."""
    return selectors.review_queue(user).count() if is_coordinator(user) else None


def coordinator_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    user = request.user
    if not isinstance(user, User) or not is_coordinator(user):
        return None
    queue = selectors.review_queue(user)
    return {"waiting_count": queue.count(), "waiting": list(queue[:LISTED])}


def department_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    """Rejected scenarios of the department, for its catalogue administrators and consumers, when there are any."""
    user = request.user
    if not isinstance(user, User) or not user.is_active or not user.has_role(*EDITOR_ROLES):
        return None
    rejected = list(selectors.rejected_of_department(user).order_by("-reviewed_at")[:LISTED])
    if not rejected:
        return None
    return {"rejected": rejected}


def system_scenarios_panel(request: HttpRequest, system: InformationSystem) -> dict[str, Any] | None:
    user = request.user
    if not isinstance(user, User):
        return None
    scenarios = list(restrict(Scenario.objects.filter(systems=system), user, VIEW).order_by("name")[:50])
    return {"scenarios": scenarios}


def register() -> None:
    register_panel(
        HOME,
        Panel(
            key="scenario_review",
            order=150,
            template_name="sharing/home/scenario_review.html",
            context=coordinator_panel,
        ),
    )
    register_panel(
        HOME,
        Panel(
            key="scenario_rejected",
            order=160,
            template_name="sharing/home/scenario_rejected.html",
            context=department_panel,
        ),
    )
    register_panel(
        SYSTEM_DETAIL,
        Panel(
            key="scenarios", order=100, template_name="sharing/_system_scenarios.html", context=system_scenarios_panel
        ),
    )
    register_nav_count("scenario_review", review_count)
