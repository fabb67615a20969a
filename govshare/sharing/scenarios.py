"""Application scenarios (应用场景): every write, as a named service, and the hook grants ask.

A consumer department registers what it needs data for (name, business description, legal basis, the systems
that serve it, the items it needs), saves it as a draft and submits it; the coordinator (共享协调员) approves it or
rejects it with a reason; a rejected scenario is edited and submitted again; an approved one is retired by its
department or the coordinator. Each step locks the scenario row, checks the actor's power (govshare.core.authz:
404 outside their scope, 403 within it), writes its history event and its audit row, and tells the other party
(notifications), all in one transaction.

For grants and requests: `scenario_is_usable(scenario)` says whether a grant bound to the scenario may still be
used (checked at each access, so a retirement takes effect at the very next read); `register_retirement_hook`
lets them act in the retirement's transaction (e.g. end grants)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from govshare.accounts.models import Department, User
from govshare.audit.services import record_action
from govshare.core.authz import VIEW, require
from govshare.core.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed
from govshare.core.roles import Role
from govshare.identity.models import InformationSystem
from govshare.notifications.choices import NotificationKind
from govshare.notifications.services import notify
from govshare.sharing.access_scenarios import EDIT, EDITORS_ONLY, RETIRE, REVIEW, may_edit_for
from govshare.sharing.choices import ScenarioAction, ScenarioStatus
from govshare.sharing.models import Scenario, ScenarioEvent

NOT_FOUND = "应用场景不存在或无权访问"
NAME_MAX = 200
TEXT_MAX = 4000
ITEM_MAX = 100
ITEMS_MAX = 200
REASON_MAX = 500
EDITABLE = frozenset({ScenarioStatus.DRAFT, ScenarioStatus.REJECTED})
SUBMITTABLE = EDITABLE
SELF_REVIEW_REFUSED = "不能审核本人登记或提交的应用场景：请由其他共享协调员审核"


# ------------------------------------------------------------------------------------------ the hook for grants


def scenario_is_usable(scenario: Scenario) -> bool:
    """May data still be used under this scenario? Only an approved scenario of an active department: a draft,
    submitted, rejected or retired one never backs a grant or a request. Reads the row it is given; callers
    checking at access time pass a scenario fetched in that access (or `Scenario.objects.get(pk=…)`)."""
    return scenario.status == ScenarioStatus.APPROVED and scenario.department.is_active


RetirementHook = Callable[[Scenario, User], None]
_retirement_hooks: list[RetirementHook] = []


def register_retirement_hook(hook: RetirementHook) -> None:
    """Call `hook(scenario, actor)` inside the transaction that retires a scenario (grants: end those bound to it).
    Registering the same function twice changes nothing."""
    if hook not in _retirement_hooks:
        _retirement_hooks.append(hook)


# ------------------------------------------------------------------------------------------ input and checks


@dataclass(frozen=True)
class ScenarioInput:
    department: Department
    name: str
    description: str = ""
    legal_basis: str = ""
    system_ids: list[int] = field(default_factory=list)
    needed_items: list[str] = field(default_factory=list)


def clean_items(items: Iterable[str]) -> list[str]:
    """Item names stripped, blanks dropped, each once, in the order given."""
    seen: dict[str, None] = {}
    for item in items:
        name = " ".join(str(item).split())
        if name:
            seen.setdefault(name, None)
    return list(seen)


def _systems_of(data: ScenarioInput, problems: list[FieldProblem]) -> list[InformationSystem]:
    ids = sorted({int(pk) for pk in data.system_ids})
    systems = list(InformationSystem.objects.filter(pk__in=ids, department=data.department, is_active=True))
    missing = sorted(set(ids) - {system.pk for system in systems})
    if missing:
        # Never says whose a foreign system is: the same words as for one that does not exist.
        listed = "、".join(str(pk) for pk in missing[:10])
        problems.append(FieldProblem("systems", f"接入系统（编号 {listed}）不存在、已停用或不属于本部门"))
    return systems


def _problems(
    data: ScenarioInput, *, exclude_pk: int | None = None
) -> tuple[list[FieldProblem], list[InformationSystem]]:
    problems: list[FieldProblem] = []
    name = data.name.strip()
    if not name:
        problems.append(FieldProblem("name", "场景名称不能为空"))
    elif len(name) > NAME_MAX:
        problems.append(FieldProblem("name", f"场景名称最多 {NAME_MAX} 个字，实际 {len(name)} 个字"))
    else:
        others = Scenario.objects.filter(department=data.department, name=name)
        if exclude_pk is not None:
            others = others.exclude(pk=exclude_pk)
        if others.exists():
            problems.append(FieldProblem("name", f"本部门已登记名为“{name}”的应用场景"))
    if len(data.description.strip()) > TEXT_MAX:
        problems.append(FieldProblem("description", f"业务描述最多 {TEXT_MAX} 个字"))
    if len(data.legal_basis.strip()) > TEXT_MAX:
        problems.append(FieldProblem("legal_basis", f"依据最多 {TEXT_MAX} 个字"))
    items = clean_items(data.needed_items)
    if len(items) > ITEMS_MAX:
        problems.append(FieldProblem("needed_items", f"所需信息项最多 {ITEMS_MAX} 项"))
    long = [item for item in items if len(item) > ITEM_MAX]
    if long:
        problems.append(FieldProblem("needed_items", f"信息项名称最多 {ITEM_MAX} 个字：“{long[0][:20]}…”"))
    if not data.department.is_active:
        problems.append(FieldProblem("department", f"部门“{data.department.name}”已停用"))
    systems = _systems_of(data, problems)
    return problems, systems


def _completeness_problems(scenario: Scenario) -> list[FieldProblem]:
    """What a scenario needs before the coordinator can review it (a draft may be saved without them)."""
    problems: list[FieldProblem] = []
    if not scenario.description.strip():
        problems.append(FieldProblem("description", "请填写业务描述"))
    if not scenario.legal_basis.strip():
        problems.append(FieldProblem("legal_basis", "请填写依据（法律法规、政策文件或事项清单）"))
    if not scenario.systems.filter(is_active=True).exists():
        problems.append(FieldProblem("systems", "请至少选择一个承载该场景的本部门接入系统"))
    if not scenario.needed_items:
        problems.append(FieldProblem("needed_items", "请至少填写一个所需信息项"))
    return problems


def _name(user: User | None) -> str:
    return (user.full_name or user.username) if user is not None else ""


def _event(
    scenario: Scenario,
    action: str,
    actor: User,
    now: dt.datetime,
    *,
    note: str = "",
    changes: dict[str, object] | None = None,
) -> None:
    ScenarioEvent.objects.create(
        scenario=scenario,
        action=action,
        actor=actor,
        actor_name=_name(actor),
        at=now,
        note=note[:REASON_MAX],
        changes=changes or {},
    )


def _locked(scenario: Scenario, actor: User, action: str) -> Scenario:
    """The scenario's row, locked, after checking the actor may do this to it (404 if it may not even see it)."""
    locked = Scenario.objects.select_for_update().select_related("department").get(pk=scenario.pk)
    require(actor, action, locked, not_found=NOT_FOUND)
    return locked


