"""The datasets' sections of the home page (工作台, govshare.core.home): a department's failed loads for its
catalogue administrators, and the city's datasets (how many are loaded, how fresh) for the platform
administrator."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.core.home import HOME
from govshare.core.panels import Panel, register_panel
from govshare.datasets import selectors

LISTED = 10


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_active else None


def failed_loads_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    user = _user(request)
    if user is None or user.department_id is None or not user.has_role(Role.CATALOG_ADMIN):
        return None
    failed = selectors.failed_loads(user)
    return {
        "failed_count": failed.count(),
        "failed": list(failed.select_related("dataset__resource", "source")[:LISTED]),
    }


def data_figures_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    user = _user(request)
    if user is None or not user.is_platform_admin:
        return None
    figures = selectors.dataset_figures(user)
    freshness = [(gettext(label), count) for label, count in figures.freshness]
    return {
        "figures": figures,
        "freshness": freshness,
        "never_loaded": figures.datasets - figures.loaded,
        "freshness_chart": {"labels": [label for label, _ in freshness], "values": [c for _, c in freshness]},
    }


def register() -> None:
    register_panel(
        HOME,
        Panel(key="data_figures", order=30, template_name="datasets/home/figures.html", context=data_figures_panel),
    )
    register_panel(
        HOME,
        Panel(
            key="failed_loads", order=110, template_name="datasets/home/failed_loads.html", context=failed_loads_panel
        ),
    )
