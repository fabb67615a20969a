"""The gateway's pages: 我的接口 (a consumer department's callable grants and each one's generated API
documentation), 调用情况 (who calls the provider's resources) and the auditor's 按查询键追溯.

They live under /gateway/ beside the consumer systems' service, never under /gateway/v1/ (the gateway's own
handler serves that path before Django sees it)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from govshare.accounts.acting import acting_user
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.nostore import no_store
from govshare.core.pagination import page_number, paginate
from govshare.datasets import scopes
from govshare.gateway import delivery, docs, forms, provider_services, proxied, selectors, tracing
from govshare.gateway.choices import Breaker
from govshare.gateway.errors import catalogue
from govshare.gateway.forms import ProviderServiceForm
from govshare.sharing import grants


def _tabs(user: User) -> dict[str, bool]:
    return {
        "may_use_apis": selectors.may_use_apis(user),
        "may_see_calls": selectors.may_see_calls(user),
        "may_see_providers": selectors.may_see_provider_services(user),
    }


def _item_rules(items: list[str], granted: frozenset[str], masking: dict[str, str]) -> list[tuple[str, str]]:
    """The granted items (those still shareable), each with how it is masked."""
    return [(name, str(docs.RULE_LABELS.get(masking.get(name, ""), _("不脱敏")))) for name in items if name in granted]


@login_required
def api_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not selectors.may_use_apis(user):
        raise DjangoPermissionDenied(_("只有使用部门的使用方和部门目录管理员可以查看本部门的接口"))
    today = scopes.clock()
    page = paginate(selectors.api_grants(user), page_number(request.GET.get("page")), None)
    rows = []
    for grant in page.items:
        granted, masking = grants.scope_terms(grant)
        rows.append(
            {
                "grant": grant,
                "figures": grants.as_row(grant, today),
                "systems": selectors.calling_systems(grant),
                "items": _item_rules(grant.items, granted, masking),
            }
        )
    return render(request, "gateway/api_list.html", {"page": page, "rows": rows, **_tabs(user)})


@login_required
@no_store
def api_detail(request: HttpRequest, grant_id: int) -> HttpResponse:
    user = acting_user(request)
    try:
        grant = selectors.get_api_grant(user, grant_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    today = scopes.clock()
    granted, masking = grants.scope_terms(grant)
    items = [name for name in grant.items if name in granted]
    keys = selectors.lookup_keys(grant, granted)
    systems = selectors.calling_systems(grant)
    api_docs = docs.build_docs(
        base_url=request.build_absolute_uri("/"),
        resource_id=grant.resource_id,
        scenario_id=grant.scenario_id,
        grant_id=grant.pk,
        items=items,
        masking=masking,
        keys=keys or [],
    )
    provider = selectors.active_provider_service(grant.resource_id)
    proxied_docs = (
        docs.build_proxied_docs(
            base_url=request.build_absolute_uri("/"),
            resource_id=grant.resource_id,
            scenario_id=grant.scenario_id,
            grant_id=grant.pk,
            items=items,
            masking=masking,
            operations=[(op.name, tuple(dict.fromkeys(op.params.values()))) for op in proxied.operations_of(provider)],
        )
        if provider is not None
        else None
    )
    usage = selectors.daily_calls([grant.pk], today)[grant.pk]
    context = {
        "proxied": proxied_docs,
        "grant": grant,
        "figures": grants.as_row(grant, today),
        "systems": systems,
        "items": _item_rules(items, granted, masking),
        "servable": keys is not None,
        "docs": api_docs,
        "errors": catalogue(),
        "usage": usage,
        "usage_peak": max([day.calls for day in usage] + [1]),
        "refusals": selectors.refusals(grant, systems, timezone.now()),
        "usage_days": selectors.USAGE_DAYS,
        "refusal_days": selectors.REFUSAL_DAYS,
    }
    return render(request, "gateway/api_detail.html", context)


@login_required
def call_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not selectors.may_see_calls(user):
        raise DjangoPermissionDenied(_("只有数据提供部门的部门审核员和部门目录管理员可以查看调用情况"))
    today = scopes.clock()
    page = paginate(selectors.called_grants(user), page_number(request.GET.get("page")), None)
    usage = selectors.daily_calls([grant.pk for grant in page.items], today)
    rows = [
        {
            "grant": grant,
            "figures": grants.as_row(grant, today),
            "systems": selectors.calling_systems(grant),
            "usage": usage[grant.pk],
            "total": sum(day.calls for day in usage[grant.pk]),
        }
        for grant in page.items
    ]
    days = usage[page.items[0].pk] if page.items else []
    context = {"page": page, "rows": rows, "days": days, "usage_days": selectors.USAGE_DAYS, **_tabs(user)}
    return render(request, "gateway/call_list.html", context)


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def key_search(request: HttpRequest) -> HttpResponse:
    """The key travels in the POST body only: never in a URL, the access log or a browser's history."""
    user = acting_user(request)
    if not selectors.may_trace_keys(user):
        raise DjangoPermissionDenied(_("只有审计员可以按查询键追溯网关调用"))
    context: dict[str, object] = {"key": "", "page": None, "problems": []}
    if request.method == "POST":
        key = request.POST.get("key", "")
        context["key"] = key.strip()
        try:
            context["page"] = tracing.trace_key(user, key, page=page_number(request.POST.get("page")))
        except ValidationFailed as exc:
            context["problems"] = [problem.message for problem in exc.problems]
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.text) from exc
    return render(request, "gateway/key_search.html", context)


