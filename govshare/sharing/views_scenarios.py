"""Scenario pages: the department's scenarios (list with a status filter, the form, the detail with its history
and actions) and the coordinator's review queue. Views parse input and call the services (sharing.scenarios)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govshare.accounts.acting import acting_user
from govshare.accounts.models import User
from govshare.core.authz import permits
from govshare.core.errors import DomainError, NotFound, ValidationFailed
from govshare.core.pagination import page_number, paginate
from govshare.sharing import scenario_selectors as selectors
from govshare.sharing import scenarios as services
from govshare.sharing.access_scenarios import EDIT, RETIRE, REVIEW, is_coordinator, may_edit_for, sees_every_scenario
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.forms_scenarios import ScenarioForm
from govshare.sharing.models import Scenario

SEARCH_MAX = 100


def _scenario_or_404(user: User, scenario_id: int) -> Scenario:
    try:
        return selectors.get_scenario(user, scenario_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def scenario_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    status = request.GET.get("status", "")
    if status not in ScenarioStatus.values:
        status = ""
    search = request.GET.get("q", "").strip()[:SEARCH_MAX]
    page = paginate(
        selectors.scenarios_for(user, status=status, search=search), page_number(request.GET.get("page")), None
    )
    context = {
        "page": page,
        "status": status,
        "search": search,
        "statuses": ScenarioStatus.choices,
        "city_wide": sees_every_scenario(user),
        "may_register": may_edit_for(user, user.department_id),
    }
    return render(request, "sharing/scenario_list.html", context)


def _form_context(user: User, form: ScenarioForm, scenario: Scenario | None) -> dict[str, Any]:
    return {"form": form, "scenario": scenario, "item_names": selectors.item_name_suggestions()}


def _input(user: User, form: ScenarioForm, scenario: Scenario | None) -> services.ScenarioInput:
    data = form.cleaned_data
    department = scenario.department if scenario is not None else user.department
    assert department is not None
    return services.ScenarioInput(
        department=department,
        name=data["name"],
        description=data.get("description") or "",
        legal_basis=data.get("legal_basis") or "",
        system_ids=[system.pk for system in data.get("systems") or []],
        needed_items=form.items(),
    )


def _problems_to_form(form: ScenarioForm, exc: DomainError) -> None:
    problems = exc.problems if isinstance(exc, ValidationFailed) else []
    for problem in problems:
        form.add_error(problem.field if problem.field in form.fields else None, problem.message)
    if not problems:
        form.add_error(None, str(exc))


def _save(request: HttpRequest, user: User, form: ScenarioForm, scenario: Scenario | None) -> HttpResponse | None:
    try:
        if scenario is None:
            scenario = services.register_scenario(_input(user, form, None), actor=user)
        else:
            scenario = services.update_scenario(scenario, _input(user, form, scenario), actor=user)
    except DomainError as exc:
        _problems_to_form(form, exc)
        return None
    if request.POST.get("then") == "submit":
        try:
            services.submit_scenario(scenario, actor=user)
        except DomainError as exc:
            messages.error(request, _("已保存，但未能提交审核：%(error)s") % {"error": exc})
            return redirect("sharing:scenario_edit", scenario.pk)
        messages.success(request, _("已提交应用场景“%(name)s”，等待共享协调员审核。") % {"name": scenario.name})
    else:
        messages.success(request, _("已保存应用场景“%(name)s”（草稿）。") % {"name": scenario.name})
    return redirect("sharing:scenario_detail", scenario.pk)


@login_required
def scenario_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not may_edit_for(user, user.department_id):
        raise DjangoPermissionDenied(_("只有本部门的目录管理员或使用方可以登记应用场景"))
    form = ScenarioForm(request.POST or None, systems=selectors.selectable_systems(user))
    if request.method == "POST" and form.is_valid():
        done = _save(request, user, form, None)
        if done is not None:
            return done
    return render(request, "sharing/scenario_form.html", _form_context(user, form, None))


@login_required
def scenario_edit(request: HttpRequest, scenario_id: int) -> HttpResponse:
    user = acting_user(request)
    scenario = _scenario_or_404(user, scenario_id)
    if not permits(user, EDIT, scenario):
        messages.error(request, _("只有场景所属部门的目录管理员或使用方可以修改应用场景"))
        return redirect("sharing:scenario_detail", scenario.pk)
    if scenario.status not in services.EDITABLE:
        messages.error(request, _("只有草稿或被驳回的应用场景可以修改"))
        return redirect("sharing:scenario_detail", scenario.pk)
    initial = {
        "name": scenario.name,
        "description": scenario.description,
        "legal_basis": scenario.legal_basis,
        "systems": list(scenario.systems.all()),
        "needed_items": "\n".join(scenario.needed_items),
    }
    systems = selectors.selectable_systems(user, scenario.department_id)
    form = ScenarioForm(request.POST or None, initial=initial, systems=systems)
    if request.method == "POST" and form.is_valid():
        done = _save(request, user, form, scenario)
        if done is not None:
            return done
    return render(request, "sharing/scenario_form.html", _form_context(user, form, scenario))


@login_required
def scenario_detail(request: HttpRequest, scenario_id: int) -> HttpResponse:
    user = acting_user(request)
    scenario = _scenario_or_404(user, scenario_id)
    editable = permits(user, EDIT, scenario) and scenario.status in services.EDITABLE
    self_made = user.pk in (scenario.created_by_id, scenario.submitted_by_id)
    context = {
        "scenario": scenario,
        "systems": list(scenario.systems.all()),
        "history": list(selectors.scenario_history(scenario).select_related("actor")),
        "may_edit": editable,
        "may_submit": editable,
        "may_review": permits(user, REVIEW, scenario) and scenario.status == ScenarioStatus.SUBMITTED and not self_made,
        "self_review": permits(user, REVIEW, scenario) and scenario.status == ScenarioStatus.SUBMITTED and self_made,
        "may_retire": permits(user, RETIRE, scenario) and scenario.status == ScenarioStatus.APPROVED,
        "usable": services.scenario_is_usable(scenario),
    }
    return render(request, "sharing/scenario_detail.html", context)


@login_required
@require_POST
def scenario_action(request: HttpRequest, scenario_id: int, action: str) -> HttpResponse:
    user = acting_user(request)
    scenario = _scenario_or_404(user, scenario_id)
    try:
        if action == "submit":
            services.submit_scenario(scenario, actor=user)
            done = _("已提交，等待共享协调员审核。")
        elif action == "approve":
            services.approve_scenario(scenario, actor=user, note=request.POST.get("note", ""))
            done = _("已通过该应用场景。")
        elif action == "reject":
            services.reject_scenario(scenario, actor=user, reason=request.POST.get("reason", ""))
            done = _("已驳回该应用场景。")
        elif action == "retire":
            services.retire_scenario(scenario, actor=user, reason=request.POST.get("reason", ""))
            done = _("已停用该应用场景。")
        else:
            raise Http404(_("没有这个操作"))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("sharing:scenario_detail", scenario.pk)
    messages.success(request, done)
    if action in ("approve", "reject"):
        return redirect("sharing:scenario_review_queue")
    return redirect("sharing:scenario_detail", scenario.pk)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not is_coordinator(user):
        raise Http404(_("只有共享协调员可以审核应用场景"))
    page = paginate(selectors.review_queue(user), page_number(request.GET.get("page")), None)
    return render(request, "sharing/scenario_review_queue.html", {"page": page})
