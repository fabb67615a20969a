"""Pages of the three lists (需求清单, 责任清单, 负面清单): thin views over the services and selectors. Objects
outside the user's scope answer 404; a step the user may not take answers 403, or comes back to the page with
the reason."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govshare.accounts.models import Department, User
from govshare.catalog import importing
from govshare.catalog.models import Resource
from govshare.core.authz import can, permits
from govshare.core.errors import DomainError, FieldProblem, NotFound, ValidationFailed
from govshare.core.pagination import page_number, paginate
from govshare.sharing import demands, duties, lists_io, negative
from govshare.sharing.access_lists import ANSWER, CREATE_DEMAND, MANAGE, MANAGE_DUTIES, city_wide
from govshare.sharing.choices import DemandStatus
from govshare.sharing.list_files import MAX_REPORTED_PROBLEMS, ListImportResult, refuse_too_large, xlsx_response
from govshare.sharing.models import Demand, Duty
from govshare.sharing.panels_requests import APPLY, request_state


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required guarantees a real account
    return user


def _departments() -> list[Department]:
    return list(Department.objects.filter(is_active=True).order_by("code").only("code", "name"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _place(form: forms.Form, error: ValidationFailed, fields: dict[str, str]) -> None:
    for problem in error.problems:
        name = fields.get(problem.field)
        form.add_error(name if name in form.fields else None, problem.message)


# ---------------------------------------------------------------------------------------------- demands


def _demand_filters(request: HttpRequest) -> demands.DemandFilters:
    get = request.GET
    scenario = get.get("scenario", "")
    return demands.DemandFilters(
        status=get.get("status", "") if get.get("status", "") in DemandStatus.values else "",
        department_code=get.get("department", "").strip(),
        provider_code=get.get("provider", "").strip(),
        scenario_id=int(scenario) if scenario.isdigit() else None,
        q=get.get("q", "").strip()[:100],
        side=get.get("side", "") if get.get("side", "") in ("own", "received") else "",
    )


@login_required
@require_GET
def demand_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = _demand_filters(request)
    page = paginate(demands.demands_for(user, filters), page_number(request.GET.get("page")), None)
    return render(
        request,
        "sharing/demand_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": DemandStatus.choices,
            "departments": _departments() if city_wide(user) else [],
            "scenarios": list(demands.scenarios_for_demands(user.department_id)),
            "may_create": can(user, CREATE_DEMAND),
            "query": _query_without_page(request),
        },
    )


class DemandForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("需求名称"), max_length=200)
    description = forms.CharField(label=gettext_lazy("需求描述"), widget=forms.Textarea(attrs={"rows": 4}))
    needed_items = forms.CharField(
        label=gettext_lazy("所需信息项"),
        required=False,
        help_text=gettext_lazy("多个信息项以“、”分隔"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    provider_code = forms.ChoiceField(label=gettext_lazy("提供部门"), required=False)
    scenario_id = forms.TypedChoiceField(label=gettext_lazy("应用场景"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, department_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        providers = [("", _("不清楚，由共享协调员对接"))]
        providers += [(d.code, d.name) for d in _departments() if d.pk != department_id]
        scenarios: list[tuple[Any, str]] = [("", _("（暂不指定）"))]
        scenarios += [(s.pk, s.name) for s in demands.scenarios_for_demands(department_id)]
        cast(forms.ChoiceField, self.fields["provider_code"]).choices = providers
        cast(forms.ChoiceField, self.fields["scenario_id"]).choices = scenarios

    def to_input(self) -> demands.DemandInput:
        data = self.cleaned_data
        return demands.DemandInput(
            title=data["title"],
            description=data["description"],
            needed_items=lists_io.split_items(data.get("needed_items") or ""),
            provider_code=data.get("provider_code") or "",
            scenario_id=data.get("scenario_id"),
        )


_DEMAND_FORM_FIELDS = {name: name for name in ("title", "description", "needed_items", "provider_code", "scenario_id")}


def _demand_or_404(user: User, demand_id: int) -> Demand:
    try:
        return demands.get_demand(user, demand_id)
    except NotFound as exc:
        raise Http404(exc.text) from exc


@login_required
@require_http_methods(["GET", "POST"])
def demand_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not can(user, CREATE_DEMAND):
        raise DjangoPermissionDenied(_("只有部门的使用方或目录管理员可以登记本部门的需求"))
    form = DemandForm(request.POST or None, department_id=user.department_id)
    if request.method == "POST" and form.is_valid():
        try:
            demand = demands.create_demand(form.to_input(), actor=user)
        except ValidationFailed as exc:
            _place(form, exc, _DEMAND_FORM_FIELDS)
        else:
            messages.success(request, _("需求已登记"))
            return redirect("sharing:demand_detail", demand.pk)
    return render(request, "sharing/demand_form.html", {"form": form, "demand": None})


@login_required
@require_http_methods(["GET", "POST"])
def demand_edit(request: HttpRequest, demand_id: int) -> HttpResponse:
    user = _user(request)
    demand = _demand_or_404(user, demand_id)
    if not permits(user, "edit", demand):
        raise DjangoPermissionDenied(_("只有需求部门的使用方或目录管理员可以修改本部门的需求"))
    if not demands.may_edit(user, demand):
        messages.error(request, _("需求已答复或已关闭，不能修改"))
        return redirect("sharing:demand_detail", demand.pk)
    initial = {
        "title": demand.title,
        "description": demand.description,
        "needed_items": "、".join(demand.needed_items),
        "provider_code": demand.provider.code if demand.provider else "",
        "scenario_id": demand.scenario_id or "",
    }
    form = DemandForm(request.POST or None, initial=initial, department_id=demand.department_id)
    if request.method == "POST" and form.is_valid():
        try:
            demands.update_demand(demand, form.to_input(), actor=user)
        except ValidationFailed as exc:
            _place(form, exc, _DEMAND_FORM_FIELDS)
        except DomainError as exc:
            messages.error(request, exc.text)
            return redirect("sharing:demand_detail", demand.pk)
        else:
            messages.success(request, _("需求已保存"))
            return redirect("sharing:demand_detail", demand.pk)
    return render(request, "sharing/demand_form.html", {"form": form, "demand": demand})


@login_required
@require_GET
def demand_detail(request: HttpRequest, demand_id: int) -> HttpResponse:
    user = _user(request)
    demand = _demand_or_404(user, demand_id)
    may_answer = demands.may_answer(user, demand)
    return render(
        request,
        "sharing/demand_detail.html",
        {
            "demand": demand,
            "may_edit": demands.may_edit(user, demand),
            "may_answer": may_answer,
            "may_ask": may_answer and demand.status in (DemandStatus.OPEN, DemandStatus.CATALOGUE_REQUESTED),
            "may_close": demands.may_close(user, demand),
            "may_request": _may_request(user, demand),
            "departments": _departments() if may_answer and demand.provider_id is None else [],
        },
    )


def _may_request(user: User, demand: Demand) -> bool:
    """The demanding department's consumer may ask for the resource a demand was answered with."""
    resource = demand.resource
    return (
        demand.status == DemandStatus.ANSWERED
        and resource is not None
        and user.department_id == demand.department_id
        and request_state(user, resource) == APPLY
    )


