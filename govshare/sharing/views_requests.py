"""Share request pages: one request with its lines, the decisions and deadlines, and its full history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from govshare.accounts.acting import acting_user
from govshare.core.errors import NotFound
from govshare.core.nostore import no_store
from govshare.datasets import scopes
from govshare.sharing import requests as share_requests


@login_required
@no_store
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    user = acting_user(request)
    try:
        share_request = share_requests.get_request(user, request_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    today = scopes.clock()
    lines = [(line, share_requests.urgency(line, today)) for line in share_requests.visible_lines(user, share_request)]
    context = {"share_request": share_request, "lines": lines, "events": share_requests.history(share_request)}
    return render(request, "sharing/request_detail.html", context)
