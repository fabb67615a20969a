"""The catalogue's sections of the home page (工作台, govshare.core.home) and its counts in the site header: the
reviewer's queue, the city's catalogue in figures for the platform administrator, and a department's rejected
entries and overdue maintenance for its catalogue administrators. Each section is a few queries whatever the size
of the catalogue."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext

from govshare.accounts import selectors as account_selectors
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.catalog import access, selectors
from govshare.core.home import HOME
from govshare.core.navcounts import register_nav_count
from govshare.core.panels import Panel, register_panel

LISTED = 10  # entries listed in a section; the count says how many there are
CHARTED_DEPARTMENTS = 15  # the departments with the most entries in the chart; the table lists them all


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_active else None


def review_count(user: User) -> int | None:
    """Entries waiting for the reviewer; None for anyone who does not review."""
    return selectors.review_queue(user).count() if access.can_review(user) else None


def rejected_count(user: User) -> int | None:
    """The department's rejected entries; None for anyone who is not a catalogue administrator of a department."""
    if not (user.has_role(Role.CATALOG_ADMIN) and user.department_id is not None):
        return None
    return selectors.rejected_resources(user).count()


def review_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    user = _user(request)
    if user is None or not access.can_review(user):
        return None
    queue = selectors.review_queue(user)
    return {"waiting": review_count(user), "oldest": queue.values_list("updated_at", flat=True).first()}


def figures_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    """The city's catalogue for the platform administrator, as charts (drawn in the browser from the JSON) and as
    tables (for screen readers and phones)."""
    user = _user(request)
    if user is None or not user.is_platform_admin:
        return None
    figures = selectors.catalogue_figures(user)
    return {
        "figures": figures,
        # The charts' data (json_script): labels in the page's language, as the tables show them.
        "status_chart": {
            "keys": [status for status, _, _ in figures.by_status],
            "labels": [gettext(label) for _, label, _ in figures.by_status],
            "values": [count for _, _, count in figures.by_status],
        },
        "department_chart": {
            "labels": [name for _, name, _ in figures.by_department[:CHARTED_DEPARTMENTS]],
            "values": [count for _, _, count in figures.by_department[:CHARTED_DEPARTMENTS]],
        },
    }


def department_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    """A catalogue administrator's department: its rejected entries (the newest, with the reviewer's reason) and
    whether its quarterly full maintenance is overdue."""
    user = _user(request)
    if user is None or not user.has_role(Role.CATALOG_ADMIN) or user.department is None:
        return None
    rejected = selectors.rejected_resources(user)
    department = user.department
    overdue = account_selectors.departments_overdue_for_maintenance().filter(pk=department.pk).exists()
    return {
        "department": department,
        "rejected": list(rejected[:LISTED]),
        "rejected_count": rejected_count(user),
        "maintenance_overdue": overdue,
        "last_maintenance": department.last_full_maintenance_at,
    }


def register() -> None:
    register_panel(HOME, Panel(key="review", order=10, template_name="catalog/home/review.html", context=review_panel))
    register_panel(
        HOME, Panel(key="catalogue_figures", order=20, template_name="catalog/home/figures.html", context=figures_panel)
    )
    register_panel(
        HOME, Panel(key="department", order=100, template_name="catalog/home/department.html", context=department_panel)
    )
    register_nav_count("review_queue", review_count)
    register_nav_count("rejected", rejected_count)
