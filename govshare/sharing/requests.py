"""Share requests (共享申请): every write, as a named service.

A consumer department's user (consumer role) puts published resources into a request, its cart (申请车), each with
the items needed and the delivery method; names the request's approved scenario, the scenario's system that will
use the data, the purpose and the period; and submits it. Each resource (a line) then goes its own way:

- 无条件共享 (the resource and every item asked for): granted at once by the catalogue's rule (`grant_by_rule`).
- 有条件共享: through the review stages configured when it was submitted (`ReviewStage`: e.g. the coordinator's
  compliance check, then the provider's 部门审核员), each with a deadline in working days of the Chinese calendar
  (`core.workdays`). A deadline that reaches a year nobody has entered is not guessed: the line says so, the
  platform administrators are told, and the daily job computes it once the year is entered. The provider approves
  item by item (a part, with conditions, stricter masking, a row filter, a quota; the grant is issued) or refuses
  with a reason.
- 不予共享: cannot be requested; the refusal quotes the catalogue's basis.

Reminders go out before a deadline; an overdue line is escalated to the coordinator, who may then decide it. A
refused or partly approved line may be disputed once by the applicant; the coordinator arbitrates (upholds, or
overrules and grants). Every step locks the line's row (two reviewers acting at once: one wins, the other is told
it was already decided), checks the actor's power (404 outside their scope), writes the request's history event and
the audit row, and tells whoever must act or know — in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog import selectors as catalog_selectors
from govshare.catalog.choices import ReviewStatus, ShareType
from govshare.catalog.models import Item, Resource
from govshare.core.authz import VIEW, require, restrict
from govshare.core.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from govshare.core.roles import Role
from govshare.core.workdays import CalendarUnknown, add_working_days, working_days_between
from govshare.datasets import scopes
from govshare.identity.models import InformationSystem
from govshare.notifications.choices import NotificationKind
from govshare.notifications.services import TITLE_MAX, notify
from govshare.sharing import grants
from govshare.sharing.access_requests import (
    APPLICANTS_ONLY,
    APPLY,
    ARBITRATE,
    DECIDE,
    SELF_ARBITRATION,
    may_apply,
    may_decide,
    stage_reviewer,
)
from govshare.sharing.choices import (
    OPEN_LINE_STATES,
    DeliveryMethod,
    GrantStatus,
    LineStatus,
    RequestAction,
    RequestStatus,
    StageReviewer,
)
from govshare.sharing.models import (
    ReviewStage,
    Scenario,
    ShareRequest,
    ShareRequestEvent,
    ShareRequestLine,
)
from govshare.sharing.scenarios import coordinators, scenario_is_usable

NOT_FOUND = "共享申请不存在或无权访问"
LINE_NOT_FOUND = "申请明细不存在或无权访问"
LINES_MAX = 50  # resources in one request
PURPOSE_MAX = 2000
REASON_MAX = 500
LONGEST_PERIOD_DAYS = 3 * 366  # a request asks for at most three years; the access review keeps it honest
REMIND_WITHIN_WORKING_DAYS = 2  # reviewers are reminded when this many working days are left
STAGE_DAYS_MAX = 60


# ------------------------------------------------------------------------------------------ small helpers


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else timezone.now()


def _today(today: dt.date | None) -> dt.date:
    return today if today is not None else scopes.clock()


def _name(user: User | None) -> str:
    return (user.full_name or user.username) if user is not None else ""


def _event(
    request: ShareRequest,
    action: str,
    actor: User | None,
    now: dt.datetime,
    *,
    line: ShareRequestLine | None = None,
    note: str = "",
    changes: Mapping[str, object] | None = None,
) -> None:
    ShareRequestEvent.objects.create(
        request=request,
        line=line,
        action=action,
        actor=actor,
        actor_name=_name(actor),
        at=now,
        note=note[:REASON_MAX],
        changes=dict(changes or {}),
    )


def _reason(text: str, what: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise ValidationFailed([FieldProblem("reason", f"请填写{what}")])
    if len(reason) > REASON_MAX:
        raise ValidationFailed([FieldProblem("reason", f"{what}最多 {REASON_MAX} 个字，实际 {len(reason)} 个字")])
    return reason


def _shareable_items(resource: Resource) -> dict[str, Item]:
    return {item.name: item for item in Item.objects.filter(resource=resource)}


def _item_problems(resource: Resource, names: Sequence[str], where: str) -> list[FieldProblem]:
    items = _shareable_items(resource)
    problems: list[FieldProblem] = []
    if not names:
        problems.append(FieldProblem(where, f"“{resource.name}”：请至少选择一个信息项"))
    if len(set(names)) != len(names):
        problems.append(FieldProblem(where, f"“{resource.name}”：信息项有重复"))
    for name in names:
        if name not in items:
            problems.append(FieldProblem(where, f"“{resource.name}”：信息项“{name}”不在该资源中"))
        elif items[name].share_type == ShareType.NOT_SHARED:
            problems.append(FieldProblem(where, f"“{resource.name}”：信息项“{name}”不予共享，不能申请"))
    return problems


def _resource_refusal(resource: Resource, department_id: int | None) -> str:
    """Why this resource cannot be requested now, or ""."""
    if resource.status != ReviewStatus.PUBLISHED:
        return f"“{resource.name}”尚未发布，不能申请"
    if resource.department_id == department_id:
        return f"“{resource.name}”是本部门的资源，无需申请"
    if resource.share_type == ShareType.NOT_SHARED:
        basis = resource.share_basis.strip() or "未填写"
        return f"“{resource.name}”为不予共享资源，不能申请。依据：{basis}"
    return ""


# ------------------------------------------------------------------------------------------ who is told


def _applicants(request: ShareRequest) -> list[User]:
    people = [u for u in (request.created_by,) if u is not None and u.is_active]
    if people:
        return people
    return list(
        User.objects.filter(department_id=request.department_id, is_active=True, roles__role=Role.CONSUMER).distinct()
    )


def _provider_reviewers(line: ShareRequestLine) -> list[User]:
    return list(grants.provider_reviewers(line.resource.department_id))


def stage_deciders(line: ShareRequestLine) -> list[User]:
    """Who decides the line's current stage now (the coordinators too once it is escalated)."""
    reviewer = stage_reviewer(line)
    if reviewer == StageReviewer.COORDINATOR:
        return coordinators()
    if reviewer == StageReviewer.PROVIDER:
        people = _provider_reviewers(line)
        return people + coordinators() if line.escalated_at is not None else people
    return []


