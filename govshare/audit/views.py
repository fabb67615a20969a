"""The auditor's pages: the filtered, paged audit log with a CSV export, and the hash-chain verification."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govshare.audit import actions, chain, selectors, services
from govshare.audit.models import AuditLog
from govshare.core.authz import Subject, subject_of
from govshare.core.errors import ValidationFailed
from govshare.core.nostore import no_store
from govshare.core.pagination import page_number, paginate

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
# The quick ranges (今天, 近7天, 本月) count from this clock; tests set it to a fixed time.
clock: Callable[[], dt.datetime] = timezone.now
FILTER_FIELDS = ("actor", "action", "object_type", "object_id", "q", "since", "until")


def csv_response(queryset: QuerySet[AuditLog]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in selectors.csv_lines(queryset)), content_type=CSV_CONTENT_TYPE
    )
    filename = f"audit-log-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


_QUICK_LABELS = {"today": gettext_lazy("今天"), "7d": gettext_lazy("近7天"), "month": gettext_lazy("本月")}


def _quick_link(request: HttpRequest, quick: selectors.QuickRange) -> dict[str, object]:
    """A quick range as a link that keeps the other filters."""
    query = request.GET.copy()
    query.pop("page", None)
    query["since"], query["until"] = quick.since.isoformat(), quick.until.isoformat()
    current = request.GET.get("since") == query["since"] and request.GET.get("until") == query["until"]
    return {"label": _QUICK_LABELS[quick.key], "query": query.urlencode(), "current": current}


def _action_choices(wanted: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every known action grouped by app, and the one asked for even if no row and no app names it."""
    groups = actions.choices(selectors.action_names())
    offered = {code for _group, options in groups for code, _label in options}
    if wanted and actions.info(wanted).code not in offered:
        groups.append((_("其他"), [(wanted, wanted)]))
    return groups


def _auditor(request: HttpRequest) -> Subject:
    user = subject_of(request)
    if not selectors.can_read_audit_log(user):
        raise DjangoPermissionDenied(_("只有审计员可以查阅审计日志"))
    return user


@login_required
@no_store
def log_list(request: HttpRequest) -> HttpResponse:
    user = _auditor(request)
    params = {key: request.GET.get(key, "") for key in FILTER_FIELDS}
    problems: list[str] = []
    try:
        queryset = selectors.search(user, params)
    except ValidationFailed as exc:
        problems = [p.message for p in exc.problems]
        queryset = selectors.audit_log_for(user).none()
    page = paginate(queryset, page_number(request.GET.get("page")), None)
    export_query = request.GET.copy()
    export_query.pop("page", None)
    today = timezone.localdate(clock())
    context = {
        "page": page,
        "lines": selectors.log_lines(list(page.items)),
        "params": params,
        "problems": problems,
        "action_choices": _action_choices(params["action"]),
        "selected_action": actions.info(params["action"]).code if params["action"] else "",
        "quick_ranges": [_quick_link(request, r) for r in selectors.quick_ranges(today)],
        "export_query": export_query.urlencode(),
    }
    return render(request, "audit/log_list.html", context)


@login_required
@no_store
def log_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    user = _auditor(request)
    params = {key: request.GET.get(key, "") for key in FILTER_FIELDS}
    try:
        queryset = selectors.search(user, params)
    except ValidationFailed as exc:
        return HttpResponse("；".join(p.message for p in exc.problems), status=422, content_type="text/plain")
    services.record_audit_read(user, "audit.log.export", filters={k: v for k, v in params.items() if v})
    return csv_response(queryset)


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    user = _auditor(request)
    report = None
    if request.GET.get("run"):
        report = chain.verify_audit_chain()
        services.record_audit_read(
            user, selectors.VERIFY_ACTION, ok=report.ok, checked=report.checked, origin=selectors.ORIGIN_WEB
        )
    return render(request, "audit/verify.html", {"report": report})
