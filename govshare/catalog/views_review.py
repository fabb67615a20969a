"""The platform administrator's review queue and every department's catalogue maintenance."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govshare.accounts import selectors as account_selectors
from govshare.accounts import services as account_services
from govshare.accounts.choices import Role
from govshare.catalog import access, batch_review, selectors, services_duplicates
from govshare.catalog import maintenance as upkeep
from govshare.catalog.selectors import ResourceFilters
from govshare.catalog.views_resource import _safe_next, signed_in_user
from govshare.core.errors import DomainError, NotFound
from govshare.core.nostore import no_store
from govshare.core.pagination import page_number, paginate
from govshare.core.tabular import csv as tabular_csv


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not access.can_review(user):
        raise Http404(_("页面不存在"))
    waiting = selectors.review_queue(user)
    # Departments with entries waiting, for the filter (one grouped query).
    departments = (
        waiting.order_by()
        .values("department__code", "department__name")
        .annotate(count=Count("pk"))
        .order_by("department__code")
    )
    department_code = request.GET.get("department", "").strip()
    query = request.GET.get("q", "").strip()
    queue = selectors.apply_filters(waiting, ResourceFilters(department_code=department_code))
    queue = selectors.search_review_queue(queue, query)
    # The reviewer sees at a glance which entries have a near-duplicate in another department.
    queue = queue.annotate(top_duplicate=Max("duplicate_candidates__score"))
    page = paginate(queue, page_number(request.GET.get("page")), None)
    context = {
        "page": page,
        "departments": list(departments),
        "department_code": department_code,
        "query": query,
        # Change requests (变更) of published entries wait in the same queue, marked as such.
        "revisions": list(selectors.revision_queue(user)[:200]),
    }
    return render(request, "catalog/review_queue.html", context)


@login_required
@require_POST
def review_batch(request: HttpRequest) -> HttpResponse:
    """Batch 发布 / 驳回 from the review queue (and 发布 of one row): the first POST shows the selected entries for
    confirmation; the POST with `confirm` acts on them all or none, through the same service as one entry."""
    user = signed_in_user(request)
    if not access.can_review(user):
        raise Http404(_("页面不存在"))
    queue_url = _safe_next(request, reverse("catalog:review_queue"))
    try:
        action = batch_review.check_action(request.POST.get("action", ""))
        ids = batch_review.parse_ids(request.POST.getlist("ids"))
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(queue_url)
    if not ids:
        messages.error(request, _("请先勾选要审核的资源"))
        return redirect(queue_url)
    reason = request.POST.get("reason", "").strip()
    error = ""
    if "confirm" in request.POST:
        try:
            done = batch_review.review_many(action, ids, actor=user, reason=reason)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            error = str(exc)
        else:
            text = _("已发布 %(n)d 条资源") if action == "publish" else _("已驳回 %(n)d 条资源，退回草稿")
            messages.success(request, text % {"n": len(done)})
            return redirect(queue_url)
    entries, refused = selectors.review_selection(user, ids)
    context = {
        "action": action,
        "entries": entries,
        "refused": refused,
        "refused_message": batch_review.refused_message(refused) if refused else "",
        "reason": reason,
        "error": error,
        "next": queue_url,
    }
    return render(request, "catalog/review_batch.html", context, status=409 if refused else 200)


@login_required
def maintenance(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    may_confirm = user.has_role(Role.CATALOG_ADMIN) and user.department is not None
    if request.method == "POST":
        if not may_confirm or user.department is None:
            raise DjangoPermissionDenied(_("只有本部门目录管理员可以确认目录全面维护"))
        try:
            account_services.confirm_catalog_maintenance(user.department, actor=user)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已确认%(name)s目录全面维护") % {"name": user.department.name})
        return redirect("catalog:maintenance")
    overdue = set(account_selectors.departments_overdue_for_maintenance().values_list("pk", flat=True))
    departments = list(account_selectors.department_list())
    context = {
        "departments": departments,
        "overdue": overdue,
        "overdue_count": sum(1 for d in departments if d.pk in overdue),
        "may_confirm": may_confirm,
    }
    return render(request, "catalog/maintenance.html", context)


@login_required
@require_POST
def duplicate_mark(request: HttpRequest, resource_id: int, similar_id: int, mark: bool) -> HttpResponse:
    """The reviewer marks a near-duplicate pair 不是重复 (mark) or takes the mark back."""
    user = signed_in_user(request)
    if not access.can_review(user):
        raise Http404(_("页面不存在"))
    try:
        if mark:
            services_duplicates.mark_not_duplicate(resource_id, similar_id, actor=user)
            messages.success(request, _("已标记为不是重复，这两条资源不再列为疑似重复"))
        else:
            services_duplicates.unmark_not_duplicate(resource_id, similar_id, actor=user)
            messages.success(request, _("已撤销“不是重复”标记，已重新计算相似度"))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("catalog:detail", args=[resource_id]) + "#duplicates")


def duplicate_dismiss(request: HttpRequest, resource_id: int, similar_id: int) -> HttpResponse:
    return duplicate_mark(request, resource_id, similar_id, True)


def duplicate_restore(request: HttpRequest, resource_id: int, similar_id: int) -> HttpResponse:
    return duplicate_mark(request, resource_id, similar_id, False)


# ---------------------------------------------------------------------------------------------- 更新维护 of entries


def _maintenance_filters(request: HttpRequest) -> upkeep.MaintenanceFilters:
    return upkeep.MaintenanceFilters(
        department_code=request.GET.get("department", "").strip()[:50],
        overdue_only=request.GET.get("overdue") == "1",
    )


@login_required
def maintenance_entries(request: HttpRequest) -> HttpResponse:
    """Published entries due or overdue for 更新维护, the longest overdue first, with filters, export and 提醒."""
    user = signed_in_user(request)
    if not upkeep.may_see(user):
        raise Http404(_("页面不存在"))
    filters = _maintenance_filters(request)
    now = timezone.now()
    queryset = upkeep.due_entries(user, filters, now=now)
    page = paginate(queryset, page_number(request.GET.get("page")), None)
    departments = (
        upkeep.due_entries(user, upkeep.MaintenanceFilters(), now=now)
        .order_by()
        .values("department__code", "department__name")
        .annotate(count=Count("pk"))
        .order_by("department__code")
    )
    context = {
        "page": page,
        "entries": [upkeep.due_entry(r, now) for r in page.items],
        "filters": filters,
        "departments": list(departments),
        "may_remind": access.can_review(user),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "catalog/maintenance_entries.html", context)


@login_required
@no_store
def maintenance_export(request: HttpRequest) -> StreamingHttpResponse:
    """The list as CSV (UTF-8 with BOM, formulas neutralised), with the page's scope and filters, every row."""
    user = signed_in_user(request)
    if not upkeep.may_see(user):
        raise Http404(_("页面不存在"))
    now = timezone.now()
    queryset = upkeep.due_entries(user, _maintenance_filters(request), now=now)
    lines = tabular_csv.csv_lines(upkeep.EXPORT_HEADERS, upkeep.export_rows(queryset, now))
    response = StreamingHttpResponse((line.encode("utf-8") for line in lines), content_type="text/csv; charset=utf-8")
    filename = f"更新维护-{timezone.localdate(now):%Y%m%d}.csv"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@login_required
@require_POST
def maintenance_remind(request: HttpRequest, resource_id: int) -> HttpResponse:
    user = signed_in_user(request)
    if not access.can_review(user):
        raise Http404(_("页面不存在"))
    try:
        reminder = upkeep.remind_department(resource_id, actor=user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已提醒%(department)s的 %(n)d 位目录管理员")
            % {"department": reminder.resource.department.name, "n": reminder.recipients},
        )
    return redirect(_safe_next(request, reverse("catalog:maintenance_entries")))
