"""The auditor's pages: the filtered, paged audit log with a CSV export, and the hash-chain verification."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from govshare.audit import chain, selectors, services
from govshare.audit.models import AuditLog
from govshare.core.authz import Subject, subject_of
from govshare.core.errors import ValidationFailed
from govshare.core.nostore import no_store
from govshare.core.pagination import page_number, paginate

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
FILTER_FIELDS = ("actor", "action", "object_type", "object_id", "q", "since", "until")


def csv_response(queryset: QuerySet[AuditLog]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in selectors.csv_lines(queryset)), content_type=CSV_CONTENT_TYPE
    )
    filename = f"audit-log-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


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
    context = {
        "page": page,
        "params": params,
        "problems": problems,
        "actions": selectors.action_names(),
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
    services.record_audit_read(user, "audit.export", filters={k: v for k, v in params.items() if v})
    return csv_response(queryset)


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    user = _auditor(request)
    report = None
    if request.GET.get("run"):
        report = chain.verify_audit_chain()
        services.record_audit_read(user, "audit.verify", ok=report.ok, checked=report.checked)
    return render(request, "audit/verify.html", {"report": report})
