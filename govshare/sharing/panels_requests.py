"""Share requests on other apps' pages and in the header: the 申请共享 button on a catalogue entry (the catalogue
knows nothing of requests), shown to a consumer of another department when the entry is published (for a 不予共享
entry, instead of the button, the entry's refusal and its basis); the count of request lines waiting for a
reviewer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.accounts.models import User
from govshare.catalog.choices import ReviewStatus, ShareType
from govshare.catalog.models import Resource
from govshare.catalog.panels import RESOURCE_DETAIL
from govshare.core.navcounts import register_nav_count
from govshare.core.panels import Panel, register_panel
from govshare.core.roles import Role
from govshare.sharing import requests as share_requests
from govshare.sharing.access_requests import may_apply

APPLY = "apply"
NOT_SHARED = "not_shared"


def request_state(user: object, resource: Resource) -> str:
    """What the user may do about the resource: APPLY (the button), NOT_SHARED (the refusal), or "" (nothing shown:
    not a consumer, its own department's entry, an entry not published)."""
    if not isinstance(user, User) or not may_apply(user, user.department_id):
        return ""
    if resource.status != ReviewStatus.PUBLISHED or resource.department_id == user.department_id:
        return ""
    return NOT_SHARED if resource.share_type == ShareType.NOT_SHARED else APPLY


def request_panel(request: HttpRequest, resource: Resource) -> dict[str, Any] | None:
    if not isinstance(resource, Resource):
        return None
    state = request_state(request.user, resource)
    if not state:
        return None
    return {"resource": resource, "state": state}


def review_count(user: object) -> int | None:
    """Request lines the user decides now (部门审核员, 共享协调员); None for anyone else (no badge, no query)."""
    if not (isinstance(user, User) and user.is_active and user.has_role(Role.DEPT_REVIEWER, Role.COORDINATOR)):
        return None
    return len(share_requests.review_queue(user))


def register() -> None:
    register_panel(
        RESOURCE_DETAIL,
        Panel(key="share_request", order=300, template_name="sharing/resource_request.html", context=request_panel),
    )
    register_nav_count("request_review", review_count)
