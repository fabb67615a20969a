"""The scenario API: thin routes over the scenario selectors (reads, scoped) and services (writes)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.core.apiauth import STAFF_READ, STAFF_WRITE
from govshare.core.errors import FieldProblem, PermissionDenied, ValidationFailed
from govshare.core.pagination import Page, paginate
from govshare.core.schemas import ERRORS
from govshare.sharing import scenario_selectors as selectors
from govshare.sharing import scenarios as services
from govshare.sharing.access_scenarios import EDITORS_ONLY
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Scenario
from govshare.sharing.schemas_scenarios import NoteIn, ReasonIn, ScenarioDetailOut, ScenarioIn, ScenarioPage

router = Router(tags=["应用场景 scenarios"])


class ScenarioFiltersIn(Schema):
    status: str = Field(
        "", description="draft 草稿 / submitted 待审核 / approved 已通过 / rejected 已驳回 / retired 已停用"
    )
    search: str = Field("", max_length=100, description="场景名称或部门名称")
    page: int = Field(1, ge=1)
    page_size: int | None = Field(None, ge=1)


def _input(request: HttpRequest, payload: ScenarioIn, scenario: Scenario | None) -> services.ScenarioInput:
    user = acting_user(request)
    department = scenario.department if scenario is not None else user.department
    if department is None:
        raise PermissionDenied(EDITORS_ONLY)
    return services.ScenarioInput(
        department=department,
        name=payload.name,
        description=payload.description,
        legal_basis=payload.legal_basis,
        system_ids=payload.system_ids,
        needed_items=payload.needed_items,
    )


@router.get(
    "/scenarios",
    response={200: ScenarioPage, **ERRORS},
    auth=STAFF_READ,
    summary="应用场景（本部门的；共享协调员和平台管理员看全市）",
)
def list_scenarios(request: HttpRequest, filters: Query[ScenarioFiltersIn]) -> Page[Scenario]:
    if filters.status and filters.status not in ScenarioStatus.values:
        raise ValidationFailed([FieldProblem("status", f"没有“{filters.status}”这种状态")])
    scenarios = selectors.scenarios_for(acting_user(request), status=filters.status, search=filters.search)
    return paginate(scenarios.prefetch_related("systems"), filters.page, filters.page_size)


@router.get(
    "/scenarios/review-queue",
    response={200: ScenarioPage, **ERRORS},
    auth=STAFF_READ,
    summary="共享协调员待审核的应用场景（最早提交的在前；其他人为空）",
)
def review_queue(request: HttpRequest, page: int = 1, page_size: int | None = None) -> Page[Scenario]:
    return paginate(selectors.review_queue(acting_user(request)).prefetch_related("systems"), page, page_size)


@router.get(
    "/scenarios/citable",
    response={200: ScenarioPage, **ERRORS},
    auth=STAFF_READ,
    summary="本人可在共享申请中引用的应用场景（本部门已通过的）",
)
def citable(request: HttpRequest, page: int = 1, page_size: int | None = None) -> Page[Scenario]:
    return paginate(selectors.citable_scenarios(acting_user(request)).prefetch_related("systems"), page, page_size)


@router.get(
    "/scenarios/item-names",
    response={200: list[str], **ERRORS},
    auth=STAFF_READ,
    summary="可选的信息项名称（已发布资源中可共享的信息项，常见的在前）",
)
def item_names(request: HttpRequest, search: str = Query("", max_length=100)) -> list[str]:  # type: ignore[assignment]
    acting_user(request)
    return selectors.item_name_suggestions(search=search)


@router.post(
    "/scenarios",
    response={201: ScenarioDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="登记本部门的应用场景（草稿）",
)
def create_scenario(request: HttpRequest, payload: ScenarioIn) -> Status[Scenario]:
    user = acting_user(request)
    scenario = services.register_scenario(_input(request, payload, None), actor=user)
    return Status(201, selectors.get_scenario(user, scenario.pk))


@router.get(
    "/scenarios/{scenario_id}",
    response={200: ScenarioDetailOut, **ERRORS},
    auth=STAFF_READ,
    summary="应用场景详情及办理记录",
)
def get_scenario(request: HttpRequest, scenario_id: int) -> Scenario:
    return selectors.get_scenario(acting_user(request), scenario_id)


@router.put(
    "/scenarios/{scenario_id}",
    response={200: ScenarioDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="修改草稿或被驳回的应用场景",
)
def update_scenario(request: HttpRequest, scenario_id: int, payload: ScenarioIn) -> Scenario:
    user = acting_user(request)
    scenario = selectors.get_scenario(user, scenario_id)
    services.update_scenario(scenario, _input(request, payload, scenario), actor=user)
    return selectors.get_scenario(user, scenario_id)


@router.post(
    "/scenarios/{scenario_id}/submit",
    response={200: ScenarioDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="提交审核（草稿或被驳回后修改的场景）",
)
def submit_scenario(request: HttpRequest, scenario_id: int) -> Scenario:
    user = acting_user(request)
    services.submit_scenario(selectors.get_scenario(user, scenario_id), actor=user)
    return selectors.get_scenario(user, scenario_id)


@router.post(
    "/scenarios/{scenario_id}/approve",
    response={200: ScenarioDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="共享协调员审核通过",
)
def approve_scenario(request: HttpRequest, scenario_id: int, payload: NoteIn) -> Scenario:
    user = acting_user(request)
    services.approve_scenario(selectors.get_scenario(user, scenario_id), actor=user, note=payload.note)
    return selectors.get_scenario(user, scenario_id)


@router.post(
    "/scenarios/{scenario_id}/reject",
    response={200: ScenarioDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="共享协调员驳回（须填写理由）",
)
def reject_scenario(request: HttpRequest, scenario_id: int, payload: ReasonIn) -> Scenario:
    user = acting_user(request)
    services.reject_scenario(selectors.get_scenario(user, scenario_id), actor=user, reason=payload.reason)
    return selectors.get_scenario(user, scenario_id)


@router.post(
    "/scenarios/{scenario_id}/retire",
    response={200: ScenarioDetailOut, **ERRORS},
    auth=STAFF_WRITE,
    summary="停用已通过的应用场景（所属部门或共享协调员；须填写理由）",
)
def retire_scenario(request: HttpRequest, scenario_id: int, payload: ReasonIn) -> Scenario:
    user = acting_user(request)
    services.retire_scenario(selectors.get_scenario(user, scenario_id), actor=user, reason=payload.reason)
    return selectors.get_scenario(user, scenario_id)