def _reason(text: str, what: str) -> str:
    reason = text.strip()
    if not reason:
        raise ValidationFailed([FieldProblem("reason", f"请填写{what}")])
    if len(reason) > REASON_MAX:
        raise ValidationFailed([FieldProblem("reason", f"{what}最多 {REASON_MAX} 个字")])
    return reason


# ------------------------------------------------------------------------------------------ who is told


def coordinators() -> list[User]:
    return list(User.objects.filter(is_active=True, roles__role=Role.COORDINATOR).distinct())


def department_contacts(scenario: Scenario) -> list[User]:
    """Who in the department hears of the coordinator's decisions: whoever registered and submitted it (still
    active and still able to act on it), else the department's catalogue administrators and consumers."""
    people = [u for u in (scenario.created_by, scenario.submitted_by) if u is not None and u.is_active]
    people = [u for u in people if may_edit_for(u, scenario.department_id)]
    if people:
        return people
    return list(
        User.objects.filter(
            is_active=True, department_id=scenario.department_id, roles__role__in=[Role.CATALOG_ADMIN, Role.CONSUMER]
        ).distinct()
    )


def _tell(recipients: list[User], scenario: Scenario, *, kind: str, title: str, lines: list[str], actor: User) -> None:
    recipients = [user for user in recipients if user.pk != actor.pk]
    if not recipients:
        return
    notify(
        recipients,
        kind=kind,
        title=title[:200],
        body="\n".join([*lines, f"操作人：{_name(actor)}"]),
        link=reverse("sharing:scenario_detail", args=[scenario.pk]),
        target=scenario,
    )


