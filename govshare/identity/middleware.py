"""A user signed in with a temporary password (set by an administrator) must change it before anything else."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

# Set in the session at login (signals.py) when the user's password is temporary; no query per request.
MUST_CHANGE_PASSWORD = "identity_must_change_password"  # noqa: S105 (a session key name)
_MESSAGE = gettext_noop("管理员为您设置了临时密码，请先修改密码")


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.session.get(MUST_CHANGE_PASSWORD) and request.user.is_authenticated:
            change = reverse("identity:password_change")
            free = (change, reverse("logout"), reverse("set_language"))
            if request.path not in free and not request.path.startswith("/static/"):
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": gettext(_MESSAGE), "errors": []}, status=403)
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{change}?{query}")
        return self.get_response(request)