# ---------------------------------------------------------------------------------------------- provider services


@login_required
def provider_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not selectors.may_see_provider_services(user):
        raise DjangoPermissionDenied(_("只有数据提供部门的部门目录管理员、部门审核员和平台管理员可以查看提供部门接口"))
    page = paginate(selectors.provider_services(user), page_number(request.GET.get("page")), None)
    rows = [{"service": service, "breaker": _breaker_label(service.pk)} for service in page.items]
    context = {"page": page, "rows": rows, "may_register": provider_services.may_register(user), **_tabs(user)}
    return render(request, "gateway/provider_list.html", context)


def _breaker_label(service_id: int) -> str:
    return str(Breaker(proxied.breaker_state(service_id)).label)


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def provider_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not provider_services.may_register(user):
        raise DjangoPermissionDenied(_(provider_services.MANAGERS_ONLY))
    form = ProviderServiceForm(request.POST or None, resources=selectors.registrable_resources(user))
    if request.method == "POST" and form.is_valid():
        data = form.to_input(form.cleaned_data["resource"].pk)
        if data is not None:
            try:
                service = provider_services.register_provider_service(data, actor=user)
            except ValidationFailed as exc:
                form.place(exc)
            except (NotFound, Conflict, PermissionDenied) as exc:
                form.add_error(None, exc.text)
            else:
                messages.success(request, _("提供部门接口已登记"))
                return redirect("gateway:provider_detail", service.pk)
    return render(request, "gateway/provider_form.html", {"form": form, "service": None})


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def provider_detail(request: HttpRequest, service_id: int) -> HttpResponse:
    user = acting_user(request)
    try:
        service = selectors.get_provider_service(user, service_id)
    except NotFound as exc:
        raise Http404(exc.text) from exc
    may_edit = provider_services.may_register(user) and (
        user.has_role(Role.PLATFORM_ADMIN) or user.department_id == service.resource.department_id
    )
    form = ProviderServiceForm(request.POST or None, service=service, initial=forms.initial_of(service))
    if request.method == "POST":
        if not may_edit:
            raise DjangoPermissionDenied(_(provider_services.MANAGERS_ONLY))
        if form.is_valid():
            data = form.to_input(service.resource_id)
            if data is not None:
                try:
                    provider_services.update_provider_service(service, data, actor=user)
                except ValidationFailed as exc:
                    form.place(exc)
                except (Conflict, PermissionDenied) as exc:
                    form.add_error(None, exc.text)
                else:
                    messages.success(request, _("提供部门接口已保存"))
                    return redirect("gateway:provider_detail", service.pk)
    context = {
        "service": service,
        "form": form,
        "may_edit": may_edit,
        "breaker": _breaker_label(service.pk),
        "calls": selectors.proxied_calls(service, limit=20),
    }
    return render(request, "gateway/provider_detail.html", context)


@login_required
def delivery_list(request: HttpRequest) -> HttpResponse:
    """数据交付: the deliveries of the user's department (as consumer) and of its resources (as provider), each with
    its last run."""
    user = acting_user(request)
    page = paginate(delivery.deliveries_for(user), page_number(request.GET.get("page")), None)
    rows = [{"delivery": found, "last": delivery.runs_of(found).first()} for found in page.items]
    return render(request, "gateway/delivery_list.html", {"page": page, "rows": rows, **_tabs(user)})


@login_required
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """One delivery and its runs (newest first, paged): version, rows written and deleted, status, error."""
    user = acting_user(request)
    try:
        found = delivery.get_delivery(user, delivery_id)
    except NotFound:
        raise Http404 from None
    page = paginate(delivery.runs_of(found), page_number(request.GET.get("page")), None)
    may_run = found.department_id == user.department_id and user.has_role(Role.CATALOG_ADMIN)
    context = {"delivery": found, "page": page, "may_run": may_run, **_tabs(user)}
    return render(request, "gateway/delivery_detail.html", context)


@login_required
@require_http_methods(["POST"])
def delivery_run(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """立即执行: the run is queued; its row appears on the page once the worker starts it."""
    user = acting_user(request)
    try:
        found = delivery.get_delivery(user, delivery_id)
        delivery.request_run(found, actor=user)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("已加入执行队列，稍后刷新页面查看执行结果"))
    return redirect("gateway:delivery_detail", found.pk)
