"""The 数据 section of the resource page (govshare.core.panels): the dataset's current version and timeliness, and
the link to the data page, for the users who may read the resource's data."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.catalog.panels import RESOURCE_DETAIL
from govshare.core.panels import Panel, register_panel
from govshare.datasets import jobs
from govshare.datasets.models import Dataset
from govshare.sources.access import can_read_data


def data_panel(request: HttpRequest, resource: Resource) -> dict[str, Any] | None:
    user = request.user
    if not isinstance(user, User) or not can_read_data(user, resource):
        return None
    return {
        "resource": resource,
        "dataset": Dataset.objects.filter(resource=resource).first(),
        "timely": jobs.is_timely(resource),
    }


def register() -> None:
    register_panel(
        RESOURCE_DETAIL, Panel(key="data", order=300, template_name="datasets/_data_section.html", context=data_panel)
    )
