"""The platform administrator's review queue and every department's catalogue maintenance."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from govshare.accounts import selectors as account_selectors
from govshare.accounts import services as account_services
from govshare.accounts.choices import Role
from govshare.catalog import access, selectors
from govshare.catalog.selectors import ResourceFilters
from govshare.catalog.views_resource import signed_in_user
from govshare.core.errors import DomainError
from govshare.core.pagination import page_number, paginate


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
    queue = selectors.apply_filters(waiting, ResourceFilters(department_code=department_code))
    # The reviewer sees at a glance which entries have a near-duplicate in another department.
    queue = queue.annotate(top_duplicate=Max("duplicate_candidates__score"))
    page = paginate(queue, page_number(request.GET.get("page")), None)
    context = {
        "page": page,
        "departments": list(departments),
        "department_code": department_code,
        # Change requests (变更) of published entries wait in the same queue, marked as such.
        "revisions": list(selectors.revision_queue(user)[:200]),
    }
    return render(request, "catalog/review_queue.html", context)


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
