"""The home page (工作台): where everyone lands after signing in, with what needs them.

Each app contributes its role's section as a panel of the page "home" (govshare.core.panels): the catalogue the
reviewer's queue and the department's rejected entries, datasets the failed loads, grading the pending changes and
the risk list, audit the latest chain check. This module knows none of them; each panel decides, with its app's
own permission checks, whether the signed-in user sees it. A user with several roles sees each role's section."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

HOME = "home"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"page": HOME})
