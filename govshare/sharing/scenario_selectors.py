"""Reads of application scenarios, scoped (govshare.core.authz): a department its own, the coordinator and the
platform administrator every department's, anyone else none (404).

For share requests: `citable_scenarios(user)` are the approved scenarios the user may cite (their department's,
when they may act for it); `scenario_is_usable` (sharing.scenarios) says whether one still backs a grant."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from govshare.accounts.models import User
from govshare.catalog.choices import ReviewStatus, ShareType
from govshare.catalog.models import Item
from govshare.core.authz import VIEW, Subject, restrict
from govshare.core.errors import NotFound
from govshare.identity.models import InformationSystem
from govshare.sharing.access_scenarios import EDIT, REVIEW, may_edit_for
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Scenario, ScenarioEvent
from govshare.sharing.scenarios import NOT_FOUND

MAX_ID = 2**63 - 1
ITEM_SUGGESTIONS = 200


def scenarios_for(subject: Subject, *, status: str = "", search: str = "") -> QuerySet[Scenario]:
    scenarios = restrict(Scenario.objects.select_related("department"), subject, VIEW)
    if status:
        scenarios = scenarios.filter(status=status)
    if search:
        scenarios = scenarios.filter(Q(name__contains=search) | Q(department__name__contains=search))
    return scenarios.order_by("-updated_at", "-pk")


def get_scenario(subject: Subject, pk: int) -> Scenario:
    scenario = (
        restrict(Scenario.objects.select_related("department", "created_by", "submitted_by", "reviewed_by"), subject)
        .prefetch_related("systems")
        .filter(pk=pk)
        .first()
        if 0 < pk <= MAX_ID
        else None
    )
    if scenario is None:
        raise NotFound(NOT_FOUND)
    return scenario


def review_queue(subject: Subject) -> QuerySet[Scenario]:
    """Submitted scenarios waiting for the coordinator, oldest first (none for anyone else)."""
    return (
        restrict(Scenario.objects.select_related("department"), subject, REVIEW)
        .filter(status=ScenarioStatus.SUBMITTED)
        .order_by("submitted_at", "pk")
    )


def citable_scenarios(user: User) -> QuerySet[Scenario]:
    """The approved scenarios the user may cite in a share request: their own department's, for its catalogue
    administrators and consumers."""
    return restrict(Scenario.objects.select_related("department"), user, EDIT).filter(status=ScenarioStatus.APPROVED)


def approved_scenarios_of(department_id: int) -> QuerySet[Scenario]:
    """A department's approved scenarios (unscoped: for services that have already checked their caller)."""
    return Scenario.objects.filter(department_id=department_id, status=ScenarioStatus.APPROVED)


def scenario_history(scenario: Scenario) -> QuerySet[ScenarioEvent]:
    return scenario.events.order_by("at", "pk")


def selectable_systems(user: User, department_id: int | None = None) -> QuerySet[InformationSystem]:
    """The active systems a scenario of the user's department may name: the department's own, nobody else's."""
    department = department_id if department_id is not None else user.department_id
    if department is None or not may_edit_for(user, department):
        return InformationSystem.objects.none()
    return InformationSystem.objects.filter(department_id=department, is_active=True).order_by("code")


def item_name_suggestions(*, search: str = "", limit: int = ITEM_SUGGESTIONS) -> list[str]:
    """Names of shareable items of published resources, the most common first: what a scenario's needed items are
    picked from (free text stays allowed). The catalogue is public to staff, so are its item names."""
    items = Item.objects.filter(resource__status=ReviewStatus.PUBLISHED).exclude(share_type=ShareType.NOT_SHARED)
    if search:
        items = items.filter(name__contains=search)
    rows = items.values("name").annotate(uses=Count("id")).order_by("-uses", "name")[: max(1, min(limit, 500))]
    return [row["name"] for row in rows]


def rejected_of_department(user: User) -> QuerySet[Scenario]:
    return restrict(Scenario.objects.all(), user, EDIT).filter(status=ScenarioStatus.REJECTED)