@login_required
@require_POST
def demand_action(request: HttpRequest, demand_id: int, action: str) -> HttpResponse:
    user = _user(request)
    demand = _demand_or_404(user, demand_id)
    post = request.POST
    if action in ("answer", "ask-catalogue") and not permits(user, ANSWER, demand):
        raise DjangoPermissionDenied(_("只有提供部门的目录管理员、共享协调员或平台管理员可以答复需求"))
    try:
        if action == "answer":
            code = post.get("resource_code", "").strip()
            resource = Resource.objects.filter(code=code).first()
            if resource is None:
                raise ValidationFailed([FieldProblem("resource", _("请选择一条已发布的信息资源"))])
            demands.answer_demand(demand, resource=resource, note=post.get("note", ""), actor=user)
            messages.success(request, _("已以该资源答复需求"))
        elif action == "ask-catalogue":
            demands.ask_to_catalogue(
                demand, note=post.get("note", ""), provider_code=post.get("provider_code", ""), actor=user
            )
            messages.success(request, _("已通知提供部门的目录管理员编目"))
        elif action == "close":
            demands.close_demand(demand, reason=post.get("reason", ""), actor=user)
            messages.success(request, _("需求已关闭"))
        else:
            raise Http404(_("页面不存在"))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.text) from exc
        if exc.status == 403:
            raise DjangoPermissionDenied(exc.text) from exc
        problems = "；".join(p.message for p in exc.problems)
        messages.error(request, problems or exc.text)
    return redirect("sharing:demand_detail", demand.pk)


