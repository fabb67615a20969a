"""The data pages of a resource: sources and their mapping, loads (upload, run, retry, progress), previews and
downloads. Views only parse input and call selectors, services and `reading`; an object outside the user's scope
answers 404, a refused action 403, any other domain error a Chinese message on the page."""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from govshare.accounts.acting import acting_user
from govshare.accounts.models import User
from govshare.catalog import selectors as catalog_selectors
from govshare.catalog.models import Resource
from govshare.core.errors import DomainError, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from govshare.core.nostore import no_store
from govshare.dataplane.exporting import ExportFormat
from govshare.datasets import jobs, reading, samples, selectors, services
from govshare.datasets.choices import FINISHED_STATUSES
from govshare.datasets.forms import SOURCE_FORMS, SampleForm, UploadForm
from govshare.datasets.models import Load
from govshare.datasets.schemas import progress_percent
from govshare.datasets.scopes import AccessRefused
from govshare.sources import selectors as source_selectors
from govshare.sources import services as source_services
from govshare.sources.access import can_manage_sources, can_read_data, require_source_manager
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source

# While a load runs its pages reload themselves this often (HTTP `Refresh` header: no script needed).
REFRESH_SECONDS = 5
LOADS_SHOWN = 20
# A finished load's page shows this many of its rejected rows; the rest are in the rejects file.
REJECTS_SHOWN = 10

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def _domain_errors(view: View) -> View:
    """NotFound → 404 and PermissionDenied → 403, as every page does."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc

    return wrapper  # type: ignore[return-value]


def _resource(user: User, resource_id: int) -> Resource:
    resource = catalog_selectors.get_resource(user, resource_id)
    if not can_read_data(user, resource):
        raise NotFound(_("信息资源不存在或无权访问其数据"))
    return resource


def _with_refresh(response: HttpResponse, running: bool) -> HttpResponse:
    if running:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


@login_required
@_domain_errors
def resource_data(request: HttpRequest, resource_id: int) -> HttpResponse:
    """The resource's data: sources, load history, versions with downloads, timeliness."""
    user = acting_user(request)
    resource = _resource(user, resource_id)
    dataset = selectors.dataset_of(user, resource)
    loads = list(selectors.loads_of(user, resource).order_by("-created_at", "-id")[:LOADS_SHOWN])
    running = any(load.status not in FINISHED_STATUSES for load in loads)
    has_data = dataset is not None and dataset.current_version is not None
    can_manage = can_manage_sources(user, resource)
    sources = list(source_selectors.sources_of(user, resource))
    for source in sources:
        # The mapping page's sample, kept until it is loaded: offered as 用样例文件归集 to whoever may load.
        sample = _stored_sample(source) if can_manage else None
        source.stored_sample = sample.name if sample is not None else ""  # type: ignore[attr-defined]
    context = {
        "resource": resource,
        "dataset": dataset,
        "sources": sources,
        # A finished load has no progress to show (a bar at 0 % read as stuck).
        "loads": [(load, progress_percent(load) if load.status not in FINISHED_STATUSES else None) for load in loads],
        "versions": reading.dataset_versions(dataset) if dataset is not None and has_data else [],
        "formats": ExportFormat.choices,
        "timely": jobs.is_timely(resource),
        "can_manage": can_manage,
        "kinds": SourceKind.choices,
        "upload_form": UploadForm(),
        "running": running,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return _with_refresh(render(request, "datasets/resource_data.html", context), running)


@login_required
@_domain_errors
def source_create(request: HttpRequest, resource_id: int, kind: str) -> HttpResponse:
    user = acting_user(request)
    resource = _resource(user, resource_id)
    if kind not in SOURCE_FORMS:
        raise Http404(_("没有这种来源类型"))
    require_source_manager(user, resource, missing=_("信息资源不存在或无权访问其数据"))
    items = selectors.field_dictionary(resource)
    form_class = SOURCE_FORMS[kind]
    form = form_class(request.POST or None, items=items)
    if request.method == "POST" and form.is_valid():
        try:
            source = source_services.register_source(resource, form.to_input(), actor=user)
        except ValidationFailed as exc:
            form.place_problems(exc.problems)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已挂接数据来源“%(name)s”，请确认字段映射") % {"name": source.name})
            for notice in source.notices:
                messages.warning(request, notice)
            return redirect("datasets:source_mapping", source.pk)
    context = {"resource": resource, "form": form, "kind": kind, "kind_label": SourceKind(kind).label}
    return render(request, "datasets/source_form.html", context)


def _mapping_rows(
    sample: reading.SourceSample | None, columns: list[str], chosen: dict[str, str]
) -> list[dict[str, Any]]:
    """One row per source column: its sample values, the suggestion, and the item chosen on the form."""
    suggestions = {s.column: s for s in sample.suggestions} if sample else {}
    rows = []
    for index, column in enumerate(columns):
        suggestion = suggestions.get(column)
        rows.append(
            {
                "index": index,
                "column": column,
                "samples": sample.sample_values(index) if sample else [],
                "suggestion": suggestion,
                "chosen": chosen.get(column, suggestion.item_name if suggestion and suggestion.item_name else ""),
            }
        )
    return rows


@login_required
@no_store
@_domain_errors
def source_mapping(request: HttpRequest, source_id: int) -> HttpResponse:
    """Preview the source, show each column with its sample values and the suggested item; confirm the mapping.
    The sample is the source's raw rows: 404 outside the owning department, the platform administrator included."""
    user = acting_user(request)
    source = source_selectors.get_managed_source(user, source_id)
    items = selectors.field_dictionary(source.resource)
    current = {str(entry["column"]): str(entry["item"]) for entry in source.mapping}
    sample: reading.SourceSample | None = None
    columns: list[str] = []
    errors: list[str] = []
    sample_form = SampleForm(request.POST or None, request.FILES or None) if source.kind == SourceKind.FILE else None
    if request.method == "POST" and "confirm" in request.POST:
        columns = request.POST.getlist("column")
        chosen = {column: request.POST.get(f"item_{n}", "") for n, column in enumerate(columns)}
        entries = [source_services.MappingEntry(column, item) for column, item in chosen.items() if item]
        try:
            source_services.set_mapping(source, entries, actor=user, columns=columns)
        except ValidationFailed as exc:
            errors = [problem.message for problem in exc.problems]
        else:
            messages.success(request, _("字段映射已确认，可以发起归集"))
            return redirect("datasets:resource_data", source.resource_id)
        current = chosen
    else:
        upload = None
        if sample_form is not None and request.method == "POST":
            upload = request.FILES.get("file")
        try:
            if source.kind != SourceKind.FILE or upload is not None or source.loads.exclude(input_path="").exists():
                sample = reading.preview_source_for(user, source, upload=upload)
                columns = sample.columns
                if upload is not None:
                    samples.keep_sample(source, upload)
        except ValidationFailed as exc:
            errors = [problem.message for problem in exc.problems]
        except DomainError as exc:
            errors = [str(exc)]
    context = {
        "source": source,
        "resource": source.resource,
        "items": items,
        "sample": sample,
        "rows": _mapping_rows(sample, columns, current),
        "errors": errors,
        "sample_form": sample_form,
        "stored_sample": stored.name if (stored := _stored_sample(source)) is not None else "",
        "sample_retention_days": settings.GOVSHARE.sample_retention_days,
    }
    return render(request, "datasets/source_mapping.html", context)


# ---------------------------------------------------------------------------------------------- the kept sample


def _stored_sample(source: Source) -> Path | None:
    """The sample file last read on the mapping page of a file source, if it is still kept and not expired."""
    sample = samples.kept_sample(source)
    return sample.path if sample is not None and not sample.expired else None


@login_required
@require_POST
@_domain_errors
def source_load_sample(request: HttpRequest, source_id: int) -> HttpResponse:
    """用样例文件归集: load the sample kept from the mapping page, then forget it (the load keeps its own copy)."""
    user = acting_user(request)
    source = source_selectors.get_managed_source(user, source_id)
    sample = samples.kept_sample(source)
    if sample is not None and sample.expired:
        samples.discard_sample(source.pk)  # the hourly sweep had not come by yet
        messages.error(request, _expired_sample_message())
        return redirect("datasets:resource_data", source.resource_id)
    if sample is None:
        messages.error(request, _("样例文件已不在，请上传报送文件归集"))
        return redirect("datasets:resource_data", source.resource_id)

    def load_sample() -> Load:
        try:
            load = services.request_load(source, actor=user, file_path=sample.path)
        except FileNotFoundError:
            # The expiry sweep deleted it between the check above and the load.
            raise ValidationFailed([FieldProblem("file", _expired_sample_message())]) from None
        samples.discard_sample(source.pk)
        return load

    return _load_result(request, source, load_sample)


def _expired_sample_message() -> str:
    days = settings.GOVSHARE.sample_retention_days
    return ngettext(
        "样例文件保留 %(days)d 天未归集，已过期删除；请重新上传样例文件或上传报送文件归集",
        "样例文件保留 %(days)d 天未归集，已过期删除；请重新上传样例文件或上传报送文件归集",
        days,
    ) % {"days": days}


def _load_result(request: HttpRequest, source: Source, call: Callable[[], Load]) -> HttpResponse:
    try:
        load = call()
    except ValidationFailed as exc:
        messages.error(request, "；".join(problem.message for problem in exc.problems))
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已发起归集任务 #%(id)d") % {"id": load.pk})
        return redirect("datasets:load_detail", load.pk)
    return redirect("datasets:resource_data", source.resource_id)


@login_required
@require_POST
@_domain_errors
def source_upload(request: HttpRequest, source_id: int) -> HttpResponse:
    """文件报送: the department uploads a data file and its load starts."""
    user = acting_user(request)
    source = source_selectors.get_managed_source(user, source_id)
    form = UploadForm(request.POST, request.FILES)
    if source.kind != SourceKind.FILE:
        raise Http404(_("只有文件报送的数据来源可以上传文件"))
    if not form.is_valid():
        messages.error(request, _("请选择要上传的数据文件"))
        return redirect("datasets:resource_data", source.resource_id)
    upload, mode = form.cleaned_data["file"], form.cleaned_data["mode"] or None
    return _load_result(request, source, lambda: services.request_load(source, actor=user, upload=upload, mode=mode))


@login_required
@require_POST
@_domain_errors
def source_load(request: HttpRequest, source_id: int) -> HttpResponse:
    """Start a load of a 前置库 or 接口 source now."""
    user = acting_user(request)
    source = source_selectors.get_managed_source(user, source_id)
    if source.kind == SourceKind.FILE:
        raise Http404(_("文件报送请上传数据文件"))
    return _load_result(request, source, lambda: services.request_load(source, actor=user))


@login_required
@_domain_errors
def load_detail(request: HttpRequest, load_id: int) -> HttpResponse:
    user = acting_user(request)
    load = selectors.get_load(user, load_id)
    running = load.status not in FINISHED_STATUSES
    resource = load.dataset.resource
    context = {
        "load": load,
        "resource": resource,
        "progress": progress_percent(load),
        "running": running,
        "can_manage": can_manage_sources(user, resource),
        "refresh_seconds": REFRESH_SECONDS,
        "rejects": [] if running else _first_rejects(user, load),
        "rejects_shown": REJECTS_SHOWN,
        "has_data": load.dataset.current_version is not None,
    }
    return _with_refresh(render(request, "datasets/load_detail.html", context), running)


def _first_rejects(user: User, load: Load) -> list[list[str]]:
    """The first rows of a load's rejects file (行号, 列, 原因, 原始值) for the load page. They are the source's raw
    values, so, as for the file's download, only the owning department sees them and the read is recorded; a
    resource with encrypted items has no values in the file (the loader withholds them)."""
    resource = load.dataset.resource
    if not load.rejects_path or user.department_id != resource.department_id or not can_read_data(user, resource):
        return []
    path = Path(load.rejects_path)
    if not path.resolve().is_relative_to(Path(settings.GOVSHARE.data_dir).resolve()) or not path.is_file():
        return []
    rows: list[list[str]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)  # the header
        for row in reader:
            rows.append(row)
            if len(rows) == REJECTS_SHOWN:
                break
    if rows:
        services.record_data_access(
            user, load.dataset, action=reading.ACTION_REJECTS, version=load.version, rows=len(rows)
        )
    return rows


@login_required
@require_POST
@_domain_errors
def load_retry(request: HttpRequest, load_id: int) -> HttpResponse:
    user = acting_user(request)
    load = selectors.get_load(user, load_id)
    try:
        services.retry_load(load, actor=user)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已重新排队"))
    return redirect("datasets:load_detail", load.pk)


@login_required
@no_store
@_domain_errors
def load_rejects(request: HttpRequest, load_id: int) -> HttpResponseBase:
    user = acting_user(request)
    return reading.rejects_response(user, selectors.get_load(user, load_id))


def _version_param(request: HttpRequest) -> int | None:
    value = request.GET.get("version", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise Http404(_("数据版本应为数字"))
    return int(value)


def _refused(request: HttpRequest, resource: Resource, exc: DomainError) -> HttpResponse:
    """A scope that may not read now (a grant's daily quota used up, its row filter unusable): its message, with
    its status."""
    context = {"resource": resource, "message": str(exc)}
    return render(request, "datasets/refused.html", context, status=exc.status)


def _choice_param(request: HttpRequest) -> str:
    """Which of several grants the reader reads through (`?grant=<id>`); "" for the default one."""
    value = request.GET.get("grant", "").strip()
    if value and not value.isdigit():
        raise Http404(_("授权编号应为数字"))
    return value


@login_required
@no_store
@_domain_errors
def data_preview(request: HttpRequest, resource_id: int) -> HttpResponse:
    """The first rows of a version with the field dictionary, in the reader's scope (the department's own staff,
    the platform administrator, a grant's consumer; 404 for anyone else). Each preview is recorded."""
    user = acting_user(request)
    # The scope decides (reading.readable): a published entry is visible to every department in the catalogue,
    # its data only to those with a scope on it.
    resource = catalog_selectors.get_resource(user, resource_id)
    version = _version_param(request)
    choice = _choice_param(request)
    # 按值查询: rows whose item equals the value (a searchable encrypted item is compared through its HMAC column).
    column, value = request.GET.get("column", "").strip(), request.GET.get("value", "").strip()
    lookup_error = ""
    try:
        try:
            preview = reading.preview_version(
                user, resource, version=version, where={column: value} if column else None, choice=choice
            )
        except ValidationFailed as exc:
            lookup_error = "；".join(problem.message for problem in exc.problems)
            preview = reading.preview_version(user, resource, version=version, choice=choice)
    except AccessRefused as exc:
        return _refused(request, resource, exc)
    except ValidationFailed as exc:
        # Not the lookup: the reader's scope itself cannot be read (its row filter names an item the version lacks).
        return _refused(request, resource, exc)
    return render(
        request,
        "datasets/preview.html",
        {
            "resource": resource,
            "preview": preview,
            "formats": ExportFormat.choices,
            "lookup": {"column": column, "value": value, "error": lookup_error},
            "choice": choice,
            "own_data": can_read_data(user, resource),
        },
    )


@login_required
@no_store
@_domain_errors
def data_download(request: HttpRequest, resource_id: int) -> HttpResponseBase:
    user = acting_user(request)
    resource = catalog_selectors.get_resource(user, resource_id)
    file_format = request.GET.get("format", ExportFormat.CSV)
    choice = _choice_param(request)
    try:
        return reading.download_response(
            user, resource, version=_version_param(request), file_format=file_format, choice=choice
        )
    except AccessRefused as exc:
        return _refused(request, resource, exc)
    except ValidationFailed as exc:
        messages.error(request, "；".join(problem.message for problem in exc.problems))
        if can_read_data(user, resource):
            return redirect("datasets:resource_data", resource.pk)
        query = f"?grant={choice}" if choice else ""
        return redirect(reverse("datasets:preview", args=[resource.pk]) + query)
