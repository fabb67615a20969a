"""Brute-force protection glue for django-axes: the client address and the lockout page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str:
    """The address failures are counted against: the peer address only, never a client-supplied header."""
    return str(request.META.get("REMOTE_ADDR") or "")


def unlocks_at(username: str, address: str) -> datetime | None:
    """When the lock on this username or address ends: the last counted failure plus the lockout time."""
    last = AccessAttempt.objects.filter(Q(username=username) | Q(ip_address=address)).aggregate(at=Max("attempt_time"))
    at: datetime | None = last["at"]
    return at + settings.AXES_COOLOFF_TIME if at is not None else None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The login page again, saying the account or address is locked and until when (HTTP 429)."""
    username = str((credentials or {}).get("username") or request.POST.get("username") or "")
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get("next") or request.GET.get("next") or "",
        "locked_out": True,
        "lockout_minutes": settings.GOVSHARE.login_lockout_minutes,
        "unlocks_at": unlocks_at(username, client_address(request)),
    }
    return render(request, "registration/login.html", context, status=429)