# ---------------------------------------------------------------------------------------------- duties


def _duty_filters(request: HttpRequest) -> duties.DutyFilters:
    get = request.GET
    return duties.DutyFilters(
        department_code=get.get("department", "").strip(),
        unmet=get.get("unmet") == "1",
        q=get.get("q", "").strip()[:100],
    )


@login_required
@require_GET
def duty_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = _duty_filters(request)
    page = paginate(duties.duties_for(user, filters), page_number(request.GET.get("page")), None)
    wide = city_wide(user)
    return render(
        request,
        "sharing/duty_list.html",
        {
            "page": page,
            "rows": [(duty, duties.is_met(duty)) for duty in page.items],
            "filters": filters,
            "departments": _departments() if wide else [],
            "summary": duties.unmet_by_department(user) if wide else [],
            "may_manage": can(user, MANAGE_DUTIES),
            "query": _query_without_page(request),
        },
    )


class DutyForm(forms.Form):
    department_code = forms.ChoiceField(label=gettext_lazy("责任部门"))
    name = forms.CharField(label=gettext_lazy("资源名称"), max_length=200)
    description = forms.CharField(label=gettext_lazy("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    legal_basis = forms.CharField(label=gettext_lazy("依据"), widget=forms.Textarea(attrs={"rows": 3}))
    resource_code = forms.CharField(
        label=gettext_lazy("对应资源代码"),
        required=False,
        max_length=16,
        help_text=gettext_lazy("履行该责任的本部门目录资源；空白表示尚无"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["department_code"]).choices = [(d.code, d.name) for d in _departments()]

    def to_input(self) -> duties.DutyInput:
        return duties.DutyInput(**self.cleaned_data)


_DUTY_FORM_FIELDS = {name: name for name in ("department_code", "name", "description", "legal_basis", "resource_code")}


def _duty_or_404(user: User, duty_id: int) -> Duty:
    try:
        return duties.get_duty(user, duty_id)
    except NotFound as exc:
        raise Http404(exc.text) from exc


@login_required
@require_http_methods(["GET", "POST"])
def duty_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not can(user, MANAGE_DUTIES):
        raise DjangoPermissionDenied(_("只有共享协调员或平台管理员可以设定责任清单"))
    form = DutyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            duty = duties.create_duty(form.to_input(), actor=user)
        except ValidationFailed as exc:
            _place(form, exc, _DUTY_FORM_FIELDS)
        else:
            messages.success(request, _("责任已设定"))
            return redirect("sharing:duty_detail", duty.pk)
    return render(request, "sharing/duty_form.html", {"form": form, "duty": None})


@login_required
@require_http_methods(["GET", "POST"])
def duty_edit(request: HttpRequest, duty_id: int) -> HttpResponse:
    user = _user(request)
    duty = _duty_or_404(user, duty_id)
    if not permits(user, MANAGE, duty):
        raise DjangoPermissionDenied(_("只有共享协调员或平台管理员可以设定责任清单"))
    initial = {
        "department_code": duty.department.code,
        "name": duty.name,
        "description": duty.description,
        "legal_basis": duty.legal_basis,
        "resource_code": duty.resource.code if duty.resource else "",
    }
    form = DutyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            duties.update_duty(duty, form.to_input(), actor=user)
        except ValidationFailed as exc:
            _place(form, exc, _DUTY_FORM_FIELDS)
        else:
            messages.success(request, _("责任已保存"))
            return redirect("sharing:duty_detail", duty.pk)
    return render(request, "sharing/duty_form.html", {"form": form, "duty": duty})


@login_required
@require_GET
def duty_detail(request: HttpRequest, duty_id: int) -> HttpResponse:
    user = _user(request)
    duty = _duty_or_404(user, duty_id)
    return render(
        request,
        "sharing/duty_detail.html",
        {
            "duty": duty,
            "met": duties.is_met(duty),
            "may_manage": permits(user, MANAGE, duty),
            "may_fulfil": duties.may_fulfil(user, duty),
        },
    )


@login_required
@require_POST
def duty_action(request: HttpRequest, duty_id: int, action: str) -> HttpResponse:
    user = _user(request)
    duty = _duty_or_404(user, duty_id)
    try:
        if action == "fulfil":
            duties.fulfil_duty(duty, resource_code=request.POST.get("resource_code", ""), actor=user)
            messages.success(request, _("已更新履责的目录资源"))
        elif action == "delete":
            duties.delete_duty(duty, actor=user)
            messages.success(request, _("责任已删除"))
            return redirect("sharing:duty_list")
        else:
            raise Http404(_("页面不存在"))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.text) from exc
        if exc.status == 403:
            raise DjangoPermissionDenied(exc.text) from exc
        messages.error(request, "；".join(p.message for p in exc.problems) or exc.text)
    return redirect("sharing:duty_detail", duty.pk)


# ---------------------------------------------------------------------------------------------- negative list


def _negative_filters(request: HttpRequest) -> negative.NegativeFilters:
    return negative.NegativeFilters(
        department_code=request.GET.get("department", "").strip(), q=request.GET.get("q", "").strip()[:100]
    )


@login_required
@require_GET
def negative_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = paginate(
        negative.negative_list(user, _negative_filters(request)), page_number(request.GET.get("page")), None
    )
    states = negative.open_revision_states([r.pk for r in page.items])
    return render(
        request,
        "sharing/negative_list.html",
        {
            "page": page,
            "rows": [(r, states.get(r.pk, "")) for r in page.items],
            "filters": _negative_filters(request),
            "departments": _departments(),
            "query": _query_without_page(request),
        },
    )


# ---------------------------------------------------------------------------------------------- files

_LIST_PAGES = {"demands": "sharing:demand_list", "duties": "sharing:duty_list", "negative": "sharing:negative_list"}


@login_required
@require_GET
def list_export(request: HttpRequest, key: str) -> HttpResponseBase:
    user = _user(request)
    layout = lists_io.LAYOUTS[key]
    if key == "demands":
        return xlsx_response(layout, lists_io.demand_rows(demands.demands_for(user, _demand_filters(request))))
    if key == "duties":
        return xlsx_response(layout, lists_io.duty_rows(duties.duties_for(user, _duty_filters(request))))
    return xlsx_response(layout, lists_io.negative_rows(negative.negative_list(user, _negative_filters(request))))


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def list_import(request: HttpRequest, key: str) -> HttpResponse:
    """Upload form and report. The size limit goes in front of the multipart parser before the CSRF check (which
    reads the form), as on the catalogue's import page."""
    limit = importing.limit_upload(request) if request.method == "POST" else None
    return _list_import(request, key, limit)


@csrf_protect
def _list_import(request: HttpRequest, key: str, limit: importing.UploadSizeLimit | None) -> HttpResponse:
    user = _user(request)
    layout = lists_io.LAYOUTS[key]
    result: ListImportResult | None = None
    missing_file = False
    if request.method == "POST" and limit is not None:
        upload = request.FILES.get("file")
        if limit.exceeded:
            result = refuse_too_large(layout, file_name=limit.upload_name, size=limit.size, actor=user)
        elif upload is None:
            missing_file = True
        else:
            result = lists_io.IMPORTERS[key](upload, file_name=upload.name or "", actor=user)
    status = 422 if result is not None and not result.imported else 400 if missing_file else 200
    return render(
        request,
        "sharing/list_import.html",
        {
            "layout": layout,
            "key": key,
            "list_url": _LIST_PAGES[key],
            "result": result,
            "problems": result.problems[:MAX_REPORTED_PROBLEMS] if result else [],
            "max_reported": MAX_REPORTED_PROBLEMS,
            "missing_file": missing_file,
            "max_megabytes": f"{settings.GOVSHARE.import_max_bytes / (1024 * 1024):g}",
        },
        status=status,
    )
