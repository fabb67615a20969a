"""The demand list (需求清单): scoped reads, and every write in one transaction with its audit row.

A department's 使用方 or 目录管理员 registers what it needs (description, items), from whom when it knows, for which of
its own scenarios. The provider department's 目录管理员, the coordinator or the platform administrator answers it by
pointing at a published resource (the demanding department then applies for it: share requests come later and start
from `Demand.resource`), or by asking the holder to catalogue it: a notification to the provider's catalogue
administrators, recorded with the demand's state and an audit row. The demanding department may close it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.services import record_action
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Resource
from govshare.core.authz import VIEW, Subject, permits, require, require_ability, restrict
from govshare.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from govshare.notifications.choices import NotificationKind
from govshare.notifications.services import notify
from govshare.sharing.access_lists import ANSWER, CREATE_DEMAND, EDIT, city_wide
from govshare.sharing.choices import EDITABLE_DEMAND_STATES, DemandStatus, ScenarioStatus
from govshare.sharing.models import Demand, Scenario

DEMAND_NOT_FOUND = "需求不存在或无权访问"
RESOURCE_NOT_FOUND = "信息资源不存在或无权访问"
MAX_ITEMS = 200
MAX_ITEM_NAME = 100


@dataclass
class DemandInput:
    title: str
    description: str
    needed_items: list[str] = field(default_factory=list)
    provider_code: str = ""  # blank: not known yet (the coordinator finds the provider)
    scenario_id: int | None = None


@dataclass(frozen=True)
class DemandFilters:
    status: str = ""
    department_code: str = ""
    provider_code: str = ""
    scenario_id: int | None = None
    q: str = ""
    # "own": the subject's department's demands; "received": those addressed to it; "": all it may see.
    side: str = ""


# ---------------------------------------------------------------------------------------------- reads


def demands_for(subject: Subject, filters: DemandFilters | None = None) -> QuerySet[Demand]:
    filters = filters or DemandFilters()
    queryset = restrict(Demand.objects.select_related("department", "provider", "scenario", "resource"), subject, VIEW)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.department_code:
        queryset = queryset.filter(department__code=filters.department_code)
    if filters.provider_code:
        queryset = queryset.filter(provider__code=filters.provider_code)
    if filters.scenario_id:
        queryset = queryset.filter(scenario_id=filters.scenario_id)
    if filters.q:
        queryset = queryset.filter(Q(title__icontains=filters.q) | Q(description__icontains=filters.q))
    department_id = subject.department_id or 0
    if filters.side == "own":
        queryset = queryset.filter(department_id=department_id)
    elif filters.side == "received":
        queryset = queryset.filter(provider_id=department_id)
    return queryset.order_by("-created_at", "-id")


def get_demand(subject: Subject, pk: int) -> Demand:
    demand = demands_for(subject).filter(pk=pk).first()
    if demand is None:
        raise NotFound(DEMAND_NOT_FOUND)
    return demand


def may_edit(subject: Subject, demand: Demand) -> bool:
    return permits(subject, EDIT, demand) and demand.status in EDITABLE_DEMAND_STATES


def may_answer(subject: Subject, demand: Demand) -> bool:
    return permits(subject, ANSWER, demand) and demand.status != DemandStatus.CLOSED


def may_close(subject: Subject, demand: Demand) -> bool:
    return demand.status != DemandStatus.CLOSED and (permits(subject, EDIT, demand) or city_wide(subject))


def scenarios_for_demands(department_id: int | None) -> QuerySet[Scenario]:
    """The scenarios a demand of the department may cite: its own, not retired."""
    if department_id is None:
        return Scenario.objects.none()
    return Scenario.objects.filter(department_id=department_id).exclude(status=ScenarioStatus.RETIRED)


# ---------------------------------------------------------------------------------------------- checks


def _items(values: list[str]) -> tuple[list[str], list[FieldProblem]]:
    cleaned: list[str] = []
    problems: list[FieldProblem] = []
    for value in values:
        name = str(value).strip()
        if not name or name in cleaned:
            continue
        if len(name) > MAX_ITEM_NAME:
            problems.append(
                FieldProblem(
                    "needed_items",
                    gettext("信息项名称“%(name)s…”超过 %(limit)s 个字") % {"name": name[:20], "limit": MAX_ITEM_NAME},
                )
            )
        cleaned.append(name)
    if len(cleaned) > MAX_ITEMS:
        problems.append(FieldProblem("needed_items", gettext("所需信息项最多 %(limit)s 个") % {"limit": MAX_ITEMS}))
    return cleaned, problems


@dataclass
class CheckedDemand:
    title: str
    description: str
    needed_items: list[str]
    provider: Department | None
    scenario: Scenario | None


def check_demand(data: DemandInput, *, department_id: int, pk: int | None = None) -> CheckedDemand:
    """The input checked for a demand of the department (ValidationFailed naming every field that is wrong)."""
    problems: list[FieldProblem] = []
    title = data.title.strip()
    description = data.description.strip()
    if not title:
        problems.append(FieldProblem("title", gettext("请填写需求名称")))
    elif len(title) > 200:
        problems.append(FieldProblem("title", gettext("需求名称不能超过 200 个字")))
    elif Demand.objects.filter(department_id=department_id, title=title).exclude(pk=pk or 0).exists():
        problems.append(FieldProblem("title", gettext("本部门已有同名需求“%(title)s”") % {"title": title}))
    if not description:
        problems.append(FieldProblem("description", gettext("请填写需求描述：需要哪些数据、用于什么业务")))
    items, item_problems = _items(data.needed_items)
    problems.extend(item_problems)
    provider = None
    code = data.provider_code.strip()
    if code:
        provider = Department.objects.filter(code=code, is_active=True).first()
        if provider is None:
            provider = Department.objects.filter(name=code, is_active=True).first()
        if provider is None:
            problems.append(FieldProblem("provider_code", gettext("提供部门“%(code)s”不存在") % {"code": code}))
        elif provider.pk == department_id:
            problems.append(FieldProblem("provider_code", gettext("提供部门不能是需求部门本身")))
    scenario = None
    if data.scenario_id is not None:
        scenario = scenarios_for_demands(department_id).filter(pk=data.scenario_id).first()
        if scenario is None:
            problems.append(FieldProblem("scenario_id", gettext("应用场景不存在或不属于本部门")))
    if problems:
        raise ValidationFailed(problems)
    return CheckedDemand(title, description, items, provider, scenario)


def _locked(demand: Demand) -> Demand:
    locked = Demand.objects.select_for_update().filter(pk=demand.pk).first()
    if locked is None:
        raise NotFound(DEMAND_NOT_FOUND)
    return locked


# ---------------------------------------------------------------------------------------------- writes


@transaction.atomic
def create_demand(data: DemandInput, *, actor: User) -> Demand:
    require_ability(actor, CREATE_DEMAND)
    assert actor.department_id is not None  # the ability requires a department
    checked = check_demand(data, department_id=actor.department_id)
    demand = Demand.objects.create(
        department_id=actor.department_id,
        title=checked.title,
        description=checked.description,
        needed_items=checked.needed_items,
        provider=checked.provider,
        scenario=checked.scenario,
        created_by=actor,
    )
    record_action(actor, "sharing.demand.create", demand, provider=checked.provider.code if checked.provider else "")
    return demand


def changed_fields(demand: Demand, checked: CheckedDemand) -> list[str]:
    changed = []
    for name in ("title", "description", "needed_items"):
        if getattr(demand, name) != getattr(checked, name):
            changed.append(name)
    if demand.provider_id != (checked.provider.pk if checked.provider else None):
        changed.append("provider")
    if demand.scenario_id != (checked.scenario.pk if checked.scenario else None):
        changed.append("scenario")
    return changed


@transaction.atomic
def update_demand(demand: Demand, data: DemandInput, *, actor: User) -> Demand:
    """Edit the demand (its department, while it is open or waiting to be catalogued); an unchanged one is left
    as it is, without an audit row."""
    demand = require(actor, EDIT, _locked(demand), not_found=DEMAND_NOT_FOUND)
    if demand.status not in EDITABLE_DEMAND_STATES:
        label = DemandStatus(demand.status).label
        raise Conflict(gettext("需求当前状态为“%(status)s”，不能修改") % {"status": gettext(label)})
    checked = check_demand(data, department_id=demand.department_id, pk=demand.pk)
    changed = changed_fields(demand, checked)
    if not changed:
        return demand
    demand.title, demand.description, demand.needed_items = checked.title, checked.description, checked.needed_items
    demand.provider, demand.scenario = checked.provider, checked.scenario
    demand.save()
    record_action(actor, "sharing.demand.update", demand, fields=",".join(changed))
    return demand


def _demanding_staff(demand: Demand) -> QuerySet[User]:
    return User.objects.filter(
        department_id=demand.department_id, is_active=True, roles__role__in=(Role.CONSUMER, Role.CATALOG_ADMIN)
    ).distinct()


def _link(demand: Demand) -> str:
    return reverse("sharing:demand_detail", args=[demand.pk])


@transaction.atomic
def answer_demand(demand: Demand, *, resource: Resource, note: str = "", actor: User) -> Demand:
    """The demand is met by a published resource: the demanding department is told and may apply for it."""
    demand = require(actor, ANSWER, _locked(demand), not_found=DEMAND_NOT_FOUND)
    if demand.status == DemandStatus.CLOSED:
        raise Conflict(gettext("需求已关闭，不能答复"))
    published = restrict(Resource.objects.filter(pk=resource.pk, status=ReviewStatus.PUBLISHED), actor, VIEW).first()
    if published is None:
        raise ValidationFailed([FieldProblem("resource", gettext("请选择一条已发布的信息资源"))])
    demand.status = DemandStatus.ANSWERED
    demand.resource = published
    demand.answer_note = note.strip()[:500]
    demand.answered_by, demand.answered_at = actor, timezone.now()
    demand.save()
    record_action(actor, "sharing.demand.answer", demand, resource=published.code, note=demand.answer_note)
    notify(
        _demanding_staff(demand),
        kind=NotificationKind.SHARE_REQUEST,
        title=f"需求“{demand.title}”已对接资源：{published.name}",
        body=f"{published.code} {published.name}。{demand.answer_note}".strip(),
        link=_link(demand),
        target=demand,
    )
    return demand


@transaction.atomic
def ask_to_catalogue(demand: Demand, *, note: str = "", provider_code: str = "", actor: User) -> Demand:
    """The data is not in the catalogue: the provider department's catalogue administrators are asked to catalogue
    it (a notification each), and the demand records that it waits for them. The coordinator may name the provider
    of a demand that had none."""
    demand = require(actor, ANSWER, _locked(demand), not_found=DEMAND_NOT_FOUND)
    if demand.status in (DemandStatus.CLOSED, DemandStatus.ANSWERED):
        label = DemandStatus(demand.status).label
        raise Conflict(gettext("需求当前状态为“%(status)s”，不能再请求编目") % {"status": gettext(label)})
    if provider_code.strip() and demand.provider_id is None:
        provider = Department.objects.filter(code=provider_code.strip(), is_active=True).first()
        if provider is None or provider.pk == demand.department_id:
            raise ValidationFailed([FieldProblem("provider_code", gettext("提供部门不存在或不能是需求部门本身"))])
        demand.provider = provider
    if demand.provider_id is None:
        raise ValidationFailed([FieldProblem("provider_code", gettext("请先指定提供部门，再请求其编目"))])
    assert demand.provider is not None
    admins = list(
        User.objects.filter(department_id=demand.provider_id, is_active=True, roles__role=Role.CATALOG_ADMIN).distinct()
    )
    demand.status = DemandStatus.CATALOGUE_REQUESTED
    demand.answer_note = note.strip()[:500]
    demand.answered_by, demand.answered_at = actor, timezone.now()
    demand.save()
    record_action(actor, "sharing.demand.ask_catalogue", demand, provider=demand.provider.code, recipients=len(admins))
    items = "、".join(demand.needed_items)
    notify(
        admins,
        kind=NotificationKind.SHARE_REQUEST,
        title=f"请编目：{demand.department.name}需要“{demand.title}”",
        body=f"{demand.description}"
        + (f"\n所需信息项：{items}" if items else "")
        + (f"\n{demand.answer_note}" if demand.answer_note else ""),
        link=_link(demand),
        target=demand,
    )
    return demand


@transaction.atomic
def close_demand(demand: Demand, *, reason: str = "", actor: User) -> Demand:
    demand = require(actor, VIEW, _locked(demand), not_found=DEMAND_NOT_FOUND)
    if not (permits(actor, EDIT, demand) or city_wide(actor)):
        require(actor, EDIT, demand)  # raises the 403 with the policy's reason
    if demand.status == DemandStatus.CLOSED:
        raise Conflict(gettext("需求已关闭"))
    demand.status = DemandStatus.CLOSED
    demand.save(update_fields=["status", "updated_at"])
    record_action(actor, "sharing.demand.close", demand, reason=reason.strip())
    return demand