# ------------------------------------------------------------------------------------------ the services


@transaction.atomic
def register_scenario(data: ScenarioInput, *, actor: User, now: dt.datetime | None = None) -> Scenario:
    """Register a scenario of the actor's own department, as a draft."""
    if not may_edit_for(actor, data.department.pk):
        raise PermissionDenied(EDITORS_ONLY)
    problems, systems = _problems(data)
    if problems:
        raise ValidationFailed(problems, "应用场景信息有误")
    moment = now or timezone.now()
    scenario = Scenario.objects.create(
        department=data.department,
        name=data.name.strip(),
        description=data.description.strip(),
        legal_basis=data.legal_basis.strip(),
        needed_items=clean_items(data.needed_items),
        created_by=actor,
    )
    scenario.systems.set(systems)
    _event(scenario, ScenarioAction.REGISTER, actor, moment)
    record_action(actor, "sharing.scenario.register", scenario, department=data.department.code, name=scenario.name)
    return scenario


def _snapshot(scenario: Scenario) -> dict[str, object]:
    return {
        "name": scenario.name,
        "description": scenario.description,
        "legal_basis": scenario.legal_basis,
        "systems": sorted(scenario.systems.values_list("code", flat=True)),
        "needed_items": list(scenario.needed_items),
    }


@transaction.atomic
def update_scenario(
    scenario: Scenario, data: ScenarioInput, *, actor: User, now: dt.datetime | None = None
) -> Scenario:
    """Edit a draft or rejected scenario (its department stays). A submitted one is with the coordinator and an
    approved one may back grants: neither changes (retire it and register a new one)."""
    scenario = _locked(scenario, actor, EDIT)
    if scenario.status not in EDITABLE:
        raise Conflict(f"应用场景“{scenario.name}”{scenario.get_status_display()}，不能修改")
    if data.department.pk != scenario.department_id:
        raise ValidationFailed([FieldProblem("department", "应用场景的所属部门不能修改")])
    problems, systems = _problems(data, exclude_pk=scenario.pk)
    if problems:
        raise ValidationFailed(problems, "应用场景信息有误")
    before = _snapshot(scenario)
    scenario.name = data.name.strip()
    scenario.description = data.description.strip()
    scenario.legal_basis = data.legal_basis.strip()
    scenario.needed_items = clean_items(data.needed_items)
    scenario.save(update_fields=["name", "description", "legal_basis", "needed_items", "updated_at"])
    scenario.systems.set(systems)
    after = _snapshot(scenario)
    changes: dict[str, object] = {
        key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]
    }
    _event(scenario, ScenarioAction.UPDATE, actor, now or timezone.now(), changes=changes)
    record_action(actor, "sharing.scenario.update", scenario, changes=sorted(changes))
    return scenario


@transaction.atomic
def submit_scenario(scenario: Scenario, *, actor: User, now: dt.datetime | None = None) -> Scenario:
    """Send a draft (or a rejected scenario, edited) to the coordinator; every coordinator is told."""
    scenario = _locked(scenario, actor, EDIT)
    if scenario.status not in SUBMITTABLE:
        raise Conflict(f"应用场景“{scenario.name}”{scenario.get_status_display()}，不能提交")
    if problems := _completeness_problems(scenario):
        raise ValidationFailed(problems, "应用场景还不完整，不能提交审核")
    moment = now or timezone.now()
    resubmitted = scenario.status == ScenarioStatus.REJECTED
    scenario.status = ScenarioStatus.SUBMITTED
    scenario.submitted_at = moment
    scenario.submitted_by = actor
    scenario.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    _event(scenario, ScenarioAction.SUBMIT, actor, moment)
    record_action(actor, "sharing.scenario.submit", scenario, resubmitted=resubmitted)
    _tell(
        coordinators(),
        scenario,
        kind=NotificationKind.SCENARIO_REVIEW,
        title=f"应用场景“{scenario.name[:80]}”待审核" + ("（修改后重新提交）" if resubmitted else ""),
        lines=[f"使用部门：{scenario.department.name}", f"依据：{scenario.legal_basis[:200]}"],
        actor=actor,
    )
    return scenario