def _platform_admins() -> list[User]:
    return list(User.objects.filter(is_active=True, roles__role=Role.PLATFORM_ADMIN).distinct())


def _tell(recipients: Iterable[User], request: ShareRequest, title: str, body: str, now: dt.datetime) -> None:
    people = list(recipients)
    if people:
        link = reverse("sharing:request_detail", args=[request.pk])
        notify(
            people,
            kind=NotificationKind.SHARE_REQUEST,
            title=title[:TITLE_MAX],
            body=body,
            link=link,
            target=request,
            now=now,
        )


# ------------------------------------------------------------------------------------------ review stages


@dataclass(frozen=True)
class StageInput:
    name: str
    reviewer: str
    working_days: int


def stage_problems(stages: Sequence[StageInput]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not stages:
        problems.append(FieldProblem("stages", "至少需要一个审核环节（提供部门审核）"))
        return problems
    for number, stage in enumerate(stages, start=1):
        if not stage.name.strip():
            problems.append(FieldProblem("stages", f"第 {number} 个环节：请填写环节名称"))
        if stage.reviewer not in StageReviewer.values:
            problems.append(FieldProblem("stages", f"第 {number} 个环节：审核方无效"))
        if not 1 <= stage.working_days <= STAGE_DAYS_MAX:
            problems.append(FieldProblem("stages", f"第 {number} 个环节：办理时限应为 1 到 {STAGE_DAYS_MAX} 个工作日"))
    providers = [stage for stage in stages if stage.reviewer == StageReviewer.PROVIDER]
    if len(providers) != 1 or stages[-1].reviewer != StageReviewer.PROVIDER:
        problems.append(
            FieldProblem("stages", "须有且只有一个“提供部门审核”环节，且为最后一个环节（由它作出授权决定）")
        )
    return problems


def set_review_stages(actor: User, stages: Sequence[StageInput], *, now: dt.datetime | None = None) -> None:
    """Replace the review stages new requests go through (requests already submitted keep theirs). The coordinator."""
    if not (actor.is_active and actor.has_role(Role.COORDINATOR)):
        raise PermissionDenied("只有共享协调员可以设置审核环节")
    problems = stage_problems(stages)
    if problems:
        raise ValidationFailed(problems, "审核环节设置有误")
    with transaction.atomic():
        before = [(s.name, s.reviewer, s.working_days) for s in ReviewStage.objects.select_for_update()]
        ReviewStage.objects.all().delete()
        ReviewStage.objects.bulk_create(
            ReviewStage(position=i, name=s.name.strip()[:100], reviewer=s.reviewer, working_days=s.working_days)
            for i, s in enumerate(stages, start=1)
        )
        record_action(
            actor,
            "sharing.stages.set",
            object_type="sharing.reviewstage",
            object_repr="共享申请审核环节",
            before=[f"{n}（{r}，{d} 个工作日）" for n, r, d in before],
            after=[f"{s.name.strip()}（{s.reviewer}，{s.working_days} 个工作日）" for s in stages],
        )


def _stage_snapshot() -> list[dict[str, object]]:
    stages = [
        {"name": stage.name, "reviewer": stage.reviewer, "days": stage.working_days}
        for stage in ReviewStage.objects.filter(is_active=True).order_by("position")
    ]
    if not stages or stages[-1]["reviewer"] != StageReviewer.PROVIDER:
        # The configuration guarantees a final provider stage; a database edited by hand still gets one.
        stages.append({"name": "提供部门审核", "reviewer": StageReviewer.PROVIDER, "days": 10})
    return stages


def _enter_stage(line: ShareRequestLine, today: dt.date, now: dt.datetime, actor: User | None) -> None:
    """Start the line's current stage today and set its deadline; never a guessed one (see the module's text)."""
    stage = line.stage
    assert stage is not None  # only called on a line in review
    line.stage_started_on = today
    line.reminded_stage = None
    line.escalated_at = None
    try:
        line.due_on = add_working_days(today, int(str(stage["days"])))
        line.deadline_problem = ""
    except CalendarUnknown as unknown:
        line.due_on = None
        line.deadline_problem = unknown.text[:200]
        _event(line.request, RequestAction.DEADLINE_UNKNOWN, actor, now, line=line, note=line.deadline_problem)
        _tell(
            _platform_admins(),
            line.request,
            f"工作日历缺少 {unknown.year} 年，共享申请的办理期限无法计算",
            f"共享申请 {line.request.number}（{line.resource.name}）的办理期限落在 {unknown.year} 年，该年的节假日安排"
            "尚未录入。请在“工作日历”中录入国务院办公厅公布的该年安排，期限将随即计算。",
            now,
        )


# ------------------------------------------------------------------------------------------ the cart


def cart_of(actor: User) -> ShareRequest | None:
    """The actor's request being filled (its newest draft), if any."""
    if actor.department_id is None:
        return None
    return (
        ShareRequest.objects.filter(created_by=actor, department_id=actor.department_id, status=RequestStatus.DRAFT)
        .order_by("-created_at", "-pk")
        .first()
    )


def add_to_request(
    actor: User,
    resource_id: int,
    *,
    items: Sequence[str] | None = None,
    delivery_method: str = DeliveryMethod.API,
    now: dt.datetime | None = None,
) -> ShareRequestLine:
    """Put a published resource into the actor's cart (creating it), with the items asked for (all shareable ones
    unless given). The resource again: its items are replaced."""
    if not may_apply(actor, actor.department_id):
        raise PermissionDenied(APPLICANTS_ONLY)
    now = _now(now)
    resource = catalog_selectors.get_resource(actor, resource_id)  # another's draft: 404
    refusal = _resource_refusal(resource, actor.department_id)
    if refusal:
        raise Conflict(refusal)
    if items is None:
        items = [name for name, item in _shareable_items(resource).items() if item.share_type != ShareType.NOT_SHARED]
    names = [" ".join(str(name).split()) for name in items]
    problems = _item_problems(resource, names, "items")
    if delivery_method not in DeliveryMethod.values:
        problems.append(FieldProblem("delivery_method", "交付方式无效"))
    if problems:
        raise ValidationFailed(problems, "申请内容有误")
    department_id = actor.department_id
    assert department_id is not None  # may_apply
    with transaction.atomic():
        cart = cart_of(actor)
        if cart is None:
            cart = ShareRequest.objects.create(department_id=department_id, created_by=actor)
        cart = ShareRequest.objects.select_for_update().get(pk=cart.pk)
        line = cart.lines.filter(resource=resource).first()
        if line is None:
            if cart.lines.count() >= LINES_MAX:
                raise Conflict(f"一次申请最多包含 {LINES_MAX} 个资源，请先提交当前申请")
            line = ShareRequestLine.objects.create(
                request=cart, resource=resource, items=names, delivery_method=delivery_method
            )
        else:
            line.items, line.delivery_method = names, delivery_method
            line.save(update_fields=["items", "delivery_method"])
        _event(cart, RequestAction.ADD, actor, now, line=line, changes={"resource": resource.code, "items": names})
    return line


def remove_line(actor: User, line: ShareRequestLine, *, now: dt.datetime | None = None) -> None:
    with transaction.atomic():
        request = _locked_request(line.request, actor, APPLY)
        if request.status != RequestStatus.DRAFT:
            raise Conflict("申请已提交，不能再移出资源；如不再需要，请撤回申请")
        removed = ShareRequestLine.objects.filter(pk=line.pk, request=request).first()
        if removed is None:
            raise NotFound(LINE_NOT_FOUND)
        _event(request, RequestAction.REMOVE, actor, _now(now), changes={"resource": removed.resource.code})
        removed.delete()


@dataclass(frozen=True)
class LineInput:
    items: list[str]
    delivery_method: str = DeliveryMethod.API


@dataclass(frozen=True)
class RequestInput:
    """What the applicant fills in on the cart."""

    scenario_id: int | None = None
    system_id: int | None = None
    purpose: str = ""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    lines: Mapping[int, LineInput] = field(default_factory=dict)  # line id → its items and delivery method


def _locked_request(request: ShareRequest, actor: User, action: str) -> ShareRequest:
    locked = ShareRequest.objects.select_for_update().filter(pk=request.pk).first()
    if locked is None:
        raise NotFound(NOT_FOUND)
    require(actor, action, locked, not_found=NOT_FOUND)
    return locked


def update_request(
    actor: User, request: ShareRequest, data: RequestInput, *, now: dt.datetime | None = None
) -> ShareRequest:
    """Save the cart's details (checked for shape here, for completeness at submission)."""
    now = _now(now)
    with transaction.atomic():
        locked = _locked_request(request, actor, APPLY)
        if locked.status != RequestStatus.DRAFT:
            raise Conflict("申请已提交，不能修改")
        problems: list[FieldProblem] = []
        if (
            data.scenario_id is not None
            and not Scenario.objects.filter(pk=data.scenario_id, department_id=locked.department_id).exists()
        ):
            problems.append(FieldProblem("scenario_id", "应用场景不存在或不属于本部门"))
        if (
            data.system_id is not None
            and not InformationSystem.objects.filter(pk=data.system_id, department_id=locked.department_id).exists()
        ):
            problems.append(FieldProblem("system_id", "接入系统不存在或不属于本部门"))
        purpose = data.purpose.strip()
        if len(purpose) > PURPOSE_MAX:
            problems.append(FieldProblem("purpose", f"用途最多 {PURPOSE_MAX} 个字"))
        lines = {line.pk: line for line in locked.lines.select_related("resource")}
        for line_id, line_input in data.lines.items():
            line = lines.get(line_id)
            if line is None:
                problems.append(FieldProblem("lines", f"申请明细 {line_id} 不在本申请中"))
                continue
            problems += _item_problems(line.resource, line_input.items, f"lines.{line_id}.items")
            if line_input.delivery_method not in DeliveryMethod.values:
                problems.append(FieldProblem(f"lines.{line_id}.delivery_method", "交付方式无效"))
        if problems:
            raise ValidationFailed(problems, "申请内容有误")
        locked.scenario_id = data.scenario_id
        locked.system_id = data.system_id
        locked.purpose = purpose
        locked.valid_from = data.valid_from
        locked.valid_until = data.valid_until
        locked.save(update_fields=["scenario", "system", "purpose", "valid_from", "valid_until"])
        for line_id, line_input in data.lines.items():
            line = lines[line_id]
            line.items, line.delivery_method = list(line_input.items), line_input.delivery_method
            line.save(update_fields=["items", "delivery_method"])
        _event(locked, RequestAction.EDIT, actor, now)
    return locked


def _submission_problems(request: ShareRequest, today: dt.date) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    scenario = request.scenario
    if scenario is None:
        problems.append(FieldProblem("scenario_id", "请选择应用场景"))
    elif scenario.department_id != request.department_id:
        problems.append(FieldProblem("scenario_id", "应用场景不属于本部门"))
    elif not scenario_is_usable(scenario):
        problems.append(FieldProblem("scenario_id", f"应用场景“{scenario.name}”未通过审核或已停用，不能引用"))
    system = request.system
    if system is None:
        problems.append(FieldProblem("system_id", "请选择使用数据的接入系统"))
    elif not system.is_active or system.department_id != request.department_id:
        problems.append(FieldProblem("system_id", f"接入系统“{system.name}”已停用或不属于本部门"))
    elif scenario is not None and not scenario.systems.filter(pk=system.pk).exists():
        problems.append(FieldProblem("system_id", f"接入系统“{system.name}”不是应用场景“{scenario.name}”的承载系统"))
    if not request.purpose.strip():
        problems.append(FieldProblem("purpose", "请填写用途"))
    if request.valid_from is None or request.valid_until is None:
        problems.append(FieldProblem("valid_until", "请填写申请使用的起止日期"))
    elif request.valid_from < today:
        problems.append(FieldProblem("valid_from", "起始日期不能早于今天"))
    elif request.valid_until < request.valid_from:
        problems.append(FieldProblem("valid_until", "截止日期不能早于起始日期"))
    elif (request.valid_until - request.valid_from).days > LONGEST_PERIOD_DAYS:
        problems.append(FieldProblem("valid_until", "一次申请的使用期限最长 3 年"))
    lines = list(request.lines.select_related("resource", "resource__department"))
    if not lines:
        problems.append(FieldProblem("lines", "申请中还没有资源：请在目录中点击“申请共享”加入"))
    for line in lines:
        refusal = _resource_refusal(line.resource, request.department_id)
        if refusal:
            problems.append(FieldProblem(f"lines.{line.pk}", refusal))
        else:
            problems += _item_problems(line.resource, line.items, f"lines.{line.pk}.items")
    return problems


def submit_request(
    actor: User, request: ShareRequest, *, today: dt.date | None = None, now: dt.datetime | None = None
) -> ShareRequest:
    """Submit the cart: each unconditional line is granted at once, each conditional one enters its first stage."""
    today, now = _today(today), _now(now)
    with transaction.atomic():
        locked = _locked_request(request, actor, APPLY)
        if locked.status != RequestStatus.DRAFT:
            raise Conflict("该申请已提交")
        problems = _submission_problems(locked, today)
        if problems:
            raise ValidationFailed(problems, "申请尚不能提交")
        locked.number = f"GX{today:%Y%m%d}{locked.pk:06d}"
        locked.status = RequestStatus.IN_REVIEW
        locked.submitted_at, locked.submitted_on = now, today
        locked.save(update_fields=["number", "status", "submitted_at", "submitted_on"])
        _event(locked, RequestAction.SUBMIT, actor, now, changes={"lines": locked.lines.count()})
        record_action(
            actor,
            "sharing.request.submit",
            locked,
            number=locked.number,
            scenario=locked.scenario.name if locked.scenario else "",
            resources=[line.resource.code for line in locked.lines.select_related("resource")],
        )
        stages = _stage_snapshot()
        for line in locked.lines.select_related("resource", "resource__department"):
            line.request = locked
            if grants.shared_by_rule(line.resource, line.items):
                _grant(line, list(line.items), actor=actor, today=today, now=now, by_rule=True)
                line.status = LineStatus.APPROVED
                line.approved_items = list(line.items)
                line.decided_at = now
                line.save()
                _event(locked, RequestAction.GRANT_AT_ONCE, actor, now, line=line, changes={"grant": line.grant_id})
                continue
            line.status = LineStatus.IN_REVIEW
            line.stages, line.stage_index = stages, 0
            _enter_stage(line, today, now, actor)
            line.save()
            _tell_deciders(line, now)
        _close_if_done(locked, now)
    return locked


def _tell_deciders(line: ShareRequestLine, now: dt.datetime) -> None:
    stage = line.stage or {}
    due = f"，办理期限 {line.due_on:%Y-%m-%d}" if line.due_on else f"（{line.deadline_problem}）"
    _tell(
        stage_deciders(line),
        line.request,
        f"待审核的共享申请：{line.resource.name}",
        f"{line.request.department.name}申请在应用场景“{line.request.scenario}”中使用“{line.resource.name}”的 "
        f"{len(line.items)} 个信息项，现处于“{stage.get('name', '')}”环节{due}。",
        now,
    )


def _grant(
    line: ShareRequestLine,
    items: list[str],
    *,
    actor: User,
    today: dt.date,
    now: dt.datetime,
    by_rule: bool = False,
    decision: Decision | None = None,
) -> None:
    request = line.request
    assert request.scenario_id is not None and request.valid_from and request.valid_until  # submitted
    valid_until = request.valid_until
    if decision is not None and decision.valid_until is not None:
        valid_until = decision.valid_until
    data = grants.GrantInput(
        department_id=request.department_id,
        scenario_id=request.scenario_id,
        resource_id=line.resource_id,
        items=items,
        valid_from=max(request.valid_from, today),
        valid_until=valid_until,
        row_filter=dict(decision.row_filter) if decision else {},
        masking=dict(decision.masking) if decision else {},
        delivery_method=line.delivery_method,
        daily_quota=decision.daily_quota if decision else None,
        review_interval_days=decision.review_interval_days if decision else grants.DEFAULT_REVIEW_DAYS,
        conditions=decision.conditions if decision else "",
    )
    note = f"共享申请 {request.number}"
    if by_rule:
        line.grant = grants.grant_by_rule(data, applicant=actor, today=today, source_note=note)
    else:
        line.grant = grants.issue_grant(data, actor=actor, today=today, source_note=note)


def _close_if_done(request: ShareRequest, now: dt.datetime) -> None:
    if request.status == RequestStatus.IN_REVIEW and not request.lines.filter(status__in=OPEN_LINE_STATES).exists():
        request.status = RequestStatus.CLOSED
        request.closed_at = now
        request.save(update_fields=["status", "closed_at"])


def _reopen(request: ShareRequest) -> None:
    if request.status == RequestStatus.CLOSED:
        request.status = RequestStatus.IN_REVIEW
        request.closed_at = None
        request.save(update_fields=["status", "closed_at"])


def withdraw_request(
    actor: User, request: ShareRequest, *, reason: str = "", now: dt.datetime | None = None
) -> ShareRequest:
    """The applicant withdraws: lines still in review stop (decided ones and their grants stay)."""
    now = _now(now)
    with transaction.atomic():
        locked = _locked_request(request, actor, APPLY)
        if locked.status not in (RequestStatus.DRAFT, RequestStatus.IN_REVIEW):
            raise Conflict(f"该申请{locked.get_status_display()}，不能撤回")
        stopped = list(locked.lines.select_related("resource").filter(status=LineStatus.IN_REVIEW))
        for line in stopped:
            line.request = locked
            deciders = stage_deciders(line)
            line.status = LineStatus.WITHDRAWN
            line.save(update_fields=["status"])
            _tell(
                deciders,
                locked,
                f"共享申请已撤回：{line.resource.name}",
                f"申请 {locked.number} 已由申请部门撤回。",
                now,
            )
        locked.lines.filter(status=LineStatus.DRAFT).update(status=LineStatus.WITHDRAWN)
        was_draft = locked.status == RequestStatus.DRAFT
        locked.status = RequestStatus.WITHDRAWN
        locked.closed_at = now
        locked.save(update_fields=["status", "closed_at"])
        _event(locked, RequestAction.WITHDRAW, actor, now, note=reason.strip())
        if not was_draft:
            record_action(actor, "sharing.request.withdraw", locked, number=locked.number, lines=len(stopped))
    return locked


# ------------------------------------------------------------------------------------------ decisions


@dataclass(frozen=True)
class Decision:
    """A provider's approval of a line: the items approved (all or a part of those asked for), and the terms the
    grant binds. Approving a part needs a reason for the rest."""

    items: list[str]
    reason: str = ""  # why the other items are refused
    conditions: str = ""
    masking: Mapping[str, str] = field(default_factory=dict)
    row_filter: Mapping[str, list[str]] = field(default_factory=dict)
    daily_quota: int | None = None
    valid_until: dt.date | None = None
    review_interval_days: int = grants.DEFAULT_REVIEW_DAYS


def _lock_request_row(request_id: int) -> None:
    """Lock the request's row before any of its lines, as every write of a request does: one order of locks (no
    deadlock with a withdrawal), and two decisions on different lines of one request wait for each other, so the
    last one sees the other's line decided and closes the request. NO KEY: the history rows other transactions
    insert (a foreign key to the request) do not wait for it."""
    ShareRequest.objects.select_for_update(no_key=True).filter(pk=request_id).values_list("pk", flat=True).first()


def _locked_line(
    line: ShareRequestLine, actor: User, action: str, *, stage_index: int | None = None
) -> ShareRequestLine:
    """The line's row, locked, then checked: another reviewer who got there first leaves it decided, and the one
    who follows is told so (409), never a second grant. Only the line's row is locked (`of`): PostgreSQL refuses
    FOR UPDATE on the outer join of the request's nullable scenario."""
    _lock_request_row(line.request_id)
    locked = (
        ShareRequestLine.objects.select_for_update(of=("self",))
        .select_related("request", "request__department", "request__scenario", "resource", "resource__department")
        .filter(pk=line.pk)
        .first()
    )
    if locked is None:
        raise NotFound(LINE_NOT_FOUND)
    require(actor, VIEW, locked, not_found=LINE_NOT_FOUND)
    if action == DECIDE and locked.status != LineStatus.IN_REVIEW:
        raise Conflict(f"该申请明细{locked.get_status_display()}，已由他人处理或已撤回")
    if action == ARBITRATE and locked.status != LineStatus.DISPUTED:
        raise Conflict(f"该申请明细{locked.get_status_display()}，没有待仲裁的异议")
    # A decision made on the page of an earlier stage must not act on a later one (whoever decides that one).
    if stage_index is not None and locked.stage_index != stage_index:
        raise Conflict("该申请已进入下一环节，请刷新后再办理")
    require(actor, action, locked, not_found=LINE_NOT_FOUND)
    return locked


def pass_stage(
    actor: User,
    line: ShareRequestLine,
    *,
    note: str = "",
    stage_index: int | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ShareRequestLine:
    """A stage before the provider's (the coordinator's compliance check) is passed: the line enters the next."""
    today, now = _today(today), _now(now)
    with transaction.atomic():
        locked = _locked_line(line, actor, DECIDE, stage_index=stage_index)
        if locked.stage_index + 1 >= len(locked.stages):
            raise Conflict("这是最后一个环节，请作出同意或拒绝的决定")
        passed = locked.stage or {}
        locked.stage_index += 1
        _enter_stage(locked, today, now, actor)
        locked.save()
        _event(
            locked.request,
            RequestAction.PASS,
            actor,
            now,
            line=locked,
            note=note.strip(),
            changes={"stage": passed.get("name", "")},
        )
        record_action(
            actor,
            "sharing.request.pass",
            locked.request,
            number=locked.request.number,
            resource=locked.resource.code,
            stage=str(passed.get("name", "")),
        )
        _tell_deciders(locked, now)
    return locked


def approve_line(
    actor: User,
    line: ShareRequestLine,
    decision: Decision,
    *,
    stage_index: int | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ShareRequestLine:
    """The provider (or, once escalated, the coordinator) approves all or a part of the items asked for: the grant
    is issued with the decision's terms."""
    today, now = _today(today), _now(now)
    with transaction.atomic():
        locked = _locked_line(line, actor, DECIDE, stage_index=stage_index)
        if locked.stage_index + 1 < len(locked.stages):
            raise Conflict("该申请尚在前置环节，请先通过本环节审查")
        items = [" ".join(str(name).split()) for name in decision.items]
        problems: list[FieldProblem] = []
        outside = [name for name in items if name not in locked.items]
        if not items:
            problems.append(FieldProblem("items", "请至少同意一个信息项；全部不同意请选择“拒绝”并填写理由"))
        if outside:
            problems.append(FieldProblem("items", f"信息项“{outside[0]}”不在申请范围内"))
        partial = set(items) != set(locked.items)
        if partial and not decision.reason.strip():
            problems.append(FieldProblem("reason", "部分同意时，请填写不同意其余信息项的理由"))
        if problems:
            raise ValidationFailed(problems, "审核意见有误")
        _grant(locked, items, actor=actor, today=today, now=now, decision=decision)
        locked.status = LineStatus.PARTIAL if partial else LineStatus.APPROVED
        locked.approved_items = items
        locked.conditions = decision.conditions.strip()
        locked.refusal_reason = decision.reason.strip()[:REASON_MAX] if partial else ""
        locked.decided_by, locked.decided_at = actor, now
        locked.save()
        action = RequestAction.APPROVE_PART if partial else RequestAction.APPROVE
        refused = [name for name in locked.items if name not in items]
        _event(
            locked.request,
            action,
            actor,
            now,
            line=locked,
            note=locked.refusal_reason or locked.conditions,
            changes={"approved": items, "refused": refused, "grant": locked.grant_id},
        )
        record_action(
            actor,
            "sharing.request.approve",
            locked.request,
            number=locked.request.number,
            resource=locked.resource.code,
            approved=len(items),
            refused=len(refused),
            grant=locked.grant_id,
        )
        what = f"部分同意（{len(items)}/{len(locked.items)} 项）" if partial else "同意"
        reason = f"不同意其余信息项的理由：{locked.refusal_reason}" if partial else ""
        _tell(
            _applicants(locked.request),
            locked.request,
            f"共享申请{what}：{locked.resource.name}",
            f"{locked.resource.department.name}对申请 {locked.request.number} 中“{locked.resource.name}”"
            f"的决定：{what}。{reason}",
            now,
        )
        _close_if_done(locked.request, now)
    return locked


def refuse_line(
    actor: User,
    line: ShareRequestLine,
    *,
    reason: str,
    stage_index: int | None = None,
    now: dt.datetime | None = None,
) -> ShareRequestLine:
    """Refused at the current stage, with the reason the applicant reads (seed 000 §六: a refusal gives reasons)."""
    now = _now(now)
    reason = _reason(reason, "拒绝理由")
    with transaction.atomic():
        locked = _locked_line(line, actor, DECIDE, stage_index=stage_index)
        stage = locked.stage or {}
        locked.status = LineStatus.REFUSED
        locked.refusal_reason = reason
        locked.approved_items = []
        locked.decided_by, locked.decided_at = actor, now
        locked.save()
        _event(
            locked.request,
            RequestAction.REFUSE,
            actor,
            now,
            line=locked,
            note=reason,
            changes={"stage": stage.get("name", "")},
        )
        record_action(
            actor,
            "sharing.request.refuse",
            locked.request,
            number=locked.request.number,
            resource=locked.resource.code,
            reason=reason[:200],
        )
        _tell(
            _applicants(locked.request),
            locked.request,
            f"共享申请未获同意：{locked.resource.name}",
            f"申请 {locked.request.number} 中“{locked.resource.name}”在“{stage.get('name', '')}”环节未获同意。"
            f"理由：{reason}。如有异议，可在申请页面提出，由共享协调员仲裁。",
            now,
        )
        _close_if_done(locked.request, now)
    return locked


# ------------------------------------------------------------------------------------------ disputes


def dispute_line(
    actor: User, line: ShareRequestLine, *, reason: str, now: dt.datetime | None = None
) -> ShareRequestLine:
    """The applicant disputes a refusal or a partial approval, once; the coordinator arbitrates."""
    now = _now(now)
    reason = _reason(reason, "异议理由")
    with transaction.atomic():
        locked = _locked_line(line, actor, VIEW)
        if not may_apply(actor, locked.request.department_id):
            raise PermissionDenied(APPLICANTS_ONLY)
        if locked.status not in (LineStatus.REFUSED, LineStatus.PARTIAL):
            raise Conflict("只能对拒绝或部分同意的决定提出异议")
        if locked.disputed_at is not None:
            raise Conflict("该决定已提出过异议并经仲裁，不能再次提出")
        locked.status = LineStatus.DISPUTED
        locked.dispute_reason, locked.disputed_at = reason, now
        locked.save(update_fields=["status", "dispute_reason", "disputed_at"])
        _reopen(locked.request)
        _event(locked.request, RequestAction.DISPUTE, actor, now, line=locked, note=reason)
        record_action(
            actor,
            "sharing.request.dispute",
            locked.request,
            number=locked.request.number,
            resource=locked.resource.code,
        )
        _tell(
            coordinators() + _provider_reviewers(locked),
            locked.request,
            f"共享申请异议待仲裁：{locked.resource.name}",
            f"{locked.request.department.name}对申请 {locked.request.number} 中“{locked.resource.name}”的决定提出异议："
            f"{reason}",
            now,
        )
    return locked


def arbitrate_line(
    actor: User,
    line: ShareRequestLine,
    *,
    uphold: bool,
    note: str,
    items: Sequence[str] | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ShareRequestLine:
    """The coordinator decides a dispute: upholds the decision, or overrules it and grants the items asked for (or
    those named), replacing a partial grant. Never a decision of its own."""
    today, now = _today(today), _now(now)
    note = _reason(note, "仲裁意见")
    with transaction.atomic():
        locked = _locked_line(line, actor, ARBITRATE)
        if locked.decided_by_id == actor.pk:
            raise PermissionDenied(SELF_ARBITRATION)
        if uphold:
            locked.status = LineStatus.PARTIAL if locked.grant_id else LineStatus.REFUSED
            action = RequestAction.UPHOLD
        else:
            granted = [" ".join(str(name).split()) for name in (items or locked.items)]
            outside = [name for name in granted if name not in locked.items]
            if outside or not granted:
                raise ValidationFailed([FieldProblem("items", "仲裁同意的信息项须在申请范围内且至少一项")])
            previous = locked.grant
            if previous is not None and previous.status == GrantStatus.ACTIVE:
                grants.revoke_grant(
                    previous, actor=actor, reason=f"仲裁改为同意，由新授权替代（申请 {locked.request.number}）"
                )
            _grant(locked, granted, actor=actor, today=today, now=now)
            locked.approved_items = granted
            locked.status = LineStatus.APPROVED if set(granted) == set(locked.items) else LineStatus.PARTIAL
            action = RequestAction.OVERRULE
        locked.arbitration_note, locked.arbitrated_by, locked.arbitrated_at = note, actor, now
        locked.save()
        _event(locked.request, action, actor, now, line=locked, note=note, changes={"grant": locked.grant_id})
        record_action(
            actor,
            "sharing.request.arbitrate",
            locked.request,
            number=locked.request.number,
            resource=locked.resource.code,
            outcome="uphold" if uphold else "overrule",
        )
        outcome = "维持原决定" if uphold else "改为同意"
        _tell(
            _applicants(locked.request) + _provider_reviewers(locked),
            locked.request,
            f"异议仲裁结果：{locked.resource.name}",
            f"共享协调员对申请 {locked.request.number} 中“{locked.resource.name}”的异议作出仲裁：{outcome}。"
            f"意见：{note}",
            now,
        )
        _close_if_done(locked.request, now)
    return locked


# ------------------------------------------------------------------------------------------ deadlines


@dataclass
class DeadlineRun:
    computed: int = 0
    reminded: int = 0
    escalated: int = 0


def follow_deadlines(*, today: dt.date | None = None, now: dt.datetime | None = None) -> DeadlineRun:
    """Run daily: compute deadlines that waited for a year of the calendar, remind the deciders of lines due within
    two working days (once per stage), escalate overdue lines to the coordinator (once per stage)."""
    today, now = _today(today), _now(now)
    run = DeadlineRun()
    waiting = ShareRequestLine.objects.filter(status=LineStatus.IN_REVIEW).values_list("pk", "request_id")
    for pk, request_id in list(waiting):
        with transaction.atomic():
            _lock_request_row(request_id)
            line = (
                ShareRequestLine.objects.select_for_update(of=("self",))
                .select_related(
                    "request", "request__department", "request__scenario", "resource", "resource__department"
                )
                .filter(pk=pk, status=LineStatus.IN_REVIEW)
                .first()
            )
            if line is None:
                continue
            if line.due_on is None:
                _compute_waiting(line, now, run)
            if line.due_on is None:
                continue
            try:
                _follow(line, today, now, run)
            except CalendarUnknown:
                continue  # today itself is in a year nobody entered: the administrators are told by the home page
    return run


def _follow(line: ShareRequestLine, today: dt.date, now: dt.datetime, run: DeadlineRun) -> None:
    assert line.due_on is not None
    if today > line.due_on and line.escalated_at is None:
        _escalate(line, today, now)
        run.escalated += 1
    elif (
        today <= line.due_on
        and line.reminded_stage != line.stage_index
        and working_days_between(today, line.due_on) <= REMIND_WITHIN_WORKING_DAYS
    ):
        line.reminded_stage = line.stage_index
        line.save(update_fields=["reminded_stage"])
        left = working_days_between(today, line.due_on)
        _event(
            line.request,
            RequestAction.REMIND,
            None,
            now,
            line=line,
            changes={"due_on": line.due_on.isoformat(), "working_days_left": left},
        )
        _tell(
            stage_deciders(line),
            line.request,
            f"共享申请即将到期：{line.resource.name}",
            f"申请 {line.request.number} 中“{line.resource.name}”的办理期限为 {line.due_on:%Y-%m-%d}，"
            f"还剩 {left} 个工作日。逾期将转共享协调员督办。",
            now,
        )
        run.reminded += 1


def _compute_waiting(line: ShareRequestLine, now: dt.datetime, run: DeadlineRun) -> None:
    try:
        line.due_on = _due_on(line)
    except CalendarUnknown:
        return
    line.deadline_problem = ""
    line.save(update_fields=["due_on", "deadline_problem"])
    _event(line.request, RequestAction.DEADLINE_SET, None, now, line=line, changes={"due_on": line.due_on.isoformat()})
    run.computed += 1


def _escalate(line: ShareRequestLine, today: dt.date, now: dt.datetime) -> None:
    assert line.due_on is not None
    late = working_days_between(line.due_on, today)
    line.escalated_at = now
    line.save(update_fields=["escalated_at"])
    _event(
        line.request,
        RequestAction.ESCALATE,
        None,
        now,
        line=line,
        changes={"due_on": line.due_on.isoformat(), "working_days_late": late},
    )
    record_action(
        None,
        "sharing.request.escalate",
        line.request,
        number=line.request.number,
        resource=line.resource.code,
        due_on=line.due_on.isoformat(),
    )
    stage = line.stage or {}
    _tell(
        coordinators() + [u for u in stage_deciders(line) if not u.has_role(Role.COORDINATOR)],
        line.request,
        f"共享申请逾期未办：{line.resource.name}",
        f"申请 {line.request.number} 中“{line.resource.name}”在“{stage.get('name', '')}”环节的办理期限 "
        f"{line.due_on:%Y-%m-%d} 已过（逾期 {late} 个工作日），已转共享协调员督办，协调员可直接作出决定。",
        now,
    )


# ------------------------------------------------------------------------------------------ reads


def requests_for(user: User, *, side: str = "") -> QuerySet[ShareRequest]:
    """Requests the user may see: `side` "mine" (its department's), "provider" (asking its department's data),
    "" all it may see. Newest first."""
    found = restrict(ShareRequest.objects.all(), user).select_related("department", "scenario", "system", "created_by")
    department = user.department_id or 0
    if side == "mine":
        found = found.filter(department_id=department)
    elif side == "provider":
        found = found.filter(
            pk__in=ShareRequestLine.objects.filter(resource__department_id=department).values("request_id")
        ).exclude(status=RequestStatus.DRAFT)
    return found.order_by("-submitted_at", "-created_at", "-pk")


def get_request(user: User, pk: int) -> ShareRequest:
    found = requests_for(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


def visible_lines(user: User, request: ShareRequest) -> list[ShareRequestLine]:
    """The request's lines the user may see (a provider: those on its resources)."""
    return list(
        restrict(ShareRequestLine.objects.filter(request=request), user)
        .select_related("resource", "resource__department", "grant", "decided_by", "arbitrated_by")
        .order_by("pk")
    )


def review_queue(user: User) -> list[ShareRequestLine]:
    """Lines the user decides now, most urgent first: unknown deadlines (loudly), then by deadline."""
    candidates = restrict(ShareRequestLine.objects.all(), user, DECIDE).select_related(
        "request", "request__department", "request__scenario", "resource", "resource__department"
    )
    mine = [line for line in candidates if may_decide(user, line)]
    return sorted(mine, key=lambda line: (line.due_on is not None, line.due_on or dt.date.min, line.pk))


def overdue_lines(user: User, today: dt.date) -> list[ShareRequestLine]:
    """The coordinator's list: lines in review past their deadline or with none computable, most overdue first."""
    if not user.has_role(Role.COORDINATOR, Role.PLATFORM_ADMIN, Role.AUDITOR):
        return []
    late = ShareRequestLine.objects.filter(status=LineStatus.IN_REVIEW).filter(
        Q(due_on__lt=today) | Q(due_on__isnull=True)
    )
    found = late.select_related(
        "request", "request__department", "request__scenario", "resource", "resource__department"
    )
    return sorted(found, key=lambda line: (line.due_on is not None, line.due_on or dt.date.min, line.pk))


def disputed_lines(user: User) -> list[ShareRequestLine]:
    if not user.has_role(Role.COORDINATOR, Role.PLATFORM_ADMIN, Role.AUDITOR):
        return []
    found = ShareRequestLine.objects.filter(status=LineStatus.DISPUTED).select_related(
        "request", "request__department", "resource", "resource__department", "decided_by"
    )
    return list(found.order_by("disputed_at", "pk"))


def urgency(line: ShareRequestLine, today: dt.date) -> str:
    """The deadline in words, for queues and pages (in the reader's language)."""
    if line.status != LineStatus.IN_REVIEW:
        return ""
    try:
        due = line.due_on or _due_on(line)
        left = working_days_between(today, due)
    except CalendarUnknown as unknown:
        return gettext("期限无法计算：%(problem)s") % {"problem": unknown.text}
    if left < 0:
        return ngettext("已逾期 %(n)d 个工作日", "已逾期 %(n)d 个工作日", -left) % {"n": -left}
    if left == 0:
        return gettext("今日到期")
    return ngettext("剩余 %(n)d 个工作日", "剩余 %(n)d 个工作日", left) % {"n": left}


def _due_on(line: ShareRequestLine) -> dt.date:
    """The current stage's deadline, computed again (raises CalendarUnknown while its year is unknown)."""
    stage = line.stage or {}
    started = line.stage_started_on or line.request.submitted_on
    if started is None:
        raise ValueError("a line in review has a start day")
    return add_working_days(started, int(str(stage.get("days", 10))))


def history(request: ShareRequest) -> QuerySet[ShareRequestEvent]:
    return request.events.select_related("line", "line__resource", "actor").order_by("at", "pk")


__all__ = [
    "LINE_NOT_FOUND",
    "NOT_FOUND",
    "DeadlineRun",
    "Decision",
    "LineInput",
    "RequestInput",
    "StageInput",
    "add_to_request",
    "approve_line",
    "arbitrate_line",
    "cart_of",
    "dispute_line",
    "disputed_lines",
    "follow_deadlines",
    "get_request",
    "history",
    "overdue_lines",
    "pass_stage",
    "refuse_line",
    "remove_line",
    "requests_for",
    "review_queue",
    "set_review_stages",
    "stage_deciders",
    "stage_problems",
    "submit_request",
    "update_request",
    "urgency",
    "visible_lines",
    "withdraw_request",
]
