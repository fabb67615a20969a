"""Audit rows of tokens issued to relying parties; the temporary-password mark copied into the session at login."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from oauth2_provider.signals import app_authorized

from govshare.audit.services import record_action
from govshare.identity.middleware import MUST_CHANGE_PASSWORD
from govshare.identity.models import PasswordChangeRequired


@receiver(app_authorized, dispatch_uid="govshare.identity.token_issued")
def audit_token_issued(sender: Any, request: HttpRequest, token: Any, **kwargs: Any) -> None:
    with transaction.atomic():
        record_action(
            token.user,
            "oidc.token.issue",
            token.application,
            client_id=token.application.client_id,
            grant_type=str(request.POST.get("grant_type", "")),
            scopes=token.scope.split(),
            subject=token.user.username if token.user else None,
            expires=token.expires.isoformat(),
        )


@receiver(user_logged_in, dispatch_uid="govshare.identity.password_change_required")
def mark_password_change_required(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        if PasswordChangeRequired.objects.filter(user=user).exists():
            request.session[MUST_CHANGE_PASSWORD] = True
        else:
            request.session.pop(MUST_CHANGE_PASSWORD, None)