def _review(scenario: Scenario, actor: User) -> Scenario:
    scenario = _locked(scenario, actor, REVIEW)
    if scenario.status != ScenarioStatus.SUBMITTED:
        raise Conflict(f"应用场景“{scenario.name}”{scenario.get_status_display()}，不在待审核状态")
    if actor.pk in (scenario.created_by_id, scenario.submitted_by_id):
        raise PermissionDenied(SELF_REVIEW_REFUSED)
    return scenario


def _decide(scenario: Scenario, actor: User, status: str, note: str, moment: dt.datetime) -> None:
    scenario.status = status
    scenario.reviewed_by = actor
    scenario.reviewed_at = moment
    scenario.review_note = note
    scenario.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"])


@transaction.atomic
def approve_scenario(scenario: Scenario, *, actor: User, note: str = "", now: dt.datetime | None = None) -> Scenario:
    """The coordinator approves a submitted scenario: requests may cite it from now on."""
    scenario = _review(scenario, actor)
    if len(note.strip()) > REASON_MAX:
        raise ValidationFailed([FieldProblem("note", f"审核意见最多 {REASON_MAX} 个字")])
    moment = now or timezone.now()
    _decide(scenario, actor, ScenarioStatus.APPROVED, note.strip(), moment)
    _event(scenario, ScenarioAction.APPROVE, actor, moment, note=note.strip())
    record_action(actor, "sharing.scenario.approve", scenario, note=note.strip())
    lines = [f"审核意见：{note.strip()}"] if note.strip() else []
    _tell(
        department_contacts(scenario),
        scenario,
        kind=NotificationKind.SCENARIO_DECISION,
        title=f"应用场景“{scenario.name[:80]}”已通过审核",
        lines=[*lines, "现在可以在共享申请中引用该场景。"],
        actor=actor,
    )
    return scenario


@transaction.atomic
def reject_scenario(scenario: Scenario, *, actor: User, reason: str, now: dt.datetime | None = None) -> Scenario:
    """The coordinator rejects a submitted scenario, with a reason (required); the department may edit it and
    submit it again."""
    reason = _reason(reason, "驳回理由")
    scenario = _review(scenario, actor)
    moment = now or timezone.now()
    _decide(scenario, actor, ScenarioStatus.REJECTED, reason, moment)
    _event(scenario, ScenarioAction.REJECT, actor, moment, note=reason)
    record_action(actor, "sharing.scenario.reject", scenario, reason=reason)
    _tell(
        department_contacts(scenario),
        scenario,
        kind=NotificationKind.SCENARIO_DECISION,
        title=f"应用场景“{scenario.name[:80]}”被驳回",
        lines=[f"驳回理由：{reason}", "请修改后重新提交审核。"],
        actor=actor,
    )
    return scenario


@transaction.atomic
def retire_scenario(scenario: Scenario, *, actor: User, reason: str, now: dt.datetime | None = None) -> Scenario:
    """Retire an approved scenario (its department or the coordinator), with a reason: requests can no longer cite
    it and grants bound to it stop at their next use (`scenario_is_usable`; retirement hooks run here)."""
    reason = _reason(reason, "停用原因")
    scenario = _locked(scenario, actor, RETIRE)
    if scenario.status != ScenarioStatus.APPROVED:
        raise Conflict(f"应用场景“{scenario.name}”{scenario.get_status_display()}，只有已通过的场景可以停用")
    moment = now or timezone.now()
    scenario.status = ScenarioStatus.RETIRED
    scenario.save(update_fields=["status", "updated_at"])
    _event(scenario, ScenarioAction.RETIRE, actor, moment, note=reason)
    record_action(actor, "sharing.scenario.retire", scenario, reason=reason)
    for hook in list(_retirement_hooks):
        hook(scenario, actor)
    by_department = may_edit_for(actor, scenario.department_id)
    _tell(
        coordinators() if by_department else department_contacts(scenario),
        scenario,
        kind=NotificationKind.SCENARIO_DECISION,
        title=f"应用场景“{scenario.name[:80]}”已停用",
        lines=[f"使用部门：{scenario.department.name}", f"停用原因：{reason}"],
        actor=actor,
    )
    return scenario


def require_visible(actor: User, scenario: Scenario) -> Scenario:
    return require(actor, VIEW, scenario, not_found=NOT_FOUND)
