"""Information-system pages (接入系统): the department's register (list, register, edit, stop) and its credentials
(issue, rotate, revoke; a secret is shown once, on the answer to the POST that made it, never again); the
platform administrator's and the coordinator's city-wide register, read-only for the coordinator: the inventory
zombie-system clean-up starts from (each system's latest credential use).

They live in identity, next to the model and its services: nothing here needs sharing. Sharing adds what it knows
(the scenarios a system serves) as a panel of the detail page (`SYSTEM_DETAIL`, govshare.core.panels), since
identity may not import it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from govshare.accounts.acting import acting_user
from govshare.accounts.models import Department, User
from govshare.core.authz import permits
from govshare.core.errors import DomainError, NotFound, ValidationFailed
from govshare.core.pagination import page_number, paginate
from govshare.identity import selectors, services
from govshare.identity.access import MANAGE, permits_system_management, sees_every_system
from govshare.identity.choices import Hosting, ProtectionLevel
from govshare.identity.forms_systems import DeactivateForm, RotateForm, SystemForm
from govshare.identity.models import InformationSystem, SystemCredential
from govshare.identity.panels import SYSTEM_DETAIL

MAX_ID = 2**31 - 1


def _system_or_404(user: User, system_id: int) -> InformationSystem:
    try:
        if system_id > MAX_ID:
            raise NotFound(selectors.SYSTEM_NOT_FOUND)
        return selectors.get_information_system(user, system_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _credential_or_404(user: User, system: InformationSystem, credential_id: int) -> SystemCredential:
    credential = selectors.credentials_of(user, system).filter(pk=credential_id).first()
    if credential is None:
        raise Http404(_("凭证不存在或无权访问"))
    return credential


def may_register(user: User) -> bool:
    """Registering from the pages: a department's catalogue administrator for the department, the platform
    administrator for any (choosing it)."""
    if permits_system_management(user, 0):  # the platform administrator: any department
        return True
    return user.department_id is not None and permits_system_management(user, user.department_id)


@login_required
def system_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    city_wide = sees_every_system(user)
    search = request.GET.get("q", "").strip()[:100]
    active = request.GET.get("active", "1")
    department = request.GET.get("department", "")
    department_id = int(department) if department.isdigit() and int(department) <= MAX_ID else None
    systems = selectors.system_register(user, search=search, department_id=department_id, active=active)
    page = paginate(systems, page_number(request.GET.get("page")), None)
    context = {
        "page": page,
        "city_wide": city_wide,
        "search": search,
        "active": active,
        "department_id": department_id,
        "departments": Department.objects.filter(is_active=True).order_by("code") if city_wide else [],
        "may_register": may_register(user),
        "stale_before": timezone.now() - dt.timedelta(days=90),
    }
    return render(request, "identity/systems/list.html", context)


def _input(form: SystemForm, department: Department, code: str) -> services.SystemInput:
    data = form.cleaned_data
    return services.SystemInput(
        code=code,
        name=data["name"],
        department=department,
        purpose=data.get("purpose") or "",
        contact_name=data.get("contact_name") or "",
        contact_phone=data.get("contact_phone") or "",
        protection_level=data.get("protection_level") or ProtectionLevel.UNRATED,
        hosting=data.get("hosting") or Hosting.UNKNOWN,
        allowed_networks=data.get("allowed_networks") or "",
    )


def _problems_to_form(form: SystemForm, exc: DomainError) -> None:
    problems = exc.problems if isinstance(exc, ValidationFailed) else []
    for problem in problems:
        form.add_error(problem.field if problem.field in form.fields else None, problem.message)
    if not problems:
        form.add_error(None, str(exc))


@login_required
def system_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not may_register(user):
        raise Http404(_("只有本部门的目录管理员可以登记接入系统"))
    # The platform administrator registers for any department (chooses it); a catalogue administrator for theirs.
    choose = permits_system_management(user, 0)
    form = SystemForm(request.POST or None, choose_department=choose)
    if request.method == "POST" and form.is_valid():
        department = form.cleaned_data["department"] if choose else user.department
        assert department is not None
        try:
            system = services.register_information_system(
                _input(form, department, form.cleaned_data["code"]), actor=user
            )
        except DomainError as exc:
            _problems_to_form(form, exc)
        else:
            messages.success(request, _("已登记接入系统“%(system)s”，可以为它签发凭证。") % {"system": system})
            return redirect("systems:system_detail", system.pk)
    return render(request, "identity/systems/form.html", {"form": form, "system": None})


@login_required
def system_edit(request: HttpRequest, system_id: int) -> HttpResponse:
    user = acting_user(request)
    system = _system_or_404(user, system_id)
    if not permits(user, MANAGE, system):
        messages.error(request, _("只有系统所属部门的目录管理员或平台管理员可以修改接入系统"))
        return redirect("systems:system_detail", system.pk)
    initial = {name: getattr(system, name) for name in SystemForm.base_fields}
    form = SystemForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_information_system(system, _input(form, system.department, system.code), actor=user)
        except DomainError as exc:
            _problems_to_form(form, exc)
        else:
            messages.success(request, _("已保存接入系统“%(system)s”。") % {"system": system})
            return redirect("systems:system_detail", system.pk)
    return render(request, "identity/systems/form.html", {"form": form, "system": system})


@login_required
def system_detail(request: HttpRequest, system_id: int) -> HttpResponse:
    user = acting_user(request)
    system = _system_or_404(user, system_id)
    now = timezone.now()
    credentials = [
        {"credential": credential, "state": credential.state_at(now)}
        for credential in selectors.credentials_of(user, system)
    ]
    context: dict[str, Any] = {
        "system": system,
        "credentials": credentials,
        "may_manage": permits(user, MANAGE, system) and system.is_active,
        "deactivate_form": DeactivateForm(),
        "rotate_form": RotateForm(),
        "panel_page": SYSTEM_DETAIL,
    }
    return render(request, "identity/systems/detail.html", context)


@login_required
@require_POST
def system_deactivate(request: HttpRequest, system_id: int) -> HttpResponse:
    user = acting_user(request)
    system = _system_or_404(user, system_id)
    try:
        services.deactivate_information_system(system, actor=user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已停用接入系统“%(system)s”，它的全部凭证已吊销。") % {"system": system})
    return redirect("systems:system_detail", system.pk)


def _secret_page(
    request: HttpRequest, system: InformationSystem, credential: SystemCredential, secret: str
) -> HttpResponse:
    """The one time a secret is shown: in the answer to the POST that issued it (no-store, never in a session or a
    message, so that neither reloading the detail page nor the browser's history brings it back)."""
    context = {"system": system, "credential": credential, "secret": secret}
    return render(request, "identity/systems/secret.html", context)


@never_cache
@login_required
@require_POST
def credential_issue(request: HttpRequest, system_id: int) -> HttpResponse:
    user = acting_user(request)
    system = _system_or_404(user, system_id)
    try:
        credential, secret = services.issue_system_credential(system, actor=user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("systems:system_detail", system.pk)
    return _secret_page(request, system, credential, secret)


@never_cache
@login_required
@require_POST
def credential_rotate(request: HttpRequest, system_id: int, credential_id: int) -> HttpResponse:
    user = acting_user(request)
    system = _system_or_404(user, system_id)
    credential = _credential_or_404(user, system, credential_id)
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择旧凭证的过渡期"))
        return redirect("systems:system_detail", system.pk)
    try:
        successor, secret = services.rotate_system_credential(
            credential, actor=user, overlap=dt.timedelta(days=form.cleaned_data["overlap_days"])
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("systems:system_detail", system.pk)
    return _secret_page(request, system, successor, secret)


@login_required
@require_POST
def credential_revoke(request: HttpRequest, system_id: int, credential_id: int) -> HttpResponse:
    user = acting_user(request)
    system = _system_or_404(user, system_id)
    credential = _credential_or_404(user, system, credential_id)
    try:
        services.revoke_system_credential(credential, actor=user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已吊销凭证 %(client_id)s。") % {"client_id": credential.application.client_id})
    return redirect("systems:system_detail", system.pk)
