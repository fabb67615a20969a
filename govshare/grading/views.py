"""Grading pages: the security officer's queue (the department's proposals for everyone else), one change with
its decision forms, and the proposal posted from a resource page. Views parse input and call the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govshare.catalog import selectors as catalog_selectors
from govshare.catalog.views_resource import signed_in_user
from govshare.core.errors import DomainError, NotFound
from govshare.core.pagination import page_number, paginate
from govshare.grading import access, selectors, services
from govshare.grading.choices import ChangeStatus
from govshare.grading.models import GradingChange
from govshare.grading.schemas import MAX_ID


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    officer = access.is_security_officer(user)
    status = request.GET.get("status", ChangeStatus.PENDING if officer else "")
    if status not in ChangeStatus.values:
        status = ""
    resource = request.GET.get("resource", "")
    resource_id = int(resource) if resource.isdigit() and int(resource) <= MAX_ID else None
    changes = selectors.change_list(user, status=status, resource_id=resource_id)
    if officer and status == ChangeStatus.PENDING and resource_id is None:
        changes = selectors.review_queue(user)
    page = paginate(changes, page_number(request.GET.get("page")), None)
    context = {
        "page": page,
        "officer": officer,
        "status": status,
        "resource_id": resource_id,
        "statuses": ChangeStatus.choices,
        "section": "grading",
    }
    return render(request, "grading/queue.html", context)


def _change_or_404(request: HttpRequest, change_id: int) -> GradingChange:
    try:
        return selectors.get_change(signed_in_user(request), change_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def change_detail(request: HttpRequest, change_id: int) -> HttpResponse:
    user = signed_in_user(request)
    change = _change_or_404(request, change_id)
    effects: list[str] = []
    if change.status == ChangeStatus.PENDING:
        resource = change.resource
        effects = services.effects_of(change, resource, list(resource.items.order_by("position"))).describe()
    context = {
        "change": change,
        "may_decide": access.is_security_officer(user) and change.status == ChangeStatus.PENDING,
        "effects": effects,
        "section": "grading",
    }
    return render(request, "grading/change.html", context)


@login_required
@require_POST
def decide(request: HttpRequest, change_id: int, decision: str) -> HttpResponse:
    user = signed_in_user(request)
    change = _change_or_404(request, change_id)
    try:
        if decision == "approve":
            services.approve_grading_change(change, note=request.POST.get("note", ""), actor=user)
            messages.success(request, _("已批准，新的分级已生效：%(change)s") % {"change": change})
        elif decision == "reject":
            services.reject_grading_change(change, reason=request.POST.get("reason", ""), actor=user)
            messages.success(request, _("已驳回：%(change)s") % {"change": change})
        else:
            raise Http404(_("没有这个操作"))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("grading:change", change.pk)
    return redirect("grading:queue")


@login_required
@require_POST
def propose(request: HttpRequest, resource_id: int) -> HttpResponse:
    user = signed_in_user(request)
    if resource_id > MAX_ID:
        raise Http404(_("信息资源不存在或无权访问"))
    try:
        resource = catalog_selectors.get_resource(user, resource_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    detail = reverse("catalog:detail", args=[resource.pk]) + "#grading"
    try:
        change = services.propose_grading_change(
            resource,
            item_name=request.POST.get("item_name", ""),
            to_grade=request.POST.get("to_grade", ""),
            to_level=request.POST.get("to_level", ""),
            reason=request.POST.get("reason", ""),
            actor=user,
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(detail)
    messages.success(request, _("已提交分级调整申请，等待安全管理员审核：%(change)s") % {"change": change})
    return redirect(detail)
