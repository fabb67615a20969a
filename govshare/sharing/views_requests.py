"""Share request pages (共享申请): the 申请共享 button's action, the cart (申请车) with its form, the requests of the
department and those asking its data, one request with the actions each user has on its lines, the review queue,
the coordinator's overdue and disputed lines, and the review stage settings. Views parse input and call the
services (sharing.requests); a refusal comes back as a message, a form with problems keeps what was typed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govshare.accounts.acting import acting_user
from govshare.accounts.models import User
from govshare.catalog import selectors as catalog_selectors
from govshare.catalog.choices import ShareType
from govshare.catalog.models import Item
from govshare.core.authz import permits
from govshare.core.errors import Conflict, DomainError, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from govshare.core.nostore import no_store
from govshare.core.pagination import page_number, paginate
from govshare.core.roles import Role
from govshare.datasets import scopes
from govshare.identity.models import InformationSystem
from govshare.sharing import requests as share_requests
from govshare.sharing.access_requests import ARBITRATE, may_apply, may_decide
from govshare.sharing.choices import DeliveryMethod, LineStatus, RequestStatus, StageReviewer
from govshare.sharing.models import ReviewStage, ShareRequest, ShareRequestLine
from govshare.sharing.scenario_selectors import citable_scenarios

SIDES = ("mine", "provider", "all")
PROPOSED_DAYS = 365  # a new cart proposes this period from today
LINE_ACTIONS = ("pass", "approve", "refuse", "dispute", "arbitrate")
STAGE_ROWS = 4
QUOTA_MAX = 10_000_000


# ------------------------------------------------------------------------------------------ helpers


def _request_or_404(user: User, request_id: int) -> ShareRequest:
    try:
        return share_requests.get_request(user, request_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _line_or_404(user: User, share_request: ShareRequest, line_id: int) -> ShareRequestLine:
    for line in share_requests.visible_lines(user, share_request):
        if line.pk == line_id:
            return line
    raise Http404(share_requests.LINE_NOT_FOUND)


def _problem_text(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed) and exc.problems:
        return "；".join(problem.message for problem in exc.problems)
    return exc.text


def _date(value: str, name: str, label: str, problems: list[FieldProblem]) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(FieldProblem(name, _("%(label)s应为日期，格式 YYYY-MM-DD") % {"label": label}))
        return None


def _number(value: str, name: str, label: str, problems: list[FieldProblem]) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        problems.append(FieldProblem(name, _("%(label)s应为整数") % {"label": label}))
        return None


def _safe_back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


# ------------------------------------------------------------------------------------------ 申请共享


@login_required
@require_POST
def request_add(request: HttpRequest, resource_id: int) -> HttpResponse:
    """The 申请共享 button (catalogue entry, answered demand): the resource goes into the user's cart."""
    user = acting_user(request)
    try:
        catalog_selectors.get_resource(user, resource_id)  # an entry the user cannot see: 404 whoever asks
        line = share_requests.add_to_request(user, resource_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except (PermissionDenied, Conflict, ValidationFailed) as exc:
        messages.error(request, _problem_text(exc))
        return redirect(_safe_back(request, reverse("catalog:detail", args=[resource_id])))
    messages.success(request, _("已将“%(name)s”加入申请车") % {"name": line.resource.name})
    return redirect("sharing:request_cart")


# ------------------------------------------------------------------------------------------ the cart


@dataclass
class CartLine:
    line: ShareRequestLine
    items: list[tuple[str, bool, bool]]  # (name, chosen, not shared)
    delivery_method: str
    errors: list[str] = field(default_factory=list)


def _shareable(line: ShareRequestLine) -> list[Item]:
    return list(Item.objects.filter(resource_id=line.resource_id).order_by("position", "pk"))


def _cart_lines(cart: ShareRequest, posted: QueryDict | None, problems: list[FieldProblem]) -> list[CartLine]:
    rows = []
    lines = cart.lines.select_related("resource", "resource__department").order_by("pk")
    for line in lines:
        chosen = posted.getlist(f"items-{line.pk}") if posted is not None else list(line.items)
        method = posted.get(f"delivery-{line.pk}", line.delivery_method) if posted is not None else line.delivery_method
        items = [(item.name, item.name in chosen, item.share_type == ShareType.NOT_SHARED) for item in _shareable(line)]
        errors = [
            p.message for p in problems if p.field == f"lines.{line.pk}" or p.field.startswith(f"lines.{line.pk}.")
        ]
        rows.append(CartLine(line=line, items=items, delivery_method=method, errors=errors))
    return rows


def _cart_input(cart: ShareRequest, posted: QueryDict, problems: list[FieldProblem]) -> share_requests.RequestInput:
    lines = {
        line.pk: share_requests.LineInput(
            items=posted.getlist(f"items-{line.pk}"),
            delivery_method=posted.get(f"delivery-{line.pk}", DeliveryMethod.API),
        )
        for line in cart.lines.all()
    }
    return share_requests.RequestInput(
        scenario_id=_number(posted.get("scenario_id", ""), "scenario_id", _("应用场景"), problems),
        system_id=_number(posted.get("system_id", ""), "system_id", _("使用系统"), problems),
        purpose=posted.get("purpose", ""),
        valid_from=_date(posted.get("valid_from", ""), "valid_from", _("起始日期"), problems),
        valid_until=_date(posted.get("valid_until", ""), "valid_until", _("截止日期"), problems),
        lines=lines,
    )


def _render_cart(
    request: HttpRequest,
    user: User,
    cart: ShareRequest | None,
    *,
    posted: QueryDict | None = None,
    problems: list[FieldProblem] | None = None,
    status: int = 200,
) -> HttpResponse:
    problems = problems or []
    values: dict[str, str] = {}
    if cart is not None:
        values = {
            "scenario_id": str(cart.scenario_id or ""),
            "system_id": str(cart.system_id or ""),
            "purpose": cart.purpose,
            # A new cart proposes a year from today (the usual term; the reviewer may shorten it).
            "valid_from": (cart.valid_from or scopes.clock()).isoformat(),
            "valid_until": (cart.valid_until or scopes.clock() + dt.timedelta(days=PROPOSED_DAYS)).isoformat(),
        }
        if posted is not None:
            values = {name: posted.get(name, "") for name in values}
    errors: dict[str, list[str]] = {}
    for problem in problems:
        if not problem.field.startswith("lines."):
            errors.setdefault(problem.field, []).append(problem.message)
    department = user.department_id or 0
    context = {
        "cart": cart,
        "rows": _cart_lines(cart, posted, problems) if cart is not None else [],
        "values": values,
        "errors": errors,
        "problems": problems,
        "scenarios": list(citable_scenarios(user).filter(department_id=department).order_by("name")),
        "systems": list(InformationSystem.objects.filter(department_id=department, is_active=True).order_by("name")),
        "deliveries": DeliveryMethod.choices,
    }
    return render(request, "sharing/request_cart.html", context, status=status)


@login_required
@no_store
def request_cart(request: HttpRequest) -> HttpResponse:
    """The applicant's cart: GET shows it; POST saves it (`action=save`), submits it (`submit`) or takes a resource
    out (`remove` with the line's id). Problems are shown next to the form, with everything typed kept."""
    user = acting_user(request)
    if not may_apply(user, user.department_id):
        raise Http404(_("只有数据使用人员有申请车"))
    cart = share_requests.cart_of(user)
    if request.method != "POST":
        return _render_cart(request, user, cart)
    if cart is None:
        messages.error(request, _("申请车是空的：请在资源目录中点击“申请共享”加入资源"))
        return redirect("sharing:request_cart")
    posted = request.POST
    action = posted.get("action", "save")
    removed = _number(posted.get("remove", ""), "remove", _("申请明细"), [])
    try:
        if removed is not None:
            line = cart.lines.filter(pk=removed).first()
            if line is None:
                raise NotFound(share_requests.LINE_NOT_FOUND)
            name = line.resource.name
            share_requests.remove_line(user, line)
            messages.success(request, _("已将“%(name)s”移出申请") % {"name": name})
            if not cart.lines.exists():
                return redirect("sharing:request_cart")
        problems: list[FieldProblem] = []
        data = _cart_input(cart, posted, problems)
        if problems:
            raise ValidationFailed(problems, _("申请内容有误"))
        share_requests.update_request(user, cart, data)
        if action == "submit" and removed is None:
            submitted = share_requests.submit_request(user, cart)
            messages.success(request, _("申请 %(number)s 已提交") % {"number": submitted.number})
            return redirect("sharing:request_detail", submitted.pk)
    except ValidationFailed as exc:
        messages.error(request, exc.text)
        return _render_cart(request, user, cart, posted=posted, problems=exc.problems, status=422)
    except (NotFound, PermissionDenied, Conflict) as exc:
        messages.error(request, exc.text)
        return redirect("sharing:request_cart")
    if removed is None:
        messages.success(request, _("申请已保存"))
    return redirect("sharing:request_cart")


# ------------------------------------------------------------------------------------------ lists


def _sides(user: User) -> list[str]:
    sides = ["mine", "provider"] if user.department_id is not None else []
    if user.has_role(Role.COORDINATOR, Role.PLATFORM_ADMIN, Role.AUDITOR):
        sides.append("all")
    return sides


@login_required
@no_store
def request_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    sides = _sides(user)
    if not sides:
        raise Http404(_("没有与您相关的共享申请"))
    side = request.GET.get("side", "")
    if side not in sides:
        side = sides[0]
    found = share_requests.requests_for(user, side="" if side == "all" else side).prefetch_related("lines__resource")
    page = paginate(found, page_number(request.GET.get("page")), None)
    context = {
        "page": page,
        "side": side,
        "sides": sides,
        "may_apply": may_apply(user, user.department_id),
        "may_review": user.has_role(Role.DEPT_REVIEWER, Role.COORDINATOR),
        "is_coordinator": user.has_role(Role.COORDINATOR),
    }
    return render(request, "sharing/request_list.html", context)


# ------------------------------------------------------------------------------------------ one request


@dataclass(frozen=True)
class Sent:
    """A line's form sent back with a problem."""

    line_id: int
    action: str
    posted: QueryDict


@dataclass
class LineView:
    line: ShareRequestLine
    urgency: str
    stage_name: str
    last_stage: bool
    may_decide: bool
    may_dispute: bool
    may_arbitrate: bool
    items: list[tuple[str, bool]]  # for the approval form: (name, checked)
    action: str = ""  # the form sent back with a problem, with what was typed in it
    posted: dict[str, str] = field(default_factory=dict)


def _line_view(user: User, line: ShareRequestLine, today: dt.date, sent: Sent | None) -> LineView:
    deciding = may_decide(user, line)
    stage = line.stage or {}
    here = sent is not None and sent.line_id == line.pk
    checked = sent.posted.getlist("items") if sent is not None and here and sent.action == "approve" else line.items
    values = {k: sent.posted.get(k, "") for k in sent.posted if k != "csrfmiddlewaretoken"} if sent and here else {}
    return LineView(
        line=line,
        urgency=share_requests.urgency(line, today),
        stage_name=str(stage.get("name", "")),
        last_stage=line.stage_index + 1 >= len(line.stages),
        may_decide=deciding,
        may_dispute=(
            may_apply(user, line.request.department_id)
            and line.status in (LineStatus.REFUSED, LineStatus.PARTIAL)
            and line.disputed_at is None
        ),
        may_arbitrate=line.status == LineStatus.DISPUTED
        and permits(user, ARBITRATE, line)
        and line.decided_by_id != user.pk,
        items=[(name, name in checked) for name in line.items],
        action=sent.action if sent is not None and here else "",
        posted=values,
    )


def _render_detail(
    request: HttpRequest,
    user: User,
    share_request: ShareRequest,
    *,
    sent: Sent | None = None,
    status: int = 200,
) -> HttpResponse:
    today = scopes.clock()
    lines = [_line_view(user, line, today, sent) for line in share_requests.visible_lines(user, share_request)]
    context = {
        "share_request": share_request,
        "lines": lines,
        "events": share_requests.history(share_request),
        "may_withdraw": share_request.status == RequestStatus.IN_REVIEW
        and may_apply(user, share_request.department_id),
        "is_draft": share_request.status == RequestStatus.DRAFT,
        "may_apply": may_apply(user, share_request.department_id),
        "today": today,
    }
    return render(request, "sharing/request_detail.html", context, status=status)


@login_required
@no_store
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    user = acting_user(request)
    return _render_detail(request, user, _request_or_404(user, request_id))


def _decision(posted: QueryDict, problems: list[FieldProblem]) -> share_requests.Decision:
    quota = _number(posted.get("daily_quota", ""), "daily_quota", _("每日调用上限"), problems)
    if quota is not None and not 1 <= quota <= QUOTA_MAX:
        problems.append(FieldProblem("daily_quota", _("每日调用上限应为 1 到 %(max)s 之间的整数") % {"max": QUOTA_MAX}))
    return share_requests.Decision(
        items=posted.getlist("items"),
        reason=posted.get("reason", ""),
        conditions=posted.get("conditions", ""),
        daily_quota=quota,
        valid_until=_date(posted.get("valid_until", ""), "valid_until", _("授权截止日期"), problems),
    )


def _stage_index(posted: QueryDict) -> int | None:
    return _number(posted.get("stage_index", ""), "stage_index", "stage_index", [])


def _act(user: User, line: ShareRequestLine, action: str, posted: QueryDict) -> str:
    """Carry out one action on a line; the success message."""
    if action == "pass":
        share_requests.pass_stage(user, line, note=posted.get("note", ""), stage_index=_stage_index(posted))
        return _("已通过本环节审查，转入下一环节")
    if action == "approve":
        problems: list[FieldProblem] = []
        decision = _decision(posted, problems)
        if problems:
            raise ValidationFailed(problems, _("审核意见有误"))
        decided = share_requests.approve_line(user, line, decision, stage_index=_stage_index(posted))
        if decided.status == LineStatus.PARTIAL:
            return _("已部分同意，授权已生成")
        return _("已同意，授权已生成")
    if action == "refuse":
        share_requests.refuse_line(user, line, reason=posted.get("reason", ""), stage_index=_stage_index(posted))
        return _("已拒绝，申请部门将收到理由")
    if action == "dispute":
        share_requests.dispute_line(user, line, reason=posted.get("reason", ""))
        return _("已提出异议，由共享协调员仲裁")
    uphold = posted.get("outcome", "") == "uphold"
    if posted.get("outcome", "") not in ("uphold", "overrule"):
        raise ValidationFailed([FieldProblem("outcome", _("请选择维持原决定或改为同意"))], _("仲裁意见有误"))
    share_requests.arbitrate_line(user, line, uphold=uphold, note=posted.get("note", ""))
    return _("已仲裁：维持原决定") if uphold else _("已仲裁：改为同意，授权已生成")


@login_required
@require_POST
def request_line_action(request: HttpRequest, request_id: int, line_id: int, step: str) -> HttpResponse:
    """A decision on one line: 通过审查, 同意 (item by item), 拒绝, 异议, 仲裁."""
    user = acting_user(request)
    share_request = _request_or_404(user, request_id)
    line = _line_or_404(user, share_request, line_id)
    action = step
    if action not in LINE_ACTIONS:
        raise Http404(_("没有这项操作"))
    try:
        done = _act(user, line, action, request.POST)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ValidationFailed as exc:
        # What was typed stays on the page, next to the message.
        messages.error(request, _problem_text(exc))
        share_request = _request_or_404(user, request_id)
        return _render_detail(request, user, share_request, sent=Sent(line.pk, action, request.POST), status=422)
    except (PermissionDenied, Conflict) as exc:
        messages.error(request, exc.text)
    else:
        messages.success(request, done)
    return redirect("sharing:request_detail", share_request.pk)


@login_required
@require_POST
def request_withdraw(request: HttpRequest, request_id: int) -> HttpResponse:
    user = acting_user(request)
    share_request = _request_or_404(user, request_id)
    try:
        share_requests.withdraw_request(user, share_request, reason=request.POST.get("reason", ""))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except (PermissionDenied, Conflict, ValidationFailed) as exc:
        messages.error(request, _problem_text(exc))
    else:
        messages.success(request, _("申请已撤回：审核中的资源不再办理，已作出的决定和授权不变"))
    return redirect("sharing:request_detail", share_request.pk)


# ------------------------------------------------------------------------------------------ queues


@login_required
@no_store
def request_review_queue(request: HttpRequest) -> HttpResponse:
    """Lines the user decides now (部门审核员, 共享协调员), most urgent first."""
    user = acting_user(request)
    if not user.has_role(Role.DEPT_REVIEWER, Role.COORDINATOR):
        raise Http404(_("只有部门审核员和共享协调员有待审核的申请"))
    today = scopes.clock()
    rows = [(line, share_requests.urgency(line, today)) for line in share_requests.review_queue(user)]
    return render(request, "sharing/request_review_queue.html", {"rows": rows, "today": today})


@login_required
@no_store
def request_overdue(request: HttpRequest) -> HttpResponse:
    """The coordinator's supervision: lines past their deadline (or with none computable), and disputes."""
    user = acting_user(request)
    if not user.has_role(Role.COORDINATOR):
        raise Http404(_("只有共享协调员督办逾期申请"))
    today = scopes.clock()
    overdue = [(line, share_requests.urgency(line, today)) for line in share_requests.overdue_lines(user, today)]
    context = {"overdue": overdue, "disputed": share_requests.disputed_lines(user), "today": today}
    return render(request, "sharing/request_overdue.html", context)


# ------------------------------------------------------------------------------------------ review stages


def _stage_rows(posted: QueryDict | None) -> list[dict[str, str]]:
    if posted is not None:
        return [
            {
                "name": posted.get(f"name-{i}", ""),
                "reviewer": posted.get(f"reviewer-{i}", ""),
                "days": posted.get(f"days-{i}", ""),
            }
            for i in range(STAGE_ROWS)
        ]
    rows = [
        {"name": stage.name, "reviewer": stage.reviewer, "days": str(stage.working_days)}
        for stage in ReviewStage.objects.filter(is_active=True).order_by("position")
    ]
    if not rows:
        rows = [{"name": "提供部门审核", "reviewer": StageReviewer.PROVIDER, "days": "10"}]
    return rows + [{"name": "", "reviewer": "", "days": ""}] * max(0, STAGE_ROWS - len(rows))


def _stages_from(posted: QueryDict, problems: list[FieldProblem]) -> list[share_requests.StageInput]:
    stages: list[share_requests.StageInput] = []
    for i in range(STAGE_ROWS):
        name = posted.get(f"name-{i}", "").strip()
        reviewer = posted.get(f"reviewer-{i}", "")
        days_text = posted.get(f"days-{i}", "").strip()
        if not (name or reviewer or days_text):
            continue
        days = _number(days_text, "stages", _("第 %(n)s 个环节的办理时限") % {"n": len(stages) + 1}, problems)
        stages.append(share_requests.StageInput(name=name, reviewer=reviewer, working_days=days or 0))
    return stages


@login_required
@no_store
def request_stages(request: HttpRequest) -> HttpResponse:
    """The review stages new requests pass: the coordinator replaces them; the platform administrator reads."""
    user = acting_user(request)
    may_change = user.has_role(Role.COORDINATOR)
    if not (may_change or user.has_role(Role.PLATFORM_ADMIN)):
        raise Http404(_("只有共享协调员可以设置审核环节"))
    context: dict[str, Any] = {"may_change": may_change, "reviewers": StageReviewer.choices, "problems": []}
    if request.method == "POST":
        try:
            problems: list[FieldProblem] = []
            stages = _stages_from(request.POST, problems)
            if problems:
                raise ValidationFailed(problems, _("审核环节设置有误"))
            share_requests.set_review_stages(user, stages)
        except ValidationFailed as exc:
            messages.error(request, exc.text)
            context.update(rows=_stage_rows(request.POST), problems=exc.problems)
            return render(request, "sharing/request_stages.html", context, status=422)
        except PermissionDenied as exc:
            messages.error(request, exc.text)
            return redirect("sharing:request_stages")
        messages.success(request, _("审核环节已更新：此后提交的申请按新环节办理，已提交的申请不受影响"))
        return redirect("sharing:request_stages")
    context["rows"] = _stage_rows(None)
    return render(request, "sharing/request_stages.html", context)
