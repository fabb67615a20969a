"""Share requests on other apps' pages and in the header: the 申请共享 button on a catalogue entry (the catalogue
knows nothing of requests), shown to a consumer of another department when the entry is published (for a 不予共享
entry, instead of the button, the entry's refusal and its basis); the count of request lines waiting for a
reviewer; and the home's sections: the lines waiting for the reviewer or coordinator (most urgent first), the
coordinator's overdue and disputed lines, the consumer department's requests in review and its cart.

Each section takes a fixed number of queries whatever the number of requests (the lines come with their request,
department and resource in one query)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govshare.accounts.models import User
from govshare.catalog.choices import ReviewStatus, ShareType
from govshare.catalog.models import Resource
from govshare.catalog.panels import RESOURCE_DETAIL
from govshare.core.home import HOME
from govshare.core.navcounts import register_nav_count
from govshare.core.panels import Panel, register_panel
from govshare.core.roles import Role
from govshare.datasets import scopes
from govshare.sharing import requests as share_requests
from govshare.sharing.access_requests import may_apply
from govshare.sharing.choices import RequestStatus

APPLY = "apply"
NOT_SHARED = "not_shared"
LISTED = 5  # lines or requests a home section lists; the full list is one click away


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


def _deciders(user: object) -> User | None:
    """The user when it decides request lines (部门审核员, 共享协调员), else None."""
    if isinstance(user, User) and user.is_active and user.has_role(Role.DEPT_REVIEWER, Role.COORDINATOR):
        return user
    return None


def review_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    """待我审核的共享申请: the count and the most urgent lines, each with its deadline in words (an unknown deadline
    stands out)."""
    user = _deciders(request.user)
    if user is None:
        return None
    today = scopes.clock()
    queue = share_requests.review_queue(user)
    rows = [(line, share_requests.urgency(line, today)) for line in queue[:LISTED]]
    return {"count": len(queue), "rows": rows}


def overdue_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    """逾期与异议, for the coordinator, when there is either."""
    user = request.user
    if not (isinstance(user, User) and user.is_active and user.has_role(Role.COORDINATOR)):
        return None
    overdue = len(share_requests.overdue_lines(user, scopes.clock()))
    disputed = len(share_requests.disputed_lines(user))
    if not (overdue or disputed):
        return None
    return {"overdue": overdue, "disputed": disputed}


def department_panel(request: HttpRequest, obj: object) -> dict[str, Any] | None:
    """本部门的共享申请, for its consumers: the requests in review (newest first) and the user's cart when it holds
    resources; hidden when there is neither."""
    user = request.user
    if not isinstance(user, User) or not may_apply(user, user.department_id):
        return None
    in_review = share_requests.requests_for(user, side="mine").filter(status=RequestStatus.IN_REVIEW)
    listed = list(in_review[:LISTED])
    count = len(listed) if len(listed) < LISTED else in_review.count()
    cart = share_requests.cart_of(user)
    cart_lines = cart.lines.count() if cart is not None else 0
    if not (count or cart_lines):
        return None
    return {"count": count, "requests": listed, "cart_lines": cart_lines}


def register() -> None:
    register_panel(
        RESOURCE_DETAIL,
        Panel(key="share_request", order=300, template_name="sharing/resource_request.html", context=request_panel),
    )
    register_panel(
        HOME,
        Panel(key="request_review", order=140, template_name="sharing/home/request_review.html", context=review_panel),
    )
    register_panel(
        HOME,
        Panel(
            key="request_overdue", order=145, template_name="sharing/home/request_overdue.html", context=overdue_panel
        ),
    )
    register_panel(
        HOME,
        Panel(
            key="request_department",
            order=170,
            template_name="sharing/home/request_department.html",
            context=department_panel,
        ),
    )
    register_nav_count("request_review", review_count)
