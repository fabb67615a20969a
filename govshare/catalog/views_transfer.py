"""Import and export pages: thin views over govshare.catalog.importing and exporting."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from govshare.accounts.acting import acting_user
from govshare.accounts.models import User
from govshare.catalog import exporting, importing
from govshare.core.errors import NotFound, ValidationFailed
from govshare.core.pagination import page_number

RECENT_BATCHES = 10
# The import page lists this many of the entries it created; the batch page lists them all (paged).
CREATED_SHOWN = 50
BATCH_PAGE_SIZE = 100


def _may_import_or_403(user: User) -> None:
    if not importing.may_import(user):
        raise DjangoPermissionDenied(_("只有部门目录管理员和平台管理员可以批量导入目录"))


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload form and result. The size limit goes in front of the multipart parser before the CSRF check
    (which reads the form) so that an oversized file is never read past the limit."""
    limit = importing.limit_upload(request) if request.method == "POST" else None
    return _import_page(request, limit)


@csrf_protect
def _import_page(request: HttpRequest, limit: importing.UploadSizeLimit | None) -> HttpResponse:
    user = acting_user(request)
    _may_import_or_403(user)
    result: importing.ImportResult | None = None
    missing_file = False
    already: importing.AlreadyImported | None = None
    if request.method == "POST" and limit is not None:
        upload = request.FILES.get("file")
        if limit.exceeded:
            result = importing.refuse_too_large(file_name=limit.upload_name, size=limit.size, actor=user)
        elif upload is None:
            missing_file = True
        else:
            try:
                result = importing.import_catalog(
                    upload,
                    file_name=upload.name or "",
                    actor=user,
                    declared_size=upload.size,
                    confirm=request.POST.get("confirm") == "true",
                )
            except importing.AlreadyImported as exc:  # asked, not refused: the page offers to import anyway
                already = exc
    status = 422 if result is not None and not result.imported else 400 if missing_file else 409 if already else 200
    created = result.created if result is not None and result.imported else []
    return render(
        request,
        "catalog/import.html",
        {
            "result": result,
            "problems": result.problems[: importing.MAX_REPORTED_PROBLEMS] if result else [],
            "missing_file": missing_file,
            "already": already,
            "created": created[:CREATED_SHOWN],
            "created_more": max(0, len(created) - CREATED_SHOWN),
            "batches": importing.my_batches(user)[:RECENT_BATCHES],
            "max_bytes": settings.GOVSHARE.import_max_bytes,
            "max_megabytes": f"{settings.GOVSHARE.import_max_bytes / (1024 * 1024):g}",
            "max_rows": settings.GOVSHARE.import_max_rows,
            "max_reported": importing.MAX_REPORTED_PROBLEMS,
        },
        status=status,
    )


@login_required
@require_GET
def import_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    """One earlier attempt of the user with its stored report."""
    user = acting_user(request)
    try:
        batch = importing.get_my_batch(user, batch_id)
    except NotFound as exc:  # another user's batch answers 404 whatever the role, never 403
        raise Http404(exc.message) from exc
    _may_import_or_403(user)
    created = Paginator(importing.created_by_batch(batch), BATCH_PAGE_SIZE).get_page(
        page_number(request.GET.get("page"))
    )
    return render(
        request,
        "catalog/import_batch.html",
        {
            "batch": batch,
            "problems": importing.report_of(batch),
            "max_reported": importing.MAX_REPORTED_PROBLEMS,
            "created": created,
        },
    )


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    department_code = user.department.code if user.department else ""
    response = HttpResponse(
        importing.template_bytes(department_code=department_code), content_type=importing.XLSX_CONTENT_TYPE
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=importing.TEMPLATE_FILE_NAME
    )
    return response


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponseBase:
    """The browse page's filtered list as .xlsx (format=xlsx, default) or .csv (format=csv)."""
    params = {key: request.GET.getlist(key) for key in request.GET}
    try:
        return exporting.export_response(acting_user(request), params)
    except ValidationFailed as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
