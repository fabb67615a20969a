"""Catalogue pages: thin views over selectors and services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from govshare.catalog import selectors
from govshare.core.errors import NotFound
from govshare.core.pagination import paginate


@login_required
def browse(request: HttpRequest) -> HttpResponse:
    page = paginate(selectors.resource_list(request.user).order_by("code"), _int(request.GET.get("page")), None)  # type: ignore[arg-type]
    return render(request, "catalog/browse.html", {"page": page})


@login_required
def resource_detail(request: HttpRequest, resource_id: int) -> HttpResponse:
    try:
        resource = selectors.get_resource(request.user, resource_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "catalog/detail.html", {"resource": resource})


def _int(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1
